import { StatsD } from 'hot-shots';
import { UsageError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { isFailure } from '../policy/chain.js';
import type { ContainerReport } from '../policy/types.js';
import type { ReportListener } from './types.js';
import { rootProcessesOf } from '../checks/root-process-check.js';
import { parseHostPort } from '../ini/values.js';

export interface StatsdServer {
  host: string;
  port: number;
}

/** `host:port` or `[v6 address]:port`, as `--statsd-server` and `[statsd] server` take it. */
export function parseStatsdServer(value: string): StatsdServer {
  try {
    const { host = '', port } = parseHostPort(value, { hostOptional: false, minPort: 1 });
    return { host, port };
  } catch {
    throw new UsageError(`StatsD server "${value}" is not host:port (e.g. 127.0.0.1:8125) (--statsd-server or [statsd] server)`);
  }
}

export interface StatsdReporterOptions {
  server: StatsdServer;
  /** cnitch's metrics come out with `cnitch`. */
  prefix: string;
  /** The `host` tag on every metric. */
  hostname: string;
  logger: Logger;
}

/**
 * cnitch's StatsD backend, over UDP with hot-shots in DogStatsD format: per evaluated container,
 * `<prefix>.exception.root_process` counts its root processes (tags `host`, `container`) and
 * `<prefix>.exception.check_failed` counts 1 per failed check (tags `host`, `container`, `check`).
 * UDP sends never wait for the server; send errors are logged (the first at warn, then at debug) and
 * dropped, so an unreachable server costs nothing but the lost metrics.
 */
export class StatsdReporter implements ReportListener {
  private readonly client: StatsD;
  private warned = false;

  constructor(private readonly options: StatsdReporterOptions) {
    this.client = new StatsD({
      host: options.server.host,
      port: options.server.port,
      prefix: options.prefix,
      globalTags: { host: options.hostname },
      // One lookup per minute, not per metric.
      cacheDns: true,
      errorHandler: (error) => this.onError(error),
    });
  }

  private onError(error: Error): void {
    const { server, logger } = this.options;
    const fields = { statsd: `${server.host}:${server.port}`, err: errorMessage(error) };
    if (this.warned) {
      logger.debug(fields, 'StatsD send failed');
      return;
    }
    this.warned = true;
    logger.warn(fields, 'StatsD send failed; metrics to it are dropped (later failures are logged at debug)');
  }

  onReport(report: ContainerReport): void {
    const container = report.name;
    const roots = rootProcessesOf(report)?.length ?? 0;
    if (roots > 0) this.client.increment('exception.root_process', roots, { container });
    for (const result of report.results.filter(isFailure)) {
      this.client.increment('exception.check_failed', 1, { container, check: result.check });
    }
  }

  /** Sends what is in flight (for at most about half a second) and closes the socket. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.client.close((error) => {
        if (error !== undefined) this.onError(error);
        resolve();
      });
    });
  }
}
