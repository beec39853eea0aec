/**
 * Proc roots assembled from files captured from real processes (test/fixtures/*\/proc). The kernel shows a
 * process's /proc/<pid> directory owned by its effective UID and GID, which the source reads with one stat;
 * a copied directory is given that owner from the captured `status`, as the kernel would.
 */
import { chownSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Gives `directory` the owner its `status` file names: the effective UID and GID (the second of each line). */
export function ownAsStatus(directory: string): void {
  const status = readFileSync(join(directory, 'status'), 'utf8');
  const effective = (field: string): number => Number(new RegExp(`^${field}:\\t\\d+\\t(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  chownSync(directory, effective('Uid'), effective('Gid'));
}

/** Copies a captured process directory to `directory` (a PID under a proc root), owned as the kernel would show it. */
export function copyCapturedProcess(captured: string, directory: string): void {
  cpSync(captured, directory, { recursive: true });
  try {
    ownAsStatus(directory);
  } catch (error) {
    // A capture of the cgroup file alone (a host process) keeps the test's owner.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
