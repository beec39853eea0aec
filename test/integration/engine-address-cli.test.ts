/**
 * The built CLI turns a bad engine address into one line on stderr and exit code 2, before it asks
 * any engine (test/unit/engine-address.test.ts checks the messages themselves without the build).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, runToEnd } from '../helpers/cli.js';

let home: string;

before(() => {
  home = mkdtempSync(join(tmpdir(), 'dm-engine-address-cli-'));
});
after(() => rmSync(home, { recursive: true, force: true }));

test('the CLI prints one line and exits 2', async () => {
  for (const [args, extra, expected] of [
    [['check', '--docker.host', 'npipe:////./pipe/docker_engine'], {}, /^docker-monitor: --docker\.host: "npipe:/],
    [['check', '--docker.context', 'nowhere'], {}, /^docker-monitor: --docker\.context: there is no docker context "nowhere"/],
    [
      ['check'],
      { DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' },
      /^docker-monitor: DOCKER_CERT_PATH: TLS is on but/,
    ],
  ] as const) {
    // Its own HOME, so ~/.docker is the test's and nothing of the caller's environment leaks in.
    const env = { HOME: home, USER: 'tester', PATH: process.env['PATH'], ...extra };
    const outcome = await runToEnd(process.execPath, [CLI, ...args], { env });
    assert.equal(outcome.code, 2, `${args.join(' ')}: ${outcome.stderr}`);
    assert.match(outcome.stderr, expected);
    assert.equal(outcome.stderr.trim().split('\n').length, 1, outcome.stderr);
  }
});
