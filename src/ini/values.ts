/** Parsers for the value types of INI keys and flags. Each throws a message fit to follow "file [section] key: ". */
import { escapeControl } from '../control-characters.js';

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

/** The longest wait a Node.js timer holds (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration something waits for (a timeout, an interval): more than 0 and within what a timer holds. */
export function parseTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms <= 0) throw new Error(`"${value}" must be longer than 0`);
  if (ms > MAX_TIMER_MS) throw new Error(`"${value}" is too long (at most 24d)`);
  return ms;
}

/** `text` quoted for an error message: one line, control characters escaped, at most `max` characters. */
export function quoted(text: string, max = 60): string {
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  return escapeControl(JSON.stringify(short));
}

/** The inverse of parseDuration, in the largest whole unit: `250ms`, `30s`, `5m`, `2h`, `1d`. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * `host:port`, `[v6]:port`, or `:port` where the host may be left out (undefined host). Throws when the
 * text is none of these or the port is outside `minPort`–65535; the caller words the message.
 */
export function parseHostPort(
  text: string,
  options: { hostOptional: boolean; minPort: number },
): { host: string | undefined; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.%a-z]+)\]|([A-Za-z0-9._-]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2] ?? '';
  if (match === null || !(port >= options.minPort && port <= 65_535) || (host === '' && !options.hostOptional)) {
    throw new Error(`"${text}" is not host:port`);
  }
  return { host: host === '' ? undefined : host, port };
}

export function parseInteger(value: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const text = value.trim();
  if (!/^-?\d+$/.test(text) || Number(text) < min) {
    throw new Error(`"${value}" is not a whole number${min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : ''}`);
  }
  if (Number(text) > max) throw new Error(`${quoted(value)} is more than ${max}`);
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

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** A size such as `256MiB`, `1GiB`, `64k` or a plain byte count, in bytes, between `min` and `max`. */
export function parseSize(value: string, min: number, max: number): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'none'];
  const bytes = match === null || unit === undefined ? Number.NaN : Math.round(Number(match[1]) * unit);
  if (!(bytes >= min && bytes <= max)) {
    throw new Error(`${quoted(value)} is not a size from ${formatSize(min)} to ${formatSize(max)} (such as 256MiB)`);
  }
  return bytes;
}

export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
