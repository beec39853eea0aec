/**
 * How one Engine API request reaches the engine. Over a unix socket, TCP or TLS it is one `node:http` or
 * `node:https` request, as docker-modem itself makes it; over ssh:// it is docker-modem's SSH transport,
 * loaded only then: docker-modem loads the ssh2 library as it loads, which a local engine never needs
 * (see docs/performance.md, "Start-up").
 */
import { statSync } from 'node:fs';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { stringify } from 'node:querystring';
import { lazyHttp, lazyHttps } from './lazy-http.js';
import type { ConnectionOptions } from './engine-address.js';

export type Method = 'GET' | 'POST';
export type Query = Record<string, string | Record<string, string[]>>;

/** Opens a request and resolves with the response as soon as its headers arrive, whatever its status. */
export type Transport = (path: string, method: Method, query: Query, signal: AbortSignal) => Promise<IncomingMessage>;

/** Every HTTP status counts as an answer for docker-modem: statuses are judged by the caller, after a bounded read. */
const EVERY_STATUS: Record<number, true> = Object.fromEntries(Array.from({ length: 500 }, (_, index) => [index + 100, true]));

/** As docker-modem encodes a query: objects (the events filter) as JSON, everything else as it is. */
function queryString(query: Query): string {
  const encoded = stringify(
    Object.fromEntries(Object.entries(query).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)])),
  );
  return encoded === '' ? '' : `?${encoded}`;
}

export function createTransport(options: ConnectionOptions): Transport {
  return options.protocol === 'ssh' ? sshTransport(options) : httpTransport(options);
}

/**
 * Whether nothing is at a socket's path. A path that cannot be looked at (a folder the user may not
 * search) is not "missing": connecting says why (EACCES), and the hint names the group to add.
 */
function socketMissing(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

function httpTransport(options: ConnectionOptions): Transport {
  const tls = options.protocol === 'https';
  const target: RequestOptions =
    options.socketPath !== undefined ? { socketPath: options.socketPath } : { host: options.host, port: options.port };
  const tlsOptions = tls
    ? { ca: options.ca, cert: options.cert, key: options.key, ...(options.agent ? { agent: options.agent } : {}) }
    : {};
  const socketPath = options.socketPath;
  return (path, method, query, signal) =>
    new Promise((resolve, reject) => {
      // A socket that is not there fails as connecting to it would, before the HTTP client is loaded:
      // `check --compose` in a CI job without an engine never loads it.
      if (socketPath !== undefined && socketMissing(socketPath)) {
        reject(
          Object.assign(new Error(`connect ENOENT ${socketPath}`), { errno: -2, code: 'ENOENT', syscall: 'connect', address: socketPath }),
        );
        return;
      }
      const send = tls ? lazyHttps().request : lazyHttp().request;
      const request = send({ ...target, ...tlsOptions, path: `${path}${queryString(query)}`, method, signal }, resolve);
      request.on('error', reject);
      request.end();
    });
}

function sshTransport(options: ConnectionOptions): Transport {
  let modem: Promise<import('docker-modem')> | undefined;
  return async (path, method, query, signal) => {
    modem ??= import('docker-modem').then(({ default: Modem }) => new Modem(options));
    const client = await modem;
    return new Promise((resolve, reject) => {
      client.dial(
        { path: `${path}?`, method, options: { ...query }, abortSignal: signal, isStream: true, statusCodes: EVERY_STATUS },
        (error, response) => {
          if (error) reject(error);
          else resolve(response as IncomingMessage);
        },
      );
    });
  };
}
