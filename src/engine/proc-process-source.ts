import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { ContainerInspect, ContainerProcess } from './types.js';
import type { ProcessSource } from './process-source.js';
import { containerName } from './container-name.js';
import { uidInside } from './processes.js';

/**
 * A cgroup path component that names a container: the bare ID (cgroupfs driver: `/docker/<id>`, Kubernetes)
 * or a systemd scope (`docker-<id>.scope`, also `cri-containerd-`, `crio-`, `libpod-`).
 */
const CONTAINER_COMPONENT = /^(?:[\w.]+-)?([0-9a-f]{64})(?:\.scope)?$/;
const ANY_ID = /[0-9a-f]{64}/;

/**
 * The container ID in the contents of a `/proc/<pid>/cgroup` file, or undefined for a process outside any
 * container. Each line is `hierarchy-ID:controllers:path`; the cgroup v2 line is `0::path`. The v2 line is
 * read first, then the v1 lines in order, and within a path the innermost component naming a container
 * wins (Docker in Docker nests `/docker/<outer>/docker/<inner>`). Paths seen from another cgroup namespace
 * start with `/..`; only the components matter.
 */
export function containerIdFromCgroup(text: string): string | undefined {
  // Most processes on a host are in no container: one search rules them out.
  if (!ANY_ID.test(text)) return undefined;
  const lines = text.split('\n');
  const v2 = lines.find((line) => line.startsWith('0::'));
  for (const line of v2 === undefined ? lines : [v2, ...lines]) {
    const components = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).split('/');
    for (let index = components.length - 1; index >= 0; index -= 1) {
      const match = CONTAINER_COMPONENT.exec(components[index] ?? '');
      if (match?.[1] !== undefined) return match[1];
    }
  }
  return undefined;
}

/** The fields of `/proc/<pid>/status` a process list needs. */
export interface ProcStatus {
  name: string;
  /** Real, effective, saved set and filesystem UID, as the `Uid:` line lists them. */
  uids: [number, number, number, number];
}

export function parseStatus(text: string): ProcStatus {
  const name = /^Name:\t(.*)$/m.exec(text)?.[1];
  const uids = /^Uid:\t(\d+)\t(\d+)\t(\d+)\t(\d+)$/m.exec(text)?.slice(1).map(Number);
  if (name === undefined || uids === undefined)
    throw new Error(`no ${name === undefined ? 'Name' : 'Uid'}: line of the expected form in /proc status`);
  return { name, uids: uids as ProcStatus['uids'] };
}

/**
 * The command line as `ps -o args` shows it: arguments joined by spaces, or `[name]` when the process has
 * none (a zombie, or a kernel thread).
 */
export function commandLine(cmdline: string, name: string): string {
  const args = cmdline.split('\0');
  if (args.at(-1) === '') args.pop();
  return args.length === 0 ? `[${name}]` : args.join(' ');
}

/** The buffer every /proc read fills: the files are small, the reads synchronous, so one buffer serves all. */
let readBuffer = Buffer.allocUnsafe(16 * 1024);

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/**
 * Where a /proc file ends. `cgroup` and `status` (one seq_file record, formatted whole before any byte is
 * copied: fs/seq_file.c, seq_read_iter) and `cmdline` (copied up to the size asked: get_mm_cmdline) give all
 * they have to one read with room for it, so a read that returns less than asked is the end; asking again,
 * as readers usually do, formats the record a second time for nothing (about 40 % of the time of a `cgroup`
 * file, measured). `uid_map` is a record per line and may stop short at a page: it is read until a read
 * returns nothing.
 */
type Ending = 'short read' | 'empty read';

/**
 * A file under /proc, or undefined when its process has exited. procfs is generated in memory: a synchronous
 * read takes microseconds, several times less than the thread-pool round trips of an asynchronous one. Read
 * into one reused buffer with open, read, close: `readFileSync` adds an fstat, a read at the end and a fresh
 * buffer per file, which made a pass of small reads more than twice as slow.
 */
function readProcFile(path: string, ending: Ending): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
  try {
    let length = 0;
    for (;;) {
      if (length === readBuffer.length) {
        const larger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(larger);
        readBuffer = larger;
      }
      const read = readSync(fd, readBuffer, length, readBuffer.length - length, null);
      length += read;
      if (read === 0 || (ending === 'short read' && length < readBuffer.length)) break;
    }
    return readBuffer.toString('utf8', 0, length);
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  } finally {
    closeSync(fd);
  }
}

/** A process's namespace of a kind (`pid:[inode]`, `user:[inode]`), or undefined when it exited or may not be looked at. */
function namespaceOf(directory: string, kind: 'pid' | 'user'): string | undefined {
  try {
    return readlinkSync(join(directory, 'ns', kind));
  } catch {
    return undefined;
  }
}

/**
 * The initial user namespace, where every container runs unless the engine remaps users. Its inode number is
 * fixed (PROC_USER_INIT_INO) and never given to another namespace, unlike those of namespaces made later,
 * which the kernel numbers anew from the lowest free number: a later namespace's number can name another
 * namespace after the first is gone, so only this one's map is kept.
 */
const INITIAL_USER_NAMESPACE = `user:[${0xeffffffd}]`;

/**
 * The `uid_map` of each process's user namespace: the initial namespace's read once (from this reader's own
 * entry, when the reader runs in it), since it never changes; any other namespace's from the process itself,
 * as is a process whose namespace may not be looked at (no CAP_SYS_PTRACE).
 */
class UidMaps {
  private initial: { map: string | undefined } | undefined;

  constructor(private readonly procRoot: string) {}

  of(directory: string): string | undefined {
    if (namespaceOf(directory, 'user') === INITIAL_USER_NAMESPACE) {
      this.initial ??= {
        map:
          namespaceOf(join(this.procRoot, 'self'), 'user') === INITIAL_USER_NAMESPACE
            ? readProcFile(join(this.procRoot, 'self/uid_map'), 'empty read')
            : undefined,
      };
      if (this.initial.map !== undefined) return this.initial.map;
    }
    return readProcFile(join(directory, 'uid_map'), 'empty read');
  }
}

/**
 * A process's effective UID: the owner of its /proc/<pid> directory, one stat instead of a read of `status`.
 * The kernel gives that directory the effective UID at every lookup and stat (fs/proc/base.c,
 * task_dump_owner); unlike the files in it, the directory (mode 0555) is exempt from the rule that makes a
 * non-dumpable process (a set-UID program, or one that called prctl(PR_SET_DUMPABLE, 0)) look root-owned.
 * Kernel threads show 0, their effective UID too. Undefined when the process has exited.
 */
function effectiveUid(directory: string): number | undefined {
  try {
    return statSync(directory, { throwIfNoEntry: false })?.uid;
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/** A process's PID namespace (`pid:[inode]`), or undefined when it exited or may not be looked at. */
function pidNamespace(procRoot: string, pid: number | string): string | undefined {
  return namespaceOf(join(procRoot, String(pid)), 'pid');
}

/**
 * The PIDs in one PID namespace. Rootless engines on cgroup v1 give a container no cgroup of its own,
 * but always a PID namespace: for such a container this is the process list.
 */
function pidsInNamespace(procRoot: string, namespace: string): number[] {
  return readdirSync(procRoot)
    .filter((entry) => /^\d+$/.test(entry) && pidNamespace(procRoot, entry) === namespace)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * One process as `docker top -o pid,uid,user,args` would list it, with its UID inside its own user
 * namespace beside it; undefined when it exited meanwhile.
 * `uid` is the effective UID, as ps's `uid` column (an alias of `euid`) shows it: the identity the kernel
 * checks permissions against, so a set-UID-root program run by UID 1000 counts as root, and a root process
 * that only lowered its effective UID for a while does not. `user` is the UID as text: names in
 * `/etc/passwd` belong to whichever root file system the reader has, not necessarily the host's.
 */
function readProcess(procRoot: string, pid: number, uidMaps: UidMaps): ContainerProcess | undefined {
  const directory = join(procRoot, String(pid));
  const uid = effectiveUid(directory);
  const cmdline = readProcFile(join(directory, 'cmdline'), 'short read');
  if (uid === undefined || cmdline === undefined) return undefined;
  // Only a process without arguments (a zombie, a kernel thread) is shown by name, which `status` holds.
  const status = cmdline === '' ? readProcFile(join(directory, 'status'), 'short read') : undefined;
  if (cmdline === '' && status === undefined) return undefined;
  // The process's own user namespace maps its UIDs: `0 0 4294967295` is the host's, where they are equal.
  const uidMap = uidMaps.of(directory);
  const containerUid = uidMap === undefined ? undefined : uidInside(uidMap, uid);
  return {
    pid,
    uid,
    ...(uidMap === undefined ? {} : { containerRoot: containerUid === 0 }),
    user: String(uid),
    command: commandLine(cmdline, status === undefined ? '' : parseStatus(status).name),
  };
}

/**
 * runc enters a container for every exec (health checks included) as `runc init`, which runs as root
 * inside the container's cgroup and PID namespace for some milliseconds before it takes the session's
 * user and executes its command. Such a process is read again until it has become that command, so a
 * health check of a non-root container is not a root process now and then; one still `runc init` after
 * this long is reported as it is (a stuck runtime, or a process that only calls itself so).
 */
const RUNTIME_INIT_SETTLE_MS = 250;
const RUNTIME_INIT_POLL_MS = 5;

async function settledProcess(procRoot: string, pid: number, uidMaps: UidMaps): Promise<ContainerProcess | undefined> {
  let process = readProcess(procRoot, pid, uidMaps);
  const deadline = performance.now() + RUNTIME_INIT_SETTLE_MS;
  while (process?.command === 'runc init' && performance.now() < deadline) {
    await sleep(RUNTIME_INIT_POLL_MS);
    process = readProcess(procRoot, pid, uidMaps);
  }
  return process;
}

/** Host PIDs by container ID, from one pass over every `/proc/<pid>/cgroup`. */
export type ContainerPidIndex = ReadonlyMap<string, readonly number[]>;

/** PIDs read between two turns of the event loop, so a scan of a busy host never holds up a scrape for long. */
const SCAN_SLICE = 100;

export async function scanContainerPids(procRoot: string): Promise<ContainerPidIndex> {
  const pids = readdirSync(procRoot).filter((entry) => /^\d+$/.test(entry));
  const index = new Map<string, number[]>();
  for (const [position, pid] of pids.entries()) {
    if (position > 0 && position % SCAN_SLICE === 0) await nextTurn();
    const cgroup = readProcFile(join(procRoot, pid, 'cgroup'), 'short read');
    const id = cgroup === undefined ? undefined : containerIdFromCgroup(cgroup);
    if (id === undefined) continue;
    const list = index.get(id) ?? [];
    list.push(Number(pid));
    index.set(id, list);
  }
  for (const list of index.values()) list.sort((a, b) => a - b);
  return index;
}

/** Whether this reader's /proc shows a container's processes under their host PIDs, and if not, why. */
export type Visibility = { visible: true } | { visible: false; reason: string };

export interface ProcProcessSourceOptions {
  /** Where the host's proc file system is mounted. */
  procRoot?: string;
  /** How long one scan of /proc serves later calls: one refresh's calls share it. */
  indexTtlMs?: number;
  now?: () => number;
}

export const DEFAULT_INDEX_TTL_MS = 1000;

/**
 * Processes read from the host's /proc rather than from the engine's `top` (which forks `ps` inside
 * dockerd for every container). Needs the host's PID namespace: the exporter on the host, or in a
 * container started with `--pid=host`. PIDs are found by scanning /proc once and indexing them by the
 * container ID their cgroup names; that index is reused for `indexTtlMs`, except that a container whose init
 * process (`State.Pid` from inspect, a host PID) is missing from it gets a scan begun after its request, so a
 * container that just started is never reported empty. A process started later in a container the index
 * already holds shows once the index expires.
 */
export class ProcProcessSource implements ProcessSource {
  readonly kind = 'proc' as const;
  readonly procRoot: string;
  private readonly indexTtlMs: number;
  private readonly now: () => number;
  private readonly uidMaps: UidMaps;
  private scan: { startedAt: number; index: Promise<ContainerPidIndex> } | undefined;
  /** Scans started so far: tells whether one began after a given call did. */
  private scansStarted = 0;

  constructor(options: ProcProcessSourceOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.indexTtlMs = options.indexTtlMs ?? DEFAULT_INDEX_TTL_MS;
    this.now = options.now ?? Date.now;
    this.uidMaps = new UidMaps(this.procRoot);
  }

  private startScan(): Promise<ContainerPidIndex> {
    const scan = { startedAt: this.now(), index: scanContainerPids(this.procRoot) };
    scan.index.catch(() => {
      if (this.scan === scan) this.scan = undefined;
    });
    this.scan = scan;
    this.scansStarted += 1;
    return scan.index;
  }

  async processes(container: ContainerInspect): Promise<ContainerProcess[]> {
    const initPid = container.State?.Pid ?? 0;
    const name = containerName(container.Name);
    if (initPid <= 0) throw new Error(`container ${name} has no init process (not running)`);
    const scansBefore = this.scansStarted;
    const cached = this.scan !== undefined && this.now() - this.scan.startedAt < this.indexTtlMs ? this.scan.index : undefined;
    let index = await (cached ?? this.startScan());
    if (!index.get(container.Id)?.includes(initPid)) {
      // The init process existed before this call: any scan begun since then sees it.
      index = await (this.scansStarted > scansBefore && this.scan !== undefined ? this.scan.index : this.startScan());
    }
    let pids = index.get(container.Id) ?? [];
    if (!pids.includes(initPid)) {
      const namespace = this.ownPidNamespace(initPid);
      if (namespace === undefined) {
        throw new Error(
          `init process ${initPid} of container ${name} is not in ${this.procRoot} (it stopped, or this is not the host's PID namespace)`,
        );
      }
      pids = pidsInNamespace(this.procRoot, namespace);
    }
    const processes = await Promise.all(pids.map((pid) => settledProcess(this.procRoot, pid, this.uidMaps)));
    return processes.filter((process): process is ContainerProcess => process !== undefined);
  }

  /**
   * The PID namespace of a container's init process when its cgroup names no container (rootless engines
   * on cgroup v1) and the namespace is not this /proc's own: then that namespace is the container.
   */
  private ownPidNamespace(initPid: number): string | undefined {
    const cgroup = readProcFile(join(this.procRoot, String(initPid), 'cgroup'), 'short read');
    if (cgroup === undefined || containerIdFromCgroup(cgroup) !== undefined) return undefined;
    const namespace = pidNamespace(this.procRoot, initPid);
    // This reader's own namespace (PID 1's link may be closed to it, as under some VM inits).
    const own = pidNamespace(this.procRoot, 'self');
    return namespace !== undefined && own !== undefined && namespace !== own ? namespace : undefined;
  }

  /** The next call scans /proc again: a process may have started in that container since the last scan. */
  forget(): void {
    this.scan = undefined;
  }

  /**
   * Checks that the container's init process (a host PID) is in this /proc under that container's cgroup,
   * or, where its cgroup names no container (rootless engines on cgroup v1), in a PID namespace of its own.
   */
  visibility(container: ContainerInspect): Visibility {
    const initPid = container.State?.Pid ?? 0;
    const name = containerName(container.Name);
    if (initPid <= 0) return { visible: false, reason: `container ${name} reports no init PID` };
    let cgroup: string;
    try {
      cgroup = readFileSync(join(this.procRoot, String(initPid), 'cgroup'), 'utf8');
    } catch (error) {
      return {
        visible: false,
        reason: `${join(this.procRoot, String(initPid))} (init process of container ${name}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      };
    }
    const owner = containerIdFromCgroup(cgroup);
    if (owner === container.Id) return { visible: true };
    if (owner === undefined && this.ownPidNamespace(initPid) !== undefined) return { visible: true };
    return {
      visible: false,
      reason: `PID ${initPid} (init process of container ${name} on the host) belongs to ${owner === undefined ? 'no container' : `container ${owner.slice(0, 12)}`} here`,
    };
  }
}
