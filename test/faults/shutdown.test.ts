/**
 * Shutdown and start-up in every engine state: SIGTERM and SIGINT end `serve` with exit 0 whether the
 * engine answers, stalls, is missing or refuses the user; an engine that cannot be reached is one error
 * line at the default level, with a hint; `/-/ready` waits for the engine. And the signal in the middle of
 * work, RUNS times for each state and signal: during an event flood, while a slow engine holds a refresh
 * open, and while a users' check is busy.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTestImage, requireEngine } from '../helpers/docker.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { scaled } from '../helpers/time-scale.js';
import { eventually, observe } from '../helpers/wait.js';
import { FaultRecord } from './fault-record.js';
import { FaultyEngine } from './faulty-engine.js';
import { Served } from './served.js';

const record = new FaultRecord('shutdown');
let fake: FaultyEngine;
let empty: string;
/** A real engine with one container, for the users' check to be busy on; started by the first test that needs it. */
const engine = new PrivateEngine('25stop');
let engineStarted: Promise<void> | undefined;

function realEngine(): Promise<void> {
  engineStarted ??= (async () => {
    await requireEngine();
    await ensureTestImage();
    await engine.start();
    await engine.loadTestImage();
    await engine.startContainer();
  })();
  return engineStarted;
}

before(async () => {
  fake = await FaultyEngine.start();
  empty = await mkdtemp(join(tmpdir(), 'dm-no-engine-'));
});
after(async () => {
  record.write();
  await fake?.close();
  if (engineStarted !== undefined) await engine.destroy();
  await rm(empty, { recursive: true, force: true });
});

/** The user `serve` runs as for the "denied" state: not root, so the socket's folder (mode 0700) is closed to it. */
const NOBODY = { uid: 65534, gid: 65534 };

interface EngineState {
  name: string;
  host: () => string;
  /** Sets the faulty engine up for this state. */
  stage?: () => void;
  user?: typeof NOBODY;
  /** The error line expected at the default level, or undefined when the engine answers. */
  error?: RegExp;
}

const STATES: EngineState[] = [
  { name: 'engine answering', host: () => fake.host, stage: () => fake.reset() },
  {
    name: 'engine stalled (answers nothing after its headers)',
    host: () => fake.host,
    stage: () => {
      fake.reset();
      for (const route of ['ping', 'containers', 'events', 'info', 'version', 'networks'] as const) fake.set(route, 'stall');
    },
    error: /cannot reach the Docker engine.*timed out/,
  },
  {
    name: 'socket missing',
    host: () => `unix://${empty}/docker.sock`,
    error: /cannot reach the Docker engine.*no socket at .*is the engine running/,
  },
  {
    name: 'socket denied to the user',
    host: () => fake.host,
    stage: () => fake.reset(),
    user: NOBODY,
    error: /cannot reach the Docker engine.*permission denied.*--group-add/,
  },
];

for (const state of STATES) {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} ends serve with exit 0: ${state.name}`, async () => {
      state.stage?.();
      const served = await Served.start(
        ['--docker.host', state.host(), '--docker.timeout', '1s', '--refresh', '30s'],
        { ...process.env },
        state.user,
      );
      // The first refresh has finished: the exporter is ready, or has logged why the engine cannot be reached.
      await eventually(
        () => served.get('/-/ready'),
        (ready) => (state.error === undefined ? ready.status === 200 : served.output.includes('cannot reach the Docker engine')),
        20_000,
        `the first refresh of ${state.name}`,
      );
      // Not a wait for a condition but a window to watch: event stream retries and the refreshes after them
      // must not log the outage again.
      if (state.error !== undefined) await observe(scaled(2_000));
      const ready = await served.get('/-/ready');
      const started = performance.now();
      const code = await served.stop(signal);
      const exitMs = performance.now() - started;
      assert.equal(code, 0, served.output);
      const errorLines = served.output.split('\n').filter((line) => /cannot reach the Docker engine/.test(line));
      if (state.error === undefined) {
        assert.equal(ready.status, 200, ready.body);
        assert.deepEqual(errorLines, []);
      } else {
        assert.equal(ready.status, 503);
        assert.match(ready.body, /Not ready: the engine has not been reached yet/);
        assert.equal(errorLines.length, 1, `one error line at the default level, got:\n${served.output}`);
        assert.match(errorLines[0] ?? '', state.error);
      }
      if (signal === 'SIGTERM') {
        record.add({
          fault: `${state.name}; then SIGTERM or SIGINT`,
          outcome: `${
            state.error === undefined
              ? 'ready'
              : `/-/ready 503, one error line: "${(errorLines[0] ?? '')
                  .replace(/^.*?ERROR: /, '')
                  .replace(/\/tmp\/dm-[\w-]+\//g, '/…/')
                  .replace(/ \{.*$/, '')}"`
          }; exit 0`,
          figures: `exit ${Math.round(exitMs)} ms after the signal`,
        });
      }
    });
  }
}

/** Signals sent in each state below, per signal; PARALLEL exporters at a time keep the run to a minute or two. */
const RUNS = 20;
const PARALLEL = 4;

interface BusyState {
  name: string;
  /** Starts one exporter in this state and resolves once the work is surely under way. */
  begin: (run: number) => Promise<{ served: Served; end: () => Promise<void> }>;
}

/** A faulty engine of its own per run, so that each run can tell when its exporter is at work. */
async function withFake(stage: (fake: FaultyEngine) => void, args: readonly string[], busy: (fake: FaultyEngine) => boolean, what: string) {
  const own = await FaultyEngine.start();
  stage(own);
  const served = await Served.start(['--docker.host', own.host, ...args]);
  await eventually(async () => busy(own), Boolean, 20_000, what);
  return { served, end: () => own.close() };
}

const BUSY_STATES: BusyState[] = [
  {
    // The faulty engine: a real engine on two shared cores starts a few containers a second, the fake one
    // sends thousands of events a second, so the signal surely lands among evaluations in flight.
    name: 'an event flood (thousands of start and exec_start events a second)',
    begin: () =>
      withFake(
        (own) => own.set('events', 'flood'),
        ['--refresh', '30s'],
        (own) => own.count('inspect') >= 200,
        'the flood to be evaluated',
      ),
  },
  {
    // The faulty engine: a real one cannot be made to answer slowly on demand. Its answers come after two
    // minutes, longer than the test waits for the exit: a shutdown that waits for the refresh fails. The
    // event stream opens at once, since its opening starts the first refresh.
    name: "a slow engine (a refresh's calls answered after 120 s) with a refresh in flight",
    begin: () =>
      withFake(
        (own) => {
          for (const route of ['containers', 'info', 'networks'] as const) own.set(route, { delayMs: 120_000 });
        },
        ['--refresh', '30s', '--docker.timeout', '180s'],
        (own) => own.count('containers') + own.count('info') >= 1,
        'a refresh to call the slow engine',
      ),
  },
  {
    name: "a users' check busy in a loop (timeout 60s) on a real engine",
    begin: async (run) => {
      await realEngine();
      const marker = join(empty, `busy-${run}-${Math.random().toString(16).slice(2)}`);
      const policy = new URL('fixtures/busy_until_stopped.ini', import.meta.url).pathname;
      const served = await Served.start(['--docker.host', engine.host, '-f', policy, '--refresh', '30s'], {
        ...process.env,
        DM_BUSY_MARKER: marker,
      });
      await eventually(async () => existsSync(marker), Boolean, 20_000, "the users' check to be running");
      return { served, end: () => rm(marker, { force: true }) };
    },
  },
];

/** Runs `task` for 0…count-1, at most `parallel` at a time. */
async function bounded<T>(count: number, parallel: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

for (const state of BUSY_STATES) {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} ends serve with exit 0 every time, ${RUNS} runs: ${state.name}`, async () => {
      const runs = await bounded(RUNS, PARALLEL, async (run) => {
        const { served, end } = await state.begin(run);
        const started = performance.now();
        try {
          const code = await served.stop(signal, scaled(20_000));
          return { code: String(code), ms: performance.now() - started, output: served.output };
        } catch (error) {
          return { code: 'hung', ms: performance.now() - started, output: String(error) };
        } finally {
          await end();
        }
      });
      const failed = runs.filter((one) => one.code !== '0');
      assert.deepEqual(
        failed.map((one) => one.code),
        [],
        `${failed.length} of ${RUNS} runs did not exit 0; the first one's output:\n${failed[0]?.output.slice(-3000)}`,
      );
      const slowest = Math.max(...runs.map((one) => one.ms));
      if (signal === 'SIGTERM') {
        record.add({
          fault: `SIGTERM or SIGINT during ${state.name}, ${RUNS} times each`,
          outcome: 'exit 0 every time',
          figures: `exit at most ${Math.round(slowest)} ms after SIGTERM`,
        });
      }
    });
  }
}
