/** The built command line, run as a user runs it: to completion, or as a serving child process. */
import { execFile } from 'node:child_process';
import { Service, waitFor } from './services.js';

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
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
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
