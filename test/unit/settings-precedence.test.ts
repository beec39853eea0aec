/**
 * The settings made from src/config/setting-table.ts: the defaults, the file's keys over them, the flags
 * over the file, and the rules between flags (the engine named one way or the other, `-v` counting from
 * the chosen level, two names of one setting).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyFlags } from '../../src/config/flags.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { parseListenAddress } from '../../src/config/listen-address.js';
import { DEFAULT_SETTINGS, type Settings } from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';

async function fileSettings(ini: string): Promise<Settings> {
  return (await parsePolicy(ini, 'p.ini', {})).settings;
}

describe('settings from the table', () => {
  test('the defaults are those documented', () => {
    const expected: Settings = {
      alwaysAllow: [],
      action: 'kill',
      failFast: false,
      logFile: undefined,
      logLevel: 'info',
      logFormat: 'text',
      listenAddresses: [parseListenAddress(':10091')],
      telemetryPath: '/metrics',
      webConfigFile: undefined,
      grafanaUrl: undefined,
      webEnableLifecycle: false,
      refresh: 'scrape',
      hostname: undefined,
      enforce: false,
      dockerHost: undefined,
      dockerContext: undefined,
      dockerTlsVerify: undefined,
      dockerCertPath: undefined,
      dockerConcurrency: 8,
      dockerTimeoutMs: 10_000,
      processCacheTtlMs: 10_000,
      resyncIntervalMs: 5 * 60_000,
      statsdServer: undefined,
      statsdPrefix: 'docker_monitor',
      metricsResults: 'all',
      metricsContainerLabels: [],
    };
    assert.deepEqual(DEFAULT_SETTINGS, expected);
  });

  test("the file's keys over the defaults, the flags over the file", async () => {
    const file = await fileSettings(
      '[docker]\ntimeout = 20s\nconcurrency = 4\n[exporter]\nlisten_address = :9000, 127.0.0.1:9001\nenforce = on\n',
    );
    assert.equal(file.dockerTimeoutMs, 20_000);
    assert.equal(file.dockerConcurrency, 4);
    assert.deepEqual(
      file.listenAddresses.map((address) => address.text),
      [':9000', '127.0.0.1:9001'],
    );
    assert.equal(file.enforce, true);
    const flagged = applyFlags(file, { 'docker.timeout': '5s', 'web.listenAddress': [':9100'], enforce: false });
    assert.equal(flagged.dockerTimeoutMs, 5000);
    assert.equal(flagged.dockerConcurrency, 4, 'a flag not given leaves the file');
    assert.deepEqual(
      flagged.listenAddresses.map((address) => address.text),
      [':9100'],
    );
    assert.equal(flagged.enforce, false);
  });

  test('an engine setting remembers the flag or the key that gave it; a flag naming the engine drops the file’s other choice', async () => {
    const file = await fileSettings('[docker]\ncontext = remote\ntls_verify = on\n');
    assert.deepEqual(file.dockerContext, { value: 'remote', source: 'p.ini:2 [docker] context' });
    assert.deepEqual(file.dockerTlsVerify, { value: true, source: 'p.ini:3 [docker] tls_verify' });
    const flagged = applyFlags(file, { 'docker.host': 'tcp://engine:2376', 'docker.tlsVerify': false });
    assert.deepEqual(flagged.dockerHost, { value: 'tcp://engine:2376', source: '--docker.host' });
    assert.equal(flagged.dockerContext, undefined);
    assert.deepEqual(flagged.dockerTlsVerify, { value: false, source: '--docker.tls-verify' });
    const both = applyFlags(file, { 'docker.host': 'tcp://engine:2376', 'docker.context': 'other' });
    assert.deepEqual(both.dockerContext, { value: 'other', source: '--docker.context' });
    assert.deepEqual(both.dockerHost, { value: 'tcp://engine:2376', source: '--docker.host' });
  });

  test('-v counts from the level the flag or the file chose', async () => {
    const file = await fileSettings('[logging]\nlevel = ERROR\n');
    assert.equal(applyFlags(file, { verbose: 2 }).logLevel, 'info');
    assert.equal(applyFlags(file, { verbose: 1, 'log.level': 'info' }).logLevel, 'debug');
    assert.equal(applyFlags(file, { verbose: 0 }).logLevel, 'error');
  });

  test('two names of one setting given together, and bad values, are one line naming the flag', () => {
    assert.throws(
      () => applyFlags(DEFAULT_SETTINGS, { refresh: '30s', check: '30s' }),
      (error) => error instanceof UsageError && error.message === '--refresh and --check mean the same thing: give one of them',
    );
    assert.equal(applyFlags(DEFAULT_SETTINGS, { check: '30s' }).refresh, 30_000);
    assert.throws(
      () => applyFlags(DEFAULT_SETTINGS, { 'web.listenAddress': [':9100', 'nonsense'] }),
      (error) => error instanceof UsageError && /^--web\.listen-address: "nonsense" is not host:port/.test(error.message),
    );
    assert.throws(
      () => applyFlags(DEFAULT_SETTINGS, { 'web.grafanaUrl': 'ftp://grafana' }),
      (error) => error instanceof UsageError && error.message === '--web.grafana-url: "ftp://grafana" is not an http:// or https:// URL',
    );
  });

  test('the flag and the file read a setting alike: --log.format JSON is [logging] format = JSON', async () => {
    assert.equal(applyFlags(DEFAULT_SETTINGS, { 'log.format': 'JSON' }).logFormat, 'json');
    assert.equal((await fileSettings('[logging]\nformat = JSON\n')).logFormat, 'json');
  });

  test('an empty [policy] action is refused rather than read as kill', async () => {
    await assert.rejects(fileSettings('[policy]\naction =\n'), {
      message: 'p.ini:2 [policy] action: is empty; give one of warn, stop, kill, pause',
    });
  });
});
