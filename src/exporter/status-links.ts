/**
 * Where the status pages send an operator from a failing check: its runbook (the section of
 * docs/alerts.md that the alert firing for it names in `runbook_url`) and the container's Grafana
 * dashboard (grafana/dashboards/docker-monitor-container.json) when `--web.grafana-url` is given.
 */
import type { CheckInstance, CheckResult } from '../policy/types.js';

export const ALERTS_DOC_URL = 'https://github.com/docker-monitor/docker-monitor/blob/main/docs/alerts.md';

/** Checks with an alert of their own (alerts/docker-monitor.rules.yml); other container checks raise DockerMonitorContainerNonCompliant. */
const ALERT_OF_CHECK: Readonly<Record<string, string>> = {
  PrivilegedContainerCheck: 'DockerMonitorPrivilegedContainer',
  DockerSocketMountCheck: 'DockerMonitorDockerSocketMounted',
  EngineSocketMountCheck: 'DockerMonitorDockerSocketMounted',
  RootProcessCheck: 'DockerMonitorRootProcess',
};

/** The alert a result raises: an error is DockerMonitorCheckErrors whatever the check. */
export function alertOf(name: string, check: CheckInstance | undefined, result: CheckResult['result'] = 'fail'): string {
  if (result === 'error') return 'DockerMonitorCheckErrors';
  if (check?.scope === 'host') return 'DockerMonitorHostCheckFailed';
  return ALERT_OF_CHECK[name] ?? 'DockerMonitorContainerNonCompliant';
}

/** GitHub's anchor of an alert's heading in docs/alerts.md. */
export function runbookUrl(name: string, check: CheckInstance | undefined, result: CheckResult['result'] = 'fail'): string {
  return `${ALERTS_DOC_URL}#${alertOf(name, check, result).toLowerCase()}`;
}

/** The container dashboard's uid; its `container` variable selects the container. */
const CONTAINER_DASHBOARD = 'docker-monitor-container';

/** The container's dashboard under `--web.grafana-url`, or undefined without one. */
export function grafanaUrl(base: string | undefined, container: string): string | undefined {
  if (base === undefined) return undefined;
  return `${base.replace(/\/+$/, '')}/d/${CONTAINER_DASHBOARD}?var-container=${encodeURIComponent(container)}`;
}
