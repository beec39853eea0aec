import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IniSection } from '../ini/ini-file.js';
import { ConfigError, errorMessage } from '../errors.js';
import { selectorFrom, selectorKeys } from './selector-keys.js';
import { didYouMean, parseOptions } from './options.js';
import { isCheckClass, type CheckClass } from './policy-check.js';
import {
  CHECK_INPUTS,
  SEVERITIES,
  type CheckContext,
  type CheckInput,
  type CheckInstance,
  type CheckOutcome,
  type ContainerView,
  type HostView,
  type OptionSpec,
  type OptionValue,
  type Verdict,
} from './types.js';

export const BUILT_IN_PREFIX = 'docker_monitor.checks.';
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
const EXCLUDE_PREFIX = 'exclude_';
const EXCLUDE_OPTIONS = selectorKeys(EXCLUDE_PREFIX, 'that this check does not run on');

/** Keys every check accepts, beside its own. */
const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  severity: { type: 'enum', values: SEVERITIES, description: 'how bad a failure is (critical, high, medium, low, info)' },
  timeout: { type: 'timeout', description: 'how long one run may take before it counts as an error' },
  ...EXCLUDE_OPTIONS,
};

const MODULE_EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts'];
const VERDICTS: readonly Verdict[] = ['pass', 'pass_fast', 'fail'];

function normalizeReturn(value: unknown): CheckOutcome {
  if (typeof value === 'string' && (VERDICTS as readonly string[]).includes(value)) {
    return { result: value as Verdict };
  }
  if (typeof value === 'object' && value !== null) {
    const { result, reason, data } = value as { result?: unknown; reason?: unknown; data?: unknown };
    if (typeof result === 'string' && (VERDICTS as readonly string[]).includes(result)) {
      const outcome: CheckOutcome = { result: result as Verdict };
      if (typeof reason === 'string') outcome.reason = reason;
      if (data !== undefined) outcome.data = data;
      return outcome;
    }
  }
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  throw new Error(`returned ${shown.slice(0, 200)}; a check returns "pass", "pass_fast", "fail" or { result, reason }`);
}

/** A class's `inputs`, checked: every input when it declares none. */
function declaredInputs(checkClass: CheckClass, section: IniSection, file: string): readonly CheckInput[] {
  const { inputs } = checkClass;
  if (inputs === undefined) return CHECK_INPUTS;
  const unknown = Array.isArray(inputs)
    ? (inputs as unknown[]).filter((input) => !(CHECK_INPUTS as readonly unknown[]).includes(input))
    : [inputs];
  if (unknown.length > 0) {
    throw new ConfigError(
      { file, line: section.line, section: section.name },
      `static inputs of ${checkClass.name} must list some of ${CHECK_INPUTS.join(', ')}; ${String(unknown[0])} is not one`,
    );
  }
  return inputs;
}

/** Makes a runnable CheckInstance from a class and its section. */
export function instantiateCheck(checkClass: CheckClass, section: IniSection, file: string, context: CheckContext): CheckInstance {
  const ownOptions = checkClass.options;
  let config: Record<string, OptionValue>;
  if (ownOptions === undefined) {
    // A user's check without an options table takes every key as a string, like the Python tool.
    const common: Record<string, string> = {};
    const rest: Record<string, string> = {};
    for (const [key, value] of Object.entries(section.values)) {
      (key in COMMON_OPTIONS ? common : rest)[key] = value;
    }
    config = { ...rest, ...parseOptions(COMMON_OPTIONS, { ...section, values: common }, file) };
  } else {
    config = parseOptions({ ...COMMON_OPTIONS, ...ownOptions }, section, file);
  }
  const exclude = selectorFrom(config, section, file, EXCLUDE_PREFIX);
  // Exclusions are the chain's business, not the check's: its options stay as they were before them.
  for (const key of Object.keys(EXCLUDE_OPTIONS)) delete config[key];
  let instance: InstanceType<CheckClass>;
  try {
    instance = new checkClass(config, context);
  } catch (error) {
    throw new ConfigError({ file, line: section.line, section: section.name }, `check could not be created: ${errorMessage(error)}`);
  }
  // Classes that do not extend PolicyCheck still get their options and the verdict constants
  // (`this.PASS`, `this.PASS_FAST`, `this.FAIL`) the way the Python tool's base class gave them.
  for (const [property, value] of Object.entries({ config, PASS: 'pass', PASS_FAST: 'pass_fast', FAIL: 'fail' })) {
    if ((instance as Record<string, unknown>)[property] === undefined) Object.assign(instance, { [property]: value });
  }
  const severity = (config['severity'] as CheckInstance['severity'] | undefined) ?? checkClass.severity ?? 'medium';
  return {
    name: checkClass.name,
    section: section.name,
    description: checkClass.description ?? '',
    remediation: checkClass.remediation || undefined,
    scope: checkClass.scope ?? 'container',
    severity,
    cisId: checkClass.cisId,
    timeoutMs: (config['timeout'] as number | undefined) ?? DEFAULT_CHECK_TIMEOUT_MS,
    metrics: checkClass.metrics ?? [],
    exclude,
    inputs: declaredInputs(checkClass, section, file),
    async run(target: ContainerView | HostView): Promise<CheckOutcome> {
      return normalizeReturn(await instance.check(target as ContainerView & HostView));
    },
  };
}

/** Where `[<module>.<Export>]` may live, relative to the config file's folder first. */
function resolveModule(moduleName: string, configDir: string): { found: string | undefined; tried: string[] } {
  const base = isAbsolute(moduleName) ? moduleName : resolve(configDir, moduleName);
  const dotted = resolve(configDir, moduleName.replaceAll('.', '/'));
  const tried: string[] = [];
  for (const stem of moduleName.startsWith('.') || moduleName.includes('/') ? [base] : new Set([base, dotted])) {
    for (const extension of MODULE_EXTENSIONS) {
      const candidate = stem + extension;
      tried.push(candidate);
      if (statSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return { found: candidate, tried };
    }
  }
  try {
    // A package installed next to the config file (node_modules), as Python found installed modules.
    return { found: createRequire(resolve(configDir, 'policy.js')).resolve(moduleName), tried };
  } catch {
    return { found: undefined, tried };
  }
}

/**
 * TypeScript: Node.js strips the types itself where it can (22.18+, 23.6+, 24; earlier 22.x with
 * --experimental-strip-types), otherwise tsx does it when it is installed beside docker-monitor.
 */
async function importTypeScript(url: string): Promise<unknown> {
  if ((process.features as { typescript?: string | false }).typescript) return import(url);
  let tsImport: (specifier: string, parent: string) => Promise<unknown>;
  try {
    ({ tsImport } = await import('tsx/esm/api'));
  } catch {
    throw new Error(
      `Node.js ${process.version} cannot load TypeScript by itself: use Node.js 22.18 or later, or install tsx beside docker-monitor (npm install -g tsx)`,
    );
  }
  return tsImport(url, import.meta.url);
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  return (await (/\.m?ts$/.test(path) ? importTypeScript(url) : import(url))) as Record<string, unknown>;
}

/** How long a user's module may take to load (its top-level code and awaits). */
export const IMPORT_TIMEOUT_MS = 10_000;

export function withImportDeadline<T>(loading: Promise<T>, path: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // Keeps the process alive until it fires: a module that never settles would otherwise end it (exit 13).
    timer = setTimeout(() => reject(new Error(`${path} did not finish loading within ${IMPORT_TIMEOUT_MS / 1000} s`)), IMPORT_TIMEOUT_MS);
  });
  return Promise.race([loading, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Once users' modules are loaded, `process.exit` from their code would end the exporter and every other
 * container's results with it: it throws instead (a check calling it gives `error`). docker-monitor's own
 * exit goes through `exitProcess`, kept from before any module was loaded.
 */
export const exitProcess: (code?: number) => never = process.exit.bind(process);
let exitGuarded = false;

function guardProcessExit(): void {
  if (exitGuarded) return;
  exitGuarded = true;
  process.exit = (code?: number | string | null): never => {
    throw new Error(`called process.exit(${String(code ?? '')}), which a check may not do`);
  };
}

/** The file and export a user's check section such as `[my_checks.MyPolicyCheck]` names. */
export function locateUserModule(section: IniSection, file: string): { path: string; exportName: string } {
  const location = { file, line: section.line, section: section.name };
  const cut = section.name.lastIndexOf('.');
  if (cut <= 0 || cut === section.name.length - 1) {
    throw new ConfigError(
      location,
      'a check section is named <module>.<ExportName>, e.g. [docker_monitor.checks.RootProcessCheck] or [./my_checks.js.MyPolicyCheck]',
    );
  }
  const moduleName = section.name.slice(0, cut);
  const exportName = section.name.slice(cut + 1);
  const { found, tried } = resolveModule(moduleName, dirname(resolve(file)));
  if (found === undefined) {
    throw new ConfigError(location, `module "${moduleName}" not found (looked for ${tried.join(', ')})`);
  }
  return { path: found, exportName };
}

/** Loads a user's check class named by a section such as `[my_checks.MyPolicyCheck]`. */
export async function loadUserCheck(section: IniSection, file: string): Promise<CheckClass> {
  const location = { file, line: section.line, section: section.name };
  const { path: found, exportName } = locateUserModule(section, file);
  let exports: Record<string, unknown>;
  guardProcessExit();
  try {
    exports = await withImportDeadline(importModule(found), found);
  } catch (error) {
    throw new ConfigError(location, `module ${found} could not be loaded: ${errorMessage(error).split('\n')[0]}`);
  }
  const candidate = exports[exportName] ?? (exports['default'] as Record<string, unknown> | undefined)?.[exportName];
  if (candidate === undefined) {
    // Importing CommonJS adds `default` (and on newer Node.js `module.exports`): not the module's own names.
    const names = Object.keys(exports).filter((name) => name !== 'default' && name !== 'module.exports');
    throw new ConfigError(
      location,
      `module ${found} has no export "${exportName}"${didYouMean(exportName, names) || ` (it exports: ${names.join(', ') || 'nothing'})`}`,
    );
  }
  if (!isCheckClass(candidate)) {
    throw new ConfigError(location, `export "${exportName}" of ${found} is not a check: expected a class with a check() method`);
  }
  return candidate;
}

/** Finds the class for a check section: a built-in, or a user's module. */
export async function resolveCheckClass(
  section: IniSection,
  file: string,
  builtIns: Readonly<Record<string, CheckClass>>,
): Promise<CheckClass> {
  if (section.name.startsWith(BUILT_IN_PREFIX)) {
    const name = section.name.slice(BUILT_IN_PREFIX.length);
    const builtIn = builtIns[name];
    if (builtIn === undefined) {
      throw new ConfigError(
        { file, line: section.line, section: section.name },
        `unknown built-in check "${name}"${didYouMean(name, Object.keys(builtIns))}`,
      );
    }
    return builtIn;
  }
  return loadUserCheck(section, file);
}
