/**
 * `check`'s formats on a run the real chain made from captured containers: SARIF validated against the
 * published SARIF 2.1.0 schema, JSON against schemas/check-output.schema.json, JUnit parsed; `--fail-on`
 * thresholds; remediation on every built-in check.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Result } from 'sarif';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { checkJson, formatCheckTable } from '../../src/report/check-table.js';
import { checkExitCode } from '../../src/report/fail-on.js';
import { junitXml } from '../../src/report/junit.js';
import { imageUri, sarifLog } from '../../src/report/sarif.js';
import type { CheckRun } from '../../src/report/check-run.js';
import type { ContainerReport } from '../../src/policy/types.js';
import { FIXTURE_POLICY, WAIVER, fixtureCheckRun } from '../helpers/check-run-fixture.js';
import { assertValidCheckJson, assertValidSarif, parseJunit } from '../helpers/output-schemas.js';
import { policyChecks } from '../fixtures/cis/fixture-views.js';

const run = await fixtureCheckRun();

/** The run with only some containers. */
function only(...names: string[]): CheckRun {
  return { ...run, containers: run.containers.filter((report) => names.includes(report.name)) };
}

describe('remediation', () => {
  test('every built-in check carries one short sentence on how to fix a failure', () => {
    for (const [name, checkClass] of Object.entries(BUILT_IN_CHECKS)) {
      const text = checkClass.remediation ?? '';
      assert.match(text, /^[A-Z"].{10,150}\.$/, `${name}: "${text}"`);
      assert.doesNotMatch(text.slice(0, -1), /\.\s+[A-Z]/, `${name}: one sentence`);
    }
  });

  test('the loader passes it on with the check', async () => {
    const checks = await policyChecks(FIXTURE_POLICY, 'fixture.ini');
    assert.equal(checks.get('PrivilegedContainerCheck')?.remediation, BUILT_IN_CHECKS['PrivilegedContainerCheck']?.remediation);
  });

  test('check text output: a fix line under each FAIL, waived results with their waiver', () => {
    const text = formatCheckTable(
      run.containers,
      run.host,
      ['RunningAsRootCheck', 'PrivilegedContainerCheck', 'MemoryLimitCheck', 'HostNetworkCheck'],
      run.checks,
    );
    assert.ok(
      text.includes(
        '  privileged: PrivilegedContainerCheck FAIL: runs privileged (--privileged)\n    fix: Remove --privileged; add only the capabilities or devices the application needs.\n',
      ),
      text,
    );
    assert.ok(
      text.includes('  flaky: BrokenCheck ERROR: cannot read properties of undefined (reading "Labels")\n'),
      'an error has no fix line',
    );
    assert.ok(
      text.includes(
        '\nWaived:\n  legacy: RunningAsRootCheck waived by legacy-root until 2030-01-01: the vendor image runs as root until its 3.0 release (FAIL: no user set: runs as root)\n',
      ),
      text,
    );
    assert.match(text, /^legacy\s+\S+\s+pass\s+waived\s+pass\s+waived\s+pass$/m);
  });
});

describe('check --format json', () => {
  test('follows schemas/check-output.schema.json, a waived result carrying its waiver', () => {
    const document = checkJson(run.containers, run.host) as {
      containers: { name: string; results: { check: string; waiver?: unknown }[] }[];
    };
    assertValidCheckJson(document);
    const legacy = document.containers.find((container) => container.name === 'legacy');
    assert.deepEqual(legacy?.results[0], {
      check: 'RunningAsRootCheck',
      result: 'waived',
      reason: 'no user set: runs as root',
      waiver: WAIVER,
    });
    const forever = checkJson(
      [
        {
          ...(run.containers[2] as ContainerReport),
          results: [{ check: 'RunningAsRootCheck', result: 'waived', reason: 'x', waiver: { name: 'w', reason: 'r' } }],
        },
      ],
      run.host,
    );
    assertValidCheckJson(forever);
    assert.deepEqual((forever as { containers: { results: { waiver: unknown }[] }[] }).containers[0]?.results[0]?.waiver, {
      name: 'w',
      reason: 'r',
      expires: null,
    });
  });

  test('a container the engine did not let it judge is listed as unevaluated, with why', () => {
    const document = checkJson(run.containers, run.host, [
      { id: 'c0ffee', name: 'paused', error: 'engine call inspect timed out after 10000 ms' },
    ]);
    assertValidCheckJson(document);
    assert.deepEqual((document as { unevaluated: unknown }).unevaluated, [
      { id: 'c0ffee', name: 'paused', error: 'engine call inspect timed out after 10000 ms' },
    ]);
    assert.ok(!(document as { containers: { name: string }[] }).containers.some(({ name }) => name === 'paused'), 'no verdict');
  });

  test('the schema rejects what the format never prints', () => {
    const document = checkJson(run.containers, run.host) as { containers: { results: Record<string, unknown>[] }[] };
    const bad = structuredClone(document);
    (bad.containers[0]?.results[0] ?? {})['result'] = 'passed';
    assert.throws(() => assertValidCheckJson(bad), /must be equal to one of the allowed values/);
    const unwaived = structuredClone(document);
    delete unwaived.containers[2]?.results[0]?.['waiver'];
    assert.throws(() => assertValidCheckJson(unwaived), /must have required property 'waiver'/);
  });
});

describe('check --format sarif', () => {
  const log = sarifLog(run);
  const [sarifRun] = log.runs;
  const results = sarifRun?.results ?? [];
  const find = (container: string, check: string): Result | undefined =>
    results.find((result) => result.ruleId === check && result.locations?.[0]?.logicalLocations?.[0]?.name === container);

  test('validates against the published SARIF 2.1.0 schema', () => {
    assert.equal(log.version, '2.1.0');
    assertValidSarif(log);
  });

  test('every form of image reference is a valid artifact URI', () => {
    const references = [
      'redis:7',
      'docker-monitor-test/busybox:1',
      'registry.local:5000/team/app:1.2',
      'sha256:e80f52eb',
      'nginx@sha256:0123abcd',
      'team/app@sha256:0123abcd',
      'busybox',
    ];
    const containers = references.map((image, index) => ({ ...(run.containers[0] as ContainerReport), name: `c${index}`, image }));
    const log = sarifLog({ ...run, containers });
    assertValidSarif(log);
    assert.equal(imageUri('nginx@sha256:0123abcd'), 'nginx@sha256%3A0123abcd');
    assert.equal(decodeURIComponent(imageUri('nginx@sha256:0123abcd')), 'nginx@sha256:0123abcd');
    assert.equal(imageUri('redis:7'), 'redis:7');
    assert.equal(imageUri('team/app@sha256:0123abcd'), 'team/app@sha256:0123abcd');
    // RFC 3986: without a scheme, the first path segment of a relative reference holds no colon.
    for (const image of references) {
      const uri = imageUri(image);
      assert.ok(/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) || !(uri.split('/')[0] ?? '').includes(':'), uri);
    }
  });

  test('the schema check can fail', () => {
    const broken = structuredClone(log) as unknown as { runs: { results: { level: string }[] }[] };
    const first = broken.runs[0]?.results[0];
    assert.ok(first);
    first.level = 'fatal';
    assert.throws(() => assertValidSarif(broken), /not valid SARIF/);
  });

  test('one rule per check, with description, level by severity, CIS id and remediation', () => {
    const rules = sarifRun?.tool.driver.rules ?? [];
    assert.deepEqual(
      rules.map((rule) => rule.id),
      [
        'RunningAsRootCheck',
        'PrivilegedContainerCheck',
        'MemoryLimitCheck',
        'HostNetworkCheck',
        'SwarmModeCheck',
        'LiveRestoreCheck',
        'BrokenCheck',
      ],
    );
    const privileged = rules[1];
    assert.equal(privileged?.id, 'PrivilegedContainerCheck');
    assert.equal(privileged?.name, 'privileged-container-check', 'a readable name that differs from the id (SARIF1001)');
    assert.deepEqual(privileged?.shortDescription, { text: 'the container is not privileged' });
    assert.deepEqual(privileged?.defaultConfiguration, { level: 'error' });
    assert.deepEqual(privileged?.help, { text: 'Remove --privileged; add only the capabilities or devices the application needs.' });
    assert.equal(privileged?.properties?.['cisId'], '5.5');
    assert.equal(privileged?.properties?.['severity'], 'critical');
    assert.equal(privileged?.properties?.['security-severity'], '9.5');
    assert.deepEqual(privileged?.properties?.tags, ['security', 'docker', 'CIS-Docker-5.5']);
    assert.equal(rules[2]?.defaultConfiguration?.level, 'warning', 'medium is a warning');
    assert.equal(rules[5]?.defaultConfiguration?.level, 'note', 'low is a note');
    assert.equal(rules[0]?.properties?.['cisId'], undefined, 'no CIS id where the check has none');
  });

  test('one result per failing container and check, pointing at its rule', () => {
    assert.deepEqual(
      results.map((result) => `${result.locations?.[0]?.logicalLocations?.[0]?.name}/${result.ruleId}/${result.level}`),
      [
        'privileged/RunningAsRootCheck/error',
        'privileged/PrivilegedContainerCheck/error',
        'privileged/MemoryLimitCheck/warning',
        'host-net/RunningAsRootCheck/error',
        'host-net/MemoryLimitCheck/warning',
        'host-net/HostNetworkCheck/error',
        'legacy/RunningAsRootCheck/error',
        'legacy/MemoryLimitCheck/warning',
        'engine/LiveRestoreCheck/note',
      ],
    );
    const privileged = find('privileged', 'PrivilegedContainerCheck');
    assert.equal(privileged?.message.text, 'privileged: runs privileged (--privileged)');
    assert.equal(privileged?.ruleIndex, 1);
    assert.equal(privileged?.locations?.[0]?.physicalLocation?.artifactLocation?.uri, run.containers[0]?.image);
    assert.equal(privileged?.properties?.['containerId'], run.containers[0]?.id);
    assert.equal(privileged?.suppressions, undefined);
  });

  test('a waived FAIL is an accepted external suppression naming the waiver, reason and expiry', () => {
    assert.deepEqual(find('legacy', 'RunningAsRootCheck')?.suppressions, [
      { kind: 'external', status: 'accepted', justification: WAIVER.reason, properties: { waiver: 'legacy-root', expires: '2030-01-01' } },
    ]);
  });

  test('a check that threw is a tool execution notification, not a finding', () => {
    assert.equal(find('flaky', 'BrokenCheck'), undefined);
    const notifications = sarifRun?.invocations?.[0]?.toolExecutionNotifications ?? [];
    assert.deepEqual(
      notifications.map((notification) => [notification.level, notification.message.text, notification.associatedRule?.id]),
      [['error', 'flaky: cannot read properties of undefined (reading "Labels")', 'BrokenCheck']],
    );
  });
});

describe('check --format junit', () => {
  const { totals, suites } = parseJunit(junitXml(run, new Date('2026-11-27T10:00:00Z')));

  test('a suite per container plus the host, a test case per container and check', () => {
    assert.deepEqual(
      suites.map((suite) => [suite.name, suite.tests, suite.failures, suite.errors, suite.skipped]),
      [
        ['containers/privileged', 5, 3, 0, 1],
        ['containers/host-net', 5, 3, 0, 1],
        ['containers/legacy', 5, 0, 0, 3],
        ['containers/hardened', 5, 0, 0, 1],
        ['containers/flaky', 5, 0, 1, 0],
        ['host', 2, 1, 0, 0],
      ],
    );
    assert.deepEqual(totals, { tests: 27, failures: 7, errors: 1, skipped: 6 });
    assert.equal(suites[0]?.properties['image'], run.containers[0]?.image);
    assert.equal(suites[0]?.properties['id'], run.containers[0]?.id);
  });

  test('failures carry the reason, and severity, CIS id and remediation in their body', () => {
    const privileged = suites[0]?.cases.find((entry) => entry.name === 'PrivilegedContainerCheck');
    assert.equal(privileged?.classname, 'docker-monitor.containers.privileged');
    assert.equal(privileged?.failure?.message, 'runs privileged (--privileged)');
    assert.equal(privileged?.failure?.type, 'critical');
    assert.equal(
      privileged?.failure?.text,
      'runs privileged (--privileged)\ncheck: PrivilegedContainerCheck (the container is not privileged)\nseverity: critical\nCIS Docker Benchmark: 5.5\nremediation: Remove --privileged; add only the capabilities or devices the application needs.',
    );
    assert.deepEqual(
      suites[0]?.cases.find((entry) => entry.name === 'HostNetworkCheck'),
      { name: 'HostNetworkCheck', classname: 'docker-monitor.containers.privileged' },
    );
  });

  test('waived FAILs and checks that did not run are skipped, saying why', () => {
    assert.equal(
      suites[2]?.cases.find((entry) => entry.name === 'RunningAsRootCheck')?.skipped?.message,
      'waived by legacy-root until 2030-01-01: the vendor image runs as root until its 3.0 release (FAIL: no user set: runs as root)',
    );
    assert.equal(
      suites[0]?.cases.find((entry) => entry.name === 'BrokenCheck')?.skipped?.message,
      'not run: fail_fast stopped the chain at the first failure',
    );
    assert.equal(
      suites[4]?.cases.find((entry) => entry.name === 'BrokenCheck')?.error?.message,
      'cannot read properties of undefined (reading "Labels")',
    );
  });

  test('markup and control characters in a reason stay text in well-formed XML', () => {
    const hostile = { ...only('privileged'), containers: structuredClone(only('privileged').containers) };
    const result = hostile.containers[0]?.results[1];
    assert.ok(result);
    result.reason = '1 process running as root: pid 7 (sh -c </failure><script>alert("x")</script> & \u001b[31m)';
    const xml = junitXml(hostile);
    assert.ok(!xml.includes('<script>'));
    const [suite] = parseJunit(xml).suites;
    assert.equal(
      suite?.cases[1]?.failure?.message,
      '1 process running as root: pid 7 (sh -c </failure><script>alert("x")</script> & \ufffd[31m)',
    );
  });
});

describe('--fail-on', () => {
  test('exit 1 only for a failure at or above the threshold; waived results never count', () => {
    // privileged: critical; host-net: high at most; legacy: only waived; flaky: error of a medium check.
    const cases: [string[], undefined | 'low' | 'medium' | 'high' | 'critical', 0 | 1][] = [
      [['privileged'], 'critical', 1],
      [['host-net'], 'critical', 0],
      [['host-net'], 'high', 1],
      [['legacy'], undefined, 0],
      [['legacy'], 'low', 0],
      [['flaky'], 'medium', 1],
      [['flaky'], 'high', 0],
      [['flaky'], undefined, 1],
      [['hardened'], undefined, 0],
    ];
    for (const [names, failOn, expected] of cases)
      assert.equal(checkExitCode(only(...names), failOn), expected, `${names.join(',')} --fail-on ${failOn}`);
  });

  test('a container that could not be evaluated fails the run at any threshold', () => {
    assert.equal(checkExitCode({ ...only('hardened'), failed: [{ id: 'x', name: 'gone', error: 'boom' }] }, 'critical'), 1);
  });
});
