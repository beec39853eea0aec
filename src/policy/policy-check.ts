import type {
  CheckOptions,
  CheckOutcome,
  CheckReturn,
  CheckScope,
  ContainerView,
  HostView,
  OptionSpec,
  Severity,
} from './types.js';

/**
 * The base of every check, as `docker_monitor.policy.PolicyCheck` was in the CFPB tool: options in
 * `this.config` (already parsed to booleans, numbers and lists per the class's `options`), verdict
 * constants on the instance, and one method that decides. A user's check may extend this class or be
 * any class with a `check()` method; the static fields are all optional.
 */
export abstract class PolicyCheck {
  /** Shown in `docker_monitor_check_info` and in `check` output. */
  static description = '';
  /** The keys the check accepts; left undefined, every key is accepted and passed on as a string. */
  static options: Readonly<Record<string, OptionSpec>> | undefined = undefined;
  static scope: CheckScope = 'container';
  /** Default for the `severity` key every check accepts. */
  static severity: Severity = 'medium';
  /** CIS Docker Benchmark v1.6.0 recommendation, for checks that implement one. */
  static cisId: string | undefined = undefined;

  readonly PASS = 'pass' as const;
  readonly PASS_FAST = 'pass_fast' as const;
  readonly FAIL = 'fail' as const;

  constructor(readonly config: CheckOptions) {}

  abstract check(target: ContainerView): CheckReturn | Promise<CheckReturn>;

  protected fail(reason: string): CheckOutcome {
    return { result: 'fail', reason };
  }

  protected passFast(reason: string): CheckOutcome {
    return { result: 'pass_fast', reason };
  }

  protected option<T extends CheckOptions[string]>(key: string): T {
    return this.config[key] as T;
  }
}

/** A check of the engine itself (CIS host checks), run once per refresh. */
export abstract class HostPolicyCheck {
  static description = '';
  static options: Readonly<Record<string, OptionSpec>> | undefined = {};
  static scope: CheckScope = 'host';
  static severity: Severity = 'medium';
  static cisId: string | undefined = undefined;

  readonly PASS = 'pass' as const;
  readonly FAIL = 'fail' as const;

  constructor(readonly config: CheckOptions) {}

  abstract check(host: HostView): CheckReturn | Promise<CheckReturn>;

  protected fail(reason: string): CheckOutcome {
    return { result: 'fail', reason };
  }
}

/** What the loader needs of a check class, whether or not it extends PolicyCheck. */
export interface CheckClass {
  new (config: CheckOptions): { check(target: ContainerView & HostView): unknown; config?: CheckOptions };
  readonly name: string;
  description?: string;
  options?: Readonly<Record<string, OptionSpec>> | undefined;
  scope?: CheckScope;
  severity?: Severity;
  cisId?: string | undefined;
}

export function isCheckClass(value: unknown): value is CheckClass {
  return (
    typeof value === 'function' &&
    typeof (value as { prototype?: { check?: unknown } }).prototype?.check === 'function'
  );
}
