/**
 * CIS checks that need privileged containers or privileged exec sessions, on a private engine whose
 * runc wrapper drops the CAP_SYS_RESOURCE this machine cannot grant (test/fixtures/cis/private-engine.ts).
 * The same engine remaps user namespaces, so `--userns host` has something to differ from.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Evaluator } from '../../src/core/evaluator.js';
import { CONTAINER_CASES, STRICT_POLICY } from '../fixtures/cis/cases.js';
import {
  CIS_POLICY_FILE,
  caseProblems,
  caseTitle,
  engineAt,
  evaluatorFor,
  setUpScenario,
  verdictsOf,
  type Scenario,
} from '../fixtures/cis/scenario.js';

const cases = CONTAINER_CASES.filter((entry) => entry.engine === 'hardened');

describe('CIS checks of privileged containers and exec sessions (private engine)', () => {
  let scenario: Scenario | undefined;
  let cis: Evaluator;
  let strict: Evaluator;

  before(async () => {
    scenario = await setUpScenario(cases);
    const host = scenario.hosts.hardened ?? assert.fail('the private engine did not start');
    cis = await evaluatorFor(engineAt(host), await readFile(CIS_POLICY_FILE, 'utf8'), CIS_POLICY_FILE);
    strict = await evaluatorFor(engineAt(host), STRICT_POLICY);
  });
  after(async () => {
    await scenario?.tearDown();
  });

  for (const entry of cases) {
    test(caseTitle(entry), async () => {
      assert.deepEqual(await caseProblems(entry, scenario, cis, strict), []);
    });
  }

  test('the privileged exec session is named in the reason', async () => {
    const id = scenario?.containers.get('exec-privileged') ?? assert.fail('not started');
    assert.match((await verdictsOf(cis, id)).get('PrivilegedExecCheck')?.reason ?? '', /privileged exec [0-9a-f]{12} \(sleep 3600\)/);
  });
});
