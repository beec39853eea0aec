/**
 * An unprivileged user for rootless engines that exists only inside private mount namespaces: each
 * command runs after an overlay on /etc adds the user to passwd and group and gives it 65536
 * subordinate UIDs and GIDs (newuidmap reads them there), so the machine's /etc is never written.
 * Its HOME and XDG_RUNTIME_DIR are folders it owns under `root`.
 */
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RootlessUser {
  name: string;
  uid: number;
  /** First of the 65536 subordinate UIDs and GIDs. */
  subordinateStart: number;
}

export class RootlessAccount {
  constructor(
    readonly user: RootlessUser,
    readonly root: string,
  ) {}

  get home(): string {
    return join(this.root, 'home');
  }

  get runtimeDir(): string {
    return join(this.root, 'xdg');
  }

  /** Writes the /etc overlay and makes `owned` (folders under root, with home and xdg) the user's. */
  async create(owned: readonly string[] = []): Promise<void> {
    const { name, uid, subordinateStart } = this.user;
    await mkdir(join(this.root, 'etc-upper'), { recursive: true });
    await mkdir(join(this.root, 'etc-work'), { recursive: true });
    await writeFile(
      join(this.root, 'etc-upper/passwd'),
      `${await readFile('/etc/passwd', 'utf8')}${name}:x:${uid}:${uid}::${this.home}:/bin/sh\n`,
    );
    await writeFile(join(this.root, 'etc-upper/group'), `${await readFile('/etc/group', 'utf8')}${name}:x:${uid}:\n`);
    await writeFile(join(this.root, 'etc-upper/subuid'), `${name}:${subordinateStart}:65536\n`);
    await writeFile(join(this.root, 'etc-upper/subgid'), `${name}:${subordinateStart}:65536\n`);
    for (const folder of ['home', 'xdg', ...owned]) {
      await mkdir(join(this.root, folder), { recursive: true, mode: 0o700 });
      await chown(join(this.root, folder), uid, uid);
    }
    await chmod(this.root, 0o755);
  }

  /** `program args` as the user, with only `env` (plus HOME and XDG_RUNTIME_DIR) in its environment. */
  command(program: string, args: readonly string[], env: NodeJS.ProcessEnv): [string, string[]] {
    const variables = Object.entries({ ...env, HOME: this.home, XDG_RUNTIME_DIR: this.runtimeDir }).map(
      ([key, value]) => `${key}=${value ?? ''}`,
    );
    const { uid } = this.user;
    return [
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount -t overlay overlay -o lowerdir=/etc,upperdir=${this.root}/etc-upper,workdir=${this.root}/etc-work /etc && exec setpriv --reuid=${uid} --regid=${uid} --clear-groups env -i "$@"`,
        'sh',
        ...variables,
        program,
        ...args,
      ],
    ];
  }
}
