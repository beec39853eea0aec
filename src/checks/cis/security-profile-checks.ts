import { builtInCheck } from '../../policy/built-in-check.js';
import type { CheckOutcome, CheckReturn, ContainerView, OptionSpec } from '../../policy/types.js';
import { engineSecurityFeatures, securityOptions } from './security-option-parsers.js';

/** The option that judges containers although the engine does not report the security module. */
function requireOption(module: string) {
  return {
    type: 'boolean',
    default: false,
    description: `judge containers even when the engine does not report ${module} (without it, they all fail)`,
  } as const satisfies OptionSpec;
}

/** What the AppArmor and SELinux checks share: they read the container and whether the engine uses the module. */
const SECURITY_MODULE_CHECK = { severity: 'medium', inputs: ['inspect', 'engine'] } as const;

/** A pass that says why, when the engine does not use the module (per `/info`) and the policy does not require it. */
async function moduleNotInUse(
  container: ContainerView,
  feature: string,
  module: string,
  required: boolean,
): Promise<CheckOutcome | undefined> {
  if (required || engineSecurityFeatures(await container.engineInfo()).has(feature)) return undefined;
  return { result: 'pass', reason: `the engine does not use ${module}` };
}

/**
 * CIS 5.2, as its audit reads `AppArmorProfile`: empty or `unconfined` fails. An explicit
 * `--security-opt apparmor=unconfined` fails on every host: where the engine has no AppArmor it leaves
 * `AppArmorProfile` empty and only `SecurityOpt` shows the request. An empty profile without that, on an
 * engine that does not report AppArmor in `/info`, is the recommendation's "if applicable": it passes
 * as not applicable, unless `require_apparmor` is on.
 */
export class AppArmorProfileCheck extends builtInCheck({
  description: 'the container runs under an AppArmor profile (where the engine has AppArmor)',
  remediation: 'Run the container with an AppArmor profile: drop --security-opt apparmor=unconfined (docker-default applies).',
  ...SECURITY_MODULE_CHECK,
  cisId: '5.2',
  options: { require_apparmor: requireOption('AppArmor') },
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const profile = container.inspect.AppArmorProfile ?? '';
    if (profile === 'unconfined') return this.fail('AppArmor profile "unconfined"');
    const requested = securityOptions(container.inspect).some(({ key, value }) => key === 'apparmor' && value === 'unconfined');
    if (requested) return this.fail('started with apparmor=unconfined');
    if (profile !== '') return this.PASS;
    const notInUse = await moduleNotInUse(container, 'apparmor', 'AppArmor', this.config.require_apparmor);
    return notInUse ?? this.fail('no AppArmor profile');
  }
}

/**
 * CIS 5.3: SELinux label options are set. Judged only where the engine reports SELinux in `/info`
 * (`require_selinux` judges anyway); only a `label=` option counts, and `label=disable` fails.
 * `Privileged` is not read (the audit reads `SecurityOpt` only; PrivilegedContainerCheck, 5.5, fails it).
 */
export class SelinuxOptionsCheck extends builtInCheck({
  description: 'SELinux label options are set (where the engine has SELinux)',
  remediation: 'Start the container with --security-opt label=level:... or label=type:... on an SELinux-enabled engine.',
  ...SECURITY_MODULE_CHECK,
  cisId: '5.3',
  options: { require_selinux: requireOption('SELinux') },
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const notInUse = await moduleNotInUse(container, 'selinux', 'SELinux', this.config.require_selinux);
    if (notInUse !== undefined) return notInUse;
    const labels = securityOptions(container.inspect).filter(({ key }) => key === 'label');
    if (labels.some(({ value }) => value === 'disable')) return this.fail('SELinux labelling disabled (label=disable)');
    return labels.length > 0 ? this.PASS : this.fail('no SELinux label options (--security-opt label=…)');
  }
}

/**
 * CIS 5.22, as its audit reads `SecurityOpt`: no `seccomp=unconfined`. A privileged container also runs
 * without seccomp, but the audit does not read `Privileged`: PrivilegedContainerCheck (5.5) fails it.
 */
export class SeccompUnconfinedCheck extends builtInCheck({
  description: 'seccomp is not disabled',
  remediation: 'Remove --security-opt seccomp=unconfined; use the default or a custom seccomp profile.',
  severity: 'high',
  cisId: '5.22',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const unconfined = securityOptions(inspect).some(({ key, value }) => key === 'seccomp' && value === 'unconfined');
    return unconfined ? this.fail('seccomp=unconfined') : this.PASS;
  }
}

/**
 * CIS 5.26: processes cannot gain privileges (setuid binaries, file capabilities). Set per container
 * with `--security-opt no-new-privileges`, or daemon-wide, which `/info` reports from Engine 24.0 on.
 * An explicit `no-new-privileges=false` fails even under the daemon-wide setting.
 */
export class NoNewPrivilegesCheck extends builtInCheck({
  description: 'the container cannot gain new privileges (no-new-privileges)',
  remediation: 'Start the container with --security-opt no-new-privileges (or set it as the engine default).',
  severity: 'medium',
  cisId: '5.26',
  inputs: ['inspect', 'engine'],
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const setting = securityOptions(container.inspect).find(({ key }) => key === 'no-new-privileges');
    if (setting !== undefined) {
      const value = (setting.value ?? 'true').toLowerCase();
      return value === 'true' ? this.PASS : this.fail(`no-new-privileges=${setting.value ?? ''} turns it off`);
    }
    if (engineSecurityFeatures(await container.engineInfo()).has('no-new-privileges')) {
      return { result: this.PASS, reason: 'set daemon-wide' };
    }
    return this.fail('no-new-privileges is not set');
  }
}
