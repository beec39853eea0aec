import { EventFollower } from '../src/core/event-follower.js';
import { createRuntime } from '../src/runtime.js';
import { timed } from './stats.js';

export interface EvaluationFigures {
  policy: string;
  containers: number;
  checks: number;
  /** A fresh runtime's first evaluation: every cache empty, as at the exporter's start. */
  coldMs: number;
  coldEngineCalls: Record<string, number>;
  /** The next evaluation right after: image data and process lists cached, as in steady state. */
  warmMs: number;
  warmEngineCalls: Record<string, number>;
}

function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

function difference(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([endpoint, count]): [string, number] => [endpoint, count - (before[endpoint] ?? 0)])
      .filter(([, count]) => count !== 0),
  );
}

export function engineCallTotal(counts: Readonly<Record<string, number>>): number {
  return total(counts);
}

/** One full evaluation of every running container with the production wiring (`createRuntime`), then one more. */
export async function measureEvaluation(configFile: string | undefined): Promise<EvaluationFigures> {
  const runtime = await createRuntime({ 'log.level': 'error', ...(configFile === undefined ? {} : { configFile }) });
  const cold = await timed(() => runtime.evaluator.evaluateAll());
  const afterCold = runtime.engine.callCounts();
  // A resync, as the monitor runs one: the follower has the cached engine data read again first.
  const follower = new EventFollower(runtime.engine, runtime.cache, runtime.logger);
  const warm = await timed(() => {
    follower.beginResync();
    return runtime.evaluator.evaluateAll();
  });
  if (cold.value.failed.length > 0) {
    throw new Error(
      `${cold.value.failed.length} containers could not be evaluated, e.g. ${cold.value.failed[0]?.name}: ${cold.value.failed[0]?.error}`,
    );
  }
  return {
    policy: runtime.policy.file,
    containers: cold.value.containers.length,
    checks: runtime.evaluator.checks.length,
    coldMs: cold.ms,
    coldEngineCalls: { ...afterCold },
    warmMs: warm.ms,
    warmEngineCalls: difference(runtime.engine.callCounts(), afterCold),
  };
}
