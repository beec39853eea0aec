/**
 * A private Podman for tests: `podman system service` on a socket of its own, with its own
 * containers.conf and storage.conf (storage, run and tmp folders, file locks, events log, CNI folder), so
 * nothing of the machine's Podman is shared. Containers run through a runc wrapper that deletes
 * `process.rlimits` and CAP_SYS_RESOURCE, which this machine cannot grant. Test containers use
 * `--network none`: no bridge or subnet is made.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RUN_ID, TEST_LABEL, writeTestRootfs } from './docker.js';
import { runcWrapper } from './runc-wrapper.js';

const run = promisify(execFile);
export const PODMAN_TEST_IMAGE = 'localhost/docker-monitor-test/busybox:1';

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const call = request({ socketPath, path: '/_ping', timeout: 1000 }, (answer) => {
      answer.resume();
      resolve(answer.statusCode === 200);
    });
    call.on('error', () => resolve(false)).on('timeout', () => call.destroy());
    call.end();
  });
}

export class PodmanEngine {
  readonly root: string;
  readonly socket: string;
  readonly host: string;
  private service: ChildProcess | undefined;

  constructor(name: string) {
    this.root = `/tmp/dm-podman-${name}${RUN_ID}`.slice(0, 40);
    this.socket = join(this.root, 'podman.sock');
    this.host = `unix://${this.socket}`;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, CONTAINERS_CONF: join(this.root, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(this.root, 'storage.conf') };
  }

  async podman(args: readonly string[]): Promise<string> {
    const { stdout } = await run('podman', [...args], { env: this.env, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  }

  /** `podman run -d` with the test label and no network. */
  run(name: string, runArgs: readonly string[], command: readonly string[] = ['sleep', '3600']): Promise<string> {
    return this.podman(['run', '-d', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`, '--network', 'none', ...runArgs, PODMAN_TEST_IMAGE, ...command]);
  }

  async start(): Promise<void> {
    for (const folder of ['storage', 'run', 'tmp', 'cni']) await mkdir(join(this.root, folder), { recursive: true });
    const wrapper = join(this.root, 'runc-capstrip');
    await writeFile(wrapper, runcWrapper((await run('sh', ['-c', 'command -v runc'])).stdout.trim(), { dropRlimits: true }));
    await chmod(wrapper, 0o755);
    await writeFile(
      join(this.root, 'containers.conf'),
      [
        '[engine]',
        // No systemd here: Podman's cgroups are made by hand, under /libpod_parent.
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${this.root}/events.log"`,
        `tmp_dir = "${this.root}/tmp"`,
        // Not the machine-wide shared-memory lock segment another Podman may be using.
        'lock_type = "file"',
        'runtime = "capstrip"',
        '[engine.runtimes]',
        `capstrip = ["${wrapper}"]`,
        '[network]',
        'network_backend = "cni"',
        `network_config_dir = "${this.root}/cni"`,
        '',
      ].join('\n'),
    );
    await writeFile(join(this.root, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${this.root}/storage"\nrunroot = "${this.root}/run"\n`);
    await this.startService();
  }

  /** `podman system service --time 0` on the socket, until it answers. */
  async startService(): Promise<void> {
    this.service = spawn('podman', ['system', 'service', '--time', '0', this.host], { env: this.env, stdio: 'ignore' });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (this.service.exitCode !== null) throw new Error(`podman system service exited with ${this.service.exitCode}`);
      if (await ping(this.socket)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`podman system service at ${this.host} did not answer`);
  }

  /** The busybox test image, made with `podman import` from the same root filesystem as Docker's. */
  async importTestImage(): Promise<void> {
    const rootfs = await mkdtemp(join(tmpdir(), 'dm-podman-rootfs-'));
    try {
      await writeTestRootfs(rootfs);
      await run('sh', ['-c', `tar -C "${rootfs}" -c . | podman import --quiet --change 'CMD ["sh"]' - ${PODMAN_TEST_IMAGE}`], { env: this.env });
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
  }

  /** Stops the service (containers keep running under conmon, as with Podman outside tests). */
  async stopService(): Promise<void> {
    const child = this.service;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.service = undefined;
  }

  /** Removes every container and image, stops the service and deletes the folder. */
  async destroy(): Promise<void> {
    await this.podman(['rm', '--force', '--all', '--time', '0']).catch(() => undefined);
    await this.stopService();
    await this.podman(['system', 'reset', '--force']).catch(() => undefined);
    await run('sh', ['-c', `umount -R ${this.root}/storage/overlay 2>/dev/null; true`]);
    await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
  }
}
