/**
 * The differential freshness test on a private dockerd: a seeded random walk of engine changes, and
 * after every step the verdicts four exporters serve ({scrape, --refresh 2s} × {default policy,
 * examples/cis.ini}) must equal a fresh `docker-monitor check` within docs/exporter.md's bounds. Then
 * the one engine fault the walk meets by chance, made on purpose: dockerd blocking a paused container's
 * inspect for its health probe's timeout.
 *   DIFF_SEED=123 DIFF_STEPS=400 node --import tsx --test test/integration/freshness.test.ts
 * (`npm run soak` runs thousands of steps.) Needs dist/ (`npm run build`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { CLI } from '../helpers/cli.js';
import { RUN_ID, requireEngine } from '../helpers/docker.js';
import { Comparison, Walk, walkSettings, type Random, type WalkEngine } from '../helpers/freshness-walk.js';
import { scaled } from '../helpers/time-scale.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { eventually } from '../helpers/wait.js';

const run = promisify(execFile);
const { seed, steps } = walkSettings(150);
const daemonJsonPath = `/tmp/dm-daemon-${RUN_ID}.json`;
const engine = new PrivateEngine('17fresh', ['--config-file', daemonJsonPath]);
/** The daemon.json settings the walk flips; `shutdown-timeout` keeps a restart short. */
const settings = { 'live-restore': false, 'insecure-registries': [] as string[], 'shutdown-timeout': 1 };
let comparison: Comparison | undefined;
let walk: Walk | undefined;

async function writeDaemonJson(): Promise<void> {
  await writeFile(daemonJsonPath, `${JSON.stringify(settings, null, 2)}\n`);
}

/** Waits until `docker info` shows what daemon.json now says. */
async function waitForInfo(): Promise<void> {
  const want = `${settings['live-restore']} ${JSON.stringify(settings['insecure-registries'].length)}`;
  const read = (): Promise<string> =>
    engine.docker(['info', '--format', '{{.LiveRestoreEnabled}} {{len .RegistryConfig.InsecureRegistryCIDRs}}']).catch(() => '');
  // The daemon always lists 127.0.0.0/8.
  const shown = (info: string): string => {
    const [live, count] = info.split(' ');
    return `${live} ${Number(count) - 1}`;
  };
  await eventually(read, (info) => shown(info) === want, 10_000, `dockerd to take daemon.json ${JSON.stringify(settings)}`);
}

async function dockerEngine(): Promise<WalkEngine> {
  const network = `dmnet-${RUN_ID}`;
  await engine.docker(['network', 'create', '--label', `docker-monitor.test=${RUN_ID}`, network]);
  const address = /inet (\d+\.\d+\.\d+\.\d+)/.exec((await run('ip', ['-4', '-o', 'addr', 'show', 'dev', engine.bridge])).stdout)?.[1];
  return {
    name: 'docker',
    host: engine.host,
    cli: (args) => engine.docker(args),
    runDefaults: [],
    rmArgs: [],
    ...(address === undefined ? {} : { bridgeAddress: address }),
    network,
    healthchecks: true,
    restartPolicies: true,
    updatable: [
      ['--memory', '96m', '--memory-swap', '192m'],
      ['--cpus', '0.5'],
      ['--cpu-shares', '256'],
      ['--restart', 'always'],
      ['--restart', 'no'],
      ['--restart', 'on-failure:3'],
      ['--pids-limit', '64'],
      ['--pids-limit', '-1'],
    ],
    async reload(random: Random) {
      if (random.chance(0.5)) settings['live-restore'] = !settings['live-restore'];
      else settings['insecure-registries'] = settings['insecure-registries'].length === 0 ? ['10.99.0.0/16'] : [];
      await writeDaemonJson();
      await engine.signal('SIGHUP');
      await waitForInfo();
      return `daemon.json ${JSON.stringify({ 'live-restore': settings['live-restore'], 'insecure-registries': settings['insecure-registries'] })}, SIGHUP (reload)`;
    },
    async restart() {
      await engine.stop();
      await engine.start();
      return `dockerd restarted (live-restore ${settings['live-restore']})`;
    },
  };
}

before(async () => {
  await requireEngine();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  console.log(`freshness walk on a private dockerd: DIFF_SEED=${seed} DIFF_STEPS=${steps}`);
  await writeDaemonJson();
  await engine.start();
  const walkEngine = await dockerEngine();
  comparison = await Comparison.start(engine.host);
  walk = new Walk(walkEngine, comparison, seed);
  await walk.prepare();
});

after(async () => {
  await walk?.cleanUp();
  await comparison?.stop();
  await engine.destroy();
  await rm(daemonJsonPath, { force: true });
});

test(`served verdicts equal a fresh check after every step of a ${steps}-step walk on dockerd, in both refresh modes and both policies`, async () => {
  const started = Date.now();
  await (walk as Walk).walk(steps, (line) => console.log(line));
  console.log(`docker: ${steps} steps agreed in ${Math.round((Date.now() - started) / 1000)} s (seed ${seed})`);
});

test('a paused container whose inspect dockerd blocks (the pause caught a health probe): check lists it as unevaluated, the exporters keep its verdict, and once the engine answers they serve the fresh one', async () => {
  const reference = comparison as Comparison;
  await engine.loadTestImage();
  const container = await engine.startContainer(['--health-cmd', 'true', '--health-interval', '50ms']);
  try {
    assert.equal(await reference.agree('event', Date.now()), undefined);
    // dockerd 20.10 holds the container's exec list while a probe's exec starts; a pause landing then
    // freezes that exec, and every inspect waits for the probe's timeout (30 s). It lands about one time in two.
    let blockedAt: number | undefined;
    for (let attempt = 0; attempt < 20 && blockedAt === undefined; attempt += 1) {
      await engine.docker(['pause', container.id]);
      const paused = Date.now();
      const answered = await run('docker', ['--host', engine.host, 'inspect', '--format', '{{.State.Status}}', container.id], {
        timeout: scaled(3_000),
      }).then(
        () => true,
        () => false,
      );
      if (!answered) blockedAt = paused;
      else await engine.docker(['unpause', container.id]);
    }
    assert.ok(blockedAt !== undefined, 'dockerd blocked no inspect of a container paused during a probe in 20 tries');
    const blocked = await reference.fresh('default');
    assert.ok(blocked?.unevaluated.has(container.name), `check --format json lists ${container.name} as unevaluated`);
    const failure = await reference.agree('event', blockedAt);
    assert.equal(failure, undefined, failure);
    await engine.docker(['unpause', container.id]);
    const unpaused = Date.now();
    const afterUnpause = await reference.agree('event', unpaused);
    assert.equal(afterUnpause, undefined, afterUnpause);
  } finally {
    await engine.docker(['rm', '-f', container.id]).catch(() => undefined);
  }
});
