import type { CheckInstance, ContainerReport, HostReport } from '../policy/types.js';

/** One `check` run as every output format sees it: the evaluation, and the chain that made it. */
export interface CheckRun {
  containers: readonly ContainerReport[];
  /** Containers listed as running whose evaluation failed, with why. */
  failed: readonly { id: string; name: string; error: string }[];
  host: HostReport;
  checks: readonly CheckInstance[];
}
