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
}

export interface ProcessScanFigures {
  /** cnitch's method: one `top` after another. The baseline. */
  topSequential: ScanFigures;
  /** `top` with docker-monitor's bounded concurrency (the engine's default limit). */
  topConcurrent: ScanFigures & { concurrency: number };
  /** A fresh /proc source per pass: one scan of /proc, then each container's status and cmdline files. */
  proc: ScanFigures;
}

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

/** The root-process scan over `containers` three ways, each `runs` times. */
export async function measureProcessScan(host: string, containers: readonly ContainerInspect[], runs: number): Promise<ProcessScanFigures> {
  const concurrency = DEFAULT_SETTINGS.dockerConcurrency;
  const top = new TopProcessSource(new DockerEngine({ host, concurrency, timeoutMs: 30_000 }));
  const topSequential = await figures(containers, runs, async () => {
    let root = 0;
    for (const container of containers) root += rootProcesses(await top.processes(container)).length;
    return root;
  });
  const topConcurrent = await figures(containers, runs, () => countRoot(top, containers));
  const proc = await figures(containers, runs, () => countRoot(new ProcProcessSource(), containers));
  const counts = new Set([topSequential.rootProcesses, topConcurrent.rootProcesses, proc.rootProcesses]);
  if (counts.size !== 1)
    throw new Error(`the methods disagree on root processes: top ${topSequential.rootProcesses}, /proc ${proc.rootProcesses}`);
  return { topSequential, topConcurrent: { ...topConcurrent, concurrency }, proc };
}
