import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { DEFAULT_POLICY_INI, DEFAULT_POLICY_NAME } from '../../src/config/default-policy.js';
import { loadPolicy, parsePolicy } from '../../src/config/load-policy.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors.js';
import { fixtureView } from '../helpers/fixture-view.js';

/** The CFPB Docker Monitor README's "Configuration" example, verbatim (trailing blanks included). */
const CFPB_EXAMPLE = `[policy]
always_allow =

[logging]
log_file = /tmp/docker_monitor.log

[docker_monitor.checks.ActiveBuildCheck]

[docker_monitor.checks.RunningAsRootCheck]
allow_root = off

[docker_monitor.checks.RunningAsRootCheck]
allow_root = off

[docker_monitor.checks.PrismaScanCheck]
twistcli_path = 
token = 
url = 
`;

/** The README's per-section examples (policy, logging, the two checks without Prisma), one after the other. */
const CFPB_SECTION_EXAMPLES = `[policy]
# Image IDs listed here are always allowed, and the checks defined below will 
# not run on them.
always_allow =

[logging]
# The file to log output from each scan to
log_file = /tmp/docker_monitor.log
# The log level to use when writing logs out
level = 

[docker_monitor.checks.RunningAsRootCheck]
allow_root = off

[docker_monitor.checks.ActiveBuildCheck]
`;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dm-load-policy-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The examples name log files in /tmp, which loading a policy creates (it checks they can be appended
 * to): each is moved into this test's own folder, so the test leaves nothing behind and another user's
 * run is not refused by a file this one made.
 */
function ownLogFiles(text: string): string {
  return text.replaceAll('log_file = /tmp/', `log_file = ${dir}/`);
}

/** Writes a policy file and loads it; resolves to the error it threw, if any. */
async function loadText(text: string, name = 'policy.ini') {
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, policy: await loadPolicy(path, BUILT_IN_CHECKS) };
}

async function loadError(text: string, name = 'policy.ini'): Promise<{ path: string; error: ConfigError }> {
  const path = join(dir, name);
  writeFileSync(path, text);
  try {
    await loadPolicy(path, BUILT_IN_CHECKS);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return { path, error };
  }
  assert.fail('the policy loaded');
}

describe('the CFPB README examples', () => {
  test('the Configuration example fails only on its PrismaScanCheck section, whose keys are empty', async () => {
    const { path, error } = await loadError(ownLogFiles(CFPB_EXAMPLE));
    // Until PrismaScanCheck exists this is "unknown built-in check"; once it does, its own validation of
    // the empty twistcli_path/token/url. Either way the error is about that section and says so.
    assert.equal(error.location.section, 'docker_monitor.checks.PrismaScanCheck');
    assert.match(
      error.message,
      new RegExp(`^${path.replaceAll('.', '\\.')}:1[5-8] \\[docker_monitor\\.checks\\.PrismaScanCheck\\]( \\w+)?: \\S`),
    );
  });

  test('without its Prisma section it loads: the duplicate section warns with its line and runs once, allow_root = off is off', async () => {
    const text = CFPB_EXAMPLE.slice(0, CFPB_EXAMPLE.indexOf('[docker_monitor.checks.PrismaScanCheck]'));
    const { path, policy } = await loadText(ownLogFiles(text));
    assert.deepEqual(policy.warnings, [
      `${path}:12: section [docker_monitor.checks.RunningAsRootCheck] is written again (first at line 9); its keys are merged and it runs once`,
    ]);
    assert.deepEqual(
      policy.checks.map((check) => check.name),
      ['ActiveBuildCheck', 'RunningAsRootCheck'],
    );
    assert.deepEqual(policy.settings.alwaysAllow, []);
    assert.equal(policy.settings.logFile, join(dir, 'docker_monitor.log'));
    const runningAsRoot = policy.checks[1];
    assert.deepEqual(await runningAsRoot?.run(fixtureView('user-unset')), { result: 'fail', reason: 'no user set: runs as root' });
    assert.deepEqual(await runningAsRoot?.run(fixtureView('user-1000')), { result: 'pass' });
  });

  test('the per-section examples load: empty always_allow and level mean the defaults', async () => {
    const { policy } = await loadText(ownLogFiles(CFPB_SECTION_EXAMPLES));
    assert.deepEqual(policy.warnings, []);
    assert.deepEqual(
      policy.checks.map((check) => check.name),
      ['RunningAsRootCheck', 'ActiveBuildCheck'],
    );
    assert.equal(policy.settings.logLevel, 'info');
    assert.equal(policy.settings.logFile, join(dir, 'docker_monitor.log'));
  });
});

describe('settings sections', () => {
  test('[policy], [logging], [exporter], [docker], [statsd] over the defaults', async () => {
    const { path, policy } = await loadText(
      ownLogFiles(`[policy]
always_allow = sha256:${'a'.repeat(64)}, nginx:1.27
action = stop
fail_fast = on
[logging]
log_file = /tmp/x.log
level = WARNING
format = json
[exporter]
listen_address = 127.0.0.1:9999
refresh = 30s
enforce = yes
[docker]
host = unix:///run/other.sock
tls_verify = on
cert_path = /etc/docker-certs
concurrency = 2
timeout = 5s
process_cache_ttl = 1m
[statsd]
server = 127.0.0.1:8125
prefix = cnitch
`),
    );
    assert.deepEqual(policy.settings, {
      ...DEFAULT_SETTINGS,
      alwaysAllow: [`sha256:${'a'.repeat(64)}`, 'nginx:1.27'],
      action: 'stop',
      failFast: true,
      logFile: join(dir, 'x.log'),
      logLevel: 'warn',
      logFormat: 'json',
      listenAddresses: [{ text: '127.0.0.1:9999', host: '127.0.0.1', port: 9999 }],
      refresh: 30_000,
      enforce: true,
      dockerHost: { value: 'unix:///run/other.sock', source: `${path}:14 [docker] host` },
      dockerTlsVerify: { value: true, source: `${path}:15 [docker] tls_verify` },
      dockerCertPath: { value: '/etc/docker-certs', source: `${path}:16 [docker] cert_path` },
      dockerConcurrency: 2,
      dockerTimeoutMs: 5000,
      processCacheTtlMs: 60_000,
      statsdServer: '127.0.0.1:8125',
      statsdPrefix: 'cnitch',
    });
    assert.deepEqual(policy.checks, []);
  });

  test("Python's CRITICAL is our fatal; a bad level names file, section and key", async () => {
    assert.equal((await loadText('[logging]\nlevel = CRITICAL\n')).policy.settings.logLevel, 'fatal');
    const { path, error } = await loadError('[logging]\nlevel = loud\n');
    assert.equal(
      error.message,
      `${path}:2 [logging] level: "loud" is not a log level (use debug, info, warn, error; or DEBUG, INFO, WARNING, ERROR, CRITICAL)`,
    );
  });

  test('the embedded default policy: ActiveBuildCheck, RunningAsRootCheck, RootProcessCheck', async () => {
    const policy = await loadPolicy(undefined, BUILT_IN_CHECKS);
    assert.equal(policy.file, DEFAULT_POLICY_NAME);
    assert.deepEqual(
      policy.checks.map((check) => check.name),
      ['ActiveBuildCheck', 'RunningAsRootCheck', 'RootProcessCheck'],
    );
    assert.deepEqual(policy.settings, DEFAULT_SETTINGS);
  });

  test('examples/default.ini is the embedded default policy, written out', () => {
    assert.equal(readFileSync(join(import.meta.dirname, '../../examples/default.ini'), 'utf8'), DEFAULT_POLICY_INI);
  });
});

describe('configuration errors: one line naming file, section and key, exit code 2', () => {
  test('unknown built-in check, with a suggestion', async () => {
    const { path, error } = await loadError('[policy]\n\n[docker_monitor.checks.RunningAsRootChek]\n');
    assert.equal(
      error.message,
      `${path}:3 [docker_monitor.checks.RunningAsRootChek]: unknown built-in check "RunningAsRootChek" (did you mean RunningAsRootCheck?)`,
    );
  });

  test('unknown key, with the nearest known one', async () => {
    const { path, error } = await loadError('[docker_monitor.checks.RunningAsRootCheck]\nallow_rot = off\n');
    assert.equal(error.message, `${path}:2 [docker_monitor.checks.RunningAsRootCheck] allow_rot: unknown key (did you mean allow_root?)`);
    const policyKey = await loadError('[policy]\nalways_alow = x\n');
    assert.equal(policyKey.error.message, `${policyKey.path}:2 [policy] always_alow: unknown key (did you mean always_allow?)`);
  });

  test('bad boolean', async () => {
    const { path, error } = await loadError('[docker_monitor.checks.RunningAsRootCheck]\nallow_root = nope\n');
    assert.equal(
      error.message,
      `${path}:2 [docker_monitor.checks.RunningAsRootCheck] allow_root: "nope" is not a boolean (use on/off, true/false, yes/no or 1/0)`,
    );
    const failFast = await loadError('[policy]\nfail_fast = sometimes\n');
    assert.equal(
      failFast.error.message,
      `${failFast.path}:2 [policy] fail_fast: "sometimes" is not a boolean (use on/off, true/false, yes/no or 1/0)`,
    );
  });

  test('bad value of the keys every check takes (severity, timeout)', async () => {
    const { path, error } = await loadError('[docker_monitor.checks.RootProcessCheck]\ntimeout = soon\n');
    assert.equal(
      error.message,
      `${path}:2 [docker_monitor.checks.RootProcessCheck] timeout: "soon" is not a duration (use e.g. 500ms, 30s, 5m, 1h30m, 24h)`,
    );
  });

  test('missing file, and a file that cannot be read', async () => {
    const missing = join(dir, 'nope.ini');
    await assert.rejects(loadPolicy(missing, BUILT_IN_CHECKS), {
      name: 'ConfigError',
      message: `${missing}: cannot read the policy file: no such file`,
    });
    const folder = join(dir, 'a-folder.ini');
    mkdirSync(folder);
    await assert.rejects(loadPolicy(folder, BUILT_IN_CHECKS), {
      name: 'ConfigError',
      message: `${folder}: cannot read the policy file: is a directory`,
    });
  });

  test('module not found', async () => {
    const { path, error } = await loadError('[policy]\n[no_such_module.MyCheck]\n');
    assert.match(
      error.message,
      new RegExp(
        `^${path.replaceAll('.', '\\.')}:2 \\[no_such_module\\.MyCheck\\]: module "no_such_module" not found \\(looked for ${dir.replaceAll('.', '\\.')}/no_such_module, .*\\)$`,
      ),
    );
  });

  test('an export that is not a check', async () => {
    writeFileSync(join(dir, 'not_checks.js'), 'export const limit = 3;\nexport class Helper { run() {} }\n');
    const { path, error } = await loadError('[not_checks.Helper]\n');
    assert.equal(
      error.message,
      `${path}:1 [not_checks.Helper]: export "Helper" of ${join(dir, 'not_checks.js')} is not a check: expected a class with a check() method`,
    );
    const constant = await loadError('[not_checks.limit]\n');
    assert.match(constant.error.message, /\[not_checks\.limit\]: export "limit" of .* is not a check/);
  });

  test('a section that names no module', async () => {
    const { path, error } = await loadError('[MyCheck]\n');
    assert.match(
      error.message,
      new RegExp(`^${path.replaceAll('.', '\\.')}:1 \\[MyCheck\\]: a check section is named <module>\\.<ExportName>`),
    );
  });

  test('two sections whose classes share a name (results and metrics are labelled by it)', async () => {
    writeFileSync(join(dir, 'same_name.js'), 'export class RunningAsRootCheck { check() { return "pass"; } }\n');
    const { path, error } = await loadError('[docker_monitor.checks.RunningAsRootCheck]\n\n[same_name.RunningAsRootCheck]\n');
    assert.equal(
      error.message,
      `${path}:3 [same_name.RunningAsRootCheck]: check name RunningAsRootCheck is already used by [docker_monitor.checks.RunningAsRootCheck] (line 1); give one of the classes another name`,
    );
  });

  test('parsePolicy reports the name it is given as the file', async () => {
    await assert.rejects(parsePolicy('[docker_monitor.checks.Nope]\n', 'inline', BUILT_IN_CHECKS), {
      message: /^inline:1 \[docker_monitor\.checks\.Nope\]: unknown built-in check "Nope"/,
    });
  });
});
