import { readFile, stat } from 'node:fs/promises';
import { ConfigError, errorMessage, formatLocation } from '../errors.js';
import type { Logger } from '../log.js';
import { BUILT_IN_PREFIX, instantiateCheck, resolveCheckClass } from '../policy/check-loader.js';
import { loadWorkerCheck } from '../user-checks/worker-check.js';
import type { CheckClass } from '../policy/policy-check.js';
import { parseOptions } from '../policy/options.js';
import type { CheckContext, CheckInstance } from '../policy/types.js';
import { ScanPool } from '../scanners/scan-pool.js';
import type { ContainerSelector } from '../policy/selector.js';
import type { Waiver } from '../policy/waivers.js';
import { isWaiverSection, loadWaivers } from './load-waivers.js';
import { selectorFrom } from '../policy/selector-keys.js';
import { DEFAULT_POLICY_INI, DEFAULT_POLICY_NAME } from './default-policy.js';
import { parseIni, type IniDocument, type IniSection } from '../ini/ini-file.js';
import { SETTING_TABLE, type SettingSpec } from './setting-table.js';
import { DEFAULT_SETTINGS, SETTINGS_SECTIONS, settingValue, type Settings } from './settings.js';

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

/** The file's settings over the defaults, each key read by its setting's entry in the table. */
function settingsFrom(document: IniDocument): Settings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS, alwaysAllow: [] };
  const file = document.file;
  for (const section of document.sections) {
    const specs = SETTINGS_SECTIONS[section.name];
    if (specs === undefined) continue;
    const values = parseOptions(specs, section, file);
    for (const spec of SETTING_TABLE as readonly SettingSpec[]) {
      if (spec.ini?.section !== section.name || spec.setting === undefined) continue;
      const { key } = spec.ini;
      const location = { file, line: section.keyLines[key], section: section.name, key };
      // An empty value means the default, unless the default would surprise (an empty action would silently mean kill).
      if (spec.refuseEmpty !== undefined && section.values[key]?.trim() === '') throw new ConfigError(location, spec.refuseEmpty);
      const typed = values[key];
      if (typed === undefined) continue;
      let value: unknown;
      try {
        value = settingValue(spec, typed);
      } catch (error) {
        throw new ConfigError(location, errorMessage(error));
      }
      settings[spec.setting] = spec.sourced === true ? { value, source: formatLocation(location) } : value;
    }
  }
  return settings as unknown as Settings;
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
