import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { Enforcer } from '../../src/enforce/enforcer.js';
import { UsageError } from '../../src/errors.js';
import { createEventCounters } from '../../src/event-counters.js';
import { createListeners } from '../../src/listeners.js';
import { ReportQueue } from '../../src/report/report-queue.js';
import { StatsdReporter, parseStatsdServer } from '../../src/report/statsd-reporter.js';
import { TextReporter } from '../../src/report/text-reporter.js';
import { captureLogger } from '../helpers/log-capture.js';
import { FAILING_REPORT } from '../helpers/sample-report.js';
import { eventually, within } from '../helpers/wait.js';
import { scaled } from '../helpers/time-scale.js';

interface Datagram {
  name: string;
  value: number;
  type: string;
  tags: Record<string, string>;
}

/** Parses `name:value|type|#tag:value,...` (DogStatsD). */
function parse(line: string): Datagram {
  const [metric = '', type = '', tagPart = ''] = line.split('|');
  const cut = metric.lastIndexOf(':');
  const tags = Object.fromEntries(
    tagPart
      .replace(/^#/, '')
      .split(',')
      .filter((tag) => tag !== '')
      .map((tag) => [tag.slice(0, tag.indexOf(':')), tag.slice(tag.indexOf(':') + 1)]),
  );
  return { name: metric.slice(0, cut), value: Number(metric.slice(cut + 1)), type, tags };
}

let server: Socket;
let port = 0;
const received: Datagram[] = [];

before(async () => {
  server = createSocket('udp4');
  server.on('message', (message) => {
    for (const line of message.toString('utf8').split('\n')) if (line !== '') received.push(parse(line));
  });
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  port = server.address().port;
});
after(() => server.close());

describe('StatsdReporter against a UDP socket on loopback', () => {
  test("--statsd-prefix cnitch gives cnitch's cnitch.exception.root_process, tagged host and container, plus one counter per failed check", async () => {
    received.length = 0;
    const { logger } = captureLogger();
    const reporter = new StatsdReporter({ server: { host: '127.0.0.1', port }, prefix: 'cnitch', hostname: 'myhost', logger });
    reporter.onReport(FAILING_REPORT);
    reporter.onReport({
      ...FAILING_REPORT,
      name: 'clean',
      compliant: true,
      results: [{ check: 'RootProcessCheck', result: 'pass', data: { rootProcesses: [] } }],
    });
    await reporter.close();
    await eventually(
      async () => received.length,
      (count) => count >= 4,
      3_000,
      'four datagrams',
    );
    const sorted = [...received].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    assert.deepEqual(sorted, [
      { name: 'cnitch.exception.check_failed', value: 1, type: 'c', tags: { host: 'myhost', container: 'web', check: 'PrismaScanCheck' } },
      { name: 'cnitch.exception.check_failed', value: 1, type: 'c', tags: { host: 'myhost', container: 'web', check: 'RootProcessCheck' } },
      {
        name: 'cnitch.exception.check_failed',
        value: 1,
        type: 'c',
        tags: { host: 'myhost', container: 'web', check: 'RunningAsRootCheck' },
      },
      { name: 'cnitch.exception.root_process', value: 2, type: 'c', tags: { host: 'myhost', container: 'web' } },
    ]);
  });

  test('the default prefix is docker_monitor', async () => {
    received.length = 0;
    const { logger } = captureLogger();
    const settings = { ...DEFAULT_SETTINGS, statsdServer: `127.0.0.1:${port}`, hostname: 'h1' };
    const listeners = await createListeners({
      settings,
      engine: new DockerEngine({ host: 'unix:///nonexistent.sock', concurrency: 1, timeoutMs: 1000 }),
      logger,
      textLog: true,
      counters: createEventCounters(),
    });
    const statsd = listeners.find((listener) => listener instanceof StatsdReporter);
    assert.ok(statsd);
    statsd.onReport(FAILING_REPORT);
    await statsd.close();
    await eventually(
      async () => received.length,
      (count) => count >= 3,
      3_000,
      'three datagrams',
    );
    assert.deepEqual(
      new Set(received.map((datagram) => datagram.name)),
      new Set(['docker_monitor.exception.root_process', 'docker_monitor.exception.check_failed']),
    );
    assert.ok(received.every((datagram) => datagram.tags['host'] === 'h1'));
  });

  test(
    'an unreachable server neither blocks nor crashes: the process keeps serving while reports go out, the queue drains and close() ends',
    { timeout: scaled(60_000) },
    async () => {
      const closed = createSocket('udp4');
      closed.bind(0, '127.0.0.1');
      await once(closed, 'listening');
      const deadPort = closed.address().port;
      closed.close();
      const { logger, records } = captureLogger();
      const reporter = new StatsdReporter({ server: { host: '127.0.0.1', port: deadPort }, prefix: 'cnitch', hostname: 'h', logger });
      // Reports reach the reporter as `serve` hands them over: from the queue, which awaits each listener.
      const queue = new ReportQueue([reporter], logger, createEventCounters().reportsDropped);
      // A loopback HTTP server stands for /metrics: it must go on answering while the reports go out.
      const web = createServer((_request, response) => response.end('ok'));
      web.listen(0, '127.0.0.1');
      await once(web, 'listening');
      const address = web.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
      try {
        // A timer set before the first send fires only when the event loop is free to turn.
        let pushed = 0;
        let pushedWhenTimerFired: number | undefined;
        setTimeout(() => {
          pushedWhenTimerFired = pushed;
        }, 0);
        const batches = 10;
        let served = 0;
        for (let batch = 0; batch < batches; batch += 1) {
          queue.push(Array.from({ length: 50 }, () => FAILING_REPORT));
          pushed += 50;
          const response = await fetch(url);
          if ((await response.text()) === 'ok') served += 1;
        }
        assert.equal(served, batches, 'every request was answered while the reports were being sent');
        assert.ok(
          pushedWhenTimerFired !== undefined && pushedWhenTimerFired < pushed,
          `the timer fired while reports were still coming (after ${pushedWhenTimerFired} of ${pushed})`,
        );
        // Bounds far beyond a few thousand UDP sends: a reporter that waits for an answer never gets there.
        assert.equal(
          await within(
            queue.idle().then(() => 'drained'),
            10_000,
          ),
          'drained',
          'the reporter took every report and let the queue drain',
        );
        assert.equal(
          await within(
            reporter.close().then(() => 'closed'),
            10_000,
          ),
          'closed',
          'close() did not wait for an answer that never comes',
        );
        assert.deepEqual(
          records.filter((record) => record.level === 'error'),
          [],
          'no listener failure',
        );
      } finally {
        web.closeAllConnections();
        web.close();
      }
    },
  );

  test('a send that fails is logged once at warn, then at debug, and dropped', async () => {
    const { logger, records } = captureLogger();
    const reporter = new StatsdReporter({ server: { host: '127.0.0.1', port }, prefix: 'cnitch', hostname: 'h', logger });
    // A datagram over 64 KiB: the kernel refuses it (EMSGSIZE) before anything is sent.
    const huge = { ...FAILING_REPORT, name: 'x'.repeat(70_000) };
    reporter.onReport(huge);
    reporter.onReport(huge);
    await eventually(
      async () => records.length,
      (count) => count >= 4,
      3_000,
      'four log records',
    );
    await reporter.close();
    assert.equal(records.filter((record) => record.level === 'warn').length, 1);
    assert.match(records[0]?.msg ?? '', /StatsD send failed; metrics to it are dropped/);
    assert.match(String(records[0]?.['err']), /EMSGSIZE/);
    assert.ok(records.slice(1).every((record) => record.level === 'debug'));
  });
});

describe('StatsD settings and the listeners', () => {
  test('parses host:port and [v6]:port; anything else is a usage error (exit 2)', () => {
    assert.deepEqual(parseStatsdServer('127.0.0.1:8125'), { host: '127.0.0.1', port: 8125 });
    assert.deepEqual(parseStatsdServer('statsd.internal:9125'), { host: 'statsd.internal', port: 9125 });
    assert.deepEqual(parseStatsdServer('[::1]:8125'), { host: '::1', port: 8125 });
    for (const bad of ['127.0.0.1', ':8125', 'host:0', 'host:70000', 'host:x', '::1:8125']) {
      assert.throws(
        () => parseStatsdServer(bad),
        (error: unknown) => error instanceof UsageError && error.exitCode === 2 && /is not host:port/.test(error.message),
        bad,
      );
    }
  });

  test('createListeners: the enforcer always, the text log when asked, StatsD only with a server', async () => {
    const { logger } = captureLogger();
    const engine = new DockerEngine({ host: 'unix:///nonexistent.sock', concurrency: 1, timeoutMs: 1000 });
    const kinds = async (statsdServer: string | undefined, textLog = true): Promise<unknown[]> => {
      const listeners = await createListeners({
        settings: { ...DEFAULT_SETTINGS, statsdServer },
        engine,
        logger,
        textLog,
        counters: createEventCounters(),
      });
      await Promise.all(listeners.map(async (listener) => listener.close?.()));
      return listeners.map((listener) => listener.constructor);
    };
    assert.deepEqual(await kinds(undefined), [TextReporter, Enforcer]);
    assert.deepEqual(await kinds(undefined, false), [Enforcer]);
    assert.deepEqual(await kinds(`127.0.0.1:${port}`), [TextReporter, StatsdReporter, Enforcer]);
    await assert.rejects(kinds('nowhere'), UsageError);
  });
});
