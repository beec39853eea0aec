import type {
  CheckContext,
  CheckInput,
  CheckMetric,
  CheckOptions,
  CheckOutcome,
  CheckReturn,
  CheckScope,
  ContainerView,
  HostView,
  OptionSpecs,
  Severity,
} from './types.js';

/** What every check class shares: its metadata, its parsed options and the verdicts it returns. */
abstract class CheckBase<Config extends object = CheckOptions> {
  /** Shown in `docker_monitor_check_info` and in `check` output. */
  static description = '';
  /** One short sentence on how to fix a failure: shown by `check` and the status page. */
  static remediation: string | undefined = undefined;
  /** The keys the check accepts; left undefined, every key is accepted and passed on as a string. */
  static options: OptionSpecs | undefined = undefined;
  static scope: CheckScope = 'container';
  /** Default for the `severity` key every check accepts. */
  static severity: Severity = 'medium';
  /** CIS Docker Benchmark v1.6.0 recommendation, for checks that implement one. */
  static cisId: string | undefined = undefined;
  /** Metrics the check's results fill from their `data`. */
  static metrics: readonly CheckMetric<never>[] = [];
  /**
   * What the check reads: its result is computed again only when one of these has changed. Left
   * undefined, the check is taken to read everything, and its view offers everything.
   */
  static inputs: readonly CheckInput[] | undefined = undefined;

  readonly PASS = 'pass' as const;
  readonly FAIL = 'fail' as const;

  constructor(readonly config: Config) {}

  fail(reason: string): CheckOutcome {
    return { result: 'fail', reason };
  }
}

/**
 * The base of every container check, as `docker_monitor.policy.PolicyCheck` was in the CFPB tool:
 * options in `this.config` (already parsed to booleans, numbers and lists per the class's `options`),
 * verdict constants on the instance, and one method that decides. A user's check may extend this class
 * or be any class with a `check()` method; the static fields are all optional. Built-in checks extend
 * `builtInCheck(...)` (built-in-check.ts) instead, which declares them all.
 */
export abstract class PolicyCheck<Config extends object = CheckOptions> extends CheckBase<Config> {
  readonly PASS_FAST = 'pass_fast' as const;

  abstract check(target: ContainerView): CheckReturn | Promise<CheckReturn>;

  passFast(reason: string): CheckOutcome {
    return { result: 'pass_fast', reason };
  }
}

/** A check of the engine itself (CIS host checks), run once per refresh. */
export abstract class HostPolicyCheck<Config extends object = CheckOptions> extends CheckBase<Config> {
  static override options: OptionSpecs | undefined = {};
  static override scope: CheckScope = 'host';

  abstract check(host: HostView): CheckReturn | Promise<CheckReturn>;
}

/** What the loader needs of a check class, whether or not it extends PolicyCheck. */
export interface CheckClass {
  new (config: CheckOptions, context: CheckContext): { check(target: ContainerView & HostView): unknown; config?: CheckOptions };
  readonly name: string;
  description?: string;
  remediation?: string | undefined;
  options?: OptionSpecs | undefined;
  scope?: CheckScope;
  severity?: Severity;
  cisId?: string | undefined;
  metrics?: readonly CheckMetric<never>[];
  inputs?: readonly CheckInput[] | undefined;
}

export function isCheckClass(value: unknown): value is CheckClass {
  return typeof value === 'function' && typeof (value as { prototype?: { check?: unknown } }).prototype?.check === 'function';
}
