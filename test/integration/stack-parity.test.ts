/**
 * Parity for stack files: what `check --stack` says about each service before deployment is what
 * `check` says about its task's container once `docker stack deploy` ran it on a one-node swarm of a
 * private engine (loopback only; ports published in host mode, as there is no IPVS here).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CisEngine } from '../fixtures/cis/private-engine.js';
import { CLI, runToEnd } from '../helpers/cli.js';
import { RUN_ID } from '../helpers/docker.js';
import { byService, parityDifferences, type JsonReport } from '../helpers/parity.js';
import { waitFor } from '../helpers/services.js';
import { scaled } from '../helpers/time-scale.js';

const STACK = fileURLToPath(new URL('../fixtures/compose/stack/stack.yaml', import.meta.url));
const CIS = fileURLToPath(new URL('../../examples/cis.ini', import.meta.url));
const engine = new CisEngine('stackpar', { flags: [], swarm: true });
const stack = `dmstack${RUN_ID}`;
let env: NodeJS.ProcessEnv = {};

before(async () => {
  await engine.start();
  await engine.loadTestImage();
  env = { ...engine.env, RUN_ID, P_LOW: String(900 + Math.floor(Math.random() * 90)), SOCKET: engine.socket };
});

after(async () => {
  await engine.docker(['stack', 'rm', stack]).catch(() => undefined);
  await engine.destroy();
});

test('every check decidable before deployment gives the verdict the task container gets', { timeout: scaled(300_000) }, async () => {
  const common = ['check', '-f', CIS, '--format', 'json', '--docker.host', engine.host];
  const staticRun = await runToEnd(process.execPath, [CLI, ...common, '--stack', STACK], {
    env: { ...env, COMPOSE_PROJECT_NAME: stack },
  });
  assert.ok(staticRun.code === 0 || staticRun.code === 1, `check --stack: ${staticRun.stderr}`);
  const beforeRun = byService(JSON.parse(staticRun.stdout) as JsonReport, (name) => new RegExp(`^${stack}_(.+)\\.1$`).exec(name)?.[1]);
  assert.equal(beforeRun.size, 9, staticRun.stdout.slice(0, 400));

  await runToEnd('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', STACK, stack], { env });
  const names = (): Promise<string> =>
    engine.docker(['ps', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Names}}']);
  await waitFor('every task running', async () => ((await names()).split('\n').filter(Boolean).length >= 9 ? true : undefined), {
    timeoutMs: 120_000,
  });
  const runningRun = await runToEnd(process.execPath, [CLI, ...common, '--label', `com.docker.stack.namespace=${stack}`], { env });
  assert.ok(runningRun.code === 0 || runningRun.code === 1, `check: ${runningRun.stderr}`);
  const running = byService(
    JSON.parse(runningRun.stdout) as JsonReport,
    (name) => new RegExp(`^${stack}_(.+)\\.1\\.[a-z0-9]+$`).exec(name)?.[1],
  );

  const differences = parityDifferences(beforeRun, running);
  assert.deepEqual(differences, [], `verdicts differ:\n${differences.join('\n')}`);
});
