import { EngineUnreachableError, errorMessage } from '../errors.js';
import { checkJson, formatCheckTable } from '../report/check-table.js';
import { checkExitCode, type FailOn } from '../report/fail-on.js';
import type { Runtime } from '../runtime.js';
import type { CheckFormat } from './check-formats.js';
import { logUnhandledRejections } from './unhandled.js';

/** `docker-monitor check`: one evaluation of every running container. Returns the exit code. */
export async function runCheckCommand(
  runtime: Runtime,
  format: CheckFormat,
  write: (text: string) => void,
  failOn?: FailOn,
): Promise<number> {
  const { engine, evaluator, logger, listeners } = runtime;
  logUnhandledRejections(logger);
  try {
    await engine.ping();
  } catch (error) {
    throw new EngineUnreachableError(engine.address, errorMessage(error));
  }
  const started = performance.now();
  let evaluation: Awaited<ReturnType<typeof evaluator.evaluateAll>>;
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
  evaluation.containers.sort((a, b) => a.name.localeCompare(b.name));
  for (const report of evaluation.containers) {
    for (const listener of listeners) await listener.onReport(report);
  }
  await Promise.all(listeners.map(async (listener) => listener.close?.()));
  for (const { name, error } of evaluation.failed) {
    logger.error({ container: name, err: error }, 'container could not be evaluated');
  }
  const run = { ...evaluation, checks: evaluator.checks };
  if (format === 'json') {
    write(`${JSON.stringify(checkJson(evaluation.containers, evaluation.host), null, 2)}\n`);
  } else if (format === 'sarif') {
    // The SARIF and JUnit writers (and JUnit's XML library) load only for their formats.
    const { sarifLog } = await import('../report/sarif.js');
    write(`${JSON.stringify(sarifLog(run), null, 2)}\n`);
  } else if (format === 'junit') {
    const { junitXml } = await import('../report/junit.js');
    write(junitXml(run));
  } else {
    const names = [...new Set(evaluator.checks.filter((check) => check.scope !== 'host').map((check) => check.name))];
    write(`${formatCheckTable(evaluation.containers, evaluation.host, names, evaluator.checks)}\n`);
  }
  return checkExitCode(run, failOn);
}
