/** Checks of settings that name places: the metrics path, the log file. Each throws a message fit to follow "where: ". */
import { closeSync, existsSync, mkdirSync, openSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { hasControl } from '../control-characters.js';
import { quoted } from '../ini/values.js';

/** The probes' paths are taken: the metrics must not hide them, nor the landing page's query. */
export function checkTelemetryPath(value: string): string {
  if (!value.startsWith('/')) throw new Error(`${quoted(value)} must start with /`);
  if (value === '/') throw new Error('"/" would hide the status page; use a path such as /metrics');
  if (/[?#\s]/.test(value) || hasControl(value)) throw new Error(`${quoted(value)} is not a plain URL path`);
  if (value === '/-' || value.startsWith('/-/'))
    throw new Error(`${quoted(value)} collides with the probes under /-/ (/-/healthy, /-/ready)`);
  return value;
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  EEXIST: 'a folder on its path is a file',
  ENOTDIR: 'a folder on its path is a file',
  EROFS: 'read-only file system',
  ENOENT: 'no file can be made there',
};

/** A log file must be a file docker-monitor can append to (its folder is made as the logger would). */
export function checkLogFile(path: string): string {
  // Making folders under procfs or sysfs can hang for ever: such a place is refused before anything is made there.
  const pseudo = pseudoFileSystemOf(resolve(path));
  if (pseudo !== undefined) throw new Error(`cannot append to ${quoted(path, 200)}: ${pseudo} is not a place for a log file`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true)
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    closeSync(openSync(path, 'a'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new Error(`cannot append to ${quoted(path, 200)}: ${FILE_ERRORS[code] ?? code}`, { cause: error });
  }
  return path;
}

/** statfs magic numbers of the kernel's pseudo file systems. */
const PSEUDO_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x63677270, 'cgroup2'],
]);

/** The pseudo file system (procfs, sysfs…) a path is in, by its name or its nearest existing folder; undefined for a real one. */
function pseudoFileSystemOf(path: string): string | undefined {
  if (/^\/(proc|sys)(\/|$)/.test(path)) return path.startsWith('/proc') ? 'procfs' : 'sysfs';
  let folder = dirname(path);
  while (!existsSync(folder)) folder = dirname(folder);
  try {
    return PSEUDO_FILE_SYSTEMS.get(statfsSync(folder).type);
  } catch {
    return undefined;
  }
}
