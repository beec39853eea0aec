/**
 * A private dockerd for tests that stop and start the engine (outages): its own socket, data, exec
 * root and bridge, so the shared engine and its containers are never touched.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, docker, ensureTestImage, uniqueName, type TestContainer } from './docker.js';
import { eventually } from './wait.js';
import { unmountAll } from './mounts.js';

const run = promisify(execFile);

export class PrivateEngine {
  readonly root: string;
  readonly socket: string;
  readonly host: string;
  readonly bridge: string;
  private process: ChildProcess | undefined;

  /** `extraArgs` go to dockerd after the private defaults (e.g. a second --host on TCP with TLS). */
  constructor(
    name: string,
    private readonly extraArgs: readonly string[] = [],
  ) {
    const id = `${name}${RUN_ID}`.slice(0, 12);
    this.root = `/tmp/dm-engine-${id}`;
    this.socket = `${this.root}/docker.sock`;
    this.host = `unix://${this.socket}`;
    // Bridge names are limited to 15 characters.
    this.bridge = `dmb${id}`.slice(0, 15);
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.host };
  }

  /** Runs the docker CLI against this engine. */
  docker(args: readonly string[]): Promise<string> {
    return docker(args, this.env);
  }

  /** `docker run -d` of the test image on this engine, labelled and uniquely named unless `name` is given. */
  async startContainer(
    runArgs: readonly string[] = [],
    command: readonly string[] = ['sleep', '3600'],
    name = uniqueName(),
  ): Promise<TestContainer> {
    const id = await this.docker(['run', '-d', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`, ...runArgs, TEST_IMAGE, ...command]);
    return { id, name };
  }

  async start(): Promise<void> {
    await mkdir(`${this.root}/data`, { recursive: true });
    // Its own bridge, so a --bridge=none engine never deletes the shared engine's docker0.
    await run('sh', [
      '-c',
      `ip link show ${this.bridge} >/dev/null 2>&1 || { ip link add ${this.bridge} type bridge && ip addr add 10.250.${Math.floor(Math.random() * 250)}.1/24 dev ${this.bridge} && ip link set ${this.bridge} up; }`,
    ]);
    this.process = spawn(
      'dockerd',
      [
        '--host',
        this.host,
        '--data-root',
        `${this.root}/data`,
        '--exec-root',
        `${this.root}/exec`,
        '--pidfile',
        `${this.root}/docker.pid`,
        '--iptables=false',
        '--ip-masq=false',
        `--bridge=${this.bridge}`,
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'ignore', openSync(`${this.root}/dockerd.log`, 'a')], detached: false },
    );
    await eventually(
      () =>
        this.docker(['version', '--format', '{{.Server.Version}}']).then(
          () => true,
          () => false,
        ),
      Boolean,
      20_000,
      `private dockerd at ${this.host} to start`,
    );
  }

  /** Copies the busybox test image from the shared engine. */
  async loadTestImage(): Promise<void> {
    await ensureTestImage();
    await run('sh', ['-c', `docker save ${TEST_IMAGE} | DOCKER_HOST=${this.host} docker load -q`]);
  }

  /** Stops dockerd (its containers stop with it). */
  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.process = undefined;
  }

  /** Sends a signal to this dockerd alone (SIGKILL to crash it, SIGSTOP/SIGCONT to freeze and thaw it). */
  async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null) throw new Error(`private dockerd at ${this.host} is not running`);
    if (signal !== 'SIGKILL') {
      child.kill(signal);
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.process = undefined;
    // A killed dockerd leaves its pid file, and the next one refuses to start while it is there; its
    // containerd lives on, holding its state, and the next dockerd times out starting another: end it too.
    await rm(`${this.root}/docker.pid`, { force: true });
    const containerd = Number(await readFile(`${this.root}/exec/containerd/containerd.pid`, 'utf8').catch(() => ''));
    if (containerd > 0) {
      process.kill(containerd, 'SIGTERM');
      await eventually(
        async () => existsSync(`/proc/${containerd}`),
        (alive) => !alive,
        5_000,
        `containerd ${containerd} to exit`,
      );
    }
  }

  /** Stops the engine and removes everything it made: its containers, its data and its bridge. */
  async destroy(): Promise<void> {
    if (this.process !== undefined) {
      const ids = await this.docker(['ps', '-aq']).catch(() => '');
      if (ids !== '') await this.docker(['rm', '-f', ...ids.split(/\s+/)]).catch(() => undefined);
    }
    await this.stop();
    await run('sh', ['-c', `ip link del ${this.bridge} 2>/dev/null; true`]);
    // Every mount dockerd left below its root (the netns files of exec/netns are some); a test that leaves
    // one behind fails here, naming it.
    await unmountAll(this.root);
    await rm(this.root, { recursive: true, force: true });
  }
}
