/**
 * The one factor that stretches every deadline in the tests: `TEST_TIME_SCALE=3 npm test` on a slow or
 * busy machine gives each wait three times as long. Waits are for conditions; only their deadlines scale.
 */
const raw = process.env['TEST_TIME_SCALE'];
const parsed = raw === undefined || raw === '' ? 1 : Number(raw);
if (!Number.isFinite(parsed) || parsed < 1) {
  throw new Error(`TEST_TIME_SCALE must be a number of at least 1, not ${JSON.stringify(raw)}`);
}

export const TIME_SCALE: number = parsed;

/** A deadline of `ms` on an unhurried machine, stretched by TEST_TIME_SCALE. */
export function scaled(ms: number): number {
  return Math.round(ms * TIME_SCALE);
}
