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
import { Evaluator } from '../../src/evaluator.js';
import { FakeEngine } from '../helpers/fake-engine.js';

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

async function rig(sections: string[]): Promise<{ engine: FakeEngine; evaluator: Evaluator }> {
  const engine = new FakeEngine();
  const cache = new EngineCache(engine, new TopProcessSource(engine), 10_000);
  const ini = sections.map((name) => `[reading.${name}]\n`).join('');
  const { checks } = await parsePolicy(ini, join(dir, 'policy.ini'), BUILT_IN_CHECKS);
  return { engine, evaluator: new Evaluator(cache, { checks, alwaysAllow: [], failFast: false }) };
}

describe('declared inputs', () => {
  test('a scan runs only the checks whose inputs changed; a check that declares nothing reads everything', async () => {
    const { engine, evaluator } = await rig(['ReadsInspect', 'ReadsProcesses', 'DeclaresNothing']);
    await evaluator.evaluateAll();
    const containers = engine.callCounts()['containers'];
    assert.equal(ran().length, 3 * (await evaluator.evaluateKnown()).containers.length, 'the resync ran every check');
    clearRuns();
    await evaluator.evaluateKnown();
    assert.deepEqual(ran(), [], 'nothing changed: nothing ran');
    engine.setProcesses('app', 'app.exec-root');
    await evaluator.evaluateKnown();
    assert.deepEqual(ran().sort(), ['DeclaresNothing', 'ReadsProcesses']);
    clearRuns();
    await evaluator.evaluateContainer(engine.id('twin'));
    assert.deepEqual(ran().sort(), ['DeclaresNothing', 'ReadsInspect'], 'a new inspect read (an event)');
    assert.equal(engine.callCounts()['containers'], containers, 'scans and events list nothing');
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
