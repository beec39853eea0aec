/**
 * What one /proc scan must notice that the last one did not see, with real processes and real /proc: a
 * process that gains root through a set-UID program (no exec, no event), a PID used again by a new process,
 * and a process moved into another container's cgroup. Each is in the very next scan of the same source.
 * Runs its containers on a private dockerd (no lock needed); the source reads the host's /proc as always.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { ProcProcessSource } from '../../src/engine/proc-process-source.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import type { ContainerInspect } from '../../src/engine/types.js';
import type { ContainerProcess } from '../../src/policy/types.js';
import { docker, ensureTestImage, startContainer } from '../helpers/docker.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { killAndWait, moveToCgroupsOf, PidReuser } from '../helpers/host-process.js';
import { waitFor } from '../helpers/services.js';
import { compileFlipper, ROOT_TRIGGER } from '../helpers/setuid-flipper.js';

const privateEngine = new PrivateEngine('procscan');
const engine = new DockerEngine({ host: privateEngine.host, concurrency: 4, timeoutMs: 10_000 });
let reuser: PidReuser | undefined;
/** Host processes the tests started outside the containers' own PID namespaces: killed at the end. */
const strays: number[] = [];

async function inspect(id: string): Promise<ContainerInspect> {
  return engine.inspectContainer(id);
}

const initPid = (container: ContainerInspect): number => container.State?.Pid ?? 0;

/** The effective UID in /proc/<pid>/status: the test's own reading, independent of the source's. */
function statusEuid(pid: number): number | undefined {
  try {
    return Number(/^Uid:\t\d+\t(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

/** A new scan of the same source, as the next refresh makes. */
async function nextScan(source: ProcProcessSource, container: ContainerInspect): Promise<ContainerProcess[]> {
  source.forget();
  return source.processes(container);
}

/** Starts `command` in the container with `docker exec -d` and returns its host PID once /proc shows it. */
async function execDetached(container: ContainerInspect, user: string, command: readonly string[]): Promise<number> {
  await docker(['exec', '-d', '-u', user, container.Id, ...command]);
  const probe = new ProcProcessSource();
  return waitFor(`${command.join(' ')} in ${container.Name}`, async () => {
    probe.forget();
    return (await probe.processes(container)).find((process) => process.command === command.join(' '))?.pid;
  });
}

before(async () => {
  await privateEngine.start();
  // Every docker command of the test helpers goes to the private engine, the test image included.
  process.env['DOCKER_HOST'] = privateEngine.host;
  await ensureTestImage();
  reuser = await PidReuser.build();
});

after(async () => {
  for (const pid of strays) await killAndWait(pid);
  await privateEngine.destroy();
  await reuser?.close();
});

test('a process that takes root through a set-UID program is root in the next scan, non-dumpable as it is', async () => {
  const container = await inspect((await startContainer(['--network', 'none'])).id);
  const root = `/proc/${initPid(container)}/root`;
  await compileFlipper(`${root}/bin/dm-flip`);
  await chmod(`${root}/bin/dm-flip`, 0o4755);
  const flipper = await execDetached(container, '1000', ['/bin/dm-flip']);
  const source = new ProcProcessSource();
  assert.deepEqual(
    (await source.processes(container)).find(({ pid }) => pid === flipper),
    { pid: flipper, uid: 1000, containerRoot: false, user: '1000', command: '/bin/dm-flip' },
  );
  // A set-UID program is not dumpable: the files in its /proc directory show root as their owner.
  assert.equal(statSync(`/proc/${flipper}/status`).uid, 0);

  await writeFile(`${root}${ROOT_TRIGGER}`, '');
  await waitFor('dm-flip to take effective UID 0', async () => (statusEuid(flipper) === 0 ? true : undefined), { timeoutMs: 10_000 });
  assert.deepEqual(
    (await nextScan(source, container)).find(({ pid }) => pid === flipper),
    { pid: flipper, uid: 0, containerRoot: true, user: '0', command: '/bin/dm-flip' },
  );

  await rm(`${root}${ROOT_TRIGGER}`);
  await waitFor('dm-flip to give UID 0 back', async () => (statusEuid(flipper) === 1000 ? true : undefined), { timeoutMs: 10_000 });
  assert.equal((await nextScan(source, container)).find(({ pid }) => pid === flipper)?.uid, 1000);
});

test('a PID used again by a new process in the same container is that new process in the next scan', async () => {
  const container = await inspect((await startContainer(['--network', 'none', '--user', '1000'])).id);
  const reused = await execDetached(container, '0', ['sleep', '1001']);
  const source = new ProcProcessSource();
  assert.deepEqual(
    (await source.processes(container)).find(({ pid }) => pid === reused),
    { pid: reused, uid: 0, containerRoot: true, user: '0', command: 'sleep 1001' },
  );
  await killAndWait(reused);
  // The same host PID, in the same container's cgroups, as another user with another command.
  await reuser?.start(reused, 1000, initPid(container), ['sleep', '1002']);
  strays.push(reused);
  assert.deepEqual(
    (await nextScan(source, container)).find(({ pid }) => pid === reused),
    { pid: reused, uid: 1000, containerRoot: false, user: '1000', command: 'sleep 1002' },
  );
});

test("a process moved into another container's cgroup belongs to that container in the next scan", async () => {
  const [from, to] = await Promise.all([
    startContainer(['--network', 'none']).then(({ id }) => inspect(id)),
    startContainer(['--network', 'none']).then(({ id }) => inspect(id)),
  ]);
  const moved = await execDetached(from, '0', ['sleep', '1003']);
  strays.push(moved);
  const source = new ProcProcessSource();
  const pidsOf = (processes: ContainerProcess[]): number[] => processes.map(({ pid }) => pid);
  assert.ok(pidsOf(await source.processes(from)).includes(moved));
  assert.ok(!pidsOf(await source.processes(to)).includes(moved));

  moveToCgroupsOf(moved, initPid(to));
  source.forget();
  assert.ok(!pidsOf(await source.processes(from)).includes(moved), 'gone from the container it left');
  assert.ok(pidsOf(await source.processes(to)).includes(moved), 'in the container it joined');
});
