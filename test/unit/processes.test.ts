import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseProcessTable, rootProcesses } from '../../src/engine/processes.js';
import { USER_FIXTURES, topFixture } from '../helpers/fixture-view.js';

describe('parseProcessTable on `top` output captured from the engine', () => {
  test('-o pid,uid,user,args (as DockerEngine.top asks): numeric UID, host user name, command', () => {
    const processes = parseProcessTable(topFixture('exec-root'));
    assert.equal(processes.length, 2);
    const [container, exec] = processes;
    assert.equal(container?.uid, 1000);
    assert.equal(container?.command, 'sleep 3600');
    assert.ok(Number.isInteger(container?.pid) && (container?.pid ?? 0) > 0);
    assert.equal(exec?.uid, 0);
    assert.equal(exec?.user, 'root');
    assert.equal(exec?.command, 'sleep 3601');
    assert.deepEqual(rootProcesses(processes), [exec]);
  });

  test('columns in another order (USER, PID, UID, COMMAND) are read by their titles', () => {
    const ordered = parseProcessTable(topFixture('exec-root'));
    const reordered = parseProcessTable(topFixture('exec-root.reordered'));
    assert.deepEqual(topFixture('exec-root.reordered').Titles, ['USER', 'PID', 'UID', 'COMMAND']);
    assert.deepEqual(reordered, ordered);
  });

  test("`ps -ef` (the engine's default) titles user names UID: root is 0, other names stay unknown", () => {
    const table = topFixture('exec-root.ps-ef');
    assert.equal(table.Titles[0], 'UID');
    const [container, exec] = parseProcessTable(table);
    assert.equal(exec?.uid, 0);
    assert.equal(exec?.user, 'root');
    assert.equal(exec?.command, 'sleep 3601');
    // UID 1000 shows as whatever name the host gives it (or the number when it has none).
    const hostName = table.Processes[0]?.[0] ?? '';
    assert.equal(container?.uid, /^\d+$/.test(hostName) ? Number(hostName) : undefined);
    assert.equal(container?.user, hostName);
    assert.equal(container?.pid, Number(table.Processes[0]?.[1]));
  });

  test('every captured container: root processes exactly where the user is root', () => {
    for (const [name, user] of Object.entries(USER_FIXTURES)) {
      const processes = parseProcessTable(topFixture(name));
      assert.equal(processes.length, 1, name);
      const runsAsRoot = user === '' || user.startsWith('0') || user.startsWith('root');
      assert.equal(rootProcesses(processes).length, runsAsRoot ? 1 : 0, name);
      assert.equal(processes[0]?.uid, runsAsRoot ? 0 : 1000, name);
    }
  });

  test('a container with no process left', () => {
    assert.deepEqual(parseProcessTable({ ...topFixture('user-1000'), Processes: [] }), []);
  });
});
