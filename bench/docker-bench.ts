/**
 * docker-bench-security's container-runtime section (the real script, vendored under bench/vendor/)
 * against `docker-monitor check -f examples/cis.ini`, whole process against whole process, on the same
 * running containers and in the same run. The script runs as its README says (`sh
 * docker-bench-security.sh`, from its own folder, as root, with the docker CLI), on a copy in a
 * temporary folder: it writes its log files beside itself.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { median } from './stats.js';

const run = promisify(execFile);
const SCRIPT_FOLDER = join(import.meta.dirname, 'vendor/docker-bench-security');
/** The programs the script checks for before it starts (its `req_programs` line), and `sh`. */
const REQUIRED_PROGRAMS = ['sh', 'awk', 'docker', 'grep', 'sed', 'stat', 'tail', 'tee', 'tr', 'wc', 'xargs'];

export interface DockerBenchFigures {
  /** The stage's containers, the only ones either side sees: docker-bench-security through its label filter (`-t`), `check` through bench/scoped-engine.ts. */
  containers: number;
  dockerBench: { runs: number; medianMs: number; checks: number; warnings: number };
  check: { runs: number; medianMs: number; configFile: string };
}

/** Spawns a command and resolves with its wall time in milliseconds; rejects when it exits with a code not in `ok`. */
function wallTime(command: string, args: string[], cwd: string, ok: readonly number[]): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (ok.includes(code ?? -1)) resolve(performance.now() - started);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim().slice(0, 500)}`));
    });
  });
}

/** The script needs root (it says so and sleeps 3 s otherwise) and the programs it lists. */
export async function requireDockerBench(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the docker-bench-security comparison needs root, as the script does');
  for (const program of REQUIRED_PROGRAMS) {
    await run('sh', ['-c', `command -v ${program}`]).catch(() => {
      throw new Error(`docker-bench-security needs ${program}, which is not on PATH`);
    });
  }
}

async function runningContainers(label: string): Promise<number> {
  const { stdout } = await run('docker', ['ps', '-q', '--filter', `label=${label}`]);
  return stdout.split('\n').filter((line) => line.trim() !== '').length;
}

/**
 * `dockerBenchRuns` runs of the script's container-runtime section and `checkRuns` runs of `check`, the two
 * in turn, each one a new process; medians of each. The script sees only the containers labelled `label`
 * (its `-t`); `check` reaches the engine through `engineHost`, a proxy that lists only those (its one
 * extra hop per engine call is counted against `check`).
 */
export async function compareWithDockerBench(
  cli: string,
  configFile: string,
  engineHost: string,
  label: string,
  dockerBenchRuns: number,
  checkRuns: number,
): Promise<DockerBenchFigures> {
  await requireDockerBench();
  const folder = await mkdtemp(join(tmpdir(), 'dm-bench-docker-bench-'));
  try {
    await cp(SCRIPT_FOLDER, folder, { recursive: true });
    const log = join(folder, 'result.log');
    const before = await runningContainers(label);
    const checkMs: number[] = [];
    const benchMs: number[] = [];
    const checkArgs = [cli, 'check', '-f', configFile, '--docker.host', engineHost];
    // One untimed run of check, as the script's programs are in the page cache after its first check.
    await wallTime(process.execPath, checkArgs, folder, [0, 1]);
    for (let index = 0; index < Math.max(dockerBenchRuns, checkRuns); index += 1) {
      if (index < dockerBenchRuns)
        benchMs.push(
          await wallTime('sh', ['docker-bench-security.sh', '-b', '-l', log, '-t', label, '-c', 'container_runtime'], folder, [0]),
        );
      if (index < checkRuns) checkMs.push(await wallTime(process.execPath, checkArgs, folder, [0, 1]));
    }
    const after = await runningContainers(label);
    if (after !== before) throw new Error(`the benchmark's containers changed during the comparison (${before}, then ${after})`);
    const report = JSON.parse(await readFile(`${log}.json`, 'utf8')) as { checks?: number; tests?: { results?: { result?: string }[] }[] };
    const results = (report.tests ?? []).flatMap((test) => test.results ?? []);
    return {
      containers: before,
      dockerBench: {
        runs: dockerBenchRuns,
        medianMs: median(benchMs),
        checks: results.length,
        warnings: results.filter((result) => result.result === 'WARN').length,
      },
      check: { runs: checkRuns, medianMs: median(checkMs), configFile },
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export function dockerBenchTable(figures: DockerBenchFigures): string {
  const ratio = figures.dockerBench.medianMs / figures.check.medianMs;
  const policy = figures.check.configFile.split('/').slice(-2).join('/');
  const seconds = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  return [
    `| ${figures.containers} containers, whole process, same run | wall time (median) | ratio |`,
    '|---|---|---|',
    `| docker-bench-security \`-c container_runtime -t <the stage's label>\` (${figures.dockerBench.checks} checks, ${figures.dockerBench.warnings} WARN; ${figures.dockerBench.runs} runs) | ${seconds(figures.dockerBench.medianMs)} | baseline |`,
    `| \`docker-monitor check -f ${policy}\` (${figures.check.runs} runs) | ${seconds(figures.check.medianMs)} | ${Math.round(ratio)}× faster |`,
  ].join('\n');
}
