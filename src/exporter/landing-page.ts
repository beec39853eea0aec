import type { MonitorState } from '../monitor.js';
import { VERSION } from '../version.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** `/`: name, version, a link to the metrics, and how many containers are watched and failing. */
export function landingPage(state: MonitorState, telemetryPath: string, ready: boolean): string {
  const watched = state.containers.size;
  const failing = [...state.containers.values()].filter((report) => !report.compliant).length;
  const engine = !ready ? 'first refresh in progress' : state.up ? 'reachable' : 'unreachable (serving the last-known verdicts)';
  const path = escapeHtml(telemetryPath);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>docker-monitor</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:40rem}dt{font-weight:600}</style></head>
<body>
<h1>docker-monitor</h1>
<p>Prometheus exporter that holds every running Docker container to a policy. Version ${escapeHtml(VERSION)}.</p>
<dl>
<dt>Containers watched</dt><dd id="watched">${watched}</dd>
<dt>Containers failing the policy</dt><dd id="failing">${failing}</dd>
<dt>Docker engine</dt><dd id="engine">${escapeHtml(engine)}</dd>
</dl>
<p><a href="${path}">Metrics</a> · <a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></p>
</body>
</html>
`;
}
