import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import type { Monitor } from '../core/monitor.js';
import type { CheckInstance } from '../policy/types.js';
import type { Exposition } from './metrics.js';
import { wantsGzip, wantsOpenMetrics } from './negotiation.js';
import { parseStatusFilter } from './status-filter.js';
import { STATUS_PAGE_CSP, findContainer, renderContainerPage, renderNotFound, renderStatusPage, type PageContext } from './status-page.js';
import { listenerOptions } from './listen.js';
import type { WebSecurity } from './web-security.js';

const PROBES = new Set(['/-/healthy', '/-/ready']);
const gzipPage = promisify(gzip);
/** Time kept back from the scraper's timeout to render and send the answer, as Go exporters' timeout offset. */
const SCRAPE_MARGIN_MS = 500;

/**
 * How long a scrape may wait for a fresh evaluation: Prometheus sends its scrape timeout in
 * X-Prometheus-Scrape-Timeout-Seconds. Undefined (wait for the refresh) without a usable header.
 */
export function scrapeBudgetMs(header: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  if (header === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  const timeoutMs = seconds * 1000;
  return timeoutMs > 2 * SCRAPE_MARGIN_MS ? timeoutMs - SCRAPE_MARGIN_MS : timeoutMs / 2;
}

export interface AppOptions {
  monitor: Monitor;
  metrics: Exposition;
  telemetryPath: string;
  /** The chain, for the status page's severities, CIS ids and remediation. */
  checks: readonly CheckInstance[];
  logger?: Logger | undefined;
  /** TLS and basic auth from --web.config.file. */
  security?: WebSecurity | undefined;
  /** `--web.grafana-url`: the status pages link each container to its dashboard there. */
  grafanaUrl?: string | undefined;
}

/**
 * The HTTP side, built without listening so tests drive it with `inject()`. `serve` adds the socket.
 * With TLS configured, the server is HTTPS and its certificates follow the web config file.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { monitor, metrics, telemetryPath, security } = options;
  const tls = security?.tlsOptions();
  const limits = listenerOptions();
  const app = Fastify({
    ...limits,
    ...(options.logger === undefined ? {} : { loggerInstance: options.logger }),
    // Prometheus scrapes are not worth a log line each.
    logController: new LogController({ disableRequestLogging: true }),
    ...(tls === undefined ? {} : { https: { ...tls, ...limits.http } }),
  }) as unknown as FastifyInstance;

  if (security !== undefined) {
    security.onTlsChange((next) => {
      (app.server as unknown as { setSecureContext(options: object): void }).setSecureContext(next);
    });
    app.addHook('onRequest', async (request, reply) => {
      security.reloadIfChanged();
      // Probes reveal nothing and must work for health checkers that hold no credentials.
      if (PROBES.has(request.url)) return undefined;
      // exporter-toolkit's rate_limit, on every request but the probes (health checkers must get through).
      if (!security.allowRequest()) return reply.code(429).header('retry-after', '1').type('text/plain').send('too many requests\n');
      for (const [name, value] of Object.entries(security.current.headers)) void reply.header(name, value);
      const result = await security.authorize(request.headers.authorization, request.raw.socket, request.ip);
      if (!result.ok) {
        if (result.status === 401) void reply.header('www-authenticate', 'Basic realm="docker-monitor"');
        if (result.status === 429) void reply.header('retry-after', '1');
        return reply.code(result.status).type('text/plain').send(`${result.reason}\n`);
      }
      return undefined;
    });
  }

  app.get(telemetryPath, async (request, reply) => {
    await monitor.forScrape(scrapeBudgetMs(request.headers['x-prometheus-scrape-timeout-seconds']));
    const { contentType, encoding, chunks } = await metrics.render({
      openMetrics: wantsOpenMetrics(request.headers),
      gzip: wantsGzip(request.headers),
    });
    if (encoding !== undefined) void reply.header('content-encoding', encoding);
    return reply.header('vary', 'Accept, Accept-Encoding').type(contentType).send(Readable.from(chunks));
  });

  // The pages read the state the last refresh or event left: they never evaluate nor call the engine.
  const pageContext = (): PageContext => ({
    state: monitor.state,
    checks: options.checks,
    telemetryPath,
    ready: monitor.refreshed,
    now: Date.now(),
    grafanaUrl: options.grafanaUrl,
  });
  // Read at each request: a reload replaces the checks.
  const checkNames = (): string[] => options.checks.filter((check) => check.scope !== 'host').map((check) => check.name);
  /** Sends a page, gzipped when the browser accepts it: a thousand containers make ~1 MB of HTML, ~20 kB gzipped. */
  const page = async (request: FastifyRequest, reply: FastifyReply, status: number, body: string) => {
    void reply
      .code(status)
      .header('content-security-policy', STATUS_PAGE_CSP)
      .header('cache-control', 'no-store')
      .header('vary', 'Accept-Encoding')
      .type('text/html; charset=utf-8');
    if (!wantsGzip(request.headers)) return reply.send(body);
    return reply.header('content-encoding', 'gzip').send(await gzipPage(body, { level: constants.Z_BEST_SPEED }));
  };

  if (telemetryPath !== '/') {
    app.get('/', async (request, reply) => {
      const filter = parseStatusFilter(request.query as Record<string, string | string[] | undefined>, checkNames());
      if ('error' in filter) return page(request, reply, 400, renderStatusPage(pageContext(), undefined, filter.error));
      return page(request, reply, 200, renderStatusPage(pageContext(), filter));
    });
  }

  app.get('/containers/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const context = pageContext();
    const report = findContainer(context.state, name);
    return report === undefined
      ? page(request, reply, 404, renderNotFound(context, name))
      : page(request, reply, 200, renderContainerPage(context, report));
  });

  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain').send('Healthy\n'));

  // Ready: the first refresh has finished and the engine has been reached at least once.
  app.get('/-/ready', async (_request, reply) => {
    const reason = monitor.notReadyReason;
    return reason === undefined
      ? reply.type('text/plain').send('Ready\n')
      : reply.code(503).type('text/plain').send(`Not ready: ${reason}\n`);
  });

  return app;
}
