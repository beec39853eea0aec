/** `check --image REF`: local images as targets of the image checks, whether a container runs them or not. */
import type { EngineCache } from '../engine/engine-cache.js';
import { UsageError } from '../errors.js';
import { localImage } from './compose-targets.js';
import type { StaticTarget } from './judge-static.js';

export async function imageTargets(references: readonly string[], cache: EngineCache): Promise<StaticTarget[]> {
  const targets: StaticTarget[] = [];
  for (const reference of references) {
    const image = await localImage(cache, reference);
    if (image === undefined) throw new UsageError(`--image ${reference}: the engine has no such image (pull or build it first)`);
    targets.push({
      image: reference,
      imageInspect: image,
      inspect: { Id: '', Name: reference, Image: image.Id, Config: { ...(image.Config ?? {}), Image: reference } },
    });
  }
  return targets;
}
