import { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { Monitor } from '../monitor.js';
import type { Exposition } from './metrics.js';
import { landingPage } from './landing-page.js';
import type { WebSecurity } from './web-security.js';

const PROBES = new Set(['/-/healthy', '/-/ready']);

export interface AppOptions {
  monitor: Monitor;
  metrics: Exposition;
  telemetryPath: string;
  logger?: Logger | undefined;
  /** TLS and basic auth from --web.config.file. */
  security?: WebSecurity | undefined;
}

/**
 * The HTTP side, built without listening so tests drive it with `inject()`. `serve` adds the socket.
 * With TLS configured, the server is HTTPS and its certificates follow the web config file.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { monitor, metrics, telemetryPath, security } = options;
  const tls = security?.tlsOptions();
  const app = (Fastify({
    ...(options.logger === undefined ? {} : { loggerInstance: options.logger }),
    // Prometheus scrapes are not worth a log line each.
    logController: new LogController({ disableRequestLogging: true }),
    ...(tls === undefined ? {} : { https: tls }),
  }) as unknown) as FastifyInstance;

  if (security !== undefined) {
    security.onTlsChange((next) => {
      (app.server as unknown as { setSecureContext(options: object): void }).setSecureContext(next);
    });
    app.addHook('onRequest', async (request, reply) => {
      security.reloadIfChanged();
      // Probes reveal nothing and must work for health checkers that hold no credentials.
      if (PROBES.has(request.url)) return undefined;
      for (const [name, value] of Object.entries(security.current.headers)) void reply.header(name, value);
      const result = await security.authorize(request.headers.authorization, request.raw.socket);
      if (!result.ok) {
        if (result.status === 401) void reply.header('www-authenticate', 'Basic realm="docker-monitor"');
        return reply.code(result.status).type('text/plain').send(`${result.reason}\n`);
      }
      return undefined;
    });
  }

  app.get(telemetryPath, async (request, reply) => {
    await monitor.forScrape();
    const { contentType, encoding, chunks } = await metrics.render({
      openMetrics: /application\/openmetrics-text/.test(request.headers.accept ?? ''),
      gzip: /\bgzip\b/.test(request.headers['accept-encoding'] ?? ''),
    });
    if (encoding !== undefined) void reply.header('content-encoding', encoding);
    return reply.header('vary', 'Accept, Accept-Encoding').type(contentType).send(Readable.from(chunks));
  });

  if (telemetryPath !== '/') {
    app.get('/', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(landingPage(monitor.state, telemetryPath, monitor.ready)),
    );
  }

  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain').send('Healthy\n'));

  app.get('/-/ready', async (_request, reply) =>
    monitor.ready
      ? reply.type('text/plain').send('Ready\n')
      : reply.code(503).type('text/plain').send('Not ready: the first refresh has not finished\n'),
  );

  return app;
}
