import { closest, distance } from 'fastest-levenshtein';
import { parseBoolean, parseDuration, parseEnum, parseInteger, parseList, parseTimeout } from '../ini/values.js';
import { ConfigError, errorMessage, type ConfigLocation } from '../errors.js';
import type { IniSection } from '../ini/ini-file.js';
import type { OptionSpec, OptionValue } from './types.js';

/** " (did you mean x?)" when a known name is close enough to be a typo, else "". */
export function didYouMean(word: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const candidate = closest(word, [...known]);
  const maxDistance = Math.max(2, Math.floor(word.length / 3));
  return distance(word, candidate) <= maxDistance ? ` (did you mean ${candidate}?)` : '';
}

export function parseOptionValue(spec: OptionSpec, raw: string): OptionValue {
  switch (spec.type) {
    case 'boolean':
      return parseBoolean(raw);
    case 'integer':
      return parseInteger(raw);
    case 'duration':
      return parseDuration(raw);
    case 'timeout':
      return parseTimeout(raw);
    case 'list':
      return parseList(raw);
    case 'enum':
      return parseEnum(raw, spec.values ?? []);
    case 'string':
      return raw.trim();
  }
}

/**
 * Turns a section's strings into typed options per `specs`: unknown keys, bad values and missing
 * required keys are ConfigErrors naming file, section and key. An empty value means "use the default",
 * as in the CFPB tool's examples (`always_allow =`).
 */
export function parseOptions(specs: Readonly<Record<string, OptionSpec>>, section: IniSection, file: string): Record<string, OptionValue> {
  const known = Object.keys(specs);
  const options: Record<string, OptionValue> = {};
  for (const [key, raw] of Object.entries(section.values)) {
    const location: ConfigLocation = { file, line: section.keyLines[key], section: section.name, key };
    const spec = specs[key];
    if (spec === undefined) {
      const hint = didYouMean(key, known);
      throw new ConfigError(
        location,
        `unknown key${hint || (known.length ? ` (known keys: ${known.join(', ')})` : ' (this section takes no keys)')}`,
      );
    }
    if (raw.trim() === '') continue;
    try {
      options[key] = parseOptionValue(spec, raw);
    } catch (error) {
      throw new ConfigError(location, errorMessage(error));
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (options[key] !== undefined) continue;
    if (spec.required) {
      throw new ConfigError(
        { file, line: section.keyLines[key] ?? section.line, section: section.name, key },
        `is required: ${spec.description}`,
      );
    }
    // A copy: a list default is shared by every section of the check, and the options are the check's own.
    if (spec.default !== undefined) options[key] = typeof spec.default === 'object' ? [...spec.default] : spec.default;
  }
  return options;
}
