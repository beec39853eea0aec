import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { RefreshMode } from '../config/settings.js';
import type { EventCounters } from '../event-counters.js';
import { formatDuration } from '../ini/values.js';
import { gzipBody } from './gzip-body.js';
import { VerdictExposition, type VerdictBody, type VerdictSources } from './verdict-exposition.js';
import type { Monitor, MonitorState } from '../core/monitor.js';
import type { CheckInstance, ResultKind } from '../policy/types.js';
import type { Waiver } from '../policy/waivers.js';
import { ContainerLabelCopier } from './container-labels.js';
import { REVISION, VERSION } from '../version.js';

/**
 * The metric values of a result, as the CFPB tool's constants: FAIL 0, PASS 1, PASS_FAST 2 (errors count
 * as fail); 3 waived. `not_applicable` comes only from `check --compose`/`--stack`, never from a running
 * container, so it has no value and no per-check total.
 */
export const RESULT_VALUES: Readonly<Record<ResultKind, number>> = {
  fail: 0,
  error: 0,
  pass: 1,
  pass_fast: 2,
  waived: 3,
  not_applicable: NaN,
};
const RESULT_KINDS = (Object.keys(RESULT_VALUES) as ResultKind[]).filter((kind) => kind !== 'not_applicable');

/** `--metrics.results`: which per-container results are exported (per-check totals always are). */
export type ResultsMode = 'all' | 'failing' | 'none';
export const RESULTS_MODES: readonly ResultsMode[] = ['all', 'failing', 'none'];

function isPass(result: ResultKind): boolean {
  return result === 'pass' || result === 'pass_fast';
}

export interface MetricSources {
  monitor: Monitor;
  checks: readonly CheckInstance[];
  refresh: RefreshMode;
  counters: EventCounters;
  /** Default `all`. */
  resultsMode?: ResultsMode;
  /** Globs of container labels copied onto docker_monitor_container_info; none by default. */
  containerLabels?: readonly string[];
  waivers?: readonly Waiver[];
  /** How the last configuration reload went; exported only by `serve`, which reloads. */
  reloads?: ReloadStatus;
}

/** The outcome of the last reload (SIGHUP, `POST /-/reload`), as Prometheus exports its own. */
export interface ReloadStatus {
  successful: boolean;
  /** Unix seconds when the configuration last loaded (at start, or a reload). */
  lastSuccessSeconds: number;
}

/** How fresh the values are, for HELP texts (exporter guidelines: say when values are cached). */
function freshness(refresh: RefreshMode): string {
  return refresh === 'scrape'
    ? 'Evaluated at each scrape and on Docker events'
    : `Cached: evaluated every ${formatDuration(refresh)} and on Docker events`;
}

/** How a scraper asked for the exposition. */
export interface ExpositionRequest {
  /** The OpenMetrics text format (the scraper's Accept header names it). */
  openMetrics: boolean;
  /** gzip (the scraper's Accept-Encoding allows it; Prometheus always asks). */
  gzip: boolean;
}

/** What the metrics endpoint serves. */
export interface Exposition {
  /** The exposition of the current state, as chunks to send one after the other. */
  render(request: ExpositionRequest): Promise<{ contentType: string; encoding: 'gzip' | undefined; chunks: readonly Buffer[] }>;
}

/** prom-client separates metric families with blank lines; the exposition has none. */
function compact(text: string): string {
  return text.replace(/\n{2,}/g, '\n');
}

/**
 * The live part in the OpenMetrics text format: a counter's family is named without `_total` in its
 * HELP and TYPE lines (its samples keep it), and the exposition ends with `# EOF`. Gauges and
 * histograms are written alike in both formats. (prom-client's own OpenMetrics registry renames the
 * counter objects it holds, so they could not be shared with the text registry.)
 */
function toOpenMetrics(text: string): string {
  const counters = new Set([...text.matchAll(/^# TYPE (\S+)_total counter$/gm)].map((match) => match[1]));
  const renamed = text.replace(/^# (HELP|TYPE) (\S+)_total /gm, (line, kind: string, family: string) =>
    counters.has(family) ? `# ${kind} ${family} ` : line,
  );
  return `${renamed}# EOF\n`;
}

/**
 * The verdicts (per container, per check, per waiver, the host's) come from VerdictExposition, kept
 * per group of containers and rendered again only for what a new state object changed; the rest
 * (counters, health, process metrics) is a prom-client registry rendered at every scrape. With gzip,
 * the live part's deflate blocks follow the verdicts' blocks in one gzip member (gzip-body.ts). The
 * verdicts are gauges, written the same in both text formats, so only the live part is written again
 * for OpenMetrics (counters and `# EOF`).
 */
export function createMetrics(sources: MetricSources): Exposition {
  const live = createLiveRegistry(sources);
  const verdicts = new VerdictExposition(verdictSources(sources));
  let renderedFor: Pick<MonitorState, 'containers' | 'host'> | undefined;
  let rendered: VerdictBody | undefined;
  return {
    async render(request) {
      const state = sources.monitor.state;
      // A refresh that changed no verdict keeps the state's containers and host: the body stays.
      if (rendered === undefined || state.containers !== renderedFor?.containers || state.host !== renderedFor.host) {
        renderedFor = { containers: state.containers, host: state.host };
        rendered = verdicts.render(state);
      }
      const contentType = request.openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;
      const liveText = compact(await live.metrics());
      const liveBytes = Buffer.from(request.openMetrics ? toOpenMetrics(liveText) : liveText);
      if (!request.gzip) return { contentType, encoding: undefined, chunks: [...rendered.plain(), liveBytes] };
      return { contentType, encoding: 'gzip', chunks: await gzipBody(await rendered.deflated(), liveBytes) };
    },
  };
}

/** The verdict families' HELP texts and filters, as `--metrics.results` and the refresh mode shape them. */
function verdictSources(sources: MetricSources): VerdictSources {
  const mode = sources.resultsMode ?? 'all';
  const fresh = freshness(sources.refresh);
  const modeNote = mode === 'all' ? '' : ` Exported only for results that are not a pass (--metrics.results ${mode}).`;
  const labels = new ContainerLabelCopier(sources.containerLabels ?? []);
  const checkMetricNote = mode === 'all' ? fresh : `${fresh}. Exported only for results that are not a pass (--metrics.results ${mode})`;
  return {
    checks: sources.checks,
    exportedResult: mode === 'none' ? undefined : (result) => mode === 'all' || !isPass(result),
    // A check's own series follow its results: in the lean modes, only those of results that are not a pass.
    exportedCheckMetric: (result) => mode === 'all' || !isPass(result),
    resultValues: RESULT_VALUES,
    resultKinds: RESULT_KINDS,
    labels,
    waivers: sources.waivers ?? [],
    help: {
      checkResult: `Result of a policy check on a running container: 0 fail (or error), 1 pass, 2 pass fast, 3 waived; absent when the check did not run. ${fresh}; a result is computed again only when what its check reads has changed, image-level checks once per image ID.${mode === 'failing' ? modeNote : ''}`,
      checkContainers: `Running containers with each result of each check (pass, pass_fast, fail, error, waived), whatever --metrics.results says. ${fresh}.`,
      waiverExpiry:
        'Unix time at which each [waiver:NAME] of the policy ends (the start of its expires day, UTC); absent for a waiver without expires.',
      waiverMatches: `Results each [waiver:NAME] of the policy turns into waived right now (0: it covers nothing, or has expired). ${fresh}.`,
      compliant: `1 when the container passed the whole check chain (waived results count as passed), 0 when it failed. ${fresh}.`,
      checkMetric: (metric) => `${metric.help} ${checkMetricNote}.`,
      info: `Always 1 for each running container; join on container for its ID and image${labels.empty ? '' : ', and the container labels chosen by --metrics.container-labels (as label_<name>)'}.`,
      checkInfo: 'Always 1 for each check in the policy, with its description; CIS checks carry cis_id, every check its severity.',
      hostCheckResult: `Result of a check of the engine itself (from /info, /version, /networks): 0 fail (or error), 1 pass. ${fresh}.`,
    },
  };
}

/** Counters, health and process metrics: they change without the state changing. */
function createLiveRegistry(sources: MetricSources): Registry {
  const registry = new Registry();
  const { monitor } = sources;
  const state = (): MonitorState => monitor.state;

  const { checkErrors, enforcementActions, enforcementFailures, reportsDropped, failedLogins, logRecordsDropped } = sources.counters;
  const counters: Metric[] = [checkErrors, enforcementActions, enforcementFailures, reportsDropped, failedLogins, logRecordsDropped];
  for (const counter of counters) registry.registerMetric(counter);

  const reloads = sources.reloads;
  if (reloads !== undefined) {
    new Gauge({
      name: 'docker_monitor_config_last_reload_successful',
      help: 'Whether the last configuration reload (SIGHUP, POST /-/reload) loaded: 1, or 0 when it failed and the previous configuration runs on.',
      registers: [registry],
      collect() {
        this.set(reloads.successful ? 1 : 0);
      },
    });
    new Gauge({
      name: 'docker_monitor_config_last_reload_success_timestamp_seconds',
      help: 'Unix time when the configuration last loaded, at start or at a reload.',
      registers: [registry],
      collect() {
        this.set(reloads.lastSuccessSeconds);
      },
    });
  }

  new Gauge({
    name: 'docker_monitor_up',
    help: '0 from the first refresh that does not reach the Docker engine (the last-known verdicts are still served); 1 again after 3 refreshes in a row that do.',
    registers: [registry],
    collect() {
      this.set(state().up ? 1 : 0);
    },
  });

  new Gauge({
    name: 'docker_monitor_last_refresh_timestamp_seconds',
    help: 'Unix time at the end of the last successful refresh of every container.',
    registers: [registry],
    collect() {
      this.set(state().lastRefreshTimestamp);
    },
  });

  new Gauge({
    name: 'docker_monitor_refresh_duration_seconds',
    help: 'How long the last refresh of every container took.',
    registers: [registry],
    collect() {
      this.set(state().refreshDuration);
    },
  });

  new Gauge({
    name: 'docker_monitor_build_info',
    help: 'Always 1, labelled with the version of docker-monitor and of Node.js it runs on.',
    labelNames: ['version', 'revision', 'nodejs_version'] as const,
    registers: [registry],
  }).set({ version: VERSION, revision: REVISION, nodejs_version: process.version }, 1);

  collectDefaultMetrics({ register: registry });
  // prom-client exports these gauges with a counter's `_total` suffix, which promtool rejects; the same
  // counts remain as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources by type.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  return registry;
}
