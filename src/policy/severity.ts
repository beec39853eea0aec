import { SEVERITIES, type CheckInstance, type Severity } from './types.js';

/** 0 for critical, up to 4 for info: sorts the worst first. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** True when `severity` is `threshold` or worse. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) <= severityRank(threshold);
}

/** The chain's checks by name (a check runs once however often its section is written). */
export function checksByName(checks: readonly CheckInstance[]): ReadonlyMap<string, CheckInstance> {
  return new Map(checks.map((check) => [check.name, check]));
}
