/** Compose and stack services as targets of `check`: loaded, mapped to inspect data, their images read when local. */
import type { EngineCache } from '../engine/engine-cache.js';
import { isNotFound } from '../engine/not-found.js';
import type { ImageInspect } from '../engine/types.js';
import { engineSecurityFeatures } from '../checks/cis/security-option-parsers.js';
import type { StaticTarget } from './judge-static.js';
import { loadCompose, type ComposeOptions } from './load-compose.js';
import { toContainer, type Orchestrator } from './to-inspect.js';

/** A local image by reference or ID; undefined when the engine does not have it. */
export async function localImage(cache: EngineCache, reference: string): Promise<ImageInspect | undefined> {
  try {
    return await cache.engine.inspectImage(reference);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function composeTargets(
  files: readonly string[],
  options: ComposeOptions,
  cache: EngineCache | undefined,
  orchestrator: Orchestrator,
): Promise<StaticTarget[]> {
  const project = loadCompose(files, options);
  const info = cache === undefined ? undefined : await cache.info();
  const appArmor = info === undefined ? undefined : engineSecurityFeatures(info).has('apparmor');
  const services = project.services.map((service) => ({
    service,
    reference: typeof service.config['image'] === 'string' ? service.config['image'] : `${project.name}-${service.name}`,
  }));
  // Each image read once, all at once (the engine client bounds how many are in flight).
  const references = [...new Set(services.map(({ reference }) => reference))];
  const images = new Map(
    cache === undefined
      ? []
      : await Promise.all(references.map(async (reference) => [reference, await localImage(cache, reference)] as const)),
  );
  return services.map(({ service, reference }) => {
    const imageInspect = images.get(reference);
    const container = toContainer(project, service, imageInspect, { appArmor }, orchestrator);
    return { ...container, imageInspect, service: { name: service.name, position: service.position, keys: service.keys } };
  });
}
