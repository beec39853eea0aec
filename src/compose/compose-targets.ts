/** Compose and stack services as targets of `check`: loaded, mapped to inspect data, their images read when local. */
import type { EngineCache } from '../engine/engine-cache.js';
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
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
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
  const targets: StaticTarget[] = [];
  for (const service of project.services) {
    const reference = typeof service.config['image'] === 'string' ? service.config['image'] : `${project.name}-${service.name}`;
    const imageInspect = cache === undefined ? undefined : await localImage(cache, reference);
    const container = toContainer(project, service, imageInspect, { appArmor }, orchestrator);
    targets.push({ ...container, imageInspect, service: { name: service.name, position: service.position, keys: service.keys } });
  }
  return targets;
}
