/**
 * What every CIS check must carry (CIS id, description, severity, scope), that the registry and
 * examples/cis.ini hold them all, and that the case table proves each check both ways.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { CIS_CHECKS, CIS_CONTAINER_CHECKS, CIS_HOST_CHECKS, CIS_HOUSE_RULES, CIS_IMAGE_CHECKS } from '../../src/checks/cis/index.js';
import { LatestTagCheck } from '../../src/checks/cis/image-checks.js';
import { HostPolicyCheck } from '../../src/policy/policy-check.js';
import { SEVERITIES } from '../../src/policy/types.js';
import { CONTAINER_CASES, HOST_CASES } from '../fixtures/cis/cases.js';

/** What no engine on this machine can show live (see cases.ts and the README's CIS caveats). */
const CANNOT_SHOW: Readonly<Record<string, 'pass' | 'fail'>> = {
  AufsStorageCheck: 'fail', // the kernel has no aufs
  DefaultBridgeIccCheck: 'pass', // icc=false needs iptables, off limits to private engines here
};

/** The checks that carry a CIS id: each decides as that id's audit does. */
const CIS_ID_CHECKS = [...CIS_IMAGE_CHECKS, ...CIS_CONTAINER_CHECKS, ...CIS_HOST_CHECKS];

describe('CIS check metadata', () => {
  for (const checkClass of CIS_ID_CHECKS) {
    test(`${checkClass.name} has a v1.6.0 id, a description and a severity, and is registered`, () => {
      assert.match(checkClass.cisId ?? '', /^[245]\.\d+$/);
      assert.ok((checkClass.description ?? '').length > 10);
      assert.ok(SEVERITIES.includes(checkClass.severity ?? 'medium'));
      assert.equal(BUILT_IN_CHECKS[checkClass.name], checkClass);
    });
  }

  test('CIS ids are unique', () => {
    const ids = CIS_ID_CHECKS.map((checkClass) => checkClass.cisId);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('house rules carry no CIS id, and docs/cis-checks.md lists each beside the CIS rule it differs from', () => {
    const docs = readFileSync(join(import.meta.dirname, '../../docs/cis-checks.md'), 'utf8');
    const houseRules = docs.slice(docs.indexOf('## House rules'));
    for (const checkClass of CIS_HOUSE_RULES) {
      assert.equal(checkClass.cisId, undefined, checkClass.name);
      assert.ok(SEVERITIES.includes(checkClass.severity ?? 'medium'));
      assert.equal(BUILT_IN_CHECKS[checkClass.name], checkClass);
      assert.match(houseRules, new RegExp(`\\| ${checkClass.name} \\| \\d\\.\\d+ `), checkClass.name);
    }
  });

  test("docs/cis-checks.md's table of default severities is each check's declared severity", () => {
    const docs = readFileSync(join(import.meta.dirname, '../../docs/cis-checks.md'), 'utf8');
    const listed = new Map<string, string>();
    for (const [, severity, names] of docs.matchAll(/^\| (critical|high|low) \| (.+) \|$/gm)) {
      for (const name of (names ?? '').split(', ')) listed.set(name, severity ?? '');
    }
    for (const checkClass of CIS_CHECKS) assert.equal(checkClass.severity, listed.get(checkClass.name) ?? 'medium', checkClass.name);
  });

  test('privileged containers and docker.sock mounts are critical', () => {
    assert.equal(BUILT_IN_CHECKS['PrivilegedContainerCheck']?.severity, 'critical');
    assert.equal(BUILT_IN_CHECKS['DockerSocketMountCheck']?.severity, 'critical');
  });

  test('scopes: image checks per image, host checks on the engine', () => {
    for (const checkClass of [...CIS_IMAGE_CHECKS, LatestTagCheck]) assert.equal(checkClass.scope, 'image', checkClass.name);
    for (const checkClass of CIS_HOST_CHECKS) {
      assert.equal(checkClass.scope, 'host', checkClass.name);
      assert.ok(checkClass.prototype instanceof HostPolicyCheck, checkClass.name);
    }
  });

  test('examples/cis.ini lists the default chain and every CIS check', () => {
    const sections = [
      ...readFileSync(join(import.meta.dirname, '../../examples/cis.ini'), 'utf8').matchAll(/^\[docker_monitor\.checks\.(\w+)\]/gm),
    ].map((match) => match[1]);
    assert.deepEqual(sections.slice(0, 3), ['ActiveBuildCheck', 'RunningAsRootCheck', 'RootProcessCheck']);
    assert.deepEqual(new Set(sections.slice(3)), new Set(CIS_CHECKS.map((checkClass) => checkClass.name)));
  });

  test('the case table has a failing and a passing real case for every check, but what this machine cannot show', () => {
    const seen = new Map<string, Set<string>>();
    const note = (expected: Readonly<Record<string, string>>): void => {
      for (const [check, verdict] of Object.entries(expected)) seen.set(check, (seen.get(check) ?? new Set()).add(verdict));
    };
    for (const entry of CONTAINER_CASES) {
      note(entry.expect);
      note(entry.strict ?? {});
    }
    for (const expected of Object.values(HOST_CASES)) note(expected);
    const missing = CIS_CHECKS.flatMap((checkClass) =>
      ['pass', 'fail']
        .filter((verdict) => !seen.get(checkClass.name)?.has(verdict) && CANNOT_SHOW[checkClass.name] !== verdict)
        .map((verdict) => `${checkClass.name} ${verdict}`),
    );
    assert.deepEqual(missing, []);
  });
});
