/**
 * Users' checks that misbehave: process.exit, garbage, a 10 MB reason, an unhandled rejection, a reason
 * that tries to forge log lines, an import that never settles or exits. Each is an `error` result (or a
 * bounded, escaped reason) or a configuration error at load; the other results stay intact.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { ensureTestImage, removeTestContainers, requireEngine, startContainer, type TestContainer } from '../helpers/docker.js';
import { FaultRecord } from './fault-record.js';
import { CLI } from './served.js';

const record = new FaultRecord('user-checks');
const fixture = (name: string): string => new URL(`fixtures/${name}`, import.meta.url).pathname;
let container: TestContainer;

before(async () => {
  await requireEngine();
  await ensureTestImage();
  container = await startContainer();
});
after(async () => {
  record.write();
  await removeTestContainers();
});

function runCheck(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'check', ...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

interface JsonResult {
  check: string;
  result: string;
  reason?: string;
}

test('misbehaving checks give error results; the command finishes and every other result is intact', async () => {
  const result = await runCheck(['-f', fixture('misbehaving.ini'), '--format', 'json']);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout) as { containers: { name: string; results: JsonResult[] }[] };
  const ours = report.containers.find((entry) => entry.name === container.name);
  assert.ok(ours !== undefined, 'the test container is in the report');
  const byCheck = new Map(ours.results.map((entry) => [entry.check, entry]));
  assert.equal(byCheck.get('ExitCheck')?.result, 'error');
  assert.match(byCheck.get('ExitCheck')?.reason ?? '', /process\.exit/);
  assert.equal(byCheck.get('GarbageCheck')?.result, 'error');
  assert.equal(byCheck.get('HugeReasonCheck')?.result, 'pass');
  assert.ok((byCheck.get('HugeReasonCheck')?.reason ?? '').length < 1_100, 'the 10 MB reason is cut');
  assert.equal(byCheck.get('RejectionCheck')?.result, 'pass');
  assert.equal(byCheck.get('RunningAsRootCheck')?.result, 'fail', 'the built-in check after them still ran');
  assert.ok(!/^\s+at /m.test(result.stderr), `no stack trace: ${result.stderr.slice(0, 2000)}`);
  assert.match(result.stderr, /unhandled rejection \(ignored; please report it\)/);
  record.add({
    fault: "users' checks that call process.exit, return garbage, return a 10 MB reason, leave a rejection unhandled",
    outcome:
      'process.exit throws inside the check (error result); garbage is an error result; reasons are cut at 1 000 characters; the rejection is logged on one line; the other checks run',
    figures: `check finished in ${(result.ms / 1000).toFixed(1)} s with exit 1`,
  });
});

test('a reason or command line with newlines and escapes cannot forge log lines', async () => {
  const result = await runCheck(['-f', fixture('misbehaving.ini'), '--format', 'text', '--log.level', 'debug']);
  // The text log goes to standard error: every line is a record of its own, and none is the forged one.
  // The log (standard error) and the table (standard output): every line is a record or a row of its own.
  const output = `${result.stderr}\n${result.stdout}`;
  const lines = output.split('\n').filter((line) => line !== '');
  assert.ok(!lines.some((line) => line.startsWith('[2026-01-01 00:00:00.000] ERROR: forged line')), output.slice(0, 3000));
  assert.ok(!output.includes('\u001b[31m') && !output.includes('\u2028'), 'a terminal escape or line separator reached the output');
  assert.ok(
    result.stdout.includes('line one\\u000a[2026-01-01 00:00:00.000] ERROR: forged line\\u001b[31m red \\u2028'),
    'the reason is shown, escaped',
  );
  assert.ok(!/^\s+err: /m.test(result.stderr), 'every log record on one line');
  record.add({
    fault: 'a check reason with a newline, a fake log line, an ANSI escape and U+2028',
    outcome: 'control characters in log messages are written as \\uXXXX: one record, one line',
    figures: `${lines.length} log lines, none forged`,
  });
});

test('a module whose import never settles is a configuration error after 10 s, not a hang or exit 13', async () => {
  const result = await runCheck(['-f', fixture('never_settles.ini')]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /^docker-monitor: .*never_settles\.ini:1 \[never_settles\.NeverCheck\]: module .*never_settles\.mjs could not be loaded: .*did not finish loading within 10 s\n$/,
  );
  record.add({
    fault: "a user's check module whose top-level await never settles",
    outcome: 'exit 2 with one line naming the file and section',
    figures: `exit after ${(result.ms / 1000).toFixed(1)} s`,
  });
});

test('a module that calls process.exit while it loads is a configuration error', async () => {
  const result = await runCheck(['-f', fixture('exits_on_import.ini')]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /^docker-monitor: .*exits_on_import\.ini:1 \[exits_on_import\.ExitOnImportCheck\]: module .* could not be loaded: called process\.exit\(0\), which a check may not do\n$/,
  );
  record.add({
    fault: "a user's check module that calls process.exit while it loads",
    outcome: 'exit 2 with one line naming the file and section',
    figures: `exit after ${(result.ms / 1000).toFixed(1)} s`,
  });
});

// Not isolated (see docs/faults.md): a check with a synchronous busy loop blocks the event loop, and
// with it the exporter, until it returns.
