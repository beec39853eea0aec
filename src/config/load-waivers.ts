import { ConfigError, errorMessage } from '../errors.js';
import { didYouMean, parseOptions } from '../policy/options.js';
import type { CheckInstance, OptionSpec } from '../policy/types.js';
import { WAIVER_SECTION_PREFIX, parseExpiryDate, type Waiver } from '../policy/waivers.js';
import type { IniSection } from '../ini/ini-file.js';
import { selectorFrom, selectorKeys } from '../policy/selector-keys.js';

const WAIVER_KEYS: Readonly<Record<string, OptionSpec>> = {
  checks: { type: 'list', required: true, description: 'the check names (class names, e.g. DockerSocketMountCheck) whose FAILs it waives' },
  ...selectorKeys('', 'the waiver covers'),
  reason: { type: 'string', required: true, description: 'why the exception is accepted (shown beside every waived result)' },
  expires: { type: 'string', description: 'YYYY-MM-DD: the waiver ends at the start of that day, UTC' },
};

export function isWaiverSection(section: IniSection): boolean {
  return section.name.startsWith(WAIVER_SECTION_PREFIX);
}

/** Reads and validates one `[waiver:NAME]` against the policy's checks; every problem names its key. */
export function loadWaiver(section: IniSection, file: string, checks: readonly CheckInstance[]): Waiver {
  const at = (key?: string) => ({
    file,
    line: key === undefined ? section.line : (section.keyLines[key] ?? section.line),
    section: section.name,
    key,
  });
  const name = section.name.slice(WAIVER_SECTION_PREFIX.length).trim();
  if (name === '') throw new ConfigError(at(), 'a waiver needs a name: [waiver:NAME]');
  const options = parseOptions(WAIVER_KEYS, section, file);
  const known = new Map(checks.map((check) => [check.name, check]));
  const checkNames = options['checks'] as string[];
  for (const checkName of checkNames) {
    const check = known.get(checkName);
    if (check === undefined) {
      throw new ConfigError(
        at('checks'),
        `no check named "${checkName}" in this policy${didYouMean(checkName, [...known.keys()]) || ` (its checks: ${[...known.keys()].join(', ')})`}`,
      );
    }
    if (check.scope === 'host')
      throw new ConfigError(at('checks'), `${checkName} checks the engine, not containers: a waiver cannot apply to it`);
  }
  const selector = selectorFrom(options, section, file, '');
  if (selector === undefined) {
    throw new ConfigError(at(), 'a waiver names the containers it covers: give containers, images or labels (at least one)');
  }
  const expires = options['expires'] as string | undefined;
  let expiresAt: number | undefined;
  if (expires !== undefined) {
    try {
      expiresAt = parseExpiryDate(expires);
    } catch (error) {
      throw new ConfigError(at('expires'), errorMessage(error));
    }
  }
  return { name, checks: new Set(checkNames), selector, reason: options['reason'] as string, expires, expiresAt };
}

/** Every waiver section of the file, in order; two with the same name cannot be told apart in metrics. */
export function loadWaivers(sections: readonly IniSection[], file: string, checks: readonly CheckInstance[]): Waiver[] {
  const waivers: Waiver[] = [];
  for (const section of sections.filter(isWaiverSection)) {
    const waiver = loadWaiver(section, file, checks);
    if (waivers.some((earlier) => earlier.name === waiver.name)) {
      throw new ConfigError({ file, line: section.line, section: section.name }, `waiver name "${waiver.name}" is already used`);
    }
    waivers.push(waiver);
  }
  return waivers;
}
