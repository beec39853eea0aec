import { parse } from 'ini';
import { ConfigError } from '../errors.js';

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

/**
 * Splits the file at its section headers (keeping their order and line numbers, which `ini` does not
 * report, and which `ini` would otherwise nest at every dot of `docker_monitor.checks.X`), then lets
 * `ini` parse each section's body (quoting, comments, escapes).
 */
export function parseIni(text: string, file: string): IniDocument {
  const sections = new Map<string, IniSection>();
  const warnings: string[] = [];
  let current: { section: IniSection; body: string[]; lines: number[] } | undefined;
  const flush = (): void => {
    if (current === undefined) return;
    const parsed = parse(current.body.join('\n')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(parsed)) {
      current.section.values[key] = typeof value === 'string' ? value : String(value);
    }
    current.body.forEach((bodyLine, index) => {
      const key = KEY.exec(bodyLine)?.[1];
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
      current = { section, body: [], lines: [] };
      return;
    }
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
    if (current === undefined) {
      throw new ConfigError({ file, line: lineNumber }, `"${trimmed}" is outside any section (add a [section] header above it)`);
    }
    if (!trimmed.includes('=')) {
      throw new ConfigError(
        { file, line: lineNumber, section: current.section.name },
        `"${trimmed}" is not a key = value line`,
      );
    }
    current.body.push(raw);
    current.lines.push(lineNumber);
  });
  flush();
  return { file, sections: [...sections.values()], warnings };
}
