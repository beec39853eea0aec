/**
 * Rootless Docker, on data captured from a real one (test/fixtures/capture-rootless-docker.ts):
 * container root is the rootless user's UID on the host. On this machine's cgroup v1 the engine's `top`
 * fails and no cgroup names the container; its PID namespace does, and /proc reads it from there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ProcProcessSource, containerIdFromCgroup, parseStatus } from '../../src/engine/proc-process-source.js';
import { uidInside } from '../../src/engine/processes.js';
import type { ContainerInspect, EngineInfo, EngineVersion } from '../../src/engine/types.js';
import { runCheck } from '../fixtures/cis/fixture-views.js';
import { copyCapturedProcess } from '../helpers/proc-fixture.js';

const fixtures = join(import.meta.dirname, '../fixtures/rootless-docker');
const engine = JSON.parse(readFileSync(join(fixtures, 'engine.json'), 'utf8')) as {
  info: EngineInfo;
  version: EngineVersion;
  hostPidNamespace: string;
};
const container = (name: string) =>
  JSON.parse(readFileSync(join(fixtures, 'containers', `${name}.json`), 'utf8')) as {
    inspect: ContainerInspect;
    top: { error?: string };
    pidNamespace: string;
  };

/** A proc root with the captured init processes and their PID namespace links, and `self` in the host's namespace. */
function procRootWith(names: string[]): string {
  const procRoot = mkdtempSync(join(tmpdir(), 'dm-rootless-proc-'));
  mkdirSync(join(procRoot, 'self/ns'), { recursive: true });
  symlinkSync(engine.hostPidNamespace, join(procRoot, 'self/ns/pid'));
  for (const name of names) {
    const { inspect, pidNamespace } = container(name);
    const dir = join(procRoot, String(inspect.State?.Pid));
    copyCapturedProcess(join(fixtures, 'proc', name), dir);
    mkdirSync(join(dir, 'ns'));
    symlinkSync(pidNamespace, join(dir, 'ns/pid'));
  }
  return procRoot;
}
const proc = (name: string, file: string) => readFileSync(join(fixtures, 'proc', name, file), 'utf8');
/** The rootless user's UID, as the captured uid_map names it for container root. */
const userUid = Number(proc('root', 'uid_map').trim().split(/\s+/)[1]);

describe('rootless Docker', () => {
  test('the engine says it is rootless, and UsernsRemapCheck (2.9) passes for it', async () => {
    assert.ok(engine.info.SecurityOptions?.includes('name=rootless'));
    const host = {
      signal: new AbortController().signal,
      engineInfo: async () => engine.info,
      engineVersion: async () => engine.version,
      networks: async () => [],
    };
    assert.deepEqual(await runCheck('UsernsRemapCheck', host), { result: 'pass', reason: 'rootless engine' });
  });

  test("container root is the rootless user's UID on the host: not host root, still container root", () => {
    assert.notEqual(userUid, 0);
    assert.equal(parseStatus(proc('root', 'status')).uids[1], userUid);
    assert.equal(uidInside(proc('root', 'uid_map'), userUid), 0);
    // --user 1000 inside is a subordinate UID outside.
    const hostUid = parseStatus(proc('user', 'status')).uids[1];
    assert.ok(hostUid > 65536);
    assert.equal(uidInside(proc('user', 'uid_map'), hostUid), 1000);
  });

  test('on cgroup v1 top fails and no cgroup names the container; its own PID namespace does, so /proc reads it', async () => {
    assert.match(container('root').top.error ?? '', /unable to get all container pids/);
    assert.equal(containerIdFromCgroup(proc('root', 'cgroup')), undefined);
    assert.notEqual(container('root').pidNamespace, engine.hostPidNamespace);
    const procRoot = procRootWith(['root', 'user']);
    try {
      const source = new ProcProcessSource({ procRoot });
      for (const [name, uid, containerRoot] of [
        ['root', userUid, true],
        ['user', undefined, false],
      ] as const) {
        const { inspect } = container(name);
        assert.deepEqual(source.visibility(inspect), { visible: true }, name);
        const processes = await source.processes(inspect);
        assert.deepEqual(
          processes.map((process) => [process.pid, process.containerRoot]),
          [[inspect.State?.Pid, containerRoot]],
          name,
        );
        if (uid !== undefined) assert.equal(processes[0]?.uid, uid);
      }
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });

  test("a process in this reader's own PID namespace whose cgroup names no container is no container's", () => {
    const procRoot = procRootWith([]);
    try {
      const { inspect } = container('root');
      const dir = join(procRoot, String(inspect.State?.Pid));
      copyCapturedProcess(join(fixtures, 'proc', 'root'), dir);
      mkdirSync(join(dir, 'ns'));
      symlinkSync(engine.hostPidNamespace, join(dir, 'ns/pid'));
      assert.deepEqual(new ProcProcessSource({ procRoot }).visibility(inspect), {
        visible: false,
        reason: `PID ${inspect.State?.Pid} (init process of container rootless-root on the host) belongs to no container here`,
      });
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });
});
