import assert from 'node:assert/strict';
import type { Counter } from 'prom-client';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { loadPolicy } from '../../src/config/load-policy.js';
import type { PolicyAction } from '../../src/config/settings.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { Enforcer } from '../../src/enforce/enforcer.js';
import { SelfContainer, detectSelfContainer } from '../../src/enforce/self-container.js';
import { Evaluator } from '../../src/core/evaluator.js';
import { createEventCounters, type EventCounters } from '../../src/event-counters.js';
import type { CheckInstance, ContainerReport } from '../../src/policy/types.js';
import {
  DOCKER_HOST,
  TEST_IMAGE,
  docker,
  ensureTestImage,
  inspectJson,
  removeTestContainers,
  requireEngine,
  startContainer,
  type TestContainer,
} from '../helpers/docker.js';
import { captureLogger, type LogRecord } from '../helpers/log-capture.js';
import { scaled } from '../helpers/time-scale.js';

/** The actions a counter counted, by action. */
async function counted(counter: Counter<'action'>): Promise<[string, number][]> {
  return (await counter.get()).values.map(({ labels, value }): [string, number] => [String(labels.action), value]);
}

/** The counters that moved: the configured action's counters start at 0 so increase() sees the first action. */
async function acted(counter: Counter<'action'>): Promise<[string, number][]> {
  return (await counted(counter)).filter(([, count]) => count > 0);
}

/**
 * Enforcement on real containers. The Enforcer is only ever given reports of containers this file
 * started: a root container (fails the default policy) and a UID 1000 one (passes). The root one
 * leaves on SIGTERM at once (trap), so `stop` does not wait out the engine's 10 s grace period.
 */
const FAILING_COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
// Longer than `docker stop`'s grace period, should a stop have to wait it out.
const engine = new DockerEngine({ host: DOCKER_HOST, concurrency: 4, timeoutMs: scaled(30_000) });
const nobody = { matches: (): boolean => false };
let checks: CheckInstance[] = [];

interface State {
  Running: boolean;
  Paused: boolean;
  StartedAt: string;
}

async function state(container: TestContainer): Promise<State> {
  return ((await inspectJson(container.id)) as { State: State }).State;
}

async function reportOf(container: TestContainer, alwaysAllow: string[] = []): Promise<ContainerReport> {
  const evaluator = new Evaluator(new EngineCache(engine, new TopProcessSource(engine), 0), { checks, alwaysAllow, failFast: false });
  const report = await evaluator.evaluateContainer(container.id);
  assert.ok(report, `${container.name} is running`);
  return report;
}

function enforcerFor(
  action: PolicyAction,
  options: { enforce?: boolean; self?: { matches(id: string): boolean } } = {},
): {
  enforcer: Enforcer;
  records: LogRecord[];
  counters: EventCounters;
} {
  const { logger, records } = captureLogger();
  const counters = createEventCounters();
  const enforcer = new Enforcer({ engine, logger, action, enforce: options.enforce ?? true, self: options.self ?? nobody, counters });
  return { enforcer, records, counters };
}

before(async () => {
  await requireEngine();
  await ensureTestImage();
  checks = (await loadPolicy(undefined, BUILT_IN_CHECKS)).checks;
});
after(async () => {
  await removeTestContainers();
});

describe('Enforcer --enforce on real containers', () => {
  test('kill: the failing container is killed, the passing one keeps running; the action is logged and counted', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const passing = await startContainer(['--user', '1000']);
    const { enforcer, records, counters } = enforcerFor('kill');
    const reports = [await reportOf(failing), await reportOf(passing)];
    assert.deepEqual(
      reports.map((report) => report.compliant),
      [false, true],
    );
    for (const report of reports) await enforcer.onReport(report);

    assert.equal((await state(failing)).Running, false);
    assert.equal((await state(passing)).Running, true);
    assert.deepEqual(await acted(counters.enforcementActions), [['kill', 1]]);
    assert.deepEqual(await counted(counters.enforcementFailures), [['kill', 0]], 'the failure counter exists from the start');
    assert.equal(records.length, 1);
    assert.equal(records[0]?.level, 'warn');
    assert.equal(records[0]?.msg, 'killed container that failed the policy');
    assert.equal(records[0]?.['container'], failing.name);
    assert.equal(records[0]?.['image'], TEST_IMAGE);
    assert.equal(records[0]?.['action'], 'kill');
    assert.deepEqual(records[0]?.['failedChecks'], ['RunningAsRootCheck', 'RootProcessCheck']);
  });

  test('stop: once per start of the container; started again, it is stopped again', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const { enforcer, counters } = enforcerFor('stop');
    const first = await reportOf(failing);
    await enforcer.onReport(first);
    assert.equal((await state(failing)).Running, false);
    await enforcer.onReport(first);
    assert.deepEqual(await acted(counters.enforcementActions), [['stop', 1]], 'the same start is not acted on twice');

    await docker(['start', failing.id]);
    const second = await reportOf(failing);
    assert.notEqual(second.startedAt, first.startedAt);
    await enforcer.onReport(second);
    assert.equal((await state(failing)).Running, false);
    assert.deepEqual(await acted(counters.enforcementActions), [['stop', 2]]);
  });

  test('pause: paused once; still failing while paused, it is not paused again (no second call, no failure)', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const passing = await startContainer(['--user', '1000']);
    const { enforcer, counters } = enforcerFor('pause');
    await enforcer.onReport(await reportOf(failing));
    await enforcer.onReport(await reportOf(passing));
    const paused = await state(failing);
    assert.equal(paused.Paused, true);
    assert.equal((await state(passing)).Paused, false);

    const again = await reportOf(failing);
    assert.equal(again.compliant, false);
    await enforcer.onReport(again);
    assert.deepEqual(await acted(counters.enforcementActions), [['pause', 1]]);
    assert.deepEqual(await acted(counters.enforcementFailures), []);
    await docker(['unpause', failing.id]);
  });

  test('an action the engine cannot carry out is logged and counted as a failure, never thrown', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const report = await reportOf(failing);
    await docker(['rm', '-f', failing.id]);
    const { enforcer, records, counters } = enforcerFor('kill');
    await enforcer.onReport(report);
    assert.deepEqual(await acted(counters.enforcementActions), []);
    assert.deepEqual(await acted(counters.enforcementFailures), [['kill', 1]]);
    assert.equal(records[0]?.level, 'error');
    assert.equal(records[0]?.msg, 'could not kill container that failed the policy');
    assert.match(String(records[0]?.['err']), /no such object|404/i);
  });
});

describe('Enforcer leaves alone', () => {
  test('without --enforce it only warns what it would do (a dry run), counted as warn', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const { enforcer, records, counters } = enforcerFor('kill', { enforce: false });
    await enforcer.onReport(await reportOf(failing));
    assert.equal((await state(failing)).Running, true);
    assert.deepEqual(await acted(counters.enforcementActions), [['warn', 1]]);
    assert.equal(records[0]?.msg, 'container failed the policy; would kill it with --enforce');
    assert.equal(records[0]?.['action'], 'warn');
  });

  test('action = warn with --enforce: a warning, the container keeps running', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const { enforcer, records, counters } = enforcerFor('warn');
    await enforcer.onReport(await reportOf(failing));
    assert.equal((await state(failing)).Running, true);
    assert.deepEqual(await acted(counters.enforcementActions), [['warn', 1]]);
    assert.equal(records[0]?.msg, 'container failed the policy');
  });

  test('a chain that failed only through check errors (a scanner timed out): nothing is known to be wrong, nothing is done', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const report = await reportOf(failing);
    const erroredOnly: ContainerReport = {
      ...report,
      results: report.results.map((result) =>
        result.result === 'fail' ? { ...result, result: 'error', reason: 'timed out after 300000 ms' } : result,
      ),
    };
    const { enforcer, records, counters } = enforcerFor('kill');
    await enforcer.onReport(erroredOnly);
    await enforcer.onReport(erroredOnly);
    assert.equal((await state(failing)).Running, true);
    assert.deepEqual(await acted(counters.enforcementActions), []);
    assert.equal(records.filter((record) => /only through check errors/.test(record.msg)).length, 1, 'logged once per start');
    // A real FAIL later in the same start is still acted on.
    await enforcer.onReport(report);
    assert.equal((await state(failing)).Running, false);
    assert.deepEqual(await acted(counters.enforcementActions), [['kill', 1]]);
  });

  test('an image in always_allow', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const report = await reportOf(failing, [TEST_IMAGE]);
    assert.equal(report.alwaysAllowed, true);
    const { enforcer, counters } = enforcerFor('kill');
    await enforcer.onReport(report);
    await enforcer.onReport({ ...report, compliant: false });
    assert.equal((await state(failing)).Running, true);
    assert.deepEqual(await acted(counters.enforcementActions), []);
  });

  test('its own container, recognised from /proc/self as seen inside that container', async () => {
    const failing = await startContainer([], FAILING_COMMAND);
    const inside = {
      cgroup: await docker(['exec', failing.id, 'cat', '/proc/self/cgroup']),
      mountinfo: await docker(['exec', failing.id, 'cat', '/proc/self/mountinfo']),
      hostname: await docker(['exec', failing.id, 'cat', '/etc/hostname']),
    };
    const self = new SelfContainer(inside);
    assert.ok(self.matches(failing.id));
    // A private cgroup namespace hides the ID from /proc/self/cgroup: mountinfo alone still tells.
    assert.ok(new SelfContainer({ ...inside, cgroup: '0::/\n' }).matches(failing.id));
    // Neither tells: Docker's default host name, the short ID, does.
    assert.ok(new SelfContainer({ cgroup: '0::/\n', mountinfo: '', hostname: inside.hostname }).matches(failing.id));

    const { enforcer, records, counters } = enforcerFor('kill', { self });
    await enforcer.onReport(await reportOf(failing));
    assert.equal((await state(failing)).Running, true);
    assert.deepEqual(await acted(counters.enforcementActions), []);
    assert.match(records[0]?.msg ?? '', /own container failed the policy; never acting on it/);
  });

  test('on the host, other containers\' mounts in /proc/self/mountinfo do not make them "self"', async () => {
    // A shareable IPC namespace puts the container's /dev/shm mount into the host's mount table.
    const shared = await startContainer(['--ipc', 'shareable'], FAILING_COMMAND);
    assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`/containers/${shared.id}/mounts/shm`));
    const self = detectSelfContainer();
    assert.equal(self.matches(shared.id), false);
    assert.deepEqual(self.known, []);
  });
});
