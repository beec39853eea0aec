/**
 * A fleet of any size under examples/cis.ini, for the status page at scale (the browser test and
 * `npm run bench`): the real policy loader and chain run on every container case captured from real
 * engines (test/fixtures/cis/), and the reports are copied to N, each with its own name and ID.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Monitor, MonitorState } from '../../src/core/monitor.js';
import { runCheck } from '../../src/policy/chain.js';
import type { CheckInstance, ContainerReport } from '../../src/policy/types.js';
import { cisHostView, policyChecks } from '../fixtures/cis/fixture-views.js';
import { capturedReport } from './check-run-fixture.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CASES = readdirSync(join(ROOT, 'test/fixtures/cis/containers'))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.slice(0, -'.json'.length))
  .sort();

export interface Fleet {
  state: MonitorState;
  checks: CheckInstance[];
}

/** `size` containers, the captured cases in turn (`privileged-7`, `hardened-12`, …), and the main engine's host checks. */
export async function cisFleet(size: number): Promise<Fleet> {
  const checks = [...(await policyChecks(readFileSync(join(ROOT, 'examples/cis.ini'), 'utf8'), 'cis.ini')).values()];
  const containerChecks = checks.filter((check) => check.scope !== 'host');
  const host = await Promise.all(
    checks.filter((check) => check.scope === 'host').map((check) => runCheck(check, () => cisHostView('main'))),
  );
  const models = await Promise.all(CASES.map((name) => capturedReport(name, name, containerChecks)));
  const containers = new Map<string, ContainerReport>();
  for (let index = 0; index < size; index += 1) {
    const model = models[index % models.length] as ContainerReport;
    const id = index.toString(16).padStart(64, '0');
    containers.set(id, { ...model, id, name: size <= models.length ? model.name : `${model.name}-${index}` });
  }
  return {
    state: { containers, host: { results: host }, up: true, lastRefreshTimestamp: Date.now() / 1000, refreshDuration: 0.5 },
    checks,
  };
}

/** Stands in for the monitor of a fleet: the pages and `/metrics` only read its state. */
export function fleetMonitor(state: MonitorState): Monitor {
  return {
    state,
    refreshed: true,
    notReadyReason: undefined,
    errorCounts: new Map<string, number>(),
    forScrape: async () => state,
  } as unknown as Monitor;
}
