import { posix } from 'node:path';

/** `/etc/`, `/etc/.`, `//etc` → `/etc`, so mount paths compare as the kernel resolves them. */
export function normalizePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

/** True when `path` is `ancestor` or lies under it. */
export function isWithin(path: string, ancestor: string): boolean {
  const a = normalizePath(ancestor);
  const p = normalizePath(path);
  return p === a || p.startsWith(a === '/' ? '/' : `${a}/`);
}
