import { isFailure } from '../policy/chain.js';
import { atLeast, severityRank } from '../policy/severity.js';
import { SEVERITIES, type CheckInstance, type CheckResult, type ContainerReport, type Severity } from '../policy/types.js';

/** A container's line on the status page: failing, passing only thanks to waivers, passing, or in always_allow. */
export const ROW_VERDICTS = ['fail', 'waived', 'pass', 'allowed'] as const;
export type RowVerdict = (typeof ROW_VERDICTS)[number];

/** How the list is ordered: worst first (the default), by name, by image, or the most failing checks first. */
export const SORT_ORDERS = ['severity', 'name', 'image', 'findings'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/**
 * The status page's query parameters: `verdict` (repeatable or comma-separated), `severity` (at least),
 * `check`, `q` (text in the name, image or a `key=value` label), `label` (`KEY` or `KEY=VALUE`), `sort`.
 */
export interface StatusFilter {
  verdicts: ReadonlySet<RowVerdict> | undefined;
  severity: Severity | undefined;
  check: string | undefined;
  /** Lower-cased. */
  search: string | undefined;
  label: { key: string; value: string | undefined } | undefined;
  sort: SortOrder;
  /** How many containers are listed (`limit=all`: undefined, every one). */
  limit: number | undefined;
}

/** Containers listed by default: a thousand cards are megabytes of HTML that nobody reads through. */
export const DEFAULT_LIMIT = 50;

export const NO_FILTER: StatusFilter = {
  verdicts: undefined,
  severity: undefined,
  check: undefined,
  search: undefined,
  label: undefined,
  sort: 'severity',
  limit: DEFAULT_LIMIT,
};

type Query = Readonly<Record<string, string | string[] | undefined>>;

function values(query: Query, key: string): string[] {
  const raw = query[key];
  return (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

/** Reads the filter from the query string; a value the page does not know is an error for the person who typed it. */
export function parseStatusFilter(query: Query, checkNames: readonly string[]): StatusFilter | { error: string } {
  const verdicts = values(query, 'verdict');
  const unknownVerdict = verdicts.find((verdict) => !(ROW_VERDICTS as readonly string[]).includes(verdict));
  if (unknownVerdict !== undefined) return { error: `verdict: "${unknownVerdict}" is not one of ${ROW_VERDICTS.join(', ')}` };
  const [severity, ...moreSeverities] = values(query, 'severity');
  if (moreSeverities.length > 0) return { error: 'severity: give one (the least severity shown)' };
  if (severity !== undefined && !(SEVERITIES as readonly string[]).includes(severity)) {
    return { error: `severity: "${severity}" is not one of ${SEVERITIES.join(', ')}` };
  }
  const [check, ...moreChecks] = values(query, 'check');
  if (moreChecks.length > 0) return { error: 'check: give one check name' };
  if (check !== undefined && !checkNames.includes(check)) return { error: `check: "${check}" is not a check of this policy` };
  const [search, ...moreSearches] = single(query, 'q');
  if (moreSearches.length > 0) return { error: 'q: give one search text' };
  const [label, ...moreLabels] = single(query, 'label');
  if (moreLabels.length > 0) return { error: 'label: give one KEY or KEY=VALUE' };
  const [sort = 'severity', ...moreSorts] = values(query, 'sort');
  if (moreSorts.length > 0 || !(SORT_ORDERS as readonly string[]).includes(sort)) {
    return { error: `sort: "${[sort, ...moreSorts].join(',')}" is not one of ${SORT_ORDERS.join(', ')}` };
  }
  const [limit, ...moreLimits] = values(query, 'limit');
  if (moreLimits.length > 0 || (limit !== undefined && limit !== 'all' && !/^[1-9]\d{0,5}$/.test(limit))) {
    return { error: `limit: "${[limit, ...moreLimits].join(',')}" is not a number of containers (1 or more) or all` };
  }
  const equals = label?.indexOf('=') ?? -1;
  return {
    verdicts: verdicts.length === 0 ? undefined : new Set(verdicts as RowVerdict[]),
    severity: severity as Severity | undefined,
    check,
    search: search?.toLowerCase(),
    label:
      label === undefined
        ? undefined
        : equals < 0
          ? { key: label, value: undefined }
          : { key: label.slice(0, equals), value: label.slice(equals + 1) },
    sort: sort as SortOrder,
    limit: limit === undefined ? DEFAULT_LIMIT : limit === 'all' ? undefined : Number(limit),
  };
}

/** The filter as a query string, for links that change one part of it (`?` alone for none). */
export function filterQuery(filter: StatusFilter, changes: Partial<StatusFilter> = {}): string {
  const { verdicts, severity, check, search, label, sort, limit } = { ...filter, ...changes };
  const parameters: [string, string | undefined][] = [
    ['check', check],
    ['verdict', verdicts === undefined ? undefined : [...verdicts].join(',')],
    ['severity', severity],
    ['q', search],
    ['label', label === undefined ? undefined : label.value === undefined ? label.key : `${label.key}=${label.value}`],
    ['sort', sort === NO_FILTER.sort ? undefined : sort],
    ['limit', limit === DEFAULT_LIMIT ? undefined : limit === undefined ? 'all' : String(limit)],
  ];
  return `?${parameters
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
    .join('&')}`;
}

/** Free text is taken whole (a comma may be part of a label value); empty means not given. */
function single(query: Query, key: string): string[] {
  const raw = query[key];
  return (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map((value) => value.trim()).filter((value) => value !== '');
}

/** Whether the container's name, image or one of its labels (as `key=value`) holds the text, or it has the label. */
function matches(report: ContainerReport, filter: StatusFilter): boolean {
  const { search, label } = filter;
  if (label !== undefined) {
    const value = report.labels[label.key];
    if (value === undefined || (label.value !== undefined && value !== label.value)) return false;
  }
  if (search === undefined) return true;
  return (
    report.name.toLowerCase().includes(search) ||
    report.image.toLowerCase().includes(search) ||
    Object.entries(report.labels).some(([key, value]) => `${key}=${value}`.toLowerCase().includes(search))
  );
}

/** A container as one line of the page: the results the filter keeps, worst first, and the verdict over them. */
export interface StatusRow {
  report: ContainerReport;
  verdict: RowVerdict;
  /** Results not passing (fail, error, waived) among those kept, the most severe first. */
  findings: CheckResult[];
  /** How many results the filter kept. */
  kept: number;
  /** Rank of the most severe failure (0 critical); SEVERITIES.length when none. */
  worst: number;
  /** How many of the findings are failures (fail or error). */
  failing: number;
}

const ORDER: Readonly<Record<RowVerdict, number>> = { fail: 0, waived: 1, pass: 2, allowed: 3 };

function verdictOf(report: ContainerReport, results: readonly CheckResult[]): RowVerdict {
  if (report.alwaysAllowed) return 'allowed';
  if (results.some(isFailure)) return 'fail';
  return results.some((result) => result.result === 'waived') ? 'waived' : 'pass';
}

/** Rows over every result, by chain and report: a report is never changed once made, so each is made once. */
const wholeRows = new WeakMap<ReadonlyMap<string, CheckInstance>, WeakMap<ContainerReport, StatusRow>>();

function statusRow(report: ContainerReport, results: readonly CheckResult[], checks: ReadonlyMap<string, CheckInstance>): StatusRow {
  const severityOf = (result: CheckResult): Severity => checks.get(result.check)?.severity ?? 'medium';
  const findings = results
    .filter((result) => result.result !== 'pass' && result.result !== 'pass_fast')
    .sort(
      (a, b) => Number(b.result !== 'waived') - Number(a.result !== 'waived') || severityRank(severityOf(a)) - severityRank(severityOf(b)),
    );
  const failures = findings.filter(isFailure);
  const worst = failures.length === 0 ? SEVERITIES.length : Math.min(...failures.map((result) => severityRank(severityOf(result))));
  return { report, verdict: verdictOf(report, results), findings, kept: results.length, worst, failing: failures.length };
}

/**
 * The page's rows: `q` and `label` keep the containers they match; `severity` and `check` narrow every
 * container to the results of those checks (and hide containers with none), `verdict` then keeps
 * containers whose verdict over what is left matches. By default failing containers come first, the
 * most severe failure first, then the most findings, then by name.
 */
export function statusRows(
  containers: Iterable<ContainerReport>,
  checks: ReadonlyMap<string, CheckInstance>,
  filter: StatusFilter,
): StatusRow[] {
  const narrowed = filter.severity !== undefined || filter.check !== undefined;
  let whole = wholeRows.get(checks);
  if (whole === undefined) wholeRows.set(checks, (whole = new WeakMap()));
  const rows: StatusRow[] = [];
  for (const report of containers) {
    if (!matches(report, filter)) continue;
    let row: StatusRow | undefined;
    if (narrowed) {
      const results = report.results.filter(
        (result) =>
          (filter.check === undefined || result.check === filter.check) &&
          (filter.severity === undefined || atLeast(checks.get(result.check)?.severity ?? 'medium', filter.severity)),
      );
      if (results.length > 0) row = statusRow(report, results, checks);
    } else {
      row = whole.get(report);
      if (row === undefined) whole.set(report, (row = statusRow(report, report.results, checks)));
    }
    if (row === undefined || (filter.verdicts !== undefined && !filter.verdicts.has(row.verdict))) continue;
    rows.push(row);
  }
  return rows.sort(COMPARE[filter.sort]);
}

/** Code-unit order: a thousand rows sort in well under a millisecond, where localeCompare takes several. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byName = (a: StatusRow, b: StatusRow): number => compareText(a.report.name, b.report.name);

const COMPARE: Readonly<Record<SortOrder, (a: StatusRow, b: StatusRow) => number>> = {
  severity: (a, b) => ORDER[a.verdict] - ORDER[b.verdict] || a.worst - b.worst || b.failing - a.failing || byName(a, b),
  name: byName,
  image: (a, b) => compareText(a.report.image, b.report.image) || byName(a, b),
  findings: (a, b) => b.failing - a.failing || a.worst - b.worst || byName(a, b),
};
