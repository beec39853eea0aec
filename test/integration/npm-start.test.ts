/**
 * `npm start`'s prestart script, run by npm in a scratch package with one local dependency: it
 * installs when node_modules is missing and again when package-lock.json is newer than npm's record of
 * the last install (node_modules/.package-lock.json), and leaves an up-to-date install alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
let dir = '';

async function npm(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('npm', [...args], { cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return stdout + stderr;
}

const installedAt = async (): Promise<number> => (await stat(join(dir, 'node_modules/.package-lock.json'))).mtimeMs;

before(async () => {
  const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  dir = await mkdtemp(join(tmpdir(), 'dm-prestart-'));
  await mkdir(join(dir, 'dep'));
  await writeFile(join(dir, 'dep/package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'scratch', version: '1.0.0', dependencies: { dep: 'file:./dep' }, scripts: { prestart: scripts['prestart'] } }),
  );
  await npm('install', '--no-audit', '--no-fund');
});
after(() => rm(dir, { recursive: true, force: true }));

test('an install newer than the lock file is left alone', async () => {
  // npm install may write package-lock.json after its record of the install: make the install the newer.
  const earlier = new Date(Date.now() - 60_000);
  await utimes(join(dir, 'package-lock.json'), earlier, earlier);
  const before = await installedAt();
  await npm('run', 'prestart');
  assert.equal(await installedAt(), before);
});

test('a lock file newer than the install (a pull, a checkout) makes it install again', async () => {
  const before = await installedAt();
  const later = new Date(Date.now() + 60_000);
  await utimes(join(dir, 'package-lock.json'), later, later);
  assert.match(await npm('run', 'prestart'), /npm ci/);
  assert.ok((await installedAt()) > before, 'node_modules/.package-lock.json written again');
  await utimes(join(dir, 'package-lock.json'), new Date(), new Date());
});

test('no node_modules: it installs', async () => {
  await rm(join(dir, 'node_modules'), { recursive: true });
  await npm('run', 'prestart');
  assert.ok((await installedAt()) > 0);
});
