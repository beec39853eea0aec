/**
 * The whole pipeline with the real programs: the exporter (dist/cli.js serve) on the real engine,
 * Debian's Prometheus scraping it every second with the shipped rules (their `for:` shortened), and
 * Debian's Alertmanager with the shipped example routing (its receivers pointed at a loopback
 * webhook). One exporter per `--metrics.results` mode (all, failing, none), scraped by the same
 * Prometheus as three instances of the job: in each mode a root container must page through to
 * Alertmanager and resolve once removed, and every dashboard query and rule expression must evaluate.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import {
  ensureTestImage,
  removeContainer,
  removeTestContainers,
  requireEngine,
  startContainer,
  type TestContainer,
} from '../helpers/docker.js';
import {
  REPO_ROOT,
  alertingRules,
  loadDashboards,
  loadRules,
  rulesWithShortFor,
  panelQueries,
  variableQuery,
  type Dashboard,
} from '../helpers/monitoring-files.js';
import { Service, WebhookReceiver, answers, freePort, getJson, waitFor } from '../helpers/services.js';

const run = promisify(execFile);
const JOB = 'docker-monitor';
const ROOT_ALERT = 'DockerMonitorRootProcess';
const MODES = ['all', 'failing', 'none'] as const;
type Mode = (typeof MODES)[number];
/** Queries that have no data by design in a mode: per-check results of one container with `none`. */
const EMPTY_BY_DESIGN: Readonly<Record<Mode, ReadonlySet<string>>> = {
  all: new Set(),
  failing: new Set(),
  none: new Set(['"Check results" A', '"Check results over time" A']),
};
/** Panels that need what this run does not have: --enforce (never on a shared engine), an image scanner, host checks. */
const PANELS_WITHOUT_DATA_HERE = new Set([
  'Image vulnerabilities',
  'Critical vulnerabilities',
  'Host checks',
  'Enforcement actions',
  'Actions in range',
  'Failed actions in range',
]);

interface QueryResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: unknown[] };
}

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
}

interface RulesResponse {
  data: { groups: { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[] };
}

/** The shipped Alertmanager example, its receivers pointed at the loopback webhook (path = receiver name) and its waits cut to 1s. */
function testAlertmanagerConfig(webhookPort: number): string {
  interface Route {
    group_wait?: string;
    group_interval?: string;
    routes?: Route[];
  }
  const config = parse(readFileSync(join(REPO_ROOT, 'examples/alertmanager.yml'), 'utf8')) as {
    route: Route;
    receivers: { name: string; webhook_configs?: { url: string; send_resolved?: boolean }[] }[];
  };
  const shorten = (route: Route): void => {
    route.group_wait = '1s';
    route.group_interval = '1s';
    route.routes?.forEach(shorten);
  };
  shorten(config.route);
  for (const receiver of config.receivers) {
    receiver.webhook_configs = [{ url: `http://127.0.0.1:${webhookPort}/${receiver.name}`, send_resolved: true }];
  }
  return stringify(config);
}

/** Grafana's variables replaced by concrete values, as Grafana would before sending the query. */
function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (text, braced: string | undefined, bare: string | undefined) => {
    const value = values[braced ?? bare ?? ''];
    if (value === undefined) throw new Error(`no value for ${text} in ${expr}`);
    return value;
  });
}

describe('Prometheus and Alertmanager end to end', () => {
  const services: Service[] = [];
  const webhook = new WebhookReceiver();
  let workDir = '';
  let prometheusUrl = '';
  let alertmanagerUrl = '';
  const instances = {} as Record<Mode, string>;
  let container: TestContainer;
  let containerStarted = 0;

  const query = (expr: string, range: boolean): Promise<QueryResponse> => {
    const params = new URLSearchParams({ query: expr });
    if (range) {
      const end = Date.now() / 1000;
      params.set('start', String(end - 60));
      params.set('end', String(end));
      params.set('step', '1');
    }
    return getJson<QueryResponse>(`${prometheusUrl}/api/v1/${range ? 'query_range' : 'query'}?${params.toString()}`);
  };

  const rootAlertsInAlertmanager = async (): Promise<AmAlert[]> => {
    const filter = new URLSearchParams({ filter: `alertname="${ROOT_ALERT}"` });
    const alerts = await getJson<AmAlert[]>(`${alertmanagerUrl}/api/v2/alerts?${filter.toString()}`);
    return alerts.filter((alert) => alert.labels['container'] === container.name);
  };
  const allInstances = () => MODES.map((mode) => instances[mode]).sort();

  before(async () => {
    await requireEngine();
    await ensureTestImage();
    for (const program of ['prometheus', 'prometheus-alertmanager']) {
      assert.ok(
        existsSync(`/usr/bin/${program}`),
        `/usr/bin/${program} is missing: run the tests with "npm test" (it installs prometheus and prometheus-alertmanager)`,
      );
    }
    assert.ok(existsSync(join(REPO_ROOT, 'dist/cli.js')), 'dist/cli.js is missing: npm run build');
    workDir = await mkdtemp(join(tmpdir(), 'dm-e2e-'));
    const [prometheusPort, alertmanagerPort] = [await freePort(), await freePort()];
    for (const mode of MODES) instances[mode] = `127.0.0.1:${await freePort()}`;
    const webhookPort = await webhook.listen();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;

    await writeFile(join(workDir, 'rules.yml'), rulesWithShortFor());
    await writeFile(join(workDir, 'alertmanager.yml'), testAlertmanagerConfig(webhookPort));
    await writeFile(
      join(workDir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: [join(workDir, 'rules.yml')],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanagerPort}`] }] }] },
        scrape_configs: [{ job_name: JOB, static_configs: [{ targets: allInstances() }] }],
      }),
    );

    container = await startContainer([], ['sleep', '3600']);
    containerStarted = Date.now();

    const exporters = MODES.map(
      (mode) =>
        new Service(
          `exporter (--metrics.results ${mode})`,
          process.execPath,
          ['dist/cli.js', 'serve', '--web.listen-address', instances[mode], '--refresh', '1s', '--metrics.results', mode],
          REPO_ROOT,
        ),
    );
    const alertmanager = new Service('alertmanager', '/usr/bin/prometheus-alertmanager', [
      `--config.file=${join(workDir, 'alertmanager.yml')}`,
      `--storage.path=${join(workDir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      '--cluster.listen-address=',
    ]);
    const prometheus = new Service('prometheus', '/usr/bin/prometheus', [
      `--config.file=${join(workDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(workDir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--rules.alert.resend-delay=1s',
    ]);
    services.push(...exporters, alertmanager, prometheus);
    for (const mode of MODES)
      await waitFor(`the ${mode} exporter to be ready`, () => answers(`http://${instances[mode]}/-/ready`), { services });
    await waitFor('Alertmanager to be ready', () => answers(`${alertmanagerUrl}/-/ready`), { services });
    await waitFor('Prometheus to be ready', () => answers(`${prometheusUrl}/-/ready`), { services });
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await webhook.close();
    await removeTestContainers();
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  });

  test('a root container fires the root-process alert in Alertmanager in every mode, routed by severity', async (t) => {
    const alerts = await waitFor(
      `${ROOT_ALERT} for ${container.name} in Alertmanager from every exporter`,
      async () => {
        const found = await rootAlertsInAlertmanager();
        return found.length === MODES.length ? found : undefined;
      },
      { services },
    );
    assert.deepEqual(alerts.map((alert) => alert.labels['instance']).sort(), allInstances());
    const shipped = alertingRules().find((rule) => rule.alert === ROOT_ALERT);
    for (const alert of alerts) {
      const instance = alert.labels['instance'] ?? '';
      assert.equal(alert.status.state, 'active');
      assert.equal(alert.labels['job'], JOB);
      assert.equal(alert.labels['severity'], 'warning');
      assert.equal(alert.annotations['runbook_url'], shipped?.annotations?.['runbook_url']);
      assert.match(
        alert.annotations['description'] ?? '',
        new RegExp(`^1 process\\(es\\) in container ${container.name} on ${instance} run as UID 0`),
      );
    }

    const notification = await waitFor(
      'the firing notification at the webhook',
      async () =>
        webhook.messages.find((message) =>
          message.alerts.some(
            (a) => a.status === 'firing' && a.labels['container'] === container.name && a.labels['alertname'] === ROOT_ALERT,
          ),
        ),
      { services },
    );
    assert.equal(notification.receiver, 'ticket', 'warnings go to the ticket receiver of examples/alertmanager.yml');
    t.diagnostic(`firing notification ${((Date.now() - containerStarted) / 1000).toFixed(1)} s after the container started`);
  });

  test('every rule evaluates on the real Prometheus without error', async () => {
    const rules = await waitFor(
      'every rule to have been evaluated',
      async () => {
        const { data } = await getJson<RulesResponse>(`${prometheusUrl}/api/v1/rules`);
        const loaded = data.groups.flatMap((group) => group.rules);
        // Go's zero time marks a rule not evaluated yet.
        return loaded.every((rule) => !rule.lastEvaluation.startsWith('0001')) ? loaded : undefined;
      },
      { services },
    );
    const shippedNames = loadRules()
      .groups.flatMap((group) => group.rules)
      .map((rule) => rule.alert ?? rule.record ?? '');
    assert.deepEqual(rules.map((rule) => rule.name).sort(), shippedNames.sort());
    for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? ''}`);
    for (const rule of alertingRules()) {
      const response = await query(rule.expr, false);
      assert.equal(response.status, 'success', `${rule.alert}: ${response.error ?? ''}`);
    }
  });

  for (const [mode, { file, dashboard }] of MODES.flatMap((mode) => loadDashboards().map((entry) => [mode, entry] as const))) {
    test(`every query of ${file} evaluates, and the core panels return data, with --metrics.results ${mode}`, async () => {
      const values = {
        job: JOB,
        instance: instances[mode],
        container: container.name,
        __rate_interval: '15s',
        __range: '60s',
        __interval: '1s',
      };
      await checkVariables(dashboard, values);
      const empty: string[] = [];
      for (const { panel, target, expr } of panelQueries(dashboard)) {
        const concrete = substitute(expr, values);
        const response = await query(concrete, target.instant !== true);
        assert.equal(response.status, 'success', `"${panel.title}" ${target.refId}: ${concrete}: ${response.error ?? ''}`);
        if (
          response.data.result.length === 0 &&
          !PANELS_WITHOUT_DATA_HERE.has(panel.title) &&
          !EMPTY_BY_DESIGN[mode].has(`"${panel.title}" ${target.refId}`)
        ) {
          empty.push(`"${panel.title}" ${target.refId}: ${concrete}`);
        }
      }
      assert.deepEqual(empty, [], 'core panels without data');
    });
  }

  test('the exposition of every mode passes promtool check metrics', async () => {
    for (const mode of MODES) {
      const metrics = await fetch(`http://${instances[mode]}/metrics`).then((response) => response.text());
      const lint = run('promtool', ['check', 'metrics']);
      lint.child.stdin?.end(metrics);
      const { stdout, stderr } = await lint;
      assert.equal(stdout + stderr, '', mode);
    }
  });

  test('per mode, Prometheus holds the per-container series the mode promises and the per-check totals', async () => {
    const count = async (expr: string): Promise<number> => {
      const response = await query(`count(${expr}) or vector(0)`, false);
      return Number((response.data.result[0] as { value: [number, string] } | undefined)?.value[1] ?? 'NaN');
    };
    const byMode = async (mode: Mode, selector: string) => count(`${selector.replace('}', `, instance="${instances[mode]}"}`)}`);
    const own = `{container="${container.name}"}`;
    // The default policy: three checks; the root container passes ActiveBuildCheck and fails the other two.
    assert.equal(await byMode('all', `docker_monitor_check_result${own}`), 3);
    assert.equal(await byMode('failing', `docker_monitor_check_result${own}`), 2);
    assert.equal(await byMode('none', `docker_monitor_check_result${own}`), 0);
    for (const mode of MODES) {
      assert.equal(await byMode(mode, '{__name__="docker_monitor_check_containers"}'), 15, `${mode}: 5 results × 3 checks`);
      assert.equal(await byMode(mode, `docker_monitor_container_compliant${own}`), 1, mode);
    }
  });

  test("the Dockerfile's HEALTHCHECK command passes on the exporter and fails without one", async () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const command = /^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(command, 'HEALTHCHECK ... \\ CMD [exec form] in the Dockerfile');
    const [program, ...args] = JSON.parse(command) as string[];
    // The image's entry point is dist/cli.js under /app; in the image it runs with serve's default
    // address (test/deploy/image.test.ts runs it there). Here it gets the exporter's address.
    assert.equal(program, '/app/dist/cli.js', "the health check is the exporter's own command");
    const check = (address: string) => run(process.execPath, [join(REPO_ROOT, 'dist/cli.js'), ...args, '--web.listen-address', address]);
    await check(instances.all);
    await assert.rejects(check(`127.0.0.1:${await freePort()}`));
  });

  /** Each query variable (label_values(selector, label)) lists the value this run expects. */
  async function checkVariables(dashboard: Dashboard, values: Readonly<Record<string, string>>): Promise<void> {
    for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
      const text = variableQuery(variable) ?? '';
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
      assert.ok(match, `variable ${variable.name}: ${text} is label_values(selector, label)`);
      const [, selector = '', label = ''] = match;
      const end = Date.now() / 1000;
      const params = new URLSearchParams({ 'match[]': substitute(selector, values), start: String(end - 60), end: String(end) });
      const series = await getJson<{ data: Record<string, string>[] }>(`${prometheusUrl}/api/v1/series?${params.toString()}`);
      const found = new Set(series.data.map((labels) => labels[label]));
      assert.ok(
        found.has(values[variable.name]),
        `variable ${variable.name} lists ${values[variable.name]} (found ${[...found].join(', ')})`,
      );
    }
  }

  test('the alert resolves once the container is removed', async (t) => {
    const removed = Date.now();
    await removeContainer(container);
    await waitFor(
      `${ROOT_ALERT} for ${container.name} to leave Alertmanager (every mode)`,
      async () => ((await rootAlertsInAlertmanager()).length === 0 ? true : undefined),
      {
        services,
      },
    );
    await waitFor(
      'the resolved notification at the webhook',
      async () =>
        webhook.messages.find((message) =>
          message.alerts.some(
            (a) => a.status === 'resolved' && a.labels['container'] === container.name && a.labels['alertname'] === ROOT_ALERT,
          ),
        ),
      { services },
    );
    t.diagnostic(`resolved notification ${((Date.now() - removed) / 1000).toFixed(1)} s after the container was removed`);
  });
});
