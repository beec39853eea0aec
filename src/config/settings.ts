import type { Sourced } from '../errors.js';
import type { OptionSpec, OptionValue } from '../policy/types.js';
import { selectorKeys } from '../policy/selector-keys.js';
import { parseOptionValue } from '../policy/options.js';
import type { RefreshMode } from './setting-values.js';
import { SETTING_TABLE, type SettingEntry, type SettingSpec, type SettingsSection } from './setting-table.js';

export type { RefreshMode };

type SettingOf = Exclude<Extract<SettingEntry, { setting: string }>, { alias: true } | { adjust: unknown }>;
/** A setting's value: what its `parse` returns, else what its INI type reads. */
type Parsed<E> = E extends { parse: (value: never) => infer R }
  ? R
  : E extends { values: readonly (infer V)[] }
    ? V
    : E extends { type: 'boolean' }
      ? boolean
      : E extends { type: 'list' }
        ? string[]
        : E extends { type: 'duration' | 'timeout' | 'integer' }
          ? number
          : string;
/** Each engine setting keeps where it came from (`Sourced`), so an error can name the flag or the file's key. */
type Value<E> = E extends { sourced: true } ? Sourced<Parsed<E>> : Parsed<E>;
/** Without a default a setting is unset (undefined), except a list (empty) and a plain switch (off). */
type Unset<E> = E extends { default: string } | { type: 'list' }
  ? never
  : E extends { type: 'boolean'; sourced?: never }
    ? never
    : undefined;

/**
 * Everything outside the check sections, from the file's `[policy]`, `[logging]`, `[exporter]`,
 * `[docker]`, `[statsd]`, then flags: one field per setting of the table, of the type its parser gives.
 */
export type Settings = { [E in SettingOf as E['setting']]: Value<E> | Unset<E> };

export type PolicyAction = Settings['action'];

/** How a setting's text is read: the INI option of its type. */
export function optionSpecOf(spec: SettingSpec): OptionSpec {
  return { type: spec.type, description: spec.help, ...(spec.values === undefined ? {} : { values: spec.values }) };
}

/** The setting of `spec` for a typed value (the flag's or the key's); throws a message fit to follow the flag or key. */
export function settingValue(spec: SettingSpec, typed: OptionValue): unknown {
  return spec.parse === undefined ? typed : (spec.parse as (value: OptionValue) => unknown)(typed);
}

/** Each setting's default: its table default parsed, else nothing (an empty list, off). */
function defaultSettings(): Settings {
  const settings: Record<string, unknown> = {};
  for (const spec of SETTING_TABLE as readonly SettingSpec[]) {
    const { setting } = spec;
    if (setting === undefined || spec.adjust !== undefined || spec.alias === true) continue;
    const empty = spec.type === 'list' ? [] : spec.type === 'boolean' && spec.sourced !== true ? false : undefined;
    const typed = spec.default === undefined ? undefined : parseOptionValue(optionSpecOf(spec), spec.default);
    settings[setting] = typed === undefined ? empty : settingValue(spec, typed);
  }
  return settings as unknown as Settings;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = defaultSettings();

/** The keys of each settings section, from the table; `[policy]` also takes the exclusion keys. */
function settingsSections(): Record<SettingsSection, Record<string, OptionSpec>> {
  const sections: Record<SettingsSection, Record<string, OptionSpec>> = { policy: {}, logging: {}, exporter: {}, docker: {}, statsd: {} };
  for (const spec of SETTING_TABLE as readonly SettingSpec[]) {
    if (spec.ini === undefined) continue;
    sections[spec.ini.section][spec.ini.key] = optionSpecOf(spec);
  }
  Object.assign(sections.policy, selectorKeys('exclude_', 'that no check runs on'));
  return sections;
}

/** The keys of each settings section; names match the flags (`--web.listen-address` → `listen_address`). */
export const SETTINGS_SECTIONS: Readonly<Record<string, Readonly<Record<string, OptionSpec>>>> = settingsSections();
