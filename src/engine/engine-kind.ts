import type { EngineInfo, EngineVersion } from './types.js';

type Component = NonNullable<EngineVersion['Components']>[number];

/** Podman's Docker-compatible API names its engine among `/version`'s Components. */
export function podmanComponent(version: EngineVersion): Component | undefined {
  return version.Components?.find((entry) => entry.Name === 'Podman Engine');
}

export function isPodman(version: EngineVersion): boolean {
  return podmanComponent(version) !== undefined;
}

/**
 * The same from `/info`, for checks that read only the engine's info: Podman's Docker-compatible `/info`
 * names the Buildah it builds with; dockerd's has no such field.
 */
export function isPodmanInfo(info: EngineInfo): boolean {
  return typeof (info as { BuildahVersion?: unknown }).BuildahVersion === 'string';
}
