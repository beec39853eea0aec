import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEventCounters } from '../../src/event-counters.js';
import type { ContainerReport } from '../../src/policy/types.js';
import { ReportQueue } from '../../src/report/report-queue.js';
import type { ReportListener } from '../../src/report/types.js';
import { captureLogger } from '../helpers/log-capture.js';
import { FAILING_REPORT } from '../helpers/sample-report.js';

function report(name: string): ContainerReport {
  return { ...FAILING_REPORT, id: `id-${name}`, name };
}

/** A listener that records what it saw and holds each report until released. */
function gatedListener(): { listener: ReportListener; seen: string[]; release(): void } {
  const seen: string[] = [];
  let open: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    seen,
    listener: {
      async onReport(received) {
        seen.push(received.name);
        await gate;
      },
    },
    release() {
      open();
      gate = Promise.resolve();
    },
  };
}

describe('ReportQueue', () => {
  test('push returns before a slow listener has finished; idle() waits for it; order is kept', async () => {
    const { logger } = captureLogger();
    const slow = gatedListener();
    const queue = new ReportQueue([slow.listener], logger, createEventCounters().reportsDropped);
    queue.push([report('a'), report('b')]);
    queue.push([report('c')]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(slow.seen, ['a'], 'the listener is still busy with the first report');
    let idle = false;
    const waiting = queue.idle().then(() => {
      idle = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false);
    slow.release();
    await waiting;
    assert.deepEqual(slow.seen, ['a', 'b', 'c']);
  });

  test('past its limit the oldest waiting reports are dropped, counted and logged once', async () => {
    const { logger, records } = captureLogger();
    const slow = gatedListener();
    const { reportsDropped } = createEventCounters();
    const queue = new ReportQueue([slow.listener], logger, reportsDropped, 2);
    queue.push([report('a')]); // taken at once by the listener
    await new Promise((resolve) => setImmediate(resolve));
    queue.push([report('b'), report('c'), report('d')]);
    queue.push([report('e')]);
    assert.equal((await reportsDropped.get()).values[0]?.value, 2);
    slow.release();
    await queue.idle();
    assert.deepEqual(slow.seen, ['a', 'd', 'e']);
    assert.equal(records.filter((record) => record.msg.includes('dropping the oldest reports')).length, 1);
  });

  test('a listener that throws is logged; the next listener and the next report still get theirs', async () => {
    const { logger, records } = captureLogger();
    const seen: string[] = [];
    const failing: ReportListener = {
      onReport() {
        throw new Error('statsd exploded');
      },
    };
    const queue = new ReportQueue(
      [failing, { onReport: (received) => void seen.push(received.name) }],
      logger,
      createEventCounters().reportsDropped,
    );
    queue.push([report('a'), report('b')]);
    await queue.idle();
    assert.deepEqual(seen, ['a', 'b']);
    assert.deepEqual(
      records.filter((record) => record.level === 'error').map((record) => [record['container'], record['err']]),
      [
        ['a', 'statsd exploded'],
        ['b', 'statsd exploded'],
      ],
    );
  });

  test('a report pushed after a drain finished is delivered without another push', async () => {
    const { logger } = captureLogger();
    const seen: string[] = [];
    const queue = new ReportQueue(
      [{ onReport: (received) => void seen.push(received.name) }],
      logger,
      createEventCounters().reportsDropped,
    );
    queue.push([report('a')]);
    await queue.idle();
    queue.push([report('b')]);
    await queue.idle();
    assert.deepEqual(seen, ['a', 'b']);
  });
});

test('a backlog of reports to synchronous listeners gives the event loop a turn at least every 100 reports', async () => {
  const { logger } = captureLogger();
  let sinceTurn = 0;
  let longest = 0;
  const queue = new ReportQueue(
    [
      {
        onReport() {
          sinceTurn += 1;
          longest = Math.max(longest, sinceTurn);
        },
      },
    ],
    logger,
    createEventCounters().reportsDropped,
  );
  let turning = true;
  const turn = (): void => {
    sinceTurn = 0;
    if (turning) setImmediate(turn);
  };
  setImmediate(turn);
  queue.push(Array.from({ length: 1000 }, (_, n) => report(`c${n}`)));
  await queue.idle();
  turning = false;
  assert.ok(longest <= 100, `${longest} reports without a turn of the event loop`);
});
