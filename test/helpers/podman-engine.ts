/** The `podman run` options of the containers the Podman tests and the Podman capture script start. */
export const PODMAN_RUN_ARGS = {
  root: [],
  user: ['--user', '1000'],
  hardened: [
    '--user',
    '1000',
    '--read-only',
    '--memory',
    '64m',
    '--cpu-shares',
    '512',
    '--pids-limit',
    '50',
    '--security-opt',
    'no-new-privileges',
    '--cap-drop',
    'ALL',
  ],
  privileged: ['--privileged'],
  userns: ['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'],
  /** A limit Podman does not record by itself: an override CIS 5.19 counts. */
  ulimit: ['--ulimit', 'core=0:0'],
  /** An override of a limit Podman records on every container anyway (RLIMIT_NOFILE). */
  'ulimit-nofile': ['--ulimit', 'nofile=1024:2048'],
} as const satisfies Record<string, readonly string[]>;

/**
 * A private Podman for tests: `podman system service` on a socket of its own, with its own
 * containers.conf and storage.conf (storage, run and tmp folders, file locks, events log, CNI folder), so
 * nothing of the machine's Podman is shared. Rootful containers run through a runc wrapper that deletes
 * `process.rlimits` and CAP_SYS_RESOURCE, which this machine cannot grant. Test containers use
 * `--network none`: no bridge or subnet is made.
 *
 * Rootless: every podman command runs as an unprivileged user that exists only in a private mount
 * namespace whose /etc is an overlay adding it to passwd and group and giving it subordinate IDs
 * (the machine's /etc is never written); its socket is under its own XDG_RUNTIME_DIR.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RUN_ID, TEST_LABEL, writeTestRootfs } from './docker.js';
import { runcWrapper } from './runc-wrapper.js';
import { RootlessAccount, type RootlessUser } from './rootless-user.js';
import { eventually } from './wait.js';
import { scaled } from './time-scale.js';
import { unmountAll } from './mounts.js';

const run = promisify(execFile);
export const PODMAN_TEST_IMAGE = 'localhost/docker-monitor-test/busybox:1';

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const call = request({ socketPath, path: '/_ping', timeout: scaled(1000) }, (answer) => {
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
  private readonly account: RootlessAccount | undefined;

  constructor(
    name: string,
    readonly rootless?: RootlessUser,
  ) {
    this.root = `/tmp/dm-podman-${name}${RUN_ID}`.slice(0, 40);
    this.account = rootless === undefined ? undefined : new RootlessAccount(rootless, this.root);
    this.socket = this.account === undefined ? join(this.root, 'podman.sock') : join(this.account.runtimeDir, 'podman.sock');
    this.host = `unix://${this.socket}`;
  }

  get env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      CONTAINERS_CONF: join(this.root, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(this.root, 'storage.conf'),
    };
  }

  /** The program and arguments that run `podman args` as this engine's user. */
  private command(args: readonly string[]): [string, string[]] {
    return this.account === undefined ? ['podman', [...args]] : this.account.command('podman', args, this.env);
  }

  async podman(args: readonly string[]): Promise<string> {
    const [program, argv] = this.command(args);
    const { stdout } = await run(program, argv, { env: this.env, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  }

  /** `podman run -d` with the test label and no network. */
  run(name: string, runArgs: readonly string[], command: readonly string[] = ['sleep', '3600']): Promise<string> {
    return this.podman([
      'run',
      '-d',
      '--name',
      name,
      '--label',
      `${TEST_LABEL}=${RUN_ID}`,
      '--network',
      'none',
      ...runArgs,
      PODMAN_TEST_IMAGE,
      ...command,
    ]);
  }

  async start(): Promise<void> {
    const owned = ['storage', 'run', 'tmp', 'cni', 'events'];
    for (const folder of owned) await mkdir(join(this.root, folder), { recursive: true, mode: 0o700 });
    const runtime: string[] = [];
    if (this.account === undefined) {
      const wrapper = join(this.root, 'runc-capstrip');
      await writeFile(wrapper, runcWrapper((await run('sh', ['-c', 'command -v runc'])).stdout.trim(), { dropRlimits: true }));
      await chmod(wrapper, 0o755);
      runtime.push('runtime = "capstrip"', '[engine.runtimes]', `capstrip = ["${wrapper}"]`);
    } else {
      await this.account.create(owned);
    }
    await writeFile(
      join(this.root, 'containers.conf'),
      [
        '[engine]',
        // No systemd here: Podman's cgroups are made by hand, under /libpod_parent (rootful).
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${this.root}/events/events.log"`,
        `tmp_dir = "${this.root}/tmp"`,
        // Not the machine-wide shared-memory lock segment another Podman may be using.
        'lock_type = "file"',
        ...runtime,
        '[network]',
        'network_backend = "cni"',
        `network_config_dir = "${this.root}/cni"`,
        '',
      ].join('\n'),
    );
    // Rootless: vfs, which needs no mount privileges at all.
    const driver = this.rootless === undefined ? 'overlay' : 'vfs';
    await writeFile(
      join(this.root, 'storage.conf'),
      `[storage]\ndriver = "${driver}"\ngraphroot = "${this.root}/storage"\nrunroot = "${this.root}/run"\n`,
    );
    await this.startService();
  }

  /** `podman system service --time 0` on the socket, until it answers. */
  async startService(): Promise<void> {
    const [program, argv] = this.command(['system', 'service', '--time', '0', this.host]);
    // Its own process group: rootless Podman re-executes itself inside its user namespace, as a child.
    this.service = spawn(program, argv, { env: this.env, stdio: 'ignore', detached: true });
    const service = this.service;
    await eventually(
      async () => {
        if (service.exitCode !== null) throw new Error(`podman system service exited with ${service.exitCode}`);
        return ping(this.socket);
      },
      Boolean,
      10_000,
      `podman system service at ${this.host} to answer`,
    );
  }

  /** The busybox test image, made with `podman import` from the same root filesystem as Docker's. */
  async importTestImage(): Promise<void> {
    const rootfs = await mkdtemp(join(tmpdir(), 'dm-podman-rootfs-'));
    try {
      await writeTestRootfs(rootfs);
      // mkdtemp made it 0700: as the image's / that would shut every user but root out.
      await chmod(rootfs, 0o755);
      // A file the rootless user can read, rather than a pipe through the wrapper.
      const tarball = join(this.root, 'tmp', 'rootfs.tar');
      await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
      if (this.rootless !== undefined) await chown(tarball, this.rootless.uid, this.rootless.uid);
      await this.podman(['import', '--quiet', '--change', 'CMD ["sh"]', tarball, PODMAN_TEST_IMAGE]);
      await rm(tarball);
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
  }

  /** Stops the service (containers keep running under conmon, as with Podman outside tests). */
  async stopService(): Promise<void> {
    const child = this.service;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-(child.pid ?? 0), 'SIGTERM');
    await exited;
    this.service = undefined;
  }

  /** Removes every container and image, stops the service and deletes the folder. */
  async destroy(): Promise<void> {
    await this.podman(['rm', '--force', '--all', '--time', '0']).catch(() => undefined);
    await this.stopService();
    await this.podman(['system', 'reset', '--force']).catch(() => undefined);
    // Rootless Podman leaves a pause process holding its user namespace; it names itself in a PID file.
    if (this.rootless !== undefined) {
      const pause = await readFile(join(this.socket, '../libpod/tmp/pause.pid'), 'utf8').catch(() => '');
      if (/^\d+$/.test(pause.trim())) process.kill(Number(pause.trim()), 'SIGKILL');
    }
    await unmountAll(this.root);
    await rm(this.root, { recursive: true, force: true });
  }
}
