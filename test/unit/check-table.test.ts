import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkJson, formatCheckTable } from '../../src/report/check-table.js';
import type { CheckResult, ContainerReport } from '../../src/policy/types.js';
import { inspectFixture } from '../helpers/fixture-view.js';

const CHECKS = ['ActiveBuildCheck', 'RunningAsRootCheck', 'RootProcessCheck'];

/** The report the evaluator makes for a captured container, with the given results. */
function report(fixture: string, name: string, results: CheckResult[], extra: Partial<ContainerReport> = {}): ContainerReport {
  const inspect = inspectFixture(fixture);
  return {
    id: inspect.Id,
    name,
    image: inspect.Config?.Image ?? '',
    imageId: inspect.Image,
    compliant: !results.some((result) => result.result === 'fail' || result.result === 'error'),
    alwaysAllowed: false,
    results,
    startedAt: inspect.State?.StartedAt ?? '',
    labels: {},
    ...extra,
  };
}

const pass = (check: string): CheckResult => ({ check, result: 'pass' });

const web = report('user-1000', 'web', CHECKS.map(pass));
const db = report('user-unset', 'db', [
  pass('ActiveBuildCheck'),
  { check: 'RunningAsRootCheck', result: 'fail', reason: 'no user set: runs as root' },
  { check: 'RootProcessCheck', result: 'error', reason: 'timed out after 10000 ms' },
]);
const build = report('classic-build-step', 'pensive_hawking', [
  { check: 'ActiveBuildCheck', result: 'pass_fast', reason: 'classic builder step (RUN) in progress' },
]);
const allowed = report('user-0-0', 'legacy', [], { alwaysAllowed: true, compliant: true });

describe('formatCheckTable', () => {
  test('one row per container, a column per check, "-" where a check did not run, then the failures', () => {
    const image = web.image;
    const buildImage = build.image;
    const text = formatCheckTable([web, db, build, allowed], { results: [] }, CHECKS);
    const width = Math.max('IMAGE'.length, image.length, buildImage.length);
    const nameWidth = 'pensive_hawking'.length;
    const row = (...cells: string[]) =>
      cells.map((cell, index) => (index === cells.length - 1 ? cell : cell.padEnd([nameWidth, width, 7, 16, 18][index] ?? 0))).join('  ');
    assert.equal(
      text,
      [
        row('CONTAINER', 'IMAGE', 'VERDICT', 'ActiveBuildCheck', 'RunningAsRootCheck', 'RootProcessCheck'),
        row('web', image, 'pass', 'pass', 'pass', 'pass'),
        row('db', image, 'FAIL', 'pass', 'FAIL', 'ERROR'),
        row('pensive_hawking', buildImage, 'pass', 'pass fast', '-', '-'),
        row('legacy', allowed.image, 'allowed', '-', '-', '-'),
        '',
        'Failures:',
        '  db: RunningAsRootCheck FAIL: no user set: runs as root',
        '  db: RootProcessCheck ERROR: timed out after 10000 ms',
        '',
        '4 containers checked, 1 failed.',
      ].join('\n'),
    );
  });

  test('more checks than fit as columns: a FAILED CHECKS column instead', () => {
    const many = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
    const text = formatCheckTable(
      [report('user-1000', 'x', [pass('A'), { check: 'G', result: 'fail', reason: 'no' }])],
      { results: [] },
      many,
    );
    const [header, row] = text.split('\n');
    assert.match(header ?? '', /^CONTAINER\s+IMAGE\s+VERDICT\s+FAILED CHECKS$/);
    assert.match(row ?? '', /^x\s+docker-monitor-test\/busybox:1\s+FAIL\s+G$/);
  });

  test('no containers, and host checks', () => {
    assert.equal(formatCheckTable([], { results: [] }, CHECKS), 'No running containers.\n\n0 containers checked, 0 failed.');
    const text = formatCheckTable(
      [web],
      { results: [{ check: 'LiveRestoreCheck', result: 'fail', reason: 'live-restore is off' }] },
      CHECKS,
    );
    assert.match(text, /\nHost checks:\n {2}LiveRestoreCheck {2}FAIL {2}live-restore is off\n\n1 container checked, 0 failed\.$/);
  });
});

describe('checkJson', () => {
  test('the shape docs/check-output.md documents; checks that did not run are absent', () => {
    const json = checkJson([build, db], { results: [] }) as { containers: Record<string, unknown>[] };
    assert.deepEqual(json.containers[0], {
      id: build.id,
      name: 'pensive_hawking',
      image: build.image,
      imageId: build.imageId,
      compliant: true,
      alwaysAllowed: false,
      rootProcesses: null,
      results: [{ check: 'ActiveBuildCheck', result: 'pass_fast', reason: 'classic builder step (RUN) in progress' }],
    });
    assert.deepEqual((json.containers[1] as { results: unknown }).results, [
      { check: 'ActiveBuildCheck', result: 'pass', reason: null },
      { check: 'RunningAsRootCheck', result: 'fail', reason: 'no user set: runs as root' },
      { check: 'RootProcessCheck', result: 'error', reason: 'timed out after 10000 ms' },
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(checkJson([], { results: [] }))), {
      containers: [],
      host: { results: [] },
      unevaluated: [],
      summary: { containers: 0, nonCompliant: 0, pass: 0, passFast: 0, fail: 0, error: 0, waived: 0, notApplicable: 0 },
    });
  });
});
