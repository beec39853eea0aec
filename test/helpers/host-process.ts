/**
 * Real processes changed behind a process source's back, as the kernel allows: moved into another cgroup, or
 * started under a PID of the test's choosing (clone3 with set_tid, kernel 5.5 or later, as root) so a PID
 * another process just left is used again at once.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileC } from './c-program.js';
import { waitFor } from './services.js';

const run = promisify(execFile);

/**
 * The `cgroup.procs` file of every hierarchy `pid` is in, where this host mounts it (from
 * /proc/self/mountinfo). A hierarchy that is not mounted (the empty v2 line of a v1 host) is left out.
 */
export function cgroupProcsFiles(pid: number): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => {
      const [before, after] = line.split(' - ');
      const fields = (before ?? '').split(' ');
      const [fstype, , superOptions] = (after ?? '').split(' ');
      return { root: fields[3] ?? '', mountPoint: fields[4] ?? '', fstype, options: (superOptions ?? '').split(',') };
    })
    .filter(({ fstype }) => fstype === 'cgroup' || fstype === 'cgroup2');
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) => {
      const [, controllers = '', ...rest] = line.split(':');
      const path = rest.join(':');
      const mount = mounts.find((candidate) =>
        controllers === ''
          ? candidate.fstype === 'cgroup2'
          : candidate.fstype === 'cgroup' && controllers.split(',').every((controller) => candidate.options.includes(controller)),
      );
      if (mount === undefined || !path.startsWith(mount.root)) return [];
      return [join(mount.mountPoint, path.slice(mount.root.length), 'cgroup.procs')];
    });
}

/** Moves process `pid` into the cgroups, in every hierarchy, of process `to`: what `echo PID > cgroup.procs` does. */
export function moveToCgroupsOf(pid: number, to: number): void {
  for (const file of cgroupProcsFiles(to)) writeFileSync(file, String(pid));
}

/** Whether `pid` names a process now (a zombie counts until its parent reaps it). */
export function exists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Kills `pid` and waits until it is gone from /proc (reaped). */
export async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitFor(`PID ${pid} to leave /proc`, async () => (exists(pid) ? undefined : true), { timeoutMs: 10_000 });
}

const PID_AT_SOURCE = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* pid-at PID UID CGROUP_PROCS... -- COMMAND ARGS...: COMMAND as UID under host PID PID, in those cgroups. */
int main(int argc, char **argv) {
  int sep = 3;
  while (sep < argc && strcmp(argv[sep], "--") != 0) sep++;
  if (argc < 5 || sep + 1 >= argc) return 2;
  pid_t want = (pid_t)atoi(argv[1]);
  uid_t uid = (uid_t)atoi(argv[2]);
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return 1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  args.set_tid = (uint64_t)(uintptr_t)&want;
  args.set_tid_size = 1;
  long child = syscall(SYS_clone3, &args, sizeof args);
  if (child < 0) { perror("clone3 with set_tid"); return 1; }
  if (child == 0) {
    for (int i = 3; i < sep; i++) {
      int fd = open(argv[i], O_WRONLY);
      if (fd < 0 || write(fd, "0", 1) != 1) { perror(argv[i]); (void)write(ready[1], "x", 1); _exit(1); }
      close(fd);
    }
    if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) { perror("setresuid"); (void)write(ready[1], "x", 1); _exit(1); }
    /* The command must not hold the caller's output pipes open: the caller waits for them to close. */
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) { perror("/dev/null"); (void)write(ready[1], "x", 1); _exit(1); }
    int error = dup(2);
    if (error < 0 || fcntl(error, F_SETFD, FD_CLOEXEC) != 0 || dup2(null, 2) < 0) { (void)write(ready[1], "x", 1); _exit(1); }
    execvp(argv[sep + 1], argv + sep + 1);
    dprintf(error, "%s: %s\\n", argv[sep + 1], strerror(errno));
    (void)write(ready[1], "x", 1);
    _exit(1);
  }
  close(ready[1]);
  char byte;
  /* The pipe closes on the child's exec; a byte in it means a step failed. */
  if (read(ready[0], &byte, 1) != 0) return 1;
  printf("%ld\\n", child);
  return 0;
}
`;

/** Starts processes under chosen PIDs (see above); `close` removes the compiled helper. */
export class PidReuser {
  private constructor(private readonly folder: string) {}

  static async build(): Promise<PidReuser> {
    const folder = await mkdtemp(join(tmpdir(), 'dm-pid-at-'));
    await compileC(PID_AT_SOURCE, join(folder, 'pid-at'));
    return new PidReuser(folder);
  }

  /** Starts `command` as `uid` under host PID `pid` (which must be free), in the cgroups of process `cgroupsOf`. */
  async start(pid: number, uid: number, cgroupsOf: number, command: readonly string[]): Promise<void> {
    const { stdout } = await run(join(this.folder, 'pid-at'), [String(pid), String(uid), ...cgroupProcsFiles(cgroupsOf), '--', ...command]);
    if (Number(stdout.trim()) !== pid) throw new Error(`pid-at started PID ${stdout.trim()}, not ${pid}`);
    // The helper returns once the exec began; its command line is set a moment later.
    const cmdline = `${command.join('\0')}\0`;
    await waitFor(
      `PID ${pid} to run ${command.join(' ')}`,
      async () => (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === cmdline ? true : undefined),
      {
        timeoutMs: 10_000,
      },
    );
  }

  close(): Promise<void> {
    return rm(this.folder, { recursive: true, force: true });
  }
}
