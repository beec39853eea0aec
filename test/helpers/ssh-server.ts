/**
 * A private OpenSSH server on loopback for ssh:// engines: its own port, host key, authorized key and
 * configuration (root's ~/.ssh is never touched). Its sessions get DOCKER_HOST, so the remote side's
 * `docker system dial-stdio` reaches the engine the test chose.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './services.js';
import { eventually } from './wait.js';

const run = promisify(execFile);

export class SshServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'dm-sshd-'));
  /** A HOME for clients: ~/.ssh/id_ed25519 is the authorized key, ~/.ssh/known_hosts knows this server. */
  readonly clientHome = join(this.dir, 'client-home');
  port = 0;
  private process: ChildProcess | undefined;

  constructor(private readonly dockerHost: string) {}

  get address(): string {
    return `ssh://root@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const ssh = join(this.clientHome, '.ssh');
    mkdirSync(ssh, { recursive: true, mode: 0o700 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'docker-monitor test host', '-f', join(this.dir, 'host_key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'docker-monitor test client', '-f', join(ssh, 'id_ed25519')]);
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(join(ssh, 'id_ed25519.pub')));
    const hostKey = readFileSync(join(this.dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(join(ssh, 'known_hosts'), `[127.0.0.1]:${this.port} ${hostKey}\n`);
    writeFileSync(
      join(this.dir, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'AllowUsers root',
        `SetEnv DOCKER_HOST=${this.dockerHost}`,
        '',
      ].join('\n'),
    );
    // The privilege separation directory sshd insists on; the Debian package's service would make it.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.process = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    this.process.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const sshd = this.process;
    await eventually(
      async () => {
        if (sshd.exitCode !== null) throw new Error(`sshd exited with ${sshd.exitCode}: ${log}`);
        return log.includes('Server listening');
      },
      Boolean,
      5_000,
      `sshd on port ${this.port} to start`,
    );
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
