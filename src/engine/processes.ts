import type { ContainerProcess, ProcessTable } from './types.js';

function column(titles: readonly string[], ...names: string[]): number {
  return titles.findIndex((title) => names.includes(title.trim().toUpperCase()));
}

/**
 * Reads `top` output by its `Titles` row rather than fixed positions (cnitch's mistake): the columns
 * depend on the ps arguments the engine was given. UID comes from a numeric UID column when present, else
 * from a numeric USER column; `root` in either means 0. Podman's host columns (HPID, HUSER) win over its
 * container-side PID and USER: UIDs and PIDs here are the host's, as /proc gives them.
 * An answer without a table (Podman's `top` when ps inside the container fails) is an error, never "no processes".
 */
export function parseProcessTable(table: ProcessTable): ContainerProcess[] {
  if (!Array.isArray(table?.Titles) || !Array.isArray(table.Processes)) {
    throw new Error("the engine's top answered without a process table");
  }
  const titles = table.Titles;
  const pidColumn = column(titles, 'HPID') >= 0 ? column(titles, 'HPID') : column(titles, 'PID');
  const uidColumn = column(titles, 'UID', 'EUID', 'RUID');
  const hostUserColumn = column(titles, 'HUSER');
  const userColumn = hostUserColumn >= 0 ? hostUserColumn : column(titles, 'USER', 'EUSER', 'RUSER');
  // Podman lists the container's own user beside the host's: that is the UID inside its namespace.
  const containerUserColumn = hostUserColumn >= 0 ? column(titles, 'USER') : -1;
  const commandColumn = column(titles, 'COMMAND', 'CMD', 'ARGS');
  return table.Processes.map((row) => {
    const user = userColumn >= 0 ? (row[userColumn] ?? '') : '';
    // `ps -ef` titles its user-name column UID: "root" there is UID 0 too.
    const uidText = uidColumn >= 0 ? (row[uidColumn] ?? '') : user;
    const uid = /^\d+$/.test(uidText) ? Number(uidText) : uidText === 'root' || user === 'root' ? 0 : undefined;
    const containerUser = containerUserColumn >= 0 ? (row[containerUserColumn] ?? '') : undefined;
    return {
      pid: Number(pidColumn >= 0 ? row[pidColumn] : NaN),
      uid,
      ...(containerUser === undefined ? {} : { containerRoot: containerUser === 'root' || containerUser === '0' }),
      user: user || uidText,
      command: commandColumn >= 0 ? (row[commandColumn] ?? '') : (row[row.length - 1] ?? ''),
    };
  });
}

/** Host root: effective UID 0 as the host sees it (cnitch's question). */
export function rootProcesses(processes: readonly ContainerProcess[]): ContainerProcess[] {
  return processes.filter((process) => process.uid === 0);
}

/** Container root: UID 0 inside the container's user namespace (CIS 4.1's question); undefined when the source cannot tell. */
export function containerRootProcesses(processes: readonly ContainerProcess[]): ContainerProcess[] | undefined {
  if (processes.some((process) => process.containerRoot === undefined)) return undefined;
  return processes.filter((process) => process.containerRoot === true);
}

/**
 * The UID inside a user namespace for a host UID, from the namespace's `uid_map` (lines of
 * `inside outside count`); undefined when the host UID is not mapped into it.
 */
export function uidInside(uidMap: string, hostUid: number): number | undefined {
  for (const line of uidMap.split('\n')) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
    if (inside === undefined || outside === undefined || count === undefined || Number.isNaN(count)) continue;
    if (hostUid >= outside && hostUid < outside + count) return inside + (hostUid - outside);
  }
  return undefined;
}
