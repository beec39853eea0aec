/**
 * The policy keys for living with a fleet — `[waiver:NAME]`, `exclude_*`, `[exporter] metrics_*` — as
 * the loader reads them, and every malformed form of them: a ConfigError (exit 2) of one line naming
 * file, line, section and key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { applyFlags } from '../../src/config/flags.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { ConfigError, UsageError } from '../../src/errors.js';

const FILE = '/etc/docker-monitor/fleet.ini';
const CHECKS = `[docker_monitor.checks.RunningAsRootCheck]
[docker_monitor.checks.RootProcessCheck]
[docker_monitor.checks.DockerSocketMountCheck]
`;

async function configError(text: string): Promise<string> {
  try {
    await parsePolicy(text, FILE, BUILT_IN_CHECKS);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail('the policy loaded');
}

describe('fleet keys that load', () => {
  test('waivers, exclusions and the metrics keys', async () => {
    const policy = await parsePolicy(
      `${CHECKS}[policy]
exclude_labels = com.gitlab.ci.job
exclude_containers = buildkit-*
[exporter]
metrics_results = failing
metrics_container_labels = com.docker.compose.project, com.docker.compose.service
[docker_monitor.checks.RootProcessCheck]
exclude_images = gcr.io/cadvisor/cadvisor:v0.49.1
[waiver:cadvisor-socket]
checks = DockerSocketMountCheck, RunningAsRootCheck
images = gcr.io/cadvisor/cadvisor
labels = app=cadvisor*
reason = cAdvisor reads container stats through the socket (OPS-1234)
expires = 2027-01-31
[waiver:netshoot]
checks = RunningAsRootCheck
containers = netshoot-*
reason = debugging tool
`,
      FILE,
      BUILT_IN_CHECKS,
    );
    assert.deepEqual(
      policy.waivers.map(({ name, checks, reason, expires, expiresAt }) => ({ name, checks: [...checks], reason, expires, expiresAt })),
      [
        {
          name: 'cadvisor-socket',
          checks: ['DockerSocketMountCheck', 'RunningAsRootCheck'],
          reason: 'cAdvisor reads container stats through the socket (OPS-1234)',
          expires: '2027-01-31',
          expiresAt: Date.UTC(2027, 0, 31),
        },
        { name: 'netshoot', checks: ['RunningAsRootCheck'], reason: 'debugging tool', expires: undefined, expiresAt: undefined },
      ],
    );
    assert.deepEqual(
      policy.checks.map((check) => check.name),
      ['RunningAsRootCheck', 'RootProcessCheck', 'DockerSocketMountCheck'],
    );
    const target = {
      name: 'ci-1',
      labels: { 'com.gitlab.ci.job': '7' },
      imageId: 'sha256:' + 'b'.repeat(64),
      references: ['gcr.io/cadvisor/cadvisor:v0.49.1'],
    };
    assert.equal(policy.exclude?.matches(target), true);
    assert.equal(policy.exclude?.matches({ ...target, labels: {} }), false);
    assert.equal(policy.checks[1]?.exclude?.matches({ ...target, labels: {} }), true);
    assert.equal(policy.checks[0]?.exclude, undefined);
    assert.equal(policy.settings.metricsResults, 'failing');
    assert.deepEqual(policy.settings.metricsContainerLabels, ['com.docker.compose.project', 'com.docker.compose.service']);
  });

  test('flags win over the file; bad flag values are usage errors', async () => {
    const policy = await parsePolicy(`[exporter]\nmetrics_results = none\n`, FILE, BUILT_IN_CHECKS);
    assert.equal(applyFlags(policy.settings, { 'metrics.results': 'all' }).metricsResults, 'all');
    assert.deepEqual(applyFlags(policy.settings, { 'metrics.containerLabels': 'a.*,b' }).metricsContainerLabels, ['a.*', 'b']);
    assert.throws(
      () => applyFlags(policy.settings, { 'metrics.results': 'some' }),
      (error: unknown) =>
        error instanceof UsageError &&
        error.exitCode === 2 &&
        error.message === '--metrics.results: "some" is not one of all, failing, none',
    );
  });
});

/** [text, the message expected] — each names file:line [section] key. */
const MALFORMED: [string, string, string][] = [
  [
    'waiver without a reason',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\ncontainers = x\n`,
    `${FILE}:4 [waiver:a] reason: is required: why the exception is accepted (shown beside every waived result)`,
  ],
  [
    'waiver with an empty reason',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\ncontainers = x\nreason =\n`,
    `${FILE}:7 [waiver:a] reason: is required: why the exception is accepted (shown beside every waived result)`,
  ],
  [
    'waiver without checks',
    `${CHECKS}[waiver:a]\ncontainers = x\nreason = r\n`,
    `${FILE}:4 [waiver:a] checks: is required: the check names (class names, e.g. DockerSocketMountCheck) whose FAILs it waives`,
  ],
  [
    'waiver naming an unknown check',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootChek\ncontainers = x\nreason = r\n`,
    `${FILE}:5 [waiver:a] checks: no check named "RunningAsRootChek" in this policy (did you mean RunningAsRootCheck?)`,
  ],
  [
    'waiver naming a check the policy does not run',
    `${CHECKS}[waiver:a]\nchecks = PrivilegedContainerCheck\ncontainers = x\nreason = r\n`,
    `${FILE}:5 [waiver:a] checks: no check named "PrivilegedContainerCheck" in this policy (its checks: RunningAsRootCheck, RootProcessCheck, DockerSocketMountCheck)`,
  ],
  [
    'waiver naming a host check',
    `[docker_monitor.checks.LiveRestoreCheck]\n[waiver:a]\nchecks = LiveRestoreCheck\ncontainers = x\nreason = r\n`,
    `${FILE}:3 [waiver:a] checks: LiveRestoreCheck checks the engine, not containers: a waiver cannot apply to it`,
  ],
  [
    'waiver without containers, images or labels',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\nreason = r\n`,
    `${FILE}:4 [waiver:a]: a waiver names the containers it covers: give containers, images or labels (at least one)`,
  ],
  [
    'waiver with a date that does not parse',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\ncontainers = x\nreason = r\nexpires = 31/01/2027\n`,
    `${FILE}:8 [waiver:a] expires: "31/01/2027" is not a date (use YYYY-MM-DD, e.g. 2027-01-31; the waiver ends at the start of that day, UTC)`,
  ],
  [
    'waiver with a day that does not exist',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\ncontainers = x\nreason = r\nexpires = 2027-02-30\n`,
    `${FILE}:8 [waiver:a] expires: "2027-02-30" is not a date (use YYYY-MM-DD, e.g. 2027-01-31; the waiver ends at the start of that day, UTC)`,
  ],
  [
    'waiver with an unknown key',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\ncontainer = x\nreason = r\n`,
    `${FILE}:6 [waiver:a] container: unknown key (did you mean containers?)`,
  ],
  [
    'waiver without a name',
    `${CHECKS}[waiver:]\nchecks = RunningAsRootCheck\ncontainers = x\nreason = r\n`,
    `${FILE}:4 [waiver:]: a waiver needs a name: [waiver:NAME]`,
  ],
  [
    'two waivers of one name',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\ncontainers = x\nreason = r\n[waiver: a]\nchecks = RootProcessCheck\ncontainers = y\nreason = r\n`,
    `${FILE}:8 [waiver: a]: waiver name "a" is already used`,
  ],
  [
    'waiver label selector without a key',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\nlabels = =ci\nreason = r\n`,
    `${FILE}:6 [waiver:a] labels: "=ci" is not a label selector (use key or key=value-glob)`,
  ],
  [
    'waiver image with a space',
    `${CHECKS}[waiver:a]\nchecks = RunningAsRootCheck\nimages = nginx latest\nreason = r\n`,
    `${FILE}:6 [waiver:a] images: "nginx latest" is not an image reference or ID`,
  ],
  [
    '[policy] exclude_labels selector with a space in its key',
    `[policy]\nexclude_labels = com.ci job=1\n${CHECKS}`,
    `${FILE}:2 [policy] exclude_labels: "com.ci job=1" is not a label selector (use key or key=value-glob)`,
  ],
  [
    '[policy] exclude key misspelt',
    `[policy]\nexclude_container = ci-*\n${CHECKS}`,
    `${FILE}:2 [policy] exclude_container: unknown key (did you mean exclude_containers?)`,
  ],
  [
    "a check's exclude_images with a space",
    `[docker_monitor.checks.RunningAsRootCheck]\nallow_root = off\nexclude_images = my image\n`,
    `${FILE}:3 [docker_monitor.checks.RunningAsRootCheck] exclude_images: "my image" is not an image reference or ID`,
  ],
  [
    "a check's exclude key misspelt",
    `[docker_monitor.checks.RunningAsRootCheck]\nexclude_label = ci\n`,
    `${FILE}:2 [docker_monitor.checks.RunningAsRootCheck] exclude_label: unknown key (did you mean exclude_labels?)`,
  ],
  [
    '[exporter] metrics_results not a mode',
    `[exporter]\nmetrics_results = failed\n`,
    `${FILE}:2 [exporter] metrics_results: "failed" is not one of all, failing, none`,
  ],
  [
    '[exporter] metrics_container_label misspelt',
    `[exporter]\nmetrics_container_label = com.docker.compose.*\n`,
    `${FILE}:2 [exporter] metrics_container_label: unknown key (did you mean metrics_container_labels?)`,
  ],
];

describe('malformed fleet keys: exit 2 naming file, line, section and key', () => {
  for (const [what, text, message] of MALFORMED) {
    test(what, async () => {
      assert.equal(await configError(text), message);
    });
  }
});
