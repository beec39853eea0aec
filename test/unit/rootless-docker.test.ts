/**
 * Rootless Docker, on data captured from a real one (test/fixtures/capture-rootless-docker.ts):
 * container root is the rootless user's UID on the host. On this machine's cgroup v1 the engine cannot
 * list a container's processes (its `top` fails) and /proc cannot attribute them (no cgroup per
 * container): the captured files show both failures, and the user-namespace logic is proved on them.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ProcProcessSource, containerIdFromCgroup, parseStatus } from '../../src/engine/proc-process-source.js';
import { uidInside } from '../../src/engine/processes.js';
import type { ContainerInspect, EngineInfo, EngineVersion } from '../../src/engine/types.js';
import { runCheck } from '../fixtures/cis/fixture-views.js';

const fixtures = join(import.meta.dirname, '../fixtures/rootless-docker');
const engine = JSON.parse(readFileSync(join(fixtures, 'engine.json'), 'utf8')) as { info: EngineInfo; version: EngineVersion };
const container = (name: string) => JSON.parse(readFileSync(join(fixtures, 'containers', `${name}.json`), 'utf8')) as { inspect: ContainerInspect; top: { error?: string } };
const proc = (name: string, file: string) => readFileSync(join(fixtures, 'proc', name, file), 'utf8');
/** The rootless user's UID, as the captured uid_map names it for container root. */
const userUid = Number(proc('root', 'uid_map').trim().split(/\s+/)[1]);

describe('rootless Docker', () => {
  test('the engine says it is rootless, and UsernsRemapCheck (2.9) passes for it', async () => {
    assert.ok(engine.info.SecurityOptions?.includes('name=rootless'));
    const host = { signal: new AbortController().signal, engineInfo: async () => engine.info, engineVersion: async () => engine.version, networks: async () => [] };
    assert.deepEqual(await runCheck('UsernsRemapCheck', host), { result: 'pass', reason: 'rootless engine' });
  });

  test('container root is the rootless user\'s UID on the host: not host root, still container root', () => {
    assert.notEqual(userUid, 0);
    assert.equal(parseStatus(proc('root', 'status')).uids[1], userUid);
    assert.equal(uidInside(proc('root', 'uid_map'), userUid), 0);
    // --user 1000 inside is a subordinate UID outside.
    const hostUid = parseStatus(proc('user', 'status')).uids[1];
    assert.ok(hostUid > 65536);
    assert.equal(uidInside(proc('user', 'uid_map'), hostUid), 1000);
  });

  test('what fails on cgroup v1: top errs, and the init process\'s cgroup names no container', async () => {
    assert.match(container('root').top.error ?? '', /unable to get all container pids/);
    assert.equal(containerIdFromCgroup(proc('root', 'cgroup')), undefined);
    const procRoot = mkdtempSync(join(tmpdir(), 'dm-rootless-proc-'));
    try {
      const { inspect } = container('root');
      cpSync(join(fixtures, 'proc', 'root'), join(procRoot, String(inspect.State?.Pid)), { recursive: true });
      const source = new ProcProcessSource({ procRoot });
      assert.deepEqual(source.visibility(inspect), {
        visible: false,
        reason: `PID ${inspect.State?.Pid} (init process of container rootless-root on the host) belongs to no container here`,
      });
      await assert.rejects(source.processes(inspect), /is not in/);
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });
});
