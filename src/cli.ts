#!/usr/bin/env -S node --max-semi-space-size=4
// First, so that every module loaded after it can come from the compile cache.
import './compile-cache.js';
import { Command, CommanderError } from 'commander';
import { addSettingOptions } from './config/commander-options.js';
import type { ServeFlags } from './config/flags.js';
import type { CheckFormat } from './config/setting-table.js';
import { UsageError, UserError, errorMessage } from './errors.js';
import { exitProcess } from './policy/check-loader.js';
import { versionText } from './version.js';

// Each command loads what it runs when it runs: `check` never loads the HTTP server, `--version` and
// `healthcheck` never load the engine client (see docs/performance.md, "Start-up").

/** `check`'s flags: `--format` always has a value (its default). */
type CheckFlags = ServeFlags & { format: CheckFormat };

async function serve(flags: ServeFlags): Promise<number> {
  const [{ runServe }, { createRuntime }] = await Promise.all([import('./commands/serve.js'), import('./runtime.js')]);
  return runServe(await createRuntime(flags));
}

/** Parses argv and runs a command; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('docker-monitor')
    .description('Prometheus exporter that holds every running Docker container to a policy')
    .version(versionText(), '--version', 'print the version, git revision and branch, build date and Node.js version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`docker-monitor: ${text.replace(/^error: /, '')}`) });

  addSettingOptions(
    program.command('serve', { isDefault: true }).description('serve the verdicts on /metrics (the default command)'),
    'serve',
  )
    .exitOverride()
    .action(async (flags: ServeFlags) => {
      exitCode = await serve(flags);
    });

  addSettingOptions(
    program
      .command('check')
      .description('evaluate the running containers (or compose files, stack files, images) once, print the verdicts and exit'),
    'check',
  )
    .exitOverride()
    .action(async (flags: CheckFlags) => {
      const [{ runCheckCommand }, { targetSelector }] = await Promise.all([
        import('./commands/check.js'),
        import('./commands/check-targets.js'),
      ]);
      const verbose = (flags.verbose ?? 0) > 0;
      // Quiet by default: the report is the output; -v brings back the per-container log lines (and warnings of what --enforce would do).
      const runtimeOptions = { textLog: verbose, warnWithoutEnforce: verbose, quiet: true };
      let selector;
      try {
        selector = targetSelector(flags.container ?? [], flags.label ?? []);
      } catch (error) {
        throw new UsageError(`--container/--label: ${errorMessage(error)}`);
      }
      const targets = {
        compose: flags.compose ?? [],
        stacks: flags.stack ?? [],
        images: flags.image ?? [],
        envFile: flags.envFile,
        projectName: flags.projectName,
        profiles: flags.profile ?? [],
        selector,
        host: selector === undefined || flags.host === true,
      };
      const output = flags.output;
      const chunks: string[] = [];
      const write = output === undefined ? (text: string) => void process.stdout.write(text) : (text: string) => void chunks.push(text);
      exitCode = await runCheckCommand(flags, runtimeOptions, flags.format, write, flags.failOn, targets);
      if (output !== undefined) {
        const { writeFile } = await import('node:fs/promises');
        try {
          await writeFile(output, chunks.join(''));
        } catch (error) {
          throw new UsageError(`--output ${output}: ${errorMessage(error)}`);
        }
      }
    });

  addSettingOptions(
    program
      .command('healthcheck')
      .description("exit 0 when every address serve listens on answers /-/healthy as a scraper reaches it (give it serve's flags)"),
    'healthcheck',
  )
    .exitOverride()
    .action(async (flags: ServeFlags) => {
      const { runHealthcheck } = await import('./commands/healthcheck.js');
      exitCode = await runHealthcheck(flags, (line) => process.stdout.write(line));
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UserError) {
      process.stderr.write(`docker-monitor: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`docker-monitor: unexpected error: ${errorMessage(error)}\n`);
    return 1;
  }
}

/** Resolves once everything written so far to `stream` has been handed to the OS (a full pipe queues writes). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

const exitCode = await main(process.argv.slice(2));
// Exit as soon as the command is done: a check abandoned at its timeout may still hold timers or sockets.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
exitProcess(exitCode);
