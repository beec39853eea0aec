import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { isRootUser } from '../../src/checks/running-as-root-check.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import type { CheckInstance } from '../../src/policy/types.js';
import { USER_FIXTURES, fixtureView, inspectFixture } from '../helpers/fixture-view.js';

/** The built-in check of `[docker_monitor.checks.<name>]` with `body` as its keys, loaded as from a file. */
async function builtIn(name: string, body = ''): Promise<CheckInstance> {
  const { checks } = await parsePolicy(`[docker_monitor.checks.${name}]\n${body}`, 'test.ini', BUILT_IN_CHECKS);
  assert.ok(checks[0]);
  return checks[0];
}

describe('ActiveBuildCheck', () => {
  test('PASS_FAST for a classic-builder RUN step, shell form and exec form', async () => {
    const check = await builtIn('ActiveBuildCheck');
    assert.deepEqual(await check.run(fixtureView('classic-build-step')), {
      result: 'pass_fast',
      reason: 'classic builder step (RUN) in progress',
    });
    assert.deepEqual(inspectFixture('classic-build-step-exec-form').Config?.Cmd, ['sleep', '6']);
    assert.deepEqual(await check.run(fixtureView('classic-build-step-exec-form')), {
      result: 'pass_fast',
      reason: 'classic builder step (RUN) in progress',
    });
  });

  test('PASS_FAST for a BuildKit builder container (moby/buildkit image, buildx_buildkit_ name)', async () => {
    const check = await builtIn('ActiveBuildCheck');
    const view = fixtureView('buildkit-builder');
    assert.match(view.name, /^buildx_buildkit_/);
    assert.deepEqual(await check.run(view), { result: 'pass_fast', reason: 'BuildKit builder container' });
    // Either sign alone is enough.
    const byImage = { ...view, name: 'builder' };
    const byName = { ...view, inspect: inspectFixture('user-unset'), name: view.name };
    assert.equal((await check.run(byImage)).result, 'pass_fast');
    assert.equal((await check.run(byName)).result, 'pass_fast');
  });

  test('PASS for ordinary containers, even one started from a bare image ID', async () => {
    const check = await builtIn('ActiveBuildCheck');
    for (const name of [...Object.keys(USER_FIXTURES), 'exec-root']) {
      assert.deepEqual(await check.run(fixtureView(name)), { result: 'pass' }, name);
    }
    const fromId = fixtureView('user-unset');
    const inspect = { ...fromId.inspect, Config: { ...fromId.inspect.Config, Image: fromId.inspect.Image } };
    assert.deepEqual(await check.run({ ...fromId, inspect }), { result: 'pass' });
  });

  test('takes no keys but the common ones', async () => {
    await assert.rejects(builtIn('ActiveBuildCheck', 'allow = on\n'), { message: /allow: unknown key/ });
    assert.equal((await builtIn('ActiveBuildCheck', 'severity = low\n')).severity, 'low');
  });
});

describe('RunningAsRootCheck', () => {
  test('FAIL for every spelling of root, PASS otherwise (captured containers)', async () => {
    const check = await builtIn('RunningAsRootCheck', 'allow_root = off\n');
    const expected: Record<string, string | undefined> = {
      'user-unset': 'no user set: runs as root',
      'user-0-0': 'runs as root (user "0:0")',
      'user-root-root': 'runs as root (user "root:root")',
      'user-0-1000': 'runs as root (user "0:1000")',
      'user-root-app': 'runs as root (user "root:app")',
      'user-1000': undefined,
      'user-app-app': undefined,
    };
    for (const [name, user] of Object.entries(USER_FIXTURES)) {
      assert.equal(fixtureView(name).inspect.Config?.User, user, `fixture ${name} was made with --user ${user}`);
      const reason = expected[name];
      assert.deepEqual(await check.run(fixtureView(name)), reason === undefined ? { result: 'pass' } : { result: 'fail', reason }, name);
    }
  });

  test('the spellings the engine accepts: "", root, 0, 00, 0:0, root:root, 0:<gid>, root:<group>', () => {
    for (const user of ['', ' ', 'root', '0', '00', '0:0', 'root:root', '0:1000', 'root:app']) assert.equal(isRootUser(user), true, user);
    for (const user of ['1000', 'app', 'app:root', '1000:0', 'rooter', '10']) assert.equal(isRootUser(user), false, user);
    assert.equal(isRootUser(undefined), true);
  });

  test('allow_root = on passes everyone; the default is off', async () => {
    const allowed = await builtIn('RunningAsRootCheck', 'allow_root = on\n');
    assert.deepEqual(await allowed.run(fixtureView('user-unset')), { result: 'pass' });
    const byDefault = await builtIn('RunningAsRootCheck');
    assert.equal((await byDefault.run(fixtureView('user-unset'))).result, 'fail');
  });
});

describe('RootProcessCheck', () => {
  test('FAIL with pid and command of each root process, which the result carries as data; PASS when none', async () => {
    const check = await builtIn('RootProcessCheck');
    const exec = fixtureView('exec-root');
    const [, rootProcess] = await exec.processes();
    assert.deepEqual(await check.run(exec), {
      result: 'fail',
      reason: `1 process running as root: pid ${rootProcess?.pid} (sleep 3601)`,
      data: { rootProcesses: [{ pid: rootProcess?.pid, command: 'sleep 3601' }] },
    });
    assert.deepEqual(await check.run(fixtureView('user-1000')), { result: 'pass', data: { rootProcesses: [] } });
    assert.deepEqual(await check.run(fixtureView('user-app-app')), { result: 'pass', data: { rootProcesses: [] } });
  });

  test('its metric docker_monitor_root_processes counts what the check did not allow', async () => {
    const exec = fixtureView('exec-root');
    for (const [options, count] of [
      ['', 1],
      ['allowed_commands = sleep\n', 0],
    ] as const) {
      const check = await builtIn('RootProcessCheck', options);
      const [metric] = check.metrics;
      assert.equal(metric?.name, 'docker_monitor_root_processes');
      const { data } = await check.run(exec);
      assert.deepEqual(
        metric.samples(data, { name: 'web', image: 'busybox', imageId: 'sha256:1' }),
        [{ labels: { container: 'web' }, value: count }],
        options,
      );
    }
  });

  test('the container user decides nothing: root:app runs a root process, exec-root is --user 1000', async () => {
    const check = await builtIn('RootProcessCheck');
    assert.equal((await check.run(fixtureView('user-root-app'))).result, 'fail');
    assert.equal(fixtureView('exec-root').inspect.Config?.User, '1000');
  });

  test('columns come from the Titles row, whatever their order', async () => {
    const check = await builtIn('RootProcessCheck');
    const reordered = await check.run(fixtureView('exec-root', { top: 'exec-root.reordered' }));
    assert.deepEqual(reordered, await check.run(fixtureView('exec-root')));
    assert.equal((await check.run(fixtureView('exec-root', { top: 'exec-root.ps-ef' }))).result, 'fail');
  });

  test('allowed_commands: by program name, or by the start of the command line up to a space', async () => {
    const exec = fixtureView('exec-root'); // root runs "sleep 3601", started without a path
    for (const allowed of ['sleep', 'sleep 3601', 'nginx, sleep']) {
      const check = await builtIn('RootProcessCheck', `allowed_commands = ${allowed}\n`);
      assert.equal((await check.run(exec)).result, 'pass', allowed);
    }
    // A path allows only a program started by that path.
    for (const allowed of ['slee', 'sleep 360', 'nginx', '/bin/sleep']) {
      const check = await builtIn('RootProcessCheck', `allowed_commands = ${allowed}\n`);
      assert.equal((await check.run(exec)).result, 'fail', allowed);
    }
  });

  test('a process list that cannot be read is an error of the check, not a pass', async () => {
    const check = await builtIn('RootProcessCheck');
    const view = { ...fixtureView('user-1000'), processes: () => Promise.reject(new Error('engine call top timed out after 10000 ms')) };
    await assert.rejects(async () => check.run(view), { message: 'engine call top timed out after 10000 ms' });
  });
});
