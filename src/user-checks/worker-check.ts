/**
 * A user's check runs in a worker thread of its own (check-worker.ts), so that a busy loop, a crash or a
 * `process.exit` in its code costs that check's runs an `error` and nothing else. This is the exporter's
 * side: it starts the worker, builds the CheckInstance the chain runs from the class's static fields,
 * sends each run's view and answers the view's accessors from the real one. When a run has not been
 * answered by the check's timeout plus GRACE_MS and the worker does not answer a ping either (a busy
 * loop), the worker is stopped and a new one started for later runs, with a backoff while it keeps failing. The worker is no sandbox: it contains hangs and crashes, not a
 * hostile author (the check still runs with the exporter's privileges, in its process).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, errorMessage } from '../errors.js';
import type { IniSection } from '../ini/ini-file.js';
import type { Logger } from '../log.js';
import { instantiateCheck, locateUserModule, withImportDeadline } from '../policy/check-loader.js';
import type { CheckClass } from '../policy/policy-check.js';
import type { CheckContext, CheckInstance, CheckOutcome, ContainerView, HostView } from '../policy/types.js';
import { formatSize, parseSize } from '../ini/values.js';
import { CarriedSamples, carriedMetric } from './carried-samples.js';
import { endGroup } from './process-group.js';
import type { FromWorker, ToWorker, WorkerBounds, WorkerStart } from './protocol.js';

/** How long past its timeout a run may take before its worker is stopped. */
export const GRACE_MS = 1_000;
/** How long a worker past a run's deadline has to show its event loop is free. */
export const PING_MS = 500;
/** Runs a responsive worker may leave unsettled past their deadline before it is replaced (each holds memory there). */
const MAX_ABANDONED_RUNS = 1_000;
/** Longest wait before a worker that keeps failing is started again. */
export const MAX_RESTART_DELAY_MS = 30_000;

/** The worker's module beside this one: .js once built, .ts when run from the sources. */
const WORKER_URL = new URL(`./check-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** A check's heap, unless its section's `memory_limit` says otherwise. */
export const DEFAULT_MEMORY_LIMIT = 256 * 1024 ** 2;
/** What a check may write to stdout and stderr while its runs are in flight, unless `output_limit` says otherwise. */
export const DEFAULT_OUTPUT_LIMIT = 1024 ** 2;
/** Lines of a check's output logged per stretch of runs; the rest is counted against its bound only. */
const LOGGED_LINES = 20;
/** Characters of one output line that are logged. */
const LOGGED_LINE_CHARS = 500;

function newWorker(workerData: WorkerStart, bounds: WorkerBounds): Worker {
  // Its stdout and stderr come as messages (check-worker.ts), never to the command's own output.
  const options = { workerData, resourceLimits: { maxOldGenerationSizeMb: bounds.memoryMb } };
  if (WORKER_URL.pathname.endsWith('.js')) return new Worker(WORKER_URL, options);
  // From the sources, as the tests run them: a worker does not inherit tsx's hooks, it registers them first.
  const [esm, cjs, url] = [import.meta.resolve('tsx/esm/api'), import.meta.resolve('tsx/cjs/api'), WORKER_URL.href].map((text) =>
    JSON.stringify(text),
  );
  const code = `Promise.all([import(${esm}), import(${cjs})]).then(([esm, cjs]) => { esm.register(); cjs.register(); return import(${url}); })`;
  return new Worker(code, { ...options, eval: true });
}

/** No wait for the first restart after a failure; then 0.5 s, 1 s, 2 s… up to MAX_RESTART_DELAY_MS. */
export function restartDelay(failures: number): number {
  return failures <= 1 ? 0 : Math.min(500 * 2 ** (failures - 2), MAX_RESTART_DELAY_MS);
}

type Ready = Extract<FromWorker, { type: 'ready' }>;

interface Run {
  target: ContainerView | HostView;
  resolve: (outcome: CheckOutcome) => void;
  reject: (error: Error) => void;
}

class CheckWorker {
  private worker: Worker | undefined;
  /** Settles when the current worker has loaded the module and created the check. */
  private ready: Promise<Ready> | undefined;
  private readonly runs = new Map<number, Run>();
  private lastRun = 0;
  /** Stops in a row, without a run answered in between. */
  private failures = 0;
  private restartAt = 0;
  /** Runs past their deadline that the current worker, responsive otherwise, never settled. */
  private abandoned = 0;
  private readonly pings = new Map<number, () => void>();
  private lastPing = 0;
  /** Process groups the current worker's runs started and that have not ended. */
  private readonly groups = new Set<number>();
  /** Output bytes and logged lines since the worker last had no run in flight. */
  private outputBytes = 0;
  private loggedLines = 0;
  /** The unfinished last line of each stream. */
  private readonly partial = { stdout: '', stderr: '' };
  private closed = false;
  /** Set once the check exists: its class name, scope and timeout. */
  check: Pick<CheckInstance, 'name' | 'scope' | 'timeoutMs'> | undefined;

  constructor(
    private readonly start: WorkerStart,
    private readonly path: string,
    private readonly bounds: WorkerBounds,
    private readonly logger: Logger | undefined,
  ) {}

  /** Starts a worker; settles when its check is ready, or with why it is not (the worker then stopped). */
  launch(): Promise<Ready> {
    const worker = newWorker(this.start, this.bounds);
    this.worker = worker;
    let started = false;
    const ready = new Promise<Ready>((resolve, reject) => {
      // Before it is ready, a worker that fails only fails its start; after, its runs.
      const failed = (why: string): void => (started ? this.lost(worker, why) : reject(new Error(why)));
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          started = true;
          resolve(message);
        } else if (message.type === 'failed') reject(Object.assign(new Error(message.message), { location: message.location }));
        else if (message.type === 'crash') failed(`uncaught exception: ${message.message}`);
        else this.received(message, worker);
      });
      worker.on('error', (error) =>
        failed(
          (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `reached its memory limit (memory_limit ${formatSize(this.bounds.memoryMb * 1024 ** 2)})`
            : `uncaught exception: ${errorMessage(error)}`,
        ),
      );
      worker.on('exit', (code) => failed(`its worker thread exited with code ${code}`));
    });
    // `check` exits when its report is out, `serve` when it is stopped: an idle worker holds neither up.
    // (After the listeners: adding a 'message' listener refs the worker's port again.)
    worker.unref();
    this.ready = withImportDeadline(ready, this.path).catch((error: unknown) => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.ready = undefined;
      }
      void worker.terminate();
      throw error;
    });
    return this.ready;
  }

  private received(message: FromWorker, worker: Worker): void {
    if (worker !== this.worker) return;
    switch (message.type) {
      case 'result': {
        const run = this.settled(message.runId);
        if (run === undefined) return;
        const { data: _data, ...outcome } = message.outcome;
        run.resolve(message.samples === undefined ? outcome : { ...outcome, data: new CarriedSamples(message.samples) });
        break;
      }
      case 'error':
        this.settled(message.runId)?.reject(new Error(message.message));
        break;
      case 'call':
        this.answer(message, worker);
        break;
      case 'pong':
        this.pings.get(message.pingId)?.();
        break;
      case 'output':
        this.output(worker, message.stream, message.text);
        break;
      case 'spawned':
        this.groups.add(message.pid);
        break;
      case 'reaped':
        this.groups.delete(message.pid);
        break;
      case 'rejection':
        // It cannot be told which run left it: every run in flight in this worker counts it.
        for (const runId of [...this.runs.keys()]) this.settled(runId)?.reject(new Error(`unhandled rejection: ${message.message}`));
        break;
    }
  }

  /**
   * Logs the lines a worker writes, with the check's name, and holds it to its output bound: past it,
   * the runs in flight are errors and the worker is replaced (its output would go on filling memory).
   */
  private output(worker: Worker, stream: 'stdout' | 'stderr', text: string): void {
    this.outputBytes += Buffer.byteLength(text);
    if (this.outputBytes > this.bounds.outputBytes) {
      this.lost(worker, `wrote more than ${formatSize(this.bounds.outputBytes)} to stdout and stderr (output_limit)`);
      return;
    }
    const lines = (this.partial[stream] + text).split('\n');
    let rest = lines.pop() ?? '';
    if (rest.length > LOGGED_LINE_CHARS) {
      lines.push(rest);
      rest = '';
    }
    this.partial[stream] = rest;
    for (const line of lines) this.logOutput(stream, line);
  }

  private logOutput(stream: 'stdout' | 'stderr', line: string): void {
    this.loggedLines += 1;
    if (this.loggedLines > LOGGED_LINES + 1) return;
    const fields = { check: this.check?.name, stream };
    if (this.loggedLines === LOGGED_LINES + 1) this.logger?.info(fields, "user check's further output is not logged until its runs finish");
    else this.logger?.info({ ...fields, line: line.slice(0, LOGGED_LINE_CHARS) }, "user check's output");
  }

  /** Takes a run out of the ones in flight: the worker answered, so it works. */
  private settled(runId: number): Run | undefined {
    const run = this.runs.get(runId);
    this.runs.delete(runId);
    if (this.runs.size === 0) {
      this.outputBytes = 0;
      this.loggedLines = 0;
    }
    if (run !== undefined && this.failures > 0) {
      this.failures = 0;
      this.logger?.info({ check: this.check?.name }, "user check's worker thread works again");
    }
    return run;
  }

  private answer(message: Extract<FromWorker, { type: 'call' }>, worker: Worker): void {
    const run = this.runs.get(message.runId);
    const reply = (body: { ok: true; value: unknown } | { ok: false; message: string }): void => {
      if (worker !== this.worker) return;
      try {
        worker.postMessage({ type: 'reply', callId: message.callId, ...body } satisfies ToWorker);
      } catch (error) {
        worker.postMessage({ type: 'reply', callId: message.callId, ok: false, message: errorMessage(error) } satisfies ToWorker);
      }
    };
    const method = (run?.target as Record<string, unknown> | undefined)?.[message.method];
    if (typeof method !== 'function') {
      reply({ ok: false, message: run === undefined ? 'the run has ended' : `the view has no ${message.method}()` });
      return;
    }
    Promise.resolve()
      .then(() => (method as (...args: unknown[]) => unknown).apply(run?.target, message.args))
      .then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, message: errorMessage(error) }),
      );
  }

  /** Whether the worker's event loop answers within PING_MS. */
  private responsive(worker: Worker): Promise<boolean> {
    const pingId = ++this.lastPing;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PING_MS);
      this.pings.set(pingId, () => {
        clearTimeout(timer);
        resolve(true);
      });
      worker.postMessage({ type: 'ping', pingId } satisfies ToWorker);
    }).finally(() => this.pings.delete(pingId));
  }

  /**
   * A run past its timeout and the grace: a worker stuck in a busy loop (no answer to a ping) is stopped.
   * One that still answers keeps its other runs; this run is given up, as a check in the exporter's own
   * thread would be, until too many such runs pile up in it.
   */
  private async overdue(runId: number, worker: Worker, timeoutMs: number): Promise<void> {
    const alive = await this.responsive(worker);
    const run = this.runs.get(runId);
    if (run === undefined || worker !== this.worker) return;
    if (!alive) {
      this.lost(worker, `a run did not finish within ${timeoutMs} ms and its thread did not answer`);
      return;
    }
    this.runs.delete(runId);
    run.reject(new Error(`timed out after ${timeoutMs} ms`));
    this.abandoned += 1;
    if (this.abandoned > MAX_ABANDONED_RUNS) this.lost(worker, `${this.abandoned} runs never finished`);
  }

  /** The worker stopped or must stop: its runs in flight are errors, and a new one starts after a backoff. */
  private lost(worker: Worker, why: string): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    this.ready = undefined;
    this.abandoned = 0;
    this.outputBytes = 0;
    this.loggedLines = 0;
    void worker.terminate();
    // The processes its runs started go with it.
    for (const pid of this.groups) endGroup(pid);
    this.groups.clear();
    for (const run of this.runs.values()) run.reject(new Error(`${why}; its worker thread was stopped and is restarted`));
    this.runs.clear();
    this.failures += 1;
    const delay = restartDelay(this.failures);
    this.restartAt = Date.now() + delay;
    const fields = { check: this.check?.name, reason: why, failures: this.failures, restartInMs: delay };
    if (this.failures === 1) this.logger?.warn(fields, "user check's worker thread stopped; starting a new one");
    else this.logger?.debug(fields, "user check's worker thread stopped again");
    // At once after a first stop, so the runs that come next wait for the new thread instead of failing.
    if (delay === 0) this.relaunch();
    else setTimeout(() => this.relaunch(), delay).unref();
  }

  /** Stops the worker for good (a reload replaced the check), and the processes its runs started. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    for (const run of this.runs.values()) run.reject(new Error('the check was replaced by a reload'));
    this.runs.clear();
    for (const pid of this.groups) endGroup(pid);
    this.groups.clear();
    await worker?.terminate();
  }

  private relaunch(): void {
    if (this.worker !== undefined || this.closed) return;
    this.launch().catch((error: unknown) => {
      // Its module no longer loads (changed, removed): try again later, as after any other stop.
      this.failures += 1;
      const delay = restartDelay(this.failures);
      this.restartAt = Date.now() + delay;
      this.logger?.debug(
        { check: this.check?.name, err: errorMessage(error), restartInMs: delay },
        "user check's worker thread could not be started",
      );
      setTimeout(() => this.relaunch(), delay).unref();
    });
  }

  async run(target: ContainerView | HostView): Promise<CheckOutcome> {
    if (this.ready === undefined) {
      const seconds = Math.max(0, Math.ceil((this.restartAt - Date.now()) / 1000));
      throw new Error(`its worker thread stopped ${this.failures} times in a row; a new one starts in ${seconds} s`);
    }
    await this.ready;
    const worker = this.worker;
    if (worker === undefined) throw new Error('its worker thread stopped');
    const timeoutMs = this.check?.timeoutMs ?? 0;
    const data: Record<string, unknown> = {};
    const methods: string[] = [];
    const refused: Record<string, string> = {};
    for (const key of Object.keys(target)) {
      if (key === 'signal') continue;
      let value: unknown;
      try {
        value = (target as unknown as Record<string, unknown>)[key];
      } catch (error) {
        // A field the view gives only to checks that declared it: it throws in the worker too, when read.
        refused[key] = errorMessage(error);
        continue;
      }
      if (typeof value === 'function') methods.push(key);
      else data[key] = value;
    }
    const runId = ++this.lastRun;
    const abort = (): void => {
      if (this.runs.has(runId)) worker.postMessage({ type: 'abort', runId } satisfies ToWorker);
    };
    let deadline: NodeJS.Timeout | undefined;
    try {
      return await new Promise<CheckOutcome>((resolve, reject) => {
        this.runs.set(runId, { target, resolve, reject });
        target.signal.addEventListener('abort', abort, { once: true });
        // The hard deadline: by now the run ignored its signal, or its thread is stuck (see overdue).
        deadline = setTimeout(() => {
          if (this.runs.has(runId)) void this.overdue(runId, worker, timeoutMs);
        }, timeoutMs + GRACE_MS);
        try {
          worker.postMessage({ type: 'run', runId, data, methods, refused } satisfies ToWorker);
        } catch (error) {
          this.runs.delete(runId);
          reject(new Error(`its view could not be passed to its worker thread: ${errorMessage(error)}`));
        }
      });
    } finally {
      clearTimeout(deadline);
      target.signal.removeEventListener('abort', abort);
    }
  }
}

/** The exporter's side of a class: the name and static fields the worker sent, runs sent to the worker. */
function standIn(ready: Ready, worker: CheckWorker): CheckClass {
  const standIn = class {
    check(target: ContainerView | HostView): Promise<CheckOutcome> {
      return worker.run(target);
    }
  };
  Object.defineProperty(standIn, 'name', { value: ready.name });
  Object.assign(standIn, ready.statics, { metrics: ready.metrics.map(carriedMetric) });
  return standIn;
}

/**
 * Loads a user's check section (`[<module>.<Export>]`) into a worker thread of its own. A module that
 * does not load within 10 s (even one stuck in a busy loop) or a check that cannot be
 * created is a ConfigError naming the section.
 */
export async function loadWorkerCheck(section: IniSection, file: string, context: CheckContext): Promise<CheckInstance> {
  const location = { file, line: section.line, section: section.name };
  const { path } = locateUserModule(section, file);
  const { bounds, rest } = boundsOf(section, file);
  const worker = new CheckWorker({ section: rest, file }, path, bounds, context.logger);
  let ready: Ready;
  try {
    ready = await worker.launch();
  } catch (error) {
    const at = (error as { location?: ConfigError['location'] }).location;
    if (at !== undefined) throw new ConfigError(at, errorMessage(error).slice(`${new ConfigError(at, '').message}`.length));
    throw new ConfigError(location, `module ${path} could not be loaded: ${errorMessage(error).split('\n')[0]}`);
  }
  const check = instantiateCheck(standIn(ready, worker), rest, file, context);
  worker.check = check;
  return { ...check, close: () => worker.close() };
}

/** The section's `memory_limit` and `output_limit` (the exporter's, not the check's options), and its other keys. */
function boundsOf(section: IniSection, file: string): { bounds: WorkerBounds; rest: IniSection } {
  const size = (key: string, fallback: number, min: number, max: number): number => {
    const value = section.values[key];
    if (value === undefined) return fallback;
    try {
      return parseSize(value, min, max);
    } catch (error) {
      throw new ConfigError({ file, line: section.keyLines[key], section: section.name, key }, errorMessage(error));
    }
  };
  const memory = size('memory_limit', DEFAULT_MEMORY_LIMIT, 16 * 1024 ** 2, 64 * 1024 ** 3);
  const output = size('output_limit', DEFAULT_OUTPUT_LIMIT, 1024, 1024 ** 3);
  const { memory_limit: _memory, output_limit: _output, ...values } = section.values;
  return { bounds: { memoryMb: Math.ceil(memory / 1024 ** 2), outputBytes: output }, rest: { ...section, values } };
}
