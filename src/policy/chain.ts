import { errorMessage } from '../errors.js';

/** Thrown by a view when a check asks for what the target cannot give yet (a compose service's processes): `not_applicable`. */
export class NotApplicableError extends Error {}
import type { CheckInstance, CheckResult, ContainerView, HostView } from './types.js';

/** Longest reason kept: a reason is read by people on a page or in a log line, and kept for every container. */
export const MAX_REASON_CHARS = 1_000;

function boundedReason(reason: string): string {
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}… (${reason.length} characters, cut)` : reason;
}

/**
 * Runs one check with its timeout. A check that throws, times out or returns nonsense gives `error`:
 * counted, treated as FAIL for the verdict, and never in the way of the other checks.
 */
export async function runCheck<T extends ContainerView | HostView>(
  check: CheckInstance,
  viewFor: (signal: AbortSignal, check: CheckInstance) => T,
): Promise<CheckResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${check.timeoutMs} ms`));
    }, check.timeoutMs);
  });
  try {
    const outcome = await Promise.race([check.run(viewFor(controller.signal, check)), timeout]);
    const result: CheckResult = {
      check: check.name,
      result: outcome.result,
      reason: outcome.reason === undefined ? undefined : boundedReason(outcome.reason),
    };
    if (outcome.data !== undefined) result.data = outcome.data;
    return result;
  } catch (error) {
    if (error instanceof NotApplicableError) return { check: check.name, result: 'not_applicable', reason: error.message };
    return { check: check.name, result: 'error', reason: boundedReason(errorMessage(error)) };
  } finally {
    clearTimeout(timer);
  }
}

/** A container-scoped result kept for the next chain on that container, with the state of the inputs it came from. */
export interface MemoizedResult {
  inputsKey: string;
  result: CheckResult;
}

export interface ChainOptions {
  failFast: boolean;
  /**
   * Verdicts of image-scoped checks by `section \0 imageId`, each with the image data it was computed
   * from: reused across containers and refreshes while that data is the same.
   */
  imageVerdicts: Map<string, ImageVerdict>;
  imageId: string;
  /** The image's data as a key (its ID, references and digests); undefined when it could not be read: the checks run, nothing is kept. */
  imageKey?: string | undefined;
  /** Checks excluded for this container: not run, no result. */
  excluded?: (check: CheckInstance) => boolean;
  /** FAILs a waiver covers: `fail_fast` does not stop at them, so the FAILs after them are still found. */
  waivable?: (result: CheckResult) => boolean;
  /** This container's results from its last chain, by section: one whose inputs are unchanged is reused, not run. */
  previous?: ReadonlyMap<string, MemoizedResult> | undefined;
  /** The state of a check's inputs now, as a key that differs whenever one of them has changed; throws when unreadable. */
  inputsKey?: ((check: CheckInstance) => Promise<string>) | undefined;
}

/** An image-scoped check's verdict (in flight or settled) and the image data it is for. */
export interface ImageVerdict {
  imageKey: string;
  verdict: Promise<CheckResult>;
}

export interface ChainOutcome {
  results: CheckResult[];
  compliant: boolean;
  /** The container-scoped results to hand back as `previous` next time (errors are not kept: they are retried). */
  memo: Map<string, MemoizedResult>;
}

/** A container-scoped check's result: the last one when its inputs are unchanged, else a new run. */
async function containerResult(
  check: CheckInstance,
  viewFor: (signal: AbortSignal, check: CheckInstance) => ContainerView,
  options: ChainOptions,
  memo: Map<string, MemoizedResult>,
): Promise<CheckResult> {
  const keyOf = async (): Promise<string | undefined> => options.inputsKey?.(check).catch(() => undefined);
  const previous = options.previous?.get(check.section);
  // Taken before and after the run: a result is kept only when its inputs did not change while it ran
  // (an event may drop cached data mid-run), so a kept result is always the one its key stands for.
  const before = await keyOf();
  if (previous !== undefined && before === previous.inputsKey) {
    memo.set(check.section, previous);
    return previous.result;
  }
  const result = await runCheck(check, viewFor);
  if (before === undefined || result.result === 'error') return result;
  if ((await keyOf()) === before) memo.set(check.section, { inputsKey: before, result });
  return result;
}

/**
 * An image-scoped check's result: shared by the containers of one image while the image's data (ID,
 * references, digests) is the one it was computed from; a tag or untag makes it run again.
 */
function imageResult(
  check: CheckInstance,
  viewFor: (signal: AbortSignal, check: CheckInstance) => ContainerView,
  options: ChainOptions,
): Promise<CheckResult> {
  const { imageKey, imageVerdicts } = options;
  if (imageKey === undefined) return runCheck(check, viewFor);
  const key = `${check.section}\u0000${options.imageId}`;
  const kept = imageVerdicts.get(key);
  if (kept?.imageKey === imageKey) return kept.verdict;
  // Kept while it runs, so containers of one image evaluated together share one run; an error is not kept.
  const entry: ImageVerdict = { imageKey, verdict: runCheck(check, viewFor) };
  imageVerdicts.set(key, entry);
  void entry.verdict.then((settled) => {
    if (settled.result === 'error' && imageVerdicts.get(key) === entry) imageVerdicts.delete(key);
  });
  return entry.verdict;
}

export function isFailure(result: CheckResult): boolean {
  return result.result === 'fail' || result.result === 'error';
}

/**
 * The CFPB chain: checks in file order; PASS_FAST ends the chain as passed; FAIL (or error) makes the
 * container non-compliant and, with `fail_fast`, ends the chain. Host-scoped checks are not run here,
 * nor excluded ones; waivers are applied to the results afterwards (WaiverSet).
 */
export async function runChain(
  checks: readonly CheckInstance[],
  viewFor: (signal: AbortSignal, check: CheckInstance) => ContainerView,
  options: ChainOptions,
): Promise<ChainOutcome> {
  const results: CheckResult[] = [];
  const memo = new Map<string, MemoizedResult>();
  for (const check of checks) {
    if (check.scope === 'host' || options.excluded?.(check) === true) continue;
    let result: CheckResult;
    if (check.scope === 'image') {
      result = await imageResult(check, viewFor, options);
    } else {
      result = await containerResult(check, viewFor, options, memo);
    }
    results.push(result);
    if (result.result === 'pass_fast') break;
    if (options.failFast && isFailure(result) && options.waivable?.(result) !== true) break;
  }
  return { results, compliant: !results.some(isFailure), memo };
}
