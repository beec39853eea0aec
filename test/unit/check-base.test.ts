/**
 * The strict base of built-in checks: the example in docs/contributing.md ("Adding a built-in check"),
 * taken from the page as written, type-checks, loads and decides on captured containers; without its
 * `inputs` it does not type-check; and every registered built-in declares what it reads and rejects
 * keys it does not know.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import ts from 'typescript';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { ConfigError } from '../../src/errors.js';
import { isCheckClass, type CheckClass } from '../../src/policy/policy-check.js';
import { CHECK_INPUTS } from '../../src/policy/types.js';
import { fixtureView } from '../helpers/fixture-view.js';

const REPO_ROOT = join(import.meta.dirname, '../..');

/** The first TypeScript block of the page's "Adding a built-in check", with the list's indent taken off. */
function contributingExample(): string {
  const page = readFileSync(join(REPO_ROOT, 'docs/contributing.md'), 'utf8');
  const section = page.slice(page.indexOf('## Adding a built-in check'));
  const block = /^( *)```ts\n([\s\S]*?)^\1```$/m.exec(section);
  assert.ok(block, 'docs/contributing.md has a ```ts block under "Adding a built-in check"');
  const indent = block[1] ?? '';
  return (block[2] ?? '').replaceAll(new RegExp(`^${indent}`, 'gm'), '');
}

/** Type errors in `files`, with the repository's compiler options, as one string per error. */
function typeErrors(files: readonly string[]): string[] {
  const configFile = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), ts.sys.readFile.bind(ts.sys));
  // Without rootDir, the repository's: the example is compiled from where the test wrote it.
  const { rootDir: _rootDir, ...options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO_ROOT).options;
  const program = ts.createProgram(files, { ...options, noEmit: true });
  return files.flatMap((file) =>
    ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((diagnostic) => `${file}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`),
  );
}

let dir = '';
let example = '';
let withoutInputs = '';
let LogDriverCheck: CheckClass;

before(async () => {
  // The example lives in src/checks/ and imports ../policy/: the same layout, with src/policy linked in.
  dir = mkdtempSync(join(tmpdir(), 'dm-check-base-'));
  mkdirSync(join(dir, 'src', 'checks'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(REPO_ROOT, 'src', 'policy'), join(dir, 'src', 'policy'), 'dir');
  const code = contributingExample();
  example = join(dir, 'src', 'checks', 'log-driver-check.ts');
  writeFileSync(example, code);
  assert.match(code, /^ *inputs: \[.*\],\n/m);
  withoutInputs = join(dir, 'src', 'checks', 'without-inputs.ts');
  writeFileSync(withoutInputs, code.replace(/^ *inputs: \[.*\],\n/m, ''));
  const exported = ((await import(pathToFileURL(example).href)) as Record<string, unknown>)['LogDriverCheck'];
  assert.ok(isCheckClass(exported), 'the example exports LogDriverCheck, a check class');
  LogDriverCheck = exported;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `[docker_monitor.checks.<name>]` with `body`, loaded as from test.ini with the example registered beside the built-ins. */
async function load(name: string, body = '') {
  const { checks } = await parsePolicy(`[docker_monitor.checks.${name}]\n${body}`, 'test.ini', { ...BUILT_IN_CHECKS, LogDriverCheck });
  assert.ok(checks[0]);
  return checks[0];
}

/** The one-line message of the ConfigError loading the section gives. */
async function loadError(name: string, body: string): Promise<string> {
  let message = '';
  await assert.rejects(load(name, body), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    message = error.message;
    return true;
  });
  return message;
}

describe("docs/contributing.md's example of a new check", () => {
  test('type-checks as written; without its inputs it does not', () => {
    const errors = typeErrors([example, withoutInputs]);
    assert.deepEqual(
      errors.filter((error) => error.startsWith(example)),
      [],
    );
    const missing = errors.filter((error) => error.startsWith(withoutInputs));
    assert.equal(missing.length, 1, missing.join('\n'));
    assert.match(missing[0] ?? '', /Property 'inputs' is missing/);
  });

  test('loads with its declaration: metadata, inputs and the default of its option', async () => {
    const check = await load('LogDriverCheck');
    assert.equal(check.name, 'LogDriverCheck');
    assert.equal(check.description, "the container's log driver keeps its logs");
    assert.match(check.remediation ?? '', /--log-driver/);
    assert.equal(check.severity, 'low');
    assert.equal(check.scope, 'container');
    assert.deepEqual(check.inputs, ['inspect']);
    assert.deepEqual(await check.run(fixtureView('user-1000')), { result: 'pass' });
    assert.deepEqual(await check.run(fixtureView('classic-build-step')), { result: 'fail', reason: 'log driver none drops the logs' });
  });

  test('reads its option typed from the section, and rejects a key it does not declare in one line', async () => {
    const strict = await load('LogDriverCheck', 'dropping_drivers = json-file, none\n');
    assert.deepEqual(await strict.run(fixtureView('user-1000')), { result: 'fail', reason: 'log driver json-file drops the logs' });
    assert.equal(
      await loadError('LogDriverCheck', 'droping_drivers = none\n'),
      'test.ini:2 [docker_monitor.checks.LogDriverCheck] droping_drivers: unknown key (did you mean dropping_drivers?)',
    );
  });
});

describe('every built-in check is declared on the base', () => {
  for (const [name, checkClass] of Object.entries(BUILT_IN_CHECKS)) {
    test(`${name}: declares its inputs, options, description and remediation, and rejects an unknown key`, async () => {
      assert.ok(checkClass.inputs.length > 0 && checkClass.inputs.every((input) => CHECK_INPUTS.includes(input)), name);
      assert.equal(typeof checkClass.options, 'object');
      assert.ok(checkClass.description.length > 10 && checkClass.remediation.length > 10, name);
      const message = await loadError(name, 'no_such_key = 1\n');
      assert.ok(message.startsWith(`test.ini:2 [docker_monitor.checks.${name}] no_such_key: unknown key (`), message);
      assert.doesNotMatch(message, /\n/);
    });
  }
});
