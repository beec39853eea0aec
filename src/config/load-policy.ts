import { readFile, stat } from 'node:fs/promises';
import { ConfigError, errorMessage, formatLocation, type Sourced } from '../errors.js';
import type { Logger } from '../log.js';
import { BUILT_IN_PREFIX, instantiateCheck, resolveCheckClass } from '../policy/check-loader.js';
import { loadWorkerCheck } from '../user-checks/worker-check.js';
import type { CheckClass } from '../policy/policy-check.js';
import { parseOptions } from '../policy/options.js';
import type { CheckContext, CheckInstance, OptionValue } from '../policy/types.js';
import { ScanPool } from '../scanners/scan-pool.js';
import type { ContainerSelector } from '../policy/selector.js';
import type { Waiver } from '../policy/waivers.js';
import { isWaiverSection, loadWaivers } from './load-waivers.js';
import { selectorFrom } from '../policy/selector-keys.js';
import { compileGlob } from '../policy/selector.js';
import { DEFAULT_POLICY_INI, DEFAULT_POLICY_NAME } from './default-policy.js';
import { parseIni, type IniDocument, type IniSection } from '../ini/ini-file.js';
import { parseInteger, parseTimeout } from '../ini/values.js';
import { parseListenAddress } from './listen-address.js';
import { checkLogFile, checkTelemetryPath } from './checked-paths.js';
import {
  DEFAULT_SETTINGS,
  MAX_CONCURRENCY,
  SETTINGS_SECTIONS,
  parseLogLevel,
  type PolicyAction,
  type RefreshMode,
  type Settings,
} from './settings.js';

export interface LoadedPolicy {
  /** The file's path, or the embedded default's name. */
  file: string;
  /** Settings from the file, over the defaults (flags are applied later, by the CLI). */
  settings: Settings;
  /** Check sections in file order. */
  checks: CheckInstance[];
  /** `[waiver:NAME]` sections in file order. */
  waivers: Waiver[];
  /** `[policy] exclude_*`: containers no check runs on; undefined when none is given. */
  exclude: ContainerSelector | undefined;
  warnings: string[];
}

/** Label names or globs for --metrics.container-labels; each checked as a glob. */
export function parseLabelGlobs(globs: string[]): string[] {
  for (const glob of globs) compileGlob(glob);
  return globs;
}

export function parseRefresh(value: string): RefreshMode {
  if (value.trim().toLowerCase() === 'scrape') return 'scrape';
  const ms = parseTimeout(value);
  if (ms < 100) throw new Error(`"${value}" is too short a refresh interval (at least 100ms)`);
  return ms;
}

function settingsFrom(document: IniDocument): Settings {
  const settings: Settings = { ...DEFAULT_SETTINGS, alwaysAllow: [] };
  const file = document.file;
  for (const section of document.sections) {
    const specs = SETTINGS_SECTIONS[section.name];
    if (specs === undefined) continue;
    const values = parseOptions(specs, section, file);
    const text = (key: string): string | undefined => values[key] as string | undefined;
    const typed = <T extends OptionValue>(key: string): T | undefined => values[key] as T | undefined;
    const converted = <T, V extends OptionValue = string>(key: string, convert: (value: V) => T): T | undefined => {
      const value = values[key];
      if (value === undefined) return undefined;
      try {
        return convert(value as V);
      } catch (error) {
        throw new ConfigError({ file, line: section.keyLines[key], section: section.name, key }, errorMessage(error));
      }
    };
    const sourced = <T>(key: string, value: T | undefined): Sourced<T> | undefined =>
      value === undefined
        ? undefined
        : { value, source: formatLocation({ file, line: section.keyLines[key], section: section.name, key }) };
    const assign = <K extends keyof Settings>(key: K, value: Settings[K] | undefined): void => {
      if (value !== undefined) settings[key] = value;
    };
    switch (section.name) {
      case 'policy':
        // An empty action would silently mean kill: say which.
        if (section.values['action']?.trim() === '') {
          throw new ConfigError(
            { file, line: section.keyLines['action'], section: section.name, key: 'action' },
            'is empty; give one of warn, stop, kill, pause',
          );
        }
        assign('alwaysAllow', typed<string[]>('always_allow'));
        assign('action', typed<PolicyAction>('action'));
        assign('failFast', typed<boolean>('fail_fast'));
        break;
      case 'logging':
        assign('logFile', converted('log_file', checkLogFile));
        assign('logLevel', converted('level', parseLogLevel));
        assign('logFormat', typed<Settings['logFormat']>('format'));
        break;
      case 'exporter':
        assign(
          'listenAddresses',
          converted('listen_address', (addresses: string[]) => addresses.map(parseListenAddress)),
        );
        assign('telemetryPath', converted('telemetry_path', checkTelemetryPath));
        assign('webConfigFile', text('web_config_file'));
        assign('refresh', converted('refresh', parseRefresh));
        assign('hostname', text('hostname'));
        assign('enforce', typed<boolean>('enforce'));
        assign('metricsResults', typed<Settings['metricsResults']>('metrics_results'));
        assign('metricsContainerLabels', converted('metrics_container_labels', parseLabelGlobs));
        break;
      case 'docker':
        assign('dockerHost', sourced('host', text('host')));
        assign('dockerContext', sourced('context', text('context')));
        assign('dockerTlsVerify', sourced('tls_verify', typed<boolean>('tls_verify')));
        assign('dockerCertPath', sourced('cert_path', text('cert_path')));
        assign(
          'dockerConcurrency',
          converted('concurrency', (value) => parseInteger(value, 1, MAX_CONCURRENCY)),
        );
        assign('dockerTimeoutMs', typed<number>('timeout'));
        assign('processCacheTtlMs', typed<number>('process_cache_ttl'));
        assign('resyncIntervalMs', typed<number>('resync_interval'));
        break;
      case 'statsd':
        assign('statsdServer', text('server'));
        assign('statsdPrefix', text('prefix'));
        break;
    }
  }
  return settings;
}

async function loadChecks(
  sections: IniSection[],
  file: string,
  builtIns: Readonly<Record<string, CheckClass>>,
  logger: Logger | undefined,
): Promise<CheckInstance[]> {
  const checks: CheckInstance[] = [];
  // Shared by this policy's checks alone: two loaded policies (two runtimes) never share scans.
  const context: CheckContext = { scanPool: new ScanPool(), logger };
  const sectionByName = new Map<string, IniSection>();
  try {
    await loadEach(sections, file, builtIns, context, sectionByName, checks);
  } catch (error) {
    // A reload that fails must not leave the worker threads of the checks it loaded before the error.
    await closeChecks(checks);
    throw error;
  }
  return checks;
}

async function loadEach(
  sections: IniSection[],
  file: string,
  builtIns: Readonly<Record<string, CheckClass>>,
  context: CheckContext,
  sectionByName: Map<string, IniSection>,
  checks: CheckInstance[],
): Promise<void> {
  for (const section of sections) {
    if (section.name in SETTINGS_SECTIONS || isWaiverSection(section)) continue;
    // Users' checks run in worker threads of their own (src/user-checks/); built-ins in the exporter's.
    const check = section.name.startsWith(BUILT_IN_PREFIX)
      ? instantiateCheck(await resolveCheckClass(section, file, builtIns), section, file, context)
      : await loadWorkerCheck(section, file, context);
    checks.push(check);
    // Results and metrics are labelled by class name, so two sections must not share one.
    const earlier = sectionByName.get(check.name);
    if (earlier !== undefined) {
      throw new ConfigError(
        { file, line: section.line, section: section.name },
        `check name ${check.name} is already used by [${earlier.name}] (line ${earlier.line}); give one of the classes another name`,
      );
    }
    sectionByName.set(check.name, section);
  }
}

/** Frees what a policy's checks hold (users' checks' worker threads): after a failed load, or once a reload replaced them. */
export async function closeChecks(checks: readonly CheckInstance[]): Promise<void> {
  for (const check of checks) await check.close?.();
}

/**
 * Where the checks of a policy log, made from the file's settings before its checks are loaded (the
 * `[logging]` section says where the log goes).
 */
export type LoggerFor = (settings: Settings) => Logger;

/** Parses and validates a policy text; every problem is a ConfigError naming file, section and key. */
export async function parsePolicy(
  text: string,
  file: string,
  builtIns: Readonly<Record<string, CheckClass>>,
  loggerFor?: LoggerFor,
): Promise<LoadedPolicy> {
  // A binary file is not a policy: say so once instead of echoing its bytes as INI lines.
  if (text.includes('\u0000')) throw new ConfigError({ file }, 'is not a text file (it contains NUL bytes)');
  const document = parseIni(text, file);
  const settings = settingsFrom(document);
  const checks = await loadChecks(document.sections, file, builtIns, loggerFor?.(settings));
  try {
    const waivers = loadWaivers(document.sections, file, checks);
    const policySection = document.sections.find((section) => section.name === 'policy');
    const exclude =
      policySection === undefined
        ? undefined
        : selectorFrom(parseOptions(SETTINGS_SECTIONS['policy'] ?? {}, policySection, file), policySection, file, 'exclude_');
    return { file, settings, checks, waivers, exclude, warnings: document.warnings };
  } catch (error) {
    await closeChecks(checks);
    throw error;
  }
}

/** Loads `path`, or the embedded default policy when no path is given. */
export async function loadPolicy(
  path: string | undefined,
  builtIns: Readonly<Record<string, CheckClass>>,
  loggerFor?: LoggerFor,
): Promise<LoadedPolicy> {
  if (path === undefined) return parsePolicy(DEFAULT_POLICY_INI, DEFAULT_POLICY_NAME, builtIns, loggerFor);
  let text: string;
  try {
    // A FIFO or a device would block the read (or never end): only a regular file is read.
    const stats = await stat(path);
    if (!stats.isFile()) throw Object.assign(new Error('not a regular file'), { code: stats.isDirectory() ? 'EISDIR' : 'ENOTFILE' });
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : code === 'ENOTFILE'
              ? 'not a regular file'
              : errorMessage(error);
    throw new ConfigError({ file: path }, `cannot read the policy file: ${why}`);
  }
  return parsePolicy(text, path, builtIns, loggerFor);
}
