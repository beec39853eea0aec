import type { ContainerReport, WaiverRef } from '../policy/types.js';

/** `waived by legacy-root until 2026-12-31: moving to a non-root image in Q1`, as `check`'s table words it. */
export function waiverText(waiver: WaiverRef): string {
  return `waived by ${waiver.name}${waiver.expires === undefined ? '' : ` until ${waiver.expires}`}: ${waiver.reason}`;
}

/** Why a check of the chain has no result on this container. */
export function notRunText(report: ContainerReport, check: string): string {
  if (report.alwaysAllowed) return 'not run: the image is in [policy] always_allow';
  if (report.excluded?.includes(check) === true) return 'excluded: an exclude_* key of the policy keeps this check off this container';
  const last = report.results.at(-1);
  if (last?.result === 'pass_fast') return `not run: ${last.check} passed fast`;
  return 'not run: fail_fast stopped the chain at the first failure';
}
