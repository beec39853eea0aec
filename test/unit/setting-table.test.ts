/**
 * `--help` and docs/configuration.md cannot disagree with src/config/setting-table.ts: every flag the
 * help of `serve`, `check` and `healthcheck` lists is in the table with its help, default and
 * environment variable, and nothing else is; the settings tables of docs/configuration.md are the
 * table's rows (flag, INI key, environment variable, type, default, meaning). After changing the
 * table, `UPDATE_DOCS=1 node --import tsx --test test/unit/setting-table.test.ts` writes the docs'
 * tables again; commit the diff with the change.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SETTING_TABLE, helpLine, negationHelpLine, type CommandName, type SettingSpec } from '../../src/config/setting-table.js';
import { SETTINGS_SECTIONS } from '../../src/config/settings.js';
import { runToEnd } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/monitoring-files.js';

const TABLE: readonly SettingSpec[] = SETTING_TABLE;
const CONFIGURATION_MD = join(REPO_ROOT, 'docs/configuration.md');

// ---------------------------------------------------------------- the docs' tables, made from the table

/** The docs' groups of settings, each a table between `<!-- settings:NAME -->` and `<!-- /settings -->`. */
const GROUPS: Readonly<Record<string, (spec: SettingSpec) => boolean>> = {
  both: (spec) => spec.commands.includes('serve') && spec.commands.includes('check'),
  serve: (spec) => spec.commands.includes('serve') && !spec.commands.includes('check'),
  file: (spec) => spec.commands.length === 0,
  check: (spec) => spec.commands.length === 1 && spec.commands[0] === 'check',
};

function code(text: string): string {
  return `\`${text}\``;
}

function flagCell(spec: SettingSpec): string {
  if (spec.flag === undefined) return '';
  const argument = spec.argument === undefined ? '' : ` ${spec.argument.slice(1, -1).toUpperCase()}`;
  const names = [...(spec.short === undefined ? [] : [code(spec.short)]), code(`${spec.flag}${argument}`)];
  if (spec.negation !== undefined) names.push(code(`--no-${spec.flag.slice(2)}`));
  return `${names.join(', ')}${spec.repeatable === true || spec.adjust !== undefined ? ' (repeatable)' : ''}`;
}

function iniCell(spec: SettingSpec): string {
  return spec.ini === undefined ? '' : code(`[${spec.ini.section}] ${spec.ini.key}`);
}

function typeCell(spec: SettingSpec): string {
  if (spec.docType !== undefined) return spec.docType;
  if (spec.adjust !== undefined) return 'switch';
  const values = spec.values ?? spec.choices;
  if (values !== undefined) return values.map(code).join(', ');
  return { boolean: 'boolean', list: 'list', duration: 'duration', timeout: 'duration', string: 'text', integer: 'whole number', enum: '' }[
    spec.type
  ];
}

function defaultCell(spec: SettingSpec): string {
  if (spec.default !== undefined) return code(spec.default);
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.negation?.isDefault === true && spec.flag !== undefined) return `off (${code(`--no-${spec.flag.slice(2)}`)})`;
  if (spec.type === 'boolean' && spec.adjust === undefined) return 'off';
  if (spec.type === 'list' && spec.repeatable !== true) return 'empty';
  return '';
}

function renderGroup(name: string): string {
  const file = name === 'file';
  const check = name === 'check';
  const columns = [
    ...(file ? [] : ['flag']),
    ...(check ? [] : ['INI key']),
    ...(check || file ? [] : ['environment']),
    ...(check ? [] : ['type']),
    'default',
    'meaning',
  ];
  const rows = TABLE.filter(GROUPS[name] ?? (() => false)).map((spec) =>
    [
      ...(file ? [] : [flagCell(spec)]),
      ...(check ? [] : [iniCell(spec)]),
      ...(check || file ? [] : [spec.env === undefined ? '' : code(spec.env)]),
      ...(check ? [] : [typeCell(spec)]),
      defaultCell(spec),
      spec.doc ?? spec.help,
    ].map((cell) => cell.replaceAll('|', '\\|')),
  );
  return [columns, columns.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const MARKER = /<!-- settings:(\w+) -->\n[\s\S]*?<!-- \/settings -->/g;

function renderedDocs(text: string): string {
  return text.replace(MARKER, (_, name: string) => `<!-- settings:${name} -->\n${renderGroup(name)}\n<!-- /settings -->`);
}

/** The cells of every row of the generated tables, by group. */
function docRows(text: string): Map<string, string[][]> {
  const groups = new Map<string, string[][]>();
  for (const match of text.matchAll(MARKER)) {
    const rows = match[0]
      .split('\n')
      .filter((line) => line.startsWith('| '))
      .slice(2)
      .map((line) => line.slice(2, -2).split(' | '));
    groups.set(match[1] ?? '', rows);
  }
  return groups;
}

describe('docs/configuration.md and the setting table', () => {
  const docs = readFileSync(CONFIGURATION_MD, 'utf8');

  test('the settings tables are those made from the table (UPDATE_DOCS=1 writes them)', () => {
    const expected = renderedDocs(docs);
    if (process.env['UPDATE_DOCS'] === '1' && expected !== docs) writeFileSync(CONFIGURATION_MD, expected);
    assert.deepEqual([...docRows(docs).keys()].sort(), Object.keys(GROUPS).sort(), 'every group has its table in the docs');
    assert.equal(docs, expected, 'docs/configuration.md differs from the setting table: run UPDATE_DOCS=1 on this test and commit');
  });

  test("each setting's flag, INI key, environment variable and default are in its row, and every row is a setting", () => {
    const rows = [...docRows(docs).values()].flat();
    assert.equal(rows.length, TABLE.length, 'one row per setting');
    for (const spec of TABLE) {
      const name = spec.flag ?? `[${spec.ini?.section}] ${spec.ini?.key}`;
      const row = rows.find((cells) =>
        spec.flag === undefined ? cells[0] === code(name) : [' ', '`'].some((end) => (cells[0] ?? '').includes(`\`${spec.flag}${end}`)),
      );
      assert.ok(row !== undefined, `a row for ${name}`);
      const text = row.join(' | ');
      if (spec.ini !== undefined) assert.ok(text.includes(code(`[${spec.ini.section}] ${spec.ini.key}`)), `${name}: INI key in ${text}`);
      if (spec.env !== undefined) assert.ok(text.includes(code(spec.env)), `${name}: ${spec.env} in ${text}`);
      const shownDefault = spec.default ?? spec.defaultText;
      if (shownDefault !== undefined) assert.ok(text.includes(shownDefault), `${name}: default ${shownDefault} in ${text}`);
    }
    const flagsInDocs = new Set(rows.flatMap((cells) => [...(cells[0] ?? '').matchAll(/`(--[\w.-]+)/g)].map((match) => match[1] ?? '')));
    const tableFlags = new Set(
      TABLE.flatMap((spec) => (spec.flag === undefined ? [] : [spec.flag, ...(spec.negation ? [`--no-${spec.flag.slice(2)}`] : [])])),
    );
    assert.deepEqual([...flagsInDocs].sort(), [...tableFlags].sort());
  });

  test('every key of the settings sections is documented (the exclusion keys in their own paragraph)', () => {
    const rows = [...docRows(docs).values()].flat().map((cells) => cells.join(' | '));
    for (const [section, keys] of Object.entries(SETTINGS_SECTIONS)) {
      for (const key of Object.keys(keys)) {
        if (key.startsWith('exclude_')) assert.ok(docs.includes(code(key)), key);
        else
          assert.ok(
            rows.some((row) => row.includes(code(`[${section}] ${key}`))),
            `[${section}] ${key} has a row`,
          );
      }
    }
  });
});

// ---------------------------------------------------------------- --help, as a user runs it

/** `--help` of a command: each option's terms (`-f, --config-file <path>`) and its description, lines joined. */
async function helpOf(command: CommandName): Promise<Map<string, string>> {
  const {
    code: exit,
    stdout,
    stderr,
  } = await runToEnd(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), command, '--help']);
  assert.equal(exit, 0, stderr);
  const options = new Map<string, string>();
  let current: string | undefined;
  for (const line of stdout.slice(stdout.indexOf('Options:\n')).split('\n').slice(1)) {
    const start = /^ {2}(-\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (start !== null) {
      current = start[1] ?? '';
      options.set(current, start[2] ?? '');
    } else if (current !== undefined && line.trim() !== '') {
      options.set(current, `${options.get(current) ?? ''} ${line.trim()}`.trim());
    }
  }
  options.delete('-h, --help');
  return options;
}

function termOf(spec: SettingSpec & { flag: string }): string {
  return `${spec.short === undefined ? '' : `${spec.short}, `}${spec.flag}${spec.argument === undefined ? '' : ` ${spec.argument}`}`;
}

for (const command of ['serve', 'check', 'healthcheck'] as const) {
  test(`${command} --help lists exactly the table's flags for ${command}, with their help, default and environment variable`, async () => {
    const help = await helpOf(command);
    const specs = TABLE.filter(
      (spec): spec is SettingSpec & { flag: string } => spec.flag !== undefined && spec.commands.includes(command),
    );
    const expected = specs.flatMap((spec) => [termOf(spec), ...(spec.negation === undefined ? [] : [`--no-${spec.flag.slice(2)}`])]);
    assert.deepEqual([...help.keys()], expected, `${command} --help lists the table's flags in its order, and no other`);
    for (const spec of specs) {
      const description = help.get(termOf(spec)) ?? '';
      assert.ok(description.startsWith(spec.helpIn?.[command] ?? spec.help), `${spec.flag}: "${description}"`);
      assert.ok(description.startsWith(helpLine(spec, command)), `${spec.flag}: "${description}"`);
      const { default: value } = spec;
      if (value !== undefined)
        assert.ok(
          [`default: ${value})`, `default: "${value}")`].some((text) => description.includes(text)),
          spec.flag,
        );
      if (spec.defaultText !== undefined)
        assert.ok(description.includes(`(default: ${spec.defaultText})`), `${spec.flag}: "${description}"`);
      if (spec.env !== undefined) assert.ok(description.includes(`$${spec.env}`), `${spec.flag} names $${spec.env}: "${description}"`);
      if (spec.choices !== undefined)
        assert.ok(description.includes(`(choices: ${spec.choices.map((choice) => `"${choice}"`).join(', ')}`), spec.flag);
      const negation = negationHelpLine(spec, command);
      if (negation !== undefined) assert.equal(help.get(`--no-${spec.flag.slice(2)}`), negation);
    }
  });
}
