/**
 * Where the engine is and how to reach it, decided as the docker CLI decides it: `--docker.host`, else
 * `--docker.context`, else DOCKER_HOST, else DOCKER_CONTEXT, else the context store's current context,
 * else the local socket. The result is the connection options (docker-modem's shape) plus what the rest
 * of the exporter needs to know (an address fit for messages, and whether the engine may be on another
 * machine).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Agent as HttpsAgent } from 'node:https';
import { lazyHttps } from './lazy-http.js';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type Modem from 'docker-modem';
import { UsageError, type Sourced } from '../errors.js';
import { readContext, type ContextEndpoint } from './docker-context.js';
import { knownHostsVerifier } from './known-hosts.js';
import { requireTlsFiles, type TlsFiles } from './tls-files.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** What the user chose; every part optional. */
export interface EngineSelection {
  host?: Sourced | undefined;
  context?: Sourced | undefined;
  tlsVerify?: Sourced<boolean> | undefined;
  certPath?: Sourced | undefined;
}

/** docker-modem's options, with the TLS agent it passes through (only for SkipTLSVerify contexts). */
export type ConnectionOptions = Modem.ConstructorOptions & { agent?: HttpsAgent };

export interface EngineAddress {
  /** The address without credentials, for log lines and errors. */
  display: string;
  /** `unix`, `tcp` or `ssh`. */
  scheme: 'unix' | 'tcp' | 'ssh';
  /** The engine may run on another machine, so its containers' processes are not in this /proc. */
  remote: boolean;
  /** How the address was chosen (`--docker.host`, `DOCKER_HOST`, `context "prod"`, `default`). */
  chosenBy: string;
  options: ConnectionOptions;
}

/** The docker CLI's configuration folder: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
}

/** Resolves the user's choice to one engine address. Throws a UsageError (exit 2) naming the flag or variable at fault. */
export function resolveEngineAddress(selection: EngineSelection, env: NodeJS.ProcessEnv = process.env): EngineAddress {
  const { host, context } = selection;
  if (host !== undefined && context !== undefined) {
    throw new UsageError(`${host.source} and ${context.source} both name an engine: give one of them`);
  }
  if (host !== undefined) return parseEngineAddress(host, env, selection);
  if (context !== undefined) return fromContext(context, env);
  if (env['DOCKER_HOST']) return parseEngineAddress({ value: env['DOCKER_HOST'], source: 'DOCKER_HOST' }, env, selection);
  if (env['DOCKER_CONTEXT']) return fromContext({ value: env['DOCKER_CONTEXT'], source: 'DOCKER_CONTEXT' }, env);
  const current = currentContext(env);
  if (current !== undefined) return fromContext(current, env);
  return parseEngineAddress({ value: DEFAULT_DOCKER_HOST, source: 'default' }, env, {});
}

/** `currentContext` of the CLI's config.json, when it names one other than `default`. */
function currentContext(env: NodeJS.ProcessEnv): Sourced | undefined {
  const file = join(dockerConfigDir(env), 'config.json');
  if (!existsSync(file)) return undefined;
  let name: unknown;
  try {
    name = (JSON.parse(readFileSync(file, 'utf8')) as { currentContext?: unknown }).currentContext;
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return typeof name === 'string' && name !== '' ? { value: name, source: `${file} currentContext` } : undefined;
}

function fromContext(name: Sourced, env: NodeJS.ProcessEnv): EngineAddress {
  // The CLI's built-in context: DOCKER_HOST's job is done by now, so it is the local socket.
  if (name.value === 'default')
    return {
      ...parseEngineAddress({ value: DEFAULT_DOCKER_HOST, source: 'default' }, env, {}),
      chosenBy: `${name.source} (context "default")`,
    };
  const endpoint: ContextEndpoint = readContext(name, dockerConfigDir(env));
  const source = `${name.source} (context "${name.value}", ${endpoint.metaFile})`;
  const address = parseEngineAddress({ value: endpoint.host, source }, env, {}, endpoint.tls);
  if (address.scheme === 'tcp' && endpoint.skipTlsVerify) {
    // docker-modem passes an agent through untouched: the only way to keep TLS but skip verification.
    const { ca, cert, key } = address.options;
    address.options = {
      ...address.options,
      protocol: 'https',
      agent: new (lazyHttps().Agent)({ ca, cert, key, rejectUnauthorized: false }),
    };
  }
  return { ...address, chosenBy: `${name.source} (context "${name.value}")` };
}

/**
 * One address string to connection options. Node's URL parser reads it, as docker-modem's own parser does;
 * that parser is not used because it reads only process.env and turns TLS on for port 2376 and for
 * DOCKER_TLS_VERIFY=1 alone, where the docker CLI takes any non-empty DOCKER_TLS_VERIFY and no port magic.
 */
export function parseEngineAddress(
  address: Sourced,
  env: NodeJS.ProcessEnv = process.env,
  selection: EngineSelection = {},
  contextTls?: TlsFiles,
): EngineAddress {
  const { value, source } = address;
  const chosenBy = source;
  // The CLI has always accepted a bare socket path and a bare host:port.
  if (value.startsWith('/')) return { display: `unix://${value}`, scheme: 'unix', remote: false, chosenBy, options: unixOptions(value) };
  const withScheme = value.includes('://') ? value : `tcp://${value}`;
  const scheme = withScheme.slice(0, withScheme.indexOf('://')).toLowerCase();
  switch (scheme) {
    case 'unix': {
      const path = withScheme.slice('unix://'.length);
      if (path === '') throw new UsageError(`${source}: "${value}" names no socket (unix:///var/run/docker.sock)`);
      return { display: `unix://${path}`, scheme: 'unix', remote: false, chosenBy, options: unixOptions(path) };
    }
    case 'npipe':
      throw new UsageError(`${source}: "${value}" is a Windows named pipe, which does not exist on Linux (use unix://, tcp:// or ssh://)`);
    case 'tcp':
    case 'http':
    case 'https':
      return tcpAddress(parseUrl(withScheme, address), scheme, env, selection, contextTls, chosenBy);
    case 'ssh':
      return sshAddress(parseUrl(withScheme, address), address, env, chosenBy);
    default:
      throw new UsageError(`${source}: "${value}" has the unsupported scheme ${scheme}:// (use unix://, tcp:// or ssh://)`);
  }
}

function parseUrl(value: string, address: Sourced): URL {
  try {
    const url = new URL(value);
    if (url.hostname === '') throw new Error('no host');
    return url;
  } catch {
    throw new UsageError(`${address.source}: "${address.value}" is not an engine address (tcp://host:2376, ssh://user@host, unix:///path)`);
  }
}

/** Every connection key set, so docker-modem's own defaults (read from process.env's DOCKER_HOST) never leak in. */
function unixOptions(socketPath: string): ConnectionOptions {
  return { socketPath, host: undefined, port: undefined, protocol: 'http', ca: undefined, cert: undefined, key: undefined };
}

function tcpAddress(
  url: URL,
  scheme: string,
  env: NodeJS.ProcessEnv,
  selection: EngineSelection,
  contextTls: TlsFiles | undefined,
  chosenBy: string,
): EngineAddress {
  const tlsFiles = contextTls ?? (scheme === 'https' || tlsWanted(selection, env) ? certificateFiles(selection, env) : undefined);
  const tls = tlsFiles !== undefined;
  const port = url.port || (tls ? '2376' : '2375');
  const options: ConnectionOptions = {
    socketPath: undefined,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    protocol: tls ? 'https' : 'http',
    ca: undefined,
    cert: undefined,
    key: undefined,
  };
  if (tlsFiles !== undefined) {
    options.ca = readFileSync(tlsFiles.ca);
    options.cert = readFileSync(tlsFiles.cert);
    options.key = readFileSync(tlsFiles.key);
  }
  return { display: `tcp://${url.host.replace(/:\d+$/, '')}:${port}`, scheme: 'tcp', remote: true, chosenBy, options };
}

/** As the CLI: `--tlsverify`, else any non-empty DOCKER_TLS_VERIFY. */
function tlsWanted(selection: EngineSelection, env: NodeJS.ProcessEnv): boolean {
  return selection.tlsVerify?.value ?? Boolean(env['DOCKER_TLS_VERIFY']);
}

/** ca.pem, cert.pem and key.pem from --docker.cert-path, else DOCKER_CERT_PATH, else the config folder. All three must exist. */
function certificateFiles(selection: EngineSelection, env: NodeJS.ProcessEnv): TlsFiles {
  const chosen: Sourced =
    selection.certPath ??
    (env['DOCKER_CERT_PATH']
      ? { value: env['DOCKER_CERT_PATH'], source: 'DOCKER_CERT_PATH' }
      : {
          value: dockerConfigDir(env),
          source: `${selection.tlsVerify?.source ?? 'DOCKER_TLS_VERIFY'} (certificates from ${dockerConfigDir(env)}, as DOCKER_CERT_PATH is unset)`,
        });
  const files = {
    ca: join(chosen.value, 'ca.pem'),
    cert: join(chosen.value, 'cert.pem'),
    key: join(chosen.value, 'key.pem'),
    source: chosen.source,
  };
  requireTlsFiles(files);
  return files;
}

/**
 * ssh://[user@]host[:port]: docker-modem's ssh2 transport runs `docker system dial-stdio` on the remote
 * host, as the CLI does. ssh2 reads no ~/.ssh/config: the key comes from the agent (SSH_AUTH_SOCK) or the
 * first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa, and the host key must be in ~/.ssh/known_hosts.
 */
function sshAddress(url: URL, address: Sourced, env: NodeJS.ProcessEnv, chosenBy: string): EngineAddress {
  if (url.password !== '')
    throw new UsageError(`${address.source}: "${address.value}" carries a password; use a key (ssh-agent or ~/.ssh/id_*)`);
  if (url.pathname !== '' && url.pathname !== '/')
    throw new UsageError(`${address.source}: "${address.value}" has a path; ssh:// takes only user@host:port`);
  const username = decodeURIComponent(url.username) || env['USER'] || userInfo().username;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || '22');
  const home = env['HOME'] || homedir();
  const knownHosts = join(home, '.ssh', 'known_hosts');
  const hostVerifier = knownHostsVerifier(knownHosts, username, host, port, address.source);
  const identity = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(home, '.ssh', name)).find((file) => existsSync(file));
  const agent = env['SSH_AUTH_SOCK'] || undefined;
  if (agent === undefined && identity === undefined) {
    throw new UsageError(
      `${address.source}: no SSH key for ${address.value}: start ssh-agent (SSH_AUTH_SOCK) or put a key in ${join(home, '.ssh')}/id_ed25519`,
    );
  }
  const options = {
    socketPath: undefined,
    protocol: 'ssh',
    host,
    port,
    username,
    ca: undefined,
    cert: undefined,
    key: undefined,
    sshOptions: {
      ...(agent === undefined ? {} : { agent }),
      ...(identity === undefined ? {} : { privateKey: readFileSync(identity) }),
      hostVerifier,
      // A dead link is noticed within seconds, as the event stream depends on it.
      keepaliveInterval: 5_000,
      readyTimeout: 10_000,
    },
  } as ConnectionOptions;
  const display = `ssh://${username}@${url.hostname}${port === 22 ? '' : `:${port}`}`;
  return { display, scheme: 'ssh', remote: true, chosenBy, options };
}

/** Connection options for one address string (tools and benchmarks that hold only a string). */
export function connectionOptions(host: string, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  return parseEngineAddress({ value: host, source: 'engine address' }, env).options;
}
