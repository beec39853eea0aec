/**
 * The built CLI's `check --format sarif|junit|json` and `--fail-on` on real containers of a private
 * engine (so other suites' containers on the shared engine cannot change an exit code). Each step adds
 * one container failing a check of a higher severity and proves which thresholds it trips; a waived
 * failure trips none.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Log } from 'sarif';
import { requireEngine } from '../helpers/docker.js';
import { assertValidCheckJson, assertValidSarif, parseJunit } from '../helpers/output-schemas.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { multitoolProblems } from '../helpers/sarif-multitool.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const engine = new PrivateEngine('14fmt');
let dir = '';
let policyPath = '';

const POLICY = `[docker_monitor.checks.DockerSocketMountCheck]
[docker_monitor.checks.HostNetworkCheck]
[docker_monitor.checks.MemoryLimitCheck]
[docker_monitor.checks.CpuSharesCheck]

[waiver:edge-router]
checks = HostNetworkCheck
containers = edge-router
reason = routes the host's traffic (NET-7)
expires = 2030-01-01
`;

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'check', '-f', policyPath, '--docker.host', engine.host, ...args],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      },
    );
  });
}

/** Starts a non-root container on the private engine; resolves to its name. */
async function start(args: readonly string[], name?: string): Promise<string> {
  return (await engine.startContainer(['--user', '1000', ...args], ['sleep', '3600'], name)).name;
}

/** The exit code of `check` at each threshold, and without one. */
async function exitCodes(): Promise<Record<string, number>> {
  const codes: Record<string, number> = {};
  for (const failOn of ['low', 'medium', 'high', 'critical'] as const) {
    const run = await cli(['--fail-on', failOn]);
    assert.ok(run.code === 0 || run.code === 1, `--fail-on ${failOn}: exit ${run.code}: ${run.stderr}`);
    codes[failOn] = run.code;
  }
  codes['default'] = (await cli([])).code;
  return codes;
}

const names: Record<string, string> = {};

before(async () => {
  await requireEngine();
  dir = mkdtempSync(join(tmpdir(), 'dm14-formats-'));
  policyPath = join(dir, 'severities.ini');
  writeFileSync(policyPath, POLICY);
  // Stands in for the engine socket by its name only: nothing can talk to the engine through it.
  writeFileSync(join(dir, 'not-a-socket'), '');
  await engine.start();
  await engine.loadTestImage();
});

after(async () => {
  await engine.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('check --fail-on on real containers of each severity', () => {
  test('only passing containers: exit 0 at every threshold', async () => {
    names['clean'] = await start(['--memory', '64m', '--cpu-shares', '512']);
    assert.deepEqual(await exitCodes(), { low: 0, medium: 0, high: 0, critical: 0, default: 0 });
  });

  test('a waived high failure (HostNetworkCheck under [waiver:edge-router]) trips no threshold', async () => {
    names['waived'] = await start(['--network', 'host', '--memory', '64m', '--cpu-shares', '512'], 'edge-router');
    assert.deepEqual(await exitCodes(), { low: 0, medium: 0, high: 0, critical: 0, default: 0 });
  });

  test('a low failure (CpuSharesCheck) trips only --fail-on low', async () => {
    names['low'] = await start(['--memory', '64m']);
    assert.deepEqual(await exitCodes(), { low: 1, medium: 0, high: 0, critical: 0, default: 1 });
  });

  test('a medium failure (MemoryLimitCheck) trips medium too', async () => {
    names['medium'] = await start(['--cpu-shares', '512']);
    assert.deepEqual(await exitCodes(), { low: 1, medium: 1, high: 0, critical: 0, default: 1 });
  });

  test('a high failure (HostNetworkCheck) trips high too', async () => {
    names['high'] = await start(['--network', 'host', '--memory', '64m', '--cpu-shares', '512']);
    assert.deepEqual(await exitCodes(), { low: 1, medium: 1, high: 1, critical: 0, default: 1 });
  });

  test('a critical failure (DockerSocketMountCheck) trips every threshold', async () => {
    names['critical'] = await start([
      '-v',
      `${join(dir, 'not-a-socket')}:/var/run/docker.sock:ro`,
      '--memory',
      '64m',
      '--cpu-shares',
      '512',
    ]);
    assert.deepEqual(await exitCodes(), { low: 1, medium: 1, high: 1, critical: 1, default: 1 });
  });

  test('a bad threshold is a usage error', async () => {
    const run = await cli(['--fail-on', 'info']);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^docker-monitor: option '--fail-on <severity>' argument 'info' is invalid\. Allowed choices are low, medium, high, critical\./,
    );
  });
});

describe('check --format on the same containers', () => {
  test('sarif: valid SARIF 2.1.0, a result per failing container and check, levels by severity', async () => {
    const run = await cli(['--format', 'sarif']);
    assert.equal(run.code, 1, run.stderr);
    const log = JSON.parse(run.stdout) as Log;
    assertValidSarif(log);
    const results = (log.runs[0]?.results ?? []).map(
      (result) =>
        `${result.locations?.[0]?.logicalLocations?.[0]?.name} ${result.ruleId} ${result.level}${result.suppressions === undefined ? '' : ' suppressed'}`,
    );
    assert.deepEqual(
      results.sort(),
      [
        `${names['critical']} DockerSocketMountCheck error`,
        `${names['high']} HostNetworkCheck error`,
        `${names['low']} CpuSharesCheck note`,
        `${names['medium']} MemoryLimitCheck warning`,
        'edge-router HostNetworkCheck error suppressed',
      ].sort(),
    );
    const waived = log.runs[0]?.results?.find((result) => result.suppressions !== undefined);
    assert.deepEqual(waived?.suppressions, [
      {
        kind: 'external',
        status: 'accepted',
        justification: "routes the host's traffic (NET-7)",
        properties: { waiver: 'edge-router', expires: '2030-01-01' },
      },
    ]);
    const rule = log.runs[0]?.tool.driver.rules?.find((candidate) => candidate.id === 'DockerSocketMountCheck');
    assert.equal(rule?.properties?.['cisId'], '5.32');
    assert.match(rule?.help?.text ?? '', /^Do not mount \/var\/run\/docker\.sock/);
  });

  test("sarif: Microsoft's SARIF Multitool finds no error and no warning, with this policy and with examples/cis.ini", async () => {
    for (const policy of [policyPath, join(ROOT, 'examples/cis.ini')]) {
      const run = await cli(['--format', 'sarif', '-f', policy]);
      assert.equal(run.code, 1, run.stderr);
      const log = JSON.parse(run.stdout) as Log;
      const containers = new Set(log.runs[0]?.results?.map((result) => result.locations?.[0]?.logicalLocations?.[0]?.name));
      assert.ok(containers.size >= 4, `${policy}: results for ${[...containers].join(', ')}`);
      assert.deepEqual(await multitoolProblems(log), [], `${policy}: sarif-multitool validate`);
    }
  });

  test('junit: a test case per container and check, failures with the reason', async () => {
    const run = await cli(['--format', 'junit']);
    assert.equal(run.code, 1, run.stderr);
    const { totals, suites } = parseJunit(run.stdout);
    assert.deepEqual(totals, { tests: 24, failures: 4, errors: 0, skipped: 1 });
    const waived = suites
      .find((suite) => suite.name === 'containers/edge-router')
      ?.cases.find((entry) => entry.name === 'HostNetworkCheck');
    assert.equal(
      waived?.skipped?.message,
      "waived by edge-router until 2030-01-01: routes the host's traffic (NET-7) (FAIL: shares the host's namespace (--network host))",
    );
    const critical = suites.find((suite) => suite.name === `containers/${names['critical']}`);
    assert.deepEqual(
      critical?.cases.map((entry) => entry.name),
      ['DockerSocketMountCheck', 'HostNetworkCheck', 'MemoryLimitCheck', 'CpuSharesCheck'],
    );
    assert.equal(critical?.cases[0]?.failure?.message, `docker.sock mounted: ${join(dir, 'not-a-socket')}:/var/run/docker.sock`);
    assert.equal(critical?.cases[0]?.failure?.type, 'critical');
  });

  test('json: follows the published schema', async () => {
    const run = await cli(['--format', 'json']);
    assert.equal(run.code, 1, run.stderr);
    const document = JSON.parse(run.stdout) as {
      containers: { name: string; compliant: boolean; results: { check: string; result: string; waiver?: unknown }[] }[];
    };
    assertValidCheckJson(document);
    assert.equal(document.containers.length, 6);
    const edge = document.containers.find((container) => container.name === 'edge-router');
    assert.equal(edge?.compliant, true);
    assert.deepEqual(
      edge?.results.find((result) => result.check === 'HostNetworkCheck'),
      {
        check: 'HostNetworkCheck',
        result: 'waived',
        reason: "shares the host's namespace (--network host)",
        waiver: { name: 'edge-router', reason: "routes the host's traffic (NET-7)", expires: '2030-01-01' },
      },
    );
  });

  test('text: the remediation under each failure, the waived result with its waiver', async () => {
    const run = await cli([]);
    assert.ok(
      run.stdout.includes(
        "\nWaived:\n  edge-router: HostNetworkCheck waived by edge-router until 2030-01-01: routes the host's traffic (NET-7) (FAIL: shares the host's namespace (--network host))\n",
      ),
      run.stdout,
    );
    assert.ok(
      run.stdout.includes(
        `  ${names['low']}: CpuSharesCheck FAIL: no CPU shares (--cpu-shares)\n    fix: Set --cpu-shares to a value other than 1024 (the default weight) for the container.\n`,
      ),
      run.stdout,
    );
  });
});
