import type { ContainerProcess, ProcessTable } from './types.js';

function column(titles: readonly string[], ...names: string[]): number {
  return titles.findIndex((title) => names.includes(title.trim().toUpperCase()));
}

/**
 * Reads `top` output by its `Titles` row rather than fixed positions (cnitch's mistake): the columns
 * depend on the ps arguments the engine was given. UID comes from a numeric UID column when present, else
 * from a numeric USER column; `root` in either means 0.
 */
export function parseProcessTable(table: ProcessTable): ContainerProcess[] {
  const titles = table.Titles ?? [];
  const pidColumn = column(titles, 'PID');
  const uidColumn = column(titles, 'UID', 'EUID', 'RUID');
  const userColumn = column(titles, 'USER', 'EUSER', 'RUSER');
  const commandColumn = column(titles, 'COMMAND', 'CMD', 'ARGS');
  return (table.Processes ?? []).map((row) => {
    const user = userColumn >= 0 ? (row[userColumn] ?? '') : '';
    // `ps -ef` titles its user-name column UID: "root" there is UID 0 too.
    const uidText = uidColumn >= 0 ? (row[uidColumn] ?? '') : user;
    const uid = /^\d+$/.test(uidText) ? Number(uidText) : uidText === 'root' || user === 'root' ? 0 : undefined;
    return {
      pid: Number(pidColumn >= 0 ? row[pidColumn] : NaN),
      uid,
      user: user || uidText,
      command: commandColumn >= 0 ? (row[commandColumn] ?? '') : row[row.length - 1] ?? '',
    };
  });
}

export function rootProcesses(processes: readonly ContainerProcess[]): ContainerProcess[] {
  return processes.filter((process) => process.uid === 0);
}
