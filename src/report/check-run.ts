import type { Evaluation } from '../evaluator.js';
import type { CheckInstance } from '../policy/types.js';

/** One `check` run as every output format sees it: the evaluation, and the chain that made it. */
export interface CheckRun extends Evaluation {
  checks: readonly CheckInstance[];
}
