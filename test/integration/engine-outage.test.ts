import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, requireEngine } from '../helpers/docker.js';
import { sampleValue, startExporter, type TestExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { PrivateEngine } from '../helpers/private-engine.js';

// A private engine, so stopping it touches nothing else on the machine.
const engine = new PrivateEngine('outage');
let exporter: TestExporter;

before(async () => {
  await requireEngine();
  await engine.start();
  await engine.loadTestImage();
  await engine.docker([
    'run',
    '-d',
    '--name',
    `outage-${RUN_ID}`,
    '--label',
    `${TEST_LABEL}=${RUN_ID}`,
    '--restart',
    'always',
    TEST_IMAGE,
    'sleep',
    '3600',
  ]);
  exporter = await startExporter({ 'docker.host': engine.host, refresh: '1h' });
  await eventually(async () => exporter.monitor.ready, Boolean, 15_000, 'first refresh');
});

after(async () => {
  await exporter?.close();
  await engine.destroy();
});

test('the exporter keeps serving with docker_monitor_up 0 while the engine is down, and recovers by itself', async () => {
  const name = `outage-${RUN_ID}`;
  let body = await exporter.scrape();
  assert.equal(sampleValue(body, 'docker_monitor_up'), 1);
  assert.equal(sampleValue(body, `docker_monitor_root_processes{container="${name}"}`), 1);
  const lastRefresh = sampleValue(body, 'docker_monitor_last_refresh_timestamp_seconds');

  await engine.stop();
  // The broken event stream makes the exporter look at once, not at the next hourly refresh.
  body = await eventually(
    () => exporter.scrape(),
    (text) => sampleValue(text, 'docker_monitor_up') === 0,
    20_000,
    'docker_monitor_up 0',
  );
  assert.equal(sampleValue(body, 'docker_monitor_last_refresh_timestamp_seconds'), lastRefresh, 'no successful refresh while down');
  assert.equal((await exporter.app.inject({ url: '/-/healthy' })).statusCode, 200);
  assert.match((await exporter.app.inject({ url: '/' })).body, /unreachable/);

  await engine.start();
  body = await eventually(
    () => exporter.scrape(),
    (text) => sampleValue(text, 'docker_monitor_up') === 1,
    30_000,
    'docker_monitor_up 1 again',
  );
  assert.ok((sampleValue(body, 'docker_monitor_last_refresh_timestamp_seconds') ?? 0) > (lastRefresh ?? 0));
  // The container came back with the engine (restart policy always) and is still watched.
  await eventually(
    () => exporter.scrape(),
    (text) => sampleValue(text, `docker_monitor_root_processes{container="${name}"}`) === 1,
    20_000,
    'the container after recovery',
  );
});
