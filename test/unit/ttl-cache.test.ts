import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TtlCache } from '../../src/engine/ttl-cache.js';

test('concurrent callers share one load; it expires after the TTL', async () => {
  let now = 0;
  let loads = 0;
  const cache = new TtlCache<string, number>(1000, () => now);
  const load = async (): Promise<number> => ++loads;
  assert.deepEqual(await Promise.all([cache.get('a', load), cache.get('a', load)]), [1, 1]);
  now = 999;
  assert.equal(await cache.get('a', load), 1);
  now = 1000;
  assert.equal(await cache.get('a', load), 2);
});

test('a failed load is not cached', async () => {
  const cache = new TtlCache<string, number>(60_000);
  await assert.rejects(cache.get('a', () => Promise.reject(new Error('engine down'))), /engine down/);
  assert.equal(await cache.get('a', async () => 7), 7);
});

test('retain keeps only the keys still in use', async () => {
  const cache = new TtlCache<string, number>(60_000);
  await cache.get('a', async () => 1);
  await cache.get('b', async () => 2);
  cache.retain(new Set(['b']));
  assert.equal(cache.size, 1);
  assert.equal(await cache.get('a', async () => 3), 3);
});
