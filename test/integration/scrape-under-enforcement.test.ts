/**
 * A scrape never waits for enforcement. In the default `--refresh scrape` mode with `--enforce` and
 * `action = stop`, a failing container that ignores SIGTERM takes the engine's whole grace period to
 * stop; the scrape that found it must answer while the container is still running, and the stop must
 * still happen afterwards. On a private engine, so enforcement can touch nothing else on the machine.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, requireEngine } from '../helpers/docker.js';
import { sampleValue, startExporter, type TestExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { PrivateEngine } from '../helpers/private-engine.js';

const engine = new PrivateEngine('enfq');
const name = `stubborn-${RUN_ID}`;
let exporter: TestExporter | undefined;
let folder = '';

async function running(): Promise<boolean> {
  return (await engine.docker(['inspect', '--format', '{{.State.Running}}', name])) === 'true';
}

before(async () => {
  await requireEngine();
  await engine.start();
  await engine.loadTestImage();
  folder = await mkdtemp(join(tmpdir(), 'dm-enforce-'));
});

after(async () => {
  await exporter?.close();
  await engine.destroy();
  await rm(folder, { recursive: true, force: true });
});

test('--refresh scrape --enforce, action = stop: the scrape answers while the stop of a container that ignores SIGTERM is still under way', async () => {
  const policy = join(folder, 'stop.ini');
  await writeFile(policy, '[policy]\naction = stop\n\n[docker_monitor.checks.RunningAsRootCheck]\n');
  // Root, and deaf to SIGTERM: `docker stop` has to wait out its grace period before SIGKILL.
  await engine.docker([
    'run',
    '-d',
    '--name',
    name,
    '--label',
    `${TEST_LABEL}=${RUN_ID}`,
    TEST_IMAGE,
    'sh',
    '-c',
    'trap "" TERM; while true; do sleep 1; done',
  ]);
  // The first scrape shares the start-up refresh, the one that finds the container and enforces.
  exporter = await startExporter({ configFile: policy, 'docker.host': engine.host, enforce: true, refresh: 'scrape' });
  const body = await exporter.scrape();
  assert.equal(
    sampleValue(body, `docker_monitor_check_result{check="RunningAsRootCheck",container="${name}"}`),
    0,
    'the scrape saw the failure',
  );
  assert.equal(await running(), true, 'the scrape answered before the container was stopped');

  await eventually(running, (isRunning) => !isRunning, 30_000, 'the container stopped by enforcement');
  const actions = await eventually(
    () => exporter?.scrape() ?? Promise.resolve(''),
    (text) => sampleValue(text, 'docker_monitor_enforcement_actions_total{action="stop"}') === 1,
    10_000,
    'the stop counted',
  );
  assert.equal(sampleValue(actions, 'docker_monitor_enforcement_failures_total{action="stop"}'), 0);
});
