/**
 * Our own lint of the Grafana dashboards, in the spirit of grafana/dashboard-linter (not installable
 * here): file provisioning works (no __inputs, fixed uid), every panel uses the datasource variable,
 * every selector filters on job and instance, every range is $__rate_interval, ids are unique, the
 * overview links to the container dashboard with variables that exist.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allPanels, loadDashboards, panelQueries, variableQuery, type Dashboard } from '../helpers/monitoring-files.js';

const DATASOURCE_UID = '${datasource}';
const GRAFANA_GLOBALS = new Set(['__rate_interval', '__range', '__interval', '__url_time_range', '__data', '__value']);
const GROUPING_KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'];
const OPERATOR_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', ...GROUPING_KEYWORDS]);
const SELECTOR = /([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g;

/** `metric{matchers}` selectors of a PromQL expression. */
function selectors(expr: string): { metric: string; matchers: string }[] {
  return [...withoutStrings(expr).matchAll(SELECTOR)].map((match) => ({
    metric: match[1] ?? '',
    matchers: restoreMatchers(expr, match.index ?? 0),
  }));
}

/** Blanks string contents so braces or names inside them are not read as PromQL. */
function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"/g, (text) => `"${'_'.repeat(text.length - 2)}"`);
}

/** The original matcher text of the selector found at `index` (strings blanked only for finding it). */
function restoreMatchers(expr: string, index: number): string {
  const open = expr.indexOf('{', index);
  let close = open;
  let inString = false;
  for (let i = open + 1; i < expr.length; i += 1) {
    const char = expr[i];
    if (char === '\\' && inString) i += 1;
    else if (char === '"') inString = !inString;
    else if (char === '}' && !inString) {
      close = i;
      break;
    }
  }
  return expr.slice(open + 1, close);
}

/** Metric names used without `{...}`: they could not filter on job and instance. */
function bareMetrics(expr: string): string[] {
  let rest = withoutStrings(expr).replace(SELECTOR, ' ');
  rest = rest.replace(new RegExp(`\\b(${GROUPING_KEYWORDS.join('|')})\\s*\\([^)]*\\)`, 'g'), ' ');
  rest = rest.replace(/\[[^\]]*\]/g, ' ').replace(/"_*"/g, ' ');
  return [...rest.matchAll(/([a-zA-Z_:][\w:]*)(\s*\()?/g)]
    .filter((match) => match[2] === undefined && !OPERATOR_KEYWORDS.has(match[1] ?? ''))
    .map((match) => match[1] ?? '');
}

/** Problems of one panel query, as messages. */
function queryProblems(expr: string): string[] {
  const problems: string[] = [];
  for (const { metric, matchers } of selectors(expr)) {
    if (!/\bjob=~"\$job"/.test(matchers)) problems.push(`${metric} does not filter on job=~"$job"`);
    if (!/\binstance=~"\$instance"/.test(matchers)) problems.push(`${metric} does not filter on instance=~"$instance"`);
  }
  for (const metric of bareMetrics(expr)) problems.push(`${metric} has no label matchers`);
  for (const [, range] of expr.matchAll(/\[([^\]]*)\]/g)) {
    if (range !== '$__rate_interval' && range !== '$__range') problems.push(`range [${range}] is not [$__rate_interval]`);
  }
  for (const [, fn, range] of expr.matchAll(/\b(rate|irate|increase)\s*\([^[]*\[([^\]]*)\]/g)) {
    const allowed = fn === 'increase' ? ['$__rate_interval', '$__range'] : ['$__rate_interval'];
    if (!allowed.includes(range ?? '')) problems.push(`${fn} over [${range}] instead of [$__rate_interval]`);
  }
  return problems;
}

function variableNames(dashboard: Dashboard): Set<string> {
  return new Set(dashboard.templating.list.map((variable) => variable.name));
}

const dashboards = loadDashboards();

describe('the query lint itself', () => {
  test('accepts a well-filtered query', () => {
    assert.deepEqual(
      queryProblems('sum by (instance) (rate(docker_monitor_check_errors_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))'),
      [],
    );
  });

  test('flags a missing job or instance filter, a bare metric and a fixed range', () => {
    assert.deepEqual(queryProblems('docker_monitor_up{instance=~"$instance"} + docker_monitor_up'), [
      'docker_monitor_up does not filter on job=~"$job"',
      'docker_monitor_up has no label matchers',
    ]);
    assert.deepEqual(queryProblems('rate(up{job=~"$job", instance=~"$instance"}[5m])'), [
      'range [5m] is not [$__rate_interval]',
      'rate over [5m] instead of [$__rate_interval]',
    ]);
    assert.deepEqual(queryProblems('rate(up{job=~"$job", instance=~"$instance"}[$__range])'), [
      'rate over [$__range] instead of [$__rate_interval]',
    ]);
  });

  test('does not read braces or names inside strings as selectors', () => {
    assert.deepEqual(queryProblems('up{job=~"$job", instance=~"$instance", x="a{b} rate"}'), []);
  });
});

test('there are an overview and a container dashboard', () => {
  assert.deepEqual(
    dashboards.map(({ dashboard }) => dashboard.uid),
    ['docker-monitor-container', 'docker-monitor-overview'],
  );
});

for (const { file, text, dashboard } of dashboards) {
  describe(file, () => {
    test('provisions from a file: fixed uid, id null, no __inputs', () => {
      assert.match(dashboard.uid, /^[a-z0-9-]{1,40}$/);
      assert.equal(dashboard.id, null);
      assert.equal(dashboard.__inputs, undefined, '__inputs break file provisioning (grafana/grafana#10786)');
      assert.doesNotMatch(text, /\$\{DS_[A-Z_]+\}/, 'no ${DS_...} import placeholders');
    });

    test('has the datasource, job and instance variables, queried through the datasource variable', () => {
      const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
      const datasource = variables.get('datasource');
      assert.equal(datasource?.type, 'datasource');
      assert.equal(datasource.query, 'prometheus');
      for (const name of ['job', 'instance']) {
        const variable = variables.get(name);
        assert.equal(variable?.type, 'query', `variable ${name}`);
        assert.equal(variable.datasource?.uid, DATASOURCE_UID, `variable ${name} uses the datasource variable`);
      }
      assert.match(variableQuery(variables.get('instance') ?? { name: '', type: '' }) ?? '', /job=~"\$job"/);
    });

    test('panel ids are unique and panels do not overlap', () => {
      const panels = allPanels(dashboard);
      const ids = panels.map((panel) => panel.id);
      assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(',')}`);
      const cells = new Map<string, string>();
      for (const panel of panels) {
        const { x, y, w, h } = panel.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24, `${panel.title} fits the 24-column grid`);
        for (let row = y; row < y + h; row += 1) {
          for (let column = x; column < x + w; column += 1) {
            const key = `${column},${row}`;
            assert.equal(cells.get(key), undefined, `${panel.title} overlaps ${cells.get(key)}`);
            cells.set(key, panel.title);
          }
        }
      }
    });

    test('every panel and query uses the datasource variable', () => {
      for (const panel of allPanels(dashboard).filter((candidate) => candidate.type !== 'row')) {
        assert.equal(panel.datasource?.uid, DATASOURCE_UID, `panel "${panel.title}"`);
        assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has queries`);
        for (const target of panel.targets ?? []) {
          assert.equal(target.datasource?.uid, DATASOURCE_UID, `panel "${panel.title}" query ${target.refId}`);
        }
      }
    });

    test('every query filters on job and instance and uses $__rate_interval', () => {
      const problems = panelQueries(dashboard).flatMap(({ panel, target, expr }) =>
        queryProblems(expr).map((problem) => `"${panel.title}" ${target.refId}: ${problem}`),
      );
      assert.deepEqual(problems, []);
    });

    test('every variable a query uses is defined', () => {
      const defined = variableNames(dashboard);
      const queries = [
        ...panelQueries(dashboard).map(({ expr }) => expr),
        ...dashboard.templating.list.map(variableQuery).filter((query): query is string => query !== undefined),
      ];
      for (const query of queries) {
        for (const [, name] of query.matchAll(/\$\{?(\w+)/g)) {
          assert.ok(defined.has(name ?? '') || GRAFANA_GLOBALS.has(name ?? ''), `$${name} in ${query}`);
        }
      }
    });

    test('links to dashboards point at existing uids and variables', () => {
      for (const [, uid, query] of text.matchAll(/"\/d\/([\w-]+)\/[\w-]*\?([^"]*)"/g)) {
        const target = dashboards.find(({ dashboard: candidate }) => candidate.uid === uid);
        assert.ok(target, `link to unknown dashboard ${uid}`);
        for (const [, name] of (query ?? '').matchAll(/var-(\w+)=/g)) {
          assert.ok(variableNames(target.dashboard).has(name ?? ''), `link sets var-${name}, which ${uid} does not have`);
        }
      }
    });
  });
}

test('the overview links each failing container to the container dashboard', () => {
  const overview = dashboards.find(({ dashboard }) => dashboard.uid === 'docker-monitor-overview');
  assert.ok(overview);
  const failing = allPanels(overview.dashboard).find((panel) => panel.title === 'Failing containers');
  assert.match(JSON.stringify(failing?.fieldConfig), /\/d\/docker-monitor-container\/.*var-container=\$\{__data\.fields\.container\}/);
});
