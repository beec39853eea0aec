import { errorMessage } from '../errors.js';
import { containerName } from '../engine/container-name.js';
import type { EngineCache } from '../engine/engine-cache.js';
import type { ContainerInspect } from '../engine/types.js';
import { isFailure, runChain, runCheck, type ChainOutcome, type MemoizedResult } from '../policy/chain.js';
import { ImageAllowList } from '../policy/image-match.js';
import type { ContainerSelector, SelectorTarget } from '../policy/selector.js';
import { WaiverSet } from '../policy/waivers.js';
import type { CheckInput, CheckInstance, ContainerReport, ContainerView, HostReport, HostView } from '../policy/types.js';
import { Memo } from './memo.js';

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

/** A refresh's evaluation, with what the cached engine data must now keep or drop (see EventFollower.afterEvaluation). */
export interface RefreshEvaluation extends Evaluation {
  /** Every container listed (a resync) or known (a scan), evaluated or not, and the images they use. */
  running: ReadonlySet<string>;
  imageIds: ReadonlySet<string>;
  /** Containers that stopped while they were evaluated: their cached data is stale. */
  stopped: string[];
}

/** One container's evaluation: its report, or none when it is gone; `stopped` when it stopped while evaluated. */
export interface Judgement {
  report: ContainerReport | undefined;
  stopped: boolean;
}

/** What the evaluator may do with the engine cache: read, never clear (that is the event follower's job). */
export type EngineReads = Pick<
  EngineCache,
  | 'container'
  | 'knownContainers'
  | 'runningContainers'
  | 'ping'
  | 'stillRunning'
  | 'image'
  | 'imageHistory'
  | 'processes'
  | 'exec'
  | 'info'
  | 'version'
  | 'networks'
  | 'hostGeneration'
>;

/** What a check's view gives it for an input it did not declare: an error that says so. */
function undeclared(check: CheckInstance, input: CheckInput): Error {
  return new Error(`reads ${input} data, which ${check.name} does not declare in its static inputs (${check.inputs.join(', ')})`);
}

/**
 * Runs the policy over containers: engine data in (read through the cache, which it never clears),
 * reports out. What it may reuse is the memo's business.
 */
export class Evaluator {
  private readonly allowList: ImageAllowList;
  readonly waivers: WaiverSet;
  /** Whether some selector needs the image's tags and digests, not only `Config.Image` and the ID. */
  private readonly needsImageReferences: boolean;
  private readonly memo: Memo;

  constructor(
    private readonly cache: EngineReads,
    private readonly policy: EvaluatorPolicy,
  ) {
    this.allowList = new ImageAllowList(policy.alwaysAllow);
    this.waivers = policy.waivers ?? new WaiverSet([]);
    this.needsImageReferences =
      this.allowList.hasReferences ||
      this.waivers.needsImageReferences ||
      policy.exclude?.hasImageReferences === true ||
      policy.checks.some((check) => check.exclude?.hasImageReferences === true);
    const readsProcesses = policy.checks.some((check) => check.scope === 'container' && check.inputs.includes('processes'));
    const readsImage = this.needsImageReferences || policy.checks.some((check) => check.scope !== 'host' && check.inputs.includes('image'));
    const readsExec = policy.checks.some((check) => check.scope === 'container' && check.inputs.includes('exec'));
    this.memo = new Memo(cache, readsProcesses, readsImage, readsExec);
  }

  get checks(): readonly CheckInstance[] {
    return this.policy.checks;
  }

  /** What one check sees of a container: only the inputs it declares, so its result can be reused while they stay the same. */
  private view(inspect: ContainerInspect, signal: AbortSignal, check: CheckInstance): ContainerView {
    const cache = this.cache;
    const reads = check.inputs;
    const gate = <T>(input: CheckInput, read: () => T): T => {
      if (!reads.includes(input)) throw undeclared(check, input);
      return read();
    };
    return {
      id: inspect.Id,
      name: containerName(inspect.Name),
      get inspect() {
        return gate('inspect', () => inspect);
      },
      signal,
      image: () => gate('image', () => cache.image(inspect.Image)),
      imageHistory: () => gate('image', () => cache.imageHistory(inspect.Image)),
      processes: () => gate('processes', () => cache.processes(inspect)),
      exec: (id) => gate('exec', () => cache.exec(id)),
      engineInfo: () => gate('engine', () => cache.info()),
      networks: () => gate('engine', () => cache.networks()),
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

  /**
   * Evaluates one container; undefined when it is gone or no longer running. `fresh` reads its inspect
   * data from the engine (after an event, at a resync); otherwise the cached read is used if there is one.
   */
  async evaluateContainer(id: string, fresh = true): Promise<ContainerReport | undefined> {
    return (await this.judge(id, fresh)).report;
  }

  /** evaluateContainer, saying also whether the container stopped while it was evaluated. */
  async judge(id: string, fresh = true): Promise<Judgement> {
    const inspect = await this.cache.container(id, fresh);
    if (inspect === undefined) {
      this.memo.forget(id);
      return { report: undefined, stopped: false };
    }
    // Read before anything uses the image: data that changes meanwhile gives a different key next time, never a stale reuse.
    const image = await this.memo.imageKeyOf(inspect);
    const target = await this.selectorTarget(inspect);
    const alwaysAllowed = !this.allowList.empty && this.allowList.matches(target);
    const excludedAll = this.policy.exclude?.matches(target) === true;
    // No check runs on it: its processes are not read either.
    const skipped = alwaysAllowed || excludedAll;
    const { reads, reuse, previous } = await this.memo.lookup(inspect, image, skipped);
    let chain: ChainOutcome;
    if (skipped) chain = { results: [], compliant: true, memo: new Map<string, MemoizedResult>() };
    else if (reuse !== undefined) chain = reuse;
    else {
      chain = await runChain(this.policy.checks, (signal, check) => this.view(inspect, signal, check), {
        failFast: this.policy.failFast,
        imageVerdicts: this.memo.imageVerdicts,
        imageId: inspect.Image,
        imageKey: image,
        excluded: (check) => check.exclude?.matches(target) === true,
        waivable: (result) => this.waivers.covers(result.check, target),
        previous: previous?.memo,
        inputsKey: (check) => this.memo.inputsKey(check, inspect),
      });
    }
    await this.memo.record(reads, chain, skipped);
    const results = this.waivers.apply(chain.results, target);
    const excluded = alwaysAllowed
      ? []
      : this.policy.checks
          .filter((check) => check.scope !== 'host' && (excludedAll || check.exclude?.matches(target) === true))
          .map((check) => check.name);
    // A container that stopped while it was evaluated makes its checks fail (top answers 409, inspect
    // 404): it is gone, not in error.
    if (results.some((result) => result.result === 'error') && !(await this.cache.stillRunning(inspect.Id))) {
      this.memo.forget(inspect.Id);
      return { report: undefined, stopped: true };
    }
    const report: ContainerReport = {
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
    return { report, stopped: false };
  }

  /** The host checks: run again only when the host's data has changed (a resync, a network or daemon event). */
  async evaluateHost(): Promise<HostReport> {
    const kept = this.memo.hostReport();
    if (kept !== undefined) return kept;
    const generation = this.cache.hostGeneration;
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
    const report = { results };
    // An evaluation the host's data changed under is kept under the generation it started at: run again next time.
    this.memo.keepHostReport(generation, report);
    return report;
  }

  /**
   * Every running container as the engine lists it now, each evaluated from a new inspect read, plus the
   * host checks, on the cache's data (a resync clears it first: EventFollower.beginResync). Throws when
   * the engine cannot list containers.
   */
  async evaluateAll(): Promise<RefreshEvaluation> {
    const summaries = await this.cache.runningContainers();
    return this.evaluate(summaries, true);
  }

  /**
   * A scan: the containers whose inspect data the cache holds (kept current by events); only the checks
   * whose inputs changed run. Its one engine call is a ping, so that an engine that stopped answering
   * shows as down. Throws when the ping fails.
   */
  async evaluateKnown(): Promise<RefreshEvaluation> {
    await this.cache.ping();
    return this.evaluate(this.cache.knownContainers(), false);
  }

  private async evaluate(
    containerIds: readonly { id: string; name: string; imageId?: string }[],
    listed: boolean,
  ): Promise<RefreshEvaluation> {
    const failed: Evaluation['failed'] = [];
    const stopped: string[] = [];
    const [judgements, host] = await Promise.all([
      Promise.all(
        containerIds.map((summary) =>
          this.judge(summary.id, listed).catch((error: unknown) => {
            failed.push({ id: summary.id, name: summary.name, error: errorMessage(error) });
            return undefined;
          }),
        ),
      ),
      this.evaluateHost(),
    ]);
    const containers: ContainerReport[] = [];
    for (const [index, judgement] of judgements.entries()) {
      if (judgement?.report !== undefined) containers.push(judgement.report);
      if (judgement?.stopped === true) stopped.push(containerIds[index]?.id ?? '');
    }
    const running = new Set(containerIds.map((summary) => summary.id));
    const imageIds = new Set([...containers.map((report) => report.imageId), ...containerIds.flatMap((summary) => summary.imageId ?? [])]);
    this.memo.retain(running, imageIds);
    return { containers, failed, host, running, imageIds, stopped };
  }
}
