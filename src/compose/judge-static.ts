/**
 * The policy's chain over containers that do not run yet (compose and stack services): the same
 * checks, allow list, exclusions and waivers as at run time, on the inspect data the service would
 * have. A check that reads what only a running container has (processes, exec sessions) is
 * `not_applicable`, decided from its declared inputs; so is one that reads what an absent image holds.
 */
import type { EngineCache } from '../engine/engine-cache.js';
import type { ImageInspect } from '../engine/types.js';
import type { EvaluatorPolicy } from '../core/evaluator.js';
import { isFailure, NotApplicableError, runChain, type ImageVerdict } from '../policy/chain.js';
import { ImageAllowList } from '../policy/image-match.js';
import type { SelectorTarget } from '../policy/selector.js';
import { WaiverSet } from '../policy/waivers.js';
import type { CheckInstance, CheckResult, ContainerReport, ContainerView, SourcePosition } from '../policy/types.js';
import { containerName } from '../engine/container-name.js';
import { CHECK_KEYS } from './check-keys.js';
import type { SyntheticContainer } from './to-inspect.js';

export interface StaticTarget extends SyntheticContainer {
  /** The local image, when the engine has it. */
  imageInspect: ImageInspect | undefined;
  /** A compose or stack service: its name, where it is written and where each of its keys is. */
  service?: { name: string; position: SourcePosition; keys: ReadonlyMap<string, SourcePosition> };
}

/** The CIS id whose audit reads only whether `State.Health` is there. */
const HEALTH_REPORTED = '5.27';

const RUNNING_ONLY = { processes: 'its processes', exec: 'its exec sessions' } as const;

/** The check as it runs before deployment: one that reads a running container's processes or exec sessions is not applicable. */
function staticCheck(check: CheckInstance): CheckInstance {
  const needs = (['processes', 'exec'] as const).filter((input) => check.inputs.includes(input));
  if (needs.length === 0) return check;
  const notApplicable = new NotApplicableError(
    `needs a running container (reads ${needs.map((input) => RUNNING_ONLY[input]).join(' and ')})`,
  );
  return Object.create(check, { run: { value: () => Promise.reject(notApplicable) } }) as CheckInstance;
}

/** Where a result points: the first key the check reads that the service sets, else the service. */
function resultSource(check: string, service: NonNullable<StaticTarget['service']>): SourcePosition {
  for (const key of CHECK_KEYS[check] ?? []) {
    const position = service.keys.get(key);
    if (position !== undefined) return position;
  }
  return service.position;
}

export async function judgeStatic(
  targets: readonly StaticTarget[],
  policy: EvaluatorPolicy,
  cache: EngineCache | undefined,
): Promise<ContainerReport[]> {
  const checks = policy.checks.map(staticCheck);
  const allowList = new ImageAllowList(policy.alwaysAllow);
  const waivers = policy.waivers ?? new WaiverSet([]);
  // One run over data that does not change while it lasts: an image's verdicts are keyed by its ID alone.
  const imageVerdicts = new Map<string, ImageVerdict>();
  // Errors made once and shared: only their messages are read, and capturing a stack for each of
  // thousands of not-applicable results was a measurable part of judging a large file.
  const noEngineInfo = new NotApplicableError('no engine was reached to read /info from');
  const noEngineNetworks = new NotApplicableError('no engine was reached to read /networks from');
  const noProcesses = new NotApplicableError('needs a running container (reads its processes)');
  const noExec = new NotApplicableError('needs a running container (reads its exec sessions)');
  const reports: ContainerReport[] = [];
  for (const target of targets) {
    const { inspect, imageInspect } = target;
    const name = containerName(inspect.Name);
    const selector: SelectorTarget = {
      name,
      labels: inspect.Config?.Labels ?? {},
      imageId: inspect.Image,
      references: [target.image, ...(imageInspect?.RepoTags ?? []), ...(imageInspect?.RepoDigests ?? [])],
    };
    const alwaysAllowed = !allowList.empty && allowList.matches(selector);
    const excludedAll = policy.exclude?.matches(selector) === true;
    const imageAbsent = new NotApplicableError(`the image ${target.image} is not on the engine`);
    const absent = (): Promise<never> => Promise.reject(imageAbsent);
    // Images the engine does not have are told apart by reference: their (not applicable) verdicts name them.
    const imageId = inspect.Image === '' ? `reference:${target.image}` : inspect.Image;
    const chain =
      alwaysAllowed || excludedAll
        ? { results: [] as CheckResult[] }
        : await runChain(
            checks,
            (signal, check): ContainerView => ({
              id: inspect.Id,
              name,
              // CIS 5.27's audit asks only whether the running container reports a health status, not which.
              inspect: check.cisId === HEALTH_REPORTED ? (target.inspectOnceStarted ?? inspect) : inspect,
              signal,
              image: () => (imageInspect === undefined ? absent() : Promise.resolve(imageInspect)),
              imageHistory: () => (imageInspect === undefined || cache === undefined ? absent() : cache.imageHistory(imageInspect.Id)),
              processes: () => Promise.reject(noProcesses),
              exec: () => Promise.reject(noExec),
              engineInfo: () => (cache === undefined ? Promise.reject(noEngineInfo) : cache.info()),
              networks: () => (cache === undefined ? Promise.reject(noEngineNetworks) : cache.networks()),
            }),
            {
              failFast: policy.failFast,
              imageVerdicts,
              imageId,
              imageKey: imageId,
              excluded: (check) => check.exclude?.matches(selector) === true,
              waivable: (result) => waivers.covers(result.check, selector),
            },
          );
    const service = target.service;
    const waived = waivers.apply(chain.results, selector);
    const results = service === undefined ? waived : waived.map((result) => ({ ...result, source: resultSource(result.check, service) }));
    const excluded = alwaysAllowed
      ? []
      : policy.checks
          .filter((check) => check.scope !== 'host' && (excludedAll || check.exclude?.matches(selector) === true))
          .map((check) => check.name);
    reports.push({
      id: inspect.Id,
      name,
      image: target.image,
      imageId: inspect.Image,
      compliant: !results.some(isFailure),
      alwaysAllowed,
      results,
      ...(excluded.length === 0 ? {} : { excluded }),
      startedAt: '',
      labels: inspect.Config?.Labels ?? {},
      ...(service === undefined ? {} : { source: { ...service.position, service: service.name } }),
    });
  }
  return reports;
}
