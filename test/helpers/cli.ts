/** The built command line, run as a user runs it: to completion, or as a serving child process. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Service, waitFor } from './services.js';
import { scaled } from './time-scale.js';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command args` to its end (bounded by `timeoutMs`); never throws for a non-zero exit. */
export function runToEnd(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { env: options.env ?? process.env, timeout: scaled(options.timeoutMs ?? 60_000), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * `docker-monitor serve` (JSON log) started, waited for until it logs the addresses it serves.
 * `program` is the command and any arguments before `serve` (e.g. node and the entry point).
 */
export async function startServe(
  program: readonly [string, ...string[]],
  args: readonly string[],
): Promise<{ service: Service; addresses: string[] }> {
  const [command, ...before] = program;
  const service = new Service('docker-monitor serve', command, [...before, 'serve', '--log.format', 'json', ...args]);
  let serving: string | undefined;
  void service.nextLine(/docker-monitor is serving/).then((line) => (serving = line));
  const addresses = await waitFor(
    'docker-monitor is serving',
    async () => (serving === undefined ? undefined : (JSON.parse(serving) as { addresses: string[] }).addresses),
    { timeoutMs: 20_000, services: [service] },
  );
  return { service, addresses };
}

/** The fields of `--version`'s output, or a failed assertion naming the output. */
export function parseVersion(text: string): { version: string; branch: string; revision: string; buildDate: string; nodejs: string } {
  const match =
    /^docker-monitor, version (\S+) \(branch: (\S+), revision: (\S+)\)\n {2}build date: +(\S+)\n {2}nodejs version: +(\S+)\n {2}platform: +\S+\/\S+\n$/.exec(
      text,
    );
  assert.ok(match, `--version printed:\n${text}`);
  const [, version = '', branch = '', revision = '', buildDate = '', nodejs = ''] = match;
  return { version, branch, revision, buildDate, nodejs };
}
