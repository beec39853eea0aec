/**
 * Checks bring their own metrics (CheckMetric): the exporter's metrics are made from the data of the
 * results in the monitor's state, for built-in checks and users' checks alike, with no other wiring.
 * Reports come from running the checks on containers captured from real engines.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { createEventCounters } from '../../src/event-counters.js';
import { createMetrics } from '../../src/exporter/metrics.js';
import type { Monitor, MonitorState } from '../../src/monitor.js';
import { runChain } from '../../src/policy/chain.js';
import type { CheckInstance, ContainerReport, ContainerView } from '../../src/policy/types.js';
import { cisContainerView } from '../fixtures/cis/fixture-views.js';
import { fixtureView } from '../helpers/fixture-view.js';
import { REPO_ROOT } from '../helpers/monitoring-files.js';
import { sampleValue } from '../helpers/exporter.js';

const POLICY = '[docker_monitor.checks.RootProcessCheck]\n\n[my_checks.OpenPortsCheck]\nmax = 0\n';

async function report(checks: readonly CheckInstance[], name: string, view: ContainerView): Promise<ContainerReport> {
  const { results, compliant } = await runChain(checks, (signal) => ({ ...view, signal }), { failFast: false, imageVerdicts: new Map(), imageId: view.inspect.Image });
  return { id: view.id, name, image: view.inspect.Config?.Image ?? '', imageId: view.inspect.Image, compliant, alwaysAllowed: false, results, startedAt: '', labels: {} };
}

async function exposition(checks: readonly CheckInstance[], reports: readonly ContainerReport[]): Promise<string> {
  const state: MonitorState = {
    containers: new Map(reports.map((entry) => [entry.id, entry])),
    host: { results: [] },
    up: true,
    lastRefreshTimestamp: 1,
    refreshDuration: 0,
  };
  const metrics = createMetrics({
    monitor: { state } as Monitor,
    checks,
    refresh: 'scrape',
    processCacheTtlMs: 1000,
    counters: createEventCounters(),
  });
  return Buffer.concat([...(await metrics.render())]).toString('utf8');
}

describe('metrics that checks bring', () => {
  test('RootProcessCheck\'s docker_monitor_root_processes and a user\'s check\'s own gauge come from the results\' data', async () => {
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
