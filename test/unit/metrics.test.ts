/**
 * The exposition made from a monitor state: checks bring their own metrics (CheckMetric), made from the
 * data of the results, for built-in and users' checks alike; and the formats a scraper may ask for
 * (text or OpenMetrics, plain or gzip). Reports come from running the checks on containers captured
 * from real engines.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { createEventCounters } from '../../src/event-counters.js';
import { createMetrics, type Exposition } from '../../src/exporter/metrics.js';
import type { Monitor, MonitorState } from '../../src/core/monitor.js';
import { runChain } from '../../src/policy/chain.js';
import type { CheckInstance, ContainerReport, ContainerView } from '../../src/policy/types.js';
import { cisContainerView } from '../fixtures/cis/fixture-views.js';
import { fixtureView } from '../helpers/fixture-view.js';
import { REPO_ROOT } from '../helpers/monitoring-files.js';
import { sampleValue } from '../helpers/exporter.js';

const POLICY = '[docker_monitor.checks.RootProcessCheck]\n\n[my_checks.OpenPortsCheck]\nmax = 0\n';

async function report(checks: readonly CheckInstance[], name: string, view: ContainerView): Promise<ContainerReport> {
  const { results, compliant } = await runChain(checks, (signal) => ({ ...view, signal }), {
    failFast: false,
    imageVerdicts: new Map(),
    imageId: view.inspect.Image,
  });
  return {
    id: view.id,
    name,
    image: view.inspect.Config?.Image ?? '',
    imageId: view.inspect.Image,
    compliant,
    alwaysAllowed: false,
    results,
    startedAt: '',
    labels: {},
  };
}

function metricsOf(checks: readonly CheckInstance[], reports: readonly ContainerReport[]): Exposition {
  const state: MonitorState = {
    containers: new Map(reports.map((entry) => [entry.id, entry])),
    host: { results: [] },
    up: true,
    lastRefreshTimestamp: 1,
    refreshDuration: 0,
  };
  return createMetrics({
    monitor: { state } as Monitor,
    checks,
    refresh: 'scrape',
    counters: createEventCounters(),
  });
}

async function exposition(checks: readonly CheckInstance[], reports: readonly ContainerReport[]): Promise<string> {
  const { chunks } = await metricsOf(checks, reports).render({ openMetrics: false, gzip: false });
  return Buffer.concat([...chunks]).toString('utf8');
}

/** The series that do not move between two renders of one state (process and Node.js metrics do). */
function stable(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('docker_monitor_') || line.startsWith('# TYPE docker_monitor_'));
}

describe('metrics that checks bring', () => {
  test("RootProcessCheck's docker_monitor_root_processes and a user's check's own gauge come from the results' data", async () => {
    const { checks } = await parsePolicy(POLICY, join(REPO_ROOT, 'examples/policy.ini'), BUILT_IN_CHECKS);
    const published = await report(checks, 'published', cisContainerView('loopback-port'));
    const root = await report(checks, 'root', fixtureView('exec-root'));
    const text = await exposition(checks, [published, root]);
    assert.equal(sampleValue(text, 'docker_monitor_root_processes{container="root"}'), 1);
    assert.equal(sampleValue(text, 'my_published_ports{container="published"}'), 1);
    assert.equal(sampleValue(text, 'my_published_ports{container="root"}'), 0);
    assert.match(text, /# HELP my_published_ports Ports the container publishes\./);
    assert.equal(published.results.find((result) => result.check === 'OpenPortsCheck')?.result, 'fail');
  });

  test('a result without data (the check errored) gives no series; a policy without the check has no such metric', async () => {
    const { checks } = await parsePolicy(POLICY, join(REPO_ROOT, 'examples/policy.ini'), BUILT_IN_CHECKS);
    const broken = { ...fixtureView('exec-root'), processes: () => Promise.reject(new Error('engine call top timed out')) };
    const text = await exposition(checks, [await report(checks, 'broken', broken)]);
    assert.equal(sampleValue(text, 'docker_monitor_root_processes{container="broken"}'), undefined);
    const withoutIt = (await parsePolicy('[docker_monitor.checks.RunningAsRootCheck]\n', 'policy.ini', BUILT_IN_CHECKS)).checks;
    assert.doesNotMatch(await exposition(withoutIt, []), /docker_monitor_root_processes/);
  });
});

describe('exposition formats', () => {
  const reportsOf = async (): Promise<{ checks: CheckInstance[]; reports: ContainerReport[] }> => {
    const { checks } = await parsePolicy(POLICY, join(REPO_ROOT, 'examples/policy.ini'), BUILT_IN_CHECKS);
    return {
      checks,
      reports: [
        await report(checks, 'published', cisContainerView('loopback-port')),
        await report(checks, 'root', fixtureView('exec-root')),
      ],
    };
  };

  test('plain text: the Prometheus content type, no encoding, and no blank lines between families', async () => {
    const { checks, reports } = await reportsOf();
    const { contentType, encoding, chunks } = await metricsOf(checks, reports).render({ openMetrics: false, gzip: false });
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(encoding, undefined);
    const text = Buffer.concat([...chunks]).toString('utf8');
    assert.doesNotMatch(text, /\n\n/);
    assert.ok(text.endsWith('\n'));
  });

  test('gzip: one member that a gzip reader reads as the plain body; the verdicts are compressed once per state', async () => {
    const { checks, reports } = await reportsOf();
    const metrics = metricsOf(checks, reports);
    const plain = Buffer.concat([...(await metrics.render({ openMetrics: false, gzip: false })).chunks]).toString('utf8');
    const first = await metrics.render({ openMetrics: false, gzip: true });
    const second = await metrics.render({ openMetrics: false, gzip: true });
    assert.equal(first.encoding, 'gzip');
    assert.equal(first.chunks[1], second.chunks[1], 'the same compressed verdict bytes, not compressed again');
    const unzipped = gunzipSync(Buffer.concat([...second.chunks])).toString('utf8');
    assert.deepEqual(stable(unzipped), stable(plain));
    assert.ok(stable(plain).length > 10);
  });

  test('OpenMetrics when asked: its content type, counters as OpenMetrics writes them, one # EOF at the very end', async () => {
    const { checks, reports } = await reportsOf();
    const { contentType, chunks } = await metricsOf(checks, reports).render({ openMetrics: true, gzip: false });
    assert.match(contentType, /^application\/openmetrics-text; version=1\.0\.0/);
    const text = Buffer.concat([...chunks]).toString('utf8');
    assert.ok(text.endsWith('# EOF\n'), 'ends with # EOF');
    assert.equal(text.match(/^# EOF$/gm)?.length, 1);
    assert.match(text, /^# TYPE docker_monitor_check_errors counter$/m);
    assert.match(text, /^# TYPE process_cpu_user_seconds counter$/m);
    assert.match(text, /^process_cpu_user_seconds_total [\d.e-]+$/m);
    assert.doesNotMatch(text, /\n\n/);
  });
});
