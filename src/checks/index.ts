import type { BuiltInCheckClass } from '../policy/built-in-check.js';
import { ActiveBuildCheck } from './active-build-check.js';
import { CIS_CHECKS } from './cis/index.js';
import { ImageUserCheck } from './cis/image-checks.js';
import { PrismaScanCheck } from './prisma-scan-check.js';
import { RootProcessCheck } from './root-process-check.js';
import { RunningAsRootCheck } from './running-as-root-check.js';
import { TrivyScanCheck } from './trivy-scan-check.js';

/** Built-in checks by the name used in `[docker_monitor.checks.<Name>]`. */
export const BUILT_IN_CHECKS: Readonly<Record<string, BuiltInCheckClass>> = Object.fromEntries(
  [ActiveBuildCheck, RunningAsRootCheck, RootProcessCheck, PrismaScanCheck, TrivyScanCheck, ...CIS_CHECKS, ImageUserCheck].map(
    (checkClass) => [checkClass.name, checkClass],
  ),
);
