/**
 * The gzip body of /metrics is one gzip member, the head compressed once and the tail per response:
 * readers that stop at the first member (curl --compressed, Python's zlib) see the whole body too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { compressHead, gzipBody } from '../../src/exporter/gzip-body.js';

const run = promisify(execFile);

const head = Buffer.from(
  Array.from({ length: 5000 }, (_, n) => `docker_monitor_check_result{check="RootProcessCheck",container="c${n}"} 1\n`).join(''),
);
const tail = Buffer.from('docker_monitor_up 1\n# EOF\n');

test('a head compressed once and two different tails: each body decompresses to head + tail', async () => {
  const compressed = await compressHead(head);
  for (const ending of [tail, Buffer.from('docker_monitor_up 0\n')]) {
    assert.deepEqual(gunzipSync(Buffer.concat(await gzipBody(compressed, ending))), Buffer.concat([head, ending]));
  }
  assert.ok(compressed.blocks.length * 10 < head.length, 'the head is compressed');
});

test('curl --compressed, which reads one gzip member only, gets the whole body', async () => {
  const body = Buffer.concat(await gzipBody(await compressHead(head), tail));
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
    response.end(body);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { stdout } = await run('curl', ['-s', '--compressed', `http://127.0.0.1:${(server.address() as AddressInfo).port}/`], {
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.equal(stdout, Buffer.concat([head, tail]).toString('utf8'));
  } finally {
    server.close();
  }
});
