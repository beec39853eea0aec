import { UsageError, errorMessage } from '../errors.js';
import { parseOptionValue } from '../policy/options.js';
import type { OptionValue } from '../policy/types.js';
import { SETTING_TABLE, attributeOf, type Flags, type SettingSpec } from './setting-table.js';
import { optionSpecOf, settingValue, type Settings } from './settings.js';

/** The flags `serve` (and `check`, `healthcheck`) pass on: every one optional, so the file's value stands when a flag is absent. */
export type ServeFlags = Flags;

/** A flag's value as the table's parser makes it; a bad one is a usage error naming the flag. */
function flagValue(spec: SettingSpec, flag: string, given: unknown): unknown {
  try {
    // A switch gives a boolean, a repeatable flag a list of its values: both already of their type.
    const typed = typeof given === 'string' ? parseOptionValue(optionSpecOf(spec), given) : (given as OptionValue);
    return settingValue(spec, typed);
  } catch (error) {
    throw new UsageError(`${flag}: ${errorMessage(error)}`);
  }
}

/** Flags win over the file; `-v` counts from whichever level was chosen. DOCKER_HOST and friends are read where the engine is chosen. */
export function applyFlags(settings: Settings, flags: ServeFlags): Settings {
  const result: Record<string, unknown> = { ...settings };
  const given = flags as Readonly<Record<string, unknown>>;
  const setBy = new Map<string, string>();
  const replaced: string[] = [];
  const adjustments: { spec: SettingSpec; setting: string; count: number }[] = [];
  const values: { spec: SettingSpec; flag: string; setting: string; value: unknown }[] = [];
  for (const spec of SETTING_TABLE as readonly SettingSpec[]) {
    const { flag, setting } = spec;
    if (flag === undefined || setting === undefined) continue;
    const value = given[attributeOf(flag)];
    if (value === undefined) continue;
    if (spec.adjust !== undefined) {
      if (typeof value === 'number' && value > 0) adjustments.push({ spec, setting, count: value });
      continue;
    }
    const earlier = setBy.get(setting);
    if (earlier !== undefined) throw new UsageError(`${earlier} and ${flag} mean the same thing: give one of them`);
    setBy.set(setting, flag);
    values.push({ spec, flag, setting, value });
  }
  for (const { spec, flag, setting, value } of values) {
    const parsed = flagValue(spec, flag, value);
    result[setting] = spec.sourced === true ? { value: parsed, source: flag } : parsed;
    if (spec.replaces !== undefined) replaced.push(spec.replaces);
  }
  // A flag naming the engine one way replaces the file's choice made the other way.
  for (const setting of replaced) if (!setBy.has(setting)) result[setting] = undefined;
  for (const { spec, setting, count } of adjustments)
    result[setting] = (spec.adjust as (value: unknown, count: number) => unknown)(result[setting], count);
  return result as unknown as Settings;
}
