import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { ensureTestImage, removeTestContainers, requireEngine, startContainer } from '../helpers/docker.js';
import { eventually } from '../helpers/exporter.js';
import { freePort } from '../helpers/services.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

interface Served {
  child: ChildProcess;
  port: number;
  output: () => string;
  exit: Promise<number | null>;
}

async function serve(args: string[]): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, ...args, '--web.listen-address', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
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

test('plain docker-monitor serves; SIGTERM finishes the scrape in flight, then exits 0', async () => {
  await startContainer();
  const slowPolicy = new URL('../fixtures/checks/slow.ini', import.meta.url).pathname;
  const served = await serve(['-f', slowPolicy]);
  const scrape = fetch(`http://127.0.0.1:${served.port}/metrics`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  served.child.kill('SIGTERM');
  const response = await scrape;
  assert.equal(response.status, 200);
  assert.match(await response.text(), /docker_monitor_check_result\{check="SlowCheck",container="[^"]+"\} 1/);
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
