import { errorMessage } from '../errors.js';

/** Why the engine could not be reached, as a short kind (to log once per change) and a hint a user can act on. */
export interface Unreachable {
  kind: string;
  hint: string;
}

/**
 * Classifies a failed engine call. The socket's errno tells the common start-up mistakes apart: a socket the
 * user may not open (EACCES: not in the socket's group), one that is not there, or an engine that is down.
 */
export function describeUnreachable(address: string, error: unknown): Unreachable {
  const code = (error as NodeJS.ErrnoException).code;
  const socket = address.startsWith('unix://') ? address.slice('unix://'.length) : address.startsWith('/') ? address : undefined;
  if (code === 'EACCES' || code === 'EPERM') {
    return {
      kind: 'denied',
      hint:
        socket === undefined
          ? 'permission denied'
          : `permission denied: run as root or as a member of the socket's group (in a container: --group-add $(stat -c %g ${socket}))`,
    };
  }
  if (code === 'ENOENT') {
    return {
      kind: 'missing',
      hint: `no socket at ${socket ?? address}: is the engine running? In a container, mount it (-v ${socket ?? '/var/run/docker.sock'}:${socket ?? '/var/run/docker.sock'}:ro); or set --docker.host`,
    };
  }
  if (code === 'ECONNREFUSED')
    return { kind: 'refused', hint: `nothing accepts connections at ${address}: is the engine running? set --docker.host or DOCKER_HOST` };
  if ((error as { statusCode?: number }).statusCode !== undefined) return { kind: 'status', hint: errorMessage(error) };
  if (/timed out/.test(errorMessage(error))) return { kind: 'timeout', hint: errorMessage(error) };
  return { kind: 'other', hint: errorMessage(error) };
}
