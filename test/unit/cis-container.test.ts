/**
 * CIS container runtime checks on inspect JSON captured from real engines (test/fixtures/capture-cis.ts):
 * every verdict the integration suites expect, under examples/cis.ini and the strict options, then the
 * traps docker-bench-security falls into and the options users need.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONTAINER_CASES, STRICT_POLICY } from '../fixtures/cis/cases.js';
import { cisContainerView, containerFixture, engineFixture, policyChecks, runCheck } from '../fixtures/cis/fixture-views.js';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { ConfigError } from '../../src/errors.js';

const CIS_INI = join(import.meta.dirname, '../../examples/cis.ini');
const cis = await policyChecks(readFileSync(CIS_INI, 'utf8'), CIS_INI);
const strict = await policyChecks(STRICT_POLICY, 'strict.ini');

describe('every captured case gives the verdicts the live engine gave', () => {
  for (const entry of CONTAINER_CASES) {
    for (const [policyName, checks, expected] of [
      ['cis.ini', cis, entry.expect],
      ['strict', strict, entry.strict ?? {}],
    ] as const) {
      for (const [name, verdict] of Object.entries(expected)) {
        test(`${entry.name} (${policyName}): ${name} ${verdict}`, async () => {
          const check = checks.get(name) ?? assert.fail(`${name} is not in the policy`);
          const outcome = await check.run(cisContainerView(entry.name));
          assert.equal(outcome.result, verdict, outcome.reason);
        });
      }
    }
  }
});

/** The first host port the engine bound for a case. */
function hostPort(name: string): string {
  const ports = containerFixture(name).inspect.NetworkSettings?.Ports ?? {};
  return Object.values(ports).flatMap((bindings) => bindings ?? [])[0]?.HostPort ?? assert.fail(`${name} publishes nothing`);
}

describe('traps', () => {
  test('an IPv6 wildcard binding ([::]) fails, named in brackets', async () => {
    const outcome = await runCheck('WildcardBindCheck', cisContainerView('ipv6-wildcard'));
    assert.equal(outcome.result, 'fail');
    assert.match(outcome.reason ?? '', /\[::\]:\d+->80\/tcp/);
  });

  test('-P binds both 0.0.0.0 and ::, and both are named', async () => {
    const outcome = await runCheck('WildcardBindCheck', cisContainerView('publish-all'));
    assert.match(outcome.reason ?? '', /0\.0\.0\.0:\d+->8080\/tcp, \[::\]:\d+->8080\/tcp/);
  });

  test('a read-only /etc mount beside a read-write one passes; the read-write /etc fails, by mount', async () => {
    assert.equal((await runCheck('SensitiveMountCheck', cisContainerView('etc-ro-beside-rw'))).result, 'pass');
    const outcome = await runCheck('SensitiveMountCheck', cisContainerView('etc-rw'));
    assert.equal(outcome.reason, 'read-write mount of /etc:/host-etc');
  });

  test('a sensitive destination counts as well as a sensitive source', async () => {
    assert.match((await runCheck('SensitiveMountCheck', cisContainerView('usr-destination-rw'))).reason ?? '', /:\/usr$/);
  });

  test('a read-only docker.sock mount still fails (a socket connects on a read-only mount)', async () => {
    const outcome = await runCheck('DockerSocketMountCheck', cisContainerView('docker-sock-ro'));
    assert.equal(outcome.reason, 'docker.sock mounted: /var/run/docker.sock:/var/run/docker.sock');
  });

  test('5.32 greps for docker.sock: /var/run mounted passes it; the house rule EngineSocketMountCheck names the directory', async () => {
    assert.equal((await runCheck('DockerSocketMountCheck', cisContainerView('var-run-ro'))).result, 'pass');
    assert.equal(
      (await runCheck('EngineSocketMountCheck', cisContainerView('var-run-ro'))).reason,
      'engine socket reachable through /var/run:/host-run',
    );
    assert.equal(BUILT_IN_CHECKS['EngineSocketMountCheck']?.cisId, undefined);
  });

  test('port 1024 is not privileged; 1023 is', async () => {
    // Captured on port PRIVILEGED_PORT; the same binding moved to the edges of the range.
    const at = async (port: string): Promise<string> =>
      (
        await runCheck(
          'PrivilegedPortCheck',
          cisContainerView('privileged-port', ({ inspect }) => {
            const binding = inspect.NetworkSettings?.Ports?.['80/tcp']?.[0] ?? assert.fail('no binding');
            binding.HostPort = port;
          }),
        )
      ).result;
    assert.equal(await at('1024'), 'pass');
    assert.equal(await at('1023'), 'fail');
  });

  test('no-new-privileges:false is not no-new-privileges', async () => {
    assert.equal((await runCheck('NoNewPrivilegesCheck', cisContainerView('nnp-false'))).reason, 'no-new-privileges=false turns it off');
  });

  test('no-new-privileges set daemon-wide passes, as Engine 24+ reports it in /info', async () => {
    // Engine 20.10 here does not report it: the captured /info gets the entry Engine 24 adds.
    const view = cisContainerView('default', (_fixture, engine) => engine.info.SecurityOptions?.push('name=no-new-privileges'));
    assert.deepEqual(await runCheck('NoNewPrivilegesCheck', view), { result: 'pass', reason: 'set daemon-wide' });
  });

  test('where the engine reports AppArmor, a container without a profile fails and one with docker-default passes', async () => {
    // This kernel has no AppArmor: the captured /info gets the entry AppArmor hosts report, and the
    // profile field the engine fills in there.
    const withAppArmor = (profile: string) =>
      cisContainerView('default', (fixture, engine) => {
        engine.info.SecurityOptions?.push('name=apparmor');
        fixture.inspect.AppArmorProfile = profile;
      });
    assert.equal((await runCheck('AppArmorProfileCheck', withAppArmor(''))).result, 'fail');
    assert.equal((await runCheck('AppArmorProfileCheck', withAppArmor('unconfined'))).reason, 'AppArmor profile "unconfined"');
    assert.equal((await runCheck('AppArmorProfileCheck', withAppArmor('docker-default'))).result, 'pass');
    assert.deepEqual(await runCheck('AppArmorProfileCheck', cisContainerView('default')), {
      result: 'pass',
      reason: 'the engine does not use AppArmor',
    });
  });

  test('an explicitly unconfined container fails 5.2 on a host without AppArmor too, whatever require_apparmor says', async () => {
    assert.deepEqual(engineFixture('main').info.SecurityOptions?.includes('name=apparmor'), false);
    // Without AppArmor the engine leaves the profile empty; only SecurityOpt shows the request.
    assert.equal(containerFixture('apparmor-unconfined').inspect.AppArmorProfile, '');
    for (const options of ['', 'require_apparmor = off', 'require_apparmor = on']) {
      assert.deepEqual(await runCheck('AppArmorProfileCheck', cisContainerView('apparmor-unconfined'), options), {
        result: 'fail',
        reason: 'started with apparmor=unconfined',
      });
    }
  });

  test('an exec session with -u 0 is root, named with its command', async () => {
    assert.match((await runCheck('RootExecCheck', cisContainerView('exec-root'))).reason ?? '', /^root exec [0-9a-f]{12} \(sleep 3600\)$/);
  });

  test('an exec session without --user in a root container is not 5.24 (its audit looks for --user root)', async () => {
    const [session] = containerFixture('exec-inherited-root').execs;
    assert.equal(session?.ProcessConfig?.user ?? '', '');
    assert.equal((await runCheck('RootExecCheck', cisContainerView('exec-inherited-root'))).result, 'pass');
  });

  test('a running healthcheck probe in a root container is not a root exec session', async () => {
    assert.equal(containerFixture('root-probe-running').execs.length, 1);
    assert.equal((await runCheck('RootExecCheck', cisContainerView('root-probe-running'))).result, 'pass');
  });

  test('an exec session that ended between inspect and exec inspect is skipped', async () => {
    const view = cisContainerView('exec-root', ({ inspect }) => inspect.ExecIDs?.push('0'.repeat(64)));
    assert.equal((await runCheck('PrivilegedExecCheck', view)).result, 'pass');
  });

  test('capabilities written in any case, with or without CAP_; a privileged container is 5.5, not 5.4, 5.18 or 5.22', async () => {
    assert.equal((await runCheck('AddedCapabilitiesCheck', cisContainerView('cap-add-sys-ptrace'))).reason, 'adds SYS_PTRACE');
    assert.equal((await runCheck('AddedCapabilitiesCheck', cisContainerView('cap-add-all'))).reason, 'adds ALL');
    for (const check of ['AddedCapabilitiesCheck', 'HostDevicesCheck', 'SeccompUnconfinedCheck']) {
      assert.equal((await runCheck(check, cisContainerView('privileged'))).result, 'pass', check);
    }
    assert.equal((await runCheck('PrivilegedContainerCheck', cisContainerView('privileged'))).result, 'fail');
  });

  test('5.12 reads CpuShares: unset (0) and the default weight 1024 both fail, as the audit says', async () => {
    assert.equal(containerFixture('cpu-shares-1024').inspect.HostConfig?.CpuShares, 1024);
    assert.equal((await runCheck('CpuSharesCheck', cisContainerView('cpu-shares-1024'))).reason, 'CPU shares at the default weight 1024');
    assert.equal((await runCheck('CpuSharesCheck', cisContainerView('default'))).reason, 'no CPU shares (--cpu-shares)');
    assert.ok((containerFixture('cpus').inspect.HostConfig?.NanoCpus ?? 0) > 0);
    assert.equal((await runCheck('CpuSharesCheck', cisContainerView('cpus'))).result, 'fail');
    assert.equal((await runCheck('CpuLimitCheck', cisContainerView('cpus'))).result, 'pass');
    assert.equal(BUILT_IN_CHECKS['CpuLimitCheck']?.cisId, undefined);
  });

  test('on-failure without a count restarts forever', async () => {
    assert.equal(
      (await runCheck('RestartPolicyCheck', cisContainerView('restart-on-failure-unlimited'))).reason,
      'restart policy on-failure without a retry count restarts without limit',
    );
  });

  test('sshd is found by its program name', async () => {
    assert.match(
      (await runCheck('SshdCheck', cisContainerView('sshd'))).reason ?? '',
      /^sshd running: pid \d+ \(\/usr\/sbin\/sshd -- sleep 3600\)$/,
    );
  });
});

describe('options', () => {
  test('allowed_capabilities accepts a capability in any spelling', async () => {
    assert.equal(
      (await runCheck('AddedCapabilitiesCheck', cisContainerView('cap-add-sys-ptrace'), 'allowed_capabilities = cap_sys_ptrace')).result,
      'pass',
    );
  });

  test('PrivilegedPortCheck allowed_ports', async () => {
    const port = hostPort('privileged-port');
    assert.equal(
      (await runCheck('PrivilegedPortCheck', cisContainerView('privileged-port'), `allowed_ports = ${port}/tcp`)).result,
      'pass',
    );
    assert.equal(
      (await runCheck('PrivilegedPortCheck', cisContainerView('privileged-port'), `allowed_ports = ${port}/udp`)).result,
      'fail',
    );
  });

  test('PublishAllPortsCheck allowed_ports judges container ports', async () => {
    assert.equal((await runCheck('PublishAllPortsCheck', cisContainerView('loopback-port'), 'allowed_ports = 80')).result, 'pass');
    assert.match(
      (await runCheck('PublishAllPortsCheck', cisContainerView('loopback-port'), 'allowed_ports = 8080')).reason ?? '',
      /not in allowed_ports: 127\.0\.0\.1:\d+->80\/tcp/,
    );
  });

  test('WildcardBindCheck allowed_ports lets a host port listen everywhere', async () => {
    assert.equal(
      (await runCheck('WildcardBindCheck', cisContainerView('ipv6-wildcard'), `allowed_ports = ${hostPort('ipv6-wildcard')}`)).result,
      'pass',
    );
  });

  test('RestartPolicyCheck max_retries and allow_unlimited', async () => {
    assert.equal((await runCheck('RestartPolicyCheck', cisContainerView('restart-on-failure-10'), 'max_retries = 10')).result, 'pass');
    assert.equal(
      (await runCheck('RestartPolicyCheck', cisContainerView('hardened'), 'max_retries = 2')).reason,
      'on-failure:3 allows more than 2 retries',
    );
    assert.equal((await runCheck('RestartPolicyCheck', cisContainerView('restart-always'), 'allow_unlimited = on')).result, 'pass');
  });

  test('allowed devices, ulimits and cgroup parents', async () => {
    assert.equal((await runCheck('HostDevicesCheck', cisContainerView('device'), 'allowed_devices = /dev/zero')).result, 'pass');
    assert.equal((await runCheck('UlimitOverrideCheck', cisContainerView('ulimit'))).reason, 'overrides nofile=1024:2048');
    assert.equal((await runCheck('UlimitOverrideCheck', cisContainerView('ulimit'), 'allowed_ulimits = nofile')).result, 'pass');
    const parent = containerFixture('cgroup-parent').inspect.HostConfig?.CgroupParent ?? '';
    assert.equal(
      (await runCheck('CgroupParentCheck', cisContainerView('cgroup-parent'), `allowed_cgroup_parents = ${parent}`)).result,
      'pass',
    );
  });

  test('5.27 (ContainerHealthcheckCheck) asks only that health is checked; the house rule HealthStatusCheck fails unhealthy', async () => {
    assert.deepEqual(await cis.get('ContainerHealthcheckCheck')?.run(cisContainerView('default')), {
      result: 'fail',
      reason: 'no healthcheck',
    });
    assert.equal((await runCheck('ContainerHealthcheckCheck', cisContainerView('unhealthy'))).result, 'pass');
    assert.equal(
      (await runCheck('HealthStatusCheck', cisContainerView('unhealthy'))).reason,
      `unhealthy (${containerFixture('unhealthy').inspect.State?.Health?.FailingStreak ?? 0} failed probes in a row)`,
    );
    assert.equal((await runCheck('HealthStatusCheck', cisContainerView('default'))).result, 'pass');
    assert.equal(BUILT_IN_CHECKS['HealthStatusCheck']?.cisId, undefined);
    assert.equal(BUILT_IN_CHECKS['ContainerHealthcheckCheck']?.cisId, '5.27');
  });

  test('ContainerUserCheck (CIS 4.1) reads the container: --user 1000 on an image without USER passes; ImageUserCheck, not CIS, fails it', async () => {
    assert.equal((await runCheck('ContainerUserCheck', cisContainerView('exec-root'))).result, 'pass');
    assert.deepEqual(await runCheck('ContainerUserCheck', cisContainerView('default')), {
      result: 'fail',
      reason: 'no user set: runs as root',
    });
    assert.deepEqual(await runCheck('ImageUserCheck', cisContainerView('exec-root')), { result: 'fail', reason: 'the image sets no USER' });
    assert.equal(BUILT_IN_CHECKS['ImageUserCheck']?.cisId, undefined);
  });

  test('extra_sensitive_paths adds to the CIS list', async () => {
    const data =
      containerFixture('etc-ro-beside-rw').inspect.Mounts?.find((mount) => mount.Destination === '/data')?.Source ??
      assert.fail('no /data mount');
    assert.equal(
      (await runCheck('SensitiveMountCheck', cisContainerView('etc-ro-beside-rw'), `extra_sensitive_paths = ${data}/`)).result,
      'fail',
    );
  });

  test('socket_paths: a directory holding a listed socket exposes it', async () => {
    const data =
      containerFixture('etc-ro-beside-rw').inspect.Mounts?.find((mount) => mount.Destination === '/data')?.Source ??
      assert.fail('no /data mount');
    const outcome = await runCheck(
      'EngineSocketMountCheck',
      cisContainerView('etc-ro-beside-rw'),
      `socket_paths = ${data}/engine/docker-api.sock`,
    );
    assert.equal(outcome.result, 'fail');
  });

  test('severity is overridable per section, and each check has its default', async () => {
    const policy = await parsePolicy(
      '[docker_monitor.checks.PrivilegedContainerCheck]\n[docker_monitor.checks.MemoryLimitCheck]\nseverity = high\n',
      'x.ini',
      BUILT_IN_CHECKS,
    );
    assert.deepEqual(
      policy.checks.map(({ name, severity, cisId }) => [name, severity, cisId]),
      [
        ['PrivilegedContainerCheck', 'critical', '5.5'],
        ['MemoryLimitCheck', 'high', '5.11'],
      ],
    );
  });

  test('a port option that is not a port is a configuration error naming file, section and key', async () => {
    await assert.rejects(
      parsePolicy('[docker_monitor.checks.PrivilegedPortCheck]\nallowed_ports = 80, http\n', 'cis.ini', BUILT_IN_CHECKS),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.exitCode === 2 &&
        error.message ===
          'cis.ini:1 [docker_monitor.checks.PrivilegedPortCheck]: check could not be created: allowed_ports: "http" is not a port (use e.g. 80, 443/tcp, 53/udp)',
    );
  });
});
