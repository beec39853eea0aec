import type { CheckResult, ContainerReport } from './types.js';

function sameResult(a: CheckResult, b: CheckResult | undefined): boolean {
  return (
    b !== undefined &&
    a.check === b.check &&
    a.result === b.result &&
    a.reason === b.reason &&
    // Reused results carry the same data object; a check that ran again (a process list that changed,
    // say) may have found the same: a small object, compared by value.
    (a.data === b.data || JSON.stringify(a.data) === JSON.stringify(b.data)) &&
    a.waiver?.name === b.waiver?.name &&
    a.waiver?.reason === b.waiver?.reason &&
    a.waiver?.expires === b.waiver?.expires
  );
}

/** Whether two lists of results say the same. */
export function sameResults(a: readonly CheckResult[], b: readonly CheckResult[]): boolean {
  return a.length === b.length && a.every((result, index) => sameResult(result, b[index]));
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * Whether a new report says exactly what the last one said: then the last one is kept, so the state,
 * and the exposition rendered from it, stay as they are.
 */
export function sameReport(a: ContainerReport, b: ContainerReport): boolean {
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.image === b.image &&
    a.imageId === b.imageId &&
    a.compliant === b.compliant &&
    a.alwaysAllowed === b.alwaysAllowed &&
    a.startedAt === b.startedAt &&
    (a.excluded ?? []).join('\u0000') === (b.excluded ?? []).join('\u0000') &&
    sameLabels(a.labels, b.labels) &&
    sameResults(a.results, b.results)
  );
}
