/** Parsers of settings' values beyond the INI types (each throws a message fit to follow "where: "), and `-v`'s step. */
import type { LogLevel } from '../log.js';
import { compileGlob } from '../policy/selector.js';
import { parseTimeout } from '../ini/values.js';

/** Engine calls in flight at most: more only queues in the engine (and beyond this is a typo). */
export const MAX_CONCURRENCY = 1024;

/** Python's logging names and ours, lower-cased, to pino's. */
export const LOG_LEVEL_NAMES: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
};

export function parseLogLevel(value: string): LogLevel {
  const level = LOG_LEVEL_NAMES[value.trim().toLowerCase()];
  if (level === undefined) {
    throw new Error(`"${value}" is not a log level (use debug, info, warn, error; or DEBUG, INFO, WARNING, ERROR, CRITICAL)`);
  }
  return level;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

/** `-v` once per step: each makes the level one more verbose, down to debug. */
export function moreVerbose(level: LogLevel, steps: number): LogLevel {
  return LEVELS[Math.max(0, LEVELS.indexOf(level) - steps)] ?? 'debug';
}

/** `scrape`, or the background refresh interval in milliseconds. */
export type RefreshMode = 'scrape' | number;

export function parseRefresh(value: string): RefreshMode {
  if (value.trim().toLowerCase() === 'scrape') return 'scrape';
  const ms = parseTimeout(value);
  if (ms < 100) throw new Error(`"${value}" is too short a refresh interval (at least 100ms)`);
  return ms;
}

/** Label names or globs for --metrics.container-labels; each checked as a glob. */
export function parseLabelGlobs(globs: string[]): string[] {
  for (const glob of globs) compileGlob(glob);
  return globs;
}

/** An absolute http(s) URL, as the browser will follow it. */
export function parseHttpUrl(value: string): string {
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new Error(`"${value}" is not an http:// or https:// URL`);
  return value;
}
