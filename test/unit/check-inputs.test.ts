/**
 * Checks declare what they read (`static inputs`), see only that, and run again only when it changed.
 * The Evaluator and EngineCache are the real ones, over the fake engine's captured JSON.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { EventFollower } from '../../src/core/event-follower.js';
import { Evaluator } from '../../src/core/evaluator.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { captureLogger } from '../helpers/log-capture.js';

// Users' checks run in worker threads: each run is written to runs.log beside the module, where the test reads it.
const MODULE = `
import { appendFileSync } from 'node:fs';
const log = new URL('runs.log', import.meta.url);
class Counting {
  check(container) {
    appendFileSync(log, this.constructor.name + '\\n');
    return 'pass';
  }
}
export class ReadsInspect extends Counting {
  static inputs = ['inspect'];
  check(container) { void container.inspect.Config; return super.check(container); }
}
export class ReadsProcesses extends Counting {
  static inputs = ['processes'];
  async check(container) { await container.processes(); return super.check(container); }
}
export class DeclaresNothing extends Counting {
  async check(container) { await container.processes(); void container.inspect; return super.check(container); }
}
export class ReadsUndeclared extends Counting {
  static inputs = ['inspect'];
  async check(container) { await container.processes(); return super.check(container); }
}
export class BadInputs extends Counting {
  static inputs = ['inspect', 'disk'];
}
`;

let dir = '';
/** The checks that ran since the last clearRuns(), in order. */
function ran(): string[] {
  return readFileSync(join(dir, 'runs.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}
function clearRuns(): void {
  writeFileSync(join(dir, 'runs.log'), '');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dm-inputs-'));
  writeFileSync(join(dir, 'reading.js'), MODULE);
});
after(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(clearRuns);

async function rig(
  sections: string[],
): Promise<{ engine: FakeEngine; evaluator: Evaluator; follower: EventFollower; scan: () => Promise<unknown> }> {
  const engine = new FakeEngine();
  const cache = new EngineCache(engine, new TopProcessSource(engine), 10_000);
  const ini = sections.map((name) => `[reading.${name}]\n`).join('');
  const { checks } = await parsePolicy(ini, join(dir, 'policy.ini'), BUILT_IN_CHECKS);
  const evaluator = new Evaluator(cache, { checks, alwaysAllow: [], failFast: false });
  // A scan as the monitor runs one: the follower has every process list read again first.
  const follower = new EventFollower(engine, cache, captureLogger().logger);
  const scan = (): Promise<unknown> => {
    follower.beginScan();
    return evaluator.evaluateKnown();
  };
  return { engine, evaluator, follower, scan };
}

describe('declared inputs', () => {
  test('a scan runs only the checks whose inputs changed; a check that declares nothing reads everything', async () => {
    const { engine, evaluator, scan } = await rig(['ReadsInspect', 'ReadsProcesses', 'DeclaresNothing']);
    await evaluator.evaluateAll();
    const containers = engine.callCounts()['containers'];
    assert.equal(ran().length, 3 * (await evaluator.evaluateKnown()).containers.length, 'the resync ran every check');
    clearRuns();
    await scan();
    assert.deepEqual(ran(), [], 'nothing changed: nothing ran');
    engine.setProcesses('app', 'app.exec-root');
    await scan();
    assert.deepEqual(ran().sort(), ['DeclaresNothing', 'ReadsProcesses']);
    clearRuns();
    await evaluator.evaluateContainer(engine.id('twin'));
    assert.deepEqual(
      ran(),
      ['DeclaresNothing'],
      'a new inspect read of the same data (an event): only a check that may read exec sessions',
    );
    clearRuns();
    engine.set('app', 'app.exec-root');
    await evaluator.evaluateContainer(engine.id('app'));
    assert.deepEqual(ran().sort(), ['DeclaresNothing', 'ReadsInspect'], 'a new inspect read with other data (ExecIDs)');
    assert.equal(engine.callCounts()['containers'], containers, 'scans and events list nothing');
  });

  test('a resync reads every container again; where the data are the same, only checks that read exec sessions run', async () => {
    const { engine, evaluator, follower } = await rig(['ReadsInspect', 'ReadsProcesses', 'DeclaresNothing']);
    await evaluator.evaluateAll();
    const inspects = engine.count('inspect');
    clearRuns();
    follower.beginResync();
    const { containers } = await evaluator.evaluateAll();
    assert.equal(engine.count('inspect') - inspects, containers.length, 'every container inspected again');
    assert.deepEqual(ran(), Array<string>(containers.length).fill('DeclaresNothing'));
  });

  test('reading an input the class does not declare is an error result that says which', async () => {
    const { engine, evaluator } = await rig(['ReadsUndeclared']);
    const report = await evaluator.evaluateContainer(engine.id('app'));
    assert.equal(report?.results[0]?.result, 'error');
    assert.match(
      String(report?.results[0]?.reason),
      /reads processes data, which ReadsUndeclared does not declare in its static inputs \(inspect\)/,
    );
  });

  test('an unknown input is a configuration error naming the section', async () => {
    await assert.rejects(
      rig(['BadInputs']),
      /policy\.ini.*\[reading\.BadInputs\].*static inputs of BadInputs must list some of inspect, image, processes, exec, engine; disk is not one/,
    );
  });
});
