/**
 * The verdicts are kept per group of containers and only the groups a new state changed are rendered
 * again: after any sequence of states, the exposition must equal the one an exposition that saw only
 * the last state renders from scratch, in every `--metrics.results` mode, with container labels, in
 * both formats and gzipped. The fleet is the containers captured for the CIS checks judged by
 * examples/cis.ini (test/helpers/cis-fleet.ts), copied under other IDs and names to span many groups.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createEventCounters } from '../../src/event-counters.js';
import { RESULTS_MODES, createMetrics, type Exposition } from '../../src/exporter/metrics.js';
import type { Monitor, MonitorState } from '../../src/core/monitor.js';
import type { ContainerReport } from '../../src/policy/types.js';
import { cisFleet } from '../helpers/cis-fleet.js';

const SIZE = 300;

/** The exposition less the process_ and nodejs_ families, which move between two renders. */
async function text(metrics: Exposition, openMetrics: boolean, gzip: boolean): Promise<string> {
  const { chunks } = await metrics.render({ openMetrics, gzip });
  const body = Buffer.concat([...chunks]);
  return (gzip ? gunzipSync(body) : body)
    .toString('utf8')
    .split('\n')
    .filter((line) => !/^(# (HELP|TYPE) )?(process|nodejs)_/.test(line))
    .join('\n');
}

/** The steps: each makes the next containers map from the current one, as events and refreshes do. */
const STEPS: ((containers: Map<string, ContainerReport>) => void)[] = [
  (containers) => containers.delete([...containers.keys()][0] as string),
  (containers) => {
    const [id, report] = [...containers][7] as [string, ContainerReport];
    containers.set(id, {
      ...report,
      compliant: !report.compliant,
      labels: { ...report.labels, 'com.example.team': 'a "quoted"\nteam' },
      results: report.results.map((result) => ({ ...result, result: 'fail' })),
    });
  },
  (containers) => {
    // Moved to the end, as a refresh that lists them in another order does.
    for (const index of [0, 100, 200]) {
      const [id, report] = [...containers][index] as [string, ContainerReport];
      containers.delete(id);
      containers.set(id, report);
    }
  },
  (containers) => {
    const [id, report] = [...containers][3] as [string, ContainerReport];
    containers.set(`${id}-new`, { ...report, id: `${id}-new`, name: `${report.name}-new` });
  },
];

test('after each new state, the exposition is the one rendered from scratch for that state', async () => {
  const { state: initial, checks } = await cisFleet(SIZE);
  for (const resultsMode of RESULTS_MODES) {
    for (const containerLabels of [[], ['com.*']]) {
      const state: MonitorState = { ...initial };
      const options = { checks, refresh: 3_600_000, counters: createEventCounters(), resultsMode, containerLabels };
      const kept = createMetrics({ ...options, monitor: { state } as Monitor });
      for (const [index, step] of [...STEPS, () => undefined].entries()) {
        const fresh = createMetrics({ ...options, monitor: { state } as Monitor });
        for (const openMetrics of [false, true]) {
          const expected = await text(fresh, openMetrics, false);
          const where = `${resultsMode}, labels [${containerLabels.join(',')}], after ${index} steps, OpenMetrics ${openMetrics}`;
          assert.equal(await text(kept, openMetrics, false), expected, where);
          assert.equal(await text(kept, openMetrics, true), expected, `${where}, gzip`);
        }
        const containers = new Map(state.containers);
        step(containers);
        state.containers = containers;
      }
    }
  }
});
