import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTestImage, removeTestContainers, requireEngine, startContainer } from '../helpers/docker.js';
import { eventually } from '../helpers/wait.js';
import { freePort } from '../helpers/services.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

interface Served {
  child: ChildProcess;
  port: number;
  output: () => string;
  exit: Promise<number | null>;
}

async function serve(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, ...args, '--web.listen-address', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${port}/-/healthy`)
        .then((response) => response.status)
        .catch(() => 0),
    (status) => status === 200,
    20_000,
    `docker-monitor serve on port ${port} (output so far: ${output})`,
  );
  return { child, port, output: () => output, exit };
}

before(async () => {
  await requireEngine();
  await ensureTestImage();
});
after(removeTestContainers);

/** Whether the server's end of the loopback connection from `clientPort` has read everything sent to it. */
function serverHasRead(serverPort: number, clientPort: number): boolean {
  const hexPort = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, remote, , queues] = line.trim().split(/\s+/);
    if (local?.endsWith(`:${hexPort(serverPort)}`) && remote?.endsWith(`:${hexPort(clientPort)}`)) {
      return Number.parseInt(queues?.split(':')[1] ?? '1', 16) === 0;
    }
  }
  return false;
}

/** A GET whose request has been read by the server when the promise resolves (so it is in flight there). */
async function requestReadByServer(
  port: number,
  path: string,
): Promise<{ response: Promise<{ status: number; body: string }>; done: () => boolean }> {
  let finished = false;
  let socketPort = 0;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path, agent: false }, (answer) => {
      let body = '';
      answer.on('data', (chunk: Buffer) => (body += chunk.toString()));
      answer.on('end', () => {
        finished = true;
        resolve({ status: answer.statusCode ?? 0, body });
      });
      answer.on('error', reject);
    });
    request.on('socket', (socket) => socket.on('connect', () => (socketPort = socket.localPort ?? 0)));
    request.on('error', reject);
  });
  // A request the server has not read yet is on an idle connection, which closing the server resets.
  await eventually(async () => socketPort !== 0 && serverHasRead(port, socketPort), Boolean, 10_000, `the server to read ${path}`);
  return { response, done: () => finished };
}

test('plain docker-monitor serves; SIGTERM finishes the scrape in flight, then exits 0', async () => {
  await startContainer();
  const slowPolicy = new URL('../fixtures/checks/slow.ini', import.meta.url).pathname;
  const marker = join(mkdtempSync(join(tmpdir(), 'dm-slow-')), 'started');
  const served = await serve(['-f', slowPolicy], { ...process.env, DM_SLOW_MARKER: marker });
  // The event stream's first resync runs the slow check; a scrape arriving meanwhile waits for it.
  await eventually(async () => existsSync(marker), Boolean, 10_000, 'the slow check to start');
  rmSync(dirname(marker), { recursive: true, force: true });
  const scrape = await requestReadByServer(served.port, '/metrics');
  assert.equal(scrape.done(), false, 'the scrape is still waiting for the slow check');
  served.child.kill('SIGTERM');
  const response = await scrape.response;
  assert.equal(response.status, 200);
  assert.match(response.body, /docker_monitor_check_result\{check="SlowCheck",container="[^"]+"\} 1/);
  assert.equal(await served.exit, 0, served.output());
  assert.match(served.output(), /shutting down/);
});

test('a check that leaks a rejected promise does not bring the exporter down', async () => {
  await startContainer();
  const leaky = new URL('../fixtures/checks/leaky.ini', import.meta.url).pathname;
  const served = await serve(['-f', leaky, '--log.format', 'json']);
  try {
    for (let scrape = 0; scrape < 3; scrape += 1) {
      const response = await fetch(`http://127.0.0.1:${served.port}/metrics`);
      assert.equal(response.status, 200);
      // The rejection surfaces in the check's worker thread: runs in flight there when it does are errors (0).
      assert.match(await response.text(), /docker_monitor_check_result\{check="LeakyCheck",container="[^"]+"\} [01]/);
    }
  } finally {
    served.child.kill('SIGTERM');
  }
  assert.equal(await served.exit, 0);
});

test("--check 1s (cnitch's flag) refreshes in the background; SIGINT exits 0", async () => {
  const served = await serve(['serve', '--check', '1s', '--log.format', 'json']);
  const metrics = await (await fetch(`http://127.0.0.1:${served.port}/metrics`)).text();
  assert.match(metrics, /Cached: evaluated every 1s/);
  served.child.kill('SIGINT');
  assert.equal(await served.exit, 0);
  for (const line of served.output().trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
});

test('bad serve flags exit 2 with one line naming the flag', async () => {
  for (const [args, message] of [
    [['serve', '--refresh', 'often'], /^docker-monitor: --refresh: "often" is not a duration/],
    [['serve', '--refresh', '1s', '--check', '2s'], /^docker-monitor: --refresh and --check mean the same thing/],
    [['serve', '--web.listen-address', 'nowhere'], /^docker-monitor: --web.listen-address: "nowhere" is not host:port/],
    [
      ['serve', '--web.config.file', '/nonexistent/web.yml'],
      /^docker-monitor: \/nonexistent\/web.yml: cannot read the web config file: no such file/,
    ],
    [['serve', '--bogus'], /^docker-monitor: unknown option '--bogus'/],
  ] as const) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, `one line, no stack: ${stderr}`);
  }
});

test('a port already in use is a clear error', async () => {
  const served = await serve([]);
  const child = spawn(process.execPath, [CLI, '--web.listen-address', `127.0.0.1:${served.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  served.child.kill('SIGTERM');
  await served.exit;
  assert.equal(code, 2);
  assert.match(stderr, /--web.listen-address: cannot listen on 127.0.0.1:\d+: .*EADDRINUSE/);
});
