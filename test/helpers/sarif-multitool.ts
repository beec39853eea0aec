/**
 * Microsoft's SARIF Multitool (`@microsoft/sarif-multitool`, a self-contained .NET program in the
 * npm package) validating a SARIF log: the schema and its ~40 usage rules (SARIF1xxx, SARIF2xxx).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Log } from 'sarif';
import { scaled } from './time-scale.js';

/** The platform binary the package's bin.js would start. */
const MULTITOOL = createRequire(import.meta.url)('@microsoft/sarif-multitool') as string;

/**
 * `Sarif.Multitool validate` on `log`; resolves to one line per error and warning it reports (empty
 * when the log is clean). Its notes (style suggestions such as conventional rule ids) are left out.
 */
export async function multitoolProblems(log: Log): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'dm-multitool-'));
  try {
    await writeFile(join(dir, 'input.sarif'), JSON.stringify(log, null, 2));
    const output = join(dir, 'validation.sarif');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        MULTITOOL,
        ['validate', join(dir, 'input.sarif'), '--output', output, '--level', 'Error;Warning'],
        // Without ICU installed, .NET must be told to run with invariant globalization.
        { env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1' }, timeout: scaled(120_000), maxBuffer: 64 * 1024 * 1024 },
        // It exits 1 when it found problems; the validation log says which.
        (error, out, err) =>
          error !== null && typeof error.code !== 'number' ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      ),
    );
    let validation: Log;
    try {
      validation = JSON.parse(await readFile(output, 'utf8')) as Log;
    } catch (error) {
      throw new Error(`the multitool wrote no validation log; it printed:\n${stdout}`, { cause: error });
    }
    const run = validation.runs[0];
    const failures = (run?.invocations ?? []).flatMap((invocation) =>
      (invocation.toolExecutionNotifications ?? []).map((note) => `tool error: ${note.message.text ?? JSON.stringify(note.message)}`),
    );
    const lines = stdout.split('\n').filter((line) => /: (error|warning) [A-Z]+\d+: /.test(line));
    const results = (run?.results ?? []).filter(
      (result) => (result.level ?? 'warning') === 'error' || (result.level ?? 'warning') === 'warning',
    );
    if (results.length !== lines.length) lines.push(`(${results.length} errors and warnings in the validation log)`);
    return [...failures, ...lines.map((line) => line.slice(line.indexOf(': ') + 2))];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
