/**
 * The Evaluator over the fake engine (test/helpers/fake-engine.ts), which answers with JSON captured
 * from a real engine: verdicts, always_allow, fail_fast, containers that go during an evaluation,
 * image-scoped verdicts shared by the containers of an image, and host checks. The checks, the chain
 * and the EngineCache are the real ones.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { rootProcessesOf } from '../../src/checks/root-process-check.js';
import { DEFAULT_POLICY_INI } from '../../src/config/default-policy.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { EventFollower } from '../../src/core/event-follower.js';
import { Evaluator, type EvaluatorPolicy } from '../../src/core/evaluator.js';
import type { CheckInstance, CheckResult, ContainerReport } from '../../src/policy/types.js';
import { CAPTURED, FakeEngine, ROLES, engineError, type Role } from '../helpers/fake-engine.js';
import { captureLogger } from '../helpers/log-capture.js';

async function checksOf(ini: string): Promise<CheckInstance[]> {
  return (await parsePolicy(ini, 'policy.ini', BUILT_IN_CHECKS)).checks;
}

function evaluatorOver(
  engine: FakeEngine,
  policy: Partial<EvaluatorPolicy> & { checks: readonly CheckInstance[] },
  cache = new EngineCache(engine, new TopProcessSource(engine), 10_000),
): Evaluator {
  return new Evaluator(cache, { alwaysAllow: [], failFast: false, ...policy });
}

/** A check that counts its runs and otherwise is the real one. */
function counted(check: CheckInstance): { check: CheckInstance; runs: () => number } {
  let runs = 0;
  return {
    check: {
      ...check,
      run: (target) => {
        runs += 1;
        return check.run(target);
      },
    },
    runs: () => runs,
  };
}

function byRole(engine: FakeEngine, reports: readonly ContainerReport[]): Partial<Record<Role, ContainerReport>> {
  return Object.fromEntries(
    ROLES.flatMap((role) => reports.filter((report) => report.id === engine.id(role)).map((report) => [role, report])),
  );
}

/** A result without the check's data. */
function verdictOf(result: CheckResult | undefined): { check: string; result: string; reason: string | undefined } | undefined {
  return result === undefined ? undefined : { check: result.check, result: result.result, reason: result.reason };
}

function outcomes(report: ContainerReport | undefined): string[] | undefined {
  return report?.results.map((result) => `${result.check}:${result.result}`);
}

/** The root processes of a captured `top` table (columns pid, uid, user, args as DockerEngine asks). */
function capturedRoots(snapshot: string): { pid: number; command: string }[] {
  const top = CAPTURED.snapshots[snapshot]?.top;
  assert.ok(top !== undefined);
  const column = (title: string): number => top.Titles.indexOf(title);
  return top.Processes.filter((row) => row[column('UID')] === '0').map((row) => ({
    pid: Number(row[column('PID')]),
    command: row[column('COMMAND')] ?? '',
  }));
}

describe('Evaluator over captured engine data', () => {
  test('the default policy: a verdict per running container, with its root processes and identity', async () => {
    const engine = new FakeEngine();
    const evaluation = await evaluatorOver(engine, { checks: await checksOf(DEFAULT_POLICY_INI) }).evaluateAll();
    assert.deepEqual(evaluation.failed, []);
    assert.equal(evaluation.containers.length, CAPTURED.list.length);
    const reports = byRole(engine, evaluation.containers);
    const passing = ['ActiveBuildCheck:pass', 'RunningAsRootCheck:pass', 'RootProcessCheck:pass'];
    const rooted = ['ActiveBuildCheck:pass', 'RunningAsRootCheck:fail', 'RootProcessCheck:fail'];
    for (const role of ['app', 'twin', 'other'] as const) {
      assert.equal(reports[role]?.compliant, true, role);
      assert.deepEqual(outcomes(reports[role]), passing, role);
      assert.deepEqual(reports[role] && rootProcessesOf(reports[role]), [], role);
    }
    for (const role of ['root', 'hog'] as const) {
      assert.equal(reports[role]?.compliant, false, role);
      assert.deepEqual(outcomes(reports[role]), rooted, role);
      assert.deepEqual(reports[role] && rootProcessesOf(reports[role]), capturedRoots(role), role);
    }
    assert.deepEqual(
      capturedRoots('root').map((process) => process.command),
      ['sleep 3600'],
    );
    const app = reports.app;
    const summary = CAPTURED.list.find((entry) => entry.id === engine.id('app'));
    assert.equal(app?.name, CAPTURED.containers.app.name);
    assert.equal(app?.image, summary?.image);
    assert.equal(app?.imageId, summary?.imageId);
    assert.equal(app?.startedAt, CAPTURED.snapshots['app']?.inspect.State?.StartedAt);
    assert.equal(app?.alwaysAllowed, false);
  });

  test('a root exec session in a user container is found by its process, not its configuration', async () => {
    const engine = new FakeEngine();
    engine.set('app', 'app.exec-root');
    const report = await evaluatorOver(engine, { checks: await checksOf(DEFAULT_POLICY_INI) }).evaluateContainer(engine.id('app'));
    assert.deepEqual(outcomes(report), ['ActiveBuildCheck:pass', 'RunningAsRootCheck:pass', 'RootProcessCheck:fail']);
    const roots = report && rootProcessesOf(report);
    assert.deepEqual(roots, capturedRoots('app.exec-root'));
    assert.deepEqual(
      roots?.map((process) => process.command),
      ['sleep 3'],
    );
  });

  test('always_allow by image reference or ID prefix: no check runs on those containers; the others are evaluated', async () => {
    const otherImage = CAPTURED.list.find((entry) => entry.id === CAPTURED.containers.other.id)?.imageId ?? '';
    const busyboxImage = CAPTURED.list.find((entry) => entry.id === CAPTURED.containers.app.id)?.imageId ?? '';
    const checks = await checksOf(DEFAULT_POLICY_INI);
    for (const entry of ['docker-monitor-test/busybox:1', busyboxImage.replace('sha256:', '').slice(0, 12)]) {
      const engine = new FakeEngine();
      const { check, runs } = counted(checks[1] ?? assert.fail('no second check'));
      const evaluation = await evaluatorOver(engine, {
        checks: [checks[0] ?? assert.fail(), check, ...checks.slice(2)],
        alwaysAllow: [entry],
      }).evaluateAll();
      const reports = byRole(engine, evaluation.containers);
      for (const role of ['app', 'twin', 'root', 'hog'] as const) {
        assert.equal(reports[role]?.alwaysAllowed, true, `${entry}: ${role}`);
        assert.equal(reports[role]?.compliant, true, `${entry}: ${role}`);
        assert.deepEqual(reports[role]?.results, [], `${entry}: ${role}`);
      }
      assert.equal(reports.other?.alwaysAllowed, false, entry);
      assert.deepEqual(outcomes(reports.other), ['ActiveBuildCheck:pass', 'RunningAsRootCheck:pass', 'RootProcessCheck:pass'], entry);
      assert.equal(runs(), 1, `${entry}: the check ran on \`other\` only`);
      // A reference is matched against every tag of an image: each image in use is inspected once; an ID needs no lookup.
      assert.equal(engine.count('image'), entry.includes('/') ? 2 : 0, entry);
    }
    assert.notEqual(otherImage, busyboxImage, 'the captured `other` has its own image');
  });

  test('fail_fast ends the chain at the first failure; without it every check runs', async () => {
    const checks = await checksOf(
      '[docker_monitor.checks.RunningAsRootCheck]\n[docker_monitor.checks.RootProcessCheck]\n[docker_monitor.checks.ActiveBuildCheck]\n',
    );
    for (const failFast of [true, false]) {
      const engine = new FakeEngine();
      const evaluator = evaluatorOver(engine, { checks, failFast });
      const root = await evaluator.evaluateContainer(engine.id('root'));
      const app = await evaluator.evaluateContainer(engine.id('app'));
      assert.equal(root?.compliant, false);
      assert.deepEqual(
        outcomes(root),
        failFast ? ['RunningAsRootCheck:fail'] : ['RunningAsRootCheck:fail', 'RootProcessCheck:fail', 'ActiveBuildCheck:pass'],
        `fail_fast ${failFast}`,
      );
      assert.deepEqual(
        outcomes(app),
        ['RunningAsRootCheck:pass', 'RootProcessCheck:pass', 'ActiveBuildCheck:pass'],
        `fail_fast ${failFast}: nothing to stop at`,
      );
    }
  });
});

describe('Evaluator: containers that go, engines that fail', () => {
  test('a container gone (404) before its inspect: undefined, and a refresh neither reports nor counts it as failed', async () => {
    const engine = new FakeEngine();
    const evaluator = evaluatorOver(engine, { checks: await checksOf(DEFAULT_POLICY_INI) });
    engine.remove('root');
    assert.equal(await evaluator.evaluateContainer(engine.id('root')), undefined);
    // Listed, then gone before it is inspected.
    const fresh = new FakeEngine();
    fresh.failNext('inspect', engineError(CAPTURED.errors.notFound), fresh.id('root'));
    const evaluation = await evaluatorOver(fresh, { checks: await checksOf(DEFAULT_POLICY_INI) }).evaluateAll();
    assert.equal(fresh.count('inspect'), CAPTURED.list.length);
    assert.deepEqual(evaluation.failed, []);
    assert.deepEqual(
      new Set(evaluation.containers.map((report) => report.id)),
      new Set(CAPTURED.list.map((entry) => entry.id).filter((id) => id !== fresh.id('root'))),
    );
  });

  test('a container that stopped: not listed, and evaluated on its own (an event) it gives undefined', async () => {
    const engine = new FakeEngine();
    const evaluator = evaluatorOver(engine, { checks: await checksOf(DEFAULT_POLICY_INI) });
    engine.set('root', 'root.stopped');
    assert.equal(CAPTURED.snapshots['root.stopped']?.inspect.State?.Running, false);
    assert.equal(await evaluator.evaluateContainer(engine.id('root')), undefined);
    const evaluation = await evaluator.evaluateAll();
    assert.equal(evaluation.containers.length, CAPTURED.list.length - 1);
    assert.ok(evaluation.containers.every((report) => report.id !== engine.id('root')));
    assert.equal(engine.count('top'), CAPTURED.list.length - 1, 'no process list asked of a stopped container');
  });

  test('a container gone (404) between its inspect and its process list: undefined, not a check error', async () => {
    const engine = new FakeEngine();
    const evaluator = evaluatorOver(engine, { checks: await checksOf(DEFAULT_POLICY_INI) });
    const inspect = engine.hold('inspect', engine.id('root'));
    const evaluating = evaluator.evaluateContainer(engine.id('root'));
    await inspect.arrived;
    engine.remove('root');
    inspect.release();
    assert.equal(await evaluating, undefined);
  });

  test('an engine error other than 404 on one container: that one is listed as failed with why, the others are evaluated', async () => {
    const engine = new FakeEngine();
    const evaluator = evaluatorOver(engine, { checks: await checksOf(DEFAULT_POLICY_INI) });
    engine.failNext('inspect', engineError(CAPTURED.errors.unreachable), engine.id('app'));
    await assert.rejects(evaluator.evaluateContainer(engine.id('app')), /ECONNREFUSED/);
    engine.failNext('inspect', engineError(CAPTURED.errors.unreachable), engine.id('app'));
    const evaluation = await evaluator.evaluateAll();
    assert.deepEqual(evaluation.failed, [
      { id: engine.id('app'), name: CAPTURED.containers.app.name, error: CAPTURED.errors.unreachable.message },
    ]);
    assert.equal(evaluation.containers.length, CAPTURED.list.length - 1);
  });

  test('an engine that cannot list containers makes evaluateAll throw', async () => {
    const engine = new FakeEngine();
    engine.goDown();
    await assert.rejects(evaluatorOver(engine, { checks: await checksOf(DEFAULT_POLICY_INI) }).evaluateAll(), /ECONNREFUSED/);
  });
});

describe('Evaluator: image-scoped verdicts', () => {
  const POLICY = '[docker_monitor.checks.ImageUserCheck]\n[docker_monitor.checks.RunningAsRootCheck]\n';

  test('an image check runs once per image: later containers of that image, later refreshes and events reuse its verdict', async () => {
    const engine = new FakeEngine();
    const [imageUser, runningAsRoot] = await checksOf(POLICY);
    assert.equal(imageUser?.scope, 'image');
    const { check, runs } = counted(imageUser ?? assert.fail());
    const evaluator = evaluatorOver(engine, { checks: [check, runningAsRoot ?? assert.fail()] });
    assert.equal(new Set(CAPTURED.list.map((entry) => entry.imageId)).size, 2);

    await evaluator.evaluateContainer(engine.id('app'));
    await evaluator.evaluateContainer(engine.id('twin'));
    assert.equal(runs(), 1, "twin shares app's image");
    await evaluator.evaluateContainer(engine.id('other'));
    assert.equal(runs(), 2, 'other has its own');

    const all = byRole(engine, (await evaluator.evaluateAll()).containers);
    assert.equal(runs(), 2, 'a refresh of all five containers reuses both');
    for (const role of ['app', 'twin', 'root', 'hog'] as const) {
      assert.deepEqual(
        verdictOf(all[role]?.results[0]),
        { check: 'ImageUserCheck', result: 'fail', reason: 'the image sets no USER' },
        role,
      );
    }
    assert.deepEqual(
      verdictOf(all.other?.results[0]),
      { check: 'ImageUserCheck', result: 'pass', reason: undefined },
      'USER 1000 in the other image',
    );
    // The container-scoped check still ran per container: app (--user 1000) passes on the same image as root.
    assert.deepEqual(outcomes(all.app), ['ImageUserCheck:fail', 'RunningAsRootCheck:pass']);
    assert.deepEqual(outcomes(all.root), ['ImageUserCheck:fail', 'RunningAsRootCheck:fail']);

    // An image no container uses any more loses its verdict; used again, it is judged again.
    engine.remove('other');
    await evaluator.evaluateAll();
    engine.set('other', 'other');
    await evaluator.evaluateAll();
    assert.equal(runs(), 3);
  });

  test('containers of one image evaluated at the same time share one run of an image check', async () => {
    const engine = new FakeEngine();
    const [imageUser] = await checksOf(POLICY);
    const { check, runs } = counted(imageUser ?? assert.fail());
    await evaluatorOver(engine, { checks: [check] }).evaluateAll();
    assert.equal(runs(), 2, 'once per image');
  });

  test('an image check that errs is not reused: the next evaluation runs it again', async () => {
    const engine = new FakeEngine();
    const [imageUser] = await checksOf(POLICY);
    const { check, runs } = counted(imageUser ?? assert.fail());
    const evaluator = evaluatorOver(engine, { checks: [check] });
    const otherImage = CAPTURED.list.find((entry) => entry.id === engine.id('other'))?.imageId ?? '';
    // The image is read twice: for the key its verdict is kept under, then by the check itself.
    engine.failNext('image', engineError(CAPTURED.errors.unreachable), otherImage);
    engine.failNext('image', engineError(CAPTURED.errors.unreachable), otherImage);
    const first = await evaluator.evaluateContainer(engine.id('other'));
    assert.equal(first?.results[0]?.result, 'error');
    assert.match(first?.results[0]?.reason ?? '', /ECONNREFUSED/);
    const second = await evaluator.evaluateContainer(engine.id('other'));
    assert.deepEqual(outcomes(second), ['ImageUserCheck:pass']);
    assert.equal(runs(), 2);
  });
});

describe('Evaluator: host checks', () => {
  const POLICY = [
    'DefaultBridgeIccCheck',
    'InsecureRegistryCheck',
    'AufsStorageCheck',
    'LiveRestoreCheck',
    'ExperimentalCheck',
    'SwarmModeCheck',
    'LoggingDriverCheck',
    'RunningAsRootCheck',
  ]
    .map((name) => `[docker_monitor.checks.${name}]\n`)
    .join('');

  test('host checks run once per refresh on the captured /info, /version and /networks, read once for all of them', async () => {
    const engine = new FakeEngine();
    const cache = new EngineCache(engine, new TopProcessSource(engine), 10_000);
    const evaluator = evaluatorOver(engine, { checks: await checksOf(POLICY) }, cache);
    const evaluation = await evaluator.evaluateAll();
    // What the captured engine is: the default bridge with icc on, no live restore, json-file logs,
    // overlay2, only the loopback insecure registry, not experimental, swarm inactive.
    assert.equal(CAPTURED.info.LiveRestoreEnabled, false);
    assert.equal(CAPTURED.info.LoggingDriver, 'json-file');
    assert.deepEqual(
      evaluation.host.results.map((result) => `${result.check}:${result.result}`),
      [
        'DefaultBridgeIccCheck:fail',
        'InsecureRegistryCheck:pass',
        'AufsStorageCheck:pass',
        'LiveRestoreCheck:fail',
        'ExperimentalCheck:pass',
        'SwarmModeCheck:pass',
        'LoggingDriverCheck:fail',
      ],
    );
    assert.equal(evaluation.host.results[0]?.reason, 'icc is on for the default bridge');
    for (const report of evaluation.containers)
      assert.deepEqual(
        report.results.map((result) => result.check),
        ['RunningAsRootCheck'],
        'host checks are not run per container',
      );
    assert.deepEqual([engine.count('info'), engine.count('version'), engine.count('networks')], [1, 1, 1]);
    await evaluator.evaluateAll();
    assert.deepEqual([engine.count('info'), engine.count('version'), engine.count('networks')], [1, 1, 1], 'kept until it changes');
    // The next resync, as the monitor starts one: the follower has the host's data read again.
    new EventFollower(engine, cache, captureLogger().logger).beginResync();
    await evaluator.evaluateAll();
    assert.deepEqual(
      [engine.count('info'), engine.count('version'), engine.count('networks')],
      [2, 2, 2],
      'read again at the next refresh',
    );
  });

  test('when /info fails the host checks that need it record an error; the others and the containers are judged', async () => {
    const engine = new FakeEngine();
    engine.failNext('info', engineError(CAPTURED.errors.unreachable));
    const evaluation = await evaluatorOver(engine, { checks: await checksOf(POLICY) }).evaluateAll();
    const results = Object.fromEntries(evaluation.host.results.map((result) => [result.check, result]));
    assert.equal(results['DefaultBridgeIccCheck']?.result, 'fail', 'from /networks alone');
    for (const name of ['InsecureRegistryCheck', 'AufsStorageCheck', 'LiveRestoreCheck', 'SwarmModeCheck', 'LoggingDriverCheck']) {
      assert.equal(results[name]?.result, 'error', name);
      assert.match(results[name]?.reason ?? '', /ECONNREFUSED/, name);
    }
    assert.equal(evaluation.containers.length, CAPTURED.list.length);
    assert.equal(engine.count('info'), 1, 'one failed read shared by the checks of this refresh');
  });
});
