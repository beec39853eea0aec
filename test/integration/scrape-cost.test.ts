/**
 * What a scrape costs the engine in the default `--refresh scrape` mode, counted by a proxy between the
 * exporter and a private engine: in steady state one call (`GET /_ping`), whatever the number of
 * containers, with the full CIS policy. And what that costs nothing of: a root process that appears
 * with no event and no API call is in the very next scrape.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireEngine } from '../helpers/docker.js';
import { sampleValue, startExporter, type TestExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { FilteringProxy } from '../helpers/filtering-proxy.js';
import { PrivateEngine } from '../helpers/private-engine.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CIS = join(ROOT, 'examples/cis.ini');
/** The read endpoints docs/engines.md lists: the proxy counts them (and would refuse anything else). */
const READ_ENDPOINTS = [
  '/_ping',
  '/containers/json',
  '/containers/{id}/json',
  '/containers/{id}/top',
  '/images/{id}/json',
  '/images/{id}/history',
  '/exec/{id}/json',
  '/info',
  '/version',
  '/networks',
  '/events',
].map((path) => ({ method: 'GET' as const, path }));
const engine = new PrivateEngine('15cost');
let dir: string;
let proxy: FilteringProxy;

/** Requests the proxy let through since `from`, without the event stream, as `METHOD path`. */
function requestsSince(from: number): string[] {
  return proxy.allowed
    .slice(from)
    .filter(({ path }) => !path.includes('/events'))
    .map(({ method, path }) => `${method} ${path.replace(/^\/v[\d.]+/, '')}`);
}

/**
 * Scrapes until one makes no resync (the start's, and the one after the event stream opened, are done):
 * the steady state. Bounded: a resync that never stops coming fails the test.
 */
async function steady(exporter: TestExporter): Promise<void> {
  for (let scrape = 0; scrape < 20; scrape += 1) {
    const lists = exporter.runtime.engine.callCounts()['containers'];
    const body = await exporter.scrape();
    if (sampleValue(body, 'docker_monitor_up') === 1 && exporter.runtime.engine.callCounts()['containers'] === lists) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail('no steady state within 20 scrapes: every scrape listed the containers');
}

before(async () => {
  await requireEngine();
  dir = mkdtempSync(join(tmpdir(), 'dm-scrape-cost-'));
  await engine.start();
  await engine.loadTestImage();
  for (let index = 0; index < 4; index += 1) {
    await engine.startContainer();
    await engine.startContainer(['--user', '1000']);
    const withRootExec = await engine.startContainer(['--user', '1000']);
    await engine.docker(['exec', '-d', '-u', '0', withRootExec.id, 'sleep', '3600']);
  }
  proxy = new FilteringProxy(join(dir, 'counting.sock'), engine.socket, READ_ENDPOINTS);
  await proxy.listen();
});

after(async () => {
  await proxy?.close();
  await engine.destroy();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('--refresh scrape in steady state', () => {
  test('with examples/cis.ini over 12 containers, each scrape makes one engine call: GET /_ping', async () => {
    const exporter = await startExporter({ configFile: CIS, 'docker.host': proxy.host });
    try {
      await steady(exporter);
      const from = proxy.allowed.length;
      const scrapes = 10;
      for (let index = 0; index < scrapes; index += 1) await exporter.scrape();
      assert.deepEqual(
        requestsSince(from),
        Array.from({ length: scrapes }, () => 'GET /_ping'),
      );
      assert.deepEqual(proxy.refused, []);
      assert.equal(exporter.runtime.cache.processSource.kind, 'proc', 'processes came from /proc (the test runs on the host as root)');
    } finally {
      await exporter.close();
    }
  });
});

describe('freshness without events', () => {
  let policy: string;

  before(() => {
    policy = join(dir, 'late-root.ini');
    // The waiting loop's commands are allowed; what runs after the trigger is not.
    writeFileSync(policy, '[docker_monitor.checks.RootProcessCheck]\nallowed_commands = sh, sleep 0.1\n');
  });

  test('a root process a container starts by itself (no exec, no API call, no event) is in the next scrape', async () => {
    const late = await engine.startContainer(['--user', '0'], ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exec sleep 3600']);
    const exporter = await startExporter({ configFile: policy, 'docker.host': engine.host });
    try {
      const series = `docker_monitor_check_result{check="RootProcessCheck",container="${late.name}"}`;
      await steady(exporter);
      assert.equal(sampleValue(await exporter.scrape(), series), 1, 'passes while only the allowed loop runs');
      const inspects = exporter.runtime.engine.callCounts()['inspect'];
      const pid = JSON.parse(await engine.docker(['inspect', '--format', '{{json .State.Pid}}', late.id])) as number;
      // Through the container's root file system as the host sees it: no engine involved.
      writeFileSync(`/proc/${pid}/root/tmp/go`, '');
      await eventually(
        () => Promise.resolve(readFileSync(`/proc/${pid}/cmdline`, 'utf8')),
        (cmdline) => cmdline.startsWith('sleep\u00003600'),
        5_000,
      );
      const body = await exporter.scrape();
      assert.equal(sampleValue(body, series), 0, 'the very next scrape fails it');
      assert.equal(sampleValue(body, `docker_monitor_root_processes{container="${late.name}"}`), 1);
      assert.equal(exporter.runtime.engine.callCounts()['inspect'], inspects, 'no inspect was needed');
    } finally {
      await exporter.close();
    }
  });
});
