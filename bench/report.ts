import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { engineCallTotal, type EvaluationFigures } from './evaluation.js';
import type { MemoryBreakdown } from './memory-breakdown.js';
import type { ProcessScanFigures, ScanFigures } from './process-scan.js';
import type { ModeFigures } from './scrape-modes.js';
import { round } from './stats.js';

export interface SizeFigures {
  /** Benchmark containers running (other containers on the engine are evaluated too and counted in the evaluations). */
  containers: number;
  evaluations: EvaluationFigures[];
  processScan: ProcessScanFigures;
  /** The exporter in each refresh mode with each policy (bench/scrape-modes.ts). */
  modes: ModeFigures[];
  /** With examples/cis.ini: what the exposition, the reports and the runtime retain. */
  memoryBreakdown?: MemoryBreakdown;
  /** dockerd's CPU milliseconds per wall second while nothing of the benchmark runs. */
  dockerdIdleRate: number;
  notes: string[];
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  docker: string;
  node: string;
}

export async function describeMachine(): Promise<Machine> {
  const docker = await promisify(execFile)('docker', [
    'info',
    '--format',
    '{{.ServerVersion}}, cgroup v{{.CgroupVersion}}, {{.CgroupDriver}} driver, {{.Driver}} storage',
  ]);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    kernel: (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim(),
    docker: docker.stdout.trim(),
    node: process.version,
  };
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export const ms = (value: number): string =>
  value >= 10_000 ? `${round(value / 1000, 1)} s` : value >= 100 ? `${Math.round(value)} ms` : `${round(value, value >= 10 ? 1 : 2)} ms`;
export const mb = (bytes: number): string => `${Math.round(bytes / 1e6)} MB`;
const faster = (baseline: number, value: number): string => `${round(baseline / value, baseline / value >= 10 ? 0 : 1)}× faster`;
export const policyName = (file: string): string => (file.startsWith('<') ? 'default policy' : (file.split('/').pop() ?? file));

/** The figures of one fleet size as a Markdown table, with ratios against the baselines of the same run. */
export function sizeTable(figures: SizeFigures): string {
  const rows: string[][] = [];
  const scan = figures.processScan;
  for (const evaluation of figures.evaluations) {
    const name = policyName(evaluation.policy);
    rows.push([
      `full evaluation, ${name} (${evaluation.checks} checks, ${evaluation.containers} containers), cold`,
      `${ms(evaluation.coldMs)}, ${engineCallTotal(evaluation.coldEngineCalls)} engine calls`,
      '',
      '',
    ]);
    rows.push([
      `full evaluation, ${name}, warm (caches filled)`,
      `${ms(evaluation.warmMs)}, ${engineCallTotal(evaluation.warmEngineCalls)} engine calls`,
      '',
      '',
    ]);
  }
  const baseline = scan.topSequential.medianMs;
  rows.push([`root-process scan, \`top\` one container after another (cnitch)`, ms(baseline), 'baseline', '1×']);
  rows.push([
    `root-process scan, \`top\` ${scan.topConcurrent.concurrency} at a time`,
    ms(scan.topConcurrent.medianMs),
    ms(baseline),
    faster(baseline, scan.topConcurrent.medianMs),
  ]);
  rows.push([`root-process scan, /proc`, ms(scan.proc.medianMs), ms(baseline), faster(baseline, scan.proc.medianMs)]);
  const fullPass = scan.procBaseline ?? scan.proc;
  const against = scan.procBaseline === undefined ? "this build's full /proc pass" : "the baseline build's full /proc pass";
  const wallAndCpu = (figures: ScanFigures): string => `${ms(figures.medianMs)} wall, ${ms(figures.medianCpuMs ?? Number.NaN)} CPU`;
  rows.push([
    `root-process scan, /proc, a scan with nothing new (one source, forgotten between passes) against ${against}`,
    wallAndCpu(scan.procSteady),
    wallAndCpu(fullPass),
    `${Math.round((100 * (scan.procSteady.medianCpuMs ?? Number.NaN)) / (fullPass.medianCpuMs ?? Number.NaN))} % of the CPU time`,
  ]);
  const lines = [
    `| ${figures.containers} containers | measured | baseline (same run) | ratio |`,
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  return [...lines, ...figures.notes.map((note) => `\n_${note}_`)].join('\n');
}

/** The targets, judged on the figures for 200 containers. */
export function judgeTargets(figures: SizeFigures): Target[] {
  const targets: Target[] = [];
  const cis = figures.evaluations.find((evaluation) => evaluation.policy.endsWith('cis.ini'));
  if (cis !== undefined)
    targets.push({
      name: 'full evaluation of examples/cis.ini (cold)',
      target: '≤ 1 s',
      measured: ms(cis.coldMs),
      met: cis.coldMs <= 1000,
    });
  const speedup = figures.processScan.topSequential.medianMs / figures.processScan.proc.medianMs;
  targets.push({
    name: 'root-process scan, /proc against sequential top',
    target: '≥ 20× faster',
    measured: `${round(speedup, 0)}×`,
    met: speedup >= 20,
  });
  for (const exporter of figures.modes.filter((mode) => mode.refresh !== 'scrape' && !mode.baseline)) {
    const name = policyName(exporter.policy);
    targets.push({
      name: `/metrics p99, cached mode, ${name}`,
      target: '≤ 20 ms',
      measured: ms(exporter.plain.p99Ms),
      met: exporter.plain.p99Ms <= 20,
    });
    targets.push({
      name: `event to metric p99, cached mode, ${name}`,
      target: '≤ 1 s',
      measured: ms(exporter.events.p99Ms),
      met: exporter.events.p99Ms <= 1000 && exporter.events.missed === 0,
    });
    targets.push({
      name: `resident memory, cached mode, ${name}`,
      target: '≤ 150 MB',
      measured: mb(exporter.memory.rssBytes),
      met: exporter.memory.rssBytes <= 150e6,
    });
  }
  return targets;
}

export function targetTable(targets: readonly Target[], heading = 'target (200 containers)'): string {
  return [
    `| ${heading} | goal | measured | met |`,
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`),
  ].join('\n');
}
