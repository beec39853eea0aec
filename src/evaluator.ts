import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from './errors.js';
import type { EngineCache } from './engine/engine-cache.js';
import type { ContainerInspect, ContainerProcess, ImageInspect } from './engine/types.js';
import { isFailure, runChain, runCheck, type ChainOutcome, type ImageVerdict, type MemoizedResult } from './policy/chain.js';
import { ImageAllowList } from './policy/image-match.js';
import type { ContainerSelector, SelectorTarget } from './policy/selector.js';
import { WaiverSet } from './policy/waivers.js';
import type { CheckInput, CheckInstance, ContainerReport, ContainerView, HostReport, HostView } from './policy/types.js';
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

/** What a check's view gives it for an input it did not declare: an error that says so. */
function undeclared(check: CheckInstance, input: CheckInput): Error {
  return new Error(`reads ${input} data, which ${check.name} does not declare in its static inputs (${check.inputs.join(', ')})`);
}

/** A process list as a key: equal lists give equal keys. */
function processesKey(processes: readonly ContainerProcess[]): string {
  return processes.map(({ pid, uid, user, command }) => `${pid}:${uid}:${user}:${command}`).join('\n');
}

/** The command line the engine shows in exec events for a health check, e.g. `/bin/sh -c curl -f localhost`. */
function healthCommand(inspect: ContainerInspect): string | undefined {
  const [kind, ...args] = inspect.Config?.Healthcheck?.Test ?? [];
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', ...args].join(' ');
  if (kind === 'CMD') return args.join(' ');
  return undefined;
}

/** An image's data as a key: its ID, references and digests (a tag or untag changes them, not the ID). */
function imageKey(image: ImageInspect): string {
  const sorted = (list: readonly string[] | null | undefined): string => [...(list ?? [])].sort().join(',');
  return `${image.Id}\u0001${sorted(image.RepoTags)}\u0001${sorted(image.RepoDigests)}`;
}

/** A container's last chain and what it read: the inspect read, its image's data, the host data's generation, its process list's key. */
interface LastChain {
  inspect: ContainerInspect;
  /** '' when nothing reads the image; undefined when it could not be read. */
  image: string | undefined;
  generation: number;
  /** '' when no check reads processes; undefined when they could not be read. */
  processes: string | undefined;
  outcome: ChainOutcome;
}

/** Runs the policy over containers: engine data in (through the cache), reports out. */
export class Evaluator {
  private readonly allowList: ImageAllowList;
  private readonly imageVerdicts = new Map<string, ImageVerdict>();
  readonly waivers: WaiverSet;
  /** Whether some selector needs the image's tags and digests, not only `Config.Image` and the ID. */
  private readonly needsImageReferences: boolean;
  /** Each evaluated container's health check command, to tell its exec events from a person's. */
  private readonly healthCommands = new Map<string, string>();
  /**
   * Each container's last chain, with what it read: reused whole while none of that changed, else
   * check by check (its memo) for the checks whose inputs stayed the same.
   */
  private readonly chains = new Map<string, LastChain>();
  /** Whether some container check reads processes: only then does a process list change a chain. */
  private readonly readsProcesses: boolean;
  /** Whether some container or image check, or a selector, reads the image: only then does its data change a chain. */
  private readonly readsImage: boolean;
  /** A number per inspect object read from the engine: a new read is a new version. */
  private readonly inspectVersions = new WeakMap<ContainerInspect, number>();
  private inspectsSeen = 0;
  /** Process lists as keys, computed once per list read. */
  private readonly processKeys = new WeakMap<readonly ContainerProcess[], string>();
  /** Image data as keys, computed once per image read (every container of the image, every check). */
  private readonly imageKeys = new WeakMap<ImageInspect, string>();
  /** The host checks' results, kept until the host's data changes. */
  private hostResults: { generation: number; report: HostReport } | undefined;

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
    this.readsProcesses = policy.checks.some((check) => check.scope === 'container' && check.inputs.includes('processes'));
    this.readsImage = this.needsImageReferences || policy.checks.some((check) => check.scope !== 'host' && check.inputs.includes('image'));
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
      exec: (id) => gate('exec', () => cache.engine.inspectExec(id)),
      engineInfo: () => gate('engine', () => cache.info()),
      networks: () => gate('engine', () => cache.networks()),
    };
  }

  private inspectVersion(inspect: ContainerInspect): number {
    let version = this.inspectVersions.get(inspect);
    if (version === undefined) {
      this.inspectsSeen += 1;
      version = this.inspectsSeen;
      this.inspectVersions.set(inspect, version);
    }
    return version;
  }

  /**
   * The state of a check's inputs: the inspect read (a new one after every event and resync; exec
   * sessions come and go with it), the image's data, the process list, and the host's data generation
   * (which changes whenever that data is read again). Throws when an input cannot be read.
   */
  private async inputsKey(check: CheckInstance, inspect: ContainerInspect): Promise<string> {
    const parts: string[] = [];
    for (const input of check.inputs) {
      if (input === 'inspect' || input === 'exec') parts.push(`i${this.inspectVersion(inspect)}`);
      else if (input === 'image') parts.push(await this.imageDataKey(inspect));
      else if (input === 'engine') parts.push(`e${this.cache.hostGeneration}`);
      else parts.push(await this.processesKey(inspect));
    }
    return parts.join('\u0000');
  }

  private async processesKey(inspect: ContainerInspect): Promise<string> {
    const processes = await this.cache.processes(inspect);
    let key = this.processKeys.get(processes);
    if (key === undefined) {
      key = processesKey(processes);
      this.processKeys.set(processes, key);
    }
    return key;
  }

  /** The key of a container's image data; undefined when the image cannot be read. */
  private async imageKeyOf(inspect: ContainerInspect): Promise<string | undefined> {
    return this.imageDataKey(inspect).catch(() => undefined);
  }

  /** The key of a container's image data; throws when the image cannot be read. */
  private async imageDataKey(inspect: ContainerInspect): Promise<string> {
    const image = await this.cache.image(inspect.Image);
    let key = this.imageKeys.get(image);
    if (key === undefined) {
      key = imageKey(image);
      this.imageKeys.set(image, key);
    }
    return key;
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
    const inspect = await this.cache.container(id, fresh);
    if (inspect === undefined) {
      this.chains.delete(id);
      return undefined;
    }
    const health = healthCommand(inspect);
    if (health === undefined) this.healthCommands.delete(inspect.Id);
    else this.healthCommands.set(inspect.Id, health);
    // Read before anything uses the image: data that changes meanwhile gives a different key next time, never a stale reuse.
    const image = this.readsImage ? await this.imageKeyOf(inspect) : '';
    const target = await this.selectorTarget(inspect);
    const alwaysAllowed = !this.allowList.empty && this.allowList.matches(target);
    const excludedAll = this.policy.exclude?.matches(target) === true;
    // No check runs on it: its processes are not read either.
    const skipped = alwaysAllowed || excludedAll;
    const last = this.chains.get(inspect.Id);
    const generation = this.cache.hostGeneration;
    // The process list is compared only where it can decide (the rest unchanged), so a first read is the checks' own.
    const candidate =
      !skipped &&
      last !== undefined &&
      last.inspect === inspect &&
      image !== undefined &&
      last.image === image &&
      last.generation === generation &&
      !last.outcome.results.some((result) => result.result === 'error');
    const read: Omit<LastChain, 'outcome'> = {
      inspect,
      image,
      generation,
      processes: !this.readsProcesses ? '' : candidate ? await this.processesKey(inspect).catch(() => undefined) : undefined,
    };
    const unchanged = candidate && read.processes !== undefined && last.processes === read.processes;
    let chain: ChainOutcome;
    if (skipped) chain = { results: [], compliant: true, memo: new Map<string, MemoizedResult>() };
    else if (unchanged) chain = last.outcome;
    else {
      chain = await runChain(this.policy.checks, (signal, check) => this.view(inspect, signal, check), {
        failFast: this.policy.failFast,
        imageVerdicts: this.imageVerdicts,
        imageId: inspect.Image,
        imageKey: image,
        excluded: (check) => check.exclude?.matches(target) === true,
        waivable: (result) => this.waivers.covers(result.check, target),
        previous: last?.outcome.memo,
        inputsKey: (check) => this.inputsKey(check, inspect),
      });
    }
    if (read.processes === undefined && this.readsProcesses && !skipped) {
      // Read by the chain's checks just now (cached): what they saw is what the next evaluation compares against.
      read.processes = await this.processesKey(inspect).catch(() => undefined);
    }
    this.chains.set(inspect.Id, { ...read, outcome: chain });
    const results = this.waivers.apply(chain.results, target);
    const excluded = alwaysAllowed
      ? []
      : this.policy.checks
          .filter((check) => check.scope !== 'host' && (excludedAll || check.exclude?.matches(target) === true))
          .map((check) => check.name);
    // A container that stopped while it was evaluated makes its checks fail (top answers 409, inspect
    // 404): it is gone, not in error.
    if (results.some((result) => result.result === 'error') && !(await this.stillRunning(inspect.Id))) {
      this.cache.forgetContainer(inspect.Id);
      this.chains.delete(inspect.Id);
      return undefined;
    }
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

  /** The host checks: run again only when the host's data has changed (a resync, a network or daemon event). */
  async evaluateHost(): Promise<HostReport> {
    const generation = this.cache.hostGeneration;
    if (this.hostResults?.generation === generation) return this.hostResults.report;
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
    // Errors are tried again next time; so is an evaluation the host's data changed under.
    if (!results.some((result) => result.result === 'error')) this.hostResults = { generation, report };
    return report;
  }

  /**
   * A resync: lists the running containers and evaluates each from a new inspect read, plus the host
   * checks on newly read host data. Throws when the engine cannot list containers.
   */
  async evaluateAll(): Promise<Evaluation> {
    this.cache.beginResync();
    this.cache.beginScan();
    const summaries = await this.cache.engine.listContainers();
    return this.evaluate(summaries, true);
  }

  /**
   * A scan: the containers whose inspect data the cache holds (kept current by events), each with its
   * processes read again; only the checks whose inputs changed run. Its one engine call is a ping, so
   * that an engine that stopped answering shows as down. Throws when the ping fails.
   */
  async evaluateKnown(): Promise<Evaluation> {
    await this.cache.engine.ping();
    this.cache.beginScan();
    return this.evaluate(this.cache.knownContainers(), false);
  }

  private async evaluate(containerIds: readonly { id: string; name: string; imageId?: string }[], listed: boolean): Promise<Evaluation> {
    const failed: Evaluation['failed'] = [];
    const [reports, host] = await Promise.all([
      Promise.all(
        containerIds.map((summary) =>
          this.evaluateContainer(summary.id, listed).catch((error: unknown) => {
            failed.push({ id: summary.id, name: summary.name, error: errorMessage(error) });
            return undefined;
          }),
        ),
      ),
      this.evaluateHost(),
    ]);
    const containers = reports.filter((report): report is ContainerReport => report !== undefined);
    this.retain(
      containerIds.map((summary) => summary.id),
      [...containers.map((report) => report.imageId), ...containerIds.flatMap((summary) => summary.imageId ?? [])],
      listed,
    );
    return { containers, failed, host };
  }

  private retain(containerIds: readonly string[], usedImageIds: readonly string[], listed: boolean): void {
    const imageIds = new Set(usedImageIds);
    const running = new Set(containerIds);
    this.cache.retain(running, imageIds, listed);
    for (const id of this.healthCommands.keys()) if (!running.has(id)) this.healthCommands.delete(id);
    for (const id of this.chains.keys()) if (!running.has(id)) this.chains.delete(id);
    for (const key of this.imageVerdicts.keys()) {
      if (!imageIds.has(key.slice(key.indexOf('\u0000') + 1))) this.imageVerdicts.delete(key);
    }
  }
}
