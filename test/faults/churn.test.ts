/**
 * A busy and a failing engine, on a private dockerd (never the shared one): container churn while
 * scraping, health checks every second, dockerd killed with SIGKILL and frozen with SIGSTOP.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, requireEngine } from '../helpers/docker.js';
import { startExporter } from '../helpers/exporter.js';
import { scaled } from '../helpers/time-scale.js';
import { eventually, observe } from '../helpers/wait.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { FaultRecord, mib } from './fault-record.js';
import { Served, sample } from './served.js';

/** Start/remove cycles; FAULTS_CHURN_CYCLES raises it (the probe ran 3 000). */
const CYCLES = Number(process.env['FAULTS_CHURN_CYCLES'] ?? 150);
const PARALLEL = 4;
const record = new FaultRecord('churn');
const engine = new PrivateEngine('16faults');
let served: Served;

before(async () => {
  await requireEngine();
  await engine.start();
  await engine.loadTestImage();
  served = await Served.start(['--docker.host', engine.host, '--refresh', '1s', '--docker.timeout', '1s']);
});

after(async () => {
  record.write();
  if (served !== undefined) assert.equal(await served.stop(), 0);
  await engine.destroy();
});

/** One Engine API call to the private engine (cheaper than a docker CLI process per step). */
function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: engine.socket, method, path, headers: { 'content-type': 'application/json' } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, json: text === '' ? undefined : (JSON.parse(text) as unknown) }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function runContainer(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await api('POST', `/containers/create?name=${name}`, {
    Image: TEST_IMAGE,
    Cmd: ['sleep', '3600'],
    Labels: { [TEST_LABEL]: RUN_ID },
    ...extra,
  });
  const id = (created.json as { Id?: string }).Id;
  if (id === undefined) throw new Error(`create ${name}: HTTP ${created.status} ${JSON.stringify(created.json)}`);
  const started = await api('POST', `/containers/${id}/start`);
  if (started.status !== 204) throw new Error(`start ${name}: HTTP ${started.status}`);
  return id;
}

function errorTotal(exposition: string): number {
  return exposition
    .split('\n')
    .filter((line) => line.startsWith('docker_monitor_check_errors_total{'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Scrapes every `everyMs` until stopped; counts answers that were not 200. */
function keepScraping(everyMs: number): { stop: () => Promise<{ scrapes: number; bad: number; slowestMs: number }> } {
  let running = true;
  let scrapes = 0;
  let bad = 0;
  let slowestMs = 0;
  const loop = (async () => {
    while (running) {
      const response = await served.get('/metrics').catch(() => ({ status: 0, body: '', ms: 0 }));
      scrapes += 1;
      if (response.status !== 200) bad += 1;
      slowestMs = Math.max(slowestMs, response.ms);
      await observe(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { scrapes, bad, slowestMs };
    },
  };
}

test(`${CYCLES} container start/remove cycles while scraping: no check errors, no ghost series, memory back`, async () => {
  await eventually(
    () => served.get('/metrics'),
    (response) => sample(response.body, 'docker_monitor_up') === 1,
    20_000,
    'up 1',
  );
  const rssBefore = served.rssMiB();
  const errorsBefore = errorTotal((await served.get('/metrics')).body);
  const scraping = keepScraping(100);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < CYCLES) {
        next += 1;
        const id = await runContainer(`churn-${RUN_ID}-${next}`);
        // Removed while the exporter evaluates it (the start event arrived a moment ago).
        await observe(Math.random() * 50);
        await api('DELETE', `/containers/${id}?force=1`);
      }
    }),
  );
  const churnSeconds = (performance.now() - started) / 1000;
  const scrapes = await scraping.stop();
  // A few refreshes later nothing of the churn may be left.
  const ghostsIn = (exposition: string): string[] => exposition.split('\n').filter((line) => line.includes(`container="churn-${RUN_ID}`));
  const body = await eventually(
    async () => (await served.get('/metrics')).body,
    (exposition) => ghostsIn(exposition).length === 0,
    10_000,
    'the series of removed containers to go',
  ).catch(async () => (await served.get('/metrics')).body);
  const ghosts = ghostsIn(body);
  const errors = errorTotal(body) - errorsBefore;
  const rssAfter = served.rssMiB();
  assert.equal(scrapes.bad, 0, 'every scrape answered 200');
  assert.deepEqual(ghosts, [], 'no series of removed containers');
  assert.equal(
    errors,
    0,
    `churn is not a check error: ${body
      .split('\n')
      .filter((line) => line.startsWith('docker_monitor_check_errors_total{'))
      .join(', ')}\n${served.output
      .split('\n')
      .filter((line) => /error/i.test(line))
      .slice(0, 10)
      .join('\n')}`,
  );
  assert.ok(rssAfter - rssBefore < 100, `memory grew from ${mib(rssBefore)} to ${mib(rssAfter)}`);
  record.add({
    fault: `${CYCLES} container start/remove cycles (${PARALLEL} at a time) while scraping every 100 ms`,
    outcome: 'a container removed during its evaluation is gone, not a check error; every scrape 200; no series left',
    figures: `${Math.round(churnSeconds)} s, ${scrapes.scrapes} scrapes (slowest ${Math.round(scrapes.slowestMs)} ms), ${errors} check errors, ${ghosts.length} ghost series, RSS ${mib(rssBefore)} → ${mib(rssAfter)}`,
  });
});

test('a health check every second neither re-evaluates the container nor drops its process list', async () => {
  const id = await runContainer(`healthy-${RUN_ID}`, {
    Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 500_000_000, StartPeriod: 0 },
  });
  const exporter = await startExporter({ 'docker.host': engine.host, refresh: '1h' });
  try {
    await eventually(async () => exporter.monitor.ready, Boolean, 15_000, 'first refresh');
    await eventually(
      async () => ((await api('GET', `/containers/${id}/json`)).json as { State?: { Health?: { Status?: string } } }).State?.Health?.Status,
      (status) => status === 'healthy',
      20_000,
      'healthy',
    );
    // Let the healthy transition's evaluation finish, then count what 5 s of health checks cost.
    await observe(1_500);
    const before = exporter.runtime.engine.callCounts();
    await observe(5_000);
    const afterCounts = exporter.runtime.engine.callCounts();
    const inspects = (afterCounts['inspect'] ?? 0) - (before['inspect'] ?? 0);
    const tops = (afterCounts['top'] ?? 0) - (before['top'] ?? 0);
    // About ten health checks ran; each used to cost three evaluations (exec_start, exec_die, health_status).
    assert.ok(inspects <= 1, `${inspects} container inspections in 5 s of health checks`);
    record.add({
      fault: 'a container with a health check every 0.5 s',
      outcome: 'health check execs and an unchanged health status are not re-evaluated; the process list is kept',
      figures: `${inspects} inspections and ${tops} process list reads in 5 s`,
    });
  } finally {
    await exporter.close();
    await api('DELETE', `/containers/${id}?force=1`);
  }
});

test('a command line with newlines, terminal escapes and HTML cannot forge log lines or metric lines', async () => {
  const forged = '[2026-01-01 00:00:00.000] ERROR: forged by a container';
  const argument = `x\n${forged}\n\u001b[31m<script>alert(1)</script>\ndocker_monitor_up{forged="1"} 1`;
  const id = await runContainer(`forger-${RUN_ID}`, { Cmd: ['sh', '-c', 'sleep 3600; :', argument] });
  try {
    await eventually(
      async () => served.output,
      (text) => text.includes('forged by a container'),
      20_000,
      'the root process logged',
    );
    const lines = served.output.split('\n');
    assert.ok(!lines.some((line) => line.startsWith(forged)), 'a forged log line');
    assert.ok(!served.output.includes('\u001b[31m'), 'a terminal escape reached the log');
    assert.ok(
      served.output.includes('\\u000a[2026-01-01 00:00:00.000] ERROR: forged by a container\\u000a\\u001b[31m<script>'),
      'the command line is logged, escaped',
    );
    const metrics = (await served.get('/metrics')).body;
    assert.ok(!metrics.split('\n').some((line) => line.startsWith('docker_monitor_up{forged')), 'a forged metric line');
    assert.ok(!metrics.includes('<script>'), 'the command line reached the metrics');
    record.add({
      fault: 'a root process whose command line holds newlines, a fake log line, an ANSI escape, HTML and a fake metric line',
      outcome: 'logged on one line with control characters as \\uXXXX; command lines are not exported as metrics',
      figures: 'no forged log or metric line',
    });
  } finally {
    await api('DELETE', `/containers/${id}?force=1`);
  }
});

/** Seconds until `docker_monitor_up` reads `value`, scraping every 100 ms; every scrape must answer 200. */
async function secondsUntilUp(
  value: 0 | 1,
  timeoutMs: number,
  started = performance.now(),
): Promise<{ seconds: number; slowestMs: number }> {
  let slowestMs = 0;
  for (;;) {
    const response = await served.get('/metrics');
    assert.equal(response.status, 200);
    slowestMs = Math.max(slowestMs, response.ms);
    if (sample(response.body, 'docker_monitor_up') === value) return { seconds: (performance.now() - started) / 1000, slowestMs };
    assert.ok(performance.now() - started < scaled(timeoutMs), `docker_monitor_up did not become ${value} within ${scaled(timeoutMs)} ms`);
    await observe(100);
  }
}

test('dockerd killed with SIGKILL, then started again: up 0, then 1, every scrape 200', async () => {
  await secondsUntilUp(1, 20_000);
  const killed = performance.now();
  await engine.signal('SIGKILL');
  const down = await secondsUntilUp(0, 15_000, killed);
  const restarted = performance.now();
  await engine.start();
  const back = await secondsUntilUp(1, 30_000, restarted);
  assert.equal((await served.get('/-/healthy')).status, 200);
  record.add({
    fault: 'dockerd killed with SIGKILL, then restarted (--refresh 1s)',
    outcome: 'docker_monitor_up 0 with the last verdicts, then 1 again by itself; every scrape 200',
    figures: `up 0 ${down.seconds.toFixed(1)} s after the kill; up 1 ${back.seconds.toFixed(1)} s after the restart began (dockerd's own start-up included); slowest scrape ${Math.round(Math.max(down.slowestMs, back.slowestMs))} ms`,
  });
});

test('dockerd frozen with SIGSTOP, then thawed: up 0 within the timeout, then 1, every scrape 200', async () => {
  await secondsUntilUp(1, 20_000);
  const frozen = performance.now();
  await engine.signal('SIGSTOP');
  let down: { seconds: number; slowestMs: number };
  try {
    down = await secondsUntilUp(0, 15_000, frozen);
  } finally {
    await engine.signal('SIGCONT');
  }
  const back = await secondsUntilUp(1, 30_000);
  record.add({
    fault: 'dockerd frozen with SIGSTOP (--docker.timeout 1s), then SIGCONT',
    outcome: 'engine calls end at their deadline: docker_monitor_up 0, scrapes keep answering; up 1 after the thaw',
    figures: `up 0 after ${down.seconds.toFixed(1)} s; up 1 ${back.seconds.toFixed(1)} s after SIGCONT; slowest scrape ${Math.round(Math.max(down.slowestMs, back.slowestMs))} ms`,
  });
});
