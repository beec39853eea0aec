import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { interpolate, parseEnvFile } from '../../src/compose/interpolate.js';
import { loadCompose, normalizeProjectName, type ComposeProject } from '../../src/compose/load-compose.js';
import { bytes, toContainer } from '../../src/compose/to-inspect.js';
import { judgeStatic } from '../../src/compose/judge-static.js';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { loadPolicy } from '../../src/config/load-policy.js';
import { ConfigError, UsageError } from '../../src/errors.js';

const DIR = fileURLToPath(new URL('../fixtures/compose/unit/', import.meta.url));
const file = (name: string): string => `${DIR}${name}`;

function service(project: ComposeProject, name: string) {
  const found = project.services.find((entry) => entry.name === name);
  assert.ok(found, `service ${name}`);
  return found;
}

describe('compose interpolation', () => {
  const env = { SET: 'value', EMPTY: '' };
  for (const [input, expected] of [
    ['$SET and ${SET}', 'value and value'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${UNSET-fallback}', 'fallback'],
    ['${SET:+alt}', 'alt'],
    ['${UNSET:-${SET}}', 'value'],
    ['cost: $$5', 'cost: $5'],
    ['$UNSET', ''],
  ] as const) {
    test(`${input} → ${JSON.stringify(expected)}`, () => assert.equal(interpolate(input, env), expected));
  }
  test('${VAR:?message} stops with the message when unset or empty', () => {
    assert.throws(() => interpolate('${EMPTY:?set EMPTY first}', env), /required variable EMPTY is missing a value: set EMPTY first/);
    assert.equal(interpolate('${EMPTY?unused}', env), '');
  });
  test('env files: comments, export, quotes', () => {
    assert.deepEqual(parseEnvFile('# c\nexport A=1\nB="two words"\nC=x # note\n'), { A: '1', B: 'two words', C: 'x' });
  });
  test('byte values and project names as Compose reads them', () => {
    assert.equal(bytes('512m'), 512 * 1024 ** 2);
    assert.equal(bytes('1gb'), 1024 ** 3);
    assert.equal(bytes(1000), 1000);
    assert.equal(normalizeProjectName('My App.v2'), 'myappv2');
    assert.equal(normalizeProjectName('_Work-Dir'), 'work-dir', 'no leading - or _, as Compose trims them');
  });
});

describe('compose files', () => {
  const project = loadCompose([file('compose.yaml'), file('override.yaml')], { env: { LEVEL: 'debug' } });

  test('the project is named after the folder; the shell wins over .env; the default of an unset variable applies', () => {
    assert.equal(project.name, 'unit');
    const web = service(project, 'web');
    assert.equal(web.config['image'], 'registry.example/web:from-dotenv');
    assert.deepEqual(web.config['environment'], { LEVEL: 'debug' });
  });

  test('-p wins over COMPOSE_PROJECT_NAME and is taken as given, or refused when Compose would refuse it', () => {
    const files = [file('compose.yaml'), file('override.yaml')];
    assert.equal(loadCompose(files, { env: { COMPOSE_PROJECT_NAME: 'Env Name' } }).name, 'envname');
    assert.equal(loadCompose(files, { env: { COMPOSE_PROJECT_NAME: 'envname' }, projectName: 'given_1' }).name, 'given_1');
    for (const bad of ['Given', '-given', 'a b', '']) {
      assert.throws(() => loadCompose(files, { env: {}, projectName: bad }), UsageError, bad);
    }
  });

  test('a later file merges into the service: lists joined, labels merged, key positions from the file that set them', () => {
    const web = service(project, 'web');
    assert.deepEqual(web.config['ports'], ['127.0.0.1:8080:80', '9090:90']);
    assert.deepEqual(web.config['labels'], { tier: 'front', owner: 'team-a' });
    assert.deepEqual(web.keys.get('cap_add'), { file: file('override.yaml'), line: 3, column: 5 });
    assert.deepEqual(web.keys.get('user'), { file: file('compose.yaml'), line: 4, column: 5 });
    assert.deepEqual(web.position, { file: file('compose.yaml'), line: 2, column: 3 });
  });

  test('extends from another file brings its keys and their positions', () => {
    const worker = service(project, 'worker');
    assert.equal(worker.config['read_only'], true);
    assert.equal(worker.config['restart'], 'on-failure:3');
    assert.equal(worker.config['extends'], undefined);
    assert.deepEqual(worker.keys.get('read_only'), { file: file('base.yaml'), line: 3, column: 5 });
  });

  test('a service in a profile runs only with that profile', () => {
    assert.deepEqual(
      project.services.map((entry) => entry.name),
      ['web', 'worker'],
    );
    const withDebug = loadCompose([file('compose.yaml')], { env: { LEVEL: 'x' }, profiles: ['debug'] });
    assert.ok(withDebug.services.some((entry) => entry.name === 'debug'));
  });

  test('bad YAML is one line naming file and line', () => {
    assert.throws(
      () => loadCompose([file('bad.yaml')], { env: {} }),
      (error: unknown) => error instanceof ConfigError && /bad\.yaml:4: not valid YAML/.test(error.message),
    );
  });
});

describe('a service as the container Compose creates', () => {
  const project = loadCompose([file('compose.yaml'), file('override.yaml')], { env: { LEVEL: 'debug' } });

  test('keys map to the inspect fields the engine fills', () => {
    const { inspect } = toContainer(project, service(project, 'web'), undefined, { appArmor: undefined });
    assert.equal(inspect.Name, '/unit-web-1');
    assert.deepEqual(inspect.HostConfig?.CapAdd, ['NET_ADMIN']);
    assert.equal(inspect.HostConfig?.NetworkMode, 'unit_default');
    assert.deepEqual(inspect.NetworkSettings?.Ports, {
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
      '90/tcp': [
        { HostIp: '0.0.0.0', HostPort: '9090' },
        { HostIp: '::', HostPort: '9090' },
      ],
    });
    assert.deepEqual(
      inspect.Mounts?.map(({ Type, Source, Destination, RW, Propagation }) => ({ Type, Source, Destination, RW, Propagation })),
      [
        { Type: 'bind', Source: `${DIR}data`, Destination: '/data', RW: false, Propagation: 'rprivate' },
        { Type: 'bind', Source: '/srv/shared', Destination: '/shared', RW: true, Propagation: 'rshared' },
      ],
    );
    assert.equal(inspect.Config?.User, '1000:1000');
    assert.equal(inspect.Config?.Labels?.['com.docker.compose.service'], 'web');
    const worker = toContainer(project, service(project, 'worker'), undefined, { appArmor: undefined }).inspect;
    assert.deepEqual(worker.HostConfig?.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(worker.HostConfig?.Memory, 256 * 1024 ** 2);
    assert.equal(worker.HostConfig?.PidsLimit, 100);
  });

  test('what only the absent image knows is never guessed', () => {
    const { inspect } = toContainer(project, service(project, 'worker'), undefined, { appArmor: undefined });
    assert.throws(() => inspect.Config?.User, /the image registry\.example\/worker:3 is not on the engine, so its USER is unknown/);
    assert.throws(() => inspect.State?.Health, /HEALTHCHECK is unknown/);
  });
});

describe('the chain over compose services', async () => {
  const policy = await loadPolicy(fileURLToPath(new URL('../../examples/cis.ini', import.meta.url)), BUILT_IN_CHECKS);
  const project = loadCompose([file('compose.yaml'), file('override.yaml')], { env: { LEVEL: 'debug' } });
  const targets = project.services.map((entry) => ({
    ...toContainer(project, entry, undefined, { appArmor: undefined }),
    imageInspect: undefined,
    service: { name: entry.name, position: entry.position, keys: entry.keys },
  }));
  const reports = await judgeStatic(
    targets,
    { checks: policy.checks, alwaysAllow: [], failFast: false, exclude: policy.exclude },
    undefined,
  );
  const result = (name: string, check: string) =>
    reports.find((report) => report.name === name)?.results.find((entry) => entry.check === check);

  test('checks of processes, exec sessions and the absent image are not applicable, never a pass', () => {
    for (const check of [
      'RootProcessCheck',
      'SshdCheck',
      'PrivilegedExecCheck',
      'RootExecCheck',
      'ImageHealthcheckCheck',
      'LatestTagCheck',
    ]) {
      assert.equal(result('unit-web-1', check)?.result, 'not_applicable', check);
    }
    assert.equal(result('unit-worker-1', 'RunningAsRootCheck')?.result, 'not_applicable');
    assert.equal(result('unit-web-1', 'RunningAsRootCheck')?.result, 'pass');
  });

  test('findings point at the key the check reads, or at the service', () => {
    assert.deepEqual(result('unit-web-1', 'AddedCapabilitiesCheck'), {
      check: 'AddedCapabilitiesCheck',
      result: 'fail',
      reason: 'adds NET_ADMIN',
      source: { file: file('override.yaml'), line: 3, column: 5 },
    });
    assert.deepEqual(result('unit-web-1', 'MountPropagationCheck')?.source, { file: file('compose.yaml'), line: 7, column: 5 });
    assert.deepEqual(result('unit-web-1', 'MemoryLimitCheck')?.source, { file: file('compose.yaml'), line: 2, column: 3 });
    assert.equal(result('unit-worker-1', 'ReadonlyRootfsCheck')?.result, 'pass');
    assert.equal(result('unit-worker-1', 'NoNewPrivilegesCheck')?.result, 'pass');
    assert.equal(reports.find((report) => report.name === 'unit-web-1')?.source?.service, 'web');
  });
});

describe('CIS 5.27 before deployment', async () => {
  const policy = await loadPolicy(fileURLToPath(new URL('../../examples/cis.ini', import.meta.url)), BUILT_IN_CHECKS);
  const project = loadCompose([fileURLToPath(new URL('../fixtures/compose/health/compose.yaml', import.meta.url))], { env: {} });
  const reports = await judgeStatic(
    project.services.map((entry) => ({ ...toContainer(project, entry, undefined, { appArmor: undefined }), imageInspect: undefined })),
    { checks: policy.checks, alwaysAllow: [], failFast: false, exclude: policy.exclude },
    undefined,
  );
  const verdict = (service: string, check: string) =>
    reports.find((report) => report.name === `health-${service}-1`)?.results.find((entry) => entry.check === check)?.result;

  test('a healthcheck passes 5.27 (the running container reports a status); which status it will be is not known', () => {
    assert.equal(verdict('probed', 'ContainerHealthcheckCheck'), 'pass');
    assert.equal(verdict('probed', 'HealthStatusCheck'), 'not_applicable');
  });

  test('a disabled healthcheck fails 5.27 as at run time; none in the service and an absent image is unknown', () => {
    assert.equal(verdict('disabled', 'ContainerHealthcheckCheck'), 'fail');
    assert.equal(verdict('disabled', 'HealthStatusCheck'), 'pass');
    assert.equal(verdict('unknown', 'ContainerHealthcheckCheck'), 'not_applicable');
    assert.equal(verdict('unknown', 'HealthStatusCheck'), 'not_applicable');
  });
});
