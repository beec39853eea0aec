/**
 * The alert rules, their unit tests, the Alertmanager and Prometheus examples, checked by the real
 * promtool and amtool (Debian's prometheus and prometheus-alertmanager packages), plus the mixin
 * conventions promtool does not check: severity, summary, description, runbook_url to a runbook
 * section that exists, and every alert shown both firing and not firing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT, RULES_FILE, RULES_TEST_FILE, alertingRules, loadRules } from '../helpers/monitoring-files.js';

const run = promisify(execFile);
const RUNBOOK_BASE = 'https://github.com/docker-monitor/docker-monitor/blob/main/docs/alerts.md#';
const ALERTS_PAGE = join(REPO_ROOT, 'docs/alerts.md');
const ALERTMANAGER_EXAMPLE = join(REPO_ROOT, 'examples/alertmanager.yml');
const PROMETHEUS_EXAMPLE = join(REPO_ROOT, 'examples/prometheus.yml');

/** Runs a tool; on failure the assertion message carries its output. */
async function tool(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, [...args], { cwd: REPO_ROOT });
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    assert.fail(`${command} ${args.join(' ')} failed:\n${failed.stdout ?? ''}${failed.stderr ?? failed.message}`);
  }
}

const alerts = alertingRules();

describe('promtool and amtool', () => {
  test('promtool check rules accepts the rules', async () => {
    const rules = loadRules().groups.flatMap((group) => group.rules);
    assert.match(await tool('promtool', ['check', 'rules', RULES_FILE]), new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  test('promtool test rules passes', async () => {
    assert.match(await tool('promtool', ['test', 'rules', RULES_TEST_FILE]), /SUCCESS/);
  });

  test('promtool check config accepts examples/prometheus.yml and finds the rule file', async () => {
    assert.match(await tool('promtool', ['check', 'config', PROMETHEUS_EXAMPLE]), /SUCCESS: 1 rule files found/);
  });

  test('amtool check-config accepts examples/alertmanager.yml', async () => {
    assert.match(await tool('amtool', ['check-config', ALERTMANAGER_EXAMPLE]), /SUCCESS/);
  });

  test('the Alertmanager example routes by severity', async () => {
    const routes: Record<string, string> = { critical: 'pager', warning: 'ticket', info: 'blackhole' };
    for (const [severity, receiver] of Object.entries(routes)) {
      const output = await tool('amtool', [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_EXAMPLE}`,
        `--verify.receivers=${receiver}`,
        'alertname=DockerMonitorRootProcess',
        `severity=${severity}`,
      ]);
      assert.equal(output.split('\n')[0]?.trim(), receiver, `severity=${severity}`);
    }
  });
});

describe('mixin conventions', () => {
  test('the required alerts exist, the privileged and socket ones critical', () => {
    const names = alerts.map((rule) => rule.alert);
    for (const name of [
      'DockerMonitorDown',
      'DockerMonitorEngineUnreachable',
      'DockerMonitorResultsStale',
      'DockerMonitorContainerNonCompliant',
      'DockerMonitorRootProcess',
      'DockerMonitorPrivilegedContainer',
      'DockerMonitorDockerSocketMounted',
      'DockerMonitorCheckErrors',
      'DockerMonitorEnforcementAction',
      'DockerMonitorAbsent',
      'DockerMonitorWaiverUnused',
      'DockerMonitorWaiverExpiring',
    ]) {
      assert.ok(names.includes(name), `${name} is missing`);
    }
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
    const critical = alerts.filter((rule) => rule.labels?.['severity'] === 'critical').map((rule) => rule.alert);
    assert.deepEqual(critical.sort(), ['DockerMonitorDockerSocketMounted', 'DockerMonitorPrivilegedContainer']);
  });

  for (const rule of alerts) {
    test(`${rule.alert} has a severity, summary, description and a runbook_url to its runbook section`, () => {
      assert.match(rule.alert, /^DockerMonitor[A-Z][A-Za-z]+$/);
      assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.['severity'] ?? ''), 'severity');
      assert.ok((rule.annotations?.['summary'] ?? '').length > 10, 'summary');
      // An absent target has no instance to name; its description says so instead.
      const instance = rule.expr.startsWith('absent(') ? /no instance to name/ : /\{\{ \$labels\.instance \}\}/;
      assert.match(rule.annotations?.['description'] ?? '', instance, 'description names the instance');
      assert.equal(rule.annotations?.['runbook_url'], RUNBOOK_BASE + rule.alert.toLowerCase());
    });
  }

  test('the job selector is written once, in the recording rule the up-based alerts read', () => {
    const text = readFileSync(RULES_FILE, 'utf8');
    const rulesText = text
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    assert.equal(rulesText.match(/job="docker-monitor"/g)?.length, 1);
    const recorded = loadRules()
      .groups.flatMap((group) => group.rules)
      .find((rule) => rule.record === 'docker_monitor:up');
    assert.equal(recorded?.expr, 'up{job="docker-monitor"}');
    const upAlerts = alerts.filter((rule) => /\bup\b/.test(rule.expr.replaceAll('docker_monitor:up', '')));
    assert.deepEqual(
      upAlerts.map((rule) => rule.alert),
      [],
      'no alert reads up{...} itself',
    );
    assert.deepEqual(
      alerts.filter((rule) => rule.expr.includes('docker_monitor:up')).map((rule) => rule.alert),
      ['DockerMonitorAbsent', 'DockerMonitorDown'],
    );
  });

  test('docs/alerts.md has exactly one "## <AlertName>" runbook section per alert, in the rules file\'s order', () => {
    const text = readFileSync(ALERTS_PAGE, 'utf8');
    const headings = [...text.matchAll(/^## (DockerMonitor\w+)$/gm)].map((match) => match[1]);
    assert.deepEqual(
      headings,
      alerts.map((rule) => rule.alert),
    );
  });

  test('every alert is shown firing and not firing by the promtool tests', () => {
    interface AlertTest {
      alertname: string;
      exp_alerts: unknown[];
    }
    const suite = parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] };
    const cases = suite.tests.flatMap((entry) => entry.alert_rule_test ?? []);
    for (const rule of alerts) {
      const own = cases.filter((entry) => entry.alertname === rule.alert);
      assert.ok(
        own.some((entry) => entry.exp_alerts.length > 0),
        `${rule.alert} is never shown firing`,
      );
      assert.ok(
        own.some((entry) => entry.exp_alerts.length === 0),
        `${rule.alert} is never shown not firing`,
      );
    }
  });
});
