/**
 * The real engine for integration tests: every container made here carries the label
 * `docker-monitor.test=<run id>` and a unique name, and only those are removed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir, symlink, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEST_LABEL = 'docker-monitor.test';
export const RUN_ID = process.env['DOCKER_MONITOR_TEST_RUN'] ?? randomBytes(4).toString('hex');
export const TEST_IMAGE = 'docker-monitor-test/busybox:1';
export const DOCKER_HOST = process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';

let counter = 0;

export async function docker(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await run('docker', [...args], { env, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Fails (never skips) when no engine answers: the suites need a real one. */
export async function requireEngine(): Promise<void> {
  try {
    await docker(['version', '--format', '{{.Server.Version}}']);
  } catch (error) {
    throw new Error(
      `no Docker engine answers at ${DOCKER_HOST}: run the tests with "npm test" (it installs docker.io and starts dockerd), or start dockerd yourself. (${String(error).split('\n')[0]})`,
      { cause: error },
    );
  }
}

/** A unique container name for this run. */
export function uniqueName(prefix = 'dmt'): string {
  counter += 1;
  return `${prefix}-${RUN_ID}-${process.pid}-${counter}`;
}

const BUSYBOX_APPLETS = ['sh', 'sleep', 'ps', 'id', 'cat', 'nc', 'httpd', 'true'];

/** The test image's root filesystem: busybox-static, a few applets, root, app (1000) and nobody. */
export async function writeTestRootfs(root: string): Promise<void> {
  if (!existsSync('/bin/busybox')) throw new Error('/bin/busybox is missing: apt-get install busybox-static');
  await mkdir(join(root, 'bin'));
  await mkdir(join(root, 'etc'));
  await mkdir(join(root, 'tmp'));
  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  for (const applet of BUSYBOX_APPLETS) await symlink('busybox', join(root, 'bin', applet));
  await writeFile(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
  );
  await writeFile(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n');
}

/** Builds the busybox test image from busybox-static (no registry here), once. */
export async function ensureTestImage(): Promise<string> {
  try {
    await docker(['image', 'inspect', TEST_IMAGE]);
    return TEST_IMAGE;
  } catch {
    // built below
  }
  const root = await mkdtemp(join(tmpdir(), 'dm-rootfs-'));
  try {
    await writeTestRootfs(root);
    await run('sh', ['-c', `tar -C "${root}" -c . | docker import --change 'CMD ["sh"]' - ${TEST_IMAGE}`]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return TEST_IMAGE;
}

export interface TestContainer {
  id: string;
  name: string;
}

/**
 * `docker run -d` with the test label and a unique name. `runArgs` go before the image, `command`
 * after it (default: sleep for an hour).
 */
export async function startContainer(
  runArgs: readonly string[] = [],
  command: readonly string[] = ['sleep', '3600'],
  image = TEST_IMAGE,
): Promise<TestContainer> {
  const name = uniqueName();
  const id = await docker(['run', '-d', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`, ...runArgs, image, ...command]);
  return { id, name };
}

export async function removeContainer(container: TestContainer): Promise<void> {
  await docker(['rm', '-f', container.id]).catch(() => undefined);
}

/** Removes every container this run made (by label), however the test ended. */
export async function removeTestContainers(): Promise<void> {
  const ids = await docker(['ps', '-aq', '--filter', `label=${TEST_LABEL}=${RUN_ID}`]).catch(() => '');
  if (ids !== '') await docker(['rm', '-f', ...ids.split(/\s+/)]).catch(() => undefined);
}

export async function inspectJson(id: string): Promise<unknown> {
  return (JSON.parse(await docker(['inspect', id])) as unknown[])[0];
}
