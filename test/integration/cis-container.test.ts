/**
 * CIS container runtime checks (section 5) on the machine's engine: for each check a container that
 * fails it and one that passes it, judged through the real DockerEngine, EngineCache and Evaluator,
 * under examples/cis.ini and under the strict options.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { ProcProcessSource } from '../../src/engine/proc-process-source.js';
import { Evaluator } from '../../src/core/evaluator.js';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { DOCKER_HOST } from '../helpers/docker.js';
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

const cases = CONTAINER_CASES.filter((entry) => entry.engine === 'main' && entry.image === undefined);

describe('CIS container checks on the real engine', () => {
  let scenario: Scenario | undefined;
  let cis: Evaluator;
  let strict: Evaluator;

  before(async () => {
    const [made, policyText] = await Promise.all([setUpScenario(cases), readFile(CIS_POLICY_FILE, 'utf8')]);
    scenario = made;
    cis = await evaluatorFor(engineAt(DOCKER_HOST), policyText, CIS_POLICY_FILE);
    strict = await evaluatorFor(engineAt(DOCKER_HOST), STRICT_POLICY);
  });
  after(async () => {
    await scenario?.tearDown();
  });

  for (const entry of cases) {
    test(caseTitle(entry), async () => {
      assert.deepEqual(await caseProblems(entry, scenario, cis, strict), []);
    });
  }

  test('sshd is found through /proc as well as through top', async () => {
    const id = scenario?.containers.get('sshd') ?? assert.fail('not started');
    const engine = engineAt(DOCKER_HOST);
    const policy = await parsePolicy('[docker_monitor.checks.SshdCheck]\n', 'sshd.ini', BUILT_IN_CHECKS);
    const evaluator = new Evaluator(new EngineCache(engine, new ProcProcessSource(), 10_000), {
      checks: policy.checks,
      alwaysAllow: [],
      failFast: false,
    });
    const verdict = (await verdictsOf(evaluator, id)).get('SshdCheck');
    assert.equal(verdict?.result, 'fail', verdict?.reason);
    assert.match(verdict?.reason ?? '', /\/usr\/sbin\/sshd/);
  });
});
