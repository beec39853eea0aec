/**
 * The VerdictStore with no engine at all: evaluations and reports go in, the state comes out. A refresh
 * yields to every event numbered after it began and to every event still being evaluated then, an
 * older event's result never replaces a newer one's,
 * containers that fail keep their last verdict, unchanged verdicts keep their objects, `up` rises only
 * after UP_AFTER_SUCCESSES refreshes in a row (at once for the first contact or after the stream
 * reopened), and waivers that end turn their results back into FAILs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Evaluation } from '../../src/core/evaluator.js';
import { UP_AFTER_SUCCESSES, VerdictStore } from '../../src/core/verdict-store.js';
import { ContainerSelector, EMPTY_SELECTOR } from '../../src/policy/selector.js';
import type { CheckResult, ContainerReport } from '../../src/policy/types.js';
import { WaiverSet, parseExpiryDate } from '../../src/policy/waivers.js';

const PASS: CheckResult = { check: 'RunningAsRootCheck', result: 'pass' };
const FAIL: CheckResult = { check: 'RunningAsRootCheck', result: 'fail', reason: 'no user set: runs as root' };

function report(id: string, result: CheckResult = PASS): ContainerReport {
  return {
    id,
    name: `name-${id}`,
    image: 'alpine:3.20',
    imageId: 'sha256:aaaa',
    compliant: result.result !== 'fail',
    alwaysAllowed: false,
    results: [result],
    startedAt: '2026-01-01T00:00:00Z',
    labels: {},
  };
}

function evaluation(reports: ContainerReport[], failed: Evaluation['failed'] = []): Evaluation {
  return { containers: reports, failed, host: { results: [] } };
}

const NO_WAIVERS = new WaiverSet([]);

function verdicts(store: VerdictStore): Record<string, string> {
  return Object.fromEntries([...store.state.containers].map(([id, found]) => [id, found.results.map((result) => result.result).join(',')]));
}

describe('VerdictStore: refreshes and events', () => {
  test('a refresh makes the state; an unchanged verdict keeps its object, and so does the map when nothing changed', () => {
    const store = new VerdictStore(NO_WAIVERS);
    const first = store.adoptRefresh(evaluation([report('a'), report('b', FAIL)]), store.refreshStarts(), 0.5);
    assert.deepEqual(verdicts(store), { a: 'pass', b: 'fail' });
    assert.equal(first.reports.length, 2);
    assert.equal(store.state.refreshDuration, 0.5);
    assert.ok(store.state.lastRefreshTimestamp > 0);
    const before = store.state;
    store.adoptRefresh(evaluation([report('a'), report('b', FAIL)]), store.refreshStarts(), 0.1);
    assert.equal(store.state.containers, before.containers, 'same verdicts: same map');
    assert.equal(store.state.containers.get('a'), before.containers.get('a'));
    store.adoptRefresh(evaluation([report('a', FAIL), report('b', FAIL)]), store.refreshStarts(), 0.1);
    assert.notEqual(store.state.containers, before.containers);
    assert.equal(store.state.containers.get('b'), before.containers.get('b'), 'b is unchanged: its object stays');
  });

  test('a container whose evaluation failed keeps its last verdict; one not listed any more goes', () => {
    const store = new VerdictStore(NO_WAIVERS);
    store.adoptRefresh(evaluation([report('a'), report('b', FAIL), report('c')]), store.refreshStarts(), 0);
    store.adoptRefresh(evaluation([report('a')], [{ id: 'b', name: 'name-b', error: 'ECONNRESET' }]), store.refreshStarts(), 0);
    assert.deepEqual(verdicts(store), { a: 'pass', b: 'fail' });
  });

  test('a refresh that started before an event yields to it: removed stays removed, evaluated keeps the event verdict, listeners are not told', () => {
    const store = new VerdictStore(NO_WAIVERS);
    store.adoptRefresh(evaluation([report('a'), report('b')]), store.refreshStarts(), 0);
    const refreshStart = store.refreshStarts();
    // While the refresh runs: a is destroyed, b gets a root process.
    assert.ok(store.applyEvent('a', undefined, store.touch('a')));
    assert.ok(store.applyEvent('b', report('b', FAIL), store.touch('b')));
    const adopted = store.adoptRefresh(evaluation([report('a'), report('b'), report('c')]), refreshStart, 0);
    assert.deepEqual(verdicts(store), { b: 'fail', c: 'pass' });
    assert.deepEqual(
      adopted.reports.map((found) => found.id),
      ['c'],
      'the reports the events superseded are not handed on',
    );
    // The next refresh started after both events: it decides again.
    store.adoptRefresh(evaluation([report('b')]), store.refreshStarts(), 0);
    assert.deepEqual(verdicts(store), { b: 'pass' });
  });

  test("an older event's result, arriving last, is discarded", () => {
    const store = new VerdictStore(NO_WAIVERS);
    const older = store.touch('a');
    const newer = store.touch('a');
    assert.equal(store.applyEvent('a', report('a'), newer), true);
    assert.equal(store.applyEvent('a', report('a', FAIL), older), false);
    assert.deepEqual(verdicts(store), { a: 'pass' });
  });

  test('a refresh that began while an event was being evaluated yields to it, even when the event finished first', () => {
    // A scan reads the container from the cache before the event's evaluation has read it again.
    const store = new VerdictStore(NO_WAIVERS);
    store.adoptRefresh(evaluation([report('a', FAIL)]), store.refreshStarts(), 0);
    const sequence = store.touch('a');
    store.evaluationStarted('a');
    const start = store.refreshStarts();
    assert.ok(store.applyEvent('a', report('a'), sequence));
    store.evaluationEnded('a');
    const adopted = store.adoptRefresh(evaluation([report('a', FAIL)]), start, 0);
    assert.deepEqual(verdicts(store), { a: 'pass' }, "the event's verdict stands");
    assert.deepEqual(adopted.reports, [], 'the listeners are not handed the older verdict');
    // A refresh that begins after the evaluation ended decides again.
    store.adoptRefresh(evaluation([report('a', FAIL)]), store.refreshStarts(), 0);
    assert.deepEqual(verdicts(store), { a: 'fail' });
  });

  test('events still being evaluated keep their claim through a refresh that started after them', () => {
    // Two events for a, both evaluating; the newer finishes first, then a refresh that began after both,
    // then the older evaluation: it must not overwrite the newer verdict.
    const lateOlderResult = (claimed: boolean): boolean => {
      const store = new VerdictStore(NO_WAIVERS);
      const older = store.touch('a');
      const newer = store.touch('a');
      if (claimed) {
        store.evaluationStarted('a');
        store.evaluationStarted('a');
      }
      store.applyEvent('a', report('a'), newer);
      if (claimed) store.evaluationEnded('a');
      store.adoptRefresh(evaluation([report('a')]), store.refreshStarts(), 0);
      return store.applyEvent('a', report('a', FAIL), older);
    };
    assert.equal(lateOlderResult(true), false, 'the older result is discarded');
    assert.equal(lateOlderResult(false), true, 'without the claim the refresh forgets the touch (what the claim is for)');
  });
});

describe('VerdictStore: up', () => {
  test(`up at the first contact; after a failure only after ${UP_AFTER_SUCCESSES} refreshes in a row; verdicts stay meanwhile`, () => {
    const store = new VerdictStore(NO_WAIVERS);
    assert.equal(store.state.up, false);
    assert.equal(store.reached, false);
    const first = store.adoptRefresh(evaluation([report('a')]), store.refreshStarts(), 0);
    assert.equal(store.state.up, true);
    assert.equal(first.cameUp, true);
    assert.equal(store.reached, true);
    store.refreshFailed(2);
    assert.equal(store.state.up, false);
    assert.equal(store.state.refreshDuration, 2);
    assert.deepEqual(verdicts(store), { a: 'pass' }, 'last-known verdicts stay');
    const ups: boolean[] = [];
    for (let index = 0; index < UP_AFTER_SUCCESSES; index += 1) {
      store.adoptRefresh(evaluation([report('a')]), store.refreshStarts(), 0);
      ups.push(store.state.up);
    }
    assert.deepEqual(ups, [...Array.from({ length: UP_AFTER_SUCCESSES - 1 }, () => false), true]);
    // Flapping: every other refresh fails, up stays 0.
    const flapping: boolean[] = [];
    for (let index = 0; index < 4; index += 1) {
      store.refreshFailed(0);
      store.adoptRefresh(evaluation([report('a')]), store.refreshStarts(), 0);
      flapping.push(store.state.up);
    }
    assert.deepEqual(flapping, [false, false, false, false]);
  });

  test('the event stream reopened: the next refresh that reaches the engine is up at once; a timed-out scrape is down', () => {
    const store = new VerdictStore(NO_WAIVERS);
    store.adoptRefresh(evaluation([]), store.refreshStarts(), 0);
    store.timedOut();
    assert.equal(store.state.up, false);
    store.streamReopenedAfterBreak();
    assert.equal(store.adoptRefresh(evaluation([]), store.refreshStarts(), 0).cameUp, true);
    assert.equal(store.state.up, true);
  });
});

describe('VerdictStore: waivers', () => {
  test('a waiver that ends turns its results back into FAILs in the state, and in refreshes and events that still carry it', () => {
    let now = parseExpiryDate('2027-01-01') - 1;
    const waivers = new WaiverSet(
      [
        {
          name: 'legacy',
          checks: new Set(['RunningAsRootCheck']),
          selector: new ContainerSelector({ ...EMPTY_SELECTOR, containers: ['name-a'] }),
          reason: 'migrating',
          expires: '2027-01-01',
          expiresAt: parseExpiryDate('2027-01-01'),
        },
      ],
      () => now,
    );
    const waived = (id: string): ContainerReport => {
      const base = report(id, FAIL);
      const results = waivers.apply(base.results, { name: base.name, labels: {}, imageId: base.imageId, references: [base.image] });
      return { ...base, results, compliant: true };
    };
    const store = new VerdictStore(waivers);
    store.adoptRefresh(evaluation([waived('a'), report('b')]), store.refreshStarts(), 0);
    assert.deepEqual(verdicts(store), { a: 'waived', b: 'pass' });
    assert.deepEqual(store.expireWaivers(), [], 'not yet');
    const madeBefore = waived('a');
    now += 1;
    const changed = store.expireWaivers();
    assert.deepEqual(
      changed.map((found) => [found.id, found.compliant]),
      [['a', false]],
    );
    assert.deepEqual(verdicts(store), { a: 'fail', b: 'pass' });
    // An evaluation (or event) made before the end still carries the waiver: it is undone as it is taken.
    assert.equal(madeBefore.results[0]?.result, 'waived');
    store.adoptRefresh(evaluation([madeBefore]), store.refreshStarts(), 0);
    assert.deepEqual(verdicts(store), { a: 'fail' });
    store.applyEvent('a', madeBefore, store.touch('a'));
    assert.deepEqual(verdicts(store), { a: 'fail' });
  });
});
