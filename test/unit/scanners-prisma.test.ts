import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { complianceOutcome } from '../../src/checks/prisma-scan-check.js';
import {
  TARGET,
  TWISTCLI,
  imageId,
  invocations,
  liveProcessesInGroup,
  loadCheck,
  run,
  targetWithImage,
} from '../helpers/scanner-standins.js';
import { scaled } from '../helpers/time-scale.js';
import { eventually } from '../helpers/wait.js';

const TOKEN = 'tok-3f9a1c77e2';
const PASSWORD = 'pw-81b0c4d2aa';
const work = mkdtempSync(join(tmpdir(), 'dm-prisma-'));
let log = '';
let logs = 0;

function section(keys: string): string {
  return `[docker_monitor.checks.PrismaScanCheck]\n${keys}\n`;
}
const withToken = (extra = ''): string =>
  section(`twistcli_path = ${TWISTCLI}\nurl = https://console.example.com:8083\ntoken = ${TOKEN}\n${extra}`);

beforeEach(() => {
  logs += 1;
  log = join(work, `invocations-${logs}.log`);
  process.env['STANDIN_LOG'] = log;
  delete process.env['STANDIN_MODE'];
});
afterEach(() => {
  delete process.env['STANDIN_MODE'];
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('PrismaScanCheck settings, checked when the policy loads', () => {
  test('the CFPB README example, with empty values, is one error naming the section and every empty key', async () => {
    const ini = section('twistcli_path =\ntoken =\nurl =');
    await assert.rejects(loadCheck(ini, 'cfpb.ini'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^cfpb\.ini:1 \[docker_monitor\.checks\.PrismaScanCheck\]: /);
      assert.match(error.message, /twistcli_path, url and token \(or user and password\) must be set/);
      assert.equal(error.message.split('\n').length, 1);
      return true;
    });
  });

  test('the CLI prints that one line and exits 2 before reaching the engine', () => {
    const file = join(work, 'cfpb.ini');
    writeFileSync(file, `[policy]\nalways_allow =\n\n${section('twistcli_path =\ntoken =\nurl =')}`);
    const cli = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
    const result = spawnSync(process.execPath, ['--import', 'tsx', cli, 'check', '-f', file], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    assert.equal(result.status, 2);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /cfpb\.ini:4 \[docker_monitor\.checks\.PrismaScanCheck\]: .*twistcli_path, url and token/);
  });

  test('names only the keys still missing', async () => {
    await assert.rejects(
      loadCheck(section(`twistcli_path = ${TWISTCLI}\nurl = https://c.example.com`)),
      /token \(or user and password\) must be set/,
    );
  });

  test('a password in TWISTLOCK_PASSWORD counts as credentials', async () => {
    process.env['TWISTLOCK_PASSWORD'] = PASSWORD;
    try {
      await loadCheck(section(`twistcli_path = ${TWISTCLI}\nurl = https://c.example.com`));
    } finally {
      delete process.env['TWISTLOCK_PASSWORD'];
    }
  });

  test('rejects a twistcli_path that is not an executable file', async () => {
    await assert.rejects(
      loadCheck(section(`twistcli_path = ${join(work, 'no-such-twistcli')}\nurl = https://c.example.com\ntoken = x`)),
      /\[docker_monitor\.checks\.PrismaScanCheck\]: check could not be created: twistcli_path: .*no-such-twistcli is not an executable file/,
    );
  });

  test('rejects a url that is not https, and token together with a password', async () => {
    await assert.rejects(
      loadCheck(section(`twistcli_path = ${TWISTCLI}\nurl = http://c.example.com\ntoken = x`)),
      /must start with https:\/\//,
    );
    await assert.rejects(loadCheck(section(`twistcli_path = ${TWISTCLI}\nurl = not a url\ntoken = x`)), /is not an address/);
    await assert.rejects(
      loadCheck(section(`twistcli_path = ${TWISTCLI}\nurl = https://c.example.com\ntoken = x\nuser = u\npassword = p`)),
      /give token, or user and password, not both/,
    );
  });

  test('rejects a cache_ttl, concurrency or timeout of zero', async () => {
    await assert.rejects(loadCheck(withToken('cache_ttl = 0s')), /cache_ttl must be longer than 0s/);
    await assert.rejects(loadCheck(withToken('concurrency = 0')), /concurrency must be at least 1/);
    await assert.rejects(loadCheck(withToken('timeout = 0s')), /timeout: "0s" must be longer than 0/);
  });
});

describe('PrismaScanCheck verdicts from twistcli output', () => {
  test('passes when twistcli reports the compliance threshold passed', async () => {
    const check = await loadCheck(withToken());
    assert.deepEqual(await run(check), { check: 'PrismaScanCheck', result: 'pass', reason: undefined });
  });

  test('passes on a compliance PASS even when the vulnerability threshold failed and twistcli exits 1, as the CFPB tool', async () => {
    process.env['STANDIN_MODE'] = 'compliance-pass';
    const check = await loadCheck(withToken());
    assert.equal((await run(check)).result, 'pass');
  });

  test("fails on a compliance FAIL, quoting twistcli's compliance counts", async () => {
    process.env['STANDIN_MODE'] = 'compliance-fail';
    const check = await loadCheck(withToken());
    const result = await run(check);
    assert.equal(result.result, 'fail');
    assert.equal(result.reason, 'Prisma Cloud compliance threshold check failed (total - 2, critical - 0, high - 2, medium - 0, low - 0)');
  });

  test('an error of twistcli itself is an error verdict whose reason never holds the token', async () => {
    process.env['STANDIN_MODE'] = 'error';
    const check = await loadCheck(withToken());
    const result = await run(check);
    assert.equal(result.result, 'error');
    assert.match(
      result.reason ?? '',
      /^twistcli gave no compliance result \(exit code 1\): Failed to authenticate .* with token \*\*\*: 401/,
    );
    assert.doesNotMatch(result.reason ?? '', new RegExp(TOKEN));
  });

  test('reads the verdict line however twistcli colours it', () => {
    assert.deepEqual(complianceOutcome('\u001b[1mCompliance threshold check results: \u001b[32mPASS\u001b[0m\n'), { result: 'pass' });
    assert.equal(complianceOutcome('Vulnerability threshold check results: PASS\n'), undefined);
  });
});

describe('PrismaScanCheck runs twistcli safely', () => {
  test('with user and password: both go through the environment, neither on the command line', async () => {
    const check = await loadCheck(
      section(`twistcli_path = ${TWISTCLI}\nurl = https://c.example.com:8083\nuser = ci-user\npassword = ${PASSWORD}`),
    );
    assert.equal((await run(check)).result, 'pass');
    const [started] = invocations(log);
    assert.ok(started);
    assert.match(started.line, / user=ci-user password=set args=images scan --address https:\/\/c\.example\.com:8083 sha256:[0-9a-f]{64}$/);
    assert.doesNotMatch(started.line, new RegExp(PASSWORD));
  });

  test('with a token: --token, then the image ID last (twistcli ignores options after the image)', async () => {
    const check = await loadCheck(withToken());
    await run(check);
    assert.match(
      invocations(log)[0]?.line ?? '',
      new RegExp(`args=images scan --address https://console\\.example\\.com:8083 --token ${TOKEN} ${TARGET.Image}$`),
    );
  });

  test('a hung scan becomes an error after `timeout`, and twistcli and its children are killed', async () => {
    process.env['STANDIN_MODE'] = 'hang';
    const check = await loadCheck(withToken('timeout = 400ms'));
    const started = Date.now();
    const result = await run(check);
    assert.equal(result.result, 'error');
    assert.ok(Date.now() - started < scaled(10_000), 'the verdict comes at the timeout, not when the scanner (600 s) ends');
    const [invocation] = invocations(log);
    assert.ok(invocation);
    await eventually(
      async () => liveProcessesInGroup(invocation.pid),
      (live) => live.length === 0,
      3_000,
      "twistcli's process group to end",
    );
  });

  test('a twistcli that disappeared after loading is an error verdict, not a crash', async () => {
    const copy = join(work, 'twistcli-copy');
    copyFileSync(TWISTCLI, copy);
    const check = await loadCheck(section(`twistcli_path = ${copy}\nurl = https://c.example.com\ntoken = ${TOKEN}`));
    rmSync(copy);
    const result = await run(check);
    assert.equal(result.result, 'error');
    assert.match(result.reason ?? '', /cannot run .*twistcli-copy: ENOENT/);
  });

  test('scans an image ID once for all its containers, and each image ID on its own', async () => {
    process.env['STANDIN_MODE'] = 'slow';
    const check = await loadCheck(withToken());
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => run(check, targetWithImage(imageId(1)))),
      run(check, targetWithImage(imageId(2))),
    ]);
    assert.ok(results.every((result) => result.result === 'pass'));
    await run(check, targetWithImage(imageId(1)));
    const scanned = invocations(log).map(({ line }) => line.split(' ').pop());
    assert.deepEqual(scanned.sort(), [imageId(1), imageId(2)]);
  });

  test('a failed scan is not cached: the next container of that image scans again', async () => {
    process.env['STANDIN_MODE'] = 'error';
    const check = await loadCheck(withToken());
    assert.equal((await run(check)).result, 'error');
    process.env['STANDIN_MODE'] = 'clean';
    assert.equal((await run(check)).result, 'pass');
    assert.equal(invocations(log).length, 2);
  });
});
