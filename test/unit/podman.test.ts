/**
 * Podman, on data captured from a real rootful Podman 4.3 (test/fixtures/capture-podman.ts): its host
 * answers, its `top` (Podman's own descriptors, and what Docker's ps options get), its cgroup layout,
 * and what it records on every container (limits, an empty health state), rootful and rootless.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isPodman } from '../../src/engine/engine-kind.js';
import { ProcProcessSource, containerIdFromCgroup, parseStatus } from '../../src/engine/proc-process-source.js';
import { containerRootProcesses, parseProcessTable, rootProcesses, uidInside } from '../../src/engine/processes.js';
import type { ContainerInspect, ExecInspect, ImageHistoryEntry, ImageInspect, ProcessTable } from '../../src/engine/types.js';
import type { HostView } from '../../src/policy/types.js';
import type { CisEngineFixture } from '../fixtures/cis/fixture-views.js';
import { engineFixture, runCheck } from '../fixtures/cis/fixture-views.js';
import { capturedView } from '../helpers/fixture-view.js';
import { copyCapturedProcess } from '../helpers/proc-fixture.js';

const fixtures = join(import.meta.dirname, '../fixtures/podman');
const engine = JSON.parse(readFileSync(join(fixtures, 'engine.json'), 'utf8')) as CisEngineFixture;

interface PodmanContainer {
  inspect: ContainerInspect;
  image: ImageInspect;
  history: ImageHistoryEntry[];
  top: ProcessTable;
  dockerPsArgs: unknown;
  execs: ExecInspect[];
}

function container(name: string): PodmanContainer {
  return JSON.parse(readFileSync(join(fixtures, 'containers', `${name}.json`), 'utf8')) as PodmanContainer;
}

function proc(name: string, file: string): string {
  return readFileSync(join(fixtures, 'proc', name, file), 'utf8');
}

const hostView: HostView = {
  signal: new AbortController().signal,
  engineInfo: async () => engine.info,
  engineVersion: async () => engine.version,
  networks: async () => engine.networks,
};

function view(name: string) {
  const { inspect, image, history, top, execs } = container(name);
  return capturedView({ inspect, image, history, top, execs, info: engine.info, networks: engine.networks });
}

describe('Podman is told apart by /version', () => {
  test('Podman names itself among the components; Docker does not', () => {
    assert.equal(isPodman(engine.version), true);
    assert.equal(isPodman(engineFixture('main').version), false);
  });
});

describe('host checks that describe dockerd do not fail on Podman for settings it does not have', () => {
  const expected: Record<string, RegExp | undefined> = {
    DefaultBridgeIccCheck: /^not applicable on Podman: it has no icc setting/,
    InsecureRegistryCheck: undefined,
    AufsStorageCheck: undefined,
    UsernsRemapCheck: /^not applicable on Podman: user namespaces are chosen per container/,
    LoggingDriverCheck: /^not applicable on Podman: the log driver is set per container/,
    LiveRestoreCheck: /^Podman: each container runs under its own conmon/,
    ExperimentalCheck: undefined,
    SwarmModeCheck: undefined,
  };
  for (const [check, reason] of Object.entries(expected)) {
    test(check, async () => {
      const outcome = await runCheck(check, hostView);
      assert.equal(outcome.result, 'pass', outcome.reason);
      if (reason === undefined) assert.equal(outcome.reason, undefined);
      else assert.match(outcome.reason ?? '', reason);
    });
  }

  test('the traps are real: Podman reports icc on, no remap, no log driver, no live restore and an experimental build', async () => {
    assert.equal(engine.info.ExperimentalBuild, true);
    assert.equal(engine.info.LiveRestoreEnabled, false);
    assert.equal(engine.info.LoggingDriver, '');
    // The same answers from a Docker engine would fail: the Podman detection is what passes them.
    const asDocker: HostView = { ...hostView, engineVersion: async () => ({ ...engine.version, Components: [] }) };
    for (const check of ['UsernsRemapCheck', 'LiveRestoreCheck', 'ExperimentalCheck']) {
      assert.equal((await runCheck(check, asDocker)).result, 'fail', check);
    }
  });

  test("ExperimentalCheck reads Podman's own flag in the version details", async () => {
    const experimental: HostView = {
      ...hostView,
      engineVersion: async () => ({
        ...engine.version,
        Components: (engine.version.Components ?? []).map((component) =>
          component.Name === 'Podman Engine' ? { ...component, Details: { ...component.Details, Experimental: 'true' } } : component,
        ),
      }),
    };
    assert.deepEqual(await runCheck('ExperimentalCheck', experimental), { result: 'fail', reason: 'Podman experimental features are on' });
  });
});

/** A rootless Podman container (test/fixtures/podman/rootless/), with that engine's /info. */
function rootlessView(name: string) {
  const { inspect, info } = JSON.parse(readFileSync(join(fixtures, 'rootless', `${name}.json`), 'utf8')) as {
    inspect: ContainerInspect;
    info: CisEngineFixture['info'];
  };
  const { image, history, top, execs } = container('root');
  return capturedView({ inspect, image, history, top, execs, info, networks: engine.networks });
}

describe('what Podman records on every container is its default, not an override', () => {
  test('Podman writes RLIMIT_NOFILE and RLIMIT_NPROC into every container, rootful and rootless', () => {
    const names = (ulimits: ContainerInspect['HostConfig']) => (ulimits?.Ulimits ?? []).map(({ Name }) => Name).sort();
    assert.deepEqual(names(container('root').inspect.HostConfig), ['RLIMIT_NOFILE', 'RLIMIT_NPROC']);
    assert.deepEqual(names(container('ulimit').inspect.HostConfig), ['RLIMIT_CORE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC']);
  });

  test('UlimitOverrideCheck (5.19): rootful Podman without --ulimit passes, --ulimit core=0 fails', async () => {
    for (const name of ['root', 'user', 'hardened', 'privileged', 'userns']) {
      assert.deepEqual(await runCheck('UlimitOverrideCheck', view(name)), { result: 'pass' }, name);
    }
    assert.deepEqual(await runCheck('UlimitOverrideCheck', view('ulimit')), { result: 'fail', reason: 'overrides RLIMIT_CORE=0:0' });
    assert.equal((await runCheck('UlimitOverrideCheck', view('ulimit'), 'allowed_ulimits = core')).result, 'pass');
  });

  test('UlimitOverrideCheck (5.19): rootless Podman (its own limits recorded) without --ulimit passes, --ulimit core=0 fails', async () => {
    assert.equal(
      (await rootlessView('root').engineInfo()).SecurityOptions?.includes('name=rootless'),
      false,
      'Podman 4.3 does not say it there',
    );
    assert.deepEqual(await runCheck('UlimitOverrideCheck', rootlessView('root')), { result: 'pass' });
    assert.deepEqual(await runCheck('UlimitOverrideCheck', rootlessView('ulimit')), {
      result: 'fail',
      reason: 'overrides RLIMIT_CORE=0:0',
    });
  });

  test('a --ulimit nofile override on Podman is recorded like the default, so it passes (a documented limit)', async () => {
    assert.deepEqual(container('ulimit-nofile').inspect.HostConfig?.Ulimits?.[0], { Name: 'RLIMIT_NOFILE', Hard: 2048, Soft: 1024 });
    assert.equal((await runCheck('UlimitOverrideCheck', view('ulimit-nofile'))).result, 'pass');
    assert.equal((await runCheck('UlimitOverrideCheck', rootlessView('ulimit-nofile'))).result, 'pass');
  });

  test('the same NOFILE entry on Docker is an override', async () => {
    const { inspect, image, history, top, execs } = container('root');
    const docker = capturedView({ inspect, image, history, top, execs, info: engineFixture('main').info, networks: engine.networks });
    assert.equal(
      (await runCheck('UlimitOverrideCheck', docker)).reason,
      'overrides RLIMIT_NOFILE=1048576:1048576, RLIMIT_NPROC=32768:32768',
    );
  });

  test("ContainerHealthcheckCheck (5.27): Podman's empty State.Health on a container without a healthcheck is no healthcheck", async () => {
    assert.deepEqual(container('root').inspect.State?.Health?.Status, '');
    assert.deepEqual(await runCheck('ContainerHealthcheckCheck', view('root')), { result: 'fail', reason: 'no healthcheck' });
    assert.deepEqual(await runCheck('HealthStatusCheck', view('root')), { result: 'pass' });
  });
});

describe("Podman's top", () => {
  test("with Podman's descriptors: host PID and host user, the container's user beside them", () => {
    const [root] = parseProcessTable(container('root').top);
    assert.deepEqual(container('root').top.Titles, ['PID', 'HPID', 'USER', 'HUSER', 'COMMAND']);
    assert.equal(root?.pid, container('root').inspect.State?.Pid, 'HPID, the host PID, as /proc gives it');
    assert.equal(root?.uid, 0);
    assert.equal(root?.command, 'sleep 3600');
  });

  test('a user namespace: root in the container, UID 100000 on the host, so not a root process', () => {
    const processes = parseProcessTable(container('userns').top);
    assert.equal(processes[0]?.uid, 100000);
    assert.deepEqual(rootProcesses(processes), []);
  });

  test('with Docker\'s ps options Podman answers an empty body: an error, never "no processes"', () => {
    // The engine client gives an empty body as no value (captured through node:http; docker-modem gave an empty Buffer).
    assert.equal(container('root').dockerPsArgs, undefined);
    assert.throws(
      () => parseProcessTable(container('root').dockerPsArgs as ProcessTable),
      /the engine's top answered without a process table/,
    );
  });

  test('RootProcessCheck and the exec checks on Podman data', async () => {
    assert.equal((await runCheck('RootProcessCheck', view('root'))).result, 'fail');
    assert.equal((await runCheck('RootProcessCheck', view('user'))).result, 'pass');
    assert.equal((await runCheck('RootProcessCheck', view('userns'))).result, 'pass');
    assert.equal(container('root').execs[0]?.ProcessConfig?.user, '0', 'podman exec --user 0');
    assert.match((await runCheck('RootExecCheck', view('root'))).reason ?? '', /^root exec [0-9a-f]{12} \(sleep 3600\)$/);
    assert.equal((await runCheck('PrivilegedContainerCheck', view('privileged'))).result, 'fail');
    for (const check of [
      'ReadonlyRootfsCheck',
      'MemoryLimitCheck',
      'CpuSharesCheck',
      'PidsLimitCheck',
      'NoNewPrivilegesCheck',
      'RunningAsRootCheck',
    ]) {
      assert.equal((await runCheck(check, view('hardened'))).result, 'pass', check);
    }
  });
});

describe("the /proc path with Podman's cgroup layout", () => {
  for (const name of ['root', 'user', 'privileged', 'userns']) {
    test(`${name}: /libpod_parent/libpod-<id> names the container`, () => {
      const text = proc(name, 'cgroup');
      assert.match(text, /\/libpod_parent\/libpod-[0-9a-f]{64}/);
      assert.equal(containerIdFromCgroup(text), container(name).inspect.Id);
    });
  }

  test('status gives host UIDs: 0 for the root container, 100000 under the user namespace', () => {
    assert.equal(parseStatus(proc('root', 'status')).uids[1], 0);
    assert.equal(parseStatus(proc('userns', 'status')).uids[1], 100000);
    assert.equal(proc('userns', 'uid_map').trim().split(/\s+/).join(' '), '0 100000 65536');
  });
});

describe('host root and container root under a user namespace (captured from podman --uidmap 0:100000:65536)', () => {
  /** A proc root holding one captured init process under its own PID. */
  function procRootWith(name: string): { procRoot: string; inspect: ContainerInspect } {
    const procRoot = mkdtempSync(join(tmpdir(), 'dm-podman-proc-'));
    const { inspect } = container(name);
    copyCapturedProcess(join(fixtures, 'proc', name), join(procRoot, String(inspect.State?.Pid)));
    return { procRoot, inspect };
  }

  test("uid_map read backwards: host UID 100000 is UID 0 inside; the host's own map is the identity", () => {
    assert.equal(uidInside(proc('userns', 'uid_map'), 100000), 0);
    assert.equal(uidInside(proc('userns', 'uid_map'), 101000), 1000);
    assert.equal(uidInside(proc('userns', 'uid_map'), 0), undefined);
    assert.equal(uidInside(proc('root', 'uid_map'), 0), 0);
  });

  test("/proc: the userns container's init is container root but not host root; the plain one is both", async () => {
    for (const [name, uid, containerRoot] of [
      ['userns', 100000, true],
      ['root', 0, true],
      ['user', 1000, false],
    ] as const) {
      const { procRoot, inspect } = procRootWith(name);
      try {
        const processes = await new ProcProcessSource({ procRoot }).processes(inspect);
        assert.deepEqual(
          processes.map((process) => [process.uid, process.containerRoot]),
          [[uid, containerRoot]],
          name,
        );
      } finally {
        rmSync(procRoot, { recursive: true, force: true });
      }
    }
  });

  test("Podman's top says the same: USER root, HUSER 100000", () => {
    assert.deepEqual(
      parseProcessTable(container('userns').top).map((process) => [process.uid, process.containerRoot]),
      [[100000, true]],
    );
    assert.deepEqual(
      parseProcessTable(container('user').top).map((process) => process.containerRoot),
      [false],
    );
    assert.equal(containerRootProcesses(parseProcessTable(container('userns').top))?.length, 1);
    assert.equal(rootProcesses(parseProcessTable(container('userns').top)).length, 0);
  });

  test('RootProcessCheck passes (no host root) and its reason names the container root; RunningAsRootCheck (CIS 4.1) still fails', async () => {
    const outcome = await runCheck('RootProcessCheck', view('userns'));
    assert.equal(outcome.result, 'pass');
    assert.match(
      outcome.reason ?? '',
      /^no process runs as root on the host; 1 runs as root inside the container's user namespace: pid \d+ \(sleep 3600\) as host UID 100000$/,
    );
    assert.equal((await runCheck('RunningAsRootCheck', view('userns'))).result, 'fail');
  });

  test("Docker's top shows host UIDs only: container root is unknown, not guessed", () => {
    const processes = parseProcessTable({
      Titles: ['PID', 'UID', 'USER', 'COMMAND'],
      Processes: [['4242', '100000', '100000', 'sleep 3600']],
    });
    assert.equal(processes[0]?.containerRoot, undefined);
    assert.equal(containerRootProcesses(processes), undefined);
  });
});
