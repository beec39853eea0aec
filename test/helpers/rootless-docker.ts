/**
 * Rootless Docker for tests: Debian's dockerd-rootless.sh (rootlesskit, slirp4netns) run as a test user
 * that exists only in a private /etc overlay (see rootless-user.ts). Its network, data and socket are
 * its own: dockerd's docker0 lives in rootlesskit's network namespace.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RUN_ID, TEST_IMAGE, ensureTestImage } from './docker.js';
import { RootlessAccount, type RootlessUser } from './rootless-user.js';
import { eventually } from './wait.js';

const run = promisify(execFile);
const CONTRIB = '/usr/share/docker.io/contrib';

export class RootlessDocker {
  readonly root: string;
  readonly account: RootlessAccount;
  readonly host: string;
  private daemon: ChildProcess | undefined;

  constructor(name: string, user: RootlessUser) {
    this.root = `/tmp/dm-rootless-docker-${name}${RUN_ID}`;
    this.account = new RootlessAccount(user, this.root);
    this.host = `unix://${join(this.account.runtimeDir, 'docker.sock')}`;
  }

  async docker(args: readonly string[]): Promise<string> {
    const { stdout } = await run('docker', [...args], { env: { ...process.env, DOCKER_HOST: this.host } });
    return stdout.trim();
  }

  /** Starts dockerd-rootless.sh and loads the busybox test image into it. */
  async start(): Promise<void> {
    await this.account.create();
    const [program, args] = this.account.command('dockerd-rootless.sh', ['--iptables=false'], {
      PATH: `${CONTRIB}:${process.env['PATH'] ?? ''}`,
    });
    // Its own process group: rootlesskit, slirp4netns and dockerd all end with it.
    this.daemon = spawn(program, args, { stdio: 'ignore', detached: true });
    const daemon = this.daemon;
    await eventually(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`dockerd-rootless.sh exited with ${daemon.exitCode}`);
        return this.docker(['version']).then(
          () => true,
          () => false,
        );
      },
      Boolean,
      30_000,
      `rootless dockerd at ${this.host} to answer`,
    );
    await ensureTestImage();
    await run('sh', ['-c', `docker save ${TEST_IMAGE} | DOCKER_HOST=${this.host} docker load -q`]);
  }

  async destroy(): Promise<void> {
    const ids = await this.docker(['ps', '-aq']).catch(() => '');
    if (ids !== '') await this.docker(['rm', '-f', ...ids.split(/\s+/)]).catch(() => undefined);
    const daemon = this.daemon;
    if (daemon?.pid !== undefined && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      process.kill(-daemon.pid, 'SIGTERM');
      await exited;
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
