import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../../src/policy/check-loader.js';
import { fixtureView } from '../helpers/fixture-view.js';

const examples = join(import.meta.dirname, '../../examples');
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dm-check-loader-'));
  writeFileSync(
    join(dir, 'checks.js'),
    `export class PlainCheck {
  static description = 'a class that extends nothing';
  check() { return this.config.verdict === 'fail' ? this.FAIL : this.config.verdict === 'fast' ? this.PASS_FAST : this.PASS; }
}
export class ReasonCheck { check() { return { result: 'fail', reason: 'because ' + this.config.why }; } }
export class NonsenseCheck { check() { return 'maybe'; } }
export class ExplodingConstructor { constructor() { throw new Error('no token'); } check() { return 'pass'; } }
export class ImageScoped { static scope = 'image'; static severity = 'low'; check() { return 'pass'; } }
`,
  );
  writeFileSync(join(dir, 'common.cjs'), 'class CjsCheck { check() { return "pass"; } }\nmodule.exports = { CjsCheck };\n');
  writeFileSync(join(dir, 'broken.js'), 'export class Broken { check( {\n');
  mkdirSync(join(dir, 'pkg', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'pkg', 'sub', 'deep.js'), 'export class DeepCheck { check() { return "pass"; } }\n');
  mkdirSync(join(dir, 'folder_not_module'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Loads policy text as if it were the file `policy.ini` in `folder`. */
function load(text: string, folder = dir) {
  return parsePolicy(text, join(folder, 'policy.ini'), BUILT_IN_CHECKS);
}

async function loadError(text: string, folder = dir): Promise<string> {
  try {
    await load(text, folder);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('loaded');
}

describe("user checks: [<module>.<Export>], resolved from the config file's folder", () => {
  test('a class that extends nothing gets this.config and this.PASS / PASS_FAST / FAIL', async () => {
    const { checks } = await load('[checks.PlainCheck]\nverdict = fail\n');
    const [check] = checks;
    assert.equal(check?.name, 'PlainCheck');
    assert.equal(check?.section, 'checks.PlainCheck');
    assert.equal(check?.description, 'a class that extends nothing');
    assert.equal(check?.scope, 'container');
    assert.equal(check?.severity, 'medium');
    assert.equal(check?.timeoutMs, DEFAULT_CHECK_TIMEOUT_MS);
    assert.deepEqual(await check?.run(fixtureView('user-1000')), { result: 'fail' });
    const fast = (await load('[checks.PlainCheck]\nverdict = fast\n')).checks[0];
    assert.deepEqual(await fast?.run(fixtureView('user-1000')), { result: 'pass_fast' });
  });

  test('without an options table every key arrives as a string; severity and timeout are parsed', async () => {
    const [check] = (await load('[checks.ReasonCheck]\nwhy = it is late\nseverity = HIGH\ntimeout = 2s\n')).checks;
    assert.equal(check?.severity, 'high');
    assert.equal(check?.timeoutMs, 2000);
    assert.deepEqual(await check?.run(fixtureView('user-1000')), { result: 'fail', reason: 'because it is late' });
  });

  test('static scope and severity are honoured', async () => {
    const [check] = (await load('[checks.ImageScoped]\n')).checks;
    assert.equal(check?.scope, 'image');
    assert.equal(check?.severity, 'low');
  });

  test('a return value that is not a verdict is an error when the check runs', async () => {
    const [check] = (await load('[checks.NonsenseCheck]\n')).checks;
    await assert.rejects(async () => check?.run(fixtureView('user-1000')), {
      message: 'returned "maybe"; a check returns "pass", "pass_fast", "fail" or { result, reason }',
    });
  });

  test('CommonJS modules, modules named with their extension, dotted module paths', async () => {
    assert.equal((await load('[common.CjsCheck]\n')).checks[0]?.name, 'CjsCheck');
    assert.equal((await load('[./checks.js.PlainCheck]\n')).checks[0]?.name, 'PlainCheck');
    assert.equal((await load('[pkg.sub.deep.DeepCheck]\n')).checks[0]?.name, 'DeepCheck');
    assert.equal((await load(`[${join(dir, 'pkg/sub/deep.js')}.DeepCheck]\n`, tmpdir())).checks[0]?.name, 'DeepCheck');
  });

  test('module not found lists where it looked; a folder is not a module', async () => {
    const message = await loadError('[nowhere.MyCheck]\n');
    assert.equal(
      message,
      `${join(dir, 'policy.ini')}:1 [nowhere.MyCheck]: module "nowhere" not found (looked for ${['', '.js', '.mjs', '.cjs', '.ts', '.mts'].map((extension) => join(dir, 'nowhere') + extension).join(', ')})`,
    );
    assert.match(await loadError('[folder_not_module.MyCheck]\n'), /\[folder_not_module\.MyCheck\]: module "folder_not_module" not found/);
  });

  test('a missing export suggests the nearest name, or lists the exports', async () => {
    assert.equal(
      await loadError('[checks.PlainChek]\n'),
      `${join(dir, 'policy.ini')}:1 [checks.PlainChek]: module ${join(dir, 'checks.js')} has no export "PlainChek" (did you mean PlainCheck?)`,
    );
    assert.equal(
      await loadError('[common.Zzz]\n'),
      `${join(dir, 'policy.ini')}:1 [common.Zzz]: module ${join(dir, 'common.cjs')} has no export "Zzz" (it exports: CjsCheck)`,
    );
  });

  test('a module that does not load, and a check whose constructor throws', async () => {
    assert.match(
      await loadError('[broken.Broken]\n'),
      new RegExp(`^\\S+:1 \\[broken\\.Broken\\]: module ${join(dir, 'broken.js')} could not be loaded: \\S`),
    );
    assert.equal(
      await loadError('[checks.ExplodingConstructor]\n'),
      `${join(dir, 'policy.ini')}:1 [checks.ExplodingConstructor]: check could not be created: no token`,
    );
  });
});

describe('the examples', () => {
  test("examples/my_checks.js: the CFPB README's MyPolicyCheck, loaded as [my_checks.MyPolicyCheck]", async () => {
    for (const [pass, result] of [
      ['pass', 'pass'],
      ['pass fast', 'pass_fast'],
      ['no', 'fail'],
    ] as const) {
      const [check] = (await load(`[my_checks.MyPolicyCheck]\npass = ${pass}\n`, examples)).checks;
      assert.equal(check?.description, 'my custom policy check');
      assert.deepEqual(await check?.run(fixtureView('user-1000')), { result }, pass);
    }
  });

  test('examples/my_checks.js: RequiredLabelsCheck validates its options and names the missing labels', async () => {
    const [check] = (await load('[my_checks.RequiredLabelsCheck]\nlabels = docker-monitor.test, owner\n', examples)).checks;
    assert.deepEqual(await check?.run(fixtureView('user-1000')), { result: 'fail', reason: 'missing label: owner' });
    assert.match(await loadError('[my_checks.RequiredLabelsCheck]\n', examples), /\[my_checks\.RequiredLabelsCheck\] labels: is required/);
    assert.match(
      await loadError('[my_checks.RequiredLabelsCheck]\nlabels = a\nlabel = b\n', examples),
      /label: unknown key \(did you mean labels\?\)/,
    );
  });

  test('examples/my_checks_ts.ts: TypeScript checks load through tsx', async () => {
    const { checks } = await load(
      '[my_checks_ts.MyPolicyCheck]\npass = pass fast\n\n[my_checks_ts.MaxProcessesCheck]\nmax = 1\n',
      examples,
    );
    assert.deepEqual(
      checks.map((check) => check.name),
      ['MyPolicyCheck', 'MaxProcessesCheck'],
    );
    assert.deepEqual(await checks[0]?.run(fixtureView('user-1000')), { result: 'pass_fast' });
    assert.deepEqual(await checks[1]?.run(fixtureView('user-1000')), { result: 'pass' });
    assert.deepEqual(await checks[1]?.run(fixtureView('exec-root')), { result: 'fail', reason: '2 processes running (at most 1)' });
    assert.match(await loadError('[my_checks_ts.MaxProcessesCheck]\nmax = many\n', examples), /max: "many" is not a whole number/);
  });

  test('examples/my-policy.ini loads, with its own checks after the built-ins', async () => {
    const { loadPolicy } = await import('../../src/config/load-policy.js');
    const policy = await loadPolicy(join(examples, 'my-policy.ini'), BUILT_IN_CHECKS);
    assert.deepEqual(policy.warnings, []);
    assert.deepEqual(
      policy.checks.map((check) => check.section),
      [
        'docker_monitor.checks.ActiveBuildCheck',
        'docker_monitor.checks.RunningAsRootCheck',
        'docker_monitor.checks.RootProcessCheck',
        'my_checks.MyPolicyCheck',
        'my_checks_ts.MaxProcessesCheck',
      ],
    );
  });
});
