/**
 * CIS host checks (HostPolicyCheck, from /info, /version and /networks) on three real engines: the
 * machine's (defaults), a private hardened-and-loose one (userns-remap, live restore, journald logs;
 * experimental, insecure registries) and a private one in swarm mode.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { HOST_CASES, type EngineName } from '../fixtures/cis/cases.js';
import { CIS_POLICY_FILE, engineAt, evaluatorFor, setUpScenario, type Scenario } from '../fixtures/cis/scenario.js';

const engines = Object.keys(HOST_CASES) as EngineName[];

describe('CIS host checks on real engines', () => {
  let scenario: Scenario | undefined;
  let policyText: string;

  before(async () => {
    [scenario, policyText] = await Promise.all([setUpScenario([], engines), readFile(CIS_POLICY_FILE, 'utf8')]);
  });
  after(async () => {
    await scenario?.tearDown();
  });

  for (const name of engines) {
    const expected = HOST_CASES[name];
    test(`${name} engine: ${Object.entries(expected)
      .map(([check, verdict]) => `${check} ${verdict}`)
      .join(', ')}`, async () => {
      const host = scenario?.hosts[name] ?? assert.fail(`the ${name} engine did not start`);
      const evaluator = await evaluatorFor(engineAt(host), policyText, CIS_POLICY_FILE);
      const { results } = await evaluator.evaluateHost();
      const actual = new Map(results.map(({ check, result, reason }) => [check, `${result}${reason ? ` (${reason})` : ''}`]));
      const problems = Object.entries(expected)
        .filter(([check, verdict]) => !actual.get(check)?.startsWith(verdict))
        .map(([check, verdict]) => `${check}: expected ${verdict}, got ${actual.get(check) ?? 'no result'}`);
      assert.deepEqual(problems, []);
    });
  }

  test('host checks run once per refresh, not per container, and only host checks run there', async () => {
    const host = scenario?.hosts.main ?? assert.fail('no engine');
    const evaluator = await evaluatorFor(engineAt(host), policyText, CIS_POLICY_FILE);
    const { results } = await evaluator.evaluateHost();
    assert.deepEqual(results.map(({ check }) => check).sort(), Object.keys(HOST_CASES.main).sort());
  });
});
