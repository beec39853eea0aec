import type { ContainerReport } from '../policy/types.js';

/**
 * Receives every fresh verdict, from `serve` (each refresh and each event) and from `check` (once), so
 * the log, StatsD and enforcement all act on the same evaluation as the metrics.
 */
export interface ReportListener {
  /** Must not throw: a listener logs and counts its own failures. */
  onReport(report: ContainerReport): void | Promise<void>;
  close?(): Promise<void>;
}
