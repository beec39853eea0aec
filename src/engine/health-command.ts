import type { ContainerInspect } from './types.js';

/**
 * The command a container's health check runs, as its exec sessions record it (`CMD-SHELL` through
 * `/bin/sh -c`); undefined without one.
 */
export function healthCheckCommand(inspect: ContainerInspect): string[] | undefined {
  const [kind, ...args] = inspect.Config?.Healthcheck?.Test ?? [];
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', ...args];
  if (kind === 'CMD') return args;
  return undefined;
}
