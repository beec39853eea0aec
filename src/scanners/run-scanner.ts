import { spawn } from 'node:child_process';
import { formatDuration } from '../ini/values.js';

/** One scanner run: a program and its arguments, never a shell command line. */
export interface ScannerCommand {
  /** Absolute path of the program (see findExecutable). */
  file: string;
  args: readonly string[];
  /** Added to the exporter's environment, for credentials the scanner reads from there instead of argv. */
  env?: Readonly<Record<string, string>>;
  /** After this long the scanner and everything it started are killed and the run is an error. */
  timeoutMs: number;
  /** Values replaced by `***` in any scanner output quoted in an error. */
  secrets?: readonly string[];
}

export interface ScannerOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Most output kept from one run; a scanner printing more is stopped (trivy's JSON of a large image is a few MB). */
export const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Replaces every secret in `text` with `***`, so a scanner echoing its token cannot leak it into a log line. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  return secrets.filter((secret) => secret !== '').reduce((result, secret) => result.replaceAll(secret, '***'), text);
}

/** The last non-blank line of a scanner's output, scrubbed: what an error message quotes. */
export function lastLine(text: string, secrets?: readonly string[]): string {
  const line = text.trimEnd().split('\n').pop()?.trim() ?? '';
  return scrub(line.length > 300 ? `${line.slice(0, 300)}…` : line, secrets);
}

function program(file: string): string {
  return file.split('/').pop() ?? file;
}

/**
 * Runs a scanner to completion and collects its output. The scanner gets its own process group, so a
 * timeout kills it together with any helpers it started (a killed parent alone would leave a child
 * holding the pipes open). Standard input is closed, so a scanner that would prompt for a password
 * fails instead of waiting. Resolves with any exit code (the caller decides what a non-zero code means);
 * rejects when the program cannot be started, times out, is killed by a signal or prints too much.
 * Error messages name the program, never its arguments, which may hold a token.
 */
export function runScanner(command: ScannerCommand): Promise<ScannerOutput> {
  const name = program(command.file);
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, [...command.args], {
      env: { ...process.env, ...command.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let settled = false;

    const finish = (error: Error | undefined, output?: ScannerOutput): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined) reject(error);
      else if (output !== undefined) resolve(output);
    };
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const collect =
      (chunks: Buffer[]) =>
      (chunk: Buffer): void => {
        size += chunk.length;
        if (size > MAX_OUTPUT_BYTES) {
          killGroup();
          finish(new Error(`${name} printed more than ${MAX_OUTPUT_BYTES / 1024 / 1024} MiB; stopped`));
          return;
        }
        chunks.push(chunk);
      };

    const timer = setTimeout(() => {
      killGroup();
      finish(new Error(`${name} did not finish within ${formatDuration(command.timeoutMs)}; killed`));
    }, command.timeoutMs);

    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(new Error(`cannot run ${command.file}: ${error.code ?? error.message}`));
    });
    child.on('close', (code, signal) => {
      if (code === null) {
        finish(new Error(`${name} was killed by ${signal ?? 'a signal'}`));
        return;
      }
      finish(undefined, {
        exitCode: code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
