/**
 * A broken or hostile engine (a fake one on a unix socket): every call settles by its deadline, every
 * answer and event line is bounded, a bad event stream ends in a reconnect with backoff, and the exporter
 * keeps serving with bounded memory.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DockerEngine, MAX_LISTED_CONTAINERS } from '../../src/engine/docker-engine.js';
import { FaultRecord, mib } from './fault-record.js';
import { FaultyEngine, type Fault } from './faulty-engine.js';
import { Served, sample } from './served.js';
import { observe } from '../helpers/wait.js';
import { scaled } from '../helpers/time-scale.js';

const TIMEOUT_MS = 1_000;
/** How long a call may take beyond its deadline before the test calls it a hang. */
const HANG_MS = 10_000;
/** Resident memory a fault may add to the exporter; unbounded buffering grows by gigabytes within seconds. */
const RSS_BOUND_MIB = 150;

const record = new FaultRecord('engine');
let fake: FaultyEngine;

before(async () => {
  fake = await FaultyEngine.start();
});
after(async () => {
  record.write();
  await fake?.close();
});

function engine(concurrency = 4): DockerEngine {
  return new DockerEngine({ host: fake.host, concurrency, timeoutMs: TIMEOUT_MS });
}

/** Resolves with how the promise settled and when; a hang past HANG_MS is a failure. */
async function settle(promise: Promise<unknown>): Promise<{ error: string | undefined; ms: number }> {
  const started = performance.now();
  let hang: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      () => ({ error: undefined }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    ),
    new Promise<'hang'>((resolve) => {
      hang = setTimeout(() => resolve('hang'), HANG_MS);
    }),
  ]);
  clearTimeout(hang);
  assert.notEqual(outcome, 'hang', `the engine call did not settle within ${HANG_MS} ms`);
  return { ...(outcome as { error: string | undefined }), ms: performance.now() - started };
}

const CALL_FAULTS: { fault: Fault; name: string; expect: RegExp }[] = [
  {
    fault: 'cut-off',
    name: 'answer cut off after its headers (the wedge)',
    expect: /closed the connection in the middle|aborted|socket hang up/,
  },
  { fault: 'stall', name: 'headers, then silence', expect: /timed out after 1000 ms/ },
  { fault: { delayMs: 5_000 }, name: 'answer slower than --docker.timeout', expect: /timed out after 1000 ms/ },
  { fault: 'endless', name: 'endless body', expect: /larger than 33554432 bytes/ },
  { fault: 'garbage', name: 'garbage instead of JSON', expect: /malformed JSON/ },
  { fault: 'error-500', name: 'HTTP 500', expect: /HTTP 500: fake engine failure/ },
  { fault: { list: 62_000 }, name: '62 000 containers listed', expect: new RegExp(`more than the ${MAX_LISTED_CONTAINERS}`) },
];

for (const { fault, name, expect } of CALL_FAULTS) {
  test(`an engine call settles with an error: ${name}`, async () => {
    fake.reset();
    fake.set('containers', fault);
    const client = engine(1);
    const rssBefore = process.memoryUsage().rss / 2 ** 20;
    const first = await settle(client.listContainers());
    assert.match(first.error ?? 'resolved', expect);
    // The concurrency slot (one here) was given back: the next call runs and succeeds.
    fake.set('containers', 'normal');
    const next = await settle(client.listContainers());
    assert.equal(next.error, undefined);
    const grown = process.memoryUsage().rss / 2 ** 20 - rssBefore;
    assert.ok(grown < RSS_BOUND_MIB, `memory grew by ${mib(grown)}`);
    record.add({
      fault: `engine: ${name}`,
      outcome: `the call fails (${first.error}); the slot is freed, the next call succeeds`,
      figures: `settled in ${Math.round(first.ms)} ms (deadline ${TIMEOUT_MS} ms); memory +${mib(Math.max(0, grown))}`,
    });
  });
}

const STREAM_FAULTS: { fault: Fault; name: string; expect: RegExp }[] = [
  { fault: 'no-newline', name: 'an event stream without newlines', expect: /event line longer than 1048576 bytes/ },
  { fault: 'garbage', name: 'a garbage event stream', expect: /malformed event line/ },
];

for (const { fault, name, expect } of STREAM_FAULTS) {
  test(`the event stream ends with an error, within bounded memory: ${name}`, async () => {
    fake.reset();
    fake.set('events', fault);
    const stop = new AbortController();
    const rssBefore = process.memoryUsage().rss / 2 ** 20;
    const outcome = await settle(
      (async () => {
        for await (const event of await engine().events(stop.signal)) void event;
      })(),
    );
    stop.abort();
    assert.match(outcome.error ?? 'ended without an error', expect);
    const grown = process.memoryUsage().rss / 2 ** 20 - rssBefore;
    assert.ok(grown < RSS_BOUND_MIB, `memory grew by ${mib(grown)}`);
  });
}

test('an event stream answered with HTTP 500 is an error, not a stream', async () => {
  fake.reset();
  fake.set('events', 'error-500');
  const outcome = await settle(engine().events(new AbortController().signal));
  assert.match(outcome.error ?? 'opened', /HTTP 500/);
});

/** Starts the exporter against the faulty engine (which must answer at start), stages `fault`, and watches it. */
async function serveThrough(
  route: 'events' | 'containers',
  fault: Fault,
  watchMs: number,
  refresh = '1h',
): Promise<{ served: Served; rssBefore: number; rssAfter: number }> {
  fake.reset();
  const served = await Served.start(['--docker.host', fake.host, '--refresh', refresh, '--docker.timeout', '1s']);
  const rssBefore = served.rssMiB();
  fake.set(route, fault);
  // The current stream (if any) keeps its normal answer: close it so the next one meets the fault.
  if (route === 'events') fake.dropConnections();
  await observe(watchMs);
  assert.ok(served.alive, `the exporter exited: ${served.output.slice(-2000)}`);
  const rssAfter = served.rssMiB();
  return { served, rssBefore, rssAfter };
}

const SERVED_STREAM_FAULTS: { fault: Fault; name: string }[] = [
  { fault: 'no-newline', name: 'event stream without newlines' },
  { fault: 'garbage', name: 'garbage event stream' },
  { fault: 'error-500', name: 'event stream answered with HTTP 500, again and again' },
  { fault: 'close-at-once', name: 'event stream that closes at once, again and again' },
  { fault: 'flood', name: 'event flood (start and exec_start events for unknown containers)' },
];

const WATCH_MS = 6_000;

for (const { fault, name } of SERVED_STREAM_FAULTS) {
  test(`serve survives an ${name}: reconnects with backoff, bounded memory`, async () => {
    const { served, rssBefore, rssAfter } = await serveThrough('events', fault, WATCH_MS);
    try {
      const metrics = await served.get('/metrics');
      assert.equal(metrics.status, 200);
      assert.equal((await served.get('/-/healthy')).status, 200);
      assert.ok(rssAfter - rssBefore < RSS_BOUND_MIB, `memory grew from ${mib(rssBefore)} to ${mib(rssAfter)}`);
      const reconnects = fake.count('events');
      // A backoff of 250 ms doubling to 5 s reconnects about 6 times in 6 s; without it, every 250 ms or at once.
      if (fault !== 'flood') assert.ok(reconnects <= 8, `${reconnects} event stream connections in ${WATCH_MS} ms`);
      record.add({
        fault: `engine: ${name}`,
        outcome:
          fault === 'flood'
            ? 'events are read no faster than they are evaluated; serving'
            : 'the stream is dropped and reopened with backoff (250 ms doubling to 5 s); serving',
        figures: `${reconnects} connections in ${WATCH_MS / 1000} s; RSS ${mib(rssBefore)} → ${mib(rssAfter)}`,
      });
    } finally {
      assert.equal(await served.stop(), 0);
    }
  });
}

test('serve in scrape mode, with the list and the ping cut off after their headers: /metrics answers with up 0, and again once the engine heals', async () => {
  fake.reset();
  const served = await Served.start(['--docker.host', fake.host, '--docker.timeout', '1s']);
  try {
    // The first contact: after it, up follows the rule of three (docs/metrics.md).
    assert.equal(sample((await served.get('/metrics')).body, 'docker_monitor_up'), 1);
    // A resync's first call is the list, a scan's only call the ping: both are cut off.
    fake.set('containers', 'cut-off');
    fake.set('ping', 'cut-off');
    const broken = await served.get('/metrics');
    assert.equal(broken.status, 200);
    assert.equal(sample(broken.body, 'docker_monitor_up'), 0);
    fake.set('containers', 'normal');
    fake.set('ping', 'normal');
    // Hysteresis: up rises again after three scrapes in a row that reach the engine.
    const firstHealed = await served.get('/metrics');
    assert.equal(sample(firstHealed.body, 'docker_monitor_up'), 0);
    await served.get('/metrics');
    const healed = await served.get('/metrics');
    assert.equal(sample(healed.body, 'docker_monitor_up'), 1);
    record.add({
      fault: 'engine: the container list and the ping cut off after their headers, in scrape mode',
      outcome: '/metrics answers with docker_monitor_up 0; up is 1 again at the third scrape in a row that reaches the healed engine',
      figures: `scrape took ${Math.round(broken.ms)} ms (docker.timeout 1 s)`,
    });
  } finally {
    assert.equal(await served.stop(), 0);
  }
});

test('serve in scrape mode with a ping that fails every other scrape: docker_monitor_up stays 0, no flapping, one error line', async () => {
  fake.reset();
  const served = await Served.start(['--docker.host', fake.host, '--docker.timeout', '1s']);
  try {
    assert.equal(sample((await served.get('/metrics')).body, 'docker_monitor_up'), 1);
    const seen: (number | undefined)[] = [];
    for (let round = 0; round < 4; round += 1) {
      fake.set('ping', 'cut-off');
      seen.push(sample((await served.get('/metrics')).body, 'docker_monitor_up'));
      fake.set('ping', 'normal');
      seen.push(sample((await served.get('/metrics')).body, 'docker_monitor_up'));
    }
    assert.deepEqual(seen, [0, 0, 0, 0, 0, 0, 0, 0], 'it used to alternate 0 and 1');
    const errors = served.output.split('\n').filter((line) => line.includes('cannot reach the Docker engine'));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.ok(!served.output.includes('engine reachable again'), 'no "reachable again" between failures');
    record.add({
      fault: 'engine: /_ping cut off on every other scrape while the other calls work',
      outcome:
        'docker_monitor_up stays 0 (up again only after three scrapes in a row reach the engine), so `up == 0 for 1m` fires; one error line',
      figures: `8 scrapes: up ${seen.join(',')}; ${errors.length} error line`,
    });
  } finally {
    assert.equal(await served.stop(), 0);
  }
});

test('serve in scrape mode with a slow engine answers within X-Prometheus-Scrape-Timeout-Seconds, with up 0 and the last verdicts', async () => {
  fake.reset();
  const served = await Served.start(['--docker.host', fake.host, '--docker.timeout', '10s']);
  try {
    assert.equal(sample((await served.get('/metrics')).body, 'docker_monitor_up'), 1);
    // A scan's one call is the ping, a resync's first is the list: both are slow.
    fake.set('containers', { delayMs: 6_000 });
    fake.set('ping', { delayMs: 6_000 });
    const slow = await served.get('/metrics', { 'X-Prometheus-Scrape-Timeout-Seconds': '2' });
    assert.equal(slow.status, 200);
    assert.equal(sample(slow.body, 'docker_monitor_up'), 0);
    assert.ok(slow.ms < scaled(2_000), `the scrape took ${Math.round(slow.ms)} ms, beyond the scraper's 2 s`);
    assert.ok(sample(slow.body, 'docker_monitor_last_refresh_timestamp_seconds')! > 0, 'the last known state is served');
    record.add({
      fault: 'engine: answers slower than the scrape timeout (scrape mode)',
      outcome: 'the scrape answers 0.5 s before X-Prometheus-Scrape-Timeout-Seconds with the last-known verdicts and docker_monitor_up 0',
      figures: `scrape took ${Math.round(slow.ms)} ms with a 2 s scrape timeout (engine answers after 6 s)`,
    });
  } finally {
    assert.equal(await served.stop(), 0);
  }
});
