/** Parsers for the value types of INI keys and flags. Each throws a message fit to follow "file [section] key: ". */

const TRUE_WORDS = new Set(['on', 'true', 'yes', '1']);
const FALSE_WORDS = new Set(['off', 'false', 'no', '0']);

export function parseBoolean(value: string): boolean {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new Error(`"${value}" is not a boolean (use on/off, true/false, yes/no or 1/0)`);
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Prometheus-style durations: `500ms`, `30s`, `1m30s`, `24h`, `7d`. Returns milliseconds. */
export function parseDuration(value: string): number {
  const text = value.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ''] ?? 0);
    consumed = part.lastIndex;
  }
  if (text === '' || consumed !== text.length) {
    throw new Error(`"${value}" is not a duration (use e.g. 500ms, 30s, 5m, 1h30m, 24h)`);
  }
  return total;
}

/** The inverse of parseDuration, in the largest whole unit: `250ms`, `30s`, `5m`, `2h`, `1d`. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function parseInteger(value: string, min = Number.MIN_SAFE_INTEGER): number {
  const text = value.trim();
  if (!/^-?\d+$/.test(text) || Number(text) < min) {
    throw new Error(`"${value}" is not a whole number${min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : ''}`);
  }
  return Number(text);
}

/** Comma-separated (newlines also accepted), blanks dropped. */
export function parseList(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function parseEnum<T extends string>(value: string, values: readonly T[]): T {
  const word = value.trim().toLowerCase();
  const found = values.find((candidate) => candidate === word);
  if (found === undefined) throw new Error(`"${value}" is not one of ${values.join(', ')}`);
  return found;
}
