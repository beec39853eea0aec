/**
 * The status page (`/`) and the per-container pages (`/containers/NAME`), rendered on the server from the
 * monitor's current state. Every value goes through ghtml's `html` tag, which escapes what it inserts;
 * `!${...}` (no escaping) is used only for fragments this module rendered with the same tag.
 */
import { escapeControl } from '../log.js';
import { html } from 'ghtml';
import { rootProcessesOf } from '../checks/root-process-check.js';
import type { MonitorState } from '../monitor.js';
import { checksByName } from '../policy/severity.js';
import { SEVERITIES, type CheckInstance, type CheckResult, type ContainerReport } from '../policy/types.js';
import { notRunText } from '../report/describe.js';
import { VERSION } from '../version.js';
import { NO_FILTER, ROW_VERDICTS, statusRows, type RowVerdict, type StatusFilter, type StatusRow } from './status-filter.js';

export interface PageContext {
  state: MonitorState;
  checks: readonly CheckInstance[];
  telemetryPath: string;
  /** The first refresh has finished. */
  ready: boolean;
  /** Unix milliseconds, for the age of the last refresh. */
  now: number;
}

/** No script, no external asset: inline styles only, forms to this server only. */
export const STATUS_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `
:root{color-scheme:light dark;--fail:#c62828;--waived:#8a6d00;--pass:#2e7d32;--muted:#666;--line:#ddd;--card:#fff;--bg:#f5f5f5}
@media (prefers-color-scheme:dark){:root{--muted:#aaa;--line:#444;--card:#1e1e1e;--bg:#121212;--fail:#ef5350;--waived:#e0b000;--pass:#66bb6a}}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:var(--bg);line-height:1.4;overflow-wrap:anywhere}
header,main,footer{max-width:64rem;margin:0 auto;padding:.75rem 1rem}
footer{color:var(--muted);font-size:.85rem}
h1{font-size:1.4rem;margin:.25rem 0}h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
a{color:inherit}
.summary{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;margin:.5rem 0;padding:0;list-style:none}
.summary b{font-size:1.1rem}
.down{color:var(--fail);font-weight:600}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
select,button{font:inherit;padding:.35rem .5rem;min-height:2.5rem}
.quick{margin:.25rem 0;font-size:.9rem}
.containers{list-style:none;padding:0;margin:0}
.container{background:var(--card);border:1px solid var(--line);border-left:.35rem solid var(--line);border-radius:.4rem;margin:.5rem 0;padding:.6rem .8rem}
.container.fail{border-left-color:var(--fail)}.container.waived{border-left-color:var(--waived)}.container.pass{border-left-color:var(--pass)}
.container h3{font-size:1rem;margin:0;display:flex;flex-wrap:wrap;gap:.25rem .6rem;align-items:baseline}
.image{color:var(--muted);font-size:.85rem;font-family:ui-monospace,monospace}
.verdict{font-size:.75rem;font-weight:700;text-transform:uppercase;padding:.1rem .4rem;border-radius:.25rem;color:#fff;background:var(--muted)}
.verdict.fail,.verdict.error{background:var(--fail)}.verdict.waived{background:var(--waived)}.verdict.pass,.verdict.pass_fast{background:var(--pass)}
.findings{list-style:none;padding:0;margin:.4rem 0 0}
.finding{border-top:1px solid var(--line);padding:.4rem 0}
.finding .meta{display:flex;flex-wrap:wrap;gap:.2rem .6rem;align-items:baseline}
.sev{font-size:.75rem;font-weight:700;text-transform:uppercase}
.sev.critical,.sev.high{color:var(--fail)}.sev.medium{color:var(--waived)}
.reason{margin:.2rem 0;font-family:ui-monospace,monospace;font-size:.9rem;white-space:pre-wrap}
.fix,.waiver,.note{margin:.2rem 0;font-size:.9rem;color:var(--muted)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid var(--line);padding:.4rem}
code{font-family:ui-monospace,monospace;font-size:.9rem;white-space:pre-wrap}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;font-family:ui-monospace,monospace}
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}table.results thead{display:none}table.results tr{display:block;border-bottom:1px solid var(--line)}table.results td{display:block;border:0;padding:.15rem .4rem}}
`;

const RESULT_LABELS: Readonly<Record<CheckResult['result'], string>> = {
  pass: 'pass',
  pass_fast: 'pass fast',
  fail: 'fail',
  error: 'error',
  waived: 'waived',
};

const VERDICT_LABELS: Readonly<Record<RowVerdict, string>> = {
  fail: 'failing',
  waived: 'waived',
  pass: 'passing',
  allowed: 'always allowed',
};

function age(seconds: number): string {
  if (seconds < 120) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

function layout(title: string, body: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>!${STYLE}</style>
</head>
<body>
!${body}
<footer>docker-monitor ${VERSION}</footer>
</body>
</html>
`;
}

/** Engine reachability and the age of the last refresh, as the probes and `docker_monitor_up` see them. */
function engineSummary({ state, ready, now }: PageContext): string {
  const engine = !ready
    ? html`<span id="engine">first refresh in progress</span>`
    : state.up
      ? html`<span id="engine">reachable</span>`
      : html`<span id="engine" class="down">unreachable: showing the last-known verdicts</span>`;
  const refreshed =
    state.lastRefreshTimestamp === 0
      ? html`<span id="refreshed">never</span>`
      : html`<span id="refreshed"><time datetime="${new Date(state.lastRefreshTimestamp * 1000).toISOString()}">${age(now / 1000 - state.lastRefreshTimestamp)} ago</time></span>`;
  return html`<li>Docker engine: <b>!${engine}</b></li><li>Last full refresh: <b>!${refreshed}</b></li>`;
}

function cisText(check: CheckInstance | undefined): string {
  return check?.cisId === undefined ? '' : html`<span class="cis">CIS ${check.cisId}</span>`;
}

function waiverLine(result: CheckResult): string {
  const waiver = result.waiver;
  if (waiver === undefined) return html`<p class="waiver">Waived.</p>`;
  return html`<p class="waiver">Waived by <b>${waiver.name}</b>${waiver.expires === undefined ? '' : html` until ${waiver.expires}`}: ${waiver.reason}</p>`;
}

/** One failing, erroring or waived result: check, severity, CIS id, reason, then the fix or the waiver. */
function finding(result: CheckResult, check: CheckInstance | undefined): string {
  const severity = check?.severity ?? 'medium';
  return html`<li class="finding ${result.result}" data-check="${result.check}">
<div class="meta"><span class="verdict ${result.result}">${RESULT_LABELS[result.result]}</span><b>${result.check}</b><span class="sev ${severity}">${severity}</span>!${cisText(check)}</div>
<p class="reason">${result.reason ?? check?.description ?? ''}</p>
!${result.result === 'waived' ? waiverLine(result) : result.result === 'fail' && check?.remediation !== undefined ? html`<p class="fix">Fix: ${check.remediation}</p>` : ''}
</li>`;
}

function containerLink(name: string, prefix: string): string {
  return `${prefix}containers/${encodeURIComponent(name)}`;
}

/**
 * Rows of unnarrowed containers, by chain and report: a report is never changed once made (a refresh or
 * an event replaces it), so its row is rendered once, not at every page view.
 */
const rowCache = new WeakMap<readonly CheckInstance[], WeakMap<ContainerReport, string>>();

function cachedRow(
  entry: StatusRow,
  checks: ReadonlyMap<string, CheckInstance>,
  chain: readonly CheckInstance[],
  narrowed: boolean,
): string {
  if (narrowed) return row(entry, checks);
  let rows = rowCache.get(chain);
  if (rows === undefined) rowCache.set(chain, (rows = new WeakMap()));
  let text = rows.get(entry.report);
  if (text === undefined) rows.set(entry.report, (text = row(entry, checks)));
  return text;
}

function row({ report, verdict, findings, kept }: StatusRow, checks: ReadonlyMap<string, CheckInstance>): string {
  const summary =
    verdict === 'allowed'
      ? 'The image is in [policy] always_allow: no check runs.'
      : findings.length === 0
        ? `${kept} check${kept === 1 ? '' : 's'} pass.`
        : '';
  return html`<li class="container ${verdict}" data-container="${escapeControl(report.name)}" data-verdict="${verdict}">
<h3><span class="verdict ${verdict === 'allowed' ? 'pass' : verdict}">${VERDICT_LABELS[verdict]}</span><a href="${containerLink(report.name, '')}">${escapeControl(report.name)}</a><span class="image">${escapeControl(report.image)}</span></h3>
!${summary === '' ? '' : html`<p class="note">${summary}</p>`}
!${findings.length === 0 ? '' : html`<ul class="findings">!${findings.map((result) => finding(result, checks.get(result.check)))}</ul>`}
</li>`;
}

function option(value: string, label: string, selected: boolean): string {
  return selected ? html`<option value="${value}" selected>${label}</option>` : html`<option value="${value}">${label}</option>`;
}

function filterForm(filter: StatusFilter, checkNames: readonly string[]): string {
  const verdict = filter.verdicts?.size === 1 ? [...filter.verdicts][0] : undefined;
  return html`<form class="filters" method="get" action="">
<label>Verdict<select name="verdict">!${option('', 'any', verdict === undefined)}!${ROW_VERDICTS.map((value) => option(value, VERDICT_LABELS[value], verdict === value))}</select></label>
<label>Severity at least<select name="severity">!${option('', 'any', filter.severity === undefined)}!${SEVERITIES.map((value) => option(value, value, filter.severity === value))}</select></label>
<label>Check<select name="check">!${option('', 'any', filter.check === undefined)}!${checkNames.map((value) => option(value, value, filter.check === value))}</select></label>
<button type="submit">Filter</button>
</form>
<p class="quick"><a href="?verdict=fail">Failing only</a> · <a href="?verdict=fail&amp;severity=high">Failing at high or critical</a> · <a href="?">All</a></p>`;
}

function hostSection(results: readonly CheckResult[], checks: ReadonlyMap<string, CheckInstance>): string {
  if (results.length === 0) return '';
  return html`<section id="host"><h2>Host checks</h2><div class="scroll"><table class="results">
<thead><tr><th>Check</th><th>Result</th><th>Severity</th><th>Reason</th><th>Fix</th></tr></thead>
<tbody>!${results.map((result) => {
    const check = checks.get(result.check);
    return html`<tr data-check="${result.check}"><td><b>${result.check}</b> !${cisText(check)}</td><td><span class="verdict ${result.result}">${RESULT_LABELS[result.result]}</span></td><td>${check?.severity ?? ''}</td><td>${result.reason ?? ''}</td><td>${result.result === 'fail' ? (check?.remediation ?? '') : ''}</td></tr>`;
  })}</tbody></table></div></section>`;
}

/** The names the `check` filter offers: every container-level check of the chain. */
function containerCheckNames(checks: readonly CheckInstance[]): string[] {
  return [...new Set(checks.filter((check) => check.scope !== 'host').map((check) => check.name))];
}

/** `/`: every container's verdict (failing first, with reasons and fixes), the filters, the host checks. */
export function renderStatusPage(context: PageContext, filter: StatusFilter = NO_FILTER, filterError?: string): string {
  const { state, checks, telemetryPath } = context;
  const byName = checksByName(checks);
  const reports = [...state.containers.values()];
  const failing = reports.filter((report) => !report.compliant).length;
  const waived = reports.filter((report) => report.results.some((result) => result.result === 'waived')).length;
  const rows = filterError === undefined ? statusRows(reports, byName, filter) : [];
  const body = html`<header>
<h1>docker-monitor</h1>
<ul class="summary">
<li>Containers: <b id="watched">${reports.length}</b></li>
<li>Failing the policy: <b id="failing">${failing}</b></li>
<li>With waived results: <b id="waived">${waived}</b></li>
!${engineSummary(context)}
</ul>
<p class="quick"><a href="${telemetryPath}">Metrics</a> · <a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></p>
</header>
<main>
<h2>Containers</h2>
!${filterForm(filter, containerCheckNames(checks))}
!${filterError === undefined ? '' : html`<p class="down" id="filter-error">${filterError}</p>`}
<p class="note" id="shown">Showing ${rows.length} of ${reports.length} container${reports.length === 1 ? '' : 's'}.</p>
<ul class="containers">!${rows.map((entry) => cachedRow(entry, byName, checks, filter.severity !== undefined || filter.check !== undefined))}</ul>
!${hostSection(state.host.results, byName)}
</main>`;
  return layout(failing > 0 ? `${failing} failing · docker-monitor` : 'docker-monitor', body);
}

/** The running container of that name, if any. */
export function findContainer(state: MonitorState, name: string): ContainerReport | undefined {
  for (const report of state.containers.values()) if (report.name === name) return report;
  return undefined;
}

function resultRow(check: CheckInstance | undefined, name: string, result: CheckResult | undefined, report: ContainerReport): string {
  const fix = result?.result === 'fail' ? check?.remediation : undefined;
  return html`<tr data-check="${name}" class="${result?.result ?? 'not-run'}">
<td><b>${name}</b> !${cisText(check)}<br><span class="note">${check?.description ?? ''}</span></td>
<td>!${result === undefined ? html`<span class="verdict">${report.excluded?.includes(name) === true ? 'excluded' : 'not run'}</span>` : html`<span class="verdict ${result.result}">${RESULT_LABELS[result.result]}</span>`}</td>
<td><span class="sev ${check?.severity ?? ''}">${check?.severity ?? ''}</span></td>
<td>!${result === undefined ? html`<span class="note">${notRunText(report, name)}</span>` : html`<span class="reason">${result.reason ?? ''}</span>`}!${result?.result === 'waived' ? waiverLine(result) : ''}!${fix === undefined ? '' : html`<p class="fix">Fix: ${fix}</p>`}</td>
</tr>`;
}

/** `/containers/NAME`: one container's facts, root processes and every check of the chain. */
export function renderContainerPage(context: PageContext, report: ContainerReport): string {
  const byName = checksByName(context.checks);
  const results = new Map(report.results.map((result) => [result.check, result]));
  const names = [...new Set([...containerCheckNames(context.checks), ...results.keys()])];
  const verdict: RowVerdict = report.alwaysAllowed
    ? 'allowed'
    : !report.compliant
      ? 'fail'
      : report.results.some((result) => result.result === 'waived')
        ? 'waived'
        : 'pass';
  const labels = Object.entries(report.labels).sort(([a], [b]) => a.localeCompare(b));
  const roots = rootProcessesOf(report);
  const body = html`<header>
<p class="quick"><a href="../">← All containers</a></p>
<h1>${escapeControl(report.name)} <span class="verdict ${verdict === 'allowed' ? 'pass' : verdict}" id="verdict">${VERDICT_LABELS[verdict]}</span></h1>
<ul class="summary">!${engineSummary(context)}</ul>
</header>
<main>
<dl class="facts">
<dt>Image</dt><dd>${escapeControl(report.image)}</dd>
<dt>Image ID</dt><dd>${report.imageId}</dd>
<dt>Container ID</dt><dd>${report.id}</dd>
<dt>Started</dt><dd>${report.startedAt}</dd>
<dt>Root processes</dt><dd id="root-processes">${roots === undefined ? 'unknown (RootProcessCheck did not run or could not read the processes)' : String(roots.length)}</dd>
</dl>
<h2>Checks</h2>
<div class="scroll"><table class="results" id="results">
<thead><tr><th>Check</th><th>Result</th><th>Severity</th><th>Reason</th></tr></thead>
<tbody>!${names.map((name) => resultRow(byName.get(name), name, results.get(name), report))}</tbody>
</table></div>
!${(roots ?? []).length === 0 ? '' : html`<h2>Processes running as root</h2><ul id="root-process-list">!${(roots ?? []).map((process) => html`<li><code>${process.pid}: ${process.command}</code></li>`)}</ul>`}
!${labels.length === 0 ? '' : html`<h2>Labels</h2><div class="scroll"><table><tbody>!${labels.map(([key, value]) => html`<tr><td><code>${escapeControl(key)}</code></td><td><code>${escapeControl(value)}</code></td></tr>`)}</tbody></table></div>`}
</main>`;
  return layout(`${escapeControl(report.name)} · docker-monitor`, body);
}

/** A page for a container that is not running, or a filter that cannot be read. */
export function renderNotFound(context: PageContext, name: string): string {
  return layout(
    'Not found · docker-monitor',
    html`<header><p class="quick"><a href="../">← All containers</a></p><h1>No running container named “${name}”</h1><ul class="summary">!${engineSummary(context)}</ul></header>`,
  );
}
