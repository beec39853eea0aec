/**
 * Reads the shipped Grafana dashboards and Prometheus rules the way the tests need them: every panel
 * (rows unfolded), every query with its panel, every rule. Shared by the dashboard lint and the
 * end-to-end test against a real Prometheus.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DASHBOARD_DIR = join(REPO_ROOT, 'grafana/dashboards');
export const RULES_FILE = join(REPO_ROOT, 'alerts/docker-monitor.rules.yml');
export const RULES_TEST_FILE = join(REPO_ROOT, 'alerts/docker-monitor.rules.test.yml');

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  expr?: string;
  instant?: boolean;
  datasource?: DatasourceRef;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: unknown;
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: DatasourceRef;
}

export interface Dashboard {
  uid: string;
  id: number | null;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  __inputs?: unknown;
}

export interface DashboardFile {
  file: string;
  /** The file's text, for checks that look at every string in it (links). */
  text: string;
  dashboard: Dashboard;
}

export function loadDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const text = readFileSync(join(DASHBOARD_DIR, name), 'utf8');
      return { file: name, text, dashboard: JSON.parse(text) as Dashboard };
    });
}

/** Every panel, with the panels of collapsed rows. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

export interface PanelQuery {
  panel: Panel;
  target: Target;
  expr: string;
}

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ panel, target, expr: target.expr }])),
  );
}

/** The query text of a query variable, whichever of Grafana's two shapes it has. */
export function variableQuery(variable: Variable): string | undefined {
  return typeof variable.query === 'string' ? variable.query : variable.query?.query;
}

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

export function loadRules(path = RULES_FILE): RuleFile {
  return parse(readFileSync(path, 'utf8')) as RuleFile;
}

export function alertingRules(rules: RuleFile = loadRules()): (Rule & { alert: string })[] {
  return rules.groups.flatMap((group) => group.rules.filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined));
}

/** The shipped rules with every non-zero `for:` cut to 1s, so the test waits seconds, not minutes. */
export function rulesWithShortFor(): string {
  const rules = loadRules();
  for (const rule of rules.groups.flatMap((group) => group.rules)) {
    if (rule.for !== undefined && !/^0[smh]?$/.test(rule.for)) rule.for = '1s';
  }
  return stringify(rules);
}
