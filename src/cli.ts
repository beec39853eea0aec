#!/usr/bin/env -S node --max-semi-space-size=4
// First, so that every module loaded after it can come from the compile cache.
import './compile-cache.js';
import { Command, CommanderError, Option } from 'commander';
import { CHECK_FORMATS, type CheckFormat } from './commands/check-formats.js';
import type { ServeFlags } from './config/flags.js';
import { UsageError, UserError, errorMessage } from './errors.js';
import { exitProcess } from './policy/check-loader.js';
import { FAIL_ON_SEVERITIES, type FailOn } from './report/fail-on.js';
import { versionText } from './version.js';

// Each command loads what it runs when it runs: `check` never loads the HTTP server, `--version` and
// `healthcheck` never load the engine client (see docs/performance.md, "Start-up").

/** The flags both commands share: the policy file, logging, and how the engine is reached. */
function addPolicyAndEngineFlags(command: Command, verboseHelp: string): Command {
  return command
    .option('-f, --config-file <path>', 'INI policy file (default: the embedded default policy)')
    .option('--log.level <level>', 'debug, info, warn or error (default: info)')
    .option('-v, --verbose', verboseHelp, (_: string, count: number) => count + 1, 0)
    .option('--log.format <format>', "text (for people), logfmt (promslog's keys) or json (one object per line) (default: text)")
    .option(
      '--docker.host <url>',
      'engine address: unix:///path, tcp://host:port, ssh://user@host[:port] (default: $DOCKER_HOST, else the current docker context, else unix:///var/run/docker.sock)',
    )
    .option(
      '--docker.context <name>',
      "use a context from the docker CLI's context store (default: $DOCKER_CONTEXT, else the store's current context)",
    )
    .option('--docker.tls-verify', 'TLS with certificate verification for tcp:// (default: on when $DOCKER_TLS_VERIFY is not empty)')
    .option('--no-docker.tls-verify', 'plain TCP even when $DOCKER_TLS_VERIFY is set')
    .option('--docker.cert-path <dir>', 'folder with ca.pem, cert.pem and key.pem (default: $DOCKER_CERT_PATH, else ~/.docker)')
    .option('--docker.concurrency <n>', 'most engine calls in flight at once (default: 8)')
    .option('--docker.timeout <duration>', 'how long one engine call may take (default: 10s)');
}

function addCommonFlags(command: Command): Command {
  return addPolicyAndEngineFlags(command, 'one level more verbose than --log.level, each time given')
    .option(
      '--docker.resync-interval <duration>',
      'how often every container is listed and inspected again; events keep them current in between (default: 5m)',
    )
    .option('--enforce', 'apply [policy] action to failing containers')
    .option('--no-enforce', 'only warn about failing containers (default)');
}

/** A repeatable flag's values, in order. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function addServeFlags(command: Command): Command {
  return addCommonFlags(command)
    .option(
      '--web.listen-address <addr>',
      'host:port, [v6]:port or :port (every interface) to listen on; repeat for several (default: :10091)',
      collect,
    )
    .option('--web.telemetry-path <path>', 'path of the metrics endpoint (default: /metrics)')
    .option('--web.config.file <path>', 'TLS and basic auth, in the Prometheus exporter-toolkit web-config format')
    .option(
      '--web.grafana-url <url>',
      'the status page links each container to its Grafana dashboard at this base (e.g. http://grafana:3000)',
    )
    .option('--web.enable-lifecycle', 'allow POST /-/reload (SIGHUP always reloads)')
    .option('--refresh <mode>', 'scrape (evaluate on each scrape) or a duration such as 30s (default: scrape)')
    .option('--check <duration>', "cnitch's name for --refresh <duration>")
    .option('--hostname <name>', "host name carried by StatsD tags and log lines (default: this machine's)")
    .option('--statsd-server <host:port>', 'also report to StatsD/DogStatsD over UDP')
    .option('--statsd-prefix <prefix>', 'StatsD metric prefix (default: docker_monitor; cnitch used cnitch)')
    .option('--metrics.results <mode>', 'per-container results exported: all, failing (every result not a pass) or none (default: all)')
    .option(
      '--metrics.container-labels <list>',
      'container labels copied onto docker_monitor_container_info: comma-separated names or globs (default: none)',
    );
}

/** `check`'s flags: only what means something for one evaluation (no listener, refresh or resync settings). */
function addCheckFlags(command: Command): Command {
  return addPolicyAndEngineFlags(command, 'one level more verbose each time; once brings back the per-container lines')
    .option('--enforce', 'apply [policy] action to failing running containers')
    .option('--no-enforce', 'only report failing containers (default)')
    .addOption(
      new Option('--format <format>', 'text, json, sarif (SARIF 2.1.0) or junit (JUnit XML)').choices(CHECK_FORMATS).default('text'),
    )
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 only for a failure of at least this severity (default: any failure)').choices(
        FAIL_ON_SEVERITIES,
      ),
    )
    .option('--output <file>', 'write the report to this file instead of standard output')
    .option('--compose <file>', 'judge the services of a Compose file before they run; repeat to merge overrides in order', collect)
    .option('--env-file <file>', 'variables for --compose/--stack interpolation (default: .env beside the first file)')
    .option('--profile <name>', 'enable a Compose profile; repeatable', collect)
    .option('--stack <file>', 'judge the services of a Swarm stack file before deployment; repeatable', collect)
    .option('--image <ref>', 'judge a local image with the image checks, running or not; repeatable', collect)
    .option('--container <glob>', 'judge only running containers whose name matches; repeatable', collect)
    .option('--label <key[=value]>', 'judge only running containers with this label (value may be a glob); repeatable', collect)
    .option('--host', 'run the host checks too when --container or --label select containers');
}

interface CheckFlags extends ServeFlags {
  format: CheckFormat;
  failOn?: FailOn;
  output?: string;
  compose?: string[];
  envFile?: string;
  profile?: string[];
  stack?: string[];
  image?: string[];
  container?: string[];
  label?: string[];
  host?: boolean;
}

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

  addServeFlags(program.command('serve', { isDefault: true }).description('serve the verdicts on /metrics (the default command)'))
    .exitOverride()
    .action(async (flags: ServeFlags) => {
      exitCode = await serve(flags);
    });

  addCheckFlags(
    program
      .command('check')
      .description('evaluate the running containers (or compose files, stack files, images) once, print the verdicts and exit'),
  )
    .exitOverride()
    .action(async (flags: CheckFlags) => {
      const [{ runCheckCommand }, { createRuntime }, { targetSelector }] = await Promise.all([
        import('./commands/check.js'),
        import('./runtime.js'),
        import('./commands/check-targets.js'),
      ]);
      const verbose = (flags.verbose ?? 0) > 0;
      // Quiet by default: the report is the output; -v brings back the per-container log lines (and warnings of what --enforce would do).
      const runtime = await createRuntime(flags, { textLog: verbose, warnWithoutEnforce: verbose, quiet: true });
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
        profiles: flags.profile ?? [],
        selector,
        host: selector === undefined || flags.host === true,
      };
      const output = flags.output;
      const chunks: string[] = [];
      const write = output === undefined ? (text: string) => void process.stdout.write(text) : (text: string) => void chunks.push(text);
      exitCode = await runCheckCommand(runtime, flags.format, write, flags.failOn, targets);
      if (output !== undefined) {
        const { writeFile } = await import('node:fs/promises');
        try {
          await writeFile(output, chunks.join(''));
        } catch (error) {
          throw new UsageError(`--output ${output}: ${errorMessage(error)}`);
        }
      }
    });

  program
    .command('healthcheck')
    .description("exit 0 when every address serve listens on answers /-/healthy as a scraper reaches it (give it serve's flags)")
    .option('-f, --config-file <path>', 'INI policy file whose [exporter] section serve uses')
    .option('--web.listen-address <addr>', 'as for serve; repeat for several (default: :10091)', collect)
    .option('--web.config.file <path>', 'as for serve: with TLS in it, the probe uses https')
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
