import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TextReporter } from '../../src/report/text-reporter.js';
import { captureLogger } from '../helpers/log-capture.js';
import { FAILING_REPORT } from '../helpers/sample-report.js';

describe("TextReporter, cnitch's log lines", () => {
  test('per container the image and ID at info, each root process and each failed check at warn', () => {
    const { logger, records } = captureLogger();
    new TextReporter(logger).onReport(FAILING_REPORT);
    assert.deepEqual(
      records.map(({ level, msg }) => [level, msg]),
      [
        ['info', 'Checking image: ubuntu, id: 7bd489560a310343c39186500daa680290289c27f7a730524a31355a3aaf0430'],
        ['warn', '>> WARNING: found process running as root: tail -f /dev/null pid: 365'],
        ['warn', '>> WARNING: found process running as root: sh pid: 366'],
        ['warn', '>> FAIL RunningAsRootCheck: no user set: runs as root'],
        ['warn', '>> FAIL RootProcessCheck: 2 processes running as root: pid 365 (tail -f /dev/null), pid 366 (sh)'],
        ['warn', '>> ERROR PrismaScanCheck: timed out after 10000 ms'],
      ],
    );
    assert.ok(records.every((record) => record['container'] === 'web'));
    assert.equal(records[3]?.['check'], 'RunningAsRootCheck');
  });

  test('a passing container gives only its info line; an always-allowed one says no check ran', () => {
    const { logger, records } = captureLogger();
    const reporter = new TextReporter(logger);
    reporter.onReport({
      ...FAILING_REPORT,
      compliant: true,
      results: [{ check: 'RootProcessCheck', result: 'pass', data: { rootProcesses: [] } }],
    });
    reporter.onReport({ ...FAILING_REPORT, compliant: true, alwaysAllowed: true, results: [] });
    assert.deepEqual(
      records.map(({ level, msg }) => [level, msg]),
      [
        ['info', `Checking image: ubuntu, id: ${FAILING_REPORT.id}`],
        ['info', `Checking image: ubuntu, id: ${FAILING_REPORT.id} (always allowed: no checks run)`],
      ],
    );
  });

  test('unchanged findings are not logged again at every scrape; a change or a new start is', () => {
    const { logger, records } = captureLogger();
    const reporter = new TextReporter(logger);
    reporter.onReport(FAILING_REPORT);
    const firstTime = records.length;
    reporter.onReport(FAILING_REPORT);
    assert.deepEqual(
      records.slice(firstTime).map(({ level, msg }) => [level, msg]),
      [['debug', `Checking image: ubuntu, id: ${FAILING_REPORT.id} (no change)`]],
    );
    const fixed = { ...FAILING_REPORT, results: FAILING_REPORT.results.filter((result) => result.check !== 'RunningAsRootCheck') };
    const beforeChange = records.length;
    reporter.onReport(fixed);
    assert.deepEqual(
      records.slice(beforeChange).map(({ msg }) => msg),
      [
        `Checking image: ubuntu, id: ${FAILING_REPORT.id}`,
        '>> WARNING: found process running as root: tail -f /dev/null pid: 365',
        '>> WARNING: found process running as root: sh pid: 366',
        '>> FAIL RootProcessCheck: 2 processes running as root: pid 365 (tail -f /dev/null), pid 366 (sh)',
        '>> ERROR PrismaScanCheck: timed out after 10000 ms',
      ],
    );
    const beforeRestart = records.length;
    reporter.onReport({ ...fixed, startedAt: '2026-11-22T09:00:00.000000000Z' });
    assert.equal(records.slice(beforeRestart).filter(({ level }) => level !== 'debug').length, 5, 'a new start is logged in full');
  });
});
