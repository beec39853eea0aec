import type {
  ContainerInspect,
  EngineInfo,
  EngineVersion,
  ExecInspect,
  ImageHistoryEntry,
  ImageInspect,
  NetworkInspect,
} from '../engine/types.js';

/** What a check may return, as the CFPB tool's PASS / PASS_FAST / FAIL. */
export type Verdict = 'pass' | 'pass_fast' | 'fail';
/** What the chain records: a verdict, or `error` when the check threw or timed out. */
export type ResultKind = Verdict | 'error';

export interface CheckOutcome {
  result: Verdict;
  /** Why the check failed (or passed fast), in words an operator can act on. */
  reason?: string | undefined;
}

export type CheckReturn = Verdict | CheckOutcome;

/** One process of a container, as the engine (or /proc) reports it from the host's point of view. */
export interface ContainerProcess {
  pid: number;
  /** Numeric user ID on the host; undefined only when the source gave a name that could not be resolved. */
  uid: number | undefined;
  /**
   * Whether the process is root inside the container's user namespace (UID 0 there): the same as
   * `uid === 0` without one, true with a host UID like 100000 under userns-remap, rootless engines and
   * `podman --uidmap`. Absent when the source cannot tell (Docker's `top`, which shows only host UIDs).
   */
  containerRoot?: boolean;
  user: string;
  command: string;
}

/** What a container-scoped or image-scoped check receives: inspect data, and the rest on demand. */
export interface ContainerView {
  readonly id: string;
  /** Name without the leading slash. */
  readonly name: string;
  /** `GET /containers/{id}/json`, as the engine returned it. */
  readonly inspect: ContainerInspect;
  /** `GET /images/{id}/json` of the container's image (cached per image ID). */
  image(): Promise<ImageInspect>;
  /** `GET /images/{id}/history`, newest first (cached per image ID). */
  imageHistory(): Promise<ImageHistoryEntry[]>;
  /** The container's processes (cached with a TTL; `top`, or /proc when the host's processes are visible). */
  processes(): Promise<ContainerProcess[]>;
  /** `GET /exec/{id}/json` for one of `inspect.ExecIDs`. */
  exec(id: string): Promise<ExecInspect>;
  /** The engine's `/info` (cached for one refresh). */
  engineInfo(): Promise<EngineInfo>;
  /** `GET /networks` (cached for one refresh). */
  networks(): Promise<NetworkInspect[]>;
  /** Aborted when the check's timeout expires. */
  readonly signal: AbortSignal;
}

/** What a host-scoped check receives. */
export interface HostView {
  engineInfo(): Promise<EngineInfo>;
  engineVersion(): Promise<EngineVersion>;
  networks(): Promise<NetworkInspect[]>;
  readonly signal: AbortSignal;
}

export type OptionValue = string | boolean | number | string[];
export type CheckOptions = Readonly<Record<string, OptionValue>>;

export type OptionType = 'boolean' | 'string' | 'list' | 'integer' | 'duration' | 'enum';

export interface OptionSpec {
  type: OptionType;
  description: string;
  default?: OptionValue;
  /** Allowed values of an `enum`. */
  values?: readonly string[];
  /** Must be given a non-empty value. */
  required?: boolean;
  /** Never logged or shown (tokens, passwords). */
  secret?: boolean;
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/**
 * `container`: runs on each container. `image`: runs once per image ID, the verdict reused by every
 * container of that image. `host`: runs once per refresh on the engine itself.
 */
export type CheckScope = 'container' | 'image' | 'host';

/** A loaded check, ready to run: the instance plus what the chain and the metrics need to know. */
export interface CheckInstance {
  /** Class name: the `check` label. */
  readonly name: string;
  /** The INI section it came from. */
  readonly section: string;
  readonly description: string;
  readonly scope: CheckScope;
  readonly severity: Severity;
  readonly cisId: string | undefined;
  readonly timeoutMs: number;
  run(target: ContainerView | HostView): Promise<CheckOutcome>;
}

export interface CheckResult {
  check: string;
  result: ResultKind;
  reason?: string | undefined;
}

/** The chain's verdict on one container. */
export interface ContainerReport {
  id: string;
  name: string;
  image: string;
  imageId: string;
  compliant: boolean;
  /** True when the image is listed in `[policy] always_allow`: no check ran. */
  alwaysAllowed: boolean;
  results: CheckResult[];
  /** Processes running as UID 0 on the host; undefined when the process list could not be read. */
  rootProcesses: number | undefined;
  /**
   * Processes running as UID 0 inside the container's user namespace (container root); undefined when
   * the list could not be read or its source cannot tell (Docker's `top`).
   */
  containerRootProcesses?: number | undefined;
  /** Those processes (cnitch's log and StatsD report each one); undefined when the list could not be read. */
  rootProcessList?: { pid: number; command: string }[] | undefined;
  /** State.StartedAt, so enforcement acts at most once per start. */
  startedAt: string;
  labels: Record<string, string>;
}

export interface HostReport {
  results: CheckResult[];
}
