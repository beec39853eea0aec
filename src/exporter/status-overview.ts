/**
 * The fleet at a glance, for the top of the status page: compliant share, failing containers by their
 * most severe failure, and per check how many containers fail it (as policy-reporter and trivy-operator
 * open with counts by severity and by rule).
 */
import { isFailure } from '../policy/chain.js';
import { severityRank } from '../policy/severity.js';
import { SEVERITIES, type CheckInstance, type ContainerReport, type Severity } from '../policy/types.js';

export interface CheckCount {
  name: string;
  check: CheckInstance | undefined;
  /** Containers where it failed or threw. */
  failing: number;
  /** Of those, where it threw. */
  errors: number;
  waived: number;
}

export interface Overview {
  containers: number;
  compliant: number;
  failing: number;
  /** Containers with at least one waived result. */
  waived: number;
  /** Failing containers by the severity of their most severe failure. */
  failingBySeverity: Record<Severity, number>;
  /** Checks failing or waived somewhere: failing ones first, the most severe first, then the most failing containers. */
  failingChecks: CheckCount[];
  /** Container checks of the chain that fail nowhere. */
  cleanChecks: string[];
}

export function overview(reports: readonly ContainerReport[], checks: ReadonlyMap<string, CheckInstance>): Overview {
  const severityOf = (name: string): Severity => checks.get(name)?.severity ?? 'medium';
  const counts = new Map<string, CheckCount>();
  const countOf = (name: string): CheckCount => {
    let count = counts.get(name);
    if (count === undefined) counts.set(name, (count = { name, check: checks.get(name), failing: 0, errors: 0, waived: 0 }));
    return count;
  };
  const failingBySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  let compliant = 0;
  let waived = 0;
  for (const report of reports) {
    if (report.compliant) compliant += 1;
    if (report.results.some((result) => result.result === 'waived')) waived += 1;
    let worst: Severity | undefined;
    for (const result of report.results) {
      if (result.result === 'waived') countOf(result.check).waived += 1;
      if (!isFailure(result)) continue;
      const count = countOf(result.check);
      count.failing += 1;
      if (result.result === 'error') count.errors += 1;
      const severity = severityOf(result.check);
      if (worst === undefined || severityRank(severity) < severityRank(worst)) worst = severity;
    }
    if (worst !== undefined) failingBySeverity[worst] += 1;
  }
  const failingChecks = [...counts.values()]
    .filter((count) => count.failing > 0 || count.waived > 0)
    .sort(
      (a, b) =>
        Number(b.failing > 0) - Number(a.failing > 0) ||
        severityRank(severityOf(a.name)) - severityRank(severityOf(b.name)) ||
        b.failing - a.failing ||
        b.waived - a.waived ||
        a.name.localeCompare(b.name),
    );
  const cleanChecks = [...checks.values()].filter((check) => check.scope !== 'host' && !counts.has(check.name)).map((check) => check.name);
  return {
    containers: reports.length,
    compliant,
    failing: reports.length - compliant,
    waived,
    failingBySeverity,
    failingChecks,
    cleanChecks,
  };
}
