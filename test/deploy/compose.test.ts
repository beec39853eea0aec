/**
 * examples/docker-compose.yml with Debian's docker-compose: the whole file validates, and its exporter
 * service builds from the repository and is scraped on loopback as in image.test.ts. Prometheus,
 * Alertmanager and Grafana images cannot be pulled here: those services are only validated.
 */
import assert from 'node:assert/strict';
import { stat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DOCKER_HOST, RUN_ID, TEST_LABEL, docker, requireEngine } from '../helpers/docker.js';
import { REPOSITORY_ROOT } from '../helpers/exporter-image.js';
import { sampleValue } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { runToEnd } from '../helpers/cli.js';
import { ensureNodeBaseImage } from '../helpers/node-image.js';
import { fetchText, freePort } from '../helpers/services.js';

const COMPOSE_FILE = join(REPOSITORY_ROOT, 'examples/docker-compose.yml');
const PROJECT = `dm10compose${RUN_ID}`;
let work = '';
let env: NodeJS.ProcessEnv = {};
let port = 0;

/** docker-compose with the documented file, plus (for `up`) an override that only adds the test label. */
async function compose(args: readonly string[], withLabel = false): Promise<string> {
  const files = ['-f', COMPOSE_FILE, ...(withLabel ? ['-f', join(work, 'label.yml')] : [])];
  const result = await runToEnd('docker-compose', ['-p', PROJECT, ...files, ...args], { env, timeoutMs: 5 * 60_000 });
  assert.equal(result.code, 0, `docker-compose ${args.join(' ')}: ${result.stdout}${result.stderr}`);
  return result.stdout;
}

before(async () => {
  await requireEngine();
  work = await mkdtemp(join(tmpdir(), 'dm10-compose-'));
  await writeFile(join(work, 'label.yml'), `services:\n  docker-monitor:\n    labels:\n      ${TEST_LABEL}: "${RUN_ID}"\n`);
  port = await freePort();
  env = {
    ...process.env,
    DOCKER_GID: String((await stat(DOCKER_HOST.replace(/^unix:\/\//, ''))).gid),
    NODE_IMAGE: await ensureNodeBaseImage(24),
    DOCKER_MONITOR_PORT: String(port),
  };
});
after(async () => {
  if (work === '') return;
  await compose(['down', '--volumes', '--timeout', '5'], true).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

test('docker-compose config accepts the file; without DOCKER_GID it says what to set', async () => {
  assert.deepEqual((await compose(['config', '--services'])).trim().split('\n').sort(), [
    'alertmanager',
    'docker-monitor',
    'grafana',
    'prometheus',
  ]);
  const { DOCKER_GID: _omitted, ...withoutGid } = env;
  const missing = await runToEnd('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q'], { env: withoutGid });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /set DOCKER_GID to the group of the socket: stat -c %g \/var\/run\/docker.sock/);
});

test('its docker-monitor service builds, starts read-only and unprivileged, and is scraped on loopback', async () => {
  await compose(['up', '-d', '--build', 'docker-monitor'], true);
  const id = (await compose(['ps', '-q', 'docker-monitor'])).trim();
  const host = JSON.parse(await docker(['inspect', '--format', '{{json .HostConfig}}', id])) as {
    ReadonlyRootfs: boolean;
    CapDrop: string[];
    SecurityOpt: string[];
    GroupAdd: string[];
  };
  assert.equal(host.ReadonlyRootfs, true);
  assert.deepEqual(host.CapDrop, ['ALL']);
  assert.deepEqual(host.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual(host.GroupAdd, [env['DOCKER_GID']]);
  const name = (await docker(['inspect', '--format', '{{.Name}}', id])).replace(/^\//, '');
  const compliant = `docker_monitor_container_compliant{container="${name}"}`;
  const metrics = await eventually(
    () => fetchText(`http://127.0.0.1:${port}/metrics`).catch(() => ''),
    (text) => sampleValue(text, 'docker_monitor_up') === 1 && sampleValue(text, compliant) !== undefined,
    // The first refresh evaluates every container on this shared engine, however many there are.
    120_000,
    `docker_monitor_up 1 and ${compliant}`,
  );
  assert.equal(
    sampleValue(metrics, compliant),
    1,
    metrics
      .split('\n')
      .filter((line) => line.includes(name))
      .join('\n'),
  );
});
