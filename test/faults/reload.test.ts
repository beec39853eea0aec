/**
 * SIGHUP and `POST /-/reload` as operators meet them: logrotate's real `create` (move, then HUP) and
 * `copytruncate` modes, a policy that breaks between reloads, the lifecycle flag. No engine is needed:
 * the exporter points at a socket that does not exist, and reloading does not depend on it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eventually } from '../helpers/wait.js';
import { scaled } from '../helpers/time-scale.js';
import { FaultRecord } from './fault-record.js';
import { Served, sample } from './served.js';

const record = new FaultRecord('reload');
const dir = mkdtempSync(join(tmpdir(), 'dm-reload-'));
after(() => {
  record.write();
  rmSync(dir, { recursive: true, force: true });
});

const NO_ENGINE = ['--docker.host', 'unix:///nonexistent/docker.sock'];
const GOOD_POLICY = '[docker_monitor.checks.RunningAsRootCheck]\n[docker_monitor.checks.ActiveBuildCheck]\n';

function policyWithLog(name: string, checks = GOOD_POLICY): { policy: string; log: string } {
  const log = join(dir, `${name}.log`);
  const policy = join(dir, `${name}.ini`);
  writeFileSync(policy, `[logging]\nlog_file = ${log}\n${checks}`);
  return { policy, log };
}

/** Runs Debian's logrotate once, forced, on `log` with the given mode's lines. */
function logrotate(name: string, log: string, lines: string): void {
  const config = join(dir, `${name}.logrotate`);
  writeFileSync(config, `${log} {\n  rotate 2\n  missingok\n  nocompress\n${lines}\n}\n`);
  execFileSync('logrotate', ['--force', '--state', join(dir, `${name}.state`), config]);
}

/** The log file's text once it holds `text` (the file may not exist yet). */
const logContains = (log: string, text: string): Promise<string> =>
  eventually(
    async () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    (content) => content.includes(text),
    10_000,
    `"${text}" in ${log}`,
  );

/** `serve` with `args` for the length of `body`, which must leave it to exit 0 on SIGTERM. */
async function whileServing(args: readonly string[], body: (served: Served) => Promise<void>): Promise<void> {
  const served = await Served.start(args);
  try {
    await body(served);
  } finally {
    assert.equal(await served.stop(), 0);
  }
}

const reloadMetric = async (served: Served): Promise<number | undefined> =>
  sample((await served.get('/metrics')).body, 'docker_monitor_config_last_reload_successful');

test("SIGHUP after logrotate's create (move, then HUP) reopens the log: the exporter lives on and writes to the new file", async () => {
  const { policy, log } = policyWithLog('create');
  await whileServing(['-f', policy, ...NO_ENGINE], async (served) => {
    await logContains(log, 'docker-monitor is serving');
    logrotate('create', log, `  create 0640 root root\n  postrotate\n    kill -HUP ${served.child.pid}\n  endscript`);
    const fresh = await logContains(log, 'configuration reloaded');
    assert.ok(served.alive, 'still serving after SIGHUP');
    assert.doesNotMatch(fresh, /docker-monitor is serving/, 'the new file starts empty');
    assert.match(readFileSync(`${log}.1`, 'utf8'), /docker-monitor is serving/, 'the moved file kept the old lines');
    assert.equal(await reloadMetric(served), 1);
    record.add({
      fault: "SIGHUP (logrotate's `create` + postrotate `kill -HUP`)",
      outcome: 'the log file is reopened and the configuration reloaded; serving goes on (it used to end the exporter)',
      figures: `alive after HUP; new file ${fresh.split('\n').length - 1} line(s), moved file kept the start-up lines`,
    });
  });
});

test("logrotate's copytruncate: writing goes on at the start of the truncated file, with no hole of NUL bytes", async () => {
  const { policy, log } = policyWithLog('copytruncate');
  await whileServing(['-f', policy, ...NO_ENGINE, '--web.enable-lifecycle'], async (served) => {
    await logContains(log, 'docker-monitor is serving');
    logrotate('copytruncate', log, '  copytruncate');
    assert.equal((await fetch(`${served.url}/-/reload`, { method: 'POST' })).status, 200);
    const text = await logContains(log, 'configuration reloaded');
    assert.ok(!text.includes('\u0000'), 'no NUL bytes where the old content was');
    assert.match(text, /^\[\d{4}-/, 'the file starts with a whole record');
    record.add({
      fault: "logrotate's `copytruncate`",
      outcome: 'appends continue at the start of the truncated file',
      figures: `${Buffer.byteLength(text)} bytes after truncation, 0 NUL bytes`,
    });
  });
});

test('a policy broken between reloads: the running one stays, one error line names the place, the reload metric says 0', async () => {
  const { policy, log } = policyWithLog('broken');
  await whileServing(['-f', policy, ...NO_ENGINE, '--web.enable-lifecycle'], async (served) => {
    const before = sample((await served.get('/metrics')).body, 'docker_monitor_config_last_reload_success_timestamp_seconds');
    writeFileSync(policy, `[logging]\nlog_file = ${log}\n${GOOD_POLICY}[docker_monitor.checks.NoSuchCheck]\n`);
    served.child.kill('SIGHUP');
    await eventually(
      () => reloadMetric(served),
      (value) => value === 0,
      10_000,
      'the reload metric at 0',
    );
    const errors = readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.includes('reload failed'));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', new RegExp(`${policy.replaceAll('/', '\\/')}:5 \\[docker_monitor\\.checks\\.NoSuchCheck\\]`));
    const info = (await served.get('/metrics')).body;
    assert.equal(sample(info, 'docker_monitor_config_last_reload_success_timestamp_seconds'), before, 'the success time stays');
    assert.match(info, /docker_monitor_check_info\{check="ActiveBuildCheck"/, 'the running checks stay');
    // Fixed, and reloaded over HTTP: 1 again, and a check removed from the file is gone from the metrics.
    writeFileSync(policy, `[logging]\nlog_file = ${log}\n[docker_monitor.checks.RunningAsRootCheck]\n`);
    const response = await fetch(`${served.url}/-/reload`, { method: 'POST' });
    assert.equal(response.status, 200, await response.text());
    const after = (await served.get('/metrics')).body;
    assert.equal(sample(after, 'docker_monitor_config_last_reload_successful'), 1);
    assert.doesNotMatch(after, /docker_monitor_check_info\{check="ActiveBuildCheck"/);
    record.add({
      fault: 'a policy broken between reloads (SIGHUP)',
      outcome:
        'the running policy stays; one error line with file:line [section]; docker_monitor_config_last_reload_successful 0, then 1 once fixed',
      figures: `${errors.length} error line; success timestamp unchanged`,
    });
  });
});

test('POST /-/reload is refused without --web.enable-lifecycle', async () => {
  const { policy } = policyWithLog('lifecycle');
  await whileServing(['-f', policy, ...NO_ENGINE], async (served) => {
    const response = await fetch(`${served.url}/-/reload`, { method: 'POST' });
    assert.equal(response.status, 403);
    record.add({
      fault: 'POST /-/reload without --web.enable-lifecycle',
      outcome: 'refused, as Prometheus does',
      figures: `HTTP ${response.status}`,
    });
  });
});

test('a request whose headers never finish is cut off after the 10 s header timeout, not held for minutes', async () => {
  const { policy } = policyWithLog('slowloris');
  await whileServing(['-f', policy, ...NO_ENGINE], async (served) => {
    const socket = connect(served.port, '127.0.0.1');
    await once(socket, 'connect');
    const started = performance.now();
    socket.write('GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = once(socket, 'close');
    const deadline = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), scaled(30_000)).unref());
    assert.notEqual(await Promise.race([closed, deadline]), 'open', 'still open after 30 s');
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds >= 9, `cut off after ${seconds.toFixed(1)} s, before the header timeout`);
    record.add({
      fault: 'a request whose headers never finish (no header timeout)',
      outcome: `cut off by the 10 s header timeout${answer.startsWith('HTTP/1.1 408') ? ' with 408' : ''}; at most 512 connections at once`,
      figures: `closed after ${seconds.toFixed(1)} s`,
    });
  });
});

test('a full disk: log records are counted as dropped, and logging resumes once space returns', async (t) => {
  const mount = mkdtempSync(join(tmpdir(), 'dm-full-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount]);
  t.after(() => {
    execFileSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  });
  const log = join(mount, 'dm.log');
  const policy = join(dir, 'full-disk.ini');
  writeFileSync(policy, `[logging]\nlog_file = ${log}\n${GOOD_POLICY}`);
  await whileServing(['-f', policy, ...NO_ENGINE, '--web.enable-lifecycle'], async (served) => {
    const filler = join(mount, 'filler');
    // Fills what is left of the tmpfs; dd ends with "No space left on device".
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // Expected: the disk is full.
    }
    const dropped = async (): Promise<number> =>
      sample((await served.get('/metrics')).body, 'docker_monitor_log_records_dropped_total{reason="no_space"}') ?? 0;
    // The log file's last page may still hold a few lines: log until records are dropped.
    const count = await eventually(
      async () => {
        await fetch(`${served.url}/-/reload`, { method: 'POST' });
        return dropped();
      },
      (value) => value >= 1,
      20_000,
      'dropped records counted',
    );
    rmSync(filler);
    await fetch(`${served.url}/-/reload`, { method: 'POST' });
    const text = await logContains(log, 'configuration reloaded');
    assert.ok(served.alive);
    record.add({
      fault: 'a full disk under the log file',
      outcome:
        'records that cannot be written are counted in docker_monitor_log_records_dropped_total{reason="no_space"}; writing resumes once space returns',
      figures: `${count} dropped on a full 256 KiB tmpfs; writing resumed (${Buffer.byteLength(text)} bytes in the file after)`,
    });
  });
});

test('a log file deleted while serving is made again when its absence is noticed', async () => {
  const { policy, log } = policyWithLog('deleted');
  await whileServing(['-f', policy, ...NO_ENGINE, '--web.enable-lifecycle'], async (served) => {
    await logContains(log, 'docker-monitor is serving');
    rmSync(log);
    // The path is looked at no more than once a second: reload until a line lands in a new file.
    await eventually(
      async () => {
        await fetch(`${served.url}/-/reload`, { method: 'POST' });
        return existsSync(log) ? readFileSync(log, 'utf8') : '';
      },
      (text) => text.includes('configuration reloaded'),
      10_000,
      'a new log file',
    );
    record.add({
      fault: 'the log file deleted while serving',
      outcome: 'a new file is made at the path within a second',
      figures: 'new file written',
    });
  });
});
