import { UsageError, errorMessage } from '../errors.js';
import { moreVerbose } from '../log.js';
import { parseListenAddress } from './listen-address.js';
import { parseLabelGlobs, parseRefresh } from './load-policy.js';
import { MAX_CONCURRENCY, parseLogLevel, type Settings } from './settings.js';
import { parseEnum, parseInteger, parseList, parseTimeout } from '../ini/values.js';
import { checkTelemetryPath } from './checked-paths.js';

/** Flags as commander parses them; every one optional, so the file's value stands when a flag is absent. */
export interface CommonFlags {
  configFile?: string;
  'log.level'?: string;
  'log.format'?: string;
  verbose?: number;
  'docker.host'?: string;
  'docker.context'?: string;
  'docker.tlsVerify'?: boolean;
  'docker.certPath'?: string;
  'docker.concurrency'?: string;
  'docker.timeout'?: string;
  'docker.resyncInterval'?: string;
  enforce?: boolean;
}

export interface ServeFlags extends CommonFlags {
  'web.listenAddress'?: string[];
  'web.telemetryPath'?: string;
  'web.config.file'?: string;
  'web.grafanaUrl'?: string;
  'web.enableLifecycle'?: boolean;
  refresh?: string;
  check?: string;
  hostname?: string;
  statsdServer?: string;
  statsdPrefix?: string;
  'metrics.results'?: string;
  'metrics.containerLabels'?: string;
}

/** An absolute http(s) URL, as the browser will follow it. */
function parseHttpUrl(value: string): string {
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new Error(`"${value}" is not an http:// or https:// URL`);
  return value;
}

function flagValue<T>(flag: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (error) {
    throw new UsageError(`${flag}: ${errorMessage(error)}`);
  }
}

/** Flags win over the file; `-v` counts from whichever level was chosen. DOCKER_HOST and friends are read where the engine is chosen. */
export function applyFlags(settings: Settings, flags: ServeFlags): Settings {
  const result: Settings = { ...settings };
  if (flags['log.level'] !== undefined) result.logLevel = flagValue('--log.level', flags['log.level'], parseLogLevel);
  if (flags.verbose) result.logLevel = moreVerbose(result.logLevel, flags.verbose);
  if (flags['log.format'] !== undefined) {
    result.logFormat = flagValue('--log.format', flags['log.format'], (value) => {
      if (value !== 'text' && value !== 'logfmt' && value !== 'json') throw new Error(`"${value}" is not text, logfmt or json`);
      return value;
    });
  }
  const sourced = <T>(flag: string, value: T | undefined): { value: T; source: string } | undefined =>
    value === undefined ? undefined : { value, source: flag };
  // A flag naming the engine one way replaces the file's choice made the other way.
  if (flags['docker.host'] !== undefined || flags['docker.context'] !== undefined) {
    result.dockerHost = sourced('--docker.host', flags['docker.host']);
    result.dockerContext = sourced('--docker.context', flags['docker.context']);
  }
  result.dockerTlsVerify = sourced('--docker.tls-verify', flags['docker.tlsVerify']) ?? settings.dockerTlsVerify;
  result.dockerCertPath = sourced('--docker.cert-path', flags['docker.certPath']) ?? settings.dockerCertPath;
  if (flags['docker.concurrency'] !== undefined) {
    result.dockerConcurrency = flagValue('--docker.concurrency', flags['docker.concurrency'], (value) =>
      parseInteger(value, 1, MAX_CONCURRENCY),
    );
  }
  if (flags['docker.timeout'] !== undefined) result.dockerTimeoutMs = flagValue('--docker.timeout', flags['docker.timeout'], parseTimeout);
  if (flags['docker.resyncInterval'] !== undefined) {
    result.resyncIntervalMs = flagValue('--docker.resync-interval', flags['docker.resyncInterval'], parseTimeout);
  }
  if (flags.enforce !== undefined) result.enforce = flags.enforce;
  if (flags['web.listenAddress'] !== undefined) {
    result.listenAddresses = flags['web.listenAddress'].map((address) => flagValue('--web.listen-address', address, parseListenAddress));
  }
  if (flags['web.telemetryPath'] !== undefined) {
    result.telemetryPath = flagValue('--web.telemetry-path', flags['web.telemetryPath'], checkTelemetryPath);
  }
  if (flags['web.config.file'] !== undefined) result.webConfigFile = flags['web.config.file'];
  if (flags['web.grafanaUrl'] !== undefined) result.grafanaUrl = flagValue('--web.grafana-url', flags['web.grafanaUrl'], parseHttpUrl);
  if (flags['web.enableLifecycle'] !== undefined) result.webEnableLifecycle = flags['web.enableLifecycle'];
  if (flags.refresh !== undefined && flags.check !== undefined) {
    throw new UsageError('--refresh and --check mean the same thing: give one of them');
  }
  if (flags.refresh !== undefined) result.refresh = flagValue('--refresh', flags.refresh, parseRefresh);
  if (flags.check !== undefined) result.refresh = flagValue('--check', flags.check, parseRefresh);
  if (flags.hostname !== undefined) result.hostname = flags.hostname;
  if (flags.statsdServer !== undefined) result.statsdServer = flags.statsdServer;
  if (flags.statsdPrefix !== undefined) result.statsdPrefix = flags.statsdPrefix;
  if (flags['metrics.results'] !== undefined) {
    result.metricsResults = flagValue('--metrics.results', flags['metrics.results'], (value) =>
      parseEnum(value, ['all', 'failing', 'none'] as const),
    );
  }
  if (flags['metrics.containerLabels'] !== undefined) {
    result.metricsContainerLabels = flagValue('--metrics.container-labels', flags['metrics.containerLabels'], (value) =>
      parseLabelGlobs(parseList(value)),
    );
  }
  return result;
}
