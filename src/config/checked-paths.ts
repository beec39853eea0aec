/** Checks of settings that name places: the metrics path, the log file. Each throws a message fit to follow "where: ". */
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { quoted } from '../ini/values.js';

/** The probes' paths are taken: the metrics must not hide them, nor the landing page's query. */
export function checkTelemetryPath(value: string): string {
  if (!value.startsWith('/')) throw new Error(`${quoted(value)} must start with /`);
  if (value === '/') throw new Error('"/" would hide the status page; use a path such as /metrics');
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[?#\s]/.test(value) || /[\u0000-\u001f\u007f]/.test(value)) throw new Error(`${quoted(value)} is not a plain URL path`);
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
