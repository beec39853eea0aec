import type { CheckFormat, FailOn } from '../config/setting-table.js';
import type { CheckRun } from '../report/check-run.js';
import { checkJson, formatCheckTable } from '../report/check-table.js';
import { checkExitCode } from '../report/fail-on.js';

/** The report of one run in the chosen format, written out; resolves to the exit code `--fail-on` gives. */
export async function writeCheckReport(
  run: CheckRun,
  format: CheckFormat,
  write: (text: string) => void,
  failOn: FailOn | undefined,
): Promise<number> {
  if (format === 'json') {
    write(`${JSON.stringify(checkJson(run.containers, run.host, run.failed), null, 2)}\n`);
  } else if (format === 'sarif') {
    // The SARIF and JUnit writers (and JUnit's XML library) load only for their formats.
    const { sarifLog } = await import('../report/sarif.js');
    write(`${JSON.stringify(sarifLog(run), null, 2)}\n`);
  } else if (format === 'junit') {
    const { junitXml } = await import('../report/junit.js');
    write(junitXml(run));
  } else {
    const names = [...new Set(run.checks.filter((check) => check.scope !== 'host').map((check) => check.name))];
    write(`${formatCheckTable(run.containers, run.host, names, run.checks)}\n`);
  }
  return checkExitCode(run, failOn);
}
