/**
 * A `check` run made by the real policy loader and chain from containers and an engine captured on real
 * engines (test/fixtures/cis/), for the output formats and the status page. Only the waived result is
 * made by hand: nothing on this branch produces one yet (waivers come from the fleet issue).
 */
import { runChain, runCheck } from '../../src/policy/chain.js';
import { CHECK_INPUTS } from '../../src/policy/types.js';
import type { CheckInstance, CheckResult, ContainerReport, ContainerView } from '../../src/policy/types.js';
import type { CheckRun } from '../../src/report/check-run.js';
import { cisContainerView, cisHostView, policyChecks } from '../fixtures/cis/fixture-views.js';

export const FIXTURE_POLICY = `[docker_monitor.checks.RunningAsRootCheck]
[docker_monitor.checks.PrivilegedContainerCheck]
[docker_monitor.checks.MemoryLimitCheck]
[docker_monitor.checks.HostNetworkCheck]
[docker_monitor.checks.SwarmModeCheck]
[docker_monitor.checks.LiveRestoreCheck]
`;

/** The waiver issue 12's chain attaches to a FAIL it covers. */
export const WAIVER = { name: 'legacy-root', reason: 'the vendor image runs as root until its 3.0 release', expires: '2030-01-01' };

/** A check that throws, as a user's check with a bug does: the chain records `error`. */
const THROWING: CheckInstance = {
  name: 'BrokenCheck',
  section: 'my_checks.BrokenCheck',
  description: 'a user check with a bug',
  remediation: undefined,
  scope: 'container',
  severity: 'medium',
  cisId: undefined,
  timeoutMs: 1000,
  metrics: [],
  inputs: CHECK_INPUTS,
  run: () => Promise.reject(new Error('cannot read properties of undefined (reading "Labels")')),
};

/** The report the chain makes of a captured container case (test/fixtures/cis/containers/), under a name of our choosing. */
export async function capturedReport(
  fixture: string,
  name: string,
  checks: readonly CheckInstance[],
  change?: (results: CheckResult[]) => CheckResult[],
): Promise<ContainerReport> {
  const view: ContainerView = cisContainerView(fixture);
  const chain = await runChain(checks, () => view, { failFast: false, imageVerdicts: new Map(), imageId: view.inspect.Image });
  const results = change === undefined ? chain.results : change(chain.results);
  return {
    id: view.inspect.Id,
    name,
    image: view.inspect.Config?.Image ?? '',
    imageId: view.inspect.Image,
    compliant: !results.some((result) => result.result === 'fail' || result.result === 'error'),
    alwaysAllowed: false,
    results,
    startedAt: view.inspect.State?.StartedAt ?? '',
    labels: view.inspect.Config?.Labels ?? {},
  };
}

/** Turns the FAILs of `checks` into `waived` by WAIVER, as a matching waiver does. */
export function waive(...checks: string[]): (results: CheckResult[]) => CheckResult[] {
  return (results) =>
    results.map((result) =>
      checks.includes(result.check) && result.result === 'fail' ? { ...result, result: 'waived', waiver: WAIVER } : result,
    );
}

/**
 * `privileged` fails PrivilegedContainerCheck (critical), RunningAsRootCheck (high) and MemoryLimitCheck
 * (medium); `host-net` fails HostNetworkCheck and RunningAsRootCheck (high) and MemoryLimitCheck; `legacy`
 * has both its FAILs (RunningAsRootCheck, MemoryLimitCheck) waived, so it is compliant; `hardened`
 * passes everything; `flaky` has an error. On the host, LiveRestoreCheck fails.
 */
export async function fixtureCheckRun(): Promise<CheckRun> {
  const loaded = [...(await policyChecks(FIXTURE_POLICY, 'fixture.ini')).values()];
  const containerChecks = loaded.filter((check) => check.scope !== 'host');
  const host = await Promise.all(
    loaded.filter((check) => check.scope === 'host').map((check) => runCheck(check, () => cisHostView('main'))),
  );
  const containers = [
    await capturedReport('privileged', 'privileged', containerChecks),
    await capturedReport('host-network', 'host-net', containerChecks),
    await capturedReport('default', 'legacy', containerChecks, waive('RunningAsRootCheck', 'MemoryLimitCheck')),
    await capturedReport('hardened', 'hardened', containerChecks),
    await capturedReport('hardened', 'flaky', [...containerChecks, THROWING]),
  ];
  return { containers, failed: [], host: { results: host }, checks: [...loaded, THROWING] };
}
