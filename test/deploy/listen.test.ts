/**
 * Listening as exporters do, on real sockets: `:port` is every interface (dual-stack where the host
 * has IPv6), `--web.listen-address` repeats, a bad or busy address is one line and exit 2, and
 * `docker-monitor healthcheck` asks every address serve listens on.
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, test } from 'node:test';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListenAddress } from '../../src/config/listen-address.js';
import { probeHosts } from '../../src/commands/healthcheck.js';
import { CLI, runToEnd, startServe } from '../helpers/cli.js';
import type { Service } from '../helpers/services.js';
import { freePort } from '../helpers/services.js';
import { scaled } from '../helpers/time-scale.js';

const HAS_IPV6_LOOPBACK = (networkInterfaces()['lo'] ?? []).some((entry) => entry.address === '::1');
const running: Service[] = [];
after(() => Promise.all(running.map((service) => service.stop())));

async function serve(args: readonly string[]): Promise<string[]> {
  const started = await startServe([process.execPath, CLI], args);
  running.push(started.service);
  return started.addresses;
}

async function status(url: string): Promise<number | string> {
  return fetch(url, { signal: AbortSignal.timeout(scaled(5_000)) }).then(
    (response) => response.status,
    (error: Error) => String((error.cause as Error | undefined)?.message ?? error.message),
  );
}

test(':port serves every interface: IPv4 and IPv6 loopback both answer', async () => {
  const port = await freePort();
  const addresses = await serve(['--web.listen-address', `:${port}`]);
  assert.deepEqual(addresses, [HAS_IPV6_LOOPBACK ? `[::]:${port}` : `0.0.0.0:${port}`]);
  assert.equal(await status(`http://127.0.0.1:${port}/-/healthy`), 200);
  if (HAS_IPV6_LOOPBACK) assert.equal(await status(`http://[::1]:${port}/metrics`), 200);
});

test('--web.listen-address repeats: every address is served, and only those', async () => {
  const [v4, v6] = [await freePort(), await freePort()];
  const second = HAS_IPV6_LOOPBACK ? `[::1]:${v6}` : `127.0.0.2:${v6}`;
  const addresses = await serve(['--web.listen-address', `127.0.0.1:${v4}`, '--web.listen-address', second]);
  assert.deepEqual(addresses, [`127.0.0.1:${v4}`, second]);
  const metrics = await fetch(`http://127.0.0.1:${v4}/metrics`).then((response) => response.text());
  assert.match(metrics, /^docker_monitor_up 1$/m);
  const secondUrl = HAS_IPV6_LOOPBACK ? `http://[::1]:${v6}` : `http://127.0.0.2:${v6}`;
  assert.equal(await status(`${secondUrl}/metrics`), 200);
  // Each address alone: the first port is not open on the second address.
  assert.match(String(await status(HAS_IPV6_LOOPBACK ? `http://[::1]:${v4}/` : `http://127.0.0.2:${v4}/`)), /ECONNREFUSED/);

  const health = await runToEnd(process.execPath, [
    CLI,
    'healthcheck',
    '--web.listen-address',
    `127.0.0.1:${v4}`,
    '--web.listen-address',
    second,
  ]);
  assert.equal(health.code, 0, health.stdout + health.stderr);
  assert.equal(health.stdout, `http://127.0.0.1:${v4}/-/healthy: healthy\n${secondUrl}/-/healthy: healthy\n`);
});

test('a busy second address closes the first and exits 2 with one line naming the flag', async () => {
  const [free, busyPort] = [await freePort(), await freePort()];
  await serve(['--web.listen-address', `127.0.0.1:${busyPort}`]);
  const result = await runToEnd(process.execPath, [
    CLI,
    'serve',
    '--web.listen-address',
    `127.0.0.1:${free}`,
    '--web.listen-address',
    `127.0.0.1:${busyPort}`,
  ]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`^docker-monitor: --web.listen-address: cannot listen on 127.0.0.1:${busyPort}: .*EADDRINUSE`, 'm'),
  );
  assert.equal(
    result.stderr
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('docker-monitor:')).length,
    1,
    result.stderr,
  );
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.match(String(await status(`http://127.0.0.1:${free}/`)), /ECONNREFUSED/);
});

test('a bad address, on the command line or in the file, is one line and exit 2', async () => {
  const flag = await runToEnd(process.execPath, [CLI, 'serve', '--web.listen-address', ':10091', '--web.listen-address', '10.0.0.1']);
  assert.equal(flag.code, 2);
  assert.equal(
    flag.stderr,
    'docker-monitor: --web.listen-address: "10.0.0.1" is not host:port (e.g. :10091, 127.0.0.1:10091, [::1]:10091)\n',
  );
  const folder = await mkdtemp(join(tmpdir(), 'dm10-listen-'));
  try {
    const policy = join(folder, 'policy.ini');
    await writeFile(policy, '[exporter]\nlisten_address = :10091, nowhere\n');
    const file = await runToEnd(process.execPath, [CLI, 'serve', '-f', policy]);
    assert.equal(file.code, 2);
    assert.equal(
      file.stderr,
      `docker-monitor: ${policy}:2 [exporter] listen_address: "nowhere" is not host:port (e.g. :10091, 127.0.0.1:10091, [::1]:10091)\n`,
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('healthcheck fails, naming the address, when nothing answers there', async () => {
  const port = await freePort();
  const result = await runToEnd(process.execPath, [CLI, 'healthcheck', '--web.listen-address', `127.0.0.1:${port}`]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, `http://127.0.0.1:${port}/-/healthy: connect ECONNREFUSED 127.0.0.1:${port}\n`);
});

test('healthcheck probes every non-loopback address for :port, and loopback only without one', () => {
  const interfaces = {
    lo: [
      { address: '127.0.0.1', family: 'IPv4', internal: true },
      { address: '::1', family: 'IPv6', internal: true },
    ],
    eth0: [
      { address: '172.17.0.2', family: 'IPv4', internal: false },
      { address: 'fd00::2', family: 'IPv6', internal: false },
      { address: 'fe80::1', family: 'IPv6', internal: false },
    ],
  } as unknown as ReturnType<typeof networkInterfaces>;
  assert.deepEqual(probeHosts(parseListenAddress(':10091'), interfaces), ['172.17.0.2', 'fd00::2']);
  assert.deepEqual(probeHosts(parseListenAddress('[::]:10091'), interfaces), ['172.17.0.2', 'fd00::2']);
  assert.deepEqual(probeHosts(parseListenAddress('0.0.0.0:10091'), interfaces), ['172.17.0.2']);
  assert.deepEqual(probeHosts(parseListenAddress('127.0.0.1:10091'), interfaces), ['127.0.0.1']);
  assert.deepEqual(probeHosts(parseListenAddress(':10091'), { lo: interfaces['lo'] ?? [] }), ['127.0.0.1']);
});
