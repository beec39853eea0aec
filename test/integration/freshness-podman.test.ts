/**
 * The differential freshness walk (see freshness.test.ts) on rootful Podman through `podman system
 * service` on a private socket: the same steps, less those Podman cannot take here (no daemon.json to
 * reload, no daemon to restart, no network of its own: the test containers use `--network none`, so no
 * ports or connects; no health checks, which Podman runs from systemd timers; and no `podman update`,
 * which sends no event).
 *   DIFF_SEED=123 DIFF_PODMAN_STEPS=100 node --import tsx --test test/integration/freshness-podman.test.ts
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { CLI } from '../helpers/cli.js';
import { Comparison, Walk, walkSettings } from '../helpers/freshness-walk.js';
import { PodmanEngine } from '../helpers/podman-engine.js';

const run = promisify(execFile);
const { seed, steps } = walkSettings(40, 'DIFF_PODMAN_STEPS');
const podman = new PodmanEngine('18fresh');
let comparison: Comparison | undefined;
let walk: Walk | undefined;

before(async () => {
  await run('podman', ['--version']).catch(() => {
    throw new Error('podman is not installed: run the tests with "npm test" (it installs podman), or apt-get install podman runc');
  });
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  console.log(`freshness walk on rootful Podman: DIFF_SEED=${seed} DIFF_PODMAN_STEPS=${steps}`);
  await podman.start();
  comparison = await Comparison.start(podman.host);
  walk = new Walk(
    {
      name: 'podman',
      host: podman.host,
      cli: (args) => podman.podman(args),
      runDefaults: ['--network', 'none'],
      rmArgs: ['--time', '0'],
      healthchecks: false,
      restartPolicies: true,
      // Podman 4.3 sends no event for `podman update`: the exporter sees new limits only at its next
      // resync, a gap no freshness bound covers, so the walk does not update containers here.
      updatable: [],
    },
    comparison,
    seed,
  );
  await walk.prepare();
});

after(async () => {
  await walk?.cleanUp();
  await comparison?.stop();
  await podman.destroy();
});

test(`served verdicts equal a fresh check after every step of a ${steps}-step walk on rootful Podman, in both refresh modes and both policies`, async () => {
  const started = Date.now();
  await (walk as Walk).walk(steps, (line) => console.log(line));
  console.log(`podman: ${steps} steps agreed in ${Math.round((Date.now() - started) / 1000)} s (seed ${seed})`);
});
