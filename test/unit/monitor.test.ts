/**
 * The Monitor's race and fault handling, over a fake engine that answers with JSON captured from a real
 * one (test/helpers/fake-engine.ts) and lets a test hold, fail or reorder calls and drive the event
 * stream, none of which a real engine does on cue. The Evaluator, EngineCache, checks and ReportQueue
 * are the real ones.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { DEFAULT_POLICY_INI, DEFAULT_POLICY_NAME } from '../../src/config/default-policy.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { Evaluator } from '../../src/core/evaluator.js';
import { createEventCounters, type EventCounters } from '../../src/event-counters.js';
import { Monitor, UP_AFTER_SUCCESSES, type MonitorState } from '../../src/core/monitor.js';
import type { ContainerInspect, EngineEvent, HealthState } from '../../src/engine/types.js';
import type { ContainerReport } from '../../src/policy/types.js';
import type { ReportListener } from '../../src/report/types.js';
import { CAPTURED, FakeEngine, engineError, type Role } from '../helpers/fake-engine.js';
import { captureLogger, type LogRecord } from '../helpers/log-capture.js';
import { within } from '../helpers/wait.js';

/** Every call of the fake engine answers within microtasks: one turn of the event loop settles them all. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Rig {
  engine: FakeEngine;
  monitor: Monitor;
  records: LogRecord[];
  counters: EventCounters;
}

/** A Monitor over a fresh fake engine (every captured container running), with the default policy. */
async function rig(
  t: TestContext,
  options: {
    refresh?: 'scrape' | number;
    listeners?: ReportListener[];
    resyncIntervalMs?: number;
    policy?: string;
    engine?: FakeEngine;
  } = {},
): Promise<Rig> {
  const engine = options.engine ?? new FakeEngine();
  const cache = new EngineCache(engine, new TopProcessSource(engine), 10_000);
  const { checks } = await parsePolicy(options.policy ?? DEFAULT_POLICY_INI, DEFAULT_POLICY_NAME, BUILT_IN_CHECKS);
  const evaluator = new Evaluator(cache, { checks, alwaysAllow: [], failFast: false });
  const { logger, records } = captureLogger();
  const counters = createEventCounters();
  const monitor = new Monitor({
    engine,
    cache,
    evaluator,
    logger,
    counters,
    listeners: options.listeners ?? [],
    refresh: options.refresh ?? 'scrape',
    resyncIntervalMs: options.resyncIntervalMs ?? 300_000,
  });
  // Stops the event loop and the interval even when an assertion ended the test early (not awaited:
  // a listener that never finishes would hold close() forever).
  t.after(() => void monitor.close());
  return { engine, monitor, records, counters };
}

/** What the state says of one container: absent, or its verdict and the checks it failed. */
function verdict(state: MonitorState, engine: FakeEngine, role: Role): { compliant: boolean; failed: string[] } | undefined {
  const report = state.containers.get(engine.id(role));
  if (report === undefined) return undefined;
  return { compliant: report.compliant, failed: report.results.filter((result) => result.result !== 'pass').map((result) => result.check) };
}

const COMPLIANT = { compliant: true, failed: [] };
/** `root` and `hog`: no USER, and `sleep 3600` runs as UID 0. */
const RUNS_AS_ROOT = { compliant: false, failed: ['RunningAsRootCheck', 'RootProcessCheck'] };

/** Advances mock time in steps, settling the promises each step releases, until `done()` or `limitMs`. */
async function advance(t: TestContext, done: () => boolean, limitMs: number, stepMs = 50): Promise<number> {
  let elapsed = 0;
  while (!done() && elapsed < limitMs) {
    t.mock.timers.tick(stepMs);
    elapsed += stepMs;
    await flush();
  }
  return elapsed;
}

/**
 * A refresh reads `app` during a root exec session, and its process list answers slowly; meanwhile the
 * session ends and its `exec_die` event is evaluated on the engine's newer answers. Returns once the
 * event is applied, the refresh still waiting; the function returned lets the refresh answer and end.
 */
async function refreshOutrunByEvent(engine: FakeEngine, monitor: Monitor): Promise<() => Promise<void>> {
  engine.set('app', 'app.exec-root');
  const slowTop = engine.hold('top', engine.id('app'));
  const refreshing = monitor.refresh();
  await slowTop.arrived;
  // All of the refresh that can run has run: what it evaluates of `app` waits on that answer.
  await flush();
  engine.set('app', 'app.exec-ended');
  await monitor.handleEvent(engine.event('app', 'exec_die'));
  return async () => {
    slowTop.release();
    await refreshing;
  };
}

describe('Monitor: refresh', () => {
  test('a refresh publishes a verdict per running container with up=1; ready only once the first refresh ended', async (t) => {
    const { engine, monitor } = await rig(t);
    assert.equal(monitor.ready, false);
    assert.equal(monitor.state.up, false);
    await monitor.refresh();
    assert.equal(monitor.ready, true);
    const { state } = monitor;
    assert.equal(state.up, true);
    assert.ok(state.lastRefreshTimestamp > 0);
    assert.deepEqual(new Set(state.containers.keys()), new Set(CAPTURED.list.map((summary) => summary.id)));
    assert.deepEqual(verdict(state, engine, 'app'), COMPLIANT);
    assert.deepEqual(verdict(state, engine, 'other'), COMPLIANT);
    assert.deepEqual(verdict(state, engine, 'root'), RUNS_AS_ROOT);
    assert.deepEqual(verdict(state, engine, 'hog'), RUNS_AS_ROOT);
    assert.equal(state.containers.get(engine.id('root'))?.name, CAPTURED.containers.root.name);
  });

  test('a first refresh that cannot reach the engine ends the first refresh, but not ready: up=0, nothing to show, one error line', async (t) => {
    const { engine, monitor, records } = await rig(t);
    engine.goDown();
    await monitor.refresh();
    await monitor.refresh();
    assert.equal(monitor.refreshed, true);
    assert.equal(monitor.ready, false, 'ready needs the engine reached once');
    assert.equal(monitor.state.up, false);
    assert.equal(monitor.state.containers.size, 0);
    assert.equal(monitor.state.lastRefreshTimestamp, 0);
    assert.equal(records.filter((record) => record.level === 'error').length, 1, 'one error line for the outage, not one per refresh');
  });

  test('an engine outage keeps the last-known verdicts with up=0; the first refresh that reaches it again brings the verdicts, the third in a row up=1', async (t) => {
    const { engine, monitor, records } = await rig(t);
    await monitor.refresh();
    const known = monitor.state;
    engine.goDown();
    await monitor.refresh();
    await monitor.refresh();
    const down = await monitor.forScrape();
    assert.equal(down.up, false);
    assert.equal(down.containers, known.containers, 'the same verdicts, untouched');
    assert.equal(down.lastRefreshTimestamp, known.lastRefreshTimestamp, 'its age tells how stale they are');
    const errors = records.filter((record) => record.level === 'error');
    assert.equal(errors.length, 1, 'logged once when it went down, not at every refresh');
    assert.match(String(errors[0]?.msg), /^cannot reach the Docker engine at fake:\/\/captured: nothing accepts connections/);

    engine.remove('twin'); // went while the engine could not be asked
    engine.comeBack();
    const first = await monitor.forScrape();
    assert.equal(first.up, false, 'up rises only after UP_AFTER_SUCCESSES refreshes in a row');
    for (let refresh = 2; refresh < UP_AFTER_SUCCESSES; refresh += 1) await monitor.refresh();
    const back = await monitor.forScrape();
    assert.equal(back.up, true);
    assert.equal(records.filter((record) => record.msg === 'engine reachable again').length, 1);
    assert.ok(back.lastRefreshTimestamp >= known.lastRefreshTimestamp);
    assert.equal(verdict(back, engine, 'twin'), undefined);
    assert.deepEqual(verdict(back, engine, 'app'), COMPLIANT);
  });

  test('an engine that fails every other refresh (a flaky /_ping): up stays 0, one error line, no "reachable again" lines', async (t) => {
    const { engine, monitor, records } = await rig(t);
    await monitor.refresh();
    assert.equal(monitor.state.up, true);
    const seen: boolean[] = [];
    for (let round = 0; round < 6; round += 1) {
      engine.goDown();
      seen.push((await monitor.forScrape()).up);
      engine.comeBack();
      seen.push((await monitor.forScrape()).up);
    }
    assert.deepEqual(seen, new Array<boolean>(12).fill(false), 'no flapping');
    assert.equal(records.filter((record) => record.level === 'error').length, 1);
    assert.equal(records.filter((record) => record.msg === 'engine reachable again').length, 0);
  });

  test('a container the engine fails to inspect during a refresh keeps its last verdict; the others are refreshed', async (t) => {
    const { engine, monitor, records } = await rig(t);
    await monitor.refresh();
    const before = monitor.state.containers;
    const inspects = engine.count('inspect');
    engine.failNext('inspect', engineError(CAPTURED.errors.unreachable), engine.id('twin'));
    engine.set('app', 'app.exec-root'); // now with a root exec session
    await monitor.refresh();
    const after = monitor.state.containers;
    assert.equal(monitor.state.up, true);
    assert.equal(engine.count('inspect') - inspects, before.size, 'a resync inspects every container again');
    assert.equal(after.get(engine.id('twin')), before.get(engine.id('twin')), 'the last verdict, kept as it was');
    assert.deepEqual(verdict(monitor.state, engine, 'app'), { compliant: false, failed: ['RootProcessCheck'] }, 'a fresh verdict');
    assert.equal(after.get(engine.id('other')), before.get(engine.id('other')), 'an unchanged verdict keeps its report object');
    assert.equal(after.size, before.size);
    const warning = records.find((record) => record.level === 'warn');
    assert.equal(warning?.['container'], CAPTURED.containers.twin.name);
    assert.match(String(warning?.['err']), /ECONNREFUSED/);
  });
  test('an event whose inspect read fails: the last verdict is served, no scan evaluates the older data, and a retry brings the fresh verdict with no further event', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { engine, monitor, records } = await rig(t);
    monitor.start();
    const stream = await engine.stream(1);
    await flush();
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT);
    // A root exec session began; dockerd blocks the inspect (a paused container whose health probe the pause caught).
    engine.set('app', 'app.exec-root');
    const timeout = new Error('engine call inspect timed out after 10000 ms');
    engine.failNext('inspect', timeout, engine.id('app'));
    stream.push(engine.event('app', 'exec_die'));
    await flush();
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT, 'the last verdict stays');
    const inspects = engine.count('inspect');
    await monitor.forScrape();
    assert.equal(engine.count('inspect'), inspects, 'a scrape neither evaluates the data older than the change nor waits on its read');
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT);
    assert.equal(monitor.state.up, true, 'one container the engine fails on is not the engine down');
    // The first retry fails too; the second finds the engine answering.
    engine.failNext('inspect', timeout, engine.id('app'));
    const elapsed = await advance(t, () => verdict(monitor.state, engine, 'app')?.compliant === false, 5_000);
    assert.equal(engine.count('inspect') - inspects, 2);
    assert.ok(elapsed <= 1_500, `retried after ${elapsed} ms`);
    const { checks } = await parsePolicy(DEFAULT_POLICY_INI, DEFAULT_POLICY_NAME, BUILT_IN_CHECKS);
    const fresh = new Evaluator(new EngineCache(engine, new TopProcessSource(engine), 10_000), {
      checks,
      alwaysAllow: [],
      failFast: false,
    });
    const reference = await fresh.evaluateContainer(engine.id('app'));
    assert.deepEqual(monitor.state.containers.get(engine.id('app'))?.results, reference?.results, 'what a fresh evaluation gives');
    const warnings = records.filter((record) => record.level === 'warn' && record['container'] === CAPTURED.containers.app.name);
    assert.equal(warnings.length, 1, 'one line for the failure, not one per retry or scrape');
    const settled = engine.count('inspect');
    await advance(t, () => false, 5_000, 500);
    assert.equal(engine.count('inspect'), settled, 'no retry after the success');
  });

  test("a check that errs is counted once per evaluation, from refreshes and events alike; the other checks' counters exist at 0", async (t) => {
    const { engine, monitor, counters } = await rig(t);
    const errors = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await counters.checkErrors.get()).values.map(({ labels, value }) => [String(labels.check), value]));
    assert.deepEqual(await errors(), { ActiveBuildCheck: 0, RunningAsRootCheck: 0, RootProcessCheck: 0 });
    // The processes are read for the key a result is kept under, then by the check: both reads fail.
    engine.failNext('top', engineError(CAPTURED.errors.unreachable), engine.id('app'));
    engine.failNext('top', engineError(CAPTURED.errors.unreachable), engine.id('app'));
    await monitor.refresh();
    assert.deepEqual(verdict(monitor.state, engine, 'app'), { compliant: false, failed: ['RootProcessCheck'] });
    assert.deepEqual(await errors(), { ActiveBuildCheck: 0, RunningAsRootCheck: 0, RootProcessCheck: 1 });
    engine.failNext('top', engineError(CAPTURED.errors.unreachable), engine.id('app'));
    engine.failNext('top', engineError(CAPTURED.errors.unreachable), engine.id('app'));
    await monitor.handleEvent(engine.event('app', 'kill'));
    await monitor.refresh();
    assert.deepEqual(await errors(), { ActiveBuildCheck: 0, RunningAsRootCheck: 0, RootProcessCheck: 2 });
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT, 'the next refresh read the processes');
  });
});

describe('Monitor: a slow refresh against newer events', () => {
  test('a container destroyed (event) while a refresh that listed it is still running is not brought back by that refresh', async (t) => {
    const { engine, monitor } = await rig(t);
    await monitor.refresh();
    assert.deepEqual(verdict(monitor.state, engine, 'root'), RUNS_AS_ROOT);
    // The refresh lists `root` and asks for its inspect, which answers slowly (still running then).
    const slowInspect = engine.hold('inspect', engine.id('root'));
    const refreshing = monitor.refresh();
    await slowInspect.arrived;
    engine.remove('root');
    await monitor.handleEvent(engine.event('root', 'destroy'));
    assert.equal(verdict(monitor.state, engine, 'root'), undefined, 'dropped at the event');
    slowInspect.release();
    await refreshing;
    assert.equal(monitor.state.up, true);
    assert.equal(verdict(monitor.state, engine, 'root'), undefined, 'the older refresh did not re-add it');
    assert.deepEqual(verdict(monitor.state, engine, 'twin'), COMPLIANT, 'the rest of the refresh applied');
  });

  test('a verdict from an event is not replaced by the older one of a refresh that started before the event', async (t) => {
    const { engine, monitor } = await rig(t);
    const finishRefresh = await refreshOutrunByEvent(engine, monitor);
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT);
    await finishRefresh();
    assert.equal(monitor.state.containers.size, CAPTURED.list.length, 'the refresh applied');
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT, "the event's newer verdict stands");
    // Nothing stays pinned: a refresh that starts after the event decides again.
    engine.remove('app');
    await monitor.refresh();
    assert.equal(verdict(monitor.state, engine, 'app'), undefined);
  });

  test('listeners are not handed the verdict of a refresh that a newer event superseded', async (t) => {
    const seen: ContainerReport[] = [];
    const { engine, monitor } = await rig(t, { listeners: [{ onReport: (report) => void seen.push(report) }] });
    await (
      await refreshOutrunByEvent(engine, monitor)
    )();
    await monitor.close();
    // Enforcement is a listener: a stale verdict could stop a container that is compliant by now.
    assert.deepEqual(
      seen.filter((report) => report.id === engine.id('app')).map((report) => report.compliant),
      [true],
    );
  });

  test('two overlapping events for one container: the older evaluation, finishing last, does not win', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const seen: ContainerReport[] = [];
    const { engine, monitor } = await rig(t, { listeners: [{ onReport: (report) => void seen.push(report) }] });
    await monitor.refresh();
    // A root exec session starts: its event is evaluated once the session's process can be seen, and
    // that evaluation's process list answers slowly.
    engine.set('app', 'app.exec-root');
    const slowTop = engine.hold('top', engine.id('app'));
    const older = monitor.handleEvent(engine.event('app', 'exec_start'));
    t.mock.timers.tick(5_000);
    await slowTop.arrived;
    // All of that evaluation that can run has run: it waits on that answer.
    await flush();
    // The session ends; the newer event's evaluation finishes first.
    engine.set('app', 'app.exec-ended');
    await monitor.handleEvent(engine.event('app', 'exec_die'));
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT);
    slowTop.release();
    await older;
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT, 'the older evaluation was discarded');
    await monitor.close();
    const appReports = seen.filter((report) => report.id === engine.id('app'));
    assert.deepEqual(
      appReports.map((report) => report.compliant),
      [true, true],
      "the listeners got the refresh's and the newer event's verdicts, never the discarded one",
    );
  });
});

describe('Monitor: events', () => {
  test('kill (SIGHUP ignored) and oom re-evaluate the container, which stays while it runs; a kill of a container that is gone drops it', async (t) => {
    const { engine, monitor } = await rig(t);
    await monitor.refresh();
    for (const [role, action, snapshot] of [
      ['app', 'kill', 'app.after-hup'],
      ['hog', 'oom', 'hog'],
    ] as const) {
      const before = monitor.state.containers.get(engine.id(role));
      const inspections = engine.count('inspect');
      engine.set(role, snapshot);
      await monitor.handleEvent(engine.event(role, action));
      assert.equal(engine.count('inspect'), inspections + 1, `${action}: the container was inspected again`);
      const after = monitor.state.containers.get(engine.id(role));
      assert.ok(after !== undefined, `${action}: the container keeps its series`);
      assert.notEqual(after, before, `${action}: with a fresh verdict`);
    }
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT);
    assert.deepEqual(verdict(monitor.state, engine, 'hog'), RUNS_AS_ROOT);
    // `docker stop` sends SIGTERM first: by the time it is evaluated the container may be gone.
    engine.remove('root');
    await monitor.handleEvent(engine.event('root', 'kill'));
    assert.equal(verdict(monitor.state, engine, 'root'), undefined);
    assert.equal(monitor.state.containers.size, CAPTURED.list.length - 1);
  });

  for (const action of ['die', 'stop', 'destroy']) {
    test(`${action} drops the container at once, without asking the engine`, async (t) => {
      const { engine, monitor } = await rig(t);
      await monitor.refresh();
      engine.goDown(); // any engine call would fail, and an evaluation that fails keeps the container
      const calls = engine.callCounts();
      await monitor.handleEvent(engine.event('root', action));
      assert.equal(verdict(monitor.state, engine, 'root'), undefined);
      assert.equal(monitor.state.containers.size, CAPTURED.list.length - 1);
      assert.deepEqual(engine.callCounts(), calls);
    });
  }

  test('events other than container lifecycle ones (create, top, exec_create) change nothing and ask nothing', async (t) => {
    const { engine, monitor } = await rig(t);
    await monitor.refresh();
    const state = monitor.state;
    const calls = engine.callCounts();
    for (const action of ['create', 'top', 'exec_create']) await monitor.handleEvent(engine.event('app', action));
    assert.equal(monitor.state, state);
    assert.deepEqual(engine.callCounts(), calls);
  });
});

describe('Monitor: the event stream', () => {
  test('start() follows the stream: events pushed on it are applied; close() ends it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { engine, monitor } = await rig(t);
    monitor.start();
    const stream = await engine.stream(1);
    await flush();
    assert.deepEqual(verdict(monitor.state, engine, 'root'), RUNS_AS_ROOT);
    engine.remove('root');
    stream.push(engine.event('root', 'die'));
    await flush();
    assert.equal(verdict(monitor.state, engine, 'root'), undefined);
    await monitor.close();
    await advance(t, () => false, 30_000, 1_000);
    assert.equal(engine.count('events'), 1, 'no reconnection after close()');
  });

  test('a stream that ends is reopened after a delay, and the monitor resynchronises with a full refresh', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { engine, monitor } = await rig(t);
    monitor.start();
    const first = await engine.stream(1);
    await flush();
    first.end();
    await flush();
    assert.equal(engine.count('events'), 1, 'not reopened in the same instant');
    // While no stream is open, `twin` goes and no event tells of it.
    engine.remove('twin');
    assert.deepEqual(verdict(monitor.state, engine, 'twin'), COMPLIANT);
    const lists = engine.count('containers');
    const waited = await advance(t, () => engine.streams.length >= 2, 30_000);
    assert.equal(engine.streams.length, 2, `reopened after ${waited} ms`);
    await flush();
    assert.ok(engine.count('containers') > lists, 'a full list after reconnecting');
    assert.equal(verdict(monitor.state, engine, 'twin'), undefined, 'what happened while no stream was open is caught up');
    assert.equal(monitor.state.up, true);
    // The new stream is followed.
    engine.remove('root');
    engine.streams[1]?.push(engine.event('root', 'destroy'));
    await flush();
    assert.equal(verdict(monitor.state, engine, 'root'), undefined);
    await monitor.close();
  });

  test('while the engine is away the stream is retried with a growing delay, verdicts kept with up=0; once back: reconnect and resync', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { engine, monitor } = await rig(t);
    monitor.start();
    const first = await engine.stream(1);
    await flush();
    const known = monitor.state.containers;
    engine.goDown();
    first.fail(engineError(CAPTURED.errors.unreachable));
    await flush();
    assert.equal(monitor.state.up, false, 'the break makes the monitor look at the engine at once');
    assert.equal(monitor.state.containers, known);
    engine.remove('twin');

    const attempts: number[] = [];
    let calls = engine.count('events');
    await advance(
      t,
      () => {
        for (; calls < engine.count('events'); calls += 1) attempts.push(Date.now());
        return false;
      },
      20_000,
    );
    const gaps = attempts.map((at, index) => at - (attempts[index - 1] ?? 0));
    assert.ok(attempts.length >= 3 && attempts.length <= 20, `retried, but not in a busy loop: at ${attempts.join(', ')} ms`);
    assert.ok((attempts[0] ?? 0) > 0, 'not retried in the same instant');
    assert.ok(
      gaps.every((gap, index) => index === 0 || gap >= (gaps[index - 1] ?? 0)),
      `the delay never shrinks while the engine stays away: ${gaps.join(', ')} ms`,
    );
    assert.ok((gaps.at(-1) ?? 0) > (gaps[0] ?? 0), `the delay grows: ${gaps.join(', ')} ms`);
    assert.equal(monitor.state.up, false);
    assert.equal(monitor.state.containers, known, 'last-known verdicts all along');

    engine.comeBack();
    const waited = await advance(t, () => engine.streams.length >= 2, 60_000);
    assert.equal(engine.streams.length, 2, `reconnected ${waited} ms after the engine came back`);
    await flush();
    for (let refresh = 1; refresh < UP_AFTER_SUCCESSES; refresh += 1) await monitor.refresh();
    assert.equal(monitor.state.up, true);
    assert.equal(verdict(monitor.state, engine, 'twin'), undefined, 'resynchronised');
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT);
    await monitor.close();
  });
});

describe('Monitor: health status events', () => {
  /** `health_status: <status>` as the engine words it, on the captured `start` event of `role`. */
  const healthEvent = (engine: FakeEngine, role: Role, status: string): EngineEvent => ({
    ...engine.event(role, 'start'),
    Action: `health_status: ${status}`,
  });
  /** State.Health as dockerd reported it for a healthy and for an unhealthy container (test/fixtures/cis). */
  const health = (file: string): HealthState => {
    const captured = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/cis/containers', file), 'utf8')) as {
      inspect: ContainerInspect;
    };
    const state = captured.inspect.State?.Health;
    assert.ok(state !== undefined, `${file} has a health state`);
    return state;
  };
  const HEALTHY = health('hardened.json');
  const UNHEALTHY = health('unhealthy.json');

  test("a status is evaluated unless the container's data already says it: dockerd's pause makes it unhealthy with no event, the unpause announces healthy again", async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { engine, monitor } = await rig(t, { policy: '[docker_monitor.checks.HealthStatusCheck]\n' });
    const app = (): string | undefined => monitor.state.containers.get(engine.id('app'))?.results[0]?.result;
    engine.setHealth('app', HEALTHY);
    monitor.start();
    const stream = await engine.stream(1);
    await flush();
    assert.equal(app(), 'pass');
    const inspectsAfter = async (event: EngineEvent): Promise<number> => {
      const before = engine.count('inspect');
      stream.push(event);
      await flush();
      return engine.count('inspect') - before;
    };
    // Healthy since its start: the probes' own status event.
    stream.push(healthEvent(engine, 'app', 'healthy'));
    await flush();
    assert.equal(app(), 'pass');
    // Paused: dockerd stops the probes and marks the container unhealthy, announcing only the pause.
    engine.setHealth('app', UNHEALTHY);
    assert.equal(await inspectsAfter(engine.event('app', 'exec_die')), 1);
    assert.equal(app(), 'fail');
    // Unpaused, the first probe passes: `healthy` again, the same status as the last health event.
    engine.setHealth('app', HEALTHY);
    assert.equal(await inspectsAfter(healthEvent(engine, 'app', 'healthy')), 1, 'news against the data');
    assert.equal(app(), 'pass');
    assert.equal(await inspectsAfter(healthEvent(engine, 'app', 'healthy')), 0, 'a status the data already says (Podman, at every probe)');
    // An evaluation that fails to read the container keeps the older data, so the same status is news next time.
    engine.setHealth('app', UNHEALTHY);
    engine.failNext('inspect', engineError(CAPTURED.errors.unreachable), engine.id('app'));
    assert.equal(await inspectsAfter(healthEvent(engine, 'app', 'unhealthy')), 1);
    assert.equal(app(), 'pass', 'the last verdict stays');
    assert.equal(await inspectsAfter(healthEvent(engine, 'app', 'unhealthy')), 1);
    assert.equal(app(), 'fail');
    await monitor.close();
  });
});

describe('Monitor: scrapes and listeners', () => {
  test('--refresh scrape: overlapping scrapes share one evaluation; the next scrape starts a new one', async (t) => {
    const { engine, monitor } = await rig(t);
    const slowList = engine.hold('containers');
    const scrapes = Array.from({ length: 5 }, () => monitor.forScrape());
    await slowList.arrived;
    await flush();
    assert.equal(engine.count('containers'), 1);
    slowList.release();
    const states = await Promise.all(scrapes);
    assert.ok(states.every((state) => state === states[0] && state.up));
    assert.equal(states[0]?.containers.size, CAPTURED.list.length);
    assert.equal(engine.count('containers'), 1, 'one list for five scrapes');
    assert.equal(engine.count('inspect'), CAPTURED.list.length, 'one inspect per container for five scrapes');
    await monitor.forScrape();
    assert.equal(engine.count('containers'), 2);
  });

  test('with a refresh interval, refreshes run on it (scans, and a resync when one is due) and a scrape does not start one', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    const { engine, monitor } = await rig(t, { refresh: 30_000, resyncIntervalMs: 60_000 });
    monitor.start();
    await flush();
    assert.equal(engine.count('containers'), 1, 'the event stream opened: a resync');
    assert.equal((await monitor.forScrape()).up, true);
    assert.equal(engine.count('containers'), 1);
    assert.equal(engine.count('ping'), 0);
    t.mock.timers.tick(30_000);
    await flush();
    assert.deepEqual([engine.count('containers'), engine.count('ping')], [1, 1], 'a scan');
    t.mock.timers.tick(30_000);
    await flush();
    assert.deepEqual([engine.count('containers'), engine.count('ping')], [2, 1], 'a resync, due after 60 s');
    await monitor.close();
    t.mock.timers.tick(90_000);
    await flush();
    assert.equal(engine.count('containers'), 2, 'no refresh after close()');
  });

  test('an event evaluation past the scrape budget does not count the engine down; a refresh past it does', async (t) => {
    const { engine, monitor } = await rig(t);
    await monitor.forScrape();
    assert.equal(monitor.state.up, true);
    const inspect = engine.hold('inspect', engine.id('app'));
    const evaluation = monitor.handleEvent(engine.event('app', 'kill'));
    await inspect.arrived;
    const served = await monitor.forScrape(50);
    assert.equal(served.up, true, 'the refresh answered in time; only the event evaluation is still running');
    inspect.release();
    await evaluation;
    // A scan pings, a resync lists: whichever this refresh is, it waits.
    const held = [engine.hold('ping'), engine.hold('containers')];
    const late = await monitor.forScrape(50);
    assert.equal(late.up, false, 'the refresh itself did not finish within the budget');
    for (const call of held) call.release();
  });

  test('a listener that never finishes delays no scrape: reports reach it from a queue after the state is published', async (t) => {
    const seen: ContainerReport[] = [];
    let monitor: Monitor | undefined;
    const publishedFirst: boolean[] = [];
    const stuck: ReportListener = {
      onReport(report) {
        seen.push(report);
        publishedFirst.push(monitor?.state.containers.get(report.id) === report);
        return new Promise<void>(() => undefined);
      },
    };
    const made = await rig(t, { listeners: [stuck] });
    monitor = made.monitor;
    for (let scrape = 1; scrape <= 3; scrape += 1) {
      const served: MonitorState | undefined = await within(monitor.forScrape(), 2_000);
      assert.ok(served !== undefined, `scrape ${scrape} waited for the listener`);
      assert.equal(served.containers.size, CAPTURED.list.length);
    }
    await made.monitor.handleEvent(made.engine.event('app', 'kill'));
    assert.equal(made.engine.count('containers'), 3);
    assert.equal(seen.length, 1, 'the listener holds the first report; the rest wait in the queue');
    assert.deepEqual(publishedFirst, [true]);
    assert.equal((await made.counters.reportsDropped.get()).values[0]?.value, 0);
  });

  test('listeners get every published report, from refreshes and events, each after the state holds it', async (t) => {
    const seen: string[] = [];
    let monitor: Monitor | undefined;
    const { engine, monitor: made } = await rig(t, {
      listeners: [
        {
          onReport(report) {
            assert.equal(monitor?.state.containers.get(report.id), report);
            seen.push(report.name);
          },
        },
      ],
    });
    monitor = made;
    await made.refresh();
    await flush();
    engine.set('app', 'app.after-hup');
    await made.handleEvent(engine.event('app', 'kill'));
    await made.close();
    const names = Object.fromEntries(Object.entries(CAPTURED.containers).map(([role, { name }]) => [name, role]));
    assert.deepEqual(seen.map((name) => names[name]).sort(), [...Object.keys(CAPTURED.containers), 'app'].sort());
    assert.equal(names[seen.at(-1) ?? ''], 'app', "the event's report came last");
  });
});

describe('Monitor: a refresh reads again only what may have changed', () => {
  /** Calls made by `work`, by endpoint. */
  async function callsOf(engine: FakeEngine, work: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = engine.callCounts();
    await work();
    return Object.fromEntries(
      Object.entries(engine.callCounts())
        .map(([endpoint, count]): [string, number] => [endpoint, count - (before[endpoint] ?? 0)])
        .filter(([, count]) => count > 0),
    );
  }

  test('--refresh scrape, steady state: a scrape pings the engine and reads processes, nothing else; the state object stays', async (t) => {
    const { engine, monitor } = await rig(t);
    monitor.start();
    await flush();
    assert.equal(engine.count('containers'), 1, 'the event stream opened: one resync');
    const first = await monitor.forScrape();
    const calls = await callsOf(engine, () => monitor.forScrape());
    // `top` once per container here (the fake engine's processes); with /proc a scan makes no engine call.
    assert.deepEqual(calls, { ping: 1, top: CAPTURED.list.length });
    assert.equal(monitor.state.containers, first.containers, 'no verdict changed: the same containers, so the same rendered text');
    assert.equal(monitor.state.host, first.host);
    await monitor.close();
  });

  test('a root process started without any event is in the next scrape; only the checks that read processes ran again', async (t) => {
    const { engine, monitor } = await rig(t);
    monitor.start();
    await flush();
    const before = (await monitor.forScrape()).containers.get(engine.id('app'));
    assert.deepEqual(verdict(monitor.state, engine, 'app'), COMPLIANT);
    engine.setProcesses('app', 'app.exec-root');
    const calls = await callsOf(engine, () => monitor.forScrape());
    assert.equal(calls['inspect'], undefined, 'no inspect: nothing but the processes changed');
    assert.deepEqual(verdict(monitor.state, engine, 'app'), { compliant: false, failed: ['RootProcessCheck'] });
    const after = monitor.state.containers.get(engine.id('app'));
    const reused = (check: string): boolean =>
      before?.results.find((result) => result.check === check) === after?.results.find((result) => result.check === check);
    assert.deepEqual(
      ['ActiveBuildCheck', 'RunningAsRootCheck', 'RootProcessCheck'].map(reused),
      [true, true, false],
      'results of checks that read only inspect data are the same objects',
    );
    await monitor.close();
  });

  test('events keep the cached inspect data current: a container event and a network (dis)connect read that container again', async (t) => {
    const { engine, monitor } = await rig(t);
    monitor.start();
    await flush();
    await monitor.forScrape();
    engine.set('app', 'app.after-hup');
    const byEvent = await callsOf(engine, () => monitor.handleEvent(engine.event('app', 'kill')));
    assert.equal(byEvent['inspect'], 1);
    const byNetwork = await callsOf(engine, () =>
      monitor.handleEvent({ Type: 'network', Action: 'disconnect', id: CAPTURED.networks[0]?.Id ?? '', container: engine.id('app') }),
    );
    assert.equal(byNetwork['inspect'], 1);
    const scrape = await callsOf(engine, () => monitor.forScrape());
    assert.equal(scrape['inspect'], undefined, 'the scrape after them uses what they read');
    assert.equal(scrape['containers'], undefined);
    await monitor.close();
  });

  test("a network (dis)connect leaves the host's data and its checks' results; a network created reads them again", async (t) => {
    const policy =
      '[docker_monitor.checks.DefaultBridgeIccCheck]\n[docker_monitor.checks.LiveRestoreCheck]\n[docker_monitor.checks.ContainerUserCheck]\n';
    const { engine, monitor } = await rig(t, { policy });
    monitor.start();
    await flush();
    const before = await monitor.forScrape();
    const network = CAPTURED.networks[0]?.Id ?? '';
    await monitor.handleEvent({ Type: 'network', Action: 'disconnect', id: network, container: engine.id('app') });
    const afterMembership = await callsOf(engine, () => monitor.forScrape());
    assert.deepEqual([afterMembership['networks'], afterMembership['info']], [undefined, undefined], '/networks lists no members');
    assert.equal(monitor.state.host, before.host, 'the host results are the same objects');
    await monitor.handleEvent({ Type: 'network', Action: 'create', id: network });
    const afterCreate = await callsOf(engine, () => monitor.forScrape());
    assert.deepEqual([afterCreate['networks'], afterCreate['info']], [1, 1]);
    await monitor.close();
  });

  test('a stop event drops the container from the scans that follow; a resync after the interval lists every container again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    const { engine, monitor } = await rig(t, { resyncIntervalMs: 60_000 });
    monitor.start();
    await flush();
    await monitor.forScrape();
    engine.set('root', 'root.stopped');
    await monitor.handleEvent(engine.event('root', 'die'));
    const scan = await callsOf(engine, () => monitor.forScrape());
    assert.equal(scan['top'], CAPTURED.list.length - 1, 'the stopped container is not scanned');
    assert.equal(verdict(monitor.state, engine, 'root'), undefined);
    t.mock.timers.tick(60_000);
    const resync = await callsOf(engine, () => monitor.forScrape());
    assert.deepEqual([resync['containers'], resync['inspect']], [1, CAPTURED.list.length - 1]);
    await monitor.close();
  });
});

describe('Monitor: a reused result is the one a fresh evaluation gives', () => {
  const LATEST_TAG_POLICY =
    '[docker_monitor.checks.LatestTagCheck]\n[docker_monitor.checks.ContainerUserCheck]\n[docker_monitor.checks.LiveRestoreCheck]\n';

  /** A fake engine over a copy of the captured data, whose images' references a test can change as `docker tag`/`rmi` do. */
  function retaggable(): { engine: FakeEngine; imageId: string; retag: (tags: string[]) => void } {
    const captured = structuredClone(CAPTURED);
    const engine = new FakeEngine(captured);
    const imageId = captured.list.find((entry) => entry.id === engine.id('app'))?.imageId ?? assert.fail('app has an image');
    const retag = (tags: string[]): void => {
      const image = captured.images[imageId] ?? assert.fail('the image was captured');
      // A new object, as a new answer from the engine would be: the ID stays, the references change.
      image.inspect = { ...image.inspect, RepoTags: tags };
    };
    retag(['app:1.4', 'app:latest']);
    return { engine, imageId, retag };
  }

  test('a tag moved to another image (`docker tag B web:0.9`, announced for B alone) is read again for the image that lost it', async (t) => {
    const { engine, retag } = retaggable();
    const captured = engine.captured;
    const otherImage = captured.list.find((entry) => entry.id === engine.id('other'))?.imageId ?? assert.fail('other has an image');
    const image = captured.images[otherImage] ?? assert.fail('the image was captured');
    retag(['web:0.9']);
    const { monitor } = await rig(t, { policy: LATEST_TAG_POLICY, engine });
    monitor.start();
    await flush();
    assert.equal(latestTag(await monitor.forScrape(), engine), 'pass');
    retag([]);
    image.inspect = { ...image.inspect, RepoTags: [...(image.inspect.RepoTags ?? []), 'web:0.9'] };
    await monitor.handleEvent({ Type: 'image', Action: 'tag', id: otherImage, name: 'web:0.9' });
    assert.equal(latestTag(await monitor.forScrape(), engine), 'fail', "app's image lost its only tag");
    await monitor.close();
  });

  function latestTag(state: MonitorState, engine: FakeEngine): string | undefined {
    return state.containers.get(engine.id('app'))?.results.find((result) => result.check === 'LatestTagCheck')?.result;
  }

  test('untagging the last version tag (same image ID) fails LatestTagCheck in the next scrape; a change with no event at the next resync', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    const { engine, imageId, retag } = retaggable();
    const { monitor } = await rig(t, { policy: LATEST_TAG_POLICY, engine, resyncIntervalMs: 60_000 });
    monitor.start();
    await flush();
    assert.equal(latestTag(await monitor.forScrape(), engine), 'pass', 'app:1.4 beside app:latest');
    retag(['app:latest']);
    await monitor.handleEvent({ Type: 'image', Action: 'untag', id: imageId });
    assert.equal(latestTag(await monitor.forScrape(), engine), 'fail', 'the untag event: the image is read again and the check runs again');
    retag(['app:1.5', 'app:latest']);
    assert.equal(latestTag(await monitor.forScrape(), engine), 'fail', 'no event: not seen before the resync');
    t.mock.timers.tick(60_000);
    assert.equal(latestTag(await monitor.forScrape(), engine), 'pass', 'the resync reads every image again');
    await monitor.close();
  });

  test('an image event that names the image otherwise than the cache (no sha256: prefix, or a reference) still drops it', async (t) => {
    const { engine, imageId, retag } = retaggable();
    const { monitor } = await rig(t, { policy: LATEST_TAG_POLICY, engine });
    monitor.start();
    await flush();
    assert.equal(latestTag(await monitor.forScrape(), engine), 'pass');
    retag(['app:latest']);
    await monitor.handleEvent({ Type: 'image', Action: 'untag', id: imageId.replace(/^sha256:/, '') });
    assert.equal(latestTag(await monitor.forScrape(), engine), 'fail');
    retag(['app:1.4', 'app:latest']);
    await monitor.handleEvent({ Type: 'image', Action: 'tag', id: 'app:1.4' });
    assert.equal(latestTag(await monitor.forScrape(), engine), 'pass');
    await monitor.close();
  });

  test('with a refresh interval, image and daemon events are evaluated at once, not at the next interval', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    const { engine, imageId, retag } = retaggable();
    const { monitor } = await rig(t, { policy: LATEST_TAG_POLICY, engine, refresh: 30_000 });
    monitor.start();
    await flush();
    await flush();
    assert.equal(latestTag(monitor.state, engine), 'pass');
    retag(['app:latest']);
    await monitor.handleEvent({ Type: 'image', Action: 'untag', id: imageId });
    for (let turn = 0; turn < 5; turn += 1) await flush();
    assert.equal(latestTag(monitor.state, engine), 'fail', 'served without waiting for the 30 s interval');
    const infoReads = engine.count('info');
    await monitor.handleEvent({ Type: 'daemon', Action: 'reload', id: 'daemon' });
    for (let turn = 0; turn < 5; turn += 1) await flush();
    assert.equal(engine.count('info'), infoReads + 1, "the daemon's reload: /info read again at once for the host checks");
    await monitor.close();
  });
});
