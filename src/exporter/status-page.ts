/**
 * The status page (`/`) and the per-container pages (`/containers/NAME`), rendered on the server from the
 * monitor's current state. Every value goes through ghtml's `html` tag, which escapes what it inserts;
 * `!${...}` (no escaping) is used only for fragments this module rendered with the same tag.
 */
import { escapeControl } from '../control-characters.js';
import { html } from 'ghtml';
import { rootProcessesOf } from '../checks/root-process-check.js';
import type { MonitorState } from '../core/monitor.js';
import { checksByName, severityRank } from '../policy/severity.js';
import { SEVERITIES, type CheckInstance, type CheckResult, type ContainerReport } from '../policy/types.js';
import { notRunText } from '../report/describe.js';
import { VERSION } from '../version.js';
import { isFailure } from '../policy/chain.js';
import {
  NO_FILTER,
  ROW_VERDICTS,
  filterQuery,
  SORT_ORDERS,
  statusRows,
  type RowVerdict,
  type SortOrder,
  type StatusFilter,
  type StatusRow,
} from './status-filter.js';
import { alertOf, grafanaUrl, runbookUrl } from './status-links.js';
import { overview, type Overview } from './status-overview.js';

export interface PageContext {
  state: MonitorState;
  checks: readonly CheckInstance[];
  telemetryPath: string;
  /** The first refresh has finished. */
  ready: boolean;
  /** Unix milliseconds, for the age of the last refresh. */
  now: number;
  /** `--web.grafana-url`: each container links to its dashboard there. */
  grafanaUrl?: string | undefined;
}

/** No script, no external asset: inline styles only, forms to this server only. */
export const STATUS_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `
:root{color-scheme:light dark;--fail:#c62828;--waived:#8a6d00;--pass:#2e7d32;--muted:#666;--line:#ddd;--card:#fff;--bg:#f5f5f5;--link:#0b57d0}
@media (prefers-color-scheme:dark){:root{--muted:#aaa;--line:#444;--card:#1e1e1e;--bg:#121212;--fail:#ef5350;--waived:#e0b000;--pass:#66bb6a;--link:#8ab4f8}}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:var(--bg);line-height:1.4;overflow-wrap:break-word}
header,main,footer{max-width:72rem;margin:0 auto;padding:.6rem 1rem}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1.5rem}
footer{color:var(--muted);font-size:.85rem}
h1{font-size:1.4rem;margin:.25rem 0}h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
a{color:var(--link)}h3 a,.check{color:inherit}.finding .check{font-weight:700}
.summary{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:0;padding:0;list-style:none}
.down{color:var(--fail);font-weight:600}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.5rem;list-style:none;margin:.25rem 0;padding:0}
.tiles li{background:var(--card);border:1px solid var(--line);border-top:.3rem solid var(--line);border-radius:.4rem;padding:.4rem .7rem}
.tiles li.bad{border-top-color:var(--fail)}.tiles li.good{border-top-color:var(--pass)}
.tiles a{color:inherit;text-decoration:none;display:block}
.tiles b{display:block;font-size:1.6rem;line-height:1.2}.tiles span{color:var(--muted);font-size:.85rem}
.chips{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.5rem 0}
.chip{border:1px solid var(--line);border-radius:1rem;padding:.1rem .6rem;background:var(--card);text-decoration:none;color:inherit;font-size:.9rem}
.chip.zero{color:var(--muted)}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
input,select,button{font:inherit;padding:.35rem .5rem;min-height:2.5rem}input[type=search]{width:12rem;max-width:100%}
.quick{margin:.25rem 0;font-size:.9rem}
.panel{background:var(--card);border:1px solid var(--line);border-radius:.4rem;padding:.5rem .8rem;margin:.5rem 0}
.panel h3{margin:0;font-size:1.05rem;display:flex;flex-wrap:wrap;gap:.25rem .6rem;align-items:baseline}
.containers{list-style:none;padding:0;margin:0}
.container{background:var(--card);border:1px solid var(--line);border-left:.35rem solid var(--line);border-radius:.4rem;margin:.4rem 0;padding:.45rem .8rem}
.container.fail{border-left-color:var(--fail)}.container.waived{border-left-color:var(--waived)}.container.pass{border-left-color:var(--pass)}
.container h3{font-size:1rem;margin:0;display:flex;flex-wrap:wrap;gap:.25rem .6rem;align-items:baseline}
.image{color:var(--muted);font-size:.85rem;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.verdict{font-size:.75rem;font-weight:700;text-transform:uppercase;padding:.1rem .4rem;border-radius:.25rem;color:#fff;background:var(--muted);white-space:nowrap}
.verdict.fail,.verdict.error{background:var(--fail)}.verdict.waived{background:var(--waived)}.verdict.pass,.verdict.pass_fast{background:var(--pass)}
.findings{list-style:none;padding:0;margin:.3rem 0 0}
.finding{border-top:1px solid var(--line);padding:.2rem 0;display:flex;flex-wrap:wrap;gap:0 .6rem;align-items:baseline;font-size:.9rem}
.finding .sev{min-width:4.2rem}
.finding .reason{flex:1 1 14rem;min-width:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:var(--muted)}
.sev{font-size:.75rem;font-weight:700;text-transform:uppercase;white-space:nowrap}
.sev.critical,.sev.high{color:var(--fail)}.sev.medium{color:var(--waived)}
.cis{color:var(--muted);font-size:.85rem;white-space:nowrap}
.reason{margin:.2rem 0;font-family:ui-monospace,monospace;font-size:.9rem;white-space:pre-wrap;overflow-wrap:anywhere}
.fix,.waiver,.note{margin:.2rem 0;font-size:.9rem;color:var(--muted)}
.panel .fix{color:inherit}
details>summary{cursor:pointer;font-weight:600;margin:.5rem 0}
details.more>summary{font-weight:400;font-size:.85rem;color:var(--muted);margin:.2rem 0 0}
.grafana{font-size:.85rem;font-weight:400}h3 a.grafana{color:var(--link)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid var(--line);padding:.3rem .4rem}
#checks td{padding:.15rem .4rem;font-size:.9rem}
th{white-space:nowrap;font-size:.85rem;color:var(--muted)}
td.num,th.num{text-align:right}
code{font-family:ui-monospace,monospace;font-size:.9rem;white-space:pre-wrap;overflow-wrap:anywhere}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}table.results thead{display:none}table.results tr{display:block;border-bottom:1px solid var(--line)}table.results td{display:block;border:0;padding:.15rem .4rem}.wide{display:none}.tiles{grid-template-columns:repeat(auto-fit,minmax(6.5rem,1fr))}.tiles b{font-size:1.3rem}#checks td,#checks th{padding:.15rem .2rem;font-size:.8rem}}
`;

const RESULT_LABELS: Readonly<Record<CheckResult['result'], string>> = {
  pass: 'pass',
  pass_fast: 'pass fast',
  fail: 'fail',
  error: 'error',
  waived: 'waived',
  not_applicable: 'not applicable',
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

const failingWith = (check: string): string => filterQuery(NO_FILTER, { check, verdicts: new Set(['fail']) });

function runbookLink(name: string, check: CheckInstance | undefined, result: CheckResult['result']): string {
  return html`<a class="runbook" href="${runbookUrl(name, check, result)}" title="${alertOf(name, check, result)} in docs/alerts.md">runbook</a>`;
}

function grafanaLink(base: string | undefined, container: string): string {
  const url = grafanaUrl(base, container);
  return url === undefined ? '' : html`<a class="grafana" href="${url}">Grafana</a>`;
}

/** The one line of a finding in the list: severity, check (to its view), and the reason or the waiver. */
function finding(result: CheckResult, check: CheckInstance | undefined, prefix: string): string {
  const severity = check?.severity ?? 'medium';
  const waiver = result.waiver;
  const reason =
    result.result !== 'waived'
      ? (result.reason ?? check?.description ?? '')
      : waiver === undefined
        ? 'waived'
        : `waived by ${waiver.name}${waiver.expires === undefined ? '' : ` until ${waiver.expires}`}: ${waiver.reason}`;
  return html`<li class="finding ${result.result}" data-check="${result.check}"><span class="sev ${severity}">${severity}</span>!${result.result === 'fail' ? '' : html`<span class="verdict ${result.result}">${RESULT_LABELS[result.result]}</span>`}<a class="check" href="${prefix}${failingWith(result.check)}">${result.check}</a><span class="reason">${reason}</span></li>`;
}

function containerLink(name: string, prefix: string): string {
  return `${prefix}containers/${encodeURIComponent(name)}`;
}

/**
 * Rows of unnarrowed containers, by chain, Grafana base and report: a report is never changed once made
 * (a refresh or an event replaces it), so its row is rendered once, not at every page view.
 */
const rowCache = new WeakMap<readonly CheckInstance[], { grafana: string | undefined; rows: WeakMap<ContainerReport, string> }>();

function cachedRow(entry: StatusRow, context: PageContext, checks: ReadonlyMap<string, CheckInstance>, narrowed: boolean): string {
  if (narrowed) return row(entry, checks, context.grafanaUrl);
  let cache = rowCache.get(context.checks);
  if (cache === undefined || cache.grafana !== context.grafanaUrl) {
    rowCache.set(context.checks, (cache = { grafana: context.grafanaUrl, rows: new WeakMap() }));
  }
  let text = cache.rows.get(entry.report);
  if (text === undefined) cache.rows.set(entry.report, (text = row(entry, checks, context.grafanaUrl)));
  return text;
}

function row(
  { report, verdict, findings, kept }: StatusRow,
  checks: ReadonlyMap<string, CheckInstance>,
  grafana: string | undefined,
): string {
  const summary =
    verdict === 'allowed'
      ? 'The image is in [policy] always_allow: no check runs.'
      : findings.length === 0
        ? `${kept} check${kept === 1 ? '' : 's'} pass.`
        : '';
  return html`<li class="container ${verdict}" data-container="${escapeControl(report.name)}" data-verdict="${verdict}">
<h3><span class="verdict ${verdict === 'allowed' ? 'pass' : verdict}">${VERDICT_LABELS[verdict]}</span><a href="${containerLink(report.name, '')}">${escapeControl(report.name)}</a><span class="image">${escapeControl(report.image)}</span>!${grafanaLink(grafana, report.name)}</h3>
!${summary === '' ? '' : html`<p class="note">${summary}</p>`}
!${findingList(findings, checks)}
</li>`;
}

/** Findings shown before the rest fold: every critical and high one, and at least this many. */
const SHOWN_FINDINGS = 3;

/** One line per finding; past the critical and high ones (or the first three), the rest fold when there are two or more. */
function findingList(findings: readonly CheckResult[], checks: ReadonlyMap<string, CheckInstance>): string {
  if (findings.length === 0) return '';
  const severe = findings.filter((result) => isFailure(result) && severityRank(checks.get(result.check)?.severity ?? 'medium') <= 1).length;
  let shown = Math.max(severe, SHOWN_FINDINGS);
  if (findings.length - shown < 2) shown = findings.length;
  const line = (result: CheckResult): string => finding(result, checks.get(result.check), '');
  const rest = findings.slice(shown);
  return html`<ul class="findings">!${findings.slice(0, shown).map(line)}</ul>!${
    rest.length === 0
      ? ''
      : html`<details class="more"><summary>${rest.length} more: ${[...new Set(rest.map((result) => checks.get(result.check)?.severity ?? 'medium'))].join(', ')}</summary><ul class="findings">!${rest.map(line)}</ul></details>`
  }`;
}

function option(value: string, label: string, selected: boolean): string {
  return selected ? html`<option value="${value}" selected>${label}</option>` : html`<option value="${value}">${label}</option>`;
}

const SORT_LABELS: Readonly<Record<SortOrder, string>> = {
  severity: 'worst first',
  name: 'name',
  image: 'image',
  findings: 'most failing checks',
};

function filterForm(filter: StatusFilter, checkNames: readonly string[]): string {
  const verdict = filter.verdicts?.size === 1 ? [...filter.verdicts][0] : undefined;
  const label = filter.label === undefined ? '' : `${filter.label.key}${filter.label.value === undefined ? '' : `=${filter.label.value}`}`;
  return html`<form class="filters" method="get" action="">
<label>Name, image or label<input type="search" name="q" value="${filter.search ?? ''}" placeholder="e.g. nginx"></label>
<label>Label<input type="search" name="label" value="${label}" placeholder="KEY or KEY=VALUE"></label>
<label>Verdict<select name="verdict">!${option('', 'any', verdict === undefined)}!${ROW_VERDICTS.map((value) => option(value, VERDICT_LABELS[value], verdict === value))}</select></label>
<label>Severity at least<select name="severity">!${option('', 'any', filter.severity === undefined)}!${SEVERITIES.map((value) => option(value, value, filter.severity === value))}</select></label>
<label>Check<select name="check">!${option('', 'any', filter.check === undefined)}!${checkNames.map((value) => option(value, value, filter.check === value))}</select></label>
<label>Sort<select name="sort">!${SORT_ORDERS.map((value) => option(value, SORT_LABELS[value], filter.sort === value))}</select></label>
<button type="submit">Show</button>
</form>
<p class="quick"><a href="?verdict=fail">Failing only</a> · <a href="?verdict=fail&amp;severity=high">Failing at high or critical</a> · <a href="?">All</a></p>`;
}

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;

/** Counts first: containers, compliant share, failing by severity, failing host checks, then the checks by how many containers fail them. */
function overviewSection(summary: Overview, hostFailing: number, hostTotal: number): string {
  const share = summary.containers === 0 ? 100 : Math.floor((summary.compliant / summary.containers) * 100);
  const tile = (id: string, value: string, label: string, href: string, tone: string): string =>
    html`<li class="${tone}"><a href="${href}"><b id="${id}">${value}</b><span>${label}</span></a></li>`;
  const chips = SEVERITIES.map((severity) => {
    const count = summary.failingBySeverity[severity];
    return html`<a class="chip${count === 0 ? ' zero' : ''}" data-severity="${severity}" href="${filterQuery(NO_FILTER, { verdicts: new Set(['fail']), severity })}"><b>${count}</b> <span class="sev ${severity}">${severity}</span></a>`;
  });
  return html`<section id="overview" aria-label="Overview">
<ul class="tiles">
!${tile('watched', String(summary.containers), 'containers', '?', '')}
!${tile('compliant', `${share} %`, `compliant (${summary.compliant} of ${summary.containers})`, '?verdict=pass,waived,allowed', summary.failing === 0 ? 'good' : '')}
!${tile('failing', String(summary.failing), 'failing the policy', '?verdict=fail', summary.failing === 0 ? 'good' : 'bad')}
!${tile('waived', String(summary.waived), 'with waived results', '?verdict=waived', '')}
!${tile('host-failing', `${hostFailing} of ${hostTotal}`, 'host checks failing', '#host', hostFailing === 0 ? 'good' : 'bad')}
</ul>
<p class="chips" id="by-severity"><span class="note">Failing containers by their most severe finding:</span>!${chips}</p>
!${checksTable(summary)}
</section>`;
}

function checksTable(summary: Overview): string {
  const clean =
    summary.cleanChecks.length === 0
      ? ''
      : html`<details id="clean-checks"><summary>${plural(summary.cleanChecks.length, 'check passes', 'checks pass')} on every container</summary><p class="note">${summary.cleanChecks.join(', ')}</p></details>`;
  if (summary.failingChecks.length === 0) return html`<h2>Checks</h2><p class="note">No check fails on any container.</p>!${clean}`;
  return html`<h2>Checks failing</h2>
<div class="scroll"><table id="checks">
<thead><tr><th>Check</th><th>Severity</th><th class="num">Failing</th><th class="num wide">Waived</th><th class="wide">Runbook</th></tr></thead>
<tbody>!${summary.failingChecks.map(({ name, check, failing, errors, waived }) => {
    const severity = check?.severity ?? 'medium';
    return html`<tr data-check="${name}"><td><a class="check" href="${filterQuery(NO_FILTER, { check: name })}"><b>${name}</b></a> !${cisText(check)}</td><td><span class="sev ${severity}">${severity}</span></td><td class="num">!${failing === 0 ? '0' : html`<a href="${failingWith(name)}" title="the containers failing ${name}">${failing}</a>`}!${errors === 0 ? '' : html` <span class="note">(${errors} error${errors === 1 ? '' : 's'})</span>`}</td><td class="num wide">${waived}</td><td class="wide">!${runbookLink(name, check, errors === failing && failing > 0 ? 'error' : 'fail')}</td></tr>`;
  })}</tbody></table></div>
!${clean}`;
}

/** The host checks that fail, with their fix (there is one host, so it shows once); the passing ones folded. */
function hostSection(results: readonly CheckResult[], checks: ReadonlyMap<string, CheckInstance>): string {
  if (results.length === 0) return '';
  const failing = results.filter(isFailure);
  const passing = results.filter((result) => !isFailure(result));
  const folded =
    passing.length === 0
      ? ''
      : html`<details><summary>${plural(passing.length, 'host check')} not failing</summary><p class="note">!${passing.map((result) => html`${result.check} (${RESULT_LABELS[result.result]})`).join(', ')}</p></details>`;
  return html`<section id="host"><h2>Host checks: ${failing.length === 0 ? `all ${results.length} pass` : `${failing.length} of ${results.length} fail`}</h2>
!${
    failing.length === 0
      ? ''
      : html`<div class="scroll"><table class="results">
<thead><tr><th>Check</th><th>Severity</th><th>Reason</th><th>Fix</th></tr></thead>
<tbody>!${failing.map((result) => {
          const check = checks.get(result.check);
          const severity = check?.severity ?? 'medium';
          return html`<tr data-check="${result.check}"><td><b>${result.check}</b> !${result.result === 'error' ? html`<span class="verdict error">error</span>` : ''} !${cisText(check)}</td><td><span class="sev ${severity}">${severity}</span></td><td><span class="reason">${result.reason ?? ''}</span></td><td>${result.result === 'fail' ? (check?.remediation ?? '') : ''} !${runbookLink(result.check, check, result.result)}</td></tr>`;
        })}</tbody></table></div>`
  }
!${folded}</section>`;
}

/** With `check=NAME`: what the check holds and how to fix it, once, above the containers failing it. */
function checkPanel(name: string, check: CheckInstance | undefined, counts: Overview): string {
  const severity = check?.severity ?? 'medium';
  const count = counts.failingChecks.find((entry) => entry.name === name);
  return html`<section class="panel" id="check-view" data-check="${name}">
<h3>${name} <span class="sev ${severity}">${severity}</span> !${cisText(check)}</h3>
<p class="note">${check?.description ?? ''}</p>
!${check?.remediation === undefined ? '' : html`<p class="fix">Fix: ${check.remediation}</p>`}
<p class="quick">Failing on <b>${count?.failing ?? 0}</b> of ${counts.containers} containers · !${runbookLink(name, check, 'fail')} · <a href="${failingWith(name)}">the failing ones</a> · <a href="${filterQuery(NO_FILTER, { check: name, verdicts: new Set(['pass']) })}">the passing ones</a></p>
</section>`;
}

/** The names the `check` filter offers: every container-level check of the chain. */
function containerCheckNames(checks: readonly CheckInstance[]): string[] {
  return [...new Set(checks.filter((check) => check.scope !== 'host').map((check) => check.name))];
}

/**
 * The list: failing containers, each finding on one line; then those passing thanks to waivers and the
 * passing ones, folded (open when the query asked for them by verdict or by search).
 */
function containerList(
  rows: readonly StatusRow[],
  context: PageContext,
  byName: ReadonlyMap<string, CheckInstance>,
  filter: StatusFilter,
): string {
  const narrowed = filter.severity !== undefined || filter.check !== undefined;
  const render = (entries: readonly StatusRow[]): string => entries.map((entry) => cachedRow(entry, context, byName, narrowed)).join('');
  const failing = rows.filter((entry) => entry.verdict === 'fail');
  const waived = rows.filter((entry) => entry.verdict === 'waived');
  const passing = rows.filter((entry) => entry.verdict === 'pass' || entry.verdict === 'allowed');
  const opened = (verdict: RowVerdict): boolean =>
    filter.search !== undefined || filter.label !== undefined || filter.verdicts?.has(verdict) === true;
  const folded = (id: string, entries: readonly StatusRow[], label: string, open: boolean): string =>
    entries.length === 0
      ? ''
      : open
        ? html`<details id="${id}" open><summary>${label}</summary><ul class="containers">!${render(entries)}</ul></details>`
        : html`<details id="${id}"><summary>${label}</summary><ul class="containers">!${render(entries)}</ul></details>`;
  return html`!${failing.length === 0 ? '' : html`<ul class="containers" id="failing-list">!${render(failing)}</ul>`}
!${folded('waived-list', waived, `${plural(waived.length, 'container')} passing thanks to waivers`, opened('waived'))}
!${folded('passing-list', passing, `${plural(passing.length, 'passing container')}`, opened('pass') || opened('allowed'))}`;
}

/** The chain's checks by name, made once per chain, so that rows cached by it are found again. */
const checksOfChain = new WeakMap<readonly CheckInstance[], ReadonlyMap<string, CheckInstance>>();

function byNameOf(checks: readonly CheckInstance[]): ReadonlyMap<string, CheckInstance> {
  let byName = checksOfChain.get(checks);
  if (byName === undefined) checksOfChain.set(checks, (byName = checksByName(checks)));
  return byName;
}

/** `/`: the overview, the failing host checks, then the containers (failing first, the rest folded). */
export function renderStatusPage(context: PageContext, filter: StatusFilter = NO_FILTER, filterError?: string): string {
  const { state, checks, telemetryPath } = context;
  const byName = byNameOf(checks);
  const reports = [...state.containers.values()];
  const summary = overview(reports, byName);
  const rows = filterError === undefined ? statusRows(reports, byName, filter) : [];
  const listed = filter.limit === undefined ? rows : rows.slice(0, filter.limit);
  const hostFailing = state.host.results.filter(isFailure).length;
  const body = html`<header>
<h1>docker-monitor</h1>
<ul class="summary">!${engineSummary(context)}</ul>
<p class="quick"><a href="${telemetryPath}">Metrics</a> · <a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></p>
</header>
<main>
!${overviewSection(summary, hostFailing, state.host.results.length)}
!${hostSection(state.host.results, byName)}
<section id="containers">
<h2>Containers</h2>
!${filterForm(filter, containerCheckNames(checks))}
!${filterError === undefined ? '' : html`<p class="down" id="filter-error">${filterError}</p>`}
!${filter.check === undefined ? '' : checkPanel(filter.check, byName.get(filter.check), summary)}
<p class="note" id="shown">Showing ${rows.length} of ${reports.length} container${reports.length === 1 ? '' : 's'}.</p>
!${containerList(listed, context, byName, filter)}
!${listed.length === rows.length ? '' : html`<p class="note" id="more">Listed: the first ${listed.length}. Narrow the list with the search or the filters, or <a href="${filterQuery(filter, { limit: undefined })}">list all ${rows.length}</a>.</p>`}
</section>
</main>`;
  return layout(summary.failing > 0 ? `${summary.failing} failing · docker-monitor` : 'docker-monitor', body);
}

/** The running container of that name, if any. */
export function findContainer(state: MonitorState, name: string): ContainerReport | undefined {
  for (const report of state.containers.values()) if (report.name === name) return report;
  return undefined;
}

function resultRow(check: CheckInstance | undefined, name: string, result: CheckResult | undefined, report: ContainerReport): string {
  const fix = result?.result === 'fail' ? check?.remediation : undefined;
  return html`<tr data-check="${name}" class="${result?.result ?? 'not-run'}">
<td><a class="check" href="../${failingWith(name)}" title="every container failing ${name}"><b>${name}</b></a> !${cisText(check)}<br><span class="note">${check?.description ?? ''}</span></td>
<td>!${result === undefined ? html`<span class="verdict">${report.excluded?.includes(name) === true ? 'excluded' : 'not run'}</span>` : html`<span class="verdict ${result.result}">${RESULT_LABELS[result.result]}</span>`}</td>
<td><span class="sev ${check?.severity ?? ''}">${check?.severity ?? ''}</span></td>
<td>!${result === undefined ? html`<span class="note">${notRunText(report, name)}</span>` : html`<span class="reason">${result.reason ?? ''}</span>`}!${result?.result === 'waived' ? waiverLine(result) : ''}!${fix === undefined ? '' : html`<p class="fix">Fix: ${fix}</p>`}!${result !== undefined && isFailure(result) ? html`<p class="note">!${runbookLink(name, check, result.result)}</p>` : ''}</td>
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
!${context.grafanaUrl === undefined ? '' : html`<p class="quick">!${grafanaLink(context.grafanaUrl, report.name)}</p>`}
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
