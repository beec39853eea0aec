/**
 * `check --compose/--stack/--image`: services and images judged before anything runs. It loads the
 * policy, the logger and the engine client, and nothing a running evaluation needs (evaluator,
 * listeners, metrics), so that a CI job pays little more than Node.js's own start.
 */
import { setFlagsFromString } from 'node:v8';
import type { ServeFlags } from '../config/flags.js';
import { EngineUnreachableError, errorMessage } from '../errors.js';
import type { Evaluation } from '../core/evaluator.js';
import { WaiverSet } from '../policy/waivers.js';
import { connectEngine, loadSettingsAndPolicy, runtimeClock, type RuntimeOptions } from '../runtime-parts.js';
import type { CheckFormat, FailOn } from '../config/setting-table.js';
import type { CheckTargets } from './check-targets.js';
import { writeCheckReport } from './check-report.js';
import { logUnhandledRejections } from './unhandled.js';

/** Judges the compose and stack services and the images of `targets`; returns the exit code. */
export async function runStaticCheck(
  flags: ServeFlags,
  options: RuntimeOptions,
  format: CheckFormat,
  write: (text: string) => void,
  failOn: FailOn | undefined,
  targets: CheckTargets,
): Promise<number> {
  // The run is over in well under a second: V8's optimizing compiler would spend more CPU compiling the
  // YAML parser and the chain than it saves (measured: a third of the CPU of a 50-service file). Only
  // this process is affected, and only in speed.
  setFlagsFromString('--no-opt');
  const { settings, policy, log } = await loadSettingsAndPolicy(flags, options, () => undefined);
  const logger = log.logger;
  logUnhandledRejections(logger);
  const { engine, cache } = connectEngine(settings, logger);
  const waivers = new WaiverSet(policy.waivers, runtimeClock());
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
    ...(targets.compose.length === 0
      ? []
      : await composeTargets(targets.compose, { ...composeOptions, projectName: targets.projectName }, engineCache, 'compose')),
    ...(await Promise.all(targets.stacks.map((file) => composeTargets([file], composeOptions, engineCache, 'swarm')))).flat(),
  ];
  const chain = {
    checks: policy.checks,
    alwaysAllow: settings.alwaysAllow,
    failFast: settings.failFast,
    exclude: policy.exclude,
    waivers,
  };
  const containers = await judgeStatic(staticTargets, chain, engineCache);
  if (targets.images.length > 0 && engineCache !== undefined) {
    const imageChecks = { ...chain, checks: chain.checks.filter((check) => check.scope === 'image') };
    containers.push(...(await judgeStatic(await imageTargets(targets.images, engineCache), imageChecks, engineCache)));
  }
  containers.sort((a, b) => a.name.localeCompare(b.name));
  // Nothing runs yet: there is nothing to log about, count or enforce, so no listener sees these reports.
  const evaluation: Evaluation = { containers, failed: [], host: { results: [] } };
  return writeCheckReport({ ...evaluation, checks: policy.checks }, format, write, failOn);
}
