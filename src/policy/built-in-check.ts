import { HostPolicyCheck, PolicyCheck, type CheckClass } from './policy-check.js';
import type { CheckContext, CheckInput, CheckMetric, CheckOptions, CheckScope, OptionSpecs, OptionValues, Severity } from './types.js';

/**
 * The one declaration of a built-in check: what it reads, the options it takes (their types and
 * defaults) and what it tells operators. Unlike a user's check, a built-in declares all of them, so
 * every key it is given is checked and its result is reused only while what it reads is unchanged.
 */
export interface CheckDefinition<Options extends OptionSpecs> {
  /** Shown in `docker_monitor_check_info` and in `check` output. */
  readonly description: string;
  /** One short sentence on how to fix a failure: shown by `check` and the status page. */
  readonly remediation: string;
  /** Default for the `severity` key every check accepts. */
  readonly severity: Severity;
  /** CIS Docker Benchmark v1.6.0 recommendation, for checks that implement one. */
  readonly cisId?: string;
  /** What the check reads (see CheckInput); its view offers only these. */
  readonly inputs: readonly CheckInput[];
  /** Every key the check accepts beside the common ones (`{}` for none); any other key is a load error. */
  readonly options: Options;
  /** Metrics the check's results fill from their `data`. */
  readonly metrics?: readonly CheckMetric<never>[];
}

/** The static side every built-in check class has, declared (not left to defaults). */
export interface BuiltInStatics {
  readonly description: string;
  readonly remediation: string;
  readonly severity: Severity;
  readonly cisId: string | undefined;
  readonly scope: CheckScope;
  readonly inputs: readonly CheckInput[];
  readonly options: OptionSpecs;
  readonly metrics: readonly CheckMetric<never>[];
}

/** A built-in check class: the loader builds it from parsed options, which its instances read typed. */
export type BuiltInCheckClass = CheckClass & BuiltInStatics;

export type BuiltInBase<Base extends abstract new (config: never) => unknown> = (abstract new (
  config: CheckOptions,
  context: CheckContext,
) => InstanceType<Base>) &
  BuiltInStatics;

function staticsOf(definition: CheckDefinition<OptionSpecs>, scope: CheckScope): BuiltInStatics {
  const { description, remediation, severity, cisId, inputs, options, metrics = [] } = definition;
  return { description, remediation, severity, cisId, scope, inputs, options, metrics };
}

/**
 * The base class of a built-in container (or image) check, from its one declaration:
 *
 *     export class MyCheck extends builtInCheck({ description, remediation, severity, inputs: ['inspect'], options: {} }) { check(...) }
 *
 * `this.config` holds the declared options, typed by their table and with their defaults filled in.
 */
export function builtInCheck<const Options extends OptionSpecs>(
  definition: CheckDefinition<Options> & { readonly scope?: 'container' | 'image' },
): BuiltInBase<typeof PolicyCheck<OptionValues<Options>>> {
  abstract class BuiltInCheck extends PolicyCheck<OptionValues<Options>> {
    constructor(config: CheckOptions) {
      // The loader parsed `config` with this very option table (parseOptions), so it has this shape.
      super(config as OptionValues<Options>);
    }
  }
  return Object.assign(BuiltInCheck, staticsOf(definition, definition.scope ?? 'container'));
}

/** The base class of a built-in check of the engine itself, from its one declaration (see builtInCheck). */
export function builtInHostCheck<const Options extends OptionSpecs>(
  definition: CheckDefinition<Options>,
): BuiltInBase<typeof HostPolicyCheck<OptionValues<Options>>> {
  abstract class BuiltInHostCheck extends HostPolicyCheck<OptionValues<Options>> {
    constructor(config: CheckOptions) {
      super(config as OptionValues<Options>);
    }
  }
  return Object.assign(BuiltInHostCheck, staticsOf(definition, 'host'));
}
