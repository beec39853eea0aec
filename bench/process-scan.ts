import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DockerEngine } from '../src/engine/docker-engine.js';
import { ProcProcessSource } from '../src/engine/proc-process-source.js';
import { TopProcessSource, type ProcessSource } from '../src/engine/process-source.js';
import { rootProcesses } from '../src/engine/processes.js';
import { DEFAULT_SETTINGS } from '../src/config/settings.js';
import type { ContainerInspect } from '../src/engine/types.js';
import { median, repeat } from './stats.js';

export interface ScanFigures {
  containers: number;
  /** Root processes found in all containers: every method must find the same number. */
  rootProcesses: number;
  /** Wall time of one pass over every container, median of the runs, and every run. */
  medianMs: number;
  samplesMs: number[];
  /**
   * CPU time (user + system) of this process in one pass, for the /proc ways: what the pass costs,
   * whatever else the machine runs (its wall time also counts the waits for a core of a shared machine).
   */
  medianCpuMs?: number;
  cpuSamplesMs?: number[];
}

export interface ProcessScanFigures {
  /** cnitch's method: one `top` after another. The baseline. */
  topSequential: ScanFigures;
  /** `top` with docker-monitor's bounded concurrency (the engine's default limit). */
  topConcurrent: ScanFigures & { concurrency: number };
  /** A fresh /proc source per pass: one scan of /proc, then each container's processes. */
  proc: ScanFigures;
  /** One /proc source for every pass, told to forget between passes as each refresh does: a scan with nothing new. */
  procSteady: ScanFigures;
  /** The baseline build's /proc source, fresh per pass (with --baseline-cli): the full pass the steady scan replaces. */
  procBaseline?: ScanFigures;
}

type ProcSourceClass = new () => ProcessSource;

async function countRoot(source: ProcessSource, containers: readonly ContainerInspect[]): Promise<number> {
  const lists = await Promise.all(containers.map((container) => source.processes(container)));
  return lists.reduce((sum, list) => sum + rootProcesses(list).length, 0);
}

async function figures(containers: readonly ContainerInspect[], runs: number, pass: () => Promise<number>): Promise<ScanFigures> {
  let root = 0;
  const samplesMs = await repeat(runs, async () => {
    root = await pass();
  });
  return { containers: containers.length, rootProcesses: root, medianMs: median(samplesMs), samplesMs };
}

/** The /proc source of the build whose CLI is `cli` (tsc output: dist/cli.js beside dist/engine/). */
async function baselineProcSource(cli: string): Promise<ProcSourceClass> {
  const module = (await import(pathToFileURL(join(dirname(cli), 'engine/proc-process-source.js')).href)) as {
    ProcProcessSource: ProcSourceClass;
  };
  return module.ProcProcessSource;
}

/**
 * The root-process scan over `containers` each way, each `runs` times; the /proc passes three times as
 * often (they take milliseconds, so a median of more runs is steadier), alternating between the ways so a
 * burst of load on a shared machine falls on all of them.
 */
export async function measureProcessScan(
  host: string,
  containers: readonly ContainerInspect[],
  runs: number,
  baselineCli?: string,
): Promise<ProcessScanFigures> {
  const concurrency = DEFAULT_SETTINGS.dockerConcurrency;
  const top = new TopProcessSource(new DockerEngine({ host, concurrency, timeoutMs: 30_000 }));
  const topSequential = await figures(containers, runs, async () => {
    let root = 0;
    for (const container of containers) root += rootProcesses(await top.processes(container)).length;
    return root;
  });
  const topConcurrent = await figures(containers, runs, () => countRoot(top, containers));
  const Baseline = baselineCli === undefined ? undefined : await baselineProcSource(baselineCli);
  const steady = new ProcProcessSource();
  await countRoot(steady, containers);
  type ProcWay = 'proc' | 'procSteady' | 'procBaseline';
  const passes: (readonly [ProcWay, () => Promise<number>])[] = [
    ['proc', () => countRoot(new ProcProcessSource(), containers)],
    [
      'procSteady',
      () => {
        steady.forget();
        return countRoot(steady, containers);
      },
    ],
    ...(Baseline === undefined ? [] : [['procBaseline', () => countRoot(new Baseline(), containers)] as const]),
  ];
  const procFigures: Partial<Record<ProcWay, ScanFigures>> = {};
  for (let round = 0; round < runs * 3; round += 1) {
    for (const [name, pass] of passes) {
      const cpuBefore = process.cpuUsage();
      const run = await figures(containers, 1, pass);
      const cpu = process.cpuUsage(cpuBefore);
      const before = procFigures[name];
      const samplesMs = [...(before?.samplesMs ?? []), ...run.samplesMs];
      const cpuSamplesMs = [...(before?.cpuSamplesMs ?? []), (cpu.user + cpu.system) / 1000];
      procFigures[name] = { ...run, medianMs: median(samplesMs), samplesMs, medianCpuMs: median(cpuSamplesMs), cpuSamplesMs };
    }
  }
  const { proc, procSteady, procBaseline } = procFigures;
  if (proc === undefined || procSteady === undefined) throw new Error('--runs must be at least 1');
  const found = [topSequential, topConcurrent, proc, procSteady, ...(procBaseline === undefined ? [] : [procBaseline])];
  if (new Set(found.map((scan) => scan.rootProcesses)).size !== 1)
    throw new Error(`the methods disagree on root processes: ${found.map((scan) => scan.rootProcesses).join(', ')}`);
  return {
    topSequential,
    topConcurrent: { ...topConcurrent, concurrency },
    proc,
    procSteady,
    ...(procBaseline === undefined ? {} : { procBaseline }),
  };
}
