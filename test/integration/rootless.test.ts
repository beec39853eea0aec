/**
 * Rootless Podman: a test user with subordinate IDs (only inside a private mount namespace, see
 * test/helpers/podman-engine.ts), its API socket under its XDG_RUNTIME_DIR, read by this root process.
 * Container root is the user's own UID on the host: not host root (cnitch's question), still container
 * root (CIS 4.1's), and both show.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { RUN_ID } from '../helpers/docker.js';
import { eventually, sampleValue, startExporter } from '../helpers/exporter.js';
import { PodmanEngine } from '../helpers/podman-engine.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const USER = { name: 'dm11rootless', uid: 21111, subordinateStart: 3_110_000 };
const podman = new PodmanEngine('11rootless', USER);
const rootName = `rootless-root-${RUN_ID}`;
const userName = `rootless-user-${RUN_ID}`;

interface Verdicts {
  containers: { name: string; results: { check: string; result: string; reason: string | null }[] }[];
}

before(async () => {
  await podman.start();
  await podman.importTestImage();
  await podman.run(rootName, []);
  await podman.run(userName, ['--user', '1000']);
});

after(async () => {
  await podman.destroy();
});

describe('rootless Podman', () => {
  test('the engine is rootless: container root is the user\'s UID on the host', async () => {
    assert.equal(await podman.podman(['info', '--format', '{{.Host.Security.Rootless}}']), 'true');
    const pid = await podman.podman(['inspect', '--format', '{{.State.Pid}}', rootName]);
    const { stdout } = await run('sh', ['-c', `grep '^Uid:' /proc/${pid}/status`]);
    assert.match(stdout, new RegExp(`^Uid:\\t${USER.uid}\\t`));
  });

  test('check: RunningAsRootCheck fails (container root), RootProcessCheck passes and says why (not host root)', async () => {
    const outcome = await run(process.execPath, [join(ROOT, 'dist/cli.js'), 'check', '--format', 'json', '--docker.host', podman.host]).then(
      () => assert.fail('exit 0, yet the root container fails RunningAsRootCheck'),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.equal(outcome.code, 1, outcome.stderr);
    // Rootless Podman on cgroup v1 makes no cgroup per container: /proc cannot tell them apart, top can.
    assert.match(outcome.stderr, /reading container processes with the engine's top/);
    const verdicts = JSON.parse(outcome.stdout) as Verdicts;
    const results = (name: string) => Object.fromEntries((verdicts.containers.find((container) => container.name === name)?.results ?? []).map((result) => [result.check, result]));
    assert.equal(results(rootName)['RunningAsRootCheck']?.result, 'fail');
    assert.equal(results(rootName)['RootProcessCheck']?.result, 'pass');
    assert.match(
      results(rootName)['RootProcessCheck']?.reason ?? '',
      new RegExp(`^no process runs as root on the host; 1 runs as root inside the container's user namespace: pid \\d+ \\(sleep 3600\\) as host UID ${USER.uid}$`),
    );
    assert.equal(results(userName)['RunningAsRootCheck']?.result, 'pass');
    assert.deepEqual(results(userName)['RootProcessCheck'], { check: 'RootProcessCheck', result: 'pass', reason: null });
  });

  test('serve: docker_monitor_root_processes 0 and docker_monitor_container_root_processes 1 for the root container', async () => {
    const exporter = await startExporter({ 'docker.host': podman.host, refresh: '1h' });
    try {
      const body = await eventually(() => exporter.scrape(), (text) => sampleValue(text, 'docker_monitor_up') === 1, 30_000, 'docker_monitor_up 1');
      assert.equal(sampleValue(body, `docker_monitor_root_processes{container="${rootName}"}`), 0);
      assert.equal(sampleValue(body, `docker_monitor_container_root_processes{container="${rootName}"}`), 1);
      assert.equal(sampleValue(body, `docker_monitor_container_root_processes{container="${userName}"}`), 0);
    } finally {
      await exporter.close();
    }
  });
});
