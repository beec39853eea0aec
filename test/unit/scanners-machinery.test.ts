import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findExecutable } from '../../src/scanners/executable.js';
import { ImageScanCache } from '../../src/scanners/image-scan-cache.js';
import { MAX_OUTPUT_BYTES, lastLine, runScanner, scrub } from '../../src/scanners/run-scanner.js';
import { ScanPool } from '../../src/scanners/scan-pool.js';
import { STANDINS, TRIVY } from '../helpers/scanner-standins.js';

describe('runScanner', () => {
  test('passes arguments as they are, without a shell', async () => {
    const output = await runScanner({ file: '/bin/echo', args: ['$HOME', '; id', '`id`'], timeoutMs: 5000 });
    assert.deepEqual(output, { exitCode: 0, stdout: '$HOME ; id `id`\n', stderr: '' });
  });

  test("adds the given variables to the scanner's environment", async () => {
    const output = await runScanner({ file: '/usr/bin/env', args: [], env: { TWISTLOCK_USER: 'ci' }, timeoutMs: 5000 });
    assert.match(output.stdout, /^TWISTLOCK_USER=ci$/m);
    assert.match(output.stdout, /^PATH=/m);
  });

  test('resolves with a non-zero exit code and the output, for the check to judge', async () => {
    const output = await runScanner({ file: '/bin/sh', args: ['-c', 'echo out; echo err >&2; exit 3'], timeoutMs: 5000 });
    assert.deepEqual(output, { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  test('closes standard input, so a scanner asking for a password gets end-of-file instead of waiting', async () => {
    const output = await runScanner({ file: '/bin/sh', args: ['-c', 'read answer; echo "read exit $?"'], timeoutMs: 5000 });
    assert.equal(output.stdout, 'read exit 1\n');
  });

  test('stops a scanner that prints more than the output limit', async () => {
    await assert.rejects(
      runScanner({ file: '/bin/sh', args: ['-c', `head -c ${MAX_OUTPUT_BYTES + 1_000_000} /dev/zero`], timeoutMs: 20_000 }),
      /sh printed more than 64 MiB; stopped/,
    );
  });

  test('a program that cannot be started is a rejection naming the file', async () => {
    await assert.rejects(runScanner({ file: '/nonexistent/trivy', args: [], timeoutMs: 5000 }), /cannot run \/nonexistent\/trivy: ENOENT/);
  });

  test('a scanner killed by a signal is a rejection', async () => {
    await assert.rejects(runScanner({ file: '/bin/sh', args: ['-c', 'kill -TERM $$'], timeoutMs: 5000 }), /sh was killed by SIGTERM/);
  });

  test('scrub() and lastLine() hide secrets in quoted output', () => {
    assert.equal(scrub('token abc and abc', ['abc', '']), 'token *** and ***');
    assert.equal(lastLine('first\nlast with s3cret\n\n', ['s3cret']), 'last with ***');
  });
});

describe('findExecutable', () => {
  test('takes a path as it is and looks a bare name up on PATH', () => {
    assert.equal(findExecutable(TRIVY), TRIVY);
    assert.match(findExecutable('sh'), /^\/.*\/sh$/);
    assert.throws(() => findExecutable('no-such-scanner-here'), /no-such-scanner-here was not found on PATH/);
    assert.throws(() => findExecutable(join(STANDINS, 'trivy-report.json')), /trivy-report\.json is not an executable file/);
    assert.throws(() => findExecutable('/usr/bin'), /is not an executable file/);
  });
});

describe('ScanPool', () => {
  test('never grows past the smallest concurrency any scanner asks for', () => {
    const pool = new ScanPool();
    assert.equal(pool.concurrency, 2);
    pool.request(4);
    assert.equal(pool.concurrency, 4);
    pool.request(1);
    pool.request(3);
    assert.equal(pool.concurrency, 1);
  });

  test('runs no more than its size at once', async () => {
    const pool = new ScanPool(3);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        pool.run(async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 10));
          running -= 1;
        }),
      ),
    );
    assert.equal(most, 3);
  });
});

describe('ImageScanCache', () => {
  test('shares a scan in flight, keeps its result for the TTL, then scans again', async () => {
    let now = 1_000;
    const cache = new ImageScanCache<string>(60_000, new ScanPool(), () => now);
    let scans = 0;
    const scan = async (): Promise<string> => `scan ${(scans += 1)}`;
    assert.deepEqual(await Promise.all([cache.get('sha256:a', scan), cache.get('sha256:a', scan)]), ['scan 1', 'scan 1']);
    now += 59_999;
    assert.equal(await cache.get('sha256:a', scan), 'scan 1');
    now += 1;
    assert.equal(await cache.get('sha256:a', scan), 'scan 2');
  });

  test('forgets a failed scan', async () => {
    const cache = new ImageScanCache<number>(60_000, new ScanPool());
    let scans = 0;
    const failing = (): Promise<number> => Promise.reject(new Error(`scan ${(scans += 1)} failed`));
    await assert.rejects(cache.get('sha256:a', failing), /scan 1 failed/);
    await assert.rejects(cache.get('sha256:a', failing), /scan 2 failed/);
    const counting = async (): Promise<number> => (scans += 1);
    assert.equal(await cache.get('sha256:a', counting), 3);
    assert.equal(await cache.get('sha256:a', counting), 3, 'a successful scan is kept');
  });
});
