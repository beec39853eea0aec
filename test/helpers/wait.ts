/**
 * The one way tests wait: for a condition, with a deadline stretched by TEST_TIME_SCALE
 * (test/helpers/time-scale.ts). Deadlines passed here are unscaled; these helpers scale them.
 */
import { scaled } from './time-scale.js';

/** How often a condition is read again. */
const POLL_MS = 50;

/**
 * Reads `read` until `predicate` holds and returns that value; throws after `timeoutMs` (scaled), naming `what`.
 * A read that throws is an error, not a "not yet": catch inside `read` what may fail while waiting.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  let value = await read();
  while (!predicate(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${scaled(timeoutMs)} ms waiting for ${what}`);
    await pause(POLL_MS);
    value = await read();
  }
  return value;
}

/** Until `probe` gives a value (not undefined), which it returns; throws after `timeoutMs` (scaled), naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const value = await eventually(probe, (candidate) => candidate !== undefined, timeoutMs, what);
  return value as T;
}

/** The promise's value, or undefined when it has not settled within `ms` (scaled). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), scaled(ms));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Lets `ms` pass. Only for a window in which something must NOT happen (a second error line, a
 * reconnect storm) or for pacing a load; never to wait for something to be done: use `eventually`.
 */
export function observe(ms: number): Promise<void> {
  return pause(ms);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
