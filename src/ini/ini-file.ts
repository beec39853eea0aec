import { parse } from 'ini';
import { ConfigError } from '../errors.js';
import { quoted } from './values.js';

/** One section of the policy file, with its keys merged over every place it was written. */
export interface IniSection {
  name: string;
  /** Line of the first header. */
  line: number;
  values: Record<string, string>;
  /** Line of each key, for error messages. */
  keyLines: Record<string, number>;
}

export interface IniDocument {
  file: string;
  /** In the order first written. */
  sections: IniSection[];
  /** Things worth a warning that are not errors (a section written twice). */
  warnings: string[];
}

const HEADER = /^\s*\[([^\]]*)\]\s*(?:[;#].*)?$/;
const KEY = /^\s*([^=;#[\s][^=]*?)\s*=/;

/** Python's `key: value` written as `key = value`, so `ini` reads it (configparser accepts both). */
function withEquals(line: string): string {
  const colon = line.indexOf(':');
  const equals = line.indexOf('=');
  if (colon < 0 || (equals >= 0 && equals < colon)) return line;
  return `${line.slice(0, colon)}=${line.slice(colon + 1)}`;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * Splits the file at its section headers (keeping their order and line numbers, which `ini` does not
 * report, and which `ini` would otherwise nest at every dot of `docker_monitor.checks.X`), then lets
 * `ini` parse each section's body (quoting, comments, escapes). As in Python's configparser, which the
 * CFPB tool used: keys are case-insensitive (kept lower-case), `key: value` equals `key = value`, and a
 * line indented deeper than its key continues that key's value on a new line.
 */
export function parseIni(text: string, file: string): IniDocument {
  const sections = new Map<string, IniSection>();
  const warnings: string[] = [];
  let current:
    | {
        section: IniSection;
        body: string[];
        lines: number[];
        lastKey?: { name: string; indent: number };
        continued: Record<string, string[]>;
      }
    | undefined;
  const flush = (): void => {
    if (current === undefined) return;
    const parsed = parse(current.body.join('\n')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(parsed)) {
      const name = key.toLowerCase();
      const first = typeof value === 'string' ? value : String(value);
      current.section.values[name] = [first, ...(current.continued[name] ?? [])].join('\n').trim();
    }
    current.body.forEach((bodyLine, index) => {
      const key = KEY.exec(bodyLine)?.[1]?.toLowerCase();
      if (key !== undefined && current !== undefined) current.section.keyLines[key] = current.lines[index] ?? 0;
    });
  };

  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNumber = index + 1;
    const header = HEADER.exec(raw);
    if (header) {
      flush();
      const name = (header[1] ?? '').trim();
      if (name === '') throw new ConfigError({ file, line: lineNumber }, 'empty section name "[]"');
      let section = sections.get(name);
      if (section === undefined) {
        section = { name, line: lineNumber, values: {}, keyLines: {} };
        sections.set(name, section);
      } else {
        warnings.push(
          `${file}:${lineNumber}: section [${name}] is written again (first at line ${section.line}); its keys are merged and it runs once`,
        );
      }
      current = { section, body: [], lines: [], continued: {} };
      return;
    }
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
    if (current === undefined) {
      // Only the key of a key = value line is shown: its value may be a secret (a token, a password).
      const outside = KEY.exec(withEquals(raw))?.[1];
      const what = outside === undefined ? `the line ${quoted(trimmed)}` : `the key ${quoted(outside)}`;
      throw new ConfigError({ file, line: lineNumber }, `${what} is outside any section (add a [section] header above it)`);
    }
    const lastKey = current.lastKey;
    if (lastKey !== undefined && indentOf(raw) > lastKey.indent) {
      (current.continued[lastKey.name] ??= []).push(trimmed);
      return;
    }
    const line = withEquals(raw);
    const key = KEY.exec(line)?.[1];
    if (key === undefined) {
      // Only its first word: `token s3cret` (a forgotten `=`) must not echo the secret.
      const first = trimmed.split(/\s+/)[0] ?? '';
      throw new ConfigError(
        { file, line: lineNumber, section: current.section.name },
        `${quoted(first === trimmed ? first : `${first} …`)} is not a key = value line`,
      );
    }
    current.lastKey = { name: key.toLowerCase(), indent: indentOf(raw) };
    current.continued[current.lastKey.name] = [];
    current.body.push(line);
    current.lines.push(lineNumber);
  });
  flush();
  return { file, sections: [...sections.values()], warnings };
}
