import { EngineUnreachableError, errorMessage } from '../errors.js';
import { checkJson, formatCheckTable } from '../report/check-table.js';
import { checkExitCode, type FailOn } from '../report/fail-on.js';
import type { Runtime } from '../runtime.js';
import type { Evaluation } from '../evaluator.js';
import type { CheckFormat } from './check-formats.js';
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

/** Reports of compose and stack services and local images, judged before anything runs. */
async function staticEvaluation(runtime: Runtime, targets: CheckTargets): Promise<Evaluation> {
  const { engine, cache, logger, evaluator } = runtime;
  const [{ composeTargets }, { judgeStatic }, { imageTargets }] = await Promise.all([
    import('../compose/compose-targets.js'),
    import('../compose/judge-static.js'),
    import('../compose/image-targets.js'),
  ]);
  let reachable = true;
  try {
    await engine.ping();
  } catch (error) {
    reachable = false;
    if (targets.images.length > 0) throw new EngineUnreachableError(engine.address, errorMessage(error));
    logger.debug({ engine: engine.address, err: errorMessage(error) }, 'no engine reached: values only images hold are unknown');
  }
  const engineCache = reachable ? cache : undefined;
  const composeOptions = { envFile: targets.envFile, profiles: targets.profiles };
  const staticTargets = [
    ...(targets.compose.length === 0 ? [] : await composeTargets(targets.compose, composeOptions, engineCache, 'compose')),
    ...(await Promise.all(targets.stacks.map((file) => composeTargets([file], composeOptions, engineCache, 'swarm')))).flat(),
  ];
  const policy = {
    checks: evaluator.checks,
    alwaysAllow: runtime.settings.alwaysAllow,
    failFast: runtime.settings.failFast,
    exclude: runtime.policy.exclude,
    waivers: evaluator.waivers,
  };
  const containers = await judgeStatic(staticTargets, policy, engineCache);
  if (targets.images.length > 0 && engineCache !== undefined) {
    const imageChecks = { ...policy, checks: policy.checks.filter((check) => check.scope === 'image') };
    containers.push(...(await judgeStatic(await imageTargets(targets.images, engineCache), imageChecks, engineCache)));
  }
  return { containers, failed: [], host: { results: [] } };
}

/** `docker-monitor check`: one evaluation of the targets (every running container by default). Returns the exit code. */
export async function runCheckCommand(
  runtime: Runtime,
  format: CheckFormat,
  write: (text: string) => void,
  failOn?: FailOn,
  targets?: CheckTargets,
): Promise<number> {
  const { evaluator, logger, listeners } = runtime;
  logUnhandledRejections(logger);
  const chosen: CheckTargets = targets ?? { compose: [], stacks: [], images: [], profiles: [], host: true };
  const judgedBeforeRunning = chosen.compose.length > 0 || chosen.stacks.length > 0 || chosen.images.length > 0;
  const evaluation = judgedBeforeRunning ? await staticEvaluation(runtime, chosen) : await engineEvaluation(runtime, chosen);
  evaluation.containers.sort((a, b) => a.name.localeCompare(b.name));
  // Nothing runs yet when services are judged: there is nothing to log about, count or enforce.
  if (!judgedBeforeRunning) {
    for (const report of evaluation.containers) {
      for (const listener of listeners) await listener.onReport(report);
    }
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
