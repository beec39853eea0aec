import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { EngineCache } from '../../src/engine/engine-cache.js';
import { TopProcessSource } from '../../src/engine/process-source.js';
import { Evaluator } from '../../src/core/evaluator.js';
import type { VulnerabilityData } from '../../src/checks/trivy-scan-check.js';
import {
  DOCKER_HOST,
  TEST_IMAGE,
  docker,
  ensureTestImage,
  removeTestContainers,
  requireEngine,
  startContainer,
  type TestContainer,
} from '../helpers/docker.js';
import { TRIVY, TWISTCLI, invocations } from '../helpers/scanner-standins.js';
import { scaled } from '../helpers/time-scale.js';

const work = mkdtempSync(join(tmpdir(), 'dm-scan-'));
const log = join(work, 'invocations.log');
const containers: TestContainer[] = [];
let imageId = '';

before(async () => {
  await requireEngine();
  await ensureTestImage();
  imageId = await docker(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE]);
  process.env['STANDIN_LOG'] = log;
  // Slow scans, so that all ten containers ask while the first scan still runs.
  process.env['STANDIN_MODE'] = 'slow';
  for (let n = 0; n < 10; n += 1) containers.push(await startContainer(['--user', '1000']));
});
after(async () => {
  await removeTestContainers();
  rmSync(work, { recursive: true, force: true });
});

describe('scanner checks in a real refresh', () => {
  test('ten running containers of one image: twistcli and trivy each scan it once, across refreshes', async () => {
    const policy = await parsePolicy(
      `[docker_monitor.checks.TrivyScanCheck]\ntrivy_path = ${TRIVY}\n\n` +
        `[docker_monitor.checks.PrismaScanCheck]\ntwistcli_path = ${TWISTCLI}\nurl = https://console.example.com:8083\nuser = ci\npassword = secret\n`,
      'scanners.ini',
      BUILT_IN_CHECKS,
    );
    const engine = new DockerEngine({ host: DOCKER_HOST, concurrency: 8, timeoutMs: scaled(10_000) });
    const evaluator = new Evaluator(new EngineCache(engine, new TopProcessSource(engine), 10_000), {
      checks: policy.checks,
      alwaysAllow: [],
      failFast: false,
    });
    for (let refresh = 0; refresh < 2; refresh += 1) {
      const { containers: reports } = await evaluator.evaluateAll();
      const ours = reports.filter((report) => containers.some((container) => container.id === report.id));
      assert.equal(ours.length, 10);
      for (const report of ours) {
        assert.deepEqual(
          report.results.map(({ check, result }) => [check, result]),
          [
            ['TrivyScanCheck', 'fail'],
            ['PrismaScanCheck', 'pass'],
          ],
        );
        const trivy = report.results.find((result) => result.check === 'TrivyScanCheck');
        assert.equal((trivy?.data as VulnerabilityData | undefined)?.vulnerabilities.high, 3, 'the counts ride on the result');
      }
    }
    // Other containers on this engine are scanned too; count the runs on this image only.
    const runs = invocations(log).filter(({ line }) => line.endsWith(` ${imageId}`));
    assert.equal(runs.filter(({ line }) => line.includes(' trivy ')).length, 1);
    assert.equal(runs.filter(({ line }) => line.includes(' twistcli ')).length, 1);
  });
});
