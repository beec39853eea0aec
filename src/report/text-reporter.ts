import { BoundedMap } from '../bounded-map.js';
import type { Logger } from '../log.js';
import { isFailure } from '../policy/chain.js';
import type { ContainerReport } from '../policy/types.js';
import type { ReportListener } from './types.js';
import { rootProcessesOf } from '../checks/root-process-check.js';

/** Containers whose last findings are remembered; past this the oldest are forgotten (and logged again). */
const MAX_REMEMBERED = 10_000;

/**
 * The log cnitch wrote: `Checking image: <image>, id: <container ID>` per container (info),
 * `>> WARNING: found process running as root: <command> pid: <pid>` per root process, then each failed
 * check with its reason (warn). Containers whose image is always allowed get only the first line.
 *
 * An exporter evaluates on every scrape, so a container's lines are written when its findings first
 * appear and whenever they change, not again while they stay the same (each evaluation still gives a
 * debug line). A restart of the container is a change: its new start is logged in full.
 */
export class TextReporter implements ReportListener {
  private readonly lastFindings = new BoundedMap<string, string>(MAX_REMEMBERED);

  constructor(private readonly logger: Logger) {}

  onReport(report: ContainerReport): void {
    const fields = { container: report.name };
    const checking = `Checking image: ${report.image}, id: ${report.id}${report.alwaysAllowed ? ' (always allowed: no checks run)' : ''}`;
    const rootProcesses = report.alwaysAllowed ? [] : (rootProcessesOf(report) ?? []);
    const failures = report.alwaysAllowed ? [] : report.results.filter(isFailure);
    const findings = JSON.stringify([report.startedAt, report.alwaysAllowed, rootProcesses, failures]);
    if (this.lastFindings.get(report.id) === findings) {
      this.logger.debug({ ...fields, imageId: report.imageId }, `${checking} (no change)`);
      return;
    }
    this.lastFindings.set(report.id, findings);
    this.logger.info({ ...fields, imageId: report.imageId }, checking);
    for (const { pid, command } of rootProcesses) {
      this.logger.warn({ ...fields, pid }, `>> WARNING: found process running as root: ${command} pid: ${pid}`);
    }
    for (const result of failures) {
      const verdict = result.result === 'error' ? 'ERROR' : 'FAIL';
      this.logger.warn(
        { ...fields, check: result.check, result: result.result },
        `>> ${verdict} ${result.check}: ${result.reason ?? 'no reason given'}`,
      );
    }
  }
}
