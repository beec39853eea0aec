import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { chooseProcessSource } from '../../src/engine/choose-process-source.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { ProcProcessSource } from '../../src/engine/proc-process-source.js';
import { TopProcessSource, type ProcessSource } from '../../src/engine/process-source.js';
import type { ContainerInspect } from '../../src/engine/types.js';
import type { Logger } from '../../src/log.js';
import type { ContainerProcess } from '../../src/policy/types.js';
import { DOCKER_HOST, docker, ensureTestImage, removeTestContainers, requireEngine, startContainer } from '../helpers/docker.js';
import { eventually } from '../helpers/wait.js';
import { scaled } from '../helpers/time-scale.js';

const engine = new DockerEngine({ host: DOCKER_HOST, concurrency: 4, timeoutMs: scaled(10_000) });
const containers: Record<'root' | 'user' | 'userWithRootExec', ContainerInspect> = {} as never;
/** Containers whose /proc mount is the view an exporter inside them would have. */
let pidHostView = '';
let privatePidView = '';

const comparable = (processes: ContainerProcess[]): { pid: number; uid: number | undefined; command: string }[] =>
  processes.map(({ pid, uid, command }) => ({ pid, uid, command })).sort((a, b) => a.pid - b.pid);

function capturingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => messages.push((JSON.parse(line) as { msg: string }).msg) });
  return { logger, messages };
}

async function procRootOf(runArgs: string[]): Promise<string> {
  const { id } = await startContainer(runArgs);
  return `/proc/${(await engine.inspectContainer(id)).State?.Pid ?? 0}/root/proc`;
}

before(async () => {
  await requireEngine();
  await ensureTestImage();
  const root = await startContainer();
  const user = await startContainer(['--user', '1000']);
  const userWithRootExec = await startContainer(['--user', '1000']);
  await docker(['exec', '-d', '-u', '0', userWithRootExec.id, 'sleep', '1000']);
  await eventually(
    () => docker(['top', userWithRootExec.id]),
    (top) => top.includes('sleep 1000'),
    5_000,
    'the docker exec -d -u 0 process in docker top',
  );
  containers.root = await engine.inspectContainer(root.id);
  containers.user = await engine.inspectContainer(user.id);
  containers.userWithRootExec = await engine.inspectContainer(userWithRootExec.id);
  pidHostView = await procRootOf(['--pid=host']);
  privatePidView = await procRootOf([]);
});

after(async () => {
  await removeTestContainers();
});

describe('/proc and top list the same processes of real containers', () => {
  const top = new TopProcessSource(engine);
  const sources: [string, () => ProcessSource][] = [
    ['/proc on the host', () => new ProcProcessSource()],
    ['/proc of a container run with --pid=host', () => new ProcProcessSource({ procRoot: pidHostView })],
  ];
  for (const [label, source] of sources) {
    test(label, async () => {
      const proc = source();
      for (const container of Object.values(containers)) {
        assert.deepEqual(comparable(await proc.processes(container)), comparable(await top.processes(container)), container.Name);
      }
    });
  }

  test('what they list: root, UID 1000, and UID 1000 with a root process beside it', async () => {
    const proc = new ProcProcessSource();
    assert.deepEqual(comparable(await proc.processes(containers.root)), [
      { pid: containers.root.State?.Pid, uid: 0, command: 'sleep 3600' },
    ]);
    assert.deepEqual(comparable(await proc.processes(containers.user)), [
      { pid: containers.user.State?.Pid, uid: 1000, command: 'sleep 3600' },
    ]);
    const mixed = comparable(await proc.processes(containers.userWithRootExec));
    assert.deepEqual(
      mixed.map(({ uid, command }) => ({ uid, command })),
      [
        { uid: 1000, command: 'sleep 3600' },
        { uid: 0, command: 'sleep 1000' },
      ],
    );
  });
});

describe('chooseProcessSource', () => {
  test('on the host: /proc, said in the log', async () => {
    const { logger, messages } = capturingLogger();
    const chosen = chooseProcessSource(engine, logger);
    const processes = await chosen.processes(containers.userWithRootExec);
    assert.equal(chosen.kind, 'proc');
    assert.equal(processes.length, 2);
    assert.match(messages.join('\n'), /reading container processes from \/proc: it shows the host's PIDs/);
  });

  test('in a container with --pid=host: /proc', async () => {
    const { logger } = capturingLogger();
    const chosen = chooseProcessSource(engine, logger, { procRoot: pidHostView });
    await chosen.processes(containers.root);
    assert.equal(chosen.kind, 'proc');
  });

  test('in a container with its own PID namespace: top, with the reason, and the same processes', async () => {
    const { logger, messages } = capturingLogger();
    const chosen = chooseProcessSource(engine, logger, { procRoot: privatePidView });
    const top = new TopProcessSource(engine);
    for (const container of Object.values(containers)) {
      assert.deepEqual(comparable(await chosen.processes(container)), comparable(await top.processes(container)));
    }
    assert.equal(chosen.kind, 'top');
    assert.match(
      messages[0] ?? '',
      /reading container processes with the engine's top: .*cannot be read: ENOENT; run the exporter on the host or with --pid=host/,
    );
    assert.equal(messages.length, 2, 'the first failed check and the final choice are logged, nothing more');
  });
});
