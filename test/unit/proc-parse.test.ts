import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { commandLine, containerIdFromCgroup, parseStatus } from '../../src/engine/proc-process-source.js';

const fixtures = join(import.meta.dirname, '../fixtures/proc');
const { cases } = JSON.parse(readFileSync(join(fixtures, 'cases.json'), 'utf8')) as {
  cases: Record<string, { containerId: string | null; euid?: number; command?: string }>;
};
const read = (name: string, file: string): string => readFileSync(join(fixtures, name, file), 'utf8');

describe('containerIdFromCgroup on /proc/<pid>/cgroup captured from real containers (cgroup v1, cgroupfs)', () => {
  for (const [name, expected] of Object.entries(cases)) {
    test(name, () => {
      assert.equal(containerIdFromCgroup(read(name, 'cgroup')), expected.containerId ?? undefined);
    });
  }
});

describe('containerIdFromCgroup on the other drivers and versions', () => {
  const id = cases['root-container']?.containerId ?? '';
  const outer = cases['user-container']?.containerId ?? '';

  test('the cgroup v2 line alone (a pure v2 host, cgroupfs driver)', () => {
    assert.equal(containerIdFromCgroup(`0::/docker/${id}\n`), id);
  });

  // The systemd driver names a container's cgroup `docker-<id>.scope` under `system.slice` (v1 and v2
  // alike); this host runs cgroupfs, so these lines follow that documented form rather than a capture.
  test('systemd driver, cgroup v2', () => {
    assert.equal(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope\n`), id);
  });

  test('systemd driver, cgroup v1 with a v2 line for the systemd unit only', () => {
    const text = read('root-container', 'cgroup')
      .replaceAll(`/docker/${id}`, `/system.slice/docker-${id}.scope`)
      .replace(/^0::.*$/m, '0::/system.slice/docker.service');
    assert.equal(containerIdFromCgroup(text), id);
  });

  test('a v2 line naming no container does not hide the v1 lines that do', () => {
    const text = read('root-container', 'cgroup').replace(/^0::.*$/m, '0::/');
    assert.equal(containerIdFromCgroup(text), id);
  });

  test('Docker in Docker: the innermost container wins', () => {
    assert.equal(containerIdFromCgroup(`0::/docker/${outer}/docker/${id}\n`), id);
  });

  test('a 32-hex session or unit name is no container', () => {
    assert.equal(containerIdFromCgroup('4:memory:/process_api/6d0d7de0be38580bbd62b809583a7cb3\n0::/\n'), undefined);
  });
});

describe('parseStatus and commandLine on captured status and cmdline files', () => {
  for (const [name, expected] of Object.entries(cases)) {
    if (expected.euid === undefined) continue;
    test(name, () => {
      const status = parseStatus(read(name, 'status'));
      assert.equal(status.name, 'sleep');
      assert.equal(status.uids[1], expected.euid);
      assert.equal(commandLine(read(name, 'cmdline'), status.name), expected.command);
    });
  }

  test('the effective UID is the second of four on the Uid: line', () => {
    const status = read('user-container', 'status').replace(/^Uid:.*$/m, 'Uid:\t1000\t0\t1000\t0');
    assert.deepEqual(parseStatus(status).uids, [1000, 0, 1000, 0]);
  });

  test('a status without a Uid: line is an error, not root', () => {
    assert.throws(() => parseStatus(read('root-container', 'status').replace(/^Uid:.*\n/m, '')), /no Uid: line/);
  });

  test('a process without arguments shows as [name], as ps shows it', () => {
    assert.equal(commandLine('', 'kworker/0:1'), '[kworker/0:1]');
  });
});
