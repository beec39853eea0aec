import type { EngineVersion } from './types.js';

type Component = NonNullable<EngineVersion['Components']>[number];

/** Podman's Docker-compatible API names its engine among `/version`'s Components. */
export function podmanComponent(version: EngineVersion): Component | undefined {
  return version.Components?.find((entry) => entry.Name === 'Podman Engine');
}

export function isPodman(version: EngineVersion): boolean {
  return podmanComponent(version) !== undefined;
}
