/**
 * CIS image checks (section 4) and the LatestTagCheck house rule on images built FROM the test image with the classic builder:
 * one that passes every check, one that fails every check (with the traps: USER 0:0, ADD beside
 * ENV ADDRESS=…, `apt-get update` alone beside `apt-get update && apt-get install`), and an untagged
 * one with HEALTHCHECK NONE.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Evaluator } from '../../src/core/evaluator.js';
import { DOCKER_HOST } from '../helpers/docker.js';
import { CONTAINER_CASES } from '../fixtures/cis/cases.js';
import {
  CIS_POLICY_FILE,
  caseTitle,
  engineAt,
  evaluatorFor,
  mismatches,
  setUpScenario,
  verdictsOf,
  type Scenario,
} from '../fixtures/cis/scenario.js';

const cases = CONTAINER_CASES.filter((entry) => entry.image !== undefined);

describe('CIS image checks on built images', () => {
  let scenario: Scenario | undefined;
  const engine = engineAt(DOCKER_HOST);
  let cis: Evaluator;

  before(async () => {
    scenario = await setUpScenario(cases);
    cis = await evaluatorFor(engine, await readFile(CIS_POLICY_FILE, 'utf8'), CIS_POLICY_FILE);
  });
  after(async () => {
    await scenario?.tearDown();
  });

  for (const entry of cases) {
    test(caseTitle(entry), async () => {
      const id = scenario?.containers.get(entry.name) ?? assert.fail('not started');
      assert.deepEqual(mismatches(await verdictsOf(cis, id), entry.expect), []);
    });
  }

  test('image verdicts are cached per image ID: evaluating again reads neither image inspect nor history', async () => {
    const id = scenario?.containers.get('image-bad') ?? assert.fail('not started');
    const first = await verdictsOf(cis, id);
    const calls = engine.callCounts();
    const second = await verdictsOf(cis, id);
    assert.deepEqual(second.get('UpdateAloneCheck'), first.get('UpdateAloneCheck'));
    assert.equal(engine.callCounts()['image'] ?? 0, calls['image'] ?? 0);
    assert.equal(engine.callCounts()['history'] ?? 0, calls['history'] ?? 0);
    assert.match(first.get('UpdateAloneCheck')?.reason ?? '', /RUN apt-get update$/);
    assert.doesNotMatch(first.get('AddInsteadOfCopyCheck')?.reason ?? '', /ADDRESS|COPY/);
    assert.doesNotMatch(first.get('ImageSecretEnvCheck')?.reason ?? '', /hunter2|not-a-real-token/);
  });
});
