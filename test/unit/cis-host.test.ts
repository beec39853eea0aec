/**
 * CIS host checks on /info, /version and /networks captured from three real engines
 * (test/fixtures/capture-cis.ts): the machine's, a private hardened-and-loose one, and one in swarm mode.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOST_CASES, type EngineName } from '../fixtures/cis/cases.js';
import { cisHostView, engineFixture, runCheck } from '../fixtures/cis/fixture-views.js';

describe('every captured engine gives the verdicts the live engine gave', () => {
  for (const [engine, expected] of Object.entries(HOST_CASES) as [EngineName, Record<string, string>][]) {
    for (const [check, verdict] of Object.entries(expected)) {
      test(`${engine}: ${check} ${verdict}`, async () => {
        const outcome = await runCheck(check, cisHostView(engine));
        assert.equal(outcome.result, verdict, outcome.reason);
      });
    }
  }
});

describe('reasons and traps', () => {
  test('the built-in 127.0.0.0/8 is not an insecure registry; configured ranges and names are', async () => {
    assert.deepEqual(engineFixture('main').info.RegistryConfig?.InsecureRegistryCIDRs, ['127.0.0.0/8']);
    assert.equal(
      (await runCheck('InsecureRegistryCheck', cisHostView('hardened'))).reason,
      'insecure registries: 10.99.0.0/16, registry.invalid:5000',
    );
  });

  test('icc is read from the default bridge, whatever its interface is called', async () => {
    const bridge = engineFixture('hardened').networks.find((network) => network.Name === 'bridge');
    assert.notEqual(bridge?.Options?.['com.docker.network.bridge.name'], 'docker0');
    assert.equal((await runCheck('DefaultBridgeIccCheck', cisHostView('hardened'))).reason, 'icc is on for the default bridge');
  });

  test('icc=false on the default bridge passes', async () => {
    // No engine here may run with icc=false (it needs iptables): the captured bridge gets the option value it would have.
    const view = cisHostView('main');
    const networks = await view.networks();
    const bridge = networks.find((network) => network.Name === 'bridge') ?? assert.fail('no bridge');
    bridge.Options = { ...bridge.Options, 'com.docker.network.bridge.enable_icc': 'false' };
    assert.equal((await runCheck('DefaultBridgeIccCheck', { ...view, networks: async () => networks })).result, 'pass');
  });

  test('live restore is not asked of an engine in swarm mode', async () => {
    assert.deepEqual(await runCheck('LiveRestoreCheck', cisHostView('swarm')), {
      result: 'pass',
      reason: 'swarm mode (incompatible with live restore)',
    });
    assert.equal((await runCheck('SwarmModeCheck', cisHostView('swarm'))).reason, 'swarm mode is active');
  });

  test('LoggingDriverCheck local_drivers', async () => {
    assert.equal((await runCheck('LoggingDriverCheck', cisHostView('main'))).reason, 'logging driver json-file keeps logs on the host');
    assert.equal((await runCheck('LoggingDriverCheck', cisHostView('main'), 'local_drivers = local')).result, 'pass');
    assert.equal((await runCheck('LoggingDriverCheck', cisHostView('hardened'), 'local_drivers = journald')).result, 'fail');
  });
});
