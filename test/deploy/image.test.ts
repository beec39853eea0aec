/**
 * The image as users run it: built from the repository's Dockerfile, started with the `docker run` of
 * docs/deployment.md (non-root, the socket's group, read-only, no capabilities, no new privileges,
 * port on loopback), scraped from the host through the published port.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
  DOCKER_HOST,
  RUN_ID,
  TEST_LABEL,
  docker,
  ensureTestImage,
  removeTestContainers,
  requireEngine,
  startContainer,
  uniqueName,
} from '../helpers/docker.js';
import { buildExporterImage, documentedRunArgs, imageSize } from '../helpers/exporter-image.js';
import { sampleValue } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { ensureNodeBaseImage } from '../helpers/node-image.js';
import { fetchText, freePort } from '../helpers/services.js';

const SOCKET = DOCKER_HOST.replace(/^unix:\/\//, '');
let image = '';
let socketGroup = '';

before(async () => {
  await requireEngine();
  await ensureTestImage();
  socketGroup = String((await stat(SOCKET)).gid);
  image = await buildExporterImage();
});
after(removeTestContainers);

interface Running {
  name: string;
  port: number;
  logs(): Promise<string>;
  metrics(): Promise<string>;
}

/** The documented `docker run`, with `serve` and `serveArgs` after the image. */
async function runExporter(
  options: { pidHost?: boolean; groupAdd?: boolean; runArgs?: string[]; serveArgs?: string[] } = {},
): Promise<Running> {
  const name = uniqueName('dm10-exporter');
  const port = await freePort();
  const args = documentedRunArgs({ name, label: `${TEST_LABEL}=${RUN_ID}`, port, socket: SOCKET, socketGroup, ...options });
  await docker([...args, image, 'serve', ...(options.serveArgs ?? ['--refresh', '30s'])]);
  return {
    name,
    port,
    logs: async () => {
      const { execFile } = await import('node:child_process');
      // The exporter logs to standard error; `docker logs` replays both streams.
      return new Promise((resolve) => execFile('docker', ['logs', name], (_error, stdout, stderr) => resolve(stdout + stderr)));
    },
    metrics: () => fetchText(`http://127.0.0.1:${port}/metrics`),
  };
}

test('the stand-in base image is made once and reused while its recipe is unchanged', async () => {
  const tag = await ensureNodeBaseImage(24);
  const id = await docker(['image', 'inspect', '--format', '{{.Id}}', tag]);
  assert.equal(await ensureNodeBaseImage(24), tag);
  assert.equal(await docker(['image', 'inspect', '--format', '{{.Id}}', tag]), id, 'not rebuilt');
  assert.match(tag, /^docker-monitor-test\/node:24-bookworm-slim-[0-9a-f]{12}$/);
});

test('the image: Node.js 24, no build tools or test packages, runs as node', async (t) => {
  assert.match(await docker(['run', '--rm', '--entrypoint', 'node', image, '--version']), /^v24\./);
  // The build stage has no .git: --build-arg REVISION (here "test") is the revision.
  assert.match(await docker(['run', '--rm', image, '--version']), /^docker-monitor, version \S+ \(branch: unknown, revision: test\)\n/);
  const config = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config}}', image])) as {
    User: string;
    Healthcheck: { Test: string[] };
  };
  assert.equal(config.User, 'node');
  assert.deepEqual(config.Healthcheck.Test, ['CMD', '/app/dist/cli.js', 'healthcheck']);
  const packages = (await docker(['run', '--rm', '--entrypoint', 'ls', image, '/app/node_modules', '/app/node_modules/.bin'])).split(/\s+/);
  for (const absent of ['typescript', 'tsx', 'esbuild', '@esbuild', '@tsconfig'])
    assert.ok(!packages.includes(absent), `${absent} is in the image`);
  const modulesKiB = Number(
    (await docker(['run', '--rm', '--entrypoint', 'du', image, '-sk', '--apparent-size', '/app/node_modules'])).split(/\s/)[0],
  );
  const size = await imageSize(image);
  t.diagnostic(`image ${(size / 1e6).toFixed(0)} MB, /app/node_modules ${(modulesKiB / 1024).toFixed(1)} MiB`);
  assert.ok(modulesKiB > 1024, 'node_modules holds the runtime packages');
});

test('docker run as documented: scraped on loopback, up 1, a root container FAILs within a second, healthy, its own container passes', async (t) => {
  const exporter = await runExporter();
  // The exporter's own container: a non-root user and no root process, under the default policy.
  const compliant = `docker_monitor_container_compliant{container="${exporter.name}"}`;
  const first = await eventually(
    () => exporter.metrics().catch(() => ''),
    (text) => sampleValue(text, 'docker_monitor_up') === 1 && sampleValue(text, compliant) !== undefined,
    // The first refresh evaluates every container on this shared engine, however many there are.
    120_000,
    `docker_monitor_up 1 and ${compliant}`,
  );
  assert.equal(
    sampleValue(first, compliant),
    1,
    first
      .split('\n')
      .filter((line) => line.includes(exporter.name))
      .join('\n'),
  );
  assert.equal(sampleValue(first, `docker_monitor_check_result{check="RootProcessCheck",container="${exporter.name}"}`), 1);
  assert.equal(sampleValue(first, `docker_monitor_root_processes{container="${exporter.name}"}`), 0);

  const root = await startContainer();
  const started = Date.now();
  await eventually(
    () => exporter.metrics(),
    (text) => sampleValue(text, `docker_monitor_check_result{check="RootProcessCheck",container="${root.name}"}`) === 0,
    1_000,
    `RootProcessCheck FAIL for ${root.name} within a second of its start`,
  );
  t.diagnostic(`root container FAIL on /metrics ${Date.now() - started} ms after docker run returned`);

  const logs = await exporter.logs();
  assert.match(logs, /reading container processes with the engine's top/, logs);
  assert.match(logs, /docker-monitor is serving .*"addresses":\["\[::\]:10091"\]/, logs);
  // The HEALTHCHECK (every 30 s) asks the container's own address, as Prometheus reaches it.
  const health = await eventually(
    () =>
      docker(['inspect', '--format', '{{json .State.Health}}', exporter.name]).then(
        (text) => JSON.parse(text) as { Status: string; Log: { Output: string }[] },
      ),
    (state) => state.Status !== 'starting',
    50_000,
    'the first health check',
  );
  assert.equal(health.Status, 'healthy', JSON.stringify(health));
  assert.match(health.Log[0]?.Output ?? '', /^http:\/\/\d+\.\d+\.\d+\.\d+:10091\/-\/healthy: healthy$/m);
});

test('with --pid=host the /proc path is used, and says so', async () => {
  const exporter = await runExporter({ pidHost: true });
  const root = await startContainer();
  const text = await eventually(
    () => exporter.metrics().catch(() => ''),
    (metrics) =>
      sampleValue(metrics, `docker_monitor_root_processes{container="${root.name}"}`) === 1 &&
      sampleValue(metrics, `docker_monitor_container_compliant{container="${exporter.name}"}`) !== undefined,
    120_000,
    `the root process of ${root.name}`,
  );
  assert.equal(
    sampleValue(text, `docker_monitor_container_compliant{container="${exporter.name}"}`),
    1,
    text
      .split('\n')
      .filter((line) => line.includes(exporter.name))
      .join('\n'),
  );
  assert.match(await exporter.logs(), /reading container processes from \/proc: it shows the host's PIDs/);
});

test('a socket the user cannot read: one clear error line at the default level', async () => {
  const exporter = await runExporter({ groupAdd: false });
  const logs = await eventually(
    () => exporter.logs(),
    (text) => /cannot reach the Docker engine/.test(text),
    20_000,
    'the error line',
  );
  assert.equal(sampleValue(await exporter.metrics(), 'docker_monitor_up'), 0);
  const lines = (await exporter.logs()).split('\n').filter((line) => line.includes('cannot reach the Docker engine'));
  assert.equal(lines.length, 1, logs);
  assert.match(
    lines[0] ?? '',
    /ERROR: cannot reach the Docker engine at unix:\/\/\/var\/run\/docker.sock: permission denied: .*--group-add \$\(stat -c %g \/var\/run\/docker.sock\)/,
  );
});

test('the health check fails when serve listens on loopback only, and passes with the same flags (--health-cmd)', async () => {
  const exporter = await runExporter({
    runArgs: ['--health-cmd', '/app/dist/cli.js healthcheck --web.listen-address 127.0.0.1:10091', '--health-interval', '2s'],
    serveArgs: ['--web.listen-address', '127.0.0.1:10091'],
  });
  await eventually(
    () => exporter.logs(),
    (text) => text.includes('docker-monitor is serving'),
    20_000,
    'serve to start',
  );
  const probe = async (args: string[]): Promise<{ code: number; output: string }> => {
    const { execFile } = await import('node:child_process');
    return new Promise((resolve) =>
      execFile('docker', ['exec', exporter.name, '/app/dist/cli.js', 'healthcheck', ...args], (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code), output: stdout + stderr }),
      ),
    );
  };
  const wrong = await probe([]);
  assert.equal(wrong.code, 1, wrong.output);
  assert.match(wrong.output, /^http:\/\/\d+\.\d+\.\d+\.\d+:10091\/-\/healthy: connect ECONNREFUSED/m);
  const same = await probe(['--web.listen-address', '127.0.0.1:10091']);
  assert.equal(same.code, 0, same.output);
  const status = () => docker(['inspect', '--format', '{{.State.Health.Status}}', exporter.name]);
  assert.equal(await eventually(status, (value) => value !== 'starting', 20_000, 'the --health-cmd check'), 'healthy');
});
