/**
 * The messages between the exporter and the worker thread of one user's check (worker-check.ts on the
 * exporter's side, check-worker.ts in the worker). Everything in them is structured-cloned.
 */
import type { IniSection } from '../ini/ini-file.js';
import type { ConfigLocation } from '../errors.js';
import type { CheckOutcome, MetricSample } from '../policy/types.js';

/** What the worker is started with: the section that names the check, and its file. */
export interface WorkerStart {
  section: IniSection;
  file: string;
}

/** What one user's check may use: its section's `memory_limit` and `output_limit`, or the defaults. */
export interface WorkerBounds {
  /** The worker's heap (V8's old generation), in MiB. */
  memoryMb: number;
  /** Bytes written to stdout and stderr while its runs are in flight; past them, the runs are errors. */
  outputBytes: number;
}

/** A check metric without its `samples` function, which stays in the worker. */
export interface MetricDescriptor {
  name: string;
  help: string;
  labelNames: string[];
}

/** Samples a run's data gave, by metric name. */
export type SampleSets = Record<string, MetricSample[]>;

export type FromWorker =
  /** The module loaded and the check was created: the class's name and static fields. */
  | { type: 'ready'; name: string; statics: Record<string, unknown>; metrics: MetricDescriptor[] }
  | { type: 'failed'; message: string; location?: ConfigLocation | undefined }
  | { type: 'result'; runId: number; outcome: CheckOutcome; samples?: SampleSets | undefined }
  | { type: 'error'; runId: number; message: string }
  /** A view accessor (`image()`, `processes()`…) the check called: answered by the real view. */
  | { type: 'call'; runId: number; callId: number; method: string; args: unknown[] }
  | { type: 'rejection'; message: string }
  /** An exception nothing caught (thrown from a timer, say): the worker is stopped and replaced. */
  | { type: 'crash'; message: string }
  | { type: 'pong'; pingId: number }
  /** A process group a run started (its leader's PID), ended with the run, or with the worker if that stops first. */
  | { type: 'spawned'; pid: number }
  | { type: 'reaped'; pid: number }
  /** What the check wrote to process.stdout or process.stderr (console.log included). */
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string };

export type ToWorker =
  /**
   * `data`: the view's plain fields (id, name, inspect); `methods`: its accessors, called back;
   * `refused`: fields the view would not give this check (inputs it did not declare), with why.
   */
  | { type: 'run'; runId: number; data: Record<string, unknown>; methods: string[]; refused: Record<string, string> }
  | { type: 'abort'; runId: number }
  /** Is the thread's event loop free? A busy loop never answers. */
  | { type: 'ping'; pingId: number }
  | { type: 'reply'; callId: number; ok: true; value: unknown }
  | { type: 'reply'; callId: number; ok: false; message: string };
