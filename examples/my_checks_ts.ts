/**
 * Your own checks in TypeScript, with nothing to compile: Node.js 22.18+ and 24 load `.ts` modules by
 * stripping the types (so only erasable syntax: no parameter properties, enums or namespaces); on
 * Node.js 20 install tsx next to docker-monitor (`npm install -g tsx`). Name them in the policy file as `[my_checks_ts.<ClassName>]`. Only types are imported from
 * docker-monitor (erased when the module loads); outside this repository, import them from
 * 'docker-monitor' instead of '../src/policy/types.js'.
 */
import type { CheckOptions, CheckReturn, ContainerView, OptionSpec } from '../src/policy/types.js';

/** The CFPB README's `MyPolicyCheck`, typed: a verdict is 'pass', 'pass_fast', 'fail' or { result, reason }. */
export class MyPolicyCheck {
  static description = 'my custom policy check (TypeScript)';

  readonly config: CheckOptions;

  constructor(config: CheckOptions) {
    this.config = config;
  }

  check(_container: ContainerView): CheckReturn {
    if (this.config['pass'] === 'pass') return 'pass';
    if (this.config['pass'] === 'pass fast') return 'pass_fast';
    return 'fail';
  }
}

/** FAIL when a container runs more processes than `max`: reads the process list on demand. */
export class MaxProcessesCheck {
  static description = 'the container runs at most `max` processes';
  static options: Record<string, OptionSpec> = {
    max: { type: 'integer', default: 50, description: 'most processes a container may run' },
  };

  readonly config: CheckOptions;

  constructor(config: CheckOptions) {
    this.config = config;
  }

  async check(container: ContainerView): Promise<CheckReturn> {
    const max = this.config['max'] as number;
    const processes = await container.processes();
    if (processes.length <= max) return 'pass';
    return { result: 'fail', reason: `${processes.length} processes running (at most ${max})` };
  }
}
