/**
 * dockerode as the reference client: every Engine API call the exporter's own client (DockerEngine,
 * plain node:http) makes returns the same JSON as dockerode's equivalent call, on the real Docker engine
 * and on a private Podman. Values that change between two calls of our own (clocks, counters, the
 * engine's goroutines) are the only ones not compared; every key must still be there in both.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import type { EngineEvent } from '../../src/engine/types.js';
import { PODMAN_PS_ARGS } from '../../src/engine/process-source.js';
import {
  DOCKER_HOST,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  docker,
  ensureTestImage,
  removeTestContainers,
  requireEngine,
  uniqueName,
} from '../helpers/docker.js';
import { PodmanEngine } from '../helpers/podman-engine.js';
import { waitFor } from '../helpers/services.js';
import { scaled } from '../helpers/time-scale.js';

/**
 * Asserts that `theirs` holds the same JSON as `ours`: the same keys at every level and the same values,
 * except at paths whose value changed between `ours` and `oursAgain` (taken before and after `theirs`).
 * Returns those paths.
 */
function assertSameJson(ours: unknown, theirs: unknown, oursAgain: unknown, path = '$'): string[] {
  if (
    !isDeepStrictEqual(ours, oursAgain) &&
    (typeof ours !== 'object' || ours === null || Array.isArray(ours) !== Array.isArray(oursAgain))
  ) {
    return [path];
  }
  if (Array.isArray(ours)) {
    assert.ok(Array.isArray(theirs), `${path}: dockerode gave no array`);
    if (!Array.isArray(oursAgain) || oursAgain.length !== ours.length) return [path];
    assert.equal(theirs.length, ours.length, `${path}: length`);
    // Podman builds some lists (info's DriverStatus) from Go maps, in a new order at each call: a
    // client only parses the text, so the same items in another order are the engine's doing.
    if (!isDeepStrictEqual(theirs, ours) && isDeepStrictEqual(sortedJson(theirs), sortedJson(ours))) return [`${path} (order)`];
    return ours.flatMap((item, index) => assertSameJson(item, theirs[index], oursAgain[index], `${path}[${index}]`));
  }
  if (typeof ours === 'object' && ours !== null) {
    assert.ok(typeof theirs === 'object' && theirs !== null, `${path}: dockerode gave no object`);
    const again = oursAgain as Record<string, unknown>;
    const keys = Object.keys(ours).sort();
    if (!isDeepStrictEqual(keys, Object.keys(again).sort())) return [path];
    assert.deepEqual(Object.keys(theirs).sort(), keys, `${path}: keys`);
    return keys.flatMap((key) =>
      assertSameJson((ours as Record<string, unknown>)[key], (theirs as Record<string, unknown>)[key], again[key], `${path}.${key}`),
    );
  }
  assert.deepEqual(theirs, ours, path);
  return [];
}

function sortedJson(items: readonly unknown[]): string[] {
  return items.map((item) => JSON.stringify(item)).sort();
}

/** Ours, dockerode's, ours again; the same JSON apart from what changed between our two calls. */
async function compare<T>(t: TestContext, ours: () => Promise<T>, theirs: () => Promise<unknown>): Promise<T> {
  const first = await ours();
  const reference = await theirs();
  const volatile = assertSameJson(first, reference, await ours());
  if (volatile.length > 0) t.diagnostic(`changed between calls, not compared: ${volatile.join(', ')}`);
  return first;
}

/** dockerode's raw event objects, one per line of its /events stream. */
function collectRawEvents(stream: NodeJS.ReadableStream, into: Record<string, unknown>[]): void {
  let carry = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (carry + chunk.toString('utf8')).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') into.push(JSON.parse(line) as Record<string, unknown>);
  });
}

interface Subject {
  ours: DockerEngine;
  theirs: Docker;
  /** A running test container of this engine. */
  containerId: string;
  psArgs: string | undefined;
  dockerodePsArgs: string;
  /** Runs a short-lived labelled container and removes it; resolves to its ID. */
  churn(): Promise<string>;
  /** The action of the last event of a removed container. */
  removedAction: string;
}

function parityTests(engineName: string, subject: () => Subject): void {
  test('ping', async () => {
    const { ours, theirs } = subject();
    await ours.ping();
    assert.equal(String(await theirs.ping()), 'OK');
  });

  test('list containers: the fields DockerEngine reads, as dockerode lists them', async (t) => {
    const { ours, theirs, containerId } = subject();
    const list = await compare(
      t,
      async () => (await ours.listContainers()).sort((a, b) => a.id.localeCompare(b.id)),
      async () =>
        (await theirs.listContainers())
          .map((entry) => ({
            id: entry.Id,
            name: (entry.Names[0] ?? entry.Id).replace(/^\//, ''),
            image: entry.Image,
            imageId: entry.ImageID,
            labels: entry.Labels,
            state: entry.State,
          }))
          .sort((a, b) => a.id.localeCompare(b.id)),
    );
    assert.ok(list.some((entry) => entry.id === containerId));
  });

  test('inspect container', async (t) => {
    const { ours, theirs, containerId } = subject();
    const inspect = await compare(
      t,
      () => ours.inspectContainer(containerId),
      () => theirs.getContainer(containerId).inspect(),
    );
    assert.equal(inspect.Id, containerId);
  });

  test('inspect image and its history', async (t) => {
    const { ours, theirs, containerId } = subject();
    const { Image } = await ours.inspectContainer(containerId);
    await compare(
      t,
      () => ours.inspectImage(Image),
      () => theirs.getImage(Image).inspect(),
    );
    const history = await compare(
      t,
      () => ours.imageHistory(Image),
      () => theirs.getImage(Image).history(),
    );
    assert.ok(history.length > 0);
  });

  test('top', async (t) => {
    const { ours, theirs, containerId, psArgs, dockerodePsArgs } = subject();
    const table = await compare(
      t,
      () => ours.top(containerId, psArgs),
      () => theirs.getContainer(containerId).top({ ps_args: dockerodePsArgs }),
    );
    assert.ok(table.Processes.length > 0);
  });

  test('info, version and networks', async (t) => {
    const { ours, theirs } = subject();
    await compare(
      t,
      () => ours.info(),
      () => theirs.info(),
    );
    const version = await compare(
      t,
      () => ours.version(),
      () => theirs.version(),
    );
    t.diagnostic(`${engineName} ${String((version as { Version?: unknown }).Version)}`);
    const byId = (networks: { Id?: string }[]) => [...networks].sort((a, b) => String(a.Id).localeCompare(String(b.Id)));
    const networks = await compare(
      t,
      async () => byId(await ours.networks()),
      async () => byId((await theirs.listNetworks()) as { Id?: string }[]),
    );
    assert.ok(networks.length > 0);
  });

  test('exec inspect', async (t) => {
    const { ours, theirs, containerId } = subject();
    const exec = await theirs.getContainer(containerId).exec({ Cmd: ['true'] });
    const inspect = await compare(
      t,
      () => ours.inspectExec(exec.id),
      () => exec.inspect(),
    );
    assert.equal(inspect.ID, exec.id);
  });

  test('events: a container run and removed, as both clients read the stream', async () => {
    const { ours, theirs, removedAction } = subject();
    const controller = new AbortController();
    const ourEvents: EngineEvent[] = [];
    const theirEvents: Record<string, unknown>[] = [];
    const stream = await theirs.getEvents({});
    collectRawEvents(stream, theirEvents);
    const reading = (async () => {
      for await (const event of await ours.events(controller.signal)) ourEvents.push(event);
    })();
    try {
      const id = await subject().churn();
      const of = <E>(events: E[], idOf: (event: E) => unknown) => events.filter((event) => idOf(event) === id);
      const actorId = (event: Record<string, unknown>) => (event['Actor'] as { ID?: string } | undefined)?.ID;
      await waitFor(`the ${removedAction} event of ${id} through both clients`, async () =>
        of(ourEvents, (event) => event.id).some((event) => event.Action === removedAction) &&
        of(theirEvents, actorId).some((event) => event['Action'] === removedAction)
          ? true
          : undefined,
      );
      const mine = of(ourEvents, (event) => event.id);
      const raw = of(theirEvents, actorId);
      assert.ok(mine.length >= 3, `events of ${id}: ${mine.map((event) => event.Action).join(', ')}`);
      assert.deepEqual(
        mine.map(({ Type, Action, id: eventId, name, time }) => ({ Type, Action, id: eventId, name, time })),
        raw.map((event) => {
          const actor = event['Actor'] as { ID: string; Attributes?: Record<string, string> };
          return { Type: event['Type'], Action: event['Action'], id: actor.ID, name: actor.Attributes?.['name'], time: event['time'] };
        }),
      );
    } finally {
      controller.abort();
      (stream as unknown as { destroy(): void }).destroy();
      await reading;
    }
  });
}

describe('Docker (the system engine)', () => {
  let subject: Subject | undefined;
  before(async () => {
    await requireEngine();
    await ensureTestImage();
    const socketPath = DOCKER_HOST.replace(/^unix:\/\//, '');
    const containerId = await docker([
      'run',
      '-d',
      '--name',
      uniqueName('dm-parity'),
      '--label',
      `${TEST_LABEL}=${RUN_ID}`,
      TEST_IMAGE,
      'sleep',
      '3600',
    ]);
    subject = {
      ours: new DockerEngine({ host: DOCKER_HOST, concurrency: 4, timeoutMs: scaled(10_000) }),
      theirs: new Docker({ socketPath }),
      containerId,
      psArgs: undefined,
      dockerodePsArgs: '-o pid,uid,user,args',
      churn: async () => {
        const id = await docker([
          'run',
          '-d',
          '--name',
          uniqueName('dm-parity-churn'),
          '--label',
          `${TEST_LABEL}=${RUN_ID}`,
          TEST_IMAGE,
          'true',
        ]);
        await docker(['rm', '-f', id]);
        return id;
      },
      removedAction: 'destroy',
    };
  });
  after(removeTestContainers);
  parityTests('Docker', () => subject ?? assert.fail('no engine'));
});

describe('Podman (a private rootful service)', () => {
  const podman = new PodmanEngine('parity');
  let subject: Subject | undefined;
  before(async () => {
    await podman.start();
    await podman.importTestImage();
    const containerId = await podman.run(`dm-parity-${RUN_ID}`, []);
    subject = {
      ours: new DockerEngine({ host: podman.host, concurrency: 4, timeoutMs: scaled(10_000) }),
      theirs: new Docker({ socketPath: podman.socket }),
      containerId,
      psArgs: PODMAN_PS_ARGS,
      dockerodePsArgs: PODMAN_PS_ARGS,
      churn: async () => {
        const id = await podman.run(`dm-parity-churn-${RUN_ID}`, [], ['true']);
        await podman.podman(['rm', '-f', id]);
        return id;
      },
      removedAction: 'remove',
    };
  });
  after(() => podman.destroy());
  parityTests('Podman', () => subject ?? assert.fail('no engine'));
});
