import { errorMessage } from './errors.js';
import type { EngineCache } from './engine/engine-cache.js';
import { containerRootProcesses, rootProcesses } from './engine/processes.js';
import type { ContainerInspect } from './engine/types.js';
import { runChain, runCheck } from './policy/chain.js';
import { ImageAllowList } from './policy/image-match.js';
import type { CheckInstance, CheckResult, ContainerReport, ContainerView, HostReport, HostView } from './policy/types.js';
import { containerName } from './engine/container-name.js';

export interface EvaluatorPolicy {
  checks: readonly CheckInstance[];
  alwaysAllow: readonly string[];
  failFast: boolean;
  /** After each full refresh, with the image IDs still in use: for caches kept outside the evaluator (scanners). */
  onRetain?: (imageIds: ReadonlySet<string>) => void;
}

export interface Evaluation {
  containers: ContainerReport[];
  /** Containers listed as running whose evaluation failed (engine call error), with why. */
  failed: { id: string; name: string; error: string }[];
  host: HostReport;
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

/** Runs the policy over containers: engine data in (through the cache), reports out. */
export class Evaluator {
  private readonly allowList: ImageAllowList;
  private readonly imageVerdicts = new Map<string, CheckResult>();

  constructor(
    private readonly cache: EngineCache,
    private readonly policy: EvaluatorPolicy,
  ) {
    this.allowList = new ImageAllowList(policy.alwaysAllow);
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

  private async isAlwaysAllowed(inspect: ContainerInspect): Promise<boolean> {
    if (this.allowList.empty) return false;
    const references = [inspect.Config?.Image ?? ''];
    if (this.allowList.matches({ imageId: inspect.Image, references })) return true;
    if (!this.allowList.hasReferences) return false;
    const image = await this.cache.image(inspect.Image).catch(() => undefined);
    return this.allowList.matches({
      imageId: inspect.Image,
      references: [...(image?.RepoTags ?? []), ...(image?.RepoDigests ?? [])],
    });
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
    const alwaysAllowed = await this.isAlwaysAllowed(inspect);
    const [chain, processes] = await Promise.all([
      alwaysAllowed
        ? { results: [], compliant: true }
        : runChain(this.policy.checks, (signal) => this.view(inspect, signal), {
            failFast: this.policy.failFast,
            imageVerdicts: this.imageVerdicts,
            imageId: inspect.Image,
          }),
      this.cache.processes(inspect).catch(() => undefined),
    ]);
    const roots = processes === undefined ? undefined : rootProcesses(processes);
    return {
      id: inspect.Id,
      name: containerName(inspect.Name),
      image: inspect.Config?.Image ?? '',
      imageId: inspect.Image,
      compliant: chain.compliant,
      alwaysAllowed,
      results: chain.results,
      rootProcesses: roots?.length,
      containerRootProcesses: processes === undefined ? undefined : containerRootProcesses(processes)?.length,
      rootProcessList: roots?.map(({ pid, command }) => ({ pid, command })),
      startedAt: inspect.State?.StartedAt ?? '',
      labels: inspect.Config?.Labels ?? {},
    };
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
    this.retain(summaries.map((summary) => summary.id), [...containers.map((report) => report.imageId), ...summaries.map((summary) => summary.imageId)]);
    return { containers, failed, host };
  }

  private retain(containerIds: readonly string[], usedImageIds: readonly string[]): void {
    const imageIds = new Set(usedImageIds);
    this.cache.retain(new Set(containerIds), imageIds);
    this.policy.onRetain?.(imageIds);
    for (const key of this.imageVerdicts.keys()) {
      if (!imageIds.has(key.slice(key.indexOf('\u0000') + 1))) this.imageVerdicts.delete(key);
    }
  }
}
