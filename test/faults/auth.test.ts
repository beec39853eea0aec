/**
 * Basic auth under attack: only the two probes answer without credentials, whatever the path, method or
 * headers; wrong passwords are limited per address before bcrypt, counted and logged without the
 * password, and never starve scrapes with the right ones.
 */
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { eventually, observe } from '../helpers/wait.js';
import { FaultRecord } from './fault-record.js';
import { FaultyEngine } from './faulty-engine.js';
import { Served, sample } from './served.js';
import { scaled } from '../helpers/time-scale.js';

const PASSWORD = 'right-horse-battery';
const WRONG = 'wrong-password-never-logged';
const record = new FaultRecord('auth');
let fake: FaultyEngine;
let dir: string;
let served: Served;
const good = `Basic ${Buffer.from(`prometheus:${PASSWORD}`).toString('base64')}`;

before(async () => {
  fake = await FaultyEngine.start();
  dir = await mkdtemp(join(tmpdir(), 'dm-auth-'));
  await writeFile(join(dir, 'web.yml'), `basic_auth_users:\n  prometheus: ${await bcrypt.hash(PASSWORD, 10)}\n`);
  served = await Served.start(['--docker.host', fake.host, '--web.config.file', join(dir, 'web.yml'), '--refresh', '30s']);
});
after(async () => {
  record.write();
  if (served !== undefined) assert.equal(await served.stop(), 0);
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw request (no URL normalisation by the client), answered status and body. */
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: served.port, method, path, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes `text` on a plain TCP connection and returns whatever comes back before the server closes it. */
function rawSocket(text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(served.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.end(text);
  });
}

const PROBES = ['/-/healthy', '/-/ready'];
const VARIANTS = [
  '/metrics',
  '/metrics/',
  '//metrics',
  '/METRICS',
  '/%6detrics',
  '/%2fmetrics',
  '/./metrics',
  '/-/healthy/../../metrics',
  '/-/healthy/..%2F..%2Fmetrics',
  '/-/healthy%2F..%2Fmetrics',
  '/-/ready/../metrics',
  '/-/healthy/',
  '/-/ready/',
  '/-/healthy?x=1',
  '/-/ready#x',
  '/-/%68ealthy',
  '/-/./healthy',
  '/-//healthy',
  '/-/HEALTHY',
  '/',
  '/?verdict=fail',
  '/containers/x',
  '/containers/%2e%2e',
  '/metrics;x',
  '/metrics%00',
  '/-/healthy%00',
  '/metrics?x=/-/healthy',
  '/favicon.ico',
];

test('with basic auth, nothing but the two probes answers without credentials', async () => {
  let tried = 0;
  for (const probe of PROBES) {
    // Ready once the first refresh is done: answered without credentials before (503) and after (200).
    await eventually(
      () => raw('GET', probe),
      (response) => response.status === 200,
    );
    tried += 1;
  }
  for (const path of VARIANTS) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      // A request the server refuses to parse is closed without an answer: that reveals nothing either.
      const response = await raw(method, path).catch((error: unknown) => ({ status: 400, body: String(error) }));
      tried += 1;
      assert.ok(
        [400, 401, 404].includes(response.status) && !response.body.includes('docker_monitor_'),
        `${method} ${path} answered ${response.status} without credentials`,
      );
      if (response.status !== 401)
        assert.ok(response.status !== 404 || PROBES.some((probe) => path.startsWith(probe)), `${method} ${path}: ${response.status}`);
    }
  }
  // Node answers 431 and closes; the client may see the close before the answer. Either way, no metrics.
  const oversized = await rawSocket(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
  assert.match(oversized, /^(HTTP\/1\.1 431 |$)/);
  assert.ok(!oversized.includes('docker_monitor_'));
  const wrongScheme = await raw('GET', '/metrics', { authorization: `Bearer ${PASSWORD}` });
  assert.equal(wrongScheme.status, 401);
  const emptyUser = await raw('GET', '/metrics', { authorization: `Basic ${Buffer.from(`:${PASSWORD}`).toString('base64')}` });
  assert.equal(emptyUser.status, 401);
  record.add({
    fault: 'requests without credentials: path variants, encodings, traversal, every method, oversized headers',
    outcome:
      'only GET /-/healthy and /-/ready answer; everything else 401 (404 for other methods on the probes, 431 for oversized headers)',
    figures: `${tried + 3} requests`,
  });
});

test('rate_limit (exporter-toolkit) answers 429 beyond its burst, never to the probes', async () => {
  await writeFile(join(dir, 'limited.yml'), 'rate_limit:\n  interval: 10s\n  burst: 2\n');
  const limited = await Served.start(['--docker.host', fake.host, '--web.config.file', join(dir, 'limited.yml'), '--refresh', '30s']);
  try {
    const statuses: number[] = [];
    for (let index = 0; index < 4; index += 1) statuses.push((await limited.get('/metrics')).status);
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    assert.equal((await limited.get('/-/healthy')).status, 200);
    assert.equal((await limited.get('/-/ready')).status, 200);
    record.add({
      fault: 'requests beyond web config rate_limit (interval 10s, burst 2)',
      outcome: '429 with Retry-After beyond the burst; the probes are not limited',
      figures: `statuses ${statuses.join(', ')}`,
    });
  } finally {
    assert.equal(await limited.stop(), 0);
  }
});

test('64 clients with wrong passwords: limited before bcrypt, counted, logged without the password; authorised scrapes stay fast', async () => {
  assert.equal((await served.get('/metrics', { authorization: good })).status, 200);
  const bad = `Basic ${Buffer.from(`prometheus:${WRONG}`).toString('base64')}`;
  let running = true;
  const statuses = new Map<number, number>();
  const attackers = Array.from({ length: 64 }, async () => {
    // Bounded: at most 200 attempts per client, and 5 s in all.
    for (let attempt = 0; running && attempt < 200; attempt += 1) {
      const response = await raw('GET', '/metrics', { authorization: bad }).catch(() => ({ status: 0, body: '' }));
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  });
  const latencies: number[] = [];
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    const response = await served.get('/metrics', { authorization: good });
    assert.equal(response.status, 200);
    latencies.push(response.ms);
    await observe(100);
  }
  running = false;
  await Promise.all(attackers);
  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)] ?? 0;
  assert.ok(median < scaled(1_000), `authorised scrapes took ${Math.round(median)} ms (median) during the attack`);
  const metrics = (await served.get('/metrics', { authorization: good })).body;
  const wrong = sample(metrics, 'docker_monitor_web_failed_logins_total{reason="wrong"}') ?? 0;
  const limited = sample(metrics, 'docker_monitor_web_failed_logins_total{reason="rate_limited"}') ?? 0;
  assert.ok(wrong >= 1 && limited >= 1, `wrong ${wrong}, rate_limited ${limited}`);
  assert.ok((statuses.get(429) ?? 0) > 0);
  assert.match(served.output, /failed login: wrong user name or password.*"user":"prometheus"/);
  assert.ok(!served.output.includes(WRONG) && !served.output.includes(PASSWORD), 'a password reached the log');
  assert.ok(!metrics.includes(WRONG) && !metrics.includes(PASSWORD), 'a password reached the metrics');
  const logged = served.output.split('\n').filter((line) => line.includes('failed login')).length;
  record.add({
    fault: '64 clients sending wrong basic-auth passwords for 5 s',
    outcome:
      'each address may fail 5 times, then once a second (HTTP 429 without a bcrypt comparison); counted in docker_monitor_web_failed_logins_total; logged without the password',
    figures: `authorised scrape median ${Math.round(median)} ms; ${wrong} compared and refused, ${limited} refused by the limit; ${logged} log lines`,
  });
});
