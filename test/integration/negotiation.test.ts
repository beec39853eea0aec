/**
 * Content negotiation on /metrics and the status pages: q-values honoured for Accept-Encoding (gzip or
 * identity) and Accept (OpenMetrics or the text format), and the Accept header a real Prometheus sends,
 * captured from a scrape of a loopback server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ensureTestImage, removeTestContainers, requireEngine, startContainer, type TestContainer } from '../helpers/docker.js';
import { startExporter, type TestExporter } from '../helpers/exporter.js';
import { Service, freePort, waitFor } from '../helpers/services.js';

/**
 * Prometheus 3.x's default, as scrape/scrape.go's acceptHeader() builds it from config.go's
 * DefaultScrapeProtocols (OpenMetricsText1.0.0, OpenMetricsText0.0.1, PrometheusText1.0.0,
 * PrometheusText0.0.4), q from 0.6 down, with its default escaping on the 1.0.0 entries.
 */
const PROMETHEUS_3_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,' +
  'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
/** Prometheus 3.x with `scrape_protocols: [PrometheusText1.0.0, OpenMetricsText1.0.0]`: the text format first. */
const PROMETHEUS_3_TEXT_FIRST =
  'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.4';
const FIREFOX_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let exporter: TestExporter;
let container: TestContainer;
before(async () => {
  await requireEngine();
  await ensureTestImage();
  container = await startContainer();
  exporter = await startExporter({ refresh: '1h' });
  await waitFor(`${container.name} on the status page`, async () =>
    exporter.monitor.state.containers.has(container.id) ? true : undefined,
  );
});
after(async () => {
  await exporter.close();
  await removeTestContainers();
});

async function get(url: string, headers: Record<string, string>) {
  const response = await exporter.app.inject({ url, headers });
  assert.equal(response.statusCode, 200, response.body);
  const gzipped = response.headers['content-encoding'] === 'gzip';
  assert.equal(response.headers['content-encoding'], gzipped ? 'gzip' : undefined);
  const body = gzipped ? gunzipSync(response.rawPayload).toString('utf8') : response.body;
  return { gzipped, type: String(response.headers['content-type']), body };
}

/** The Accept and Accept-Encoding of the first scrape the installed Prometheus makes of a loopback server. */
async function captureScrapeHeaders(): Promise<IncomingHttpHeaders> {
  let captured: IncomingHttpHeaders | undefined;
  const target = createServer((request, response) => {
    captured ??= request.headers;
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('up_stand_in 1\n');
  });
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const dir = await mkdtemp(join(tmpdir(), 'dm-negotiation-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s' },
      scrape_configs: [{ job_name: 'capture', static_configs: [{ targets: [`127.0.0.1:${(target.address() as AddressInfo).port}`] }] }],
    }),
  );
  const prometheus = new Service('prometheus', 'prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${await freePort()}`,
  ]);
  try {
    return await waitFor('the first scrape', async () => captured, { timeoutMs: 30_000, services: [prometheus] });
  } finally {
    await prometheus.stop();
    target.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test("the Accept header of a real Prometheus's scrape gets OpenMetrics, gzipped", async (t) => {
  const headers = await captureScrapeHeaders();
  t.diagnostic(`Prometheus sent Accept: ${headers.accept}; Accept-Encoding: ${headers['accept-encoding']}`);
  assert.match(headers.accept ?? '', /application\/openmetrics-text/);
  const answer = await get('/metrics', { accept: headers.accept ?? '', 'accept-encoding': headers['accept-encoding'] ?? '' });
  assert.match(answer.type, /^application\/openmetrics-text; version=1\.0\.0/);
  assert.equal(answer.gzipped, true);
  assert.match(answer.body, /\n# EOF\n$/);
});

for (const [accept, format] of [
  [PROMETHEUS_3_ACCEPT, 'openmetrics'],
  [PROMETHEUS_3_TEXT_FIRST, 'text'],
  ['application/openmetrics-text;q=0, text/plain', 'text'],
  ['application/openmetrics-text', 'openmetrics'],
  ['text/plain;q=0.5, application/openmetrics-text;version=0.0.1;q=0.7', 'openmetrics'],
  ['text/plain, application/openmetrics-text;version=2.0.0', 'text'],
  [FIREFOX_ACCEPT, 'text'],
  ['', 'text'],
] as const) {
  test(`Accept: ${accept === '' ? '(none)' : accept} gets ${format}`, async () => {
    const answer = await get('/metrics', accept === '' ? {} : { accept });
    assert.match(
      answer.type,
      format === 'openmetrics' ? /^application\/openmetrics-text; version=1\.0\.0/ : /^text\/plain; version=0\.0\.4/,
    );
    assert.equal(answer.body.endsWith('# EOF\n'), format === 'openmetrics');
  });
}

for (const [acceptEncoding, gzipped] of [
  ['gzip;q=0, identity', false],
  ['gzip', true],
  ['gzip, deflate, br, zstd', true],
  ['identity;q=0.6, gzip;q=0.5', false],
  ['*', true],
  ['*;q=0, identity', false],
  ['deflate', false],
  ['', false],
] as const) {
  test(`Accept-Encoding: ${acceptEncoding === '' ? '(none)' : acceptEncoding} ${gzipped ? 'gets gzip' : 'gets identity'}, on /metrics and the pages`, async () => {
    const headers: Record<string, string> = acceptEncoding === '' ? {} : { 'accept-encoding': acceptEncoding };
    for (const url of ['/metrics', '/', `/containers/${container.name}`]) {
      const answer = await get(url, headers);
      assert.equal(answer.gzipped, gzipped, url);
      assert.ok(answer.body.length > 100, url);
    }
  });
}
