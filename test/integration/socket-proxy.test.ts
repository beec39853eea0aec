/**
 * Least privilege: a filtering proxy that lets through exactly the endpoints docs/engines.md lists, and
 * refuses everything else with 403, between the exporter and a private engine. The full CIS policy,
 * the event stream and outage recovery must work through it; `--enforce` must need exactly the
 * documented extra endpoint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, requireEngine } from '../helpers/docker.js';
import { sampleValue, startExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { documentedEndpoints, FilteringProxy } from '../helpers/filtering-proxy.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { scaled } from '../helpers/time-scale.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const CIS = join(ROOT, 'examples/cis.ini');

const READ = documentedEndpoints(ROOT, 'read');
const LEAVES_ON_TERM = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
const ENFORCE = documentedEndpoints(ROOT, 'enforce');
const engine = new PrivateEngine('11proxy');
let dir: string;
let readOnly: FilteringProxy;
const names = { root: `proxy-root-${RUN_ID}`, user: `proxy-user-${RUN_ID}` };

/** Which documented endpoints the requests seen used. */
function used(proxy: FilteringProxy): string[] {
  return [
    ...new Set(
      proxy.allowed.map(({ method, path }) => {
        const endpoint = proxy.match(method, path);
        return `${endpoint?.method} ${endpoint?.path}`;
      }),
    ),
  ].sort();
}

async function checkJson(host: string): Promise<{ code: number; json: unknown }> {
  const outcome = await run(process.execPath, [CLI, 'check', '-f', CIS, '--format', 'json', '--docker.host', host], {
    env: { PATH: process.env['PATH'], HOME: dir },
  }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => error,
  );
  const parsed = JSON.parse(outcome.stdout) as { containers: { id: string }[] };
  return { code: outcome.code, json: parsed };
}

before(async () => {
  await requireEngine();
  assert.equal(READ.length, 11, 'the read-only table lists 11 endpoints');
  assert.deepEqual(
    ENFORCE.map(({ method, path }) => `${method} ${path}`),
    ['POST /containers/{id}/stop', 'POST /containers/{id}/kill', 'POST /containers/{id}/pause'],
  );
  dir = mkdtempSync(join(tmpdir(), 'dm-socket-proxy-'));
  await engine.start();
  await engine.loadTestImage();
  // --restart always: the outage test expects them back after the engine restarts. They leave on SIGTERM
  // at once, so stopping the engine and the enforced stop do not wait out the 10 s grace period.
  for (const [name, user] of [
    [names.root, '0'],
    [names.user, '1000'],
  ] as const) {
    await engine.docker([
      'run',
      '-d',
      '--name',
      name,
      '--label',
      `${TEST_LABEL}=${RUN_ID}`,
      '--restart',
      'always',
      '--user',
      user,
      TEST_IMAGE,
      ...LEAVES_ON_TERM,
    ]);
  }
  // An exec session in flight, so the exec checks ask /exec/{id}/json.
  await engine.docker(['exec', '-d', names.root, 'sleep', '3600']);
  readOnly = new FilteringProxy(join(dir, 'read-only.sock'), engine.socket, READ);
  await readOnly.listen();
});

after(async () => {
  await readOnly?.close();
  await engine.destroy();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('through a read-only socket proxy', () => {
  test('check with the full CIS policy: the same verdicts as on the socket, nothing refused', async () => {
    const direct = await checkJson(engine.host);
    const proxied = await checkJson(readOnly.host);
    assert.equal(proxied.code, 1, 'the root container fails');
    assert.deepEqual(proxied.json, direct.json);
    assert.deepEqual(readOnly.refused, []);
    assert.deepEqual(used(readOnly), [
      'GET /_ping',
      'GET /containers/json',
      'GET /containers/{id}/json',
      'GET /exec/{id}/json',
      'GET /images/{id}/history',
      'GET /images/{id}/json',
      'GET /info',
      'GET /networks',
      'GET /version',
    ]);
  });

  test('top, which remote engines need, goes through', async () => {
    const client = new DockerEngine({ host: readOnly.host, concurrency: 1, timeoutMs: scaled(10_000) });
    const table = await client.top(names.root);
    assert.ok(table.Processes.length >= 1);
    assert.deepEqual(readOnly.refused, []);
  });

  test('the proxy does refuse the rest: a stop is 403 and the container keeps running', async () => {
    const client = new DockerEngine({ host: readOnly.host, concurrency: 1, timeoutMs: scaled(10_000) });
    await assert.rejects(client.act(names.user, 'stop'), /403|refused/);
    assert.deepEqual(readOnly.refused.at(-1), { method: 'POST', path: `/containers/${names.user}/stop` });
    assert.equal(await engine.docker(['inspect', '-f', '{{.State.Running}}', names.user]), 'true');
    readOnly.refused.length = 0;
  });

  test('serve: events (a new container shows without a refresh, and goes at removal) and recovery after an outage', async () => {
    const exporter = await startExporter({ 'docker.host': readOnly.host, configFile: CIS, refresh: '1h' });
    try {
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 1,
        15_000,
        'docker_monitor_up 1',
      );
      const late = `proxy-late-${RUN_ID}`;
      await engine.docker(['run', '-d', '--name', late, '--label', `${TEST_LABEL}=${RUN_ID}`, TEST_IMAGE, 'sleep', '3600']);
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, `docker_monitor_root_processes{container="${late}"}`) === 1,
        10_000,
        'the new container, by event',
      );
      await engine.docker(['rm', '-f', late]);
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, `docker_monitor_container_compliant{container="${late}"}`) === undefined,
        10_000,
        'the removed container gone',
      );

      await engine.stop();
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 0,
        20_000,
        'docker_monitor_up 0 while the engine is down',
      );
      await engine.start();
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 1,
        30_000,
        'docker_monitor_up 1 again',
      );
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, `docker_monitor_root_processes{container="${names.root}"}`) === 2,
        20_000,
        'the container (sh and sleep) after recovery',
      );
      assert.ok(used(readOnly).includes('GET /events'));
      assert.deepEqual(readOnly.refused, []);
    } finally {
      await exporter.close();
    }
  });
});

describe('--enforce needs exactly the documented extra endpoint', () => {
  const policy = (action: string): string => {
    const file = join(dir, `enforce-${action}.ini`);
    writeFileSync(file, `[policy]\naction = ${action}\n[docker_monitor.checks.RunningAsRootCheck]\n`);
    return file;
  };

  test('read-only proxy: the stop is refused (and counted as a failure), nothing else is', async () => {
    const exporter = await startExporter({ 'docker.host': readOnly.host, configFile: policy('stop'), enforce: true, refresh: '1h' });
    try {
      const body = await eventually(
        () => exporter.scrape(),
        (text) => (sampleValue(text, 'docker_monitor_enforcement_failures_total{action="stop"}') ?? 0) >= 1,
        15_000,
        'the refused stop',
      );
      assert.equal(sampleValue(body, 'docker_monitor_enforcement_actions_total{action="stop"}'), 0);
      assert.deepEqual(
        readOnly.refused.map(({ method, path }) => `${method} ${path.replace(/[0-9a-f]{64}/, '{id}')}`),
        ['POST /containers/{id}/stop'],
      );
    } finally {
      await exporter.close();
      readOnly.refused.length = 0;
    }
  });

  test('with POST /containers/{id}/stop allowed too: the failing container is stopped, the passing one is not', async () => {
    const enforcing = new FilteringProxy(join(dir, 'enforce.sock'), engine.socket, [
      ...READ,
      ...ENFORCE.filter(({ path }) => path.endsWith('/stop')),
    ]);
    await enforcing.listen();
    const exporter = await startExporter({ 'docker.host': enforcing.host, configFile: policy('stop'), enforce: true, refresh: '1h' });
    try {
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_enforcement_actions_total{action="stop"}') === 1,
        30_000,
        'the stop',
      );
      assert.equal(await engine.docker(['inspect', '-f', '{{.State.Running}}', names.user]), 'true');
      assert.deepEqual(enforcing.refused, []);
      assert.ok(used(enforcing).includes('POST /containers/{id}/stop'));
    } finally {
      await exporter.close();
      await enforcing.close();
    }
  });
});
