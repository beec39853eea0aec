/**
 * The status pages link a failing check to the runbook its alert names: the URLs must be the
 * `runbook_url`s of alerts/docker-monitor.rules.yml, and each must be a heading of docs/alerts.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { applyFlags } from '../../src/config/flags.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';
import { ALERTS_DOC_URL, grafanaUrl, runbookUrl } from '../../src/exporter/status-links.js';
import { policyChecks } from '../fixtures/cis/fixture-views.js';

const ROOT = new URL('../..', import.meta.url).pathname;
interface Rule {
  alert?: string;
  expr?: string;
  annotations?: { runbook_url?: string };
}
const rules = (parse(readFileSync(join(ROOT, 'alerts/docker-monitor.rules.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups
  .flatMap((group) => group.rules)
  .filter((rule) => rule.alert !== undefined);
const checks = await policyChecks(readFileSync(join(ROOT, 'examples/cis.ini'), 'utf8'), 'cis.ini');

function runbookOf(alert: string): string {
  const url = rules.find((rule) => rule.alert === alert)?.annotations?.runbook_url;
  assert.ok(url !== undefined, `${alert} has a runbook_url`);
  return url;
}

describe('runbook links', () => {
  test("a check with an alert of its own links to that alert's runbook_url", () => {
    // The checks an alert names in its expression: `check="X"` or `check=~"X|Y"`.
    const checksOf = (rule: Rule): string[] => /check=~?"([A-Za-z|]+)"/.exec(rule.expr ?? '')?.[1]?.split('|') ?? [];
    const ownAlerts = rules.filter((rule) => checksOf(rule).length > 0);
    assert.deepEqual(
      ownAlerts.map((rule) => rule.alert),
      ['DockerMonitorPrivilegedContainer', 'DockerMonitorDockerSocketMounted'],
    );
    for (const rule of ownAlerts) {
      for (const name of checksOf(rule)) {
        assert.equal(runbookUrl(name, checks.get(name)), rule.annotations?.runbook_url, `${name}: ${rule.alert}`);
      }
    }
  });

  test('other container checks, host checks and errors link to the alerts they raise', () => {
    // DockerMonitorRootProcess reads docker_monitor_root_processes, RootProcessCheck's own metric.
    assert.match(rules.find((rule) => rule.alert === 'DockerMonitorRootProcess')?.expr ?? '', /docker_monitor_root_processes/);
    assert.equal(runbookUrl('RootProcessCheck', checks.get('RootProcessCheck')), runbookOf('DockerMonitorRootProcess'));
    assert.equal(runbookUrl('MemoryLimitCheck', checks.get('MemoryLimitCheck')), runbookOf('DockerMonitorContainerNonCompliant'));
    assert.equal(runbookUrl('LiveRestoreCheck', checks.get('LiveRestoreCheck')), runbookOf('DockerMonitorHostCheckFailed'));
    assert.equal(
      runbookUrl('PrivilegedContainerCheck', checks.get('PrivilegedContainerCheck'), 'error'),
      runbookOf('DockerMonitorCheckErrors'),
    );
  });

  test('every runbook URL is a heading of docs/alerts.md', () => {
    const anchors = new Set(
      [...readFileSync(join(ROOT, 'docs/alerts.md'), 'utf8').matchAll(/^## (\S+)$/gm)].map(
        (match) => `${ALERTS_DOC_URL}#${(match[1] ?? '').toLowerCase()}`,
      ),
    );
    for (const [name, check] of checks) {
      for (const result of ['fail', 'error'] as const) assert.ok(anchors.has(runbookUrl(name, check, result)), `${name} ${result}`);
    }
  });
});

describe('Grafana links', () => {
  test("the container dashboard's uid and container variable, the name encoded", () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'grafana/dashboards/docker-monitor-container.json'), 'utf8')) as {
      uid: string;
      templating: { list: { name: string }[] };
    };
    assert.ok(dashboard.templating.list.some((variable) => variable.name === 'container'));
    assert.equal(grafanaUrl('http://grafana:3000/', 'web 1'), `http://grafana:3000/d/${dashboard.uid}?var-container=web%201`);
    assert.equal(grafanaUrl(undefined, 'web'), undefined);
  });

  test('--web.grafana-url takes an http(s) URL; anything else is a usage error naming the flag', () => {
    assert.equal(applyFlags(DEFAULT_SETTINGS, { 'web.grafanaUrl': 'https://grafana.example/' }).grafanaUrl, 'https://grafana.example/');
    assert.equal(DEFAULT_SETTINGS.grafanaUrl, undefined);
    for (const value of ['grafana:3000', 'ftp://grafana', '']) {
      assert.throws(
        () => applyFlags(DEFAULT_SETTINGS, { 'web.grafanaUrl': value }),
        (error: unknown) =>
          error instanceof UsageError && error.message === `--web.grafana-url: "${value}" is not an http:// or https:// URL`,
        value,
      );
    }
  });
});
