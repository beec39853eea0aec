/**
 * The package's public entry: what a user's own check may import. Type imports are erased when a
 * check module loads, so they work wherever the check lives; importing `PolicyCheck` at run time needs
 * the package resolvable from the check's folder.
 */
export { HostPolicyCheck, PolicyCheck } from './policy/policy-check.js';
export type {
  CheckContext,
  CheckMetric,
  CheckOptions,
  CheckOutcome,
  CheckReturn,
  CheckScope,
  ContainerProcess,
  ContainerView,
  HostView,
  MetricSample,
  OptionSpec,
  OptionType,
  OptionValue,
  Severity,
  Verdict,
} from './policy/types.js';
export type { ContainerInspect, EngineInfo, ExecInspect, ImageHistoryEntry, ImageInspect, NetworkInspect } from './engine/types.js';
