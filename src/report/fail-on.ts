import { isFailure } from '../policy/chain.js';
import { atLeast, checksByName } from '../policy/severity.js';
import type { FailOn } from '../config/setting-table.js';
import type { CheckRun } from './check-run.js';

/**
 * `check`'s exit code for a finished evaluation: 1 when a container failed (with `--fail-on`, only a
 * FAIL or error of a check at least that severe counts), else 0. A container that could not be
 * evaluated counts whatever the threshold: nothing proves it clean. Waived results never count.
 */
export function checkExitCode(run: CheckRun, failOn?: FailOn): 0 | 1 {
  if (run.failed.length > 0) return 1;
  if (failOn === undefined) return run.containers.some((report) => !report.compliant) ? 1 : 0;
  const checks = checksByName(run.checks);
  const counts = (check: string): boolean => atLeast(checks.get(check)?.severity ?? 'medium', failOn);
  return run.containers.some((report) => report.results.some((result) => isFailure(result) && counts(result.check))) ? 1 : 0;
}
