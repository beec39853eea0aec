/**
 * The golden exposition (as node_exporter keeps collector/fixtures/e2e-output.txt): the containers and
 * host captured from a real engine (test/helpers/fake-engine.ts over test/fixtures/monitor/engine.json),
 * judged by examples/cis.ini through the real evaluator, and rendered by the real metrics code with
 * `--metrics.results all`, must give test/fixtures/golden/metrics.txt byte for byte. Any change to a
 * metric's name, labels, HELP text, type or order is a diff here; when it is meant, regenerate the file
 * (`UPDATE_GOLDEN=1 npm run test:unit`) and commit the diff with the change.
 *
 * What moves between runs is left out or pinned: the process_ and nodejs_ families (prom-client's
 * defaults), the refresh timestamp and duration (pinned in the state), and the build_info labels
 * (version, revision, Node.js version).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { Evaluator } from '../../src/core/evaluator.js';
import { createEventCounters } from '../../src/event-counters.js';
import { createMetrics } from '../../src/exporter/metrics.js';
import type { Monitor, MonitorState } from '../../src/core/monitor.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { REPO_ROOT } from '../helpers/monitoring-files.js';

const GOLDEN = join(REPO_ROOT, 'test/fixtures/golden/metrics.txt');
const POLICY = join(REPO_ROOT, 'examples/cis.ini');

/** The exposition less what differs between runs, machines and Node.js versions. */
function deterministic(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^(# (HELP|TYPE) )?(process|nodejs)_/.test(line))
    .map((line) =>
      line.startsWith('docker_monitor_build_info{') ? 'docker_monitor_build_info{version="…",revision="…",nodejs_version="…"} 1' : line,
    )
    .join('\n');
}

async function capturedFleetExposition(): Promise<string> {
  const policy = await parsePolicy(readFileSync(POLICY, 'utf8'), POLICY, BUILT_IN_CHECKS);
  const engine = new FakeEngine();
  const evaluator = new Evaluator(new EngineCache(engine, new TopProcessSource(engine), 10_000), {
    checks: policy.checks,
    alwaysAllow: [],
    failFast: false,
  });
  const evaluation = await evaluator.evaluateAll();
  assert.deepEqual(evaluation.failed, [], 'every captured container is evaluated');
  const state: MonitorState = {
    containers: new Map(evaluation.containers.map((report) => [report.id, report])),
    host: evaluation.host,
    up: true,
    lastRefreshTimestamp: 1_700_000_000,
    refreshDuration: 0.25,
  };
  const metrics = createMetrics({
    monitor: { state } as Monitor,
    checks: policy.checks,
    refresh: policy.settings.refresh,
    counters: createEventCounters(),
    resultsMode: 'all',
    containerLabels: policy.settings.metricsContainerLabels,
    waivers: policy.waivers,
  });
  const { chunks } = await metrics.render({ openMetrics: false, gzip: false });
  return deterministic(Buffer.concat([...chunks]).toString('utf8'));
}

test('the exposition of a captured fleet under examples/cis.ini is test/fixtures/golden/metrics.txt, byte for byte', async () => {
  const exposition = await capturedFleetExposition();
  assert.equal(await capturedFleetExposition(), exposition, 'two renders of the same fleet are equal');
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(dirname(GOLDEN), { recursive: true });
    writeFileSync(GOLDEN, exposition);
  }
  // Compared as lines with no message of our own, so that node's assert prints the lines that differ.
  assert.deepEqual(exposition.split('\n'), readFileSync(GOLDEN, 'utf8').split('\n'));
});
