import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RefreshMode } from '../config/settings.js';
import type { Monitor, MonitorState } from '../monitor.js';
import type { CheckInstance, ContainerReport, ResultKind } from '../policy/types.js';
import { REVISION, VERSION } from '../version.js';

/** The metric values of a result, as the CFPB tool's constants: FAIL 0, PASS 1, PASS_FAST 2 (errors count as fail). */
export const RESULT_VALUES: Readonly<Record<ResultKind, number>> = { fail: 0, error: 0, pass: 1, pass_fast: 2 };

export interface VulnerabilityCount {
  image: string;
  severity: string;
  count: number;
}

export interface MetricSources {
  monitor: Monitor;
  checks: readonly CheckInstance[];
  refresh: RefreshMode;
  processCacheTtlMs: number;
  /** Actions taken under --enforce, by action. */
  enforcementActions?: () => ReadonlyMap<string, number>;
  /** Actions that failed, by action. */
  enforcementFailures?: () => ReadonlyMap<string, number>;
  /** Vulnerability counts of scanned images. */
  imageVulnerabilities?: () => readonly VulnerabilityCount[];
}

function seconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

/** How fresh the values are, for HELP texts (exporter guidelines: say when values are cached). */
function freshness(refresh: RefreshMode): string {
  return refresh === 'scrape'
    ? 'Evaluated at each scrape and on Docker events'
    : `Cached: evaluated every ${seconds(refresh)} and on Docker events`;
}

/** What the metrics endpoint serves. */
export interface Exposition {
  readonly contentType: string;
  /** The exposition of the current state, as chunks of UTF-8 text to send one after the other. */
  render(): Promise<readonly Buffer[]>;
}

/**
 * Two private registries whose metrics build their samples from the monitor's current state in
 * `collect()`, so a container that is gone leaves no series behind. Every collect is synchronous:
 * prom-client starts them all in the same tick, so one exposition never mixes two states.
 *
 * The per-container series (thousands with a CIS policy) change only when the monitor's state object
 * is replaced, so their text is rendered once per state and reused by every scrape until the next
 * refresh or event; the rest (counters, health, process metrics) is rendered at every scrape.
 */
export function createMetrics(sources: MetricSources): Exposition {
  const registry = createLiveRegistry(sources);
  const verdicts = createVerdictRegistry(sources);
  let renderedState: MonitorState | undefined;
  let renderedVerdicts = Promise.resolve(Buffer.alloc(0));
  return {
    contentType: registry.contentType,
    async render() {
      // Read in the same tick as the verdict collects run, so the text belongs to this state object.
      const state = sources.monitor.state;
      if (state !== renderedState) {
        renderedState = state;
        // Kept as bytes: every scrape sends the same buffer instead of encoding a megabyte of text again.
        renderedVerdicts = verdicts.metrics().then((text) => Buffer.from(text));
      }
      const [verdictBytes, liveText] = await Promise.all([renderedVerdicts, registry.metrics()]);
      return [verdictBytes, Buffer.from(liveText)];
    },
  };
}

/** Series per container and per check: a function of the monitor's state object alone. */
function createVerdictRegistry(sources: MetricSources): Registry {
  const registry = new Registry();
  const { monitor, checks } = sources;
  const fresh = freshness(sources.refresh);
  const state = (): MonitorState => monitor.state;
  const containers = () => state().containers.values();

  new Gauge({
    name: 'docker_monitor_check_result',
    help: `Result of a policy check on a running container: 0 fail (or error), 1 pass, 2 pass fast; absent when the check did not run. ${fresh}; image-level checks are cached per image ID, process lists for ${seconds(sources.processCacheTtlMs)}.`,
    labelNames: ['check', 'container'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const report of containers()) {
        for (const result of report.results) this.set({ check: result.check, container: report.name }, RESULT_VALUES[result.result]);
      }
    },
  });

  new Gauge({
    name: 'docker_monitor_container_compliant',
    help: `1 when the container passed the whole check chain, 0 when it failed. ${fresh}.`,
    labelNames: ['container'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const report of containers()) this.set({ container: report.name }, report.compliant ? 1 : 0);
    },
  });

  // Host root and container root (docs/engines.md): equal unless the container has a user namespace.
  const processCounts: [string, string, (report: ContainerReport) => number | undefined][] = [
    ['docker_monitor_root_processes', 'Processes in the container running as UID 0 on the host', (report) => report.rootProcesses],
    [
      'docker_monitor_container_root_processes',
      'Processes in the container running as UID 0 inside its user namespace (container root); absent when the process source cannot tell (Docker\'s top)',
      (report) => report.containerRootProcesses,
    ],
  ];
  for (const [name, meaning, count] of processCounts) {
    new Gauge({
      name,
      help: `${meaning}. ${fresh}; process lists are cached for ${seconds(sources.processCacheTtlMs)}.`,
      labelNames: ['container'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const report of containers()) {
          const value = count(report);
          if (value !== undefined) this.set({ container: report.name }, value);
        }
      },
    });
  }

  new Gauge({
    name: 'docker_monitor_container_info',
    help: 'Always 1 for each running container; join on container for its ID and image.',
    labelNames: ['container', 'id', 'image', 'image_id'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const report of containers()) {
        this.set({ container: report.name, id: report.id, image: report.image, image_id: report.imageId }, 1);
      }
    },
  });

  const checkInfo = new Gauge({
    name: 'docker_monitor_check_info',
    help: 'Always 1 for each check in the policy, with its description; CIS checks carry cis_id, every check its severity.',
    labelNames: ['check', 'description', 'cis_id', 'severity'] as const,
    registers: [registry],
  });
  for (const check of checks) {
    checkInfo.set({ check: check.name, description: check.description, cis_id: check.cisId ?? '', severity: check.severity }, 1);
  }

  new Gauge({
    name: 'docker_monitor_host_check_result',
    help: `Result of a check of the engine itself (from /info, /version, /networks): 0 fail (or error), 1 pass. ${fresh}.`,
    labelNames: ['check'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const result of state().host.results) this.set({ check: result.check }, RESULT_VALUES[result.result]);
    },
  });

  return registry;
}

/** Counters, health and process metrics: they change without the state changing. */
function createLiveRegistry(sources: MetricSources): Registry {
  const registry = new Registry();
  const { monitor } = sources;
  const state = (): MonitorState => monitor.state;

  new Counter({
    name: 'docker_monitor_check_errors_total',
    help: 'Checks that threw or timed out (each also counts as a failure of that check).',
    labelNames: ['check'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [check, count] of monitor.errorCounts) this.inc({ check }, count);
    },
  });

  new Counter({
    name: 'docker_monitor_enforcement_actions_total',
    help: 'Actions (warn, stop, kill, pause) taken on failing containers under --enforce.',
    labelNames: ['action'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [action, count] of sources.enforcementActions?.() ?? []) this.inc({ action }, count);
    },
  });

  new Counter({
    name: 'docker_monitor_enforcement_failures_total',
    help: 'Enforcement actions that the engine refused or that failed.',
    labelNames: ['action'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [action, count] of sources.enforcementFailures?.() ?? []) this.inc({ action }, count);
    },
  });

  new Gauge({
    name: 'docker_monitor_image_vulnerabilities',
    help: 'Vulnerabilities found by TrivyScanCheck in an image in use, by severity. Cached per image ID for the check\'s cache_ttl.',
    labelNames: ['image', 'severity'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { image, severity, count } of sources.imageVulnerabilities?.() ?? []) this.set({ image, severity }, count);
    },
  });

  new Gauge({
    name: 'docker_monitor_up',
    help: '1 when the last refresh reached the Docker engine, 0 when it did not (the last-known verdicts are still served).',
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
