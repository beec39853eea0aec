/**
 * What each `--metrics.results` mode exports for the same state, the per-check totals every mode keeps,
 * the waiver metrics, and container labels on docker_monitor_container_info.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RootProcessCheck } from '../../src/checks/root-process-check.js';
import { createEventCounters } from '../../src/event-counters.js';
import { RESULTS_MODES, createMetrics, type ResultsMode } from '../../src/exporter/metrics.js';
import type { Monitor, MonitorState } from '../../src/core/monitor.js';
import { ContainerSelector, EMPTY_SELECTOR } from '../../src/policy/selector.js';
import { CHECK_INPUTS } from '../../src/policy/types.js';
import type { CheckInstance, CheckResult, ContainerReport } from '../../src/policy/types.js';
import type { Waiver } from '../../src/policy/waivers.js';

function check(name: string, metrics: CheckInstance['metrics'] = []): CheckInstance {
  return {
    name,
    section: `docker_monitor.checks.${name}`,
    description: name,
    scope: 'container',
    severity: 'high',
    cisId: undefined,
    timeoutMs: 1000,
    metrics,
    inputs: CHECK_INPUTS,
    run: () => Promise.resolve({ result: 'pass' }),
  };
}
const CHECKS = [check('RunningAsRootCheck'), check('RootProcessCheck', RootProcessCheck.metrics)];
const roots = (count: number) => ({ rootProcesses: Array.from({ length: count }, (_, n) => ({ pid: 100 + n, command: 'sh' })) });

function report(name: string, results: CheckResult[], labels: Record<string, string> = {}): ContainerReport {
  return {
    id: `${name}-id`,
    name,
    image: 'busybox:1',
    imageId: `sha256:${'a'.repeat(64)}`,
    compliant: !results.some((r) => r.result === 'fail' || r.result === 'error'),
    alwaysAllowed: false,
    results,
    startedAt: '',
    labels,
  };
}

const WAIVER: Waiver = {
  name: 'cadvisor',
  checks: new Set(['RunningAsRootCheck']),
  selector: new ContainerSelector({ ...EMPTY_SELECTOR, containers: ['cadvisor'] }),
  reason: 'needs the socket',
  expires: '2027-01-31',
  expiresAt: Date.UTC(2027, 0, 31),
};
const UNUSED: Waiver = { ...WAIVER, name: 'unused', expires: undefined, expiresAt: undefined };

const reports = [
  report(
    'good',
    [
      { check: 'RunningAsRootCheck', result: 'pass' },
      { check: 'RootProcessCheck', result: 'pass', data: roots(0) },
    ],
    { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', secret: 'x' },
  ),
  report('bad', [
    { check: 'RunningAsRootCheck', result: 'fail', reason: 'root' },
    { check: 'RootProcessCheck', result: 'fail', reason: 'root', data: roots(1) },
  ]),
  report('cadvisor', [
    {
      check: 'RunningAsRootCheck',
      result: 'waived',
      reason: 'root',
      waiver: { name: 'cadvisor', reason: 'needs the socket', expires: '2027-01-31' },
    },
    { check: 'RootProcessCheck', result: 'error', reason: 'timed out' },
  ]),
];

const state: MonitorState = {
  containers: new Map(reports.map((r) => [r.id, r])),
  host: { results: [] },
  up: true,
  lastRefreshTimestamp: 1,
  refreshDuration: 0.1,
};
const monitor = { state } as Monitor;

async function scrape(mode: ResultsMode, containerLabels: string[] = []): Promise<string[]> {
  const metrics = createMetrics({
    monitor,
    checks: CHECKS,
    refresh: 'scrape',
    counters: createEventCounters(),
    resultsMode: mode,
    containerLabels,
    waivers: [WAIVER, UNUSED],
  });
  const text = Buffer.concat([...(await metrics.render({ openMetrics: false, gzip: false })).chunks]).toString();
  return text.split('\n').filter((line) => line.startsWith('docker_monitor_'));
}
const named = (lines: string[], name: string) => lines.filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));

describe('--metrics.results', () => {
  test('all: every result; failing: results that are not a pass; none: no check_result', async () => {
    const byMode = Object.fromEntries(
      await Promise.all(RESULTS_MODES.map(async (mode) => [mode, named(await scrape(mode), 'docker_monitor_check_result')] as const)),
    );
    assert.equal(byMode['all']?.length, 6);
    assert.deepEqual(byMode['failing'], [
      'docker_monitor_check_result{check="RunningAsRootCheck",container="bad"} 0',
      'docker_monitor_check_result{check="RootProcessCheck",container="bad"} 0',
      'docker_monitor_check_result{check="RunningAsRootCheck",container="cadvisor"} 3',
      'docker_monitor_check_result{check="RootProcessCheck",container="cadvisor"} 0',
    ]);
    assert.deepEqual(byMode['none'], []);
  });

  test('per-check totals are the same in every mode, zeros included', async () => {
    const expected = [
      'docker_monitor_check_containers{check="RunningAsRootCheck",result="fail"} 1',
      'docker_monitor_check_containers{check="RunningAsRootCheck",result="error"} 0',
      'docker_monitor_check_containers{check="RunningAsRootCheck",result="pass"} 1',
      'docker_monitor_check_containers{check="RunningAsRootCheck",result="pass_fast"} 0',
      'docker_monitor_check_containers{check="RunningAsRootCheck",result="waived"} 1',
      'docker_monitor_check_containers{check="RootProcessCheck",result="fail"} 1',
      'docker_monitor_check_containers{check="RootProcessCheck",result="error"} 1',
      'docker_monitor_check_containers{check="RootProcessCheck",result="pass"} 1',
      'docker_monitor_check_containers{check="RootProcessCheck",result="pass_fast"} 0',
      'docker_monitor_check_containers{check="RootProcessCheck",result="waived"} 0',
    ];
    for (const mode of RESULTS_MODES) assert.deepEqual(named(await scrape(mode), 'docker_monitor_check_containers'), expected, mode);
  });

  test('failing and none: a compliant container has 2 series (compliant, info); root_processes only where RootProcessCheck did not pass', async () => {
    for (const mode of ['failing', 'none'] as const) {
      const lines = await scrape(mode);
      assert.deepEqual(
        lines.filter((line) => line.includes('container="good"')).map((line) => line.slice(0, line.indexOf('{'))),
        ['docker_monitor_container_compliant', 'docker_monitor_container_info'],
        mode,
      );
      assert.deepEqual(named(lines, 'docker_monitor_root_processes'), ['docker_monitor_root_processes{container="bad"} 1'], mode);
    }
    // In every mode, a check that errored has no data and so no series.
    assert.deepEqual(named(await scrape('all'), 'docker_monitor_root_processes'), [
      'docker_monitor_root_processes{container="good"} 0',
      'docker_monitor_root_processes{container="bad"} 1',
    ]);
  });
});

describe('waiver metrics', () => {
  test('matches per waiver (0 for one that covers nothing) and the expiry of dated waivers only', async () => {
    const lines = await scrape('failing');
    assert.deepEqual(named(lines, 'docker_monitor_waiver_matches'), [
      'docker_monitor_waiver_matches{waiver="cadvisor"} 1',
      'docker_monitor_waiver_matches{waiver="unused"} 0',
    ]);
    assert.deepEqual(named(lines, 'docker_monitor_waiver_expiry_timestamp_seconds'), [
      'docker_monitor_waiver_expiry_timestamp_seconds{waiver="cadvisor"} 1801353600',
    ]);
  });
});

describe('--metrics.container-labels', () => {
  test('none by default; globs copy matching labels as sanitised label_ names, empty where a container lacks one', async () => {
    assert.deepEqual(
      named(await scrape('all'), 'docker_monitor_container_info')[0],
      `docker_monitor_container_info{container="good",id="good-id",image="busybox:1",image_id="sha256:${'a'.repeat(64)}"} 1`,
    );
    const info = named(await scrape('all', ['com.docker.compose.*']), 'docker_monitor_container_info');
    assert.deepEqual(
      info[0],
      `docker_monitor_container_info{container="good",id="good-id",image="busybox:1",image_id="sha256:${'a'.repeat(64)}",label_com_docker_compose_project="shop",label_com_docker_compose_service="web"} 1`,
    );
    assert.match(info[1] ?? '', /container="bad".*label_com_docker_compose_project="",label_com_docker_compose_service=""\} 1$/);
    assert.doesNotMatch(info.join('\n'), /secret/);
  });
});
