import { EngineUnreachableError, UsageError, errorMessage } from '../errors.js';
import type { ServeFlags } from '../config/flags.js';
import type { Evaluation } from '../core/evaluator.js';
import type { CheckFormat, FailOn } from '../config/setting-table.js';
import type { Runtime } from '../runtime.js';
import type { RuntimeOptions } from '../runtime-parts.js';
import { writeCheckReport } from './check-report.js';
import { logUnhandledRejections } from './unhandled.js';
import type { CheckTargets } from './check-targets.js';

/** Reports of containers the engine runs, limited to those the selectors name (all of them without selectors). */
async function engineEvaluation(runtime: Runtime, targets: CheckTargets): Promise<Evaluation> {
  const { engine, evaluator, logger } = runtime;
  try {
    await engine.ping();
  } catch (error) {
    throw new EngineUnreachableError(engine.address, errorMessage(error));
  }
  const started = performance.now();
  let evaluation: Evaluation;
  try {
    evaluation = await evaluator.evaluateAll();
  } catch (error) {
    // The engine answered the ping but could not list its containers: no verdict, so not exit 1.
    throw new EngineUnreachableError(engine.address, errorMessage(error));
  }
  logger.debug(
    {
      containers: evaluation.containers.length,
      unevaluated: evaluation.failed.length,
      durationMs: Math.round(performance.now() - started),
    },
    'evaluation finished',
  );
  const selector = targets.selector;
  if (selector === undefined) return evaluation;
  return {
    containers: evaluation.containers.filter(({ name, labels, imageId, image }) =>
      selector.matches({ name, labels, imageId, references: [image] }),
    ),
    failed: evaluation.failed.filter(({ name }) => selector.matches({ name, labels: {}, imageId: '', references: [] })),
    host: targets.host ? evaluation.host : { results: [] },
  };
}

/** One evaluation of the running containers (all of them, or those the selectors name). Returns the exit code. */
async function checkRunning(
  runtime: Runtime,
  format: CheckFormat,
  write: (text: string) => void,
  failOn: FailOn | undefined,
  targets: CheckTargets,
): Promise<number> {
  const { evaluator, logger, listeners } = runtime;
  logUnhandledRejections(logger);
  const evaluation = await engineEvaluation(runtime, targets);
  evaluation.containers.sort((a, b) => a.name.localeCompare(b.name));
  for (const report of evaluation.containers) {
    for (const listener of listeners) await listener.onReport(report);
  }
  await Promise.all(listeners.map(async (listener) => listener.close?.()));
  for (const { name, error } of evaluation.failed) {
    logger.error({ container: name, err: error }, 'container could not be evaluated');
  }
  return writeCheckReport({ ...evaluation, checks: evaluator.checks }, format, write, failOn);
}

/**
 * `docker-monitor check`: one evaluation of the targets (every running container by default). Compose
 * and stack files and images are judged before anything runs, by check-static.js, which loads neither
 * the evaluator nor the listeners. Returns the exit code.
 */
export async function runCheckCommand(
  flags: ServeFlags,
  options: RuntimeOptions,
  format: CheckFormat,
  write: (text: string) => void,
  failOn?: FailOn,
  targets: CheckTargets = { compose: [], stacks: [], images: [], profiles: [], host: true },
): Promise<number> {
  if (targets.projectName !== undefined && targets.compose.length === 0) {
    throw new UsageError('-p/--project-name names the project of --compose files: give --compose too');
  }
  if (targets.compose.length > 0 || targets.stacks.length > 0 || targets.images.length > 0) {
    const { runStaticCheck } = await import('./check-static.js');
    return runStaticCheck(flags, options, format, write, failOn, targets);
  }
  const { createRuntime } = await import('../runtime.js');
  return checkRunning(await createRuntime(flags, options), format, write, failOn, targets);
}
