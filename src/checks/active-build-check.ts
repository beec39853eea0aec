import { builtInCheck } from '../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../policy/types.js';

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

/**
 * PASS_FAST for containers that are building an image, so the checks after it leave builds alone.
 * The classic builder runs each RUN step (shell or exec form) in a container made from the previous
 * step's bare image ID, with the healthcheck forced off and logging off (`LogConfig` `none`); BuildKit runs in
 * `moby/buildkit` containers that buildx names `buildx_buildkit_<builder>`.
 */
export class ActiveBuildCheck extends builtInCheck({
  description: 'containers building an image pass fast (later checks skip them)',
  remediation: 'Nothing to fix: a container building an image is skipped until the build ends.',
  severity: 'info',
  inputs: ['inspect'],
  options: {},
}) {
  check({ name, inspect }: ContainerView): CheckReturn {
    const config = inspect.Config ?? {};
    const image = config.Image ?? '';
    const healthcheckOff = config.Healthcheck?.Test?.[0] === 'NONE';
    const loggingOff = inspect.HostConfig?.LogConfig?.Type === 'none';
    if (IMAGE_ID.test(image) && healthcheckOff && loggingOff) {
      return this.passFast('classic builder step (RUN) in progress');
    }
    if (name.startsWith('buildx_buildkit_') || /^(docker\.io\/)?moby\/buildkit(:|@|$)/.test(image)) {
      return this.passFast('BuildKit builder container');
    }
    return this.PASS;
  }
}
