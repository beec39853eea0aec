/**
 * `--version` of the built CLI: the exporters' multi-line form, with the revision and branch that
 * `npm run build` read from git (scripts/build-info.mjs), and the same revision in
 * docker_monitor_build_info. Outside a git checkout the build says "unknown".
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { requireEngine } from '../helpers/docker.js';
import { CLI, parseVersion, runToEnd, startServe } from '../helpers/cli.js';
import { freePort, type Service } from '../helpers/services.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const git = (...args: string[]): string => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();

let serving: Service | undefined;
before(requireEngine);
after(() => serving?.stop());

test('--version names the version, the git revision and branch built from, the build date and Node.js', async () => {
  const result = await runToEnd(process.execPath, [CLI, '--version']);
  assert.equal(result.code, 0, result.stderr);
  const printed = parseVersion(result.stdout);
  const built = JSON.parse(readFileSync(join(ROOT, 'dist/build-info.json'), 'utf8')) as { revision: string };
  assert.equal(printed.version, VERSION);
  assert.equal(printed.revision, built.revision);
  // The build read git: a full commit that exists in this repository (HEAD, unless commits came after the build).
  assert.match(printed.revision, /^[0-9a-f]{40}$/);
  assert.equal(git('cat-file', '-t', printed.revision), 'commit');
  assert.notEqual(printed.branch, 'unknown');
  assert.match(printed.buildDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Date.parse(printed.buildDate) <= Date.now());
  assert.equal(printed.nodejs, process.version);
});

test('docker_monitor_build_info carries the revision --version prints', async () => {
  const { revision } = parseVersion((await runToEnd(process.execPath, [CLI, '--version'])).stdout);
  const port = await freePort();
  const started = await startServe([process.execPath, CLI], ['--web.listen-address', `127.0.0.1:${port}`]);
  serving = started.service;
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text());
  assert.match(
    metrics,
    new RegExp(
      `^docker_monitor_build_info\\{version="${VERSION.replaceAll('.', '\\.')}",revision="${revision}",nodejs_version="${process.version}"\\} 1$`,
      'm',
    ),
  );
});

test('outside a git checkout the build says "unknown" for the revision and branch', () => {
  const copy = mkdtempSync(join(tmpdir(), 'dm-build-info-'));
  try {
    cpSync(join(ROOT, 'scripts/build-info.mjs'), join(copy, 'scripts/build-info.mjs'));
    const env: NodeJS.ProcessEnv = { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir(), SOURCE_DATE_EPOCH: '1700000000' };
    delete env['DOCKER_MONITOR_REVISION'];
    delete env['DOCKER_MONITOR_BRANCH'];
    execFileSync(process.execPath, [join(copy, 'scripts/build-info.mjs')], { env });
    assert.deepEqual(JSON.parse(readFileSync(join(copy, 'dist/build-info.json'), 'utf8')), {
      revision: 'unknown',
      branch: 'unknown',
      buildDate: '2023-11-14T22:13:20Z',
    });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
