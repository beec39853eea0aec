/**
 * The EngineCache's inspect data when reads of one container answer out of order (a resync's read and
 * an event's, say): the cache keeps the answer of the read that started last, and a container forgotten
 * while a read of it was under way stays forgotten; data whose newest read failed is read again, not
 * evaluated. The fake engine answers with JSON captured from a
 * real one, computed when each call is made, and holds a call until the test lets it answer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { FakeEngine } from '../helpers/fake-engine.js';

function cacheOf(engine: FakeEngine): EngineCache {
  return new EngineCache(engine, new TopProcessSource(engine), 10_000);
}

test('an older read answering after a newer one: the caller gets its own answer, the cache keeps the newer', async () => {
  const engine = new FakeEngine();
  const cache = cacheOf(engine);
  const id = engine.id('app');
  const slow = engine.hold('inspect', id);
  const older = cache.container(id, true);
  await slow.arrived;
  // The container changed since the older read was answered (a root exec session began).
  engine.set('app', 'app.exec-root');
  const newer = await cache.container(id, true);
  assert.equal(newer?.ExecIDs?.length, 1);
  slow.release();
  assert.equal((await older)?.ExecIDs, null, 'the older read answers as the engine did then');
  assert.deepEqual(cache.cachedContainer(id)?.ExecIDs, newer.ExecIDs, 'what a scan evaluates next is the newer read');
  assert.deepEqual((await cache.container(id, false))?.ExecIDs, newer.ExecIDs);
});

test('a container forgotten (it stopped, or was removed) while a read of it is under way is not brought back by that read', async () => {
  const engine = new FakeEngine();
  const cache = cacheOf(engine);
  const id = engine.id('root');
  await cache.container(id, true);
  const slow = engine.hold('inspect', id);
  const reading = cache.container(id, true);
  await slow.arrived;
  cache.forgetContainer(id);
  slow.release();
  assert.equal((await reading)?.Id, id);
  assert.equal(cache.cachedContainer(id), undefined);
  assert.ok(!cache.knownContainers().some((known) => known.id === id), 'the next scan does not evaluate it');
  // A read that starts after the forget is cached again.
  await cache.container(id, true);
  assert.equal(cache.cachedContainer(id)?.Id, id);
});

test('a read that failed after a change leaves the cached data out of date: a scan fails on it at once, and the next read that succeeds replaces it', async () => {
  const engine = new FakeEngine();
  const cache = cacheOf(engine);
  const id = engine.id('app');
  await cache.container(id, true);
  // The container changed, and the event's read failed (dockerd blocks a paused container's inspect
  // while a health check's exec is frozen in it, for the check's timeout).
  engine.set('app', 'app.exec-root');
  engine.failNext('inspect', new Error('engine call inspect timed out after 10000 ms'), id);
  await assert.rejects(cache.container(id, true), /timed out/);
  assert.equal(cache.cachedContainer(id), undefined, 'no event is judged against data older than the change');
  assert.ok(
    cache.knownContainers().some((known) => known.id === id),
    'still known: its last verdict is kept',
  );
  const reads = engine.count('inspect');
  await assert.rejects(cache.container(id, false), /out of date: the last read failed \(engine call inspect timed out after 10000 ms\)/);
  assert.equal(engine.count('inspect'), reads, 'a scan neither evaluates the older data nor waits on the engine');
  const reread = await cache.container(id, true);
  assert.equal(reread?.ExecIDs?.length, 1);
  assert.deepEqual((await cache.container(id, false))?.ExecIDs, reread?.ExecIDs, 'data read again is trusted again');
  assert.equal(engine.count('inspect'), reads + 1);
});
