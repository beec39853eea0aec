import type { Logger } from '../log.js';
import type {
  ContainerInspect,
  ContainerProcess,
  EngineInfo,
  EngineVersion,
  ExecInspect,
  ImageHistoryEntry,
  ImageInspect,
  NetworkInspect,
} from '../engine/types.js';
import type { ContainerSelector } from './selector.js';

export type { ContainerProcess } from '../engine/types.js';

/** What a check may return, as the CFPB tool's PASS / PASS_FAST / FAIL. */
export type Verdict = 'pass' | 'pass_fast' | 'fail';
/**
 * What the chain records: a verdict, `error` when the check threw or timed out, `waived` for a FAIL a
 * waiver covers, `not_applicable` when the check cannot be decided for this target (a compose service
 * judged before it runs: its processes, exec sessions or health status; a value only its absent image holds).
 */
export type ResultKind = Verdict | 'error' | 'waived' | 'not_applicable';
/** The waiver that turned a FAIL into `waived`. */
export interface WaiverRef {
  name: string;
  reason: string;
  /** YYYY-MM-DD; the waiver ends at the start of that day, UTC. */
  expires?: string | undefined;
}

export interface CheckOutcome<Data = unknown> {
  result: Verdict;
  /** Why the check failed (or passed fast), in words an operator can act on. */
  reason?: string | undefined;
  /** What the check found (the root processes, the vulnerability counts), for its metrics and reporters. */
  data?: Data;
}

export type CheckReturn = Verdict | CheckOutcome;

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

/** Runs tasks with a bound on how many run at once. */
export interface TaskPool {
  /** Asks for at most this many at once; the smallest request wins. */
  request(concurrency: number): void;
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** What the checks of one loaded policy share with each other, and with nothing outside that policy. */
export interface CheckContext {
  /** Every image scan of the policy's scanner checks waits for a place here. */
  readonly scanPool: TaskPool;
  /** Where a check's machinery logs (users' checks: their workers' stops and their output). */
  readonly logger?: Logger | undefined;
}

export type OptionValue = string | boolean | number | readonly string[];
export type CheckOptions = Readonly<Record<string, OptionValue>>;

/** `timeout`: a duration something waits for, more than 0 and at most 24d (what a timer holds). */
export type OptionType = 'boolean' | 'string' | 'list' | 'integer' | 'duration' | 'timeout' | 'enum';

export interface OptionSpec {
  type: OptionType;
  description: string;
  default?: OptionValue;
  /** Allowed values of an `enum`. */
  values?: readonly string[];
  /** Must be given a non-empty value. */
  required?: boolean;
}

/** A check's option table: each key it accepts, with its type and default. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What an option of `Spec` holds once parsed: its `type` decides (an `enum`, one of its `values`). */
export type OptionValueOf<Spec extends OptionSpec> = Spec['type'] extends 'boolean'
  ? boolean
  : Spec['type'] extends 'integer' | 'duration' | 'timeout'
    ? number
    : Spec['type'] extends 'list'
      ? readonly string[]
      : Spec extends { type: 'enum'; values: readonly (infer Value extends string)[] }
        ? Value
        : string;

/** Keys of `Specs` that always hold a value once parsed: those with a default, and required ones. */
type AlwaysSet<Specs extends OptionSpecs> = {
  [Key in keyof Specs]: Specs[Key] extends { default: unknown } | { required: true } ? Key : never;
}[keyof Specs];

/**
 * The options a check with the option table `Specs` receives, as `parseOptions` makes them: every key
 * with a default or required is set, the others only when the policy gives them.
 */
export type OptionValues<Specs extends OptionSpecs> = {
  readonly [Key in AlwaysSet<Specs>]: OptionValueOf<Specs[Key]>;
} & {
  readonly [Key in Exclude<keyof Specs, AlwaysSet<Specs>>]?: OptionValueOf<Specs[Key]>;
};

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/**
 * `container`: runs on each container. `image`: runs once per image ID, the verdict reused by every
 * container of that image. `host`: runs once per refresh on the engine itself.
 */
export type CheckScope = 'container' | 'image' | 'host';

/**
 * What a check reads, and so what must change before its result can: `inspect` (the container's
 * inspect data), `image` (image inspect and history, per image ID), `processes` (the container's
 * process list), `exec` (its exec sessions) and `engine` (`/info`, `/version`, `/networks`).
 */
export type CheckInput = 'inspect' | 'image' | 'processes' | 'exec' | 'engine';
/** Every input: what a check that declares none is taken to read. */
export const CHECK_INPUTS: readonly CheckInput[] = ['inspect', 'image', 'processes', 'exec', 'engine'];

/** A loaded check, ready to run: the instance plus what the chain and the metrics need to know. */
export interface CheckInstance {
  /** Class name: the `check` label. */
  readonly name: string;
  /** The INI section it came from. */
  readonly section: string;
  readonly description: string;
  /** One sentence on how to fix a failure; undefined when the check gives none. */
  readonly remediation?: string | undefined;
  readonly scope: CheckScope;
  readonly severity: Severity;
  readonly cisId: string | undefined;
  readonly timeoutMs: number;
  /** Metrics the check brings, made from the data of its results. */
  readonly metrics: readonly CheckMetric[];
  /** Containers this check skips (`exclude_*` in its section); undefined when none. */
  readonly exclude?: ContainerSelector | undefined;
  /** What it reads (its class's `inputs`; every input when the class declares none): its view offers only these. */
  readonly inputs: readonly CheckInput[];
  run(target: ContainerView | HostView): Promise<CheckOutcome>;
  /** Frees what the check holds (a user's check: its worker thread), when a reload replaces it. */
  close?(): Promise<void>;
}

/** One series of a check's own metric. */
export interface MetricSample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/**
 * A metric that a check brings with it (a gauge): the exporter registers it once per policy and fills
 * it at each scrape from the `data` of that check's results in the monitor's state, so a new check
 * needs no wiring. Results without data (errors, checks that did not run) give no series.
 */
export interface CheckMetric<Data = unknown> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** The series for one container's result; series with equal labels from several containers are one. */
  samples(data: Data, container: { name: string; image: string; imageId: string }): readonly MetricSample[];
}

export interface CheckResult {
  check: string;
  result: ResultKind;
  reason?: string | undefined;
  /** The check's findings (see CheckOutcome.data); undefined for errors and checks that return none. */
  data?: unknown;
  waiver?: WaiverRef | undefined;
  /** A compose service's result: the key the check read (or the service, when the key is absent). */
  source?: SourcePosition | undefined;
}

/** Where a target judged before it runs is written: a compose or stack file, 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
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
  /** Checks an exclusion (`exclude_*`) kept from running on this container: shown as excluded, never exported. */
  excluded?: readonly string[] | undefined;
  /** State.StartedAt, so enforcement acts at most once per start. */
  startedAt: string;
  labels: Record<string, string>;
  /** A compose (or stack) service judged before it runs: where it is written. */
  source?: (SourcePosition & { service: string }) | undefined;
}

export interface HostReport {
  results: CheckResult[];
}
