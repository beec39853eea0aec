/**
 * Users' checks that misbehave: a busy loop, process.exit, an exception thrown from a timer, garbage,
 * data that cannot leave the worker, a 10 MB reason, an unhandled rejection, a reason that tries to forge
 * log lines, an import that never settles, loops or exits. Each is an `error` result (or a bounded,
 * escaped reason) or a configuration error at load; the other results stay intact and, in serve, later
 * runs work again in a new worker thread. On a private engine, so the checks see only this test's containers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTestImage, requireEngine, type TestContainer } from '../helpers/docker.js';
import { eventually } from '../helpers/wait.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { FaultRecord } from './fault-record.js';
import { CLI, Served, sample } from './served.js';
import { scaled } from '../helpers/time-scale.js';

const record = new FaultRecord('user-checks');
const fixture = (name: string): string => new URL(`fixtures/${name}`, import.meta.url).pathname;
const engine = new PrivateEngine('16uchk');
const dir = mkdtempSync(join(tmpdir(), 'dm-user-checks-'));
/** The container the checks misbehave on (labelled docker-monitor.fault), and one they treat well. */
let faulty: TestContainer;
let plain: TestContainer;

before(async () => {
  await requireEngine();
  await ensureTestImage();
  await engine.start();
  await engine.loadTestImage();
  faulty = await engine.startContainer(['--label', 'docker-monitor.fault=1']);
  plain = await engine.startContainer(['--user', '1000']);
});
after(async () => {
  record.write();
  await engine.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function runCheck(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'check', '--docker.host', engine.host, ...args],
      { timeout: scaled(timeoutMs), maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
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
  const resultsOf = (name: string): Map<string, JsonResult> => {
    const entry = report.containers.find((candidate) => candidate.name === name);
    assert.ok(entry !== undefined, `${name} is in the report`);
    return new Map(entry.results.map((one) => [one.check, one]));
  };
  const byCheck = resultsOf(faulty.name);
  const expectError = (check: string, reason: RegExp): void => {
    assert.equal(byCheck.get(check)?.result, 'error', `${check}: ${JSON.stringify(byCheck.get(check))}`);
    assert.match(byCheck.get(check)?.reason ?? '', reason);
  };
  expectError('ExitCheck', /process\.exit/);
  expectError('GarbageCheck', /returned .*; a check returns/);
  expectError('RejectionCheck', /^unhandled rejection: left unhandled by a check$/);
  expectError('BusyCheck', /^timed out after 2000 ms$/);
  expectError('TimerThrowCheck', /uncaught exception: thrown from a timer; its worker thread was stopped and is restarted/);
  expectError('UncloneableCheck', /cannot leave its worker thread/);
  assert.equal(byCheck.get('HugeReasonCheck')?.result, 'pass');
  assert.ok((byCheck.get('HugeReasonCheck')?.reason ?? '').length < 1_100, 'the 10 MB reason is cut');
  assert.match(byCheck.get('HugeReasonCheck')?.reason ?? '', /\(10485765 characters, cut\)$/);
  assert.equal(byCheck.get('OpenPortsCheck')?.result, 'pass', 'a well-behaved user check after them still ran');
  assert.equal(byCheck.get('RunningAsRootCheck')?.result, 'fail', 'the built-in check after them still ran');
  // The other container: the checks that misbehave only on the faulty one pass on it (BusyCheck may have
  // waited behind the busy run in the same worker thread, so it is not asserted).
  const other = resultsOf(plain.name);
  for (const check of ['TimerThrowCheck', 'UncloneableCheck', 'OpenPortsCheck', 'RunningAsRootCheck']) {
    assert.equal(other.get(check)?.result, 'pass', `${check} on the other container: ${JSON.stringify(other.get(check))}`);
  }
  assert.ok(result.ms < scaled(30_000), `check took ${result.ms} ms`);
  assert.ok(!/^\s+at /m.test(result.stderr), `no stack trace: ${result.stderr.slice(0, 2000)}`);
  record.add({
    fault:
      "users' checks on one container that loop forever, call process.exit, throw from a timer, return garbage, data that cannot be copied or a 10 MB reason, leave a rejection unhandled",
    outcome:
      "each is an error result for that check on that container (the busy loop at its timeout; its worker thread stopped and restarted); reasons cut at 1 000 characters; the other checks and the other container's results intact; no stack trace",
    figures: `check finished in ${(result.ms / 1000).toFixed(1)} s with exit 1 (BusyCheck timeout 2 s)`,
  });
});

test('serve: a check stuck in a busy loop or crashing its worker is an error, /metrics keeps answering, and later runs work again', async () => {
  const marker = join(dir, 'misbehave');
  writeFileSync(marker, '');
  const served = await Served.start(['-f', fixture('misbehaving.ini'), '--docker.host', engine.host, '--refresh', '2s'], {
    ...process.env,
    DM_FAULT_MARKER: marker,
  });
  try {
    const series = (check: string, container: TestContainer): string =>
      `docker_monitor_check_result{check="${check}",container="${container.name}"}`;
    const scrapes: number[] = [];
    const scrape = async (): Promise<string> => {
      const response = await served.get('/metrics');
      assert.equal(response.status, 200);
      scrapes.push(response.ms);
      return response.body;
    };
    // Erroring: the worker threads of BusyCheck and TimerThrowCheck are stopped and restarted at each refresh.
    const started = performance.now();
    const failing = await eventually(
      scrape,
      (body) => sample(body, series('BusyCheck', faulty)) === 0 && sample(body, series('TimerThrowCheck', faulty)) === 0,
      30_000,
      'BusyCheck and TimerThrowCheck in error',
    );
    const errorAfter = performance.now() - started;
    assert.equal(sample(failing, series('RunningAsRootCheck', faulty)), 0, 'the built-in check ran on the faulty container');
    assert.equal(sample(failing, series('RunningAsRootCheck', plain)), 1, 'the built-in check ran on the other container');
    assert.equal(sample(failing, series('OpenPortsCheck', plain)), 1);
    assert.equal(sample(failing, `my_published_ports{container="${plain.name}"}`), 0, "a user check's own metric");
    // Scrapes while the busy loops run are answered at once: the loops block their worker threads only.
    for (let index = 0; index < 5; index += 1) await scrape();
    rmSync(marker);
    await eventually(
      scrape,
      (body) => sample(body, series('BusyCheck', faulty)) === 1 && sample(body, series('TimerThrowCheck', faulty)) === 1,
      60_000,
      'BusyCheck and TimerThrowCheck passing again in new worker threads',
    );
    assert.ok(served.alive);
    const stops = served.output.split('\n').filter((line) => line.includes("user check's worker thread stopped; starting a new one"));
    assert.deepEqual(
      stops.map((line) => /"check":"(\w+)"/.exec(line)?.[1]).sort(),
      ['BusyCheck', 'TimerThrowCheck'],
      served.output.slice(-3000),
    );
    assert.equal(
      served.output.split('\n').filter((line) => line.includes("user check's worker thread works again")).length,
      2,
      served.output.slice(-3000),
    );
    const slowest = Math.max(...scrapes);
    assert.ok(slowest < scaled(2_000), `slowest scrape ${slowest} ms`);
    assert.equal(await served.stop(), 0);
    record.add({
      fault: 'serve: a check in a busy loop and a check whose worker thread dies on one container, at every refresh (2 s), then well again',
      outcome:
        'error results for those checks on that container; /metrics answers throughout; each worker thread stopped and restarted (one warning per check, one line when it works again); passing again once the check behaves; exit 0 on SIGTERM',
      figures: `errors shown ${(errorAfter / 1000).toFixed(1)} s after start; ${scrapes.length} scrapes, slowest ${Math.round(slowest)} ms`,
    });
  } finally {
    if (served.alive) await served.stop();
  }
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

test('a module stuck in a busy loop while it loads is a configuration error after 10 s', async () => {
  const result = await runCheck(['-f', fixture('busy_on_import.ini')]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /^docker-monitor: .*busy_on_import\.ini:1 \[busy_on_import\.BusyOnImportCheck\]: module .*busy_on_import\.mjs could not be loaded: .*did not finish loading within 10 s\n$/,
  );
  record.add({
    fault: "a user's check module stuck in a busy loop while it loads",
    outcome: 'exit 2 with one line naming the file and section (its worker thread is stopped)',
    figures: `exit after ${(result.ms / 1000).toFixed(1)} s`,
  });
});

test("bounds: output never reaches check's JSON, a heap past memory_limit, output past output_limit and processes left behind are that run's error", async () => {
  // -v: `check` logs only warnings and errors by default, and a check's own output is logged at info.
  const result = await runCheck(['-f', fixture('bounded.ini'), '--format', 'json', '-v']);
  assert.equal(result.code, 1, result.stderr);
  // Before the bounds, the worker's stdout was the command's: the JSON began with ChattyCheck's line.
  const report = JSON.parse(result.stdout) as { containers: { name: string; results: JsonResult[] }[] };
  const results = new Map(report.containers.find((entry) => entry.name === plain.name)?.results.map((one) => [one.check, one]));
  assert.equal(results.get('ChattyCheck')?.result, 'pass');
  assert.match(
    result.stderr,
    /user check's output.*"check":"ChattyCheck"|ChattyCheck.*user check's output/,
    'the output is logged with the check',
  );
  assert.equal(results.get('MemoryHogCheck')?.result, 'error');
  assert.match(results.get('MemoryHogCheck')?.reason ?? '', /memory limit \(memory_limit 64MiB\)/);
  assert.equal(results.get('FloodCheck')?.result, 'error');
  assert.match(results.get('FloodCheck')?.reason ?? '', /more than 64KiB .*output_limit/);
  assert.equal(results.get('SpawnerCheck')?.result, 'error');
  assert.match(results.get('SpawnerCheck')?.reason ?? '', /left 1 process running after its run; ended/);
  const left: string = await new Promise((resolve) =>
    execFile('pgrep', ['-f', 'sleep 987.6'], (_error, stdout) => resolve(String(stdout).trim())),
  );
  assert.equal(left, '', 'no process a check started outlives the command');
  record.add({
    fault:
      "users' checks without bounds: console.log in `check --format json`, a 4 GB heap, 20 MB of output per run, processes left behind",
    outcome:
      "output is logged with the check name, never in the report; each bound hit is that run's `error`: memory_limit (default 256MiB), output_limit (default 1MiB), processes ended with the run",
    figures: `JSON parses; 0 processes left (pgrep); command ${Math.round(result.ms)} ms`,
  });
});
