/**
 * Waivers, exclusions, container labels and the metrics modes on real containers, through the built
 * CLI: `check` (text and JSON) and `serve`'s /metrics. The waiver's expiry is proven while the exporter
 * runs: its clock is started two seconds before the expiry day (DOCKER_MONITOR_FAKE_TIME) and the
 * waived result must turn into a FAIL, the container non-compliant, without a restart or a refresh.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  RUN_ID,
  TEST_IMAGE,
  ensureTestImage,
  removeTestContainers,
  requireEngine,
  startContainer,
  type TestContainer,
} from '../helpers/docker.js';
import { eventually } from '../helpers/wait.js';
import { freePort } from '../helpers/services.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

function cli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

let dir = '';
let cadvisor: TestContainer;
let ciJob: TestContainer;
let plain: TestContainer;
let nonRoot: TestContainer;
let policyPath = '';
const children: ChildProcess[] = [];

/** Every test container of this run is root; the waiver and the exclusion tell them apart by label. */
const POLICY = () => `[policy]
exclude_labels = dm-test.ci-job=${RUN_ID}-*

[docker_monitor.checks.RunningAsRootCheck]
allow_root = off

[docker_monitor.checks.RootProcessCheck]
exclude_containers = ${plain.name}

[waiver:cadvisor-root]
checks = RunningAsRootCheck, RootProcessCheck
labels = dm-test.app=cadvisor
images = ${TEST_IMAGE}-never-used
reason = cAdvisor reads the host as root (OPS-1)
expires = 2031-06-01
`;

before(async () => {
  await requireEngine();
  await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'dm-fleet-'));
  cadvisor = await startContainer([
    '--label',
    'dm-test.app=cadvisor',
    '--label',
    'com.docker.compose.project=monitoring',
    '--label',
    'com.docker.compose.service=cadvisor',
  ]);
  ciJob = await startContainer(['--label', `dm-test.ci-job=${RUN_ID}-17`]);
  plain = await startContainer(['-e', 'SECRET_TOKEN=hunter2']);
  nonRoot = await startContainer(['--user', '1000']);
  policyPath = join(dir, 'fleet.ini');
  writeFileSync(policyPath, POLICY());
});

after(async () => {
  for (const child of children) child.kill('SIGTERM');
  await removeTestContainers();
  rmSync(dir, { recursive: true, force: true });
});

interface JsonResult {
  check: string;
  result: string;
  reason: string | null;
  waiver?: { name: string; reason: string; expires: string | null };
}

describe('check', () => {
  test('JSON: the waived results carry their waiver, the excluded checks are absent', async () => {
    const run = await cli(['check', '-f', policyPath, '--format', 'json']);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    const byId = new Map(
      (
        JSON.parse(run.stdout) as { containers: { id: string; compliant: boolean; results: JsonResult[]; excluded?: string[] }[] }
      ).containers.map((c) => [c.id, c]),
    );
    const waiver = { name: 'cadvisor-root', reason: 'cAdvisor reads the host as root (OPS-1)', expires: '2031-06-01' };
    assert.deepEqual(byId.get(cadvisor.id)?.results, [
      { check: 'RunningAsRootCheck', result: 'waived', reason: 'no user set: runs as root', waiver },
      { check: 'RootProcessCheck', result: 'waived', reason: byId.get(cadvisor.id)?.results[1]?.reason ?? '', waiver },
    ]);
    assert.match(byId.get(cadvisor.id)?.results[1]?.reason ?? '', /root/);
    assert.equal(byId.get(cadvisor.id)?.compliant, true);
    assert.deepEqual(byId.get(ciJob.id)?.results, [], 'excluded by [policy]: no check ran');
    assert.deepEqual(byId.get(ciJob.id)?.excluded, ['RunningAsRootCheck', 'RootProcessCheck'], 'and each is named as excluded');
    assert.deepEqual(byId.get(plain.id)?.excluded, ['RootProcessCheck']);
    assert.equal(byId.get(cadvisor.id)?.excluded, undefined);
    assert.equal(byId.get(ciJob.id)?.compliant, true);
    assert.deepEqual(
      byId.get(plain.id)?.results.map(({ check, result }) => [check, result]),
      [['RunningAsRootCheck', 'fail']],
      'RootProcessCheck excluded',
    );
    assert.equal(run.code, 1, 'the plain root container still fails');
  });

  test('text: waived in the table and a Waived section with the waiver, its date and its reason', async () => {
    const run = await cli(['check', '-f', policyPath]);
    const row = run.stdout.split('\n').find((line) => line.startsWith(`${cadvisor.name} `)) ?? '';
    assert.match(row, /\spass\s+waived\s+waived$/);
    assert.match(
      run.stdout.split('\n').find((line) => line.startsWith(`${ciJob.name} `)) ?? '',
      /\sexcluded\s+excluded\s+excluded$/,
      'excluded by [policy]',
    );
    assert.match(
      run.stdout.split('\n').find((line) => line.startsWith(`${plain.name} `)) ?? '',
      /\sFAIL\s+FAIL\s+excluded$/,
      'RootProcessCheck excluded',
    );
    assert.ok(
      run.stdout.includes(
        `\nWaived:\n  ${cadvisor.name}: RunningAsRootCheck waived by cadvisor-root until 2031-06-01: cAdvisor reads the host as root (OPS-1) (FAIL: no user set: runs as root)\n`,
      ),
      run.stdout,
    );
  });
});

describe('bad fleet keys stop the CLI', () => {
  test('exit 2 and one line naming file, line, section and key (check and serve alike)', async () => {
    const bad = join(dir, 'bad.ini');
    writeFileSync(
      bad,
      '[docker_monitor.checks.RunningAsRootCheck]\n[waiver:x]\nchecks = RunningAsRootCheck\ncontainers = a-*\nreason = r\nexpires = 2027-13-01\n',
    );
    for (const command of ['check', 'serve']) {
      const run = await cli([command, '-f', bad, '--web.listen-address', '127.0.0.1:1'].slice(0, command === 'check' ? 3 : 5));
      assert.equal(run.code, 2, run.stderr);
      assert.equal(
        run.stderr,
        `docker-monitor: ${bad}:6 [waiver:x] expires: "2027-13-01" is not a date (use YYYY-MM-DD, e.g. 2027-01-31; the waiver ends at the start of that day, UTC)\n`,
      );
    }
    const flag = await cli(['serve', '--metrics.results', 'lean']);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, 'docker-monitor: --metrics.results: "lean" is not one of all, failing, none\n');
  });
});

async function serve(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<(path?: string) => Promise<string>> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve', '-f', policyPath, '--web.listen-address', `127.0.0.1:${port}`, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const get = (path = '/metrics') => fetch(`http://127.0.0.1:${port}${path}`).then((response) => response.text());
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${port}/-/ready`)
        .then((response) => response.status)
        .catch(() => 0),
    (status) => status === 200,
    20_000,
    `serve to be ready (${output})`,
  );
  return get;
}

/** The sample lines of one container (or none) of this run, without their HELP. */
function linesOf(text: string, container: TestContainer): string[] {
  return text.split('\n').filter((line) => line.includes(`container="${container.name}"`));
}

describe('serve /metrics', () => {
  test('the waiver turns back into a FAIL at the start of its expiry day while the exporter runs', async () => {
    const get = await serve(['--refresh', '1h', '--metrics.results', 'failing'], {
      ...process.env,
      DOCKER_MONITOR_FAKE_TIME: '2031-05-31T23:59:58Z',
    });
    const before = await get();
    assert.ok(before.includes(`docker_monitor_check_result{check="RunningAsRootCheck",container="${cadvisor.name}"} 3\n`), before);
    assert.ok(before.includes(`docker_monitor_container_compliant{container="${cadvisor.name}"} 1\n`));
    assert.ok(before.includes('docker_monitor_waiver_matches{waiver="cadvisor-root"} 2\n'));
    assert.ok(before.includes(`docker_monitor_waiver_expiry_timestamp_seconds{waiver="cadvisor-root"} ${Date.UTC(2031, 5, 1) / 1000}\n`));
    const after = await eventually(
      get,
      (text) => text.includes(`docker_monitor_container_compliant{container="${cadvisor.name}"} 0\n`),
      10_000,
      'the waiver to expire',
    );
    assert.ok(after.includes(`docker_monitor_check_result{check="RunningAsRootCheck",container="${cadvisor.name}"} 0\n`));
    assert.ok(after.includes('docker_monitor_waiver_matches{waiver="cadvisor-root"} 0\n'));
  });

  for (const mode of ['all', 'failing', 'none'] as const) {
    test(`--metrics.results ${mode}: the series of a compliant and a failing container; totals per check in every mode`, async () => {
      const text = await (await serve(['--metrics.results', mode]))();
      const names = (container: TestContainer) => linesOf(text, container).map((line) => line.slice(0, line.indexOf('{')));
      assert.deepEqual(
        names(nonRoot),
        mode === 'all'
          ? [
              'docker_monitor_check_result',
              'docker_monitor_check_result',
              'docker_monitor_container_compliant',
              'docker_monitor_root_processes',
              'docker_monitor_container_root_processes',
              'docker_monitor_container_info',
            ]
          : ['docker_monitor_container_compliant', 'docker_monitor_container_info'],
      );
      const plainResults = linesOf(text, plain).filter((line) => line.startsWith('docker_monitor_check_result'));
      assert.deepEqual(
        plainResults,
        mode === 'none' ? [] : [`docker_monitor_check_result{check="RunningAsRootCheck",container="${plain.name}"} 0`],
      );
      assert.ok(text.includes(`docker_monitor_container_compliant{container="${plain.name}"} 0\n`));
      // RootProcessCheck is excluded for it: the check does not run, and the metric it brings is absent.
      assert.ok(!text.includes(`docker_monitor_root_processes{container="${plain.name}"}`));
      for (const check of ['RunningAsRootCheck', 'RootProcessCheck']) {
        assert.match(text, new RegExp(`^docker_monitor_check_containers\\{check="${check}",result="waived"\\} [1-9]\\d*$`, 'm'));
        assert.match(text, new RegExp(`^docker_monitor_check_containers\\{check="${check}",result="pass"\\} [1-9]\\d*$`, 'm'));
      }
      assert.match(text, /^docker_monitor_check_containers\{check="RunningAsRootCheck",result="fail"\} [1-9]\d*$/m);
    });
  }

  test('--metrics.container-labels copies the compose labels, never environment variables', async () => {
    const get = await serve(['--metrics.container-labels', 'com.docker.compose.*']);
    const info = linesOf(await get(), cadvisor).find((line) => line.startsWith('docker_monitor_container_info')) ?? '';
    assert.match(info, /label_com_docker_compose_project="monitoring",label_com_docker_compose_service="cadvisor"\} 1$/);
    const plainInfo = linesOf(await get(), plain).find((line) => line.startsWith('docker_monitor_container_info')) ?? '';
    assert.doesNotMatch(plainInfo, /hunter2|SECRET/);
    assert.match(plainInfo, /label_com_docker_compose_project="",label_com_docker_compose_service=""\} 1$/);
  });
});
