/**
 * `check --compose` in every format, as a CI job runs it: no engine reachable (values only the images
 * hold are unknown), findings located at the line and column of the key each check reads.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Log } from 'sarif';
import { CLI, runToEnd } from '../helpers/cli.js';
import { assertValidCheckJson, assertValidSarif, parseJunit } from '../helpers/output-schemas.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = 'test/fixtures/compose/sarif/compose.yaml';
const POLICY = 'test/fixtures/compose/sarif/policy.ini';
// No engine answers here: what only the images hold is not applicable.
const NO_ENGINE = ['--docker.host', 'unix:///nonexistent/docker.sock'];

function check(...args: string[]) {
  return runToEnd(process.execPath, [CLI, 'check', '-f', POLICY, '--compose', SAMPLE, ...NO_ENGINE, ...args], {
    env: { ...process.env, COMPOSE_PROJECT_NAME: '' },
  });
}

const work = await mkdtemp(join(tmpdir(), 'dm-compose-formats-'));
after(() => rm(work, { recursive: true, force: true }));
process.chdir(ROOT);

describe('check --compose', () => {
  test('SARIF: valid 2.1.0, each finding at the line of its key (or of its service), not applicable at level none', async () => {
    const outcome = await check('--format', 'sarif');
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.equal(outcome.stderr, '', 'quiet on stderr');
    const log = JSON.parse(outcome.stdout) as Log;
    assertValidSarif(log);
    const found = (log.runs[0]?.results ?? []).map((result) => {
      const location = result.locations?.[0];
      return [
        location?.logicalLocations?.[0]?.name,
        result.ruleId,
        result.level,
        location?.physicalLocation?.artifactLocation?.uri,
        location?.physicalLocation?.region?.startLine,
        location?.physicalLocation?.region?.startColumn,
        result.suppressions === undefined ? '' : 'suppressed',
      ];
    });
    assert.deepEqual(found, [
      ['api', 'RunningAsRootCheck', 'error', SAMPLE, 5, 5, ''],
      ['api', 'RootProcessCheck', 'none', SAMPLE, 2, 3, ''],
      ['api', 'PrivilegedContainerCheck', 'error', SAMPLE, 4, 5, ''],
      ['api', 'PrivilegedPortCheck', 'warning', SAMPLE, 6, 5, ''],
      ['api', 'DockerSocketMountCheck', 'error', SAMPLE, 8, 5, ''],
      ['api', 'RestartPolicyCheck', 'note', SAMPLE, 10, 5, ''],
      ['api', 'ReadonlyRootfsCheck', 'warning', SAMPLE, 2, 3, ''],
      ['api', 'MemoryLimitCheck', 'warning', SAMPLE, 2, 3, ''],
      ['api', 'LatestTagCheck', 'none', SAMPLE, 3, 5, ''],
      ['quiet', 'RootProcessCheck', 'none', SAMPLE, 11, 3, ''],
      ['quiet', 'MemoryLimitCheck', 'warning', SAMPLE, 11, 3, ''],
      ['quiet', 'HostNetworkCheck', 'error', SAMPLE, 15, 5, 'suppressed'],
      ['quiet', 'LatestTagCheck', 'none', SAMPLE, 12, 5, ''],
    ]);
  });

  test('JSON: not_applicable results, the notApplicable count, and where each service is written', async () => {
    const outcome = await check('--format', 'json');
    const report = JSON.parse(outcome.stdout) as {
      containers: { name: string; source: unknown; results: { check: string; result: string }[] }[];
      summary: Record<string, number>;
    };
    assertValidCheckJson(report);
    assert.deepEqual(
      report.containers.map(({ name, source }) => [name, source]),
      [
        ['sarif-api-1', { file: SAMPLE, line: 2, column: 3, service: 'api' }],
        ['sarif-quiet-1', { file: SAMPLE, line: 11, column: 3, service: 'quiet' }],
      ],
    );
    assert.equal(report.summary['notApplicable'], 4);
    assert.equal(report.summary['waived'], 1);
  });

  test('JUnit: not applicable is skipped; --output writes the report to a file; --fail-on as at run time', async () => {
    const file = join(work, 'report.xml');
    const outcome = await check('--format', 'junit', '--output', file);
    assert.equal(outcome.stdout, '');
    const { totals, suites } = parseJunit(await readFile(file, 'utf8'));
    const api = suites.find((suite) => suite.name === 'containers/sarif-api-1');
    assert.ok(api);
    assert.deepEqual(
      api.cases.filter((entry) => entry.skipped !== undefined).map((entry) => entry.name),
      ['RootProcessCheck', 'LatestTagCheck'],
    );
    assert.ok(totals.skipped >= 5, 'four not applicable and one waived');
    assert.equal((await check('--fail-on', 'critical')).code, 1, 'the socket mount is critical');
    const onlyQuiet = await runToEnd(
      process.execPath,
      [CLI, 'check', '-f', POLICY, '--compose', SAMPLE, ...NO_ENGINE, '--fail-on', 'high'],
      {
        env: { ...process.env, COMPOSE_PROJECT_NAME: '' },
      },
    );
    assert.equal(onlyQuiet.code, 1);
  });

  test('-p names the project as Compose does: container names and the waivers that name them follow it', async () => {
    const renamed = await runToEnd(
      process.execPath,
      [CLI, 'check', '-f', POLICY, '--compose', SAMPLE, ...NO_ENGINE, '-p', 'shop', '--format', 'json'],
      // -p wins over COMPOSE_PROJECT_NAME, as in Compose.
      { env: { ...process.env, COMPOSE_PROJECT_NAME: 'fromenv' } },
    );
    const report = JSON.parse(renamed.stdout) as { containers: { name: string }[]; summary: Record<string, number> };
    assert.deepEqual(
      report.containers.map(({ name }) => name),
      ['shop-api-1', 'shop-quiet-1'],
    );
    assert.equal(report.summary['waived'], 0, 'the waiver names sarif-quiet-1, which this project does not have');
    const same = JSON.parse((await check('--project-name', 'sarif', '--format', 'json')).stdout) as typeof report;
    assert.equal(same.summary['waived'], 1, 'the folder name given explicitly is the default');
    const bad = await check('-p', 'My App');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^docker-monitor: -p\/--project-name "My App": [^\n]+\n$/);
    const alone = await runToEnd(process.execPath, [CLI, 'check', '-p', 'shop', ...NO_ENGINE]);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /^docker-monitor: -p\/--project-name [^\n]+--compose[^\n]*\n$/);
  });

  test('bad input is one line naming the file and line', async () => {
    const outcome = await runToEnd(process.execPath, [CLI, 'check', '--compose', 'test/fixtures/compose/unit/bad.yaml', ...NO_ENGINE]);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /^docker-monitor: test\/fixtures\/compose\/unit\/bad\.yaml:4: not valid YAML: [^\n]+\n$/);
  });
});
