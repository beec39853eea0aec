import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, beforeEach, describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { parseIni } from '../../src/ini/ini-file.js';
import { instantiateCheck, loadUserCheck } from '../../src/policy/check-loader.js';
import { runChain, runCheck, type ImageVerdict } from '../../src/policy/chain.js';
import type { CheckInstance, ContainerView } from '../../src/policy/types.js';
import { ScanPool } from '../../src/scanners/scan-pool.js';
import { fixtureView } from '../helpers/fixture-view.js';

/** Checks that record each run in `calls`; the verdict comes from the section's `verdict` key. */
const MODULE = `
export const calls = [];
class Recording {
  check(container) {
    calls.push(this.constructor.name + ':' + container.name);
    return this.config.verdict ?? 'pass';
  }
}
export class A extends Recording {}
export class B extends Recording {}
export class C extends Recording {}
export class D extends Recording {}
export class Thrower extends Recording {
  check(container) { super.check(container); throw new Error('scanner exploded'); }
}
export class Sleeper extends Recording {
  async check(container) {
    super.check(container);
    await new Promise((resolve) => container.signal.addEventListener('abort', resolve));
    calls.push('aborted');
    return 'pass';
  }
}
export class PerImage extends Recording { static scope = 'image'; }
export class ImageThrower extends Thrower { static scope = 'image'; }
export class HostOnly extends Recording { static scope = 'host'; }
`;

let dir = '';
let calls: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dm-chain-'));
  writeFileSync(join(dir, 'recording.js'), MODULE);
  calls = ((await import(pathToFileURL(join(dir, 'recording.js')).href)) as { calls: string[] }).calls;
});
after(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => calls.splice(0));

/**
 * The checks of `[recording.<Name>]` sections, created in this thread so that they share `calls` with the
 * test (the CLI runs users' checks in worker threads of their own; the chain runs them all alike).
 */
async function checks(text: string): Promise<CheckInstance[]> {
  const file = join(dir, 'policy.ini');
  const context = { scanPool: new ScanPool() };
  const created: CheckInstance[] = [];
  for (const section of parseIni(text, file).sections) {
    created.push(instantiateCheck(await loadUserCheck(section, file), section, file, context));
  }
  return created;
}

function chain(
  list: CheckInstance[],
  view: ContainerView,
  failFast = false,
  imageVerdicts = new Map<string, ImageVerdict>(),
  imageKey = 'image data',
) {
  return runChain(list, (signal) => ({ ...view, signal }), { failFast, imageVerdicts, imageId: view.inspect.Image, imageKey });
}

const view = fixtureView('user-1000');

describe('runChain', () => {
  test('runs every check in file order; compliant when all pass', async () => {
    const outcome = await chain(await checks('[recording.C]\n[recording.A]\n[recording.B]\n'), view);
    assert.deepEqual(calls, [`C:${view.name}`, `A:${view.name}`, `B:${view.name}`]);
    assert.deepEqual(
      { compliant: outcome.compliant, results: outcome.results },
      {
        compliant: true,
        results: ['C', 'A', 'B'].map((check) => ({ check, result: 'pass', reason: undefined })),
      },
    );
  });

  test('PASS_FAST ends the chain as passed: later checks are absent from the results', async () => {
    const outcome = await chain(await checks('[recording.A]\n[recording.B]\nverdict = pass_fast\n[recording.C]\nverdict = fail\n'), view);
    assert.deepEqual(calls, [`A:${view.name}`, `B:${view.name}`]);
    assert.equal(outcome.compliant, true);
    assert.deepEqual(
      outcome.results.map(({ check, result }) => [check, result]),
      [
        ['A', 'pass'],
        ['B', 'pass_fast'],
      ],
    );
  });

  test('PASS_FAST after a FAIL does not undo it', async () => {
    const outcome = await chain(await checks('[recording.A]\nverdict = fail\n[recording.B]\nverdict = pass_fast\n[recording.C]\n'), view);
    assert.equal(outcome.compliant, false);
    assert.deepEqual(
      outcome.results.map(({ result }) => result),
      ['fail', 'pass_fast'],
    );
  });

  test('fail_fast off (default): every check runs so every violation is visible', async () => {
    const outcome = await chain(await checks('[recording.A]\nverdict = fail\n[recording.B]\n[recording.C]\nverdict = fail\n'), view);
    assert.equal(calls.length, 3);
    assert.equal(outcome.compliant, false);
    assert.deepEqual(
      outcome.results.map(({ result }) => result),
      ['fail', 'pass', 'fail'],
    );
  });

  test('fail_fast on: the chain stops at the first FAIL, as the CFPB tool did', async () => {
    const outcome = await chain(await checks('[recording.A]\n[recording.B]\nverdict = fail\n[recording.C]\n'), view, true);
    assert.deepEqual(calls, [`A:${view.name}`, `B:${view.name}`]);
    assert.deepEqual(
      outcome.results.map(({ check, result }) => [check, result]),
      [
        ['A', 'pass'],
        ['B', 'fail'],
      ],
    );
    assert.equal(outcome.compliant, false);
  });

  test('a check that throws gives error (a failure for the verdict) and the next checks still run', async () => {
    const outcome = await chain(await checks('[recording.Thrower]\n[recording.A]\n'), view);
    assert.deepEqual(outcome.results, [
      { check: 'Thrower', result: 'error', reason: 'scanner exploded' },
      { check: 'A', result: 'pass', reason: undefined },
    ]);
    assert.equal(outcome.compliant, false);
  });

  test('with fail_fast an error stops the chain like a FAIL', async () => {
    const outcome = await chain(await checks('[recording.Thrower]\n[recording.A]\n'), view, true);
    assert.deepEqual(
      outcome.results.map(({ result }) => result),
      ['error'],
    );
  });

  test('a check past its timeout gives error, its signal is aborted, and the chain goes on', async () => {
    const started = Date.now();
    const outcome = await chain(await checks('[recording.Sleeper]\ntimeout = 100ms\n[recording.A]\n'), view);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 2000, `took ${elapsed} ms`);
    assert.deepEqual(outcome.results, [
      { check: 'Sleeper', result: 'error', reason: 'timed out after 100 ms' },
      { check: 'A', result: 'pass', reason: undefined },
    ]);
    assert.ok(calls.includes('aborted'), 'the check saw its signal abort');
  });

  test('image-scoped verdicts are computed once per image ID and reused; errors are not cached', async () => {
    const list = await checks('[recording.PerImage]\nverdict = fail\n[recording.ImageThrower]\n[recording.A]\n');
    const imageVerdicts = new Map<string, ImageVerdict>();
    const other = fixtureView('user-app-app');
    assert.equal(other.inspect.Image, view.inspect.Image, 'both fixtures run the test image');
    const first = await chain(list, view, false, imageVerdicts);
    const second = await chain(list, other, false, imageVerdicts);
    assert.deepEqual(first.results, second.results);
    assert.deepEqual(calls, [
      `PerImage:${view.name}`,
      `ImageThrower:${view.name}`,
      `A:${view.name}`,
      `ImageThrower:${other.name}`,
      `A:${other.name}`,
    ]);
    assert.deepEqual([...imageVerdicts.keys()], [`recording.PerImage\u0000${view.inspect.Image}`]);
  });

  test('an image-scoped verdict runs again when the image data changes under the same ID (a tag or untag), and is not kept when it is unreadable', async () => {
    const list = await checks('[recording.PerImage]\nverdict = fail\n');
    const imageVerdicts = new Map<string, ImageVerdict>();
    await chain(list, view, false, imageVerdicts, 'app:1.4,app:latest');
    await chain(list, view, false, imageVerdicts, 'app:1.4,app:latest');
    assert.equal(calls.length, 1, 'the same image data reuses the verdict');
    await chain(list, view, false, imageVerdicts, 'app:latest');
    assert.equal(calls.length, 2, 'the untag made it run again');
    await runChain(list, (signal) => ({ ...view, signal }), {
      failFast: false,
      imageVerdicts,
      imageId: view.inspect.Image,
      imageKey: undefined,
    });
    await chain(list, view, false, imageVerdicts, 'app:latest');
    assert.equal(calls.length, 3, 'an unreadable image runs the check and keeps nothing over the last kept verdict');
  });

  test("host-scoped checks are not part of a container's chain", async () => {
    const outcome = await chain(await checks('[recording.HostOnly]\n[recording.A]\n'), view);
    assert.deepEqual(
      outcome.results.map(({ check }) => check),
      ['A'],
    );
  });

  test('the built-in default chain on captured containers', async () => {
    const defaults = (
      await parsePolicy(
        '[docker_monitor.checks.ActiveBuildCheck]\n[docker_monitor.checks.RunningAsRootCheck]\n[docker_monitor.checks.RootProcessCheck]\n',
        'default',
        BUILT_IN_CHECKS,
      )
    ).checks;
    const build = await chain(defaults, fixtureView('classic-build-step'));
    assert.deepEqual(
      build.results.map(({ result }) => result),
      ['pass_fast'],
    );
    assert.equal(build.compliant, true);
    const root = await chain(defaults, fixtureView('exec-root'));
    assert.deepEqual(
      root.results.map(({ check, result }) => [check, result]),
      [
        ['ActiveBuildCheck', 'pass'],
        ['RunningAsRootCheck', 'pass'],
        ['RootProcessCheck', 'fail'],
      ],
    );
  });
});

describe('runCheck', () => {
  test('a view that cannot be built is an error of that check', async () => {
    const [check] = await checks('[recording.A]\n');
    assert.ok(check);
    const result = await runCheck(check, () => {
      throw new Error('container vanished');
    });
    assert.deepEqual(result, { check: 'A', result: 'error', reason: 'container vanished' });
  });
});

describe('runChain: a result is reused while its inputs are unchanged', () => {
  /** Inputs keys by check name; a check not listed keys as "same". */
  const keys =
    (byCheck: Record<string, string>) =>
    (check: CheckInstance): Promise<string> =>
      Promise.resolve(byCheck[check.name] ?? 'same');
  const run = (
    list: CheckInstance[],
    inputsKey: (check: CheckInstance) => Promise<string>,
    previous?: Awaited<ReturnType<typeof runChain>>,
  ) =>
    runChain(list, (signal) => ({ ...view, signal }), {
      failFast: false,
      imageVerdicts: new Map(),
      imageId: view.inspect.Image,
      previous: previous?.memo,
      inputsKey,
    });

  test('only the checks whose inputs changed run; the others give the same result objects', async () => {
    const list = await checks('[recording.A]\n[recording.B]\n[recording.C]\n');
    const first = await run(list, keys({ B: '1' }));
    calls.splice(0);
    const second = await run(list, keys({ B: '2' }), first);
    assert.deepEqual(calls, [`B:${view.name}`]);
    assert.equal(second.results[0], first.results[0]);
    assert.notEqual(second.results[1], first.results[1]);
    assert.equal(second.results[2], first.results[2]);
  });

  test('an error is not kept: the check runs again though its inputs are the same', async () => {
    const list = await checks('[recording.Thrower]\n[recording.A]\n');
    const first = await run(list, keys({}));
    calls.splice(0);
    const second = await run(list, keys({}), first);
    assert.deepEqual(calls, [`Thrower:${view.name}`]);
    assert.equal(second.results[0]?.result, 'error');
  });

  test('PASS_FAST still ends the chain, and the checks after it run again once it no longer passes fast', async () => {
    const passing = await checks('[recording.A]\n[recording.B]\n[recording.C]\n');
    const fast = await checks('[recording.A]\n[recording.B]\nverdict = pass_fast\n[recording.C]\n');
    const first = await run(passing, keys({ B: '1' }));
    calls.splice(0);
    const second = await run(fast, keys({ B: '2' }), first);
    assert.deepEqual(calls, [`B:${view.name}`], 'A reused, B ran and passed fast, C not reached');
    assert.deepEqual(
      second.results.map((result) => result.check),
      ['A', 'B'],
    );
    calls.splice(0);
    const third = await run(passing, keys({ B: '3' }), second);
    assert.deepEqual(calls, [`B:${view.name}`, `C:${view.name}`], 'C has no kept result since the chain stopped before it');
    assert.deepEqual(
      third.results.map((result) => result.result),
      ['pass', 'pass', 'pass'],
    );
  });
});
