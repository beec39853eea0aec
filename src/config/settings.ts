import type { Sourced } from '../errors.js';
import type { OptionSpec } from '../policy/types.js';
import type { LogFormat, LogLevel } from '../log.js';
import { selectorKeys } from '../policy/selector-keys.js';
import { parseListenAddress, type ListenAddress } from './listen-address.js';

export type PolicyAction = 'warn' | 'stop' | 'kill' | 'pause';
/** `scrape`, or the background refresh interval in milliseconds. */
export type RefreshMode = 'scrape' | number;

/** Everything outside the check sections: from the file's `[policy]`, `[logging]`, `[exporter]`, `[docker]`, `[statsd]`, then flags. */
export interface Settings {
  alwaysAllow: string[];
  action: PolicyAction;
  failFast: boolean;
  logFile: string | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Every one is served. */
  listenAddresses: ListenAddress[];
  telemetryPath: string;
  webConfigFile: string | undefined;
  /** `--web.grafana-url`: base URL of the Grafana holding the container dashboard. */
  grafanaUrl: string | undefined;
  /** `--web.enable-lifecycle`: `POST /-/reload` reloads (SIGHUP always does). */
  webEnableLifecycle: boolean;
  refresh: RefreshMode;
  hostname: string | undefined;
  enforce: boolean;
  /** Each engine setting keeps where it came from, so an error can name the flag or the file's key. */
  dockerHost: Sourced | undefined;
  dockerContext: Sourced | undefined;
  dockerTlsVerify: Sourced<boolean> | undefined;
  dockerCertPath: Sourced | undefined;
  dockerConcurrency: number;
  dockerTimeoutMs: number;
  processCacheTtlMs: number;
  /** How often a refresh lists and inspects every container again instead of trusting the events. */
  resyncIntervalMs: number;
  statsdServer: string | undefined;
  statsdPrefix: string;
  /** `--metrics.results`: all, failing or none. */
  metricsResults: 'all' | 'failing' | 'none';
  /** `--metrics.container-labels`: label names or globs copied onto docker_monitor_container_info. */
  metricsContainerLabels: string[];
}

/** Engine calls in flight at most: more only queues in the engine (and beyond this is a typo). */
export const MAX_CONCURRENCY = 1024;

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  alwaysAllow: [],
  action: 'kill',
  failFast: false,
  logFile: undefined,
  logLevel: 'info',
  logFormat: 'text',
  listenAddresses: [parseListenAddress(':10091')],
  telemetryPath: '/metrics',
  webConfigFile: undefined,
  grafanaUrl: undefined,
  webEnableLifecycle: false,
  refresh: 'scrape',
  hostname: undefined,
  enforce: false,
  dockerHost: undefined,
  dockerContext: undefined,
  dockerTlsVerify: undefined,
  dockerCertPath: undefined,
  dockerConcurrency: 8,
  dockerTimeoutMs: 10_000,
  processCacheTtlMs: 10_000,
  resyncIntervalMs: 5 * 60_000,
  statsdServer: undefined,
  statsdPrefix: 'docker_monitor',
  metricsResults: 'all',
  metricsContainerLabels: [],
};

/** Python's logging names and ours, lower-cased, to pino's. */
export const LOG_LEVEL_NAMES: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
};

export function parseLogLevel(value: string): LogLevel {
  const level = LOG_LEVEL_NAMES[value.trim().toLowerCase()];
  if (level === undefined) {
    throw new Error(`"${value}" is not a log level (use debug, info, warn, error; or DEBUG, INFO, WARNING, ERROR, CRITICAL)`);
  }
  return level;
}

/** The keys of each settings section; names match the flags (`--web.listen-address` → `listen_address`). */
export const SETTINGS_SECTIONS: Readonly<Record<string, Readonly<Record<string, OptionSpec>>>> = {
  policy: {
    always_allow: { type: 'list', description: 'images exempt from every check: IDs (sha256:…, 64 or 12 hex) or references (nginx:1.27)' },
    action: { type: 'enum', values: ['warn', 'stop', 'kill', 'pause'], description: 'what --enforce does to a failing container' },
    fail_fast: { type: 'boolean', description: "stop a container's chain at its first FAIL" },
    ...selectorKeys('exclude_', 'that no check runs on'),
  },
  logging: {
    log_file: { type: 'string', description: 'file to append log lines to (default: standard error)' },
    level: { type: 'string', description: 'debug, info, warn, error (or DEBUG, INFO, WARNING, ERROR, CRITICAL)' },
    format: {
      type: 'enum',
      values: ['text', 'logfmt', 'json'],
      description: "text (for people), logfmt (promslog's keys) or json (one object per line)",
    },
  },
  exporter: {
    listen_address: {
      type: 'list',
      description: 'host:port, [v6]:port or :port (every interface) to listen on; comma-separated for several',
    },
    telemetry_path: { type: 'string', description: 'path of the metrics endpoint' },
    web_config_file: { type: 'string', description: 'TLS and basic auth (exporter-toolkit web config YAML)' },
    refresh: { type: 'string', description: 'scrape, or a duration such as 30s' },
    hostname: { type: 'string', description: 'host name for StatsD tags and log lines' },
    enforce: { type: 'boolean', description: 'apply [policy] action to failing containers' },
    metrics_results: {
      type: 'enum',
      values: ['all', 'failing', 'none'],
      description: 'per-container results exported: all, failing (not a pass) or none',
    },
    metrics_container_labels: { type: 'list', description: 'container labels (names or globs) copied onto docker_monitor_container_info' },
  },
  docker: {
    host: { type: 'string', description: 'engine address (unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host)' },
    context: { type: 'string', description: "a context from the docker CLI's context store (~/.docker/contexts)" },
    tls_verify: { type: 'boolean', description: 'TLS with verification for tcp:// (as DOCKER_TLS_VERIFY)' },
    cert_path: { type: 'string', description: 'folder with ca.pem, cert.pem and key.pem (as DOCKER_CERT_PATH)' },
    concurrency: { type: 'string', description: 'most engine calls in flight at once' },
    timeout: { type: 'timeout', description: 'how long one engine call may take' },
    process_cache_ttl: { type: 'duration', description: "how long a container's process list is reused between refreshes" },
    resync_interval: { type: 'timeout', description: 'how often every container is listed and inspected again, beside the events' },
  },
  statsd: {
    server: { type: 'string', description: 'host:port of a StatsD/DogStatsD server (UDP)' },
    prefix: { type: 'string', description: 'metric name prefix (cnitch used "cnitch")' },
  },
};
