import { ContainerSelector } from '../policy/selector.js';

/** What `check` judges: the running containers (all, or those the selectors name), or files and images before they run. */
export interface CheckTargets {
  /** `--compose` files, merged in order. */
  compose: readonly string[];
  /** `--stack` files, each its own stack. */
  stacks: readonly string[];
  /** `--image` references of local images. */
  images: readonly string[];
  envFile?: string | undefined;
  /** `-p/--project-name` of the `--compose` files. */
  projectName?: string | undefined;
  profiles: readonly string[];
  /** `--container` and `--label` on the engine; undefined when none was given. */
  selector?: ContainerSelector | undefined;
  /** Whether the host checks run: without selectors, or with `--host`. */
  host: boolean;
}

/** The selector of `--container GLOB` and `--label KEY[=VALUE]` (any match), or undefined when neither was given. */
export function targetSelector(containers: readonly string[], labels: readonly string[]): ContainerSelector | undefined {
  if (containers.length === 0 && labels.length === 0) return undefined;
  return new ContainerSelector({ containers, images: [], labels });
}
