/**
 * Users' checks in worker threads (src/user-checks/) give what the same class gives run in the exporter's
 * own thread: the same outcomes on views of captured containers (including accessors answered across
 * the thread boundary), the same metadata and the same samples of their own metrics.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { parseIni } from '../../src/ini/ini-file.js';
import { instantiateCheck, loadUserCheck } from '../../src/policy/check-loader.js';
import type { CheckInstance } from '../../src/policy/types.js';
import { ScanPool } from '../../src/scanners/scan-pool.js';
import { restartDelay } from '../../src/user-checks/worker-check.js';
import { fixtureView } from '../helpers/fixture-view.js';

const examples = join(import.meta.dirname, '../../examples');
const fixtureNames = readdirSync(join(import.meta.dirname, '../fixtures/inspect')).map((file) => file.replace(/\.json$/, ''));
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dm-worker-check-'));
  writeFileSync(
    join(dir, 'metric_checks.js'),
    `import { existsSync, writeFileSync } from 'node:fs';
const metric = (name) => ({
  name,
  help: 'per container',
  labelNames: ['container', 'image', 'image_id'],
  samples: (data, container) => [{ labels: { container: container.name, image: container.image, image_id: container.imageId }, value: typeof data === 'number' ? data : data.n }],
});
export class ImageMetricCheck { static scope = 'image'; static metrics = [metric('image_metric')]; check() { return { result: 'pass', data: { n: 3 } }; } }
export class NumberDataCheck { static metrics = [metric('number_metric')]; check(container) { return { result: 'pass', data: container.name.length }; } }
export class DoubledDataCheck { static metrics = [metric('doubled_metric')]; check(container) { return { result: 'pass', data: container.name.length * 2 }; } }
export class SameDataCheck { static metrics = [metric('same_metric')]; check(container) { return { result: 'pass', data: container.name.length }; } }
let runs = 0;
export class DeadlineCheck {
  check() {
    runs += 1;
    // Once per marker file: the thread that replaces the busy one must not loop again.
    if (this.config.busy_once !== undefined && !existsSync(this.config.busy_once)) {
      writeFileSync(this.config.busy_once, '');
      for (;;);
    }
    if (runs === 1 && this.config.first === 'never') return new Promise(() => {});
    return { result: 'pass', reason: 'run ' + runs + ' of this thread' };
  }
}
export class ViewCheck {
  async check(container) {
    const processes = await container.processes();
    let image;
    try { await container.image(); } catch (error) { image = error.message; }
    return { result: 'pass', reason: processes.length + ' processes; image: ' + image, data: { aborted: container.signal.aborted } };
  }
}
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The check of `text`'s first section, loaded as docker-monitor loads it (in a worker) and in this thread. */
async function bothWays(text: string, folder: string): Promise<{ worker: CheckInstance; inThread: CheckInstance }> {
  const file = join(folder, 'policy.ini');
  const [worker] = (await parsePolicy(text, file, BUILT_IN_CHECKS)).checks;
  const [section] = parseIni(text, file).sections;
  assert.ok(worker !== undefined && section !== undefined);
  const inThread = instantiateCheck(await loadUserCheck(section, file), section, file, { scanPool: new ScanPool() });
  return { worker, inThread };
}

function metadata(check: CheckInstance): unknown {
  const { name, section, description, remediation, scope, severity, cisId, timeoutMs } = check;
  return {
    name,
    section,
    description,
    remediation,
    scope,
    severity,
    cisId,
    timeoutMs,
    metrics: check.metrics.map(({ name: metric, help, labelNames }) => ({ metric, help, labelNames })),
  };
}

describe("users' checks in worker threads give what they gave in the exporter's thread", () => {
  for (const [policy, module] of [
    ['[my_checks.MyPolicyCheck]\npass = pass fast\n', 'my_checks.js'],
    ['[my_checks.RequiredLabelsCheck]\nlabels = org.opencontainers.image.title, maintainer\nseverity = high\n', 'my_checks.js'],
    ['[my_checks.OpenPortsCheck]\nmax = 0\n', 'my_checks.js'],
    ['[my_checks_ts.MaxProcessesCheck]\nmax = 1\ntimeout = 3s\n', 'my_checks_ts.ts'],
  ] as const) {
    test(`examples/${module}: ${policy.split('\n')[0]}`, async () => {
      const { worker, inThread } = await bothWays(policy, examples);
      assert.deepEqual(metadata(worker), metadata(inThread));
      for (const name of fixtureNames) {
        const view = fixtureView(name);
        const [viaWorker, here] = await Promise.allSettled([worker.run(view), inThread.run(view)]);
        assert.equal(viaWorker.status, here.status, name);
        if (viaWorker.status === 'fulfilled' && here.status === 'fulfilled') {
          // The data crosses back as the samples the worker made of it (checked below), not as itself.
          const { data: _viaWorker, ...outcome } = viaWorker.value;
          const { data: _here, ...expected } = here.value;
          assert.deepEqual(outcome, expected, name);
          for (const [index, metric] of worker.metrics.entries()) {
            const container = { name: view.name, image: view.inspect.Config?.Image ?? '', imageId: view.inspect.Image };
            const expected: unknown = inThread.metrics[index]?.samples(here.value.data, container);
            assert.deepEqual(metric.samples(viaWorker.value.data, container), expected, `${metric.name} of ${name}`);
          }
        } else if (viaWorker.status === 'rejected' && here.status === 'rejected') {
          assert.equal((viaWorker.reason as Error).message, (here.reason as Error).message, name);
        }
      }
    });
  }

  test('the view: accessors are answered by the real view, errors included', async () => {
    const [check] = (await parsePolicy('[metric_checks.ViewCheck]\n', join(dir, 'policy.ini'), BUILT_IN_CHECKS)).checks;
    assert.deepEqual(await check?.run(fixtureView('user-unset')), {
      result: 'pass',
      reason: `${(await fixtureView('user-unset').processes()).length} processes; image: image inspect was not captured for this fixture`,
    });
  });

  test("an image-scoped check's samples, shared by every container of the image, carry each container's name and image", async () => {
    const [check] = (await parsePolicy('[metric_checks.ImageMetricCheck]\n', join(dir, 'policy.ini'), BUILT_IN_CHECKS)).checks;
    const outcome = await check?.run(fixtureView('user-1000'));
    const [metric] = check?.metrics ?? [];
    const other = { name: 'another', image: 'busybox:other', imageId: fixtureView('user-1000').inspect.Image };
    assert.deepEqual(metric?.samples(outcome?.data, other), [
      { labels: { container: 'another', image: 'busybox:other', image_id: other.imageId }, value: 3 },
    ]);
  });

  test('two checks whose data are equal plain values each export their own samples (none overwrites the other)', async () => {
    const text = '[metric_checks.NumberDataCheck]\n[metric_checks.SameDataCheck]\n[metric_checks.DoubledDataCheck]\n';
    const checks = (await parsePolicy(text, join(dir, 'policy.ini'), BUILT_IN_CHECKS)).checks;
    const view = fixtureView('user-0-0');
    const container = { name: view.name, image: view.inspect.Config?.Image ?? '', imageId: view.inspect.Image };
    // Equal values (the name's length) from two checks, and a third run in between with another value.
    const [number, same, doubled] = await Promise.all(checks.map((check) => check.run(view)));
    const labels = { container: view.name, image: container.image, image_id: container.imageId };
    assert.deepEqual(checks[0]?.metrics[0]?.samples(number?.data, container), [{ labels, value: view.name.length }]);
    assert.deepEqual(checks[1]?.metrics[0]?.samples(same?.data, container), [{ labels, value: view.name.length }]);
    assert.deepEqual(checks[2]?.metrics[0]?.samples(doubled?.data, container), [{ labels, value: view.name.length * 2 }]);
  });
});

test('a worker thread that keeps failing is started again at once, then after 0.5 s, 1 s, 2 s … up to 30 s', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 50].map((failures) => restartDelay(failures)),
    [0, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000],
  );
});

describe('a run past its timeout and one second more', () => {
  test('in a busy loop: its worker thread is stopped and a new one runs the next run', async () => {
    const [check] = (
      await parsePolicy(
        `[metric_checks.DeadlineCheck]\nbusy_once = ${join(dir, 'busy-once')}\ntimeout = 200ms\n`,
        join(dir, 'policy.ini'),
        BUILT_IN_CHECKS,
      )
    ).checks;
    await assert.rejects(
      check?.run(fixtureView('user-1000')) ?? Promise.resolve(),
      /did not finish within 200 ms and its thread did not answer; its worker thread was stopped and is restarted/,
    );
    assert.deepEqual(await check?.run(fixtureView('user-1000')), { result: 'pass', reason: 'run 1 of this thread' });
  });

  test('never settling in a thread that still answers: the run is given up, the thread kept', async () => {
    const [check] = (
      await parsePolicy('[metric_checks.DeadlineCheck]\nfirst = never\ntimeout = 200ms\n', join(dir, 'policy.ini'), BUILT_IN_CHECKS)
    ).checks;
    await assert.rejects(check?.run(fixtureView('user-1000')) ?? Promise.resolve(), /^Error: timed out after 200 ms$/);
    assert.deepEqual(await check?.run(fixtureView('user-1000')), { result: 'pass', reason: 'run 2 of this thread' });
  });
});
