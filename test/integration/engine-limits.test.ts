import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { ensureTestImage, removeTestContainers, requireEngine, startContainer, type TestContainer } from '../helpers/docker.js';
import { scaled } from '../helpers/time-scale.js';

/**
 * A unix-socket proxy in front of the real engine that counts connections open at once (the engine
 * client opens one per call) and can hold responses back, to prove the limit and the timeout.
 */
class CountingProxy {
  readonly socketPath: string;
  open = 0;
  maxOpen = 0;
  delayMs = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(dir: string) {
    this.socketPath = join(dir, 'proxy.sock');
    this.server = createServer((client) => {
      this.open += 1;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      this.sockets.add(client);
      const upstream = connect('/var/run/docker.sock');
      this.sockets.add(upstream);
      client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), this.delayMs));
      upstream.pipe(client);
      const close = (): void => {
        if (!this.sockets.delete(client)) return;
        this.open -= 1;
        upstream.destroy();
        client.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let dir: string;
let proxy: CountingProxy;
let containers: TestContainer[];

before(async () => {
  await requireEngine();
  await ensureTestImage();
  dir = await mkdtemp(join(tmpdir(), 'dm-proxy-'));
  proxy = new CountingProxy(dir);
  await proxy.listen();
  containers = await Promise.all(Array.from({ length: 8 }, () => startContainer()));
});

after(async () => {
  await proxy.close();
  await rm(dir, { recursive: true, force: true });
  await removeTestContainers();
});

test('no more engine calls in flight than the concurrency limit', async () => {
  const engine = new DockerEngine({ host: `unix://${proxy.socketPath}`, concurrency: 3, timeoutMs: scaled(10_000) });
  proxy.maxOpen = 0;
  proxy.delayMs = 50;
  const tables = await Promise.all(containers.flatMap((container) => [engine.top(container.id), engine.inspectContainer(container.id)]));
  assert.equal(tables.length, 16);
  assert.ok(proxy.maxOpen <= 3, `at most 3 connections at once, saw ${proxy.maxOpen}`);
  assert.ok(proxy.maxOpen >= 2, `calls did run concurrently (saw ${proxy.maxOpen})`);
  assert.equal(engine.callCounts()['top'], 8);
});

test('an engine call that takes too long fails with a timeout, and the next call still works', async () => {
  const engine = new DockerEngine({ host: `unix://${proxy.socketPath}`, concurrency: 2, timeoutMs: 200 });
  const [first] = containers;
  assert.ok(first !== undefined);
  proxy.delayMs = 1_000;
  await assert.rejects(engine.top(first.id), /engine call top timed out after 200 ms/);
  proxy.delayMs = 0;
  const table = await engine.top(first.id);
  assert.deepEqual(table.Titles, ['PID', 'UID', 'USER', 'COMMAND']);
});
