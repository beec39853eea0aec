/**
 * The worker thread of one user's check: loads the module, creates the check with its section's options
 * and runs it on the views the exporter sends. The view's accessors (`image()`, `processes()`…) are calls
 * back to the exporter, which answers from its engine cache. See worker-check.ts for the exporter's side.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ChildProcess } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, errorMessage } from '../errors.js';
import { instantiateCheck, loadUserCheck } from '../policy/check-loader.js';
import { MAX_REASON_CHARS } from '../policy/chain.js';
import type { CheckClass } from '../policy/policy-check.js';
import type { CheckInstance, MetricSample } from '../policy/types.js';
import { ScanPool } from '../scanners/scan-pool.js';
import { CONTAINER_PLACEHOLDERS } from './carried-samples.js';
import { endGroup } from './process-group.js';
import type { FromWorker, SampleSets, ToWorker, WorkerStart } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('check-worker.ts runs as a worker thread');
const { section, file } = workerData as WorkerStart;

function post(message: FromWorker): void {
  port?.postMessage(message);
}

/** errorMessage for anything a check may throw, even a value whose toString throws. */
function describe(error: unknown): string {
  try {
    return errorMessage(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

// The check's output goes to the exporter, which logs it with the check's name and holds it to a bound; it
// never reaches the command's own output (a JSON report). (Worker's own `stdout: true` option would keep
// an idle worker from letting the process exit.)
for (const stream of ['stdout', 'stderr'] as const) {
  process[stream].write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    post({ type: 'output', stream, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString() });
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
}

// Node would end the worker; the runs in flight count as errors instead (see worker-check.ts).
process.on('unhandledRejection', (reason) => post({ type: 'rejection', message: describe(reason) }));
// Node's own ending of the worker would call process.exit, which users' modules may not (check-loader.ts):
// the exporter stops this worker instead.
process.on('uncaughtException', (error) => post({ type: 'crash', message: describe(error) }));

/** The class's static fields that can be copied (scope, severity, options, inputs…), subclasses first. */
function staticsOf(checkClass: CheckClass): Record<string, unknown> {
  const statics: Record<string, unknown> = {};
  for (
    let owner: object | null = checkClass;
    owner !== null && owner !== Function.prototype;
    owner = Object.getPrototypeOf(owner) as object | null
  ) {
    for (const key of Object.getOwnPropertyNames(owner)) {
      if (['length', 'name', 'prototype', 'metrics'].includes(key) || key in statics) continue;
      const value = (checkClass as unknown as Record<string, unknown>)[key];
      if (typeof value === 'function') continue;
      try {
        statics[key] = structuredClone(value);
      } catch {
        // Not data (a Symbol, an object holding functions): the exporter's side has no use for it.
      }
    }
  }
  return statics;
}

/** The check, created with its section's options; undefined when that failed (the exporter then stops this worker). */
async function created(): Promise<CheckInstance | undefined> {
  try {
    const checkClass = await loadUserCheck(section, file);
    const instance = instantiateCheck(checkClass, section, file, { scanPool: new ScanPool() });
    post({
      type: 'ready',
      name: checkClass.name,
      statics: staticsOf(checkClass),
      metrics: instance.metrics.map(({ name, help, labelNames }) => ({ name, help, labelNames: [...labelNames] })),
    });
    return instance;
  } catch (error) {
    post({ type: 'failed', message: describe(error), location: error instanceof ConfigError ? error.location : undefined });
    return undefined;
  }
}

/** The run a piece of the check's code works for, so the processes it starts are that run's. */
const currentRun = new AsyncLocalStorage<number>();
/** Process groups started by each run, by their leader's PID. */
const spawnedBy = new Map<number, Set<number>>();

/**
 * Every process a check starts (spawn, exec, execFile, fork all go through ChildProcess#spawn) leads a
 * process group of its own, so that it and whatever it starts in turn can be ended with the run. The
 * exporter hears of each group too, to end it if this worker is stopped first.
 */
const prototype = ChildProcess.prototype as unknown as { spawn(this: ChildProcess, options: object): unknown };
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its ChildProcess as `this`, below
const originalSpawn = prototype.spawn;
prototype.spawn = function spawnInOwnGroup(this: ChildProcess, options: object): unknown {
  const result = originalSpawn.call(this, { ...options, detached: true });
  const pid = this.pid;
  const runId = currentRun.getStore();
  if (pid !== undefined) {
    post({ type: 'spawned', pid });
    if (runId !== undefined) spawnedBy.get(runId)?.add(pid);
    this.once('exit', () => {
      // Whatever the leader left in its group goes with it.
      endGroup(pid);
      if (runId !== undefined) spawnedBy.get(runId)?.delete(pid);
      post({ type: 'reaped', pid });
    });
  }
  return result;
};

const check = await created();

const aborts = new Map<number, AbortController>();
const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let lastCall = 0;

function callBack(runId: number, method: string, args: unknown[]): Promise<unknown> {
  const callId = ++lastCall;
  return new Promise((resolve, reject) => {
    calls.set(callId, { resolve, reject });
    try {
      post({ type: 'call', runId, callId, method, args });
    } catch (error) {
      calls.delete(callId);
      reject(new Error(`${method}() got arguments that cannot be passed on: ${describe(error)}`));
    }
  });
}

/** What the check's metrics make of a result's data (see CONTAINER_PLACEHOLDERS). */
function samplesOf(check: CheckInstance, data: unknown): SampleSets | undefined {
  if (data === undefined || check.metrics.length === 0 || check.scope === 'host') return undefined;
  const sets: SampleSets = {};
  for (const metric of check.metrics) {
    try {
      sets[metric.name] = [...metric.samples(data as never, CONTAINER_PLACEHOLDERS)].map((sample: MetricSample) => ({
        labels: Object.fromEntries(Object.entries(sample.labels).map(([label, value]) => [label, String(value)])),
        value: Number(sample.value),
      }));
    } catch {
      // A samples function that throws gives no series for this result, as a result without data.
    }
  }
  return sets;
}

async function run(check: CheckInstance, { runId, data, methods, refused }: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const controller = new AbortController();
  aborts.set(runId, controller);
  const view: Record<string, unknown> = { ...data, signal: controller.signal };
  for (const method of methods) view[method] = (...args: unknown[]) => callBack(runId, method, args);
  for (const [field, why] of Object.entries(refused)) {
    Object.defineProperty(view, field, {
      enumerable: true,
      get() {
        throw new Error(why);
      },
    });
  }
  let reply: FromWorker;
  const spawned = new Set<number>();
  spawnedBy.set(runId, spawned);
  try {
    const outcome = await currentRun.run(runId, () => check.run(view as never));
    // Only what the exporter keeps crosses over. A slice would hold on to the whole string until the
    // result is sent (a run per container, each returning megabytes, fills the heap): a copy does not.
    if (outcome.reason !== undefined && outcome.reason.length > MAX_REASON_CHARS) {
      const kept = Buffer.from(outcome.reason.slice(0, MAX_REASON_CHARS - 50)).toString();
      outcome.reason = `${kept}… (${outcome.reason.length} characters, cut)`;
    }
    reply = { type: 'result', runId, outcome, samples: samplesOf(check, outcome.data) };
  } catch (error) {
    reply = { type: 'error', runId, message: describe(error) };
  }
  // A rejection the run left unhandled is reported at the end of this turn: before the result, so it is the run's.
  await new Promise((resolve) => setImmediate(resolve));
  aborts.delete(runId);
  spawnedBy.delete(runId);
  if (spawned.size > 0) {
    // A bound: what a run starts ends with it.
    for (const pid of spawned) endGroup(pid);
    if (reply.type === 'result') {
      reply = {
        type: 'error',
        runId,
        message: `left ${spawned.size} process${spawned.size === 1 ? '' : 'es'} running after its run; ended`,
      };
    }
  }
  try {
    post(reply);
  } catch (error) {
    post({ type: 'error', runId, message: `returned data that cannot leave its worker thread: ${describe(error)}` });
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'run':
      if (check !== undefined) void run(check, message);
      break;
    case 'abort':
      aborts.get(message.runId)?.abort();
      break;
    case 'ping':
      post({ type: 'pong', pingId: message.pingId });
      break;
    case 'reply': {
      const call = calls.get(message.callId);
      calls.delete(message.callId);
      if (message.ok) call?.resolve(message.value);
      else call?.reject(new Error(message.message));
      break;
    }
  }
});
