/**
 * Many hosts on Docker Swarm, as docs/deployment.md shows it: two engines on this machine form one
 * swarm as two nodes (each in its own network and UTS namespace, with its own host name, socket and
 * data), examples/docker-stack.yml runs the built image as a global service with its port published
 * in host mode, and Debian's Prometheus finds both tasks with the docs' dockerswarm_sd_configs and
 * scrapes both. A root container on the second node raises DockerMonitorRootProcess with that node's
 * host name; draining the node removes its task and its target.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, docker, ensureTestImage, requireEngine } from '../helpers/docker.js';
import { REPOSITORY_ROOT, buildExporterImage } from '../helpers/exporter-image.js';
import { rulesWithShortFor } from '../helpers/monitoring-files.js';
import { Service, freePort, getJson, waitFor } from '../helpers/services.js';
import { NodeNetwork, SwarmNode } from '../helpers/swarm-node.js';

const ID = RUN_ID.slice(0, 6);
const BASE = `/tmp/dm10-swarm-${ID}`;
const network = new NodeNetwork(`dm10sw${ID}`, 100 + Math.floor(Math.random() * 150));
const nodes = [1, 2].map((index) => new SwarmNode(`dm10-${ID}-node${index}`, network, index, BASE));
const [manager, worker] = nodes as [SwarmNode, SwarmNode];
let prometheus: Service | undefined;
let prometheusUrl = '';

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

/** The scrape job exactly as docs/deployment.md shows it (its YAML block with dockerswarm_sd_configs). */
function documentedSwarmJob(): Record<string, unknown> {
  const docs = readFileSync(join(REPOSITORY_ROOT, 'docs/deployment.md'), 'utf8');
  const block = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .find((yaml) => yaml.includes('dockerswarm_sd_configs'));
  assert.ok(block !== undefined, 'docs/deployment.md has a dockerswarm_sd_configs example');
  const indent = /^( *)/.exec(block)?.[1]?.length ?? 0;
  const config = parse(
    block
      .split('\n')
      .map((line) => line.slice(indent))
      .join('\n'),
  ) as { scrape_configs: Record<string, unknown>[] };
  return config.scrape_configs[0] ?? {};
}

async function activeTargets(): Promise<Target[]> {
  return (await getJson<{ data: { activeTargets: Target[] } }>(`${prometheusUrl}/api/v1/targets?state=active`)).data.activeTargets;
}

before(async () => {
  await requireEngine();
  await ensureTestImage();
  const image = await buildExporterImage();
  await mkdir(BASE, { recursive: true });
  await network.create();
  await Promise.all(nodes.map((node) => node.start()));
  // No registry: every node gets the images as `docker save | docker load`.
  await docker(['save', '-o', `${BASE}/images.tar`, image, TEST_IMAGE]);
  await Promise.all(nodes.map((node) => node.docker(['load', '-q', '-i', `${BASE}/images.tar`])));

  await manager.docker(['swarm', 'init', '--advertise-addr', manager.address]);
  const token = await manager.docker(['swarm', 'join-token', '-q', 'worker']);
  await waitFor(
    'the second node to join',
    async () => {
      await worker.docker(['swarm', 'leave', '--force']).catch(() => undefined);
      await worker.docker(['swarm', 'join', '--advertise-addr', worker.address, '--token', token, `${manager.address}:2377`]);
      return true;
    },
    { timeoutMs: 90_000 },
  );

  const socketGroup = String((await stat(manager.socket)).gid);
  await docker(['stack', 'deploy', '-c', join(REPOSITORY_ROOT, 'examples/docker-stack.yml'), 'docker-monitor'], {
    ...process.env,
    DOCKER_HOST: manager.host,
    DOCKER_GID: socketGroup,
    DOCKER_MONITOR_IMAGE: image,
    DOCKER_SOCKET: `${BASE}/{{.Node.Hostname}}/docker.sock`,
  });

  const job = documentedSwarmJob();
  const [sd] = job['dockerswarm_sd_configs'] as Record<string, unknown>[];
  job['dockerswarm_sd_configs'] = [{ ...sd, host: manager.host, refresh_interval: '1s' }];
  await writeFile(`${BASE}/rules.yml`, rulesWithShortFor());
  await writeFile(
    `${BASE}/prometheus.yml`,
    stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: [`${BASE}/rules.yml`], scrape_configs: [job] }),
  );
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = new Service('prometheus', 'prometheus', [
    `--config.file=${BASE}/prometheus.yml`,
    `--storage.tsdb.path=${BASE}/tsdb`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
});

after(async () => {
  await prometheus?.stop();
  await Promise.all(nodes.map((node) => node.destroy()));
  await network.destroy();
  await rm(BASE, { recursive: true, force: true });
});

test('Prometheus discovers the global service on both nodes and scrapes both, named by host', async () => {
  const targets = await waitFor(
    "both nodes' targets up",
    async () => {
      const active = await activeTargets();
      return active.length === 2 && active.every((target) => target.health === 'up') ? active : undefined;
    },
    { timeoutMs: 120_000, services: prometheus === undefined ? [] : [prometheus] },
  );
  assert.deepEqual(
    targets.map((target) => target.labels['instance']).sort(),
    nodes.map((node) => node.hostname),
  );
  assert.deepEqual(
    targets.map((target) => target.scrapeUrl).sort(),
    nodes.map((node) => `http://${node.address}:10091/metrics`),
  );
  const spec = JSON.parse(
    await manager.docker(['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec}}', 'docker-monitor_docker-monitor']),
  ) as {
    User: string;
    ReadOnly: boolean;
    CapabilityDrop: string[];
    Init: boolean;
  };
  assert.deepEqual(
    [spec.User, spec.ReadOnly, spec.CapabilityDrop, spec.Init],
    [`1000:${(await stat(manager.socket)).gid}`, true, ['ALL'], true],
  );
});

test("a root container on the second node raises DockerMonitorRootProcess with that node's host name", async () => {
  const name = `dm10-root-${ID}`;
  await worker.docker(['run', '-d', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`, TEST_IMAGE, 'sleep', '3600']);
  const alert = await waitFor(
    'DockerMonitorRootProcess firing for the root container',
    async () => {
      const { data } = await getJson<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(
        `${prometheusUrl}/api/v1/alerts`,
      );
      return data.alerts.find(
        (candidate) =>
          candidate.labels['alertname'] === 'DockerMonitorRootProcess' &&
          candidate.labels['container'] === name &&
          candidate.state === 'firing',
      );
    },
    { timeoutMs: 90_000 },
  );
  assert.equal(alert.labels['instance'], worker.hostname);
});

test('draining the second node removes its task, and Prometheus drops its target', async () => {
  await manager.docker(['node', 'update', '--availability', 'drain', worker.hostname]);
  const remaining = await waitFor(
    "the drained node's target to go",
    async () => {
      const active = await activeTargets();
      return active.length === 1 ? active : undefined;
    },
    { timeoutMs: 60_000 },
  );
  assert.equal(remaining[0]?.labels['instance'], manager.hostname);
  assert.equal(remaining[0]?.health, 'up');
});
