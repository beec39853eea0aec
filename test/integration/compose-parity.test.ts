/**
 * Parity: what `check --compose` says about each service before it runs is what `check` says about
 * the container docker-compose creates from it, check by check, for every check decidable beforehand.
 * Everything runs on a private engine (images built there from the busybox test image, no registry).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLI, runToEnd } from '../helpers/cli.js';
import { byService, parityDifferences, type JsonReport } from '../helpers/parity.js';
import { RUN_ID, TEST_IMAGE } from '../helpers/docker.js';
import { CisEngine } from '../fixtures/cis/private-engine.js';
import { scaled } from '../helpers/time-scale.js';

const run = promisify(execFile);
const DIR = fileURLToPath(new URL('../fixtures/compose/parity/', import.meta.url));
const CIS = fileURLToPath(new URL('../../examples/cis.ini', import.meta.url));
const NOT_FAILABLE = new Set(['ActiveBuildCheck', 'AppArmorProfileCheck', 'SelinuxOptionsCheck', 'PublishAllPortsCheck', 'HostUtsCheck']);
const FILES = ['-f', `${DIR}compose.yaml`, '-f', `${DIR}override.yaml`];

// Its runc wrapper lets privileged containers start on this machine (see test/fixtures/cis/private-engine.ts).
const engine = new CisEngine('parity', { flags: [] });
const project = `dmparity${RUN_ID}`;
let work = '';
let shared = '';
let env: NodeJS.ProcessEnv = {};

before(async () => {
  await engine.start();
  await engine.loadTestImage();
  work = await mkdtemp(join(tmpdir(), 'dm-parity-'));
  // A shared mount of its own, so that an rshared bind can be made from it.
  shared = join(work, 'shared');
  await mkdir(shared);
  // dockerd runs in a mount namespace of its own: the mount is made there.
  const daemon = (await readFile(`${engine.root}/docker.pid`, 'utf8')).trim();
  await run('nsenter', ['-t', daemon, '-m', 'sh', '-c', `mount --bind "${shared}" "${shared}" && mount --make-rshared "${shared}"`]);
  const build = async (tag: string, dockerfile: string): Promise<void> => {
    const context = join(work, tag.replace(/[/:]/g, '-'));
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), dockerfile);
    await writeFile(join(context, 'file.txt'), 'x\n');
    await run('docker', ['build', '-q', '-t', tag, context], { env: { ...engine.env, DOCKER_BUILDKIT: '0' } });
  };
  await build('dmparity/user-app:1', `FROM ${TEST_IMAGE}\nUSER app\nHEALTHCHECK --interval=1s CMD true\n`);
  await build(
    'dmparity/secret:1',
    `FROM ${TEST_IMAGE}\nENV API_TOKEN=not-a-real-one\nADD file.txt /file.txt\nRUN apt-get update || true\n`,
  );
  // Its own image, so that latest is its only tag.
  await build('dmparity/plain:latest', `FROM ${TEST_IMAGE}\nLABEL tagged=latest-only\n`);
  const low = 900 + Math.floor(Math.random() * 90);
  env = {
    ...engine.env,
    RUN_ID,
    COMPOSE_PROJECT_NAME: project,
    P_HIGH: String(20000 + Math.floor(Math.random() * 20000)),
    P_LOW: String(low),
    P_LOW2: String(low + 1),
    SHARED: shared,
    SOCKET: engine.socket,
  };
});

after(async () => {
  await run('docker-compose', [...FILES, 'down', '-v', '--remove-orphans'], { env, cwd: DIR }).catch(() => undefined);
  await engine.destroy();
  if (work !== '') await rm(work, { recursive: true, force: true });
});

test('every check decidable before deployment gives the verdict the running container gets', { timeout: scaled(300_000) }, async () => {
  const common = ['check', '-f', CIS, '--format', 'json', '--docker.host', engine.host];
  const staticRun = await runToEnd(
    process.execPath,
    [CLI, ...common, '--compose', `${DIR}compose.yaml`, '--compose', `${DIR}override.yaml`],
    {
      env,
    },
  );
  assert.ok(staticRun.code === 0 || staticRun.code === 1, `check --compose: ${staticRun.stderr}`);
  const beforeRun = byService(JSON.parse(staticRun.stdout) as JsonReport, (name) => /^dmparity[0-9a-f]+-(.+)-1$/.exec(name)?.[1]);
  assert.ok(beforeRun.size >= 25, `at least 25 services (got ${beforeRun.size})`);
  assert.equal(beforeRun.has('debugonly'), false, 'a service of a profile not enabled is not judged');

  await run('docker-compose', [...FILES, 'up', '-d'], { env, cwd: DIR, timeout: scaled(240_000) });
  const runningRun = await runToEnd(process.execPath, [CLI, ...common, '--label', `com.docker.compose.project=${project}`], { env });
  assert.ok(runningRun.code === 0 || runningRun.code === 1, `check: ${runningRun.stderr}`);
  const running = byService(JSON.parse(runningRun.stdout) as JsonReport, (name) => new RegExp(`^${project}_(.+)_1$`).exec(name)?.[1]);

  const differences = parityDifferences(beforeRun, running);
  assert.deepEqual(differences, [], `verdicts differ:\n${differences.join('\n')}`);

  // Every container check of the policy was decided before deployment somewhere, failing and passing.
  const decided = new Map<string, Set<string>>();
  for (const results of beforeRun.values()) {
    for (const [check, verdict] of results) decided.set(check, (decided.get(check) ?? new Set()).add(verdict));
  }
  const running_only = new Set(['RootProcessCheck', 'SshdCheck', 'PrivilegedExecCheck', 'RootExecCheck']);
  for (const [check, verdicts] of decided) {
    if (running_only.has(check)) {
      assert.deepEqual([...verdicts], ['not_applicable'], `${check} needs a running container`);
      continue;
    }
    // Compose has no key that makes these fail on this engine (no AppArmor, no SELinux, no --publish-all, no
    // build containers); docker-compose 1.x has no `uts` key (test/unit/compose.test.ts maps it).
    if (NOT_FAILABLE.has(check)) continue;
    // With a healthcheck, the status is known only once it runs: the house rule (not unhealthy) passes
    // without one and is not applicable with one. 5.27 asks only whether there is a status, so it is decided.
    if (check === 'HealthStatusCheck') {
      assert.deepEqual([...verdicts].sort(), ['not_applicable', 'pass'], check);
      continue;
    }
    assert.ok(verdicts.has('fail') && verdicts.has('pass'), `${check} is seen failing and passing (got ${[...verdicts].join(', ')})`);
  }
});
