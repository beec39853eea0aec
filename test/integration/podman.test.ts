/**
 * Rootful Podman (Debian's 4.3) through `podman system service` on a private socket: `check` with every
 * built-in check, `serve` with events (a new container within a second, gone at removal), the /proc
 * fast path on Podman's cgroup layout, and a service restart (containers outlive it under conmon).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { ProcProcessSource } from '../../src/engine/proc-process-source.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { CLI, runToEnd } from '../helpers/cli.js';
import { RUN_ID } from '../helpers/docker.js';
import { sampleValue, startExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { PODMAN_RUN_ARGS, PodmanEngine } from '../helpers/podman-engine.js';
import { scaled } from '../helpers/time-scale.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const podman = new PodmanEngine('11it');
const name = (what: string): string => `podman-${what}-${RUN_ID}`;

interface Result {
  check: string;
  result: string;
  reason: string | null;
}
interface Verdicts {
  containers: { name: string; compliant: boolean; results: Result[] }[];
  host: { results: Result[] };
}

/** The checks every container here fails: none has a healthcheck (Podman's empty State.Health is none). */
const NO_HEALTH = ['ImageHealthcheckCheck'];
/** Unbounded resources, writable root, no no-new-privileges. */
const LOOSE = ['MemoryLimitCheck', 'CpuSharesCheck', 'CpuLimitCheck', 'ReadonlyRootfsCheck'];

/**
 * What each container is, and the checks that must fail on it (every other check must pass), in the
 * policy's order. Podman records RLIMIT_NOFILE and RLIMIT_NPROC on every container (the runc wrapper
 * puts the bundle's config back, so inspect shows what Podman wrote): 5.19 fails only the --ulimit one.
 */
const CONTAINERS: Record<string, { args: readonly string[]; failing: string[] }> = {
  root: {
    args: PODMAN_RUN_ARGS.root,
    failing: [
      'RunningAsRootCheck',
      'RootProcessCheck',
      'ContainerUserCheck',
      ...NO_HEALTH,
      ...LOOSE,
      'RootExecCheck',
      'NoNewPrivilegesCheck',
      'ContainerHealthcheckCheck',
    ],
  },
  user: {
    args: PODMAN_RUN_ARGS.user,
    failing: [...NO_HEALTH, ...LOOSE, 'NoNewPrivilegesCheck', 'ContainerHealthcheckCheck'],
  },
  hardened: {
    args: PODMAN_RUN_ARGS.hardened,
    failing: [...NO_HEALTH, 'ContainerHealthcheckCheck'],
  },
  // Container root is host UID 100000: not host root (RootProcessCheck passes), still container root (4.1 fails).
  userns: {
    args: PODMAN_RUN_ARGS.userns,
    failing: ['RunningAsRootCheck', 'ContainerUserCheck', ...NO_HEALTH, ...LOOSE, 'NoNewPrivilegesCheck', 'ContainerHealthcheckCheck'],
  },
  // 5.4, 5.18 and 5.22 read CapAdd, Devices and SecurityOpt, which --privileged leaves empty: 5.5 fails it.
  privileged: {
    args: PODMAN_RUN_ARGS.privileged,
    failing: [
      'RunningAsRootCheck',
      'RootProcessCheck',
      'ContainerUserCheck',
      ...NO_HEALTH,
      'PrivilegedContainerCheck',
      ...LOOSE,
      'NoNewPrivilegesCheck',
      'ContainerHealthcheckCheck',
    ],
  },
  ulimit: {
    args: PODMAN_RUN_ARGS.ulimit,
    failing: [
      'RunningAsRootCheck',
      'RootProcessCheck',
      'ContainerUserCheck',
      ...NO_HEALTH,
      ...LOOSE,
      'UlimitOverrideCheck',
      'NoNewPrivilegesCheck',
      'ContainerHealthcheckCheck',
    ],
  },
};

before(async () => {
  await run('podman', ['--version']).catch(() => {
    throw new Error('podman is not installed: run the tests with "npm test" (it installs podman), or apt-get install podman runc');
  });
  await podman.start();
  await podman.importTestImage();
  for (const [what, { args }] of Object.entries(CONTAINERS)) await podman.run(name(what), args);
  // --user 0, as CIS 5.24's audit looks for.
  await podman.podman(['exec', '-d', '--user', '0', name('root'), 'sleep', '3600']);
});

after(async () => {
  await podman.destroy();
});

describe('check against Podman', () => {
  test('every built-in check of examples/cis.ini gives a verdict on every container, the ones the containers call for', async () => {
    // -v: the process source's info line (check logs only warnings and errors by default).
    const outcome = await runToEnd(process.execPath, [
      CLI,
      'check',
      '-v',
      '-f',
      join(ROOT, 'examples/cis.ini'),
      '--format',
      'json',
      '--docker.host',
      podman.host,
    ]);
    assert.equal(outcome.code, 1, `the root container fails: ${outcome.stderr}`);
    assert.match(outcome.stderr, /reading container processes from \/proc: it shows the host's PIDs/);
    const verdicts = JSON.parse(outcome.stdout) as Verdicts;
    assert.deepEqual(
      verdicts.containers.map((container) => container.name),
      Object.keys(CONTAINERS).map(name).sort(),
    );
    for (const [what, { failing }] of Object.entries(CONTAINERS)) {
      const results = verdicts.containers.find((container) => container.name === name(what))?.results ?? [];
      assert.ok(results.length >= 35, `${what}: the whole chain ran (${results.length} results)`);
      assert.deepEqual(
        results.filter((result) => result.result === 'error'),
        [],
        `${what}: no check errs on Podman's answers`,
      );
      assert.deepEqual(
        results.filter((result) => result.result === 'fail').map((result) => result.check),
        failing,
        what,
      );
    }
    const ulimit = verdicts.containers
      .find((container) => container.name === name('ulimit'))
      ?.results.find((result) => result.check === 'UlimitOverrideCheck');
    assert.equal(ulimit?.reason, 'overrides RLIMIT_CORE=0:0', 'the recorded RLIMIT_NOFILE and RLIMIT_NPROC are not named');
    const userns = verdicts.containers
      .find((container) => container.name === name('userns'))
      ?.results.find((result) => result.check === 'RootProcessCheck');
    assert.match(
      userns?.reason ?? '',
      /^no process runs as root on the host; 1 runs as root inside the container's user namespace: pid \d+ \(sleep 3600\) as host UID 100000$/,
    );
    assert.deepEqual(
      verdicts.host.results.filter((result) => result.result !== 'pass'),
      [],
      'no host check fails for a dockerd setting Podman does not have',
    );
    assert.equal(verdicts.host.results.filter((result) => /Podman/.test(result.reason ?? '')).length, 4);
  });
});

describe('processes on Podman', () => {
  test("/proc with Podman's cgroup layout gives what Podman's top gives", async () => {
    const engine = new DockerEngine({ host: podman.host, concurrency: 2, timeoutMs: scaled(30_000) });
    const proc = new ProcProcessSource();
    const top = new TopProcessSource(engine);
    for (const what of Object.keys(CONTAINERS)) {
      const inspect = await engine.inspectContainer(name(what));
      const fromProc = (await proc.processes(inspect))
        .map(({ pid, uid, command }) => ({ pid, uid, command }))
        .sort((a, b) => a.pid - b.pid);
      const fromTop = (await top.processes(inspect))
        .map(({ pid, uid, command }) => ({ pid, uid: uid ?? 'a host user name', command }))
        .sort((a, b) => a.pid - b.pid);
      // Podman's top names host users (HUSER); UID 1000 has another name on this machine, so compare root-ness and PIDs.
      assert.deepEqual(
        fromTop.map(({ pid, command }) => ({ pid, command })),
        fromProc.map(({ pid, command }) => ({ pid, command })),
        what,
      );
      assert.deepEqual(
        fromTop.map(({ uid }) => uid === 0),
        fromProc.map(({ uid }) => uid === 0),
        what,
      );
    }
  });
});

describe('serve against Podman', () => {
  test('events: a new container is exported within a second, and gone within a second of its removal', async () => {
    const exporter = await startExporter({ 'docker.host': podman.host, refresh: '1h' });
    try {
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 1,
        30_000,
        'docker_monitor_up 1',
      );
      const late = name('late');
      await podman.run(late, []);
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, `docker_monitor_root_processes{container="${late}"}`) === 1,
        1000,
        'the new container within a second',
      );
      await podman.podman(['rm', '--force', '--time', '0', late]);
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, `docker_monitor_container_compliant{container="${late}"}`) === undefined,
        1000,
        'the removed container gone within a second',
      );
    } finally {
      await exporter.close();
    }
  });

  test('host root and container root are both exported: docker_monitor_root_processes and docker_monitor_container_root_processes', async () => {
    const exporter = await startExporter({ 'docker.host': podman.host, refresh: '1h' });
    try {
      const body = await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 1,
        30_000,
        'docker_monitor_up 1',
      );
      const both = (what: string): [number | undefined, number | undefined] => [
        sampleValue(body, `docker_monitor_root_processes{container="${name(what)}"}`),
        sampleValue(body, `docker_monitor_container_root_processes{container="${name(what)}"}`),
      ];
      assert.deepEqual(both('userns'), [0, 1]);
      assert.deepEqual(both('root'), [2, 2], 'sleep and the exec');
      assert.deepEqual(both('user'), [0, 0]);
    } finally {
      await exporter.close();
    }
  });

  test('the API service stops and starts again: up 0, then up 1, and the containers never stopped', async () => {
    const exporter = await startExporter({ 'docker.host': podman.host, refresh: '1h' });
    try {
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 1,
        30_000,
        'docker_monitor_up 1',
      );
      await podman.stopService();
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 0,
        20_000,
        'docker_monitor_up 0',
      );
      assert.equal(await podman.podman(['inspect', '--format', '{{.State.Running}}', name('root')]), 'true', 'conmon kept the container');
      await podman.startService();
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, 'docker_monitor_up') === 1,
        30_000,
        'docker_monitor_up 1 again',
      );
      await eventually(
        () => exporter.scrape(),
        (text) => sampleValue(text, `docker_monitor_root_processes{container="${name('root')}"}`) === 2,
        10_000,
        'the root container and its exec',
      );
    } finally {
      await exporter.close();
    }
  });
});
