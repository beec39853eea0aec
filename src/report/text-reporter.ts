import type { Logger } from '../log.js';
import { isFailure } from '../policy/chain.js';
import type { ContainerReport } from '../policy/types.js';
import type { ReportListener } from './types.js';

/**
 * The log cnitch wrote, one evaluation at a time: `Checking image: <image>, id: <container ID>` per
 * container (info), `>> WARNING: found process running as root: <command> pid: <pid>` per root
 * process, then each failed check with its reason (warn). Containers whose image is always allowed get
 * only the first line.
 */
export class TextReporter implements ReportListener {
  constructor(private readonly logger: Logger) {}

  onReport(report: ContainerReport): void {
    const fields = { container: report.name };
    this.logger.info(
      { ...fields, imageId: report.imageId },
      `Checking image: ${report.image}, id: ${report.id}${report.alwaysAllowed ? ' (always allowed: no checks run)' : ''}`,
    );
    if (report.alwaysAllowed) return;
    for (const { pid, command } of report.rootProcessList ?? []) {
      this.logger.warn({ ...fields, pid }, `>> WARNING: found process running as root: ${command} pid: ${pid}`);
    }
    for (const result of report.results.filter(isFailure)) {
      const verdict = result.result === 'error' ? 'ERROR' : 'FAIL';
      this.logger.warn({ ...fields, check: result.check, result: result.result }, `>> ${verdict} ${result.check}: ${result.reason ?? 'no reason given'}`);
    }
  }
}
