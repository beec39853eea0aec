import { XMLBuilder } from 'fast-xml-parser';
import { rootProcessesOf } from '../checks/root-process-check.js';
import { checksByName } from '../policy/severity.js';
import type { CheckInstance, CheckResult, ContainerReport } from '../policy/types.js';
import type { CheckRun } from './check-run.js';
import { notRunText, waiverText } from './describe.js';

/** XML 1.0 cannot carry most control characters, escaped or not; a reason quoting a process may hold them. */
function xmlText(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what is being removed
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

interface TestCase {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string; '@_type': string; '#text': string };
  error?: { '@_message': string; '@_type': string };
  skipped?: { '@_message': string };
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function details(check: CheckInstance | undefined, reason: string): string {
  if (check === undefined) return reason;
  return [
    reason,
    `check: ${check.name}${check.description === '' ? '' : ` (${check.description})`}`,
    `severity: ${check.severity}`,
    ...(check.cisId === undefined ? [] : [`CIS Docker Benchmark: ${check.cisId}`]),
    ...(check.remediation === undefined ? [] : [`remediation: ${check.remediation}`]),
  ].join('\n');
}

function testCase(
  classname: string,
  name: string,
  result: CheckResult | undefined,
  check: CheckInstance | undefined,
  notRun: string,
): TestCase {
  const base = { '@_name': name, '@_classname': classname };
  if (result === undefined) return { ...base, skipped: { '@_message': xmlText(notRun) } };
  const reason = xmlText(result.reason ?? 'failed');
  switch (result.result) {
    case 'fail':
      return {
        ...base,
        failure: { '@_message': reason, '@_type': check?.severity ?? 'fail', '#text': xmlText(details(check, result.reason ?? 'failed')) },
      };
    case 'error':
      return { ...base, error: { '@_message': reason, '@_type': 'error' } };
    case 'waived':
      return {
        ...base,
        skipped: {
          '@_message': xmlText(
            `${result.waiver === undefined ? 'waived' : waiverText(result.waiver)} (FAIL: ${result.reason ?? 'no reason given'})`,
          ),
        },
      };
    case 'not_applicable':
      return {
        ...base,
        skipped: { '@_message': xmlText(`not applicable: ${result.reason ?? 'cannot be decided before the container runs'}`) },
      };
    default:
      return base;
  }
}

function suite(name: string, cases: TestCase[], timestamp: string, properties: Record<string, string>): { counts: Counts; suite: object } {
  const counts: Counts = {
    tests: cases.length,
    failures: cases.filter((entry) => entry.failure !== undefined).length,
    errors: cases.filter((entry) => entry.error !== undefined).length,
    skipped: cases.filter((entry) => entry.skipped !== undefined).length,
  };
  return {
    counts,
    suite: {
      '@_name': name,
      '@_tests': counts.tests,
      '@_failures': counts.failures,
      '@_errors': counts.errors,
      '@_skipped': counts.skipped,
      '@_timestamp': timestamp,
      ...(Object.keys(properties).length === 0
        ? {}
        : { properties: { property: Object.entries(properties).map(([key, value]) => ({ '@_name': key, '@_value': xmlText(value) })) } }),
      testcase: cases,
    },
  };
}

function containerCases(
  report: ContainerReport,
  containerChecks: readonly CheckInstance[],
  checks: ReadonlyMap<string, CheckInstance>,
): TestCase[] {
  const classname = `docker-monitor.containers.${report.name}`;
  const byCheck = new Map(report.results.map((result) => [result.check, result]));
  const names = [...new Set([...containerChecks.map((check) => check.name), ...byCheck.keys()])];
  return names.map((name) => testCase(classname, name, byCheck.get(name), checks.get(name), notRunText(report, name)));
}

/**
 * `check --format junit`: JUnit XML as CI systems render it. A test suite per container (and one for
 * the host checks), a test case per check of the chain: a FAIL is a `<failure>` with the reason (its
 * body adds severity, CIS id and remediation), a check that threw or timed out an `<error>`, a waived
 * FAIL or a check that did not run `<skipped>` with why.
 */
export function junitXml(run: CheckRun, now = new Date()): string {
  const timestamp = now.toISOString().replace(/\.\d{3}Z$/, '');
  const checks = checksByName(run.checks);
  const containerChecks = [...checks.values()].filter((check) => check.scope !== 'host');
  const suites = run.containers.map((report) => {
    const roots = rootProcessesOf(report);
    return suite(`containers/${report.name}`, containerCases(report, containerChecks, checks), timestamp, {
      id: report.id,
      image: report.image,
      imageId: report.imageId,
      ...(roots === undefined ? {} : { rootProcesses: String(roots.length) }),
    });
  });
  for (const { name, error } of run.failed) {
    suites.push(
      suite(
        `containers/${name}`,
        [
          {
            '@_name': 'evaluation',
            '@_classname': `docker-monitor.containers.${name}`,
            error: { '@_message': xmlText(`could not be evaluated: ${error}`), '@_type': 'error' },
          },
        ],
        timestamp,
        {},
      ),
    );
  }
  if (run.host.results.length > 0) {
    suites.push(
      suite(
        'host',
        run.host.results.map((result) => testCase('docker-monitor.host', result.check, result, checks.get(result.check), '')),
        timestamp,
        {},
      ),
    );
  }
  const total = suites.reduce<Counts>(
    (sum, { counts }) => ({
      tests: sum.tests + counts.tests,
      failures: sum.failures + counts.failures,
      errors: sum.errors + counts.errors,
      skipped: sum.skipped + counts.skipped,
    }),
    { tests: 0, failures: 0, errors: 0, skipped: 0 },
  );
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': 'docker-monitor',
      '@_tests': total.tests,
      '@_failures': total.failures,
      '@_errors': total.errors,
      '@_skipped': total.skipped,
      '@_timestamp': timestamp,
      testsuite: suites.map((entry) => entry.suite),
    },
  });
}
