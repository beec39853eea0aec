/**
 * Shutdown and start-up in every engine state: SIGTERM and SIGINT end `serve` with exit 0 whether the
 * engine answers, stalls, is missing or refuses the user; an engine that cannot be reached is one error
 * line at the default level, with a hint; `/-/ready` waits for the engine.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FaultRecord } from './fault-record.js';
import { FakeEngine } from './fake-engine.js';
import { Served } from './served.js';

const record = new FaultRecord('shutdown');
let fake: FakeEngine;
let empty: string;

before(async () => {
  fake = await FakeEngine.start();
  empty = await mkdtemp(join(tmpdir(), 'dm-no-engine-'));
});
after(async () => {
  record.write();
  await fake?.close();
  await rm(empty, { recursive: true, force: true });
});

/** The user `serve` runs as for the "denied" state: not root, so the socket's folder (mode 0700) is closed to it. */
const NOBODY = { uid: 65534, gid: 65534 };

interface EngineState {
  name: string;
  host: () => string;
  /** Sets the fake engine up for this state. */
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
      // Long enough for the first refresh, a few event stream retries and refreshes after them.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
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
