/**
 * `check` target selection on a private engine: `--image` judges local images with the image checks,
 * `--container` and `--label` limit the running containers judged (host checks only with `--host`),
 * and `check` is quiet on stderr unless `-v`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { CLI, runToEnd } from '../helpers/cli.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { PrivateEngine } from '../helpers/private-engine.js';

const run = promisify(execFile);
const CIS = fileURLToPath(new URL('../../examples/cis.ini', import.meta.url));
const engine = new PrivateEngine('targets');
let work = '';
let web = '';
let db = '';

interface Report {
  containers: { name: string; results: { check: string; result: string }[] }[];
  host: { results: unknown[] };
}

function check(...args: string[]) {
  return runToEnd(process.execPath, [CLI, 'check', '-f', CIS, '--docker.host', engine.host, ...args]);
}

before(async () => {
  await engine.start();
  await engine.loadTestImage();
  work = await mkdtemp(join(tmpdir(), 'dm-targets-'));
  await writeFile(join(work, 'Dockerfile'), `FROM ${TEST_IMAGE}\nUSER app\nHEALTHCHECK CMD true\n`);
  await run('docker', ['build', '-q', '-t', 'dmtargets/app:1', work], { env: { ...engine.env, DOCKER_BUILDKIT: '0' } });
  web = (await engine.startContainer(['--label', 'tier=front'])).name;
  db = (await engine.startContainer(['--label', 'tier=back'])).name;
});

after(async () => {
  await engine.destroy();
  if (work !== '') await rm(work, { recursive: true, force: true });
});

describe('check targets', () => {
  test('--image: the image checks on a local image that no container runs', async () => {
    const outcome = await check('--image', 'dmtargets/app:1', '--format', 'json');
    assert.equal(outcome.code, 0, outcome.stderr);
    const report = JSON.parse(outcome.stdout) as Report;
    assert.deepEqual(
      report.containers.map((container) => container.name),
      ['dmtargets/app:1'],
    );
    const results = Object.fromEntries((report.containers[0]?.results ?? []).map(({ check: name, result }) => [name, result]));
    assert.deepEqual(results, {
      ImageHealthcheckCheck: 'pass',
      UpdateAloneCheck: 'pass',
      AddInsteadOfCopyCheck: 'pass',
      ImageSecretEnvCheck: 'pass',
      LatestTagCheck: 'pass',
    });
    const missing = await check('--image', 'dmtargets/none:1');
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'docker-monitor: --image dmtargets/none:1: the engine has no such image (pull or build it first)\n');
  });

  test('--container and --label select running containers; host checks only with --host', async () => {
    const byName = JSON.parse((await check('--container', web, '--format', 'json')).stdout) as Report;
    assert.deepEqual(
      byName.containers.map((container) => container.name),
      [web],
    );
    assert.deepEqual(byName.host.results, []);
    const byLabel = JSON.parse((await check('--label', 'tier=ba*', '--host', '--format', 'json')).stdout) as Report;
    assert.deepEqual(
      byLabel.containers.map((container) => container.name),
      [db],
    );
    assert.ok(byLabel.host.results.length > 0, '--host runs the host checks');
    const everything = JSON.parse((await check('--format', 'json')).stdout) as Report;
    assert.deepEqual(everything.containers.map((container) => container.name).sort(), [db, web].sort());
  });

  test('quiet on stderr by default; -v brings the per-container lines back', async () => {
    const quiet = await check('--container', web);
    assert.equal(quiet.code, 1);
    assert.equal(quiet.stderr, '');
    const verbose = await check('--container', web, '-v');
    assert.match(verbose.stderr, new RegExp(web));
  });
});
