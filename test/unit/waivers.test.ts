/**
 * Waivers and selectors on inspect data captured from the real engine: which FAILs a waiver covers, the
 * waived result it makes, and its end at the start of its expiry day (UTC), read from an injected clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { containerName } from '../../src/engine/container-name.js';
import { ContainerSelector, EMPTY_SELECTOR, type SelectorTarget } from '../../src/policy/selector.js';
import type { CheckResult, ContainerReport } from '../../src/policy/types.js';
import { WaiverSet, parseExpiryDate, type Waiver } from '../../src/policy/waivers.js';
import { inspectFixture } from '../helpers/fixture-view.js';

function targetOf(fixture: string, extraLabels: Record<string, string> = {}): SelectorTarget {
  const inspect = inspectFixture(fixture);
  return {
    name: containerName(inspect.Name),
    labels: { ...inspect.Config?.Labels, ...extraLabels },
    imageId: inspect.Image,
    references: [inspect.Config?.Image ?? ''],
  };
}

const root = targetOf('user-unset');
const user = targetOf('user-1000', { 'com.example.ci-job': 'build/42' });

function waiver(name: string, spec: Partial<typeof EMPTY_SELECTOR>, options: { checks?: string[]; expires?: string } = {}): Waiver {
  return {
    name,
    checks: new Set(options.checks ?? ['RunningAsRootCheck']),
    selector: new ContainerSelector({ ...EMPTY_SELECTOR, ...spec }),
    reason: `reason of ${name}`,
    expires: options.expires,
    expiresAt: options.expires === undefined ? undefined : parseExpiryDate(options.expires),
  };
}

const FAIL: CheckResult = { check: 'RunningAsRootCheck', result: 'fail', reason: 'no user set: runs as root' };

describe('selectors', () => {
  test('name globs, image references and IDs, label keys and key=value globs', () => {
    const match = (spec: Partial<typeof EMPTY_SELECTOR>, target: SelectorTarget) =>
      new ContainerSelector({ ...EMPTY_SELECTOR, ...spec }).matches(target);
    assert.equal(match({ containers: ['dmt-*'] }, root), true);
    assert.equal(match({ containers: ['other-*', 'dmt-?'] }, root), false);
    assert.equal(match({ images: ['docker-monitor-test/busybox:1'] }, root), true);
    assert.equal(match({ images: ['docker-monitor-test/busybox:2'] }, root), false);
    assert.equal(match({ images: [root.imageId.slice('sha256:'.length, 'sha256:'.length + 12)] }, root), true);
    assert.equal(match({ labels: ['docker-monitor.test'] }, root), true);
    assert.equal(match({ labels: ['com.example.ci-job'] }, root), false);
    assert.equal(match({ labels: ['com.example.ci-job=build/*'] }, user), true, 'a * in a label value crosses /');
    assert.equal(match({ labels: ['com.example.ci-job=deploy/*'] }, user), false);
  });
});

describe('waivers', () => {
  const day = (iso: string) => () => Date.parse(iso);

  test('a covered FAIL becomes waived with the waiver, other results and containers are untouched', () => {
    const set = new WaiverSet([waiver('roots', { containers: [root.name] }, { expires: '2027-01-31' })], day('2027-01-30T23:59:59Z'));
    const pass: CheckResult = { check: 'RootProcessCheck', result: 'pass' };
    const other: CheckResult = { check: 'RootProcessCheck', result: 'fail', reason: 'x' };
    assert.deepEqual(set.apply([FAIL, pass, other], root), [
      { ...FAIL, result: 'waived', waiver: { name: 'roots', reason: 'reason of roots', expires: '2027-01-31' } },
      pass,
      other,
    ]);
    assert.deepEqual(set.apply([FAIL], user), [FAIL]);
    assert.deepEqual(set.apply([{ ...FAIL, result: 'error' }], root), [{ ...FAIL, result: 'error' }], 'errors are not waived');
  });

  test('the waiver ends at the start of its expiry day, UTC', () => {
    let now = Date.parse('2027-01-30T23:59:59.999Z');
    const set = new WaiverSet([waiver('roots', { labels: ['docker-monitor.test'] }, { expires: '2027-01-31' })], () => now);
    assert.equal(set.apply([FAIL], root)[0]?.result, 'waived');
    assert.equal(set.nextExpiry(), Date.parse('2027-01-31T00:00:00Z'));
    now = Date.parse('2027-01-31T00:00:00Z');
    assert.deepEqual(set.apply([FAIL], root), [FAIL]);
    assert.equal(set.nextExpiry(), undefined);
  });

  test('expire() turns the results of an ended waiver back into FAILs and the container non-compliant', () => {
    let now = Date.parse('2027-01-30T12:00:00Z');
    const set = new WaiverSet([waiver('roots', { containers: ['dmt-*'] }, { expires: '2027-01-31' })], () => now);
    const results = set.apply([FAIL], root);
    const report: ContainerReport = {
      id: 'x',
      name: root.name,
      image: 'i',
      imageId: root.imageId,
      compliant: true,
      alwaysAllowed: false,
      results,
      startedAt: '',
      labels: {},
    };
    assert.equal(set.expire(report), report, 'unchanged while the waiver lasts');
    now = Date.parse('2027-01-31T00:00:01Z');
    const expired = set.expire(report);
    assert.deepEqual(expired.results, [FAIL]);
    assert.equal(expired.compliant, false);
  });

  test('of two matching waivers the one lasting longest is recorded, so none is left active when it ends', () => {
    const set = new WaiverSet(
      [
        waiver('short', { containers: ['dmt-*'] }, { expires: '2027-02-01' }),
        waiver('forever', { images: ['docker-monitor-test/busybox:1'] }),
        waiver('long', { containers: ['dmt-*'] }, { expires: '2027-03-01' }),
      ],
      day('2027-01-01T00:00:00Z'),
    );
    assert.equal(set.apply([FAIL], root)[0]?.waiver?.name, 'forever');
    const dated = new WaiverSet(
      set.waivers.filter((w) => w.name !== 'forever'),
      day('2027-01-01T00:00:00Z'),
    );
    assert.equal(dated.apply([FAIL], root)[0]?.waiver?.name, 'long');
  });

  test('parseExpiryDate takes real days only', () => {
    assert.equal(parseExpiryDate('2028-02-29'), Date.UTC(2028, 1, 29));
    for (const bad of ['2027-02-29', '2027-13-01', '31.01.2027', '2027-1-5', 'tomorrow', '2027-01-31T00:00']) {
      assert.throws(() => parseExpiryDate(bad), /is not a date \(use YYYY-MM-DD/, bad);
    }
  });
});
