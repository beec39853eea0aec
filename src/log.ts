import { createRequire } from 'node:module';
import { closeSync, fstatSync, mkdirSync, openSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { escapeControl, hasControl } from './control-characters.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LogFormat = 'text' | 'logfmt' | 'json';

export type { Logger } from 'pino';

export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
  /** Append to this file instead of standard error. */
  file?: string | undefined;
  hostname?: string | undefined;
}

/** Fields never written as they are: tokens and credentials. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
];

/** Why a log record was not written, as the `reason` label of docker_monitor_log_records_dropped_total. */
export type DropReason = 'no_space' | 'write_error';

/** What a logger writes to: one formatted record per `write`. `reopen` follows a rotated or deleted log file. */
export interface LogSink {
  write(line: string): void;
  reopen(): void;
}

export interface LoggerWithSink {
  logger: Logger;
  /** Reopens the log file (SIGHUP, `/-/reload`); nothing to do on standard error. */
  reopen: () => void;
}

/**
 * Structured logs with pino. `json`: one object per line for log shippers. `logfmt`: promslog's keys
 * (`time`, `level`, `msg`, then the fields), as Go exporters write and Loki's `| logfmt` reads. `text`: one
 * readable line per record (time, level, message, then the fields), for people. Records that cannot be
 * written (a full disk) are counted through `onDrop`, and writing resumes by itself once it can.
 */
export function createLogger(options: LogOptions, onDrop: (reason: DropReason) => void = () => undefined): LoggerWithSink {
  const sink: LogSink = options.file === undefined ? new DescriptorSink(2, onDrop) : new FileSink(options.file, onDrop);
  const base = options.hostname === undefined ? {} : { host: options.hostname };
  const common = { level: options.level, base, redact: REDACTED_PATHS };
  if (options.format === 'json') {
    return { logger: pino({ ...common, timestamp: pino.stdTimeFunctions.isoTime }, sink), reopen: () => sink.reopen() };
  }
  if (options.format === 'logfmt') {
    const logfmt = { write: (line: string) => sink.write(toLogfmt(line)) };
    return {
      logger: pino({ ...common, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, logfmt),
      reopen: () => sink.reopen(),
    };
  }
  const logger = pino(
    // pino-pretty prints the error key's field on lines of its own: keep it off `err`, our one-line field.
    { ...common, errorKey: 'error_object' },
    prettyOnFirstLine(
      {
        colorize: false,
        translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
        ignore: 'pid,hostname,host',
        singleLine: true,
        errorLikeObjectKeys: [],
        // One record, one line: a container's name, command line or a check's reason may hold newlines or
        // terminal escapes, which must not forge lines or recolour the terminal. JSON escapes them itself.
        messageFormat: (log, messageKey) => {
          const message = log[messageKey];
          return escapeControl(typeof message === 'string' ? message : JSON.stringify(message ?? ''));
        },
      },
      sink,
    ),
  );
  return { logger, reopen: () => sink.reopen() };
}

/** pino's levels as promslog (Go's slog) writes them. */
const LOGFMT_LEVELS: Readonly<Record<string, string>> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };

/** A logfmt value: bare when it can be, else quoted with Go's escapes (control characters included). */
function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return text !== '' && !/[\s"=\\]/.test(text) && !hasControl(text) ? text : escapeControl(JSON.stringify(text));
}

/** One pino JSON record as a logfmt line: `time`, `level`, `source` when a record names one, `msg`, then the rest. */
export function toLogfmt(line: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  const { time, level, source, msg, pid: _pid, hostname: _hostname, ...fields } = record;
  const pairs: [string, unknown][] = [
    ['time', time],
    ['level', LOGFMT_LEVELS[String(level)] ?? level],
    ...(source === undefined ? [] : [['source', source] as [string, unknown]]),
    ['msg', msg ?? ''],
    ...Object.entries(fields),
  ];
  return `${pairs.map(([key, value]) => `${key.replace(/[\s="]/g, '_')}=${logfmtValue(value)}`).join(' ')}\n`;
}

/** How often a log file's path is looked at, to notice it was deleted or moved away (logrotate's `create`). */
const FILE_CHECK_MS = 1_000;

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Writes whole records to a descriptor, synchronously; a record that cannot be written is counted, not retried. */
class DescriptorSink implements LogSink {
  constructor(
    protected fd: number,
    private readonly onDrop: (reason: DropReason) => void,
  ) {}

  write(line: string): void {
    const bytes = Buffer.from(line);
    let written = 0;
    let busy = 0;
    try {
      while (written < bytes.length) {
        try {
          written += writeSync(this.fd, bytes, written);
        } catch (error) {
          // A full pipe (a slow reader of standard error): wait a moment, a few times, as pino's own destination does.
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || ++busy > 100) throw error;
          Atomics.wait(PAUSE, 0, 0, 1);
        }
      }
    } catch (error) {
      this.onDrop((error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'no_space' : 'write_error');
    }
  }

  reopen(): void {}
}

/**
 * A log file opened for appending. It is reopened on request (SIGHUP after logrotate moved it) and when a
 * look at its path, at most once a second, finds it gone or replaced; `copytruncate` needs nothing, as
 * appends follow the truncation.
 */
class FileSink extends DescriptorSink {
  private identity: string;
  private checkedAt = 0;

  constructor(
    private readonly path: string,
    onDrop: (reason: DropReason) => void,
  ) {
    super(openLog(path), onDrop);
    this.identity = identityOf(fstatSync(this.fd));
  }

  override write(line: string): void {
    const now = Date.now();
    if (now - this.checkedAt >= FILE_CHECK_MS) {
      this.checkedAt = now;
      const stats = statSync(this.path, { throwIfNoEntry: false });
      if (stats === undefined || identityOf(stats) !== this.identity) this.reopen();
    }
    super.write(line);
  }

  override reopen(): void {
    try {
      const fd = openLog(this.path);
      closeSync(this.fd);
      this.fd = fd;
      this.identity = identityOf(fstatSync(fd));
    } catch {
      // The folder is gone or not writable: keep writing to the open file; the next look tries again.
    }
  }
}

function identityOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

function openLog(path: string): number {
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, 'a');
}

const require = createRequire(import.meta.url);

/**
 * pino-pretty's formatter, made at the first line written: a run that logs nothing (a quiet `check`) never
 * loads it and its dependencies. pino-pretty is CommonJS, so it loads synchronously, in order.
 */
function prettyOnFirstLine(options: PrettyOptions, sink: LogSink): DestinationStream {
  let format: ((line: string) => string) | undefined;
  return {
    write(line: string): void {
      format ??= (require('pino-pretty') as { prettyFactory: (options: PrettyOptions) => (line: string) => string }).prettyFactory(options);
      sink.write(format(line));
    },
  };
}
