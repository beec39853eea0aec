import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { ProcProcessSource } from '../../src/engine/proc-process-source.js';
import type { ContainerInspect } from '../../src/engine/types.js';
import { copyCapturedProcess, ownAsStatus } from '../helpers/proc-fixture.js';

/**
 * A proc root assembled from files captured from real containers (test/fixtures/proc), each copied under
 * a PID of the test's choosing, so the scan, the index and its reuse can be driven step by step.
 */
const fixtures = join(import.meta.dirname, '../fixtures/proc');
const { cases } = JSON.parse(readFileSync(join(fixtures, 'cases.json'), 'utf8')) as {
  cases: Record<string, { containerId: string | null }>;
};
const rootId = cases['root-container']?.containerId ?? '';
const userId = cases['user-container']?.containerId ?? '';

let procRoot = '';
const roots: string[] = [];
function addProcess(pid: number, fixture: string): void {
  copyCapturedProcess(join(fixtures, fixture), join(procRoot, String(pid)));
}
function removeProcess(pid: number): void {
  rmSync(join(procRoot, String(pid)), { recursive: true });
}
function inspect(id: string, pid: number): ContainerInspect {
  return { Id: id, Name: `/c-${pid}`, Image: 'sha256:0', State: { Running: true, Pid: pid } };
}

beforeEach(() => {
  procRoot = mkdtempSync(join(tmpdir(), 'dm-proc-'));
  roots.push(procRoot);
  addProcess(1, 'host-init');
});
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('ProcProcessSource on a proc root built from captured files', () => {
  test("lists a container's processes with effective UID and command, and no one else's", async () => {
    addProcess(100, 'user-container');
    addProcess(140, 'exec-root-in-user-container');
    addProcess(200, 'root-container');
    const source = new ProcProcessSource({ procRoot });
    assert.deepEqual(await source.processes(inspect(userId, 100)), [
      { pid: 100, uid: 1000, user: '1000', command: 'sleep 3600' },
      { pid: 140, uid: 0, user: '0', command: 'sleep 1000' },
    ]);
    assert.deepEqual(await source.processes(inspect(rootId, 200)), [{ pid: 200, uid: 0, user: '0', command: 'sleep 3600' }]);
  });

  test("runc's `runc init` (root for a moment on every exec) is judged as what it becomes; one that stays `runc init` is reported", async () => {
    addProcess(100, 'user-container');
    // A health check's exec in a non-root container: runc init as root, then the session's user and command.
    addProcess(140, 'exec-root-in-user-container');
    writeFileSync(join(procRoot, '140/cmdline'), 'runc\0init\0');
    const becomes = setTimeout(() => {
      cpSync(join(fixtures, 'user-container/status'), join(procRoot, '140/status'));
      ownAsStatus(join(procRoot, '140'));
      cpSync(join(fixtures, 'user-container/cmdline'), join(procRoot, '140/cmdline'));
    }, 30);
    const source = new ProcProcessSource({ procRoot });
    const settled = await source.processes(inspect(userId, 100));
    clearTimeout(becomes);
    assert.deepEqual(settled[1], { pid: 140, uid: 1000, user: '1000', command: 'sleep 3600' });
    writeFileSync(join(procRoot, '140/cmdline'), 'runc\0init\0');
    cpSync(join(fixtures, 'exec-root-in-user-container/status'), join(procRoot, '140/status'));
    ownAsStatus(join(procRoot, '140'));
    source.forget();
    assert.deepEqual((await source.processes(inspect(userId, 100)))[1], { pid: 140, uid: 0, user: '0', command: 'runc init' });
  });

  test('one scan serves every container for the TTL; new processes of a known container wait for it', async () => {
    let now = 0;
    addProcess(100, 'user-container');
    const source = new ProcProcessSource({ procRoot, indexTtlMs: 1000, now: () => now });
    assert.equal((await source.processes(inspect(userId, 100))).length, 1);
    addProcess(140, 'exec-root-in-user-container');
    now = 999;
    assert.equal((await source.processes(inspect(userId, 100))).length, 1, 'the index of t=0 is reused');
    now = 1000;
    assert.equal((await source.processes(inspect(userId, 100))).length, 2, "after the TTL the exec'd process shows");
  });

  test('forget(): after an event in a container, the next call scans again within the TTL', async () => {
    addProcess(100, 'user-container');
    const source = new ProcProcessSource({ procRoot, indexTtlMs: 60_000 });
    assert.equal((await source.processes(inspect(userId, 100))).length, 1);
    addProcess(140, 'exec-root-in-user-container');
    assert.equal((await source.processes(inspect(userId, 100))).length, 1, 'the index is reused');
    source.forget();
    assert.equal((await source.processes(inspect(userId, 100))).length, 2, "the exec'd process after forget()");
  });

  test('a container started after the scan is found at once: its init PID forces a new scan', async () => {
    const now = 0;
    addProcess(100, 'user-container');
    const source = new ProcProcessSource({ procRoot, indexTtlMs: 60_000, now: () => now });
    await source.processes(inspect(userId, 100));
    addProcess(200, 'root-container');
    assert.deepEqual(
      (await source.processes(inspect(rootId, 200))).map(({ pid }) => pid),
      [200],
    );
  });

  test('processes that exit between the scan and the read are left out', async () => {
    addProcess(100, 'user-container');
    addProcess(140, 'exec-root-in-user-container');
    const source = new ProcProcessSource({ procRoot, now: () => 0 });
    await source.processes(inspect(userId, 100));
    removeProcess(140);
    assert.deepEqual(
      (await source.processes(inspect(userId, 100))).map(({ pid }) => pid),
      [100],
    );
  });

  test('an init PID that is not in /proc under the container is an error, never an empty list', async () => {
    addProcess(200, 'root-container');
    const source = new ProcProcessSource({ procRoot });
    await assert.rejects(source.processes(inspect(userId, 200)), /init process 200 of container c-200 is not in/);
    await assert.rejects(source.processes(inspect(userId, 300)), /init process 300/);
    await assert.rejects(source.processes({ ...inspect(userId, 0), State: { Running: false, Pid: 0 } }), /no init process/);
  });

  test('visibility: the init PID must be present and its cgroup must name the container', async () => {
    addProcess(200, 'root-container');
    const source = new ProcProcessSource({ procRoot });
    assert.deepEqual(source.visibility(inspect(rootId, 200)), { visible: true });
    const elsewhere = source.visibility(inspect(userId, 200));
    assert.equal(elsewhere.visible, false);
    assert.match(elsewhere.visible ? '' : elsewhere.reason, new RegExp(`belongs to container ${rootId.slice(0, 12)}`));
    const missing = source.visibility(inspect(rootId, 300));
    assert.match(missing.visible ? '' : missing.reason, /\/300 \(init process of container c-300\) cannot be read: ENOENT/);
    const hostProcess = source.visibility(inspect(rootId, 1));
    assert.match(hostProcess.visible ? '' : hostProcess.reason, /belongs to no container/);
  });
});
