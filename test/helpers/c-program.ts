/** Small C programs the tests need where no shell command does the job (set-UID helpers, a chosen PID). */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Compiles `source` with gcc to `output`; `static` for a program run inside a container's root filesystem. */
export async function compileC(source: string, output: string, options: { static?: boolean } = {}): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'dm-cc-'));
  try {
    await writeFile(join(work, 'program.c'), source);
    await run('gcc', [...(options.static === true ? ['-static'] : []), '-O2', '-o', output, join(work, 'program.c')]).catch(
      (error: unknown) => {
        throw new Error(`gcc could not build a test helper (apt-get install gcc libc6-dev): ${String(error)}`, { cause: error });
      },
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
