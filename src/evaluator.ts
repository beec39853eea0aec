import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from './errors.js';
import type { EngineCache } from './engine/engine-cache.js';
import type { ContainerInspect } from './engine/types.js';
import { isFailure, runChain, runCheck } from './policy/chain.js';
import { ImageAllowList } from './policy/image-match.js';
import type { ContainerSelector, SelectorTarget } from './policy/selector.js';
import { WaiverSet } from './policy/waivers.js';
import type { CheckInstance, CheckResult, ContainerReport, ContainerView, HostReport, HostView } from './policy/types.js';
import { containerName } from './engine/container-name.js';

export interface EvaluatorPolicy {
  checks: readonly CheckInstance[];
  alwaysAllow: readonly string[];
  failFast: boolean;
  /** `[policy] exclude_*`: containers no check runs on. */
  exclude?: ContainerSelector | undefined;
  /** The policy's waivers, applied to each container's results after its chain. */
  waivers?: WaiverSet | undefined;
}

export interface Evaluation {
  containers: ContainerReport[];
  /** Containers listed as running whose evaluation failed (engine call error), with why. */
  failed: { id: string; name: string; error: string }[];
  host: HostReport;
}

/** How long a container whose init process is gone may still be shown running by the engine. */
const STOPPING_SETTLE_MS = 250;

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

/** The command line the engine shows in exec events for a health check, e.g. `/bin/sh -c curl -f localhost`. */
function healthCommand(inspect: ContainerInspect): string | undefined {
  const [kind, ...args] = inspect.Config?.Healthcheck?.Test ?? [];
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', ...args].join(' ');
  if (kind === 'CMD') return args.join(' ');
  return undefined;
}

/** Runs the policy over containers: engine data in (through the cache), reports out. */
export class Evaluator {
  private readonly allowList: ImageAllowList;
  private readonly imageVerdicts = new Map<string, Promise<CheckResult>>();
  readonly waivers: WaiverSet;
  /** Whether some selector needs the image's tags and digests, not only `Config.Image` and the ID. */
  private readonly needsImageReferences: boolean;
  /** Each evaluated container's health check command, to tell its exec events from a person's. */
  private readonly healthCommands = new Map<string, string>();

  constructor(
    private readonly cache: EngineCache,
    private readonly policy: EvaluatorPolicy,
  ) {
    this.allowList = new ImageAllowList(policy.alwaysAllow);
    this.waivers = policy.waivers ?? new WaiverSet([]);
    this.needsImageReferences =
      this.allowList.hasReferences ||
      this.waivers.needsImageReferences ||
      policy.exclude?.hasImageReferences === true ||
      policy.checks.some((check) => check.exclude?.hasImageReferences === true);
  }

  get checks(): readonly CheckInstance[] {
    return this.policy.checks;
  }

  private view(inspect: ContainerInspect, signal: AbortSignal): ContainerView {
    const cache = this.cache;
    return {
      id: inspect.Id,
      name: containerName(inspect.Name),
      inspect,
      signal,
      image: () => cache.image(inspect.Image),
      imageHistory: () => cache.imageHistory(inspect.Image),
      processes: () => cache.processes(inspect),
      exec: (id) => cache.engine.inspectExec(id),
      engineInfo: () => cache.info(),
      networks: () => cache.networks(),
    };
  }

  /** What allow lists, exclusions and waivers match against; image tags are read only when one of them needs them. */
  private async selectorTarget(inspect: ContainerInspect): Promise<SelectorTarget> {
    const references = [inspect.Config?.Image ?? ''];
    if (this.needsImageReferences) {
      const image = await this.cache.image(inspect.Image).catch(() => undefined);
      references.push(...(image?.RepoTags ?? []), ...(image?.RepoDigests ?? []));
    }
    return { name: containerName(inspect.Name), labels: inspect.Config?.Labels ?? {}, imageId: inspect.Image, references };
  }

  /** Evaluates one container; undefined when it is gone or no longer running. */
  async evaluateContainer(id: string): Promise<ContainerReport | undefined> {
    let inspect: ContainerInspect;
    try {
      inspect = await this.cache.engine.inspectContainer(id);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    if (inspect.State?.Running !== true) return undefined;
    const health = healthCommand(inspect);
    if (health === undefined) this.healthCommands.delete(inspect.Id);
    else this.healthCommands.set(inspect.Id, health);
    const target = await this.selectorTarget(inspect);
    const alwaysAllowed = !this.allowList.empty && this.allowList.matches(target);
    const excludedAll = this.policy.exclude?.matches(target) === true;
    const chain =
      alwaysAllowed || excludedAll
        ? { results: [], compliant: true }
        : await runChain(this.policy.checks, (signal) => this.view(inspect, signal), {
            failFast: this.policy.failFast,
            imageVerdicts: this.imageVerdicts,
            imageId: inspect.Image,
            excluded: (check) => check.exclude?.matches(target) === true,
            waivable: (result) => this.waivers.covers(result.check, target),
          });
    const results = this.waivers.apply(chain.results, target);
    const excluded = alwaysAllowed
      ? []
      : this.policy.checks
          .filter((check) => check.scope !== 'host' && (excludedAll || check.exclude?.matches(target) === true))
          .map((check) => check.name);
    // A container that stopped while it was evaluated makes its checks fail (top answers 409, inspect
    // 404): it is gone, not in error.
    if (results.some((result) => result.result === 'error') && !(await this.stillRunning(inspect.Id))) return undefined;
    return {
      id: inspect.Id,
      name: containerName(inspect.Name),
      image: inspect.Config?.Image ?? '',
      imageId: inspect.Image,
      compliant: !results.some(isFailure),
      alwaysAllowed,
      results,
      ...(excluded.length === 0 ? {} : { excluded }),
      startedAt: inspect.State?.StartedAt ?? '',
      labels: inspect.Config?.Labels ?? {},
    };
  }

  /**
   * Whether a container whose checks gave errors still runs. Its init process can be gone a moment before
   * the engine marks it stopped, so a container still shown running is asked about once more shortly after.
   */
  private async stillRunning(id: string): Promise<boolean> {
    const running = async (): Promise<boolean> => {
      try {
        return (await this.cache.engine.inspectContainer(id)).State?.Running === true;
      } catch (error) {
        // Unsure (the engine did not answer): keep the errors, they are real.
        return !isNotFound(error);
      }
    };
    if (!(await running())) return false;
    await sleep(STOPPING_SETTLE_MS);
    return running();
  }

  /** Whether an exec event (`exec_start: <command>`) is the container's own health check. */
  isHealthCheckExec(id: string, action: string): boolean {
    const command = action.slice(action.indexOf(':') + 1).trim();
    return command !== '' && this.healthCommands.get(id) === command;
  }

  async evaluateHost(): Promise<HostReport> {
    const hostChecks = this.policy.checks.filter((check) => check.scope === 'host');
    const cache = this.cache;
    const results = await Promise.all(
      hostChecks.map((check) =>
        runCheck<HostView>(check, (signal) => ({
          signal,
          engineInfo: () => cache.info(),
          engineVersion: () => cache.version(),
          networks: () => cache.networks(),
        })),
      ),
    );
    return { results };
  }

  /** Every running container, plus the host checks. Throws when the engine cannot list containers. */
  async evaluateAll(): Promise<Evaluation> {
    this.cache.beginRefresh();
    const summaries = await this.cache.engine.listContainers();
    const failed: Evaluation['failed'] = [];
    const [reports, host] = await Promise.all([
      Promise.all(
        summaries.map((summary) =>
          this.evaluateContainer(summary.id).catch((error: unknown) => {
            failed.push({ id: summary.id, name: summary.name, error: errorMessage(error) });
            return undefined;
          }),
        ),
      ),
      this.evaluateHost(),
    ]);
    const containers = reports.filter((report): report is ContainerReport => report !== undefined);
    this.retain(
      summaries.map((summary) => summary.id),
      [...containers.map((report) => report.imageId), ...summaries.map((summary) => summary.imageId)],
    );
    return { containers, failed, host };
  }

  private retain(containerIds: readonly string[], usedImageIds: readonly string[]): void {
    const imageIds = new Set(usedImageIds);
    const running = new Set(containerIds);
    this.cache.retain(running, imageIds);
    for (const id of this.healthCommands.keys()) if (!running.has(id)) this.healthCommands.delete(id);
    for (const key of this.imageVerdicts.keys()) {
      if (!imageIds.has(key.slice(key.indexOf('\u0000') + 1))) this.imageVerdicts.delete(key);
    }
  }
}
