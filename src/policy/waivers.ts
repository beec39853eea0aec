import type { CheckResult, ContainerReport, WaiverRef } from './types.js';
import { isFailure } from './chain.js';
import type { ContainerSelector, SelectorTarget } from './selector.js';

/** `[waiver:NAME]`: FAILs of `checks` on the containers `selector` names become `waived` until `expiresAt`. */
export interface Waiver {
  name: string;
  checks: ReadonlySet<string>;
  selector: ContainerSelector;
  reason: string;
  /** As written: YYYY-MM-DD. */
  expires: string | undefined;
  /** Unix milliseconds of the start of that day, UTC. */
  expiresAt: number | undefined;
}

export const WAIVER_SECTION_PREFIX = 'waiver:';

/** Unix milliseconds of the start of a `YYYY-MM-DD` day, UTC; throws a message fit for a config error. */
export function parseExpiryDate(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const [year, month, day] = (match?.slice(1) ?? []).map(Number);
  if (year !== undefined && month !== undefined && day !== undefined) {
    const at = Date.UTC(year, month - 1, day);
    const date = new Date(at);
    // Date.UTC rolls 2026-02-30 over to March: a day that does not exist is refused, not moved.
    if (date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day) return at;
  }
  throw new Error(`"${text}" is not a date (use YYYY-MM-DD, e.g. 2027-01-31; the waiver ends at the start of that day, UTC)`);
}

function refOf(waiver: Waiver): WaiverRef {
  return { name: waiver.name, reason: waiver.reason, expires: waiver.expires };
}

/**
 * The policy's waivers and the clock they are read against. Applied to a container's results after the
 * chain, so a waiver that expires turns its results back into FAILs without running any check again.
 */
export class WaiverSet {
  constructor(
    readonly waivers: readonly Waiver[],
    /** Unix milliseconds; injectable so tests can move past an expiry date. */
    readonly now: () => number = Date.now,
  ) {}

  get empty(): boolean {
    return this.waivers.length === 0;
  }

  /** Whether image references could decide a match, so the image's tags are worth reading. */
  get needsImageReferences(): boolean {
    return this.waivers.some((waiver) => waiver.selector.hasImageReferences);
  }

  private active(waiver: Waiver, now: number): boolean {
    return waiver.expiresAt === undefined || now < waiver.expiresAt;
  }

  /** Whether any waiver, active or not, names this check for this container (`fail_fast` then goes on). */
  covers(check: string, target: SelectorTarget): boolean {
    return this.waivers.some((waiver) => waiver.checks.has(check) && waiver.selector.matches(target));
  }

  /**
   * FAILs covered by an active waiver become `waived`, carrying the waiver that lasts longest, so no
   * other matching waiver is still active when that one ends. Results are copied, never edited: image
   * verdicts are shared between containers.
   */
  apply(results: readonly CheckResult[], target: SelectorTarget): CheckResult[] {
    if (this.empty) return [...results];
    const now = this.now();
    return results.map((result) => {
      if (result.result !== 'fail') return result;
      let best: Waiver | undefined;
      for (const waiver of this.waivers) {
        if (!waiver.checks.has(result.check) || !this.active(waiver, now) || !waiver.selector.matches(target)) continue;
        if (best === undefined || (best.expiresAt !== undefined && (waiver.expiresAt === undefined || waiver.expiresAt > best.expiresAt)))
          best = waiver;
      }
      return best === undefined ? result : { ...result, result: 'waived', waiver: refOf(best) };
    });
  }

  /** The report with every waiver that has ended by now undone (the same object when nothing ended). */
  expire(report: ContainerReport): ContainerReport {
    const now = this.now();
    const ended = (result: CheckResult): boolean => {
      if (result.result !== 'waived' || result.waiver === undefined) return false;
      const waiver = this.waivers.find((candidate) => candidate.name === result.waiver?.name);
      return waiver !== undefined && !this.active(waiver, now);
    };
    if (!report.results.some(ended)) return report;
    const results = report.results.map((result): CheckResult => {
      if (!ended(result)) return result;
      const { waiver: _ended, ...rest } = result;
      return { ...rest, result: 'fail' };
    });
    return { ...report, results, compliant: !results.some(isFailure) };
  }

  /** The next expiry after now, in Unix milliseconds. */
  nextExpiry(): number | undefined {
    const now = this.now();
    const upcoming = this.waivers.map((waiver) => waiver.expiresAt).filter((at): at is number => at !== undefined && at > now);
    return upcoming.length === 0 ? undefined : Math.min(...upcoming);
  }
}
