import { isFailure } from '../policy/chain.js';
import type { CheckInstance, CheckResult, ContainerReport, HostReport } from '../policy/types.js';
import { rootProcessesOf } from '../checks/root-process-check.js';
import { escapeControl } from '../control-characters.js';
import type { CheckRun } from './check-run.js';

const LABELS: Readonly<Record<CheckResult['result'], string>> = {
  pass: 'pass',
  pass_fast: 'pass fast',
  fail: 'FAIL',
  error: 'ERROR',
  waived: 'waived',
  not_applicable: 'n/a',
};

/** Most checks shown as their own column; past this the table lists failed checks instead. */
const MAX_CHECK_COLUMNS = 6;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  '))
    .join('\n');
}

function verdict(report: ContainerReport): string {
  if (report.alwaysAllowed) return 'allowed';
  if (report.results.length === 0 && (report.excluded?.length ?? 0) > 0) return 'excluded';
  return report.compliant ? 'pass' : 'FAIL';
}

/**
 * The `check` command's text output: one row per container, then the reason of every failure (with the
 * check's remediation when `checks` are given) and of every waived FAIL.
 */
export function formatCheckTable(
  containers: readonly ContainerReport[],
  host: HostReport,
  checkNames: readonly string[],
  checks: readonly CheckInstance[] = [],
): string {
  const remediation = new Map(checks.map((check) => [check.name, check.remediation]));
  const lines: string[] = [];
  if (containers.length === 0) {
    lines.push('No running containers.');
  } else {
    const perCheck = checkNames.length <= MAX_CHECK_COLUMNS;
    const header = ['CONTAINER', 'IMAGE', 'VERDICT', ...(perCheck ? checkNames : ['FAILED CHECKS'])];
    const rows = containers.map((report) => {
      const byCheck = new Map(report.results.map((result) => [result.check, result]));
      const cells = perCheck
        ? checkNames.map((name) => {
            const result = byCheck.get(name);
            if (result !== undefined) return LABELS[result.result];
            return report.excluded?.includes(name) === true ? 'excluded' : '-';
          })
        : [
            report.results
              .filter(isFailure)
              .map((result) => result.check)
              .join(', ') || '-',
          ];
      return [escapeControl(report.name), escapeControl(report.image), verdict(report), ...cells];
    });
    lines.push(table([header, ...rows]));
    const failures = containers.flatMap((report) =>
      report.results.filter(isFailure).flatMap((result) => {
        const fix = result.result === 'fail' ? remediation.get(result.check) : undefined;
        return [
          `  ${escapeControl(report.name)}: ${result.check} ${LABELS[result.result]}: ${escapeControl(result.reason ?? '(no reason given)')}`,
          ...(fix === undefined ? [] : [`    fix: ${fix}`]),
        ];
      }),
    );
    if (failures.length > 0) lines.push('', 'Failures:', ...failures);
    const waived = containers.flatMap((report) =>
      report.results.flatMap(({ check, reason, waiver }) =>
        waiver === undefined
          ? []
          : [
              `  ${escapeControl(report.name)}: ${check} waived by ${waiver.name}${waiver.expires === undefined ? '' : ` until ${waiver.expires}`}: ${waiver.reason} (FAIL: ${reason ?? 'no reason given'})`,
            ],
      ),
    );
    if (waived.length > 0) lines.push('', 'Waived:', ...waived);
  }
  if (host.results.length > 0) {
    lines.push(
      '',
      'Host checks:',
      table(host.results.map((result) => [`  ${result.check}`, LABELS[result.result], escapeControl(result.reason ?? '')])),
    );
  }
  const failed = containers.filter((report) => !report.compliant).length;
  const notApplicable = containers.reduce(
    (sum, report) => sum + report.results.filter((result) => result.result === 'not_applicable').length,
    0,
  );
  lines.push(
    '',
    `${containers.length} container${containers.length === 1 ? '' : 's'} checked, ${failed} failed${notApplicable === 0 ? '' : `; ${notApplicable} result${notApplicable === 1 ? '' : 's'} not applicable before the containers run`}.`,
  );
  return lines.join('\n');
}

/** How many results of each kind, over the containers and the host (JSON's `summary`). */
function summary(containers: readonly ContainerReport[], host: HostReport): Record<string, number> {
  const counts = { pass: 0, pass_fast: 0, fail: 0, error: 0, waived: 0, not_applicable: 0 };
  for (const result of [...containers.flatMap((report) => report.results), ...host.results]) counts[result.result] += 1;
  return {
    containers: containers.length,
    nonCompliant: containers.filter((report) => !report.compliant).length,
    pass: counts.pass,
    passFast: counts.pass_fast,
    fail: counts.fail,
    error: counts.error,
    waived: counts.waived,
    notApplicable: counts.not_applicable,
  };
}

/** The `check --format json` document (docs/check-output.md), with host checks beside the containers. */
export function checkJson(containers: readonly ContainerReport[], host: HostReport, unevaluated: CheckRun['failed'] = []): unknown {
  return {
    containers: containers.map((report) => ({
      id: report.id,
      name: report.name,
      image: report.image,
      imageId: report.imageId,
      compliant: report.compliant,
      alwaysAllowed: report.alwaysAllowed,
      ...(report.excluded === undefined ? {} : { excluded: report.excluded }),
      ...(report.source === undefined ? {} : { source: report.source }),
      rootProcesses: rootProcessesOf(report)?.length ?? null,
      results: report.results.map(({ check, result, reason, waiver, source }) => ({
        check,
        result,
        reason: reason ?? null,
        ...(waiver === undefined ? {} : { waiver: { name: waiver.name, reason: waiver.reason, expires: waiver.expires ?? null } }),
        ...(source === undefined ? {} : { source }),
      })),
    })),
    host: { results: host.results.map(({ check, result, reason }) => ({ check, result, reason: reason ?? null })) },
    unevaluated: unevaluated.map(({ id, name, error }) => ({ id, name, error })),
    summary: summary(containers, host),
  };
}
