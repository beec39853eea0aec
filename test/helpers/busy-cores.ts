/**
 * A bounded load generator, to run tests as on a busy machine: N processes each spinning one core for at
 * most T seconds. Each process ends itself at its deadline, so the load cannot outlive a crashed parent.
 *
 *   node --import tsx test/helpers/busy-cores.ts [--workers N] [--seconds T] -- <command> [args…]
 *
 * runs the command with the cores held busy, ends the load when the command ends (or at T), and exits
 * with the command's code. Defaults: one worker per core, 600 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';

/** Starts `workers` busy processes for at most `seconds`; the function returned ends them sooner. */
export function holdCoresBusy(workers: number, seconds: number): () => void {
  const spin = `const end = Date.now() + ${Math.round(seconds * 1000)}; while (Date.now() < end);`;
  const children: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, ['-e', spin], { stdio: 'ignore' }));
  return () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
}

function flag(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number, not ${args[index + 1]}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const [command, ...args] = split < 0 ? [] : argv.slice(split + 1);
  if (command === undefined) {
    process.stderr.write('usage: busy-cores.ts [--workers N] [--seconds T] -- <command> [args…]\n');
    return 2;
  }
  const workers = flag(own, '--workers', availableParallelism());
  const seconds = flag(own, '--seconds', 600);
  const stopLoad = holdCoresBusy(workers, seconds);
  const child = spawn(command, args, { stdio: 'inherit' });
  const deadline = setTimeout(() => child.kill('SIGTERM'), seconds * 1000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(deadline);
  stopLoad();
  process.stderr.write(`busy-cores: ${workers} busy workers; the command ended with ${signal ?? `exit ${code}`}\n`);
  return code ?? 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
