/**
 * The root filesystem of the freshness walk's images: the busybox test root filesystem plus
 * `/bin/dm-flip`, a tiny static program installed set-UID root. Run as an unprivileged user, it drops
 * its effective UID at once (keeping the saved set-UID 0) and then polls two trigger files, so the test
 * changes who runs as root with no exec, no API call and no event:
 *   /tmp/dm-root   present: dm-flip itself takes effective UID 0; absent: it gives it back
 *   /tmp/dm-spawn  present: a child that took effective UID 0 exists; absent: it is killed
 * The test writes and deletes them through /proc/<pid>/root, as the host sees the container.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileC } from './c-program.js';
import { writeTestRootfs } from './docker.js';

const run = promisify(execFile);

export const FLIPPER = '/bin/dm-flip';
export const ROOT_TRIGGER = '/tmp/dm-root';
export const SPAWN_TRIGGER = '/tmp/dm-spawn';

const SOURCE = `#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  uid_t user = getuid();
  pid_t child = 0;
  struct timespec tick = {0, 50 * 1000 * 1000};
  if (seteuid(user) != 0) return 1;
  for (;;) {
    int root = access("${ROOT_TRIGGER}", F_OK) == 0;
    if (root != (geteuid() == 0)) (void)seteuid(root ? 0 : user);
    int spawn = access("${SPAWN_TRIGGER}", F_OK) == 0;
    if (spawn && child == 0) {
      child = fork();
      if (child == 0) {
        (void)seteuid(0);
        for (;;) pause();
      }
      if (child < 0) child = 0;
    } else if (!spawn && child > 0) {
      kill(child, SIGKILL);
      waitpid(child, 0, 0);
      child = 0;
    }
    while (waitpid(-1, 0, WNOHANG) > 0) {}
    nanosleep(&tick, 0);
  }
}
`;

/** Compiles dm-flip (static, so it runs in any root filesystem) to `output`; set-UID root is the caller's part. */
export function compileFlipper(output: string): Promise<void> {
  return compileC(SOURCE, output, { static: true });
}

/** Compiles dm-flip and writes the walk images' root filesystem as a tarball at `tarball`. */
export async function writeFlipperRootfsTar(tarball: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'dm-flip-'));
  try {
    const root = join(work, 'rootfs');
    await run('mkdir', [root]);
    await writeTestRootfs(root);
    // The image's / and a /tmp anyone may write, as in any image.
    await chmod(root, 0o755);
    await chmod(join(root, 'tmp'), 0o1777);
    await compileFlipper(join(root, FLIPPER));
    await chmod(join(root, FLIPPER), 0o4755);
    await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tarball, '.']);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
