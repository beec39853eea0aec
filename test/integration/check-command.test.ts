/**
 * The built CLI's `check` command against the real engine. Other containers may run on the engine:
 * assertions are about this run's labelled containers only, and the exit-0 case uses a policy that
 * passes every container.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  docker,
  ensureTestImage,
  removeTestContainers,
  requireEngine,
  startContainer,
  type TestContainer,
} from '../helpers/docker.js';
import { until } from '../helpers/wait.js';
import { scaled } from '../helpers/time-scale.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface JsonResult {
  check: string;
  result: string;
  reason: string | null;
}
interface JsonContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  compliant: boolean;
  alwaysAllowed: boolean;
  results: JsonResult[];
}

/** `check --format json` with these args; resolves to the exit code and the containers by ID. */
async function checkJson(args: readonly string[]): Promise<{ code: number; stderr: string; byId: Map<string, JsonContainer> }> {
  const run = await cli(['check', '--format', 'json', ...args]);
  assert.ok(run.code === 0 || run.code === 1, `exit ${run.code}: ${run.stderr}`);
  const document = JSON.parse(run.stdout) as { containers: JsonContainer[] };
  return { code: run.code, stderr: run.stderr, byId: new Map(document.containers.map((container) => [container.id, container])) };
}

function verdicts(container: JsonContainer | undefined): [string, string][] {
  assert.ok(container, 'the container was evaluated');
  return container.results.map(({ check, result }) => [check, result]);
}

let dir = '';
let root: TestContainer;
let user: TestContainer;
let execRoot: TestContainer;

/** Writes a policy file into this run's folder and returns its path. */
function policy(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

before(async () => {
  await requireEngine();
  await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'dm-check-command-'));
  root = await startContainer();
  user = await startContainer(['--user', '1000']);
  execRoot = await startContainer(['--user', '1000']);
  await docker(['exec', '-d', '-u', '0', execRoot.id, 'sleep', '3602']);
  await until("the exec'd root process", async () =>
    (await docker(['top', execRoot.id, '-o', 'pid,args'])).includes('sleep 3602') ? true : undefined,
  );
});

after(async () => {
  await removeTestContainers();
  rmSync(dir, { recursive: true, force: true });
});

describe('docker-monitor check: verdicts and exit codes', () => {
  test('the embedded default policy: exit 1, a table row per container and the reasons of failures', async () => {
    const run = await cli(['check']);
    assert.equal(run.code, 1, run.stderr);
    const row = (name: string) => run.stdout.split('\n').find((line) => line.startsWith(`${name} `)) ?? '';
    assert.match(row(root.name), new RegExp(`^${root.name}\\s+${TEST_IMAGE}\\s+FAIL\\s+pass\\s+FAIL\\s+FAIL$`));
    assert.match(row(user.name), new RegExp(`^${user.name}\\s+${TEST_IMAGE}\\s+pass\\s+pass\\s+pass\\s+pass$`));
    assert.match(row(execRoot.name), /\sFAIL\s+pass\s+pass\s+FAIL$/);
    assert.match(run.stdout, /^CONTAINER\s+IMAGE\s+VERDICT\s+ActiveBuildCheck\s+RunningAsRootCheck\s+RootProcessCheck$/m);
    assert.ok(run.stdout.includes(`  ${root.name}: RunningAsRootCheck FAIL: no user set: runs as root\n`), run.stdout);
    assert.match(run.stdout, new RegExp(`  ${execRoot.name}: RootProcessCheck FAIL: 1 process running as root: pid \\d+ \\(sleep 3602\\)`));
    assert.match(run.stdout, /\n\d+ containers? checked, \d+ failed\.\n$/);
  });

  test('--format json: the document of docs/check-output.md', async () => {
    const { code, byId } = await checkJson([]);
    assert.equal(code, 1);
    const rootReport = byId.get(root.id);
    assert.ok(rootReport);
    const imageId = await docker(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE]);
    assert.deepEqual(rootReport, {
      id: root.id,
      name: root.name,
      image: TEST_IMAGE,
      imageId,
      compliant: false,
      alwaysAllowed: false,
      rootProcesses: 1,
      results: [
        { check: 'ActiveBuildCheck', result: 'pass', reason: null },
        { check: 'RunningAsRootCheck', result: 'fail', reason: 'no user set: runs as root' },
        { check: 'RootProcessCheck', result: 'fail', reason: rootReport.results[2]?.reason ?? '' },
      ],
    });
    assert.match(rootReport.results[2]?.reason ?? '', /^1 process running as root: pid \d+ \(sleep 3600\)$/);
    assert.equal(byId.get(user.id)?.compliant, true);
    assert.deepEqual(verdicts(byId.get(user.id)), [
      ['ActiveBuildCheck', 'pass'],
      ['RunningAsRootCheck', 'pass'],
      ['RootProcessCheck', 'pass'],
    ]);
    assert.deepEqual(verdicts(byId.get(execRoot.id)), [
      ['ActiveBuildCheck', 'pass'],
      ['RunningAsRootCheck', 'pass'],
      ['RootProcessCheck', 'fail'],
    ]);
  });

  test('exit 0 when every container passes (a policy that passes everyone)', async () => {
    const path = policy(
      'passing.ini',
      '[docker_monitor.checks.ActiveBuildCheck]\n\n[docker_monitor.checks.RunningAsRootCheck]\nallow_root = on\n',
    );
    const text = await cli(['check', '-f', path]);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, / checked, 0 failed\.\n$/);
    const { code, byId } = await checkJson(['-f', path]);
    assert.equal(code, 0);
    assert.deepEqual(verdicts(byId.get(root.id)), [
      ['ActiveBuildCheck', 'pass'],
      ['RunningAsRootCheck', 'pass'],
    ]);
  });

  test('fail_fast = on: the chain stops at the first FAIL, the checks after it are absent', async () => {
    const path = policy(
      'fail-fast.ini',
      '[policy]\nfail_fast = on\n\n[docker_monitor.checks.ActiveBuildCheck]\n[docker_monitor.checks.RunningAsRootCheck]\n[docker_monitor.checks.RootProcessCheck]\n',
    );
    const { byId } = await checkJson(['-f', path]);
    assert.deepEqual(verdicts(byId.get(root.id)), [
      ['ActiveBuildCheck', 'pass'],
      ['RunningAsRootCheck', 'fail'],
    ]);
    assert.deepEqual(verdicts(byId.get(execRoot.id)), [
      ['ActiveBuildCheck', 'pass'],
      ['RunningAsRootCheck', 'pass'],
      ['RootProcessCheck', 'fail'],
    ]);
  });

  test('a check that throws or hangs gives error for that container only; the others and the other checks go on', async () => {
    writeFileSync(
      join(dir, 'flaky.js'),
      `export class FlakyCheck {
  check(container) {
    const mode = container.inspect.Config.Labels['docker-monitor.flaky'];
    if (mode === 'throw') throw new Error('flaky check exploded');
    // Holds a timer: the command must not wait for it after the check's timeout.
    if (mode === 'hang') return new Promise((resolve) => setTimeout(() => resolve('pass'), 60000));
    return this.PASS;
  }
}
`,
    );
    const throwing = await startContainer(['--user', '1000', '--label', 'docker-monitor.flaky=throw']);
    const hanging = await startContainer(['--user', '1000', '--label', 'docker-monitor.flaky=hang']);
    const path = policy('flaky.ini', '[flaky.FlakyCheck]\ntimeout = 300ms\n\n[docker_monitor.checks.RunningAsRootCheck]\n');
    const started = Date.now();
    const { code, byId } = await checkJson(['-f', path]);
    assert.ok(Date.now() - started < scaled(10_000), 'the hanging check was cut off by its timeout, and the command exited');
    assert.equal(code, 1);
    assert.deepEqual(byId.get(throwing.id)?.results, [
      { check: 'FlakyCheck', result: 'error', reason: 'flaky check exploded' },
      { check: 'RunningAsRootCheck', result: 'pass', reason: null },
    ]);
    assert.deepEqual(byId.get(hanging.id)?.results, [
      { check: 'FlakyCheck', result: 'error', reason: 'timed out after 300 ms' },
      { check: 'RunningAsRootCheck', result: 'pass', reason: null },
    ]);
    assert.equal(byId.get(throwing.id)?.compliant, false);
    assert.equal(byId.get(user.id)?.compliant, true);
    assert.deepEqual(verdicts(byId.get(root.id)), [
      ['FlakyCheck', 'pass'],
      ['RunningAsRootCheck', 'fail'],
    ]);
  });

  test('examples/my-policy.ini: the JS and TypeScript example checks load and run from the built CLI', async () => {
    const { byId } = await checkJson(['-f', join(ROOT, 'examples/my-policy.ini')]);
    assert.deepEqual(verdicts(byId.get(user.id)), [
      ['ActiveBuildCheck', 'pass'],
      ['RunningAsRootCheck', 'pass'],
      ['RootProcessCheck', 'pass'],
      ['MyPolicyCheck', 'pass'],
      ['MaxProcessesCheck', 'pass'],
    ]);
  });
  test('a TypeScript check extending PolicyCheck, imported from the installed package', async () => {
    const folder = mkdtempSync(join(dir, 'installed-'));
    mkdirSync(join(folder, 'node_modules'));
    symlinkSync(ROOT, join(folder, 'node_modules', 'docker-monitor'));
    writeFileSync(
      join(folder, 'extends.ts'),
      `import { PolicyCheck, type CheckReturn, type ContainerView } from 'docker-monitor';
export class NamedCheck extends PolicyCheck {
  static override description = 'fails the container named in the policy';
  check(container: ContainerView): CheckReturn {
    return container.name === this.config['name'] ? this.fail(\`named \${container.name}\`) : this.PASS;
  }
}
`,
    );
    const path = join(folder, 'policy.ini');
    writeFileSync(path, `[extends.NamedCheck]\nname = ${user.name}\n`);
    const { byId } = await checkJson(['-f', path]);
    assert.deepEqual(byId.get(user.id)?.results, [{ check: 'NamedCheck', result: 'fail', reason: `named ${user.name}` }]);
    assert.deepEqual(verdicts(byId.get(root.id)), [['NamedCheck', 'pass']]);
  });
});

describe('docker-monitor check: bad input and an unreachable engine', () => {
  /** A one-line message on stderr, no stack trace, nothing on stdout. */
  function assertOneLine(run: Run, code: number, message: RegExp): void {
    assert.equal(run.code, code, run.stderr);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line: ${run.stderr}`);
    assert.match(lines[0] ?? '', message);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
  }

  test('configuration errors: exit 2, one line naming file, section and key', async () => {
    writeFileSync(join(dir, 'helpers.js'), 'export function helper() {}\n');
    const cases: [string, string, RegExp][] = [
      [
        'unknown-check.ini',
        '[docker_monitor.checks.RunningAsRootChek]\n',
        /\.ini:1 \[docker_monitor\.checks\.RunningAsRootChek\]: unknown built-in check "RunningAsRootChek" \(did you mean RunningAsRootCheck\?\)$/,
      ],
      [
        'unknown-key.ini',
        '[docker_monitor.checks.RunningAsRootCheck]\nallow_rooot = off\n',
        /\.ini:2 \[docker_monitor\.checks\.RunningAsRootCheck\] allow_rooot: unknown key \(did you mean allow_root\?\)$/,
      ],
      [
        'bad-boolean.ini',
        '[docker_monitor.checks.RunningAsRootCheck]\nallow_root = sure\n',
        /\.ini:2 \[docker_monitor\.checks\.RunningAsRootCheck\] allow_root: "sure" is not a boolean \(use on\/off, true\/false, yes\/no or 1\/0\)$/,
      ],
      [
        'no-module.ini',
        '[policy]\n[missing_checks.MyPolicyCheck]\n',
        /\.ini:2 \[missing_checks\.MyPolicyCheck\]: module "missing_checks" not found \(looked for .*\)$/,
      ],
      [
        'not-a-check.ini',
        '[helpers.helper]\n',
        /\.ini:1 \[helpers\.helper\]: export "helper" of .*helpers\.js is not a check: expected a class with a check\(\) method$/,
      ],
      ['outside.ini', 'allow_root = off\n', /\.ini:1: the key "allow_root" is outside any section/],
    ];
    for (const [name, text, message] of cases) {
      const path = policy(name, text);
      assertOneLine(
        await cli(['check', '-f', path]),
        2,
        new RegExp(`^docker-monitor: ${path.replaceAll('.', '\\.')}${message.source.slice('\\.ini'.length)}`),
      );
    }
  });

  test('a missing or unreadable policy file: exit 2', async () => {
    const missing = join(dir, 'nope.ini');
    assertOneLine(
      await cli(['check', '-f', missing]),
      2,
      new RegExp(`^docker-monitor: ${missing}: cannot read the policy file: no such file$`),
    );
    assertOneLine(
      await cli(['check', '--config-file', dir]),
      2,
      new RegExp(`^docker-monitor: ${dir}: cannot read the policy file: is a directory$`),
    );
  });

  test('bad usage: exit 2', async () => {
    const format = await cli(['check', '--format', 'xml']);
    assert.equal(format.code, 2);
    assert.match(
      format.stderr,
      /^docker-monitor: option '--format <format>' argument 'xml' is invalid\. Allowed choices are text, json, sarif, junit\./,
    );
    const unknown = await cli(['check', '--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^docker-monitor: unknown option '--bogus'/);
    assertOneLine(await cli(['check', '--log.level', 'loud']), 2, /^docker-monitor: --log\.level: "loud" is not a log level/);
  });

  test('an unreachable engine: exit 3 with a hint', async () => {
    const socket = `unix:///tmp/dm-no-engine-${RUN_ID}.sock`;
    assertOneLine(
      await cli(['check', '--docker.host', socket]),
      3,
      new RegExp(
        `^docker-monitor: cannot reach the Docker engine at ${socket}: .*ENOENT.* \\(is dockerd running\\? set DOCKER_HOST or --docker\\.host\\)$`,
      ),
    );
    assertOneLine(
      await cli(['check'], { ...process.env, DOCKER_HOST: socket }),
      3,
      /^docker-monitor: cannot reach the Docker engine at unix:\/\/\/tmp\/dm-no-engine-/,
    );
    assertOneLine(
      await cli(['check', '--docker.host', 'tcp://127.0.0.1:1']),
      3,
      /^docker-monitor: cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
  });

  test('--help and --version', async () => {
    const version = await cli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, new RegExp(`^docker-monitor, version ${VERSION} \\(branch: `));
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: docker-monitor /);
    assert.match(help.stdout, /\n\s+serve .*\n/);
    assert.match(help.stdout, /\n\s+check .*\n/);
    const checkHelp = await cli(['check', '--help']);
    assert.equal(checkHelp.code, 0);
    for (const flag of [
      '--format <format>',
      '--fail-on <severity>',
      '-f, --config-file <path>',
      '--log.level <level>',
      '-v, --verbose',
      '--log.format <format>',
      '--docker.host <url>',
    ]) {
      assert.ok(checkHelp.stdout.includes(flag), `check --help lists ${flag}`);
    }
  });
});

describe('docker-monitor check: logging', () => {
  /** A policy that logs one warning (its section written twice), logging as `logging` says. */
  function loggingPolicy(name: string, logging: string): { path: string; logFile: string } {
    const logFile = join(dir, 'logs', `${name}.log`);
    const path = policy(
      `${name}.ini`,
      `[logging]\nlog_file = ${logFile}\n${logging}\n[docker_monitor.checks.ActiveBuildCheck]\n\n[docker_monitor.checks.ActiveBuildCheck]\n`,
    );
    return { path, logFile };
  }
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const DUPLICATE =
    /section \[docker_monitor\.checks\.ActiveBuildCheck\] is written again \(first at line \d+\); its keys are merged and it runs once/;

  test("[logging] log_file receives the log (not stderr), with the file's level in Python's names", async () => {
    const warning = loggingPolicy('warning', 'level = WARNING');
    const run = await cli(['check', '-f', warning.path]);
    assert.equal(run.stderr, '');
    const lines = read(warning.logFile).trimEnd().split('\n');
    const line = lines.find((candidate) => DUPLICATE.test(candidate)) ?? '';
    // text format: time, level, message on one readable line
    assert.match(line, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN: .*\.ini:6: section/);
    assert.ok(
      lines.every((candidate) => !/ (DEBUG|INFO): /.test(candidate)),
      'nothing below WARNING',
    );

    const error = loggingPolicy('error', 'level = ERROR');
    await cli(['check', '-f', error.path]);
    assert.doesNotMatch(read(error.logFile), DUPLICATE);
  });

  test('-v is one level more verbose than the file or --log.level, each time', async () => {
    const error = loggingPolicy('verbose', 'level = ERROR');
    await cli(['check', '-f', error.path, '-v']);
    assert.match(read(error.logFile), DUPLICATE);
    assert.doesNotMatch(read(error.logFile), / DEBUG: /);
    await cli(['check', '-f', error.path, '--log.level', 'info', '-v']);
    assert.match(read(error.logFile), / DEBUG: evaluation finished /);
    const fromFlag = loggingPolicy('flag-over-file', 'level = DEBUG');
    await cli(['check', '-f', fromFlag.path, '--log.level', 'error']);
    assert.equal(read(fromFlag.logFile), '', '--log.level wins over the file');
  });

  test('--log.format json: one JSON object per line, with level, time and msg', async () => {
    const json = loggingPolicy('json', 'level = DEBUG');
    const run = await cli(['check', '-f', json.path, '--log.format', 'json']);
    assert.equal(run.stderr, '');
    const lines = read(json.logFile).trimEnd().split('\n');
    assert.ok(lines.length >= 2, read(json.logFile));
    const records = lines.map((line) => JSON.parse(line) as { level: number; time: string; msg: string });
    for (const record of records) {
      assert.equal(typeof record.level, 'number');
      assert.match(record.time, /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof record.msg, 'string');
    }
    assert.ok(records.some((record) => record.level === 40 && DUPLICATE.test(record.msg)));
    assert.ok(records.some((record) => record.level === 20 && record.msg === 'evaluation finished'));
  });

  test('without log_file the log goes to stderr, never into the output on stdout', async () => {
    const run = await cli(['check', '--format', 'json', '--log.level', 'debug']);
    assert.doesNotThrow(() => JSON.parse(run.stdout));
    assert.match(run.stderr, / DEBUG: evaluation finished /);
  });
});

describe('docker-monitor check: builds and always_allow on real containers', () => {
  test('ActiveBuildCheck: a classic-builder RUN step passes fast while `docker build` runs', async () => {
    const context = mkdtempSync(join(dir, 'build-'));
    const marker = `dm-build-${RUN_ID}`;
    writeFileSync(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN sleep 8 && echo ${marker}\n`);
    const build = spawn('docker', ['build', '-q', '--force-rm', context], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let imageId = '';
    build.stdout.on('data', (chunk: Buffer) => (imageId += chunk.toString()));
    const built = new Promise((resolve) => build.on('close', resolve));
    try {
      const stepId = await until("the RUN step's container", async () => {
        for (const id of (await docker(['ps', '-q', '--no-trunc'])).split(/\s+/)) {
          if (id === '') continue;
          const command = await docker(['inspect', '--format', '{{json .Config.Cmd}}', id]).catch(() => '');
          if (command.includes(marker)) return id;
        }
        return undefined;
      });
      const { byId } = await checkJson([]);
      assert.deepEqual(byId.get(stepId)?.results, [
        { check: 'ActiveBuildCheck', result: 'pass_fast', reason: 'classic builder step (RUN) in progress' },
      ]);
      assert.equal(byId.get(stepId)?.compliant, true);
    } finally {
      await built;
      if (imageId.trim() !== '') await docker(['rmi', imageId.trim()]).catch(() => undefined);
    }
  });

  test('ActiveBuildCheck: a BuildKit builder container (moby/buildkit image) passes fast', async () => {
    const tag = `moby/buildkit:dmtest-${RUN_ID}`;
    await docker(['tag', TEST_IMAGE, tag]);
    try {
      const builder = await startContainer([], ['sleep', '3600'], tag);
      const { byId } = await checkJson([]);
      assert.deepEqual(byId.get(builder.id)?.results, [
        { check: 'ActiveBuildCheck', result: 'pass_fast', reason: 'BuildKit builder container' },
      ]);
      await docker(['rm', '-f', builder.id]);
    } finally {
      await docker(['rmi', tag]).catch(() => undefined);
    }
  });

  test('always_allow: image IDs in every usual form and references; such containers run no check', async () => {
    const context = mkdtempSync(join(dir, 'allow-'));
    const tag = `docker-monitor-test/allow:${RUN_ID}`;
    writeFileSync(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL ${TEST_LABEL}.allow=${RUN_ID}\n`);
    await docker(['build', '-q', '-t', tag, context], { ...process.env, DOCKER_BUILDKIT: '0' });
    try {
      const imageId = await docker(['image', 'inspect', '--format', '{{.Id}}', tag]);
      const hex = imageId.slice('sha256:'.length);
      const byTag = await startContainer([], ['sleep', '3600'], tag);
      const byImageId = await startContainer([], ['sleep', '3600'], hex.slice(0, 12));
      for (const entry of [imageId, hex, hex.slice(0, 12), tag, `docker.io/${tag}`, `  ${tag} , nginx:1.27`]) {
        const path = policy('allow.ini', `[policy]\nalways_allow = ${entry}\n\n[docker_monitor.checks.RunningAsRootCheck]\n`);
        const { byId } = await checkJson(['-f', path]);
        for (const allowed of [byTag, byImageId]) {
          const report = byId.get(allowed.id);
          assert.deepEqual(
            report && { alwaysAllowed: report.alwaysAllowed, compliant: report.compliant, results: report.results },
            { alwaysAllowed: true, compliant: true, results: [] },
            `${entry} allows ${allowed.name}`,
          );
        }
        assert.deepEqual(verdicts(byId.get(root.id)), [['RunningAsRootCheck', 'fail']], `${entry} does not allow ${TEST_IMAGE}`);
      }
      const text = await cli([
        'check',
        '-f',
        policy('allow.ini', `[policy]\nalways_allow = ${tag}\n\n[docker_monitor.checks.RunningAsRootCheck]\n`),
      ]);
      assert.match(text.stdout, new RegExp(`^${byTag.name}\\s+${tag}\\s+allowed\\s+-$`, 'm'));
      const other = policy(
        'allow-other.ini',
        `[policy]\nalways_allow = ${tag.replace(/:.*/, ':other')}\n\n[docker_monitor.checks.RunningAsRootCheck]\n`,
      );
      assert.deepEqual(
        verdicts((await checkJson(['-f', other])).byId.get(byTag.id)),
        [['RunningAsRootCheck', 'fail']],
        'another tag is another image',
      );
    } finally {
      await removeTestContainersOf(tag);
      await docker(['rmi', tag]).catch(() => undefined);
    }
  });
});

/** Removes this run's containers of one image, so the image can be removed. */
async function removeTestContainersOf(image: string): Promise<void> {
  const ids = await docker(['ps', '-aq', '--filter', `label=${TEST_LABEL}=${RUN_ID}`, '--filter', `ancestor=${image}`]).catch(() => '');
  if (ids !== '') await docker(['rm', '-f', ...ids.split(/\s+/)]).catch(() => undefined);
}
