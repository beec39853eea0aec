import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * node:http and node:https, loaded at the first request that needs them: on Node.js 22 loading
 * node:http alone costs about 25 ms of CPU, and node:https brings node:tls, which an engine on a unix
 * socket never needs (see docs/performance.md, "Start-up of check --compose").
 */
export function lazyHttp(): typeof import('node:http') {
  return require('node:http') as typeof import('node:http');
}

export function lazyHttps(): typeof import('node:https') {
  return require('node:https') as typeof import('node:https');
}
