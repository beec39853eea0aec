import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { countVulnerabilities } from '../../src/checks/trivy-scan-check.js';
import {
  STANDINS,
  TARGET,
  TRIVY,
  imageId,
  invocations,
  liveProcessesInGroup,
  loadCheck,
  loadChecks,
  maxOverlap,
  run,
  targetWithImage,
} from '../helpers/scanner-standins.js';
import { eventually, observe } from '../helpers/wait.js';

const work = mkdtempSync(join(tmpdir(), 'dm-trivy-'));
const REPORT = readFileSync(join(STANDINS, 'trivy-report.json'), 'utf8');
let log = '';
let logs = 0;

const trivy = (extra = ''): string => `[docker_monitor.checks.TrivyScanCheck]\ntrivy_path = ${TRIVY}\n${extra}\n`;

beforeEach(() => {
  logs += 1;
  log = join(work, `invocations-${logs}.log`);
  process.env['STANDIN_LOG'] = log;
  delete process.env['STANDIN_MODE'];
});
afterEach(() => {
  delete process.env['STANDIN_MODE'];
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('trivy JSON report counting', () => {
  test('counts Results[].Vulnerabilities[] by Severity, over every target', () => {
    assert.deepEqual(countVulnerabilities(REPORT, false), { critical: 1, high: 3, medium: 1, low: 1, unknown: 1 });
  });

  test('ignore_unfixed leaves out findings without a FixedVersion (absent or empty)', () => {
    assert.deepEqual(countVulnerabilities(REPORT, true), { critical: 1, high: 2, medium: 1, low: 0, unknown: 1 });
  });

  test('a report without Results (trivy omits it when empty) counts nothing; non-JSON is an error', () => {
    assert.deepEqual(countVulnerabilities('{"SchemaVersion":2,"ArtifactName":"x"}', false), {
      critical: 0,
      high: 0,
      medium: 0,
      low: 0,
      unknown: 0,
    });
    assert.throws(() => countVulnerabilities('Need to update DB', false), /trivy did not print a JSON report: "Need to update DB"/);
    assert.throws(() => countVulnerabilities('[]', false), /not a report/);
  });
});

describe('TrivyScanCheck verdicts', () => {
  test('by default fails on any vulnerability at HIGH or above, saying how many of each', async () => {
    const check = await loadCheck(trivy());
    assert.equal(check.severity, 'high');
    const result = await run(check);
    assert.equal(result.result, 'fail');
    assert.equal(result.reason, '4 vulnerabilities at HIGH or above (CRITICAL 1, HIGH 3); at most 0 allowed');
  });

  test("severity and max set the threshold; severity is also the failure's severity", async () => {
    const critical = await loadCheck(trivy('severity = CRITICAL'));
    assert.equal(critical.severity, 'critical');
    assert.equal((await run(critical)).reason, '1 vulnerability at CRITICAL or above (CRITICAL 1); at most 0 allowed');
    assert.equal((await run(await loadCheck(trivy('severity = critical\nmax = 1')))).result, 'pass');
    assert.equal((await run(await loadCheck(trivy('severity = low\nmax = 5')))).result, 'fail');
    assert.equal((await run(await loadCheck(trivy('severity = low\nmax = 6')))).result, 'pass');
  });

  test('ignore_unfixed counts only what can be fixed', async () => {
    const result = await run(await loadCheck(trivy('ignore_unfixed = on')));
    assert.equal(result.reason, '3 fixable vulnerabilities at HIGH or above (CRITICAL 1, HIGH 2); at most 0 allowed');
  });

  test('a clean image passes', async () => {
    process.env['STANDIN_MODE'] = 'clean';
    assert.equal((await run(await loadCheck(trivy()))).result, 'pass');
  });

  test('runs `trivy image --format json --quiet <image ID>`', async () => {
    await run(await loadCheck(trivy()));
    assert.equal(invocations(log)[0]?.line.split('args=')[1], `image --format json --quiet ${TARGET.Image}`);
  });

  test('trivy exiting non-zero is an error quoting its last line; output that is not JSON is an error', async () => {
    process.env['STANDIN_MODE'] = 'error';
    const failed = await run(await loadCheck(trivy()));
    assert.equal(failed.result, 'error');
    assert.match(
      failed.reason ?? '',
      /^trivy failed \(exit code 1\): .*FATAL\tFatal error\timage scan error: unable to find the specified image/,
    );
    process.env['STANDIN_MODE'] = 'garbage';
    const garbage = await run(await loadCheck(trivy()));
    assert.equal(garbage.result, 'error');
    assert.match(garbage.reason ?? '', /trivy did not print a JSON report/);
  });

  test('a hung trivy is killed with its children at `timeout` and gives an error', async () => {
    process.env['STANDIN_MODE'] = 'hang';
    const result = await run(await loadCheck(trivy('timeout = 300ms')));
    assert.equal(result.result, 'error');
    const pid = invocations(log)[0]?.pid ?? 0;
    await eventually(
      async () => liveProcessesInGroup(pid),
      (live) => live.length === 0,
      3_000,
      "trivy's process group to end",
    );
  });

  test('rejects settings that cannot work when the policy loads', async () => {
    await assert.rejects(
      loadCheck(`[docker_monitor.checks.TrivyScanCheck]\ntrivy_path = ${join(work, 'trivy')}\n`),
      /trivy_path: .* is not an executable file/,
    );
    await assert.rejects(loadCheck(trivy('max = -1')), /max must be 0 or more/);
    await assert.rejects(
      loadCheck(trivy('severity = severe')),
      /\[docker_monitor\.checks\.TrivyScanCheck\] severity: "severe" is not one of critical, high, medium, low/,
    );
  });
});

describe('TrivyScanCheck vulnerability counts for docker_monitor_image_vulnerabilities', () => {
  test("the result carries the counts; the check's own metric gives every severity, labelled with the reference its container was started with", async () => {
    const check = await loadCheck(trivy());
    const result = await run(check);
    assert.deepEqual(result.data, { vulnerabilities: { critical: 1, high: 3, medium: 1, low: 1, unknown: 1 } });
    const [metric] = check.metrics;
    assert.equal(metric?.name, 'docker_monitor_image_vulnerabilities');
    assert.deepEqual(metric.samples(result.data, { name: 'web', image: 'docker-monitor-test/busybox:1', imageId: TARGET.Image }), [
      { labels: { image: 'docker-monitor-test/busybox:1', severity: 'critical' }, value: 1 },
      { labels: { image: 'docker-monitor-test/busybox:1', severity: 'high' }, value: 3 },
      { labels: { image: 'docker-monitor-test/busybox:1', severity: 'medium' }, value: 1 },
      { labels: { image: 'docker-monitor-test/busybox:1', severity: 'low' }, value: 1 },
      { labels: { image: 'docker-monitor-test/busybox:1', severity: 'unknown' }, value: 1 },
    ]);
  });

  test('a failed scan carries no counts', async () => {
    process.env['STANDIN_MODE'] = 'error';
    const result = await run(await loadCheck(trivy()));
    assert.equal(result.result, 'error');
    assert.equal(result.data, undefined);
  });

  test('after cache_ttl the image is scanned again', async () => {
    const check = await loadCheck(trivy('cache_ttl = 300ms'));
    await run(check);
    await run(check);
    assert.equal(invocations(log).length, 1);
    // Time must pass for the cache entry to age: nothing to wait for.
    await observe(350);
    await run(check);
    assert.equal(invocations(log).length, 2, 'scanned again after cache_ttl');
  });
});

describe('scans shared between containers and bounded', () => {
  test('ten containers of one image: one trivy run', async () => {
    process.env['STANDIN_MODE'] = 'slow';
    const check = await loadCheck(trivy());
    const results = await Promise.all(Array.from({ length: 10 }, () => run(check)));
    assert.equal(new Set(results.map((result) => result.reason)).size, 1);
    assert.equal(invocations(log).length, 1);
  });

  test('at most `concurrency` (default 2) scans at once, across trivy and twistcli', async () => {
    process.env['STANDIN_MODE'] = 'slow';
    const [check, prisma] = await loadChecks(
      `${trivy()}[docker_monitor.checks.PrismaScanCheck]\ntwistcli_path = ${join(STANDINS, 'twistcli')}\nurl = https://c.example.com\ntoken = t\n`,
    );
    assert.ok(check !== undefined && prisma !== undefined);
    await Promise.all([
      ...Array.from({ length: 4 }, (_, n) => run(check, targetWithImage(imageId(100 + n)))),
      ...Array.from({ length: 3 }, (_, n) => run(prisma, targetWithImage(imageId(200 + n)))),
    ]);
    assert.equal(invocations(log).length, 7);
    assert.equal(maxOverlap(log), 2);
  });

  test('two loaded policies (two runtimes in one process) share neither scans nor the pool', async () => {
    process.env['STANDIN_MODE'] = 'slow';
    const first = await loadCheck(trivy());
    const second = await loadCheck(trivy());
    await Promise.all([
      ...Array.from({ length: 2 }, (_, n) => run(first, targetWithImage(imageId(300 + n)))),
      ...Array.from({ length: 2 }, (_, n) => run(second, targetWithImage(imageId(300 + n)))),
    ]);
    assert.equal(invocations(log).length, 4, 'each policy scans the same images itself');
    assert.equal(maxOverlap(log), 4, 'each policy has its own pool of 2');
  });
});
