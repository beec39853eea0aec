/** What a test mounted below its own folder, and taking it all away again. */
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Mount points below `root` (a folder of the test's own), deepest first. */
export function mountsUnder(root: string): string[] {
  const prefix = `${root.replace(/\/$/, '')}/`;
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((point) => point.startsWith(prefix) || `${point}/` === prefix)
    .sort()
    .reverse();
}

/**
 * Unmounts everything below `root` (and `root` itself if it is a mount point), deepest first, lazily
 * (a file still open below does not stop it), and fails naming what stays mounted.
 */
export async function unmountAll(root: string): Promise<void> {
  for (const point of mountsUnder(root)) await run('umount', ['-l', point]).catch(() => undefined);
  const left = mountsUnder(root);
  if (left.length > 0) throw new Error(`still mounted after the test: ${left.join(', ')}`);
}
