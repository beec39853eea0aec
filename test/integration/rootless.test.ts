/**
 * Rootless Podman and rootless Docker: test users with subordinate IDs (only inside private mount
 * namespaces, see test/helpers/rootless-user.ts), their API sockets under their XDG_RUNTIME_DIR, read by
 * this root process. Container root is the user's own UID on the host: not host root (cnitch's
 * question), still container root (CIS 4.1's), and both show.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CLI, runToEnd } from '../helpers/cli.js';
import { RUN_ID } from '../helpers/docker.js';
import { sampleValue, startExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { PodmanEngine } from '../helpers/podman-engine.js';
import { RootlessDocker } from '../helpers/rootless-docker.js';

const run = promisify(execFile);
const USER = { name: 'dm11rootless', uid: 21111, subordinateStart: 3_110_000 };
const podman = new PodmanEngine('11rootless', USER);
const rootName = `rootless-root-${RUN_ID}`;
const userName = `rootless-user-${RUN_ID}`;
const ulimitName = `rootless-ulimit-${RUN_ID}`;

interface Verdicts {
  containers: { name: string; results: { check: string; result: string; reason: string | null }[] }[];
}

/** `check` on an engine with the two containers: container root fails 4.1, passes cnitch's rule with the reason. Returns stderr. */
async function checkBothRoots(host: string, hostUid: number): Promise<string> {
  // -v: the process source's info line (check logs only warnings and errors by default).
  const outcome = await runToEnd(process.execPath, [CLI, 'check', '-v', '--format', 'json', '--docker.host', host]);
  assert.equal(outcome.code, 1, `the root container fails RunningAsRootCheck: ${outcome.stderr}`);
  const verdicts = JSON.parse(outcome.stdout) as Verdicts;
  const results = (name: string) =>
    Object.fromEntries(
      (verdicts.containers.find((container) => container.name === name)?.results ?? []).map((result) => [result.check, result]),
    );
  assert.equal(results(rootName)['RunningAsRootCheck']?.result, 'fail');
  assert.equal(results(rootName)['RootProcessCheck']?.result, 'pass');
  assert.match(
    results(rootName)['RootProcessCheck']?.reason ?? '',
    new RegExp(
      `^no process runs as root on the host; 1 runs as root inside the container's user namespace: pid \\d+ \\(sleep 3600\\) as host UID ${hostUid}$`,
    ),
  );
  assert.equal(results(userName)['RunningAsRootCheck']?.result, 'pass');
  assert.deepEqual(results(userName)['RootProcessCheck'], { check: 'RootProcessCheck', result: 'pass', reason: null });
  return outcome.stderr;
}

/** docker_monitor_root_processes and docker_monitor_container_root_processes of both containers. */
async function rootSeries(host: string): Promise<unknown> {
  const exporter = await startExporter({ 'docker.host': host, refresh: '1h' });
  try {
    const body = await eventually(
      () => exporter.scrape(),
      (text) => sampleValue(text, 'docker_monitor_up') === 1,
      30_000,
      'docker_monitor_up 1',
    );
    return Object.fromEntries(
      [rootName, userName].map((name) => [
        name,
        [
          sampleValue(body, `docker_monitor_root_processes{container="${name}"}`),
          sampleValue(body, `docker_monitor_container_root_processes{container="${name}"}`),
        ],
      ]),
    );
  } finally {
    await exporter.close();
  }
}

describe('rootless Podman', () => {
  before(async () => {
    await podman.start();
    await podman.importTestImage();
    await podman.run(rootName, []);
    await podman.run(userName, ['--user', '1000']);
    await podman.run(ulimitName, ['--ulimit', 'core=0:0']);
  });

  after(async () => {
    await podman.destroy();
  });

  test("the engine is rootless: container root is the user's UID on the host", async () => {
    assert.equal(await podman.podman(['info', '--format', '{{.Host.Security.Rootless}}']), 'true');
    const pid = await podman.podman(['inspect', '--format', '{{.State.Pid}}', rootName]);
    const { stdout } = await run('sh', ['-c', `grep '^Uid:' /proc/${pid}/status`]);
    assert.match(stdout, new RegExp(`^Uid:\\t${USER.uid}\\t`));
  });

  test('check: RunningAsRootCheck fails (container root), RootProcessCheck passes and says why (not host root)', async () => {
    const stderr = await checkBothRoots(podman.host, USER.uid);
    // On cgroup v1 rootless Podman makes no cgroup per container: /proc finds each by its PID namespace.
    assert.match(stderr, /reading container processes from \/proc/);
  });

  test('serve: docker_monitor_root_processes 0 and docker_monitor_container_root_processes 1 for the root container', async () => {
    assert.deepEqual(await rootSeries(podman.host), { [rootName]: [0, 1], [userName]: [0, 0] });
  });

  test('UlimitOverrideCheck (5.19): the limits rootless Podman records itself are defaults; --ulimit core=0 is an override', async () => {
    const recorded = JSON.parse(await podman.podman(['inspect', '--format', '{{json .HostConfig.Ulimits}}', rootName])) as {
      Name: string;
    }[];
    assert.deepEqual(recorded.map(({ Name }) => Name).sort(), ['RLIMIT_NOFILE', 'RLIMIT_NPROC'], 'recorded without --ulimit');
    const folder = await mkdtemp(join(tmpdir(), 'dm-rootless-ulimit-'));
    try {
      const policy = join(folder, 'ulimits.ini');
      await writeFile(policy, '[docker_monitor.checks.UlimitOverrideCheck]\n');
      const outcome = await runToEnd(process.execPath, [CLI, 'check', '-f', policy, '--format', 'json', '--docker.host', podman.host]);
      assert.equal(outcome.code, 1, `the --ulimit container overrides a limit: ${outcome.stderr}`);
      const verdicts = JSON.parse(outcome.stdout) as Verdicts;
      const verdict = (name: string) => verdicts.containers.find((container) => container.name === name)?.results[0];
      assert.deepEqual(verdict(rootName), { check: 'UlimitOverrideCheck', result: 'pass', reason: null });
      assert.deepEqual(verdict(userName), { check: 'UlimitOverrideCheck', result: 'pass', reason: null });
      assert.deepEqual(verdict(ulimitName), { check: 'UlimitOverrideCheck', result: 'fail', reason: 'overrides RLIMIT_CORE=0:0' });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('rootless Docker', () => {
  const DOCKER_USER = { name: 'dm11rootlessd', uid: 21112, subordinateStart: 3_180_000 };
  const rootless = new RootlessDocker('11it', DOCKER_USER);

  before(async () => {
    await rootless.start();
    for (const [name, options] of [
      [rootName, []],
      [userName, ['--user', '1000']],
    ] as const) {
      await rootless.docker(['run', '-d', '--name', name, ...options, 'docker-monitor-test/busybox:1', 'sleep', '3600']);
    }
  });

  after(async () => {
    await rootless.destroy();
  });

  test('the engine says it is rootless', async () => {
    assert.match(await rootless.docker(['info', '--format', '{{json .SecurityOptions}}']), /name=rootless/);
  });

  test("check: /proc finds each container by its PID namespace (no cgroup names it on cgroup v1); container root is the user's UID", async () => {
    const stderr = await checkBothRoots(rootless.host, DOCKER_USER.uid);
    assert.match(stderr, /reading container processes from \/proc/);
  });

  test('serve: docker_monitor_root_processes 0 and docker_monitor_container_root_processes 1 for the root container', async () => {
    assert.deepEqual(await rootSeries(rootless.host), { [rootName]: [0, 1], [userName]: [0, 0] });
  });
});
