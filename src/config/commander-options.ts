import { Option, type Command } from 'commander';
import { SETTING_TABLE, helpLine, negationHelpLine, type CommandName, type SettingSpec } from './setting-table.js';

/** A repeatable flag's values, in order. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function optionOf(spec: SettingSpec & { flag: string }, command: CommandName): Option {
  const flags = `${spec.short === undefined ? '' : `${spec.short}, `}${spec.flag}${spec.argument === undefined ? '' : ` ${spec.argument}`}`;
  const option = new Option(flags, helpLine(spec, command));
  if (spec.repeatable === true) option.argParser(collect);
  if (spec.adjust !== undefined) option.argParser((_: string, count: number) => count + 1).default(0);
  if (spec.choices !== undefined) {
    option.choices(spec.choices);
    if (spec.default !== undefined) option.default(spec.default);
  }
  return option;
}

/** Adds the options of `command` from the setting table, in the table's order. */
export function addSettingOptions(target: Command, command: CommandName): Command {
  for (const spec of SETTING_TABLE as readonly SettingSpec[]) {
    const { flag } = spec;
    if (flag === undefined || !spec.commands.includes(command)) continue;
    target.addOption(optionOf({ ...spec, flag }, command));
    const negation = negationHelpLine(spec, command);
    if (negation !== undefined) target.addOption(new Option(`--no-${flag.slice(2)}`, negation));
  }
  return target;
}
