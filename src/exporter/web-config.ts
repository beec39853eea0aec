import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { validateHeaderValue } from 'node:http';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import { parseTimeout, quoted } from '../ini/values.js';
import { parse as parseYaml } from 'yaml';
import { ConfigError, errorMessage } from '../errors.js';

/**
 * `--web.config.file`: the Prometheus exporter-toolkit format (tls_server_config, http_server_config,
 * basic_auth_users). Paths inside it are relative to the file's folder, as in exporter-toolkit.
 */
export interface WebConfig {
  tls: TlsConfig | undefined;
  /** User name → bcrypt hash. Empty: no authentication. */
  basicAuthUsers: Readonly<Record<string, string>>;
  /** exporter-toolkit's `rate_limit`: one request per `intervalMs` on average, `burst` at once; undefined: no limit. */
  rateLimit: { intervalMs: number; burst: number } | undefined;
  headers: Readonly<Record<string, string>>;
}

export type ClientAuthType =
  'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  clientAuthType: ClientAuthType;
  clientCaFile: string | undefined;
  minVersion: SecureVersion;
  maxVersion: SecureVersion | undefined;
  /** When set, a client certificate must carry one of these subject alternative names. */
  clientAllowedSans: readonly string[];
}

const CLIENT_AUTH_TYPES: readonly ClientAuthType[] = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
];
const TLS_VERSIONS: Readonly<Record<string, SecureVersion>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};
const VERSION_ORDER: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const TOP_KEYS = ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit'];
const RATE_LIMIT_KEYS = ['interval', 'burst'];
const TLS_KEYS = [
  'cert_file',
  'key_file',
  'client_auth_type',
  'client_ca_file',
  'min_version',
  'max_version',
  'cipher_suites',
  'curve_preferences',
  'prefer_server_cipher_suites',
  'client_allowed_sans',
];
const HTTP_KEYS = ['http2', 'headers'];
/** The response headers exporter-toolkit's `http_server_config.headers` accepts: its security headers. */
const SECURITY_HEADERS = [
  'Content-Security-Policy',
  'X-Frame-Options',
  'X-Content-Type-Options',
  'X-XSS-Protection',
  'Strict-Transport-Security',
];
const HEADER_VALUES: Readonly<Record<string, readonly string[]>> = {
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-Content-Type-Options': ['nosniff'],
};
/** A burst beyond this is no limit at all (and past 2^53 the bucket's arithmetic breaks). */
const MAX_BURST = 1_000_000;
const BCRYPT_HASH = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseWebConfig(text: string, file: string): WebConfig {
  const fail = (key: string | undefined, detail: string): never => {
    throw new ConfigError({ file, key }, detail);
  };
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    fail(undefined, `not valid YAML: ${errorMessage(error).split('\n')[0]}`);
  }
  if (document === null || document === undefined) document = {};
  if (!isMap(document)) return fail(undefined, 'must be a YAML mapping');
  const unknownKeys = (map: YamlMap, known: readonly string[], prefix: string): void => {
    for (const key of Object.keys(map)) if (!known.includes(key)) fail(`${prefix}${key}`, `unknown key (known: ${known.join(', ')})`);
  };
  unknownKeys(document, TOP_KEYS, '');
  const base = dirname(resolve(file));
  const path = (value: unknown, key: string): string | undefined => {
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return fail(key, 'must be a file path');
    return resolve(base, value);
  };

  let tls: TlsConfig | undefined;
  const tlsSection = document['tls_server_config'];
  if (tlsSection !== undefined && tlsSection !== null) {
    if (!isMap(tlsSection)) return fail('tls_server_config', 'must be a mapping');
    unknownKeys(tlsSection, TLS_KEYS, 'tls_server_config.');
    const certFile = path(tlsSection['cert_file'], 'tls_server_config.cert_file');
    const keyFile = path(tlsSection['key_file'], 'tls_server_config.key_file');
    if (certFile === undefined || keyFile === undefined) {
      return fail('tls_server_config', 'cert_file and key_file are both required');
    }
    const clientAuthType = (tlsSection['client_auth_type'] ?? 'NoClientCert') as ClientAuthType;
    if (!CLIENT_AUTH_TYPES.includes(clientAuthType)) {
      return fail('tls_server_config.client_auth_type', `"${String(clientAuthType)}" is not one of ${CLIENT_AUTH_TYPES.join(', ')}`);
    }
    const clientCaFile = path(tlsSection['client_ca_file'], 'tls_server_config.client_ca_file');
    if (clientAuthType.includes('Verify') && clientCaFile === undefined) {
      return fail('tls_server_config.client_ca_file', `is required with client_auth_type ${clientAuthType}`);
    }
    const version = (key: string, fallback: SecureVersion | undefined): SecureVersion | undefined => {
      const value = tlsSection[key];
      if (value === undefined) return fallback;
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return TLS_VERSIONS[text] ?? fail(`tls_server_config.${key}`, `"${text}" is not one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
    };
    const sans = tlsSection['client_allowed_sans'] ?? [];
    if (!Array.isArray(sans) || sans.some((san) => typeof san !== 'string')) {
      return fail('tls_server_config.client_allowed_sans', 'must be a list of names');
    }
    if (sans.length > 0 && clientCaFile === undefined) {
      return fail('tls_server_config.client_allowed_sans', 'needs client_ca_file (only verified certificates are checked)');
    }
    const minVersion = version('min_version', 'TLSv1.2') ?? 'TLSv1.2';
    const maxVersion = version('max_version', undefined);
    if (maxVersion !== undefined && VERSION_ORDER.indexOf(minVersion) > VERSION_ORDER.indexOf(maxVersion)) {
      return fail(
        'tls_server_config.min_version',
        `${String(tlsSection['min_version'])} is above max_version ${String(tlsSection['max_version'])}`,
      );
    }
    tls = {
      clientAllowedSans: sans as string[],
      certFile,
      keyFile,
      clientAuthType,
      clientCaFile,
      minVersion,
      maxVersion,
    };
  }

  const users: Record<string, string> = {};
  const userSection = document['basic_auth_users'];
  if (userSection !== undefined && userSection !== null) {
    if (!isMap(userSection)) return fail('basic_auth_users', 'must map user names to bcrypt hashes');
    for (const [user, hash] of Object.entries(userSection)) {
      // Basic auth sends "user:password": a user name with a colon can never log in.
      if (user.includes(':')) return fail(`basic_auth_users.${user}`, 'a user name cannot contain ":"');
      if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) {
        return fail(`basic_auth_users.${user}`, 'is not a bcrypt hash (make one with: htpasswd -nBC 10 "" | tr -d \':\\n\')');
      }
      users[user] = hash;
    }
  }

  const headers: Record<string, string> = {};
  const httpSection = document['http_server_config'];
  if (httpSection !== undefined && httpSection !== null) {
    if (!isMap(httpSection)) return fail('http_server_config', 'must be a mapping');
    unknownKeys(httpSection, HTTP_KEYS, 'http_server_config.');
    const headerSection = httpSection['headers'];
    if (headerSection !== undefined && headerSection !== null) {
      if (!isMap(headerSection)) return fail('http_server_config.headers', 'must map header names to values');
      for (const [name, value] of Object.entries(headerSection)) {
        // Checked now: a header Node refuses would otherwise turn every response into a 500.
        const key = `http_server_config.headers.${name}`;
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return fail(key, 'must be a text value');
        const text = String(value);
        const allowed = SECURITY_HEADERS.find((header) => header.toLowerCase() === name.toLowerCase());
        // A Content-Length or Content-Encoding would cut or mislabel every response: only these may be set.
        if (allowed === undefined)
          return fail(key, `${quoted(name)} cannot be set (exporter-toolkit allows ${SECURITY_HEADERS.join(', ')})`);
        const values = HEADER_VALUES[allowed];
        if (values !== undefined && !values.includes(text.toLowerCase()))
          return fail(key, `${quoted(text)} is not one of ${values.join(', ')}`);
        try {
          validateHeaderValue(name, text);
        } catch {
          return fail(key, 'the value has a character a header cannot carry (a newline or another control character)');
        }
        headers[name] = text;
      }
    }
  }
  let rateLimit: WebConfig['rateLimit'];
  const rateSection = document['rate_limit'];
  if (rateSection !== undefined && rateSection !== null) {
    if (!isMap(rateSection)) return fail('rate_limit', 'must be a mapping with interval and burst');
    unknownKeys(rateSection, RATE_LIMIT_KEYS, 'rate_limit.');
    let intervalMs: number;
    try {
      const interval = rateSection['interval'];
      intervalMs = parseTimeout(typeof interval === 'string' ? interval : JSON.stringify(interval ?? ''));
    } catch (error) {
      return fail('rate_limit.interval', errorMessage(error));
    }
    const burst = rateSection['burst'];
    if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1)
      return fail('rate_limit.burst', `${quoted(String(burst))} is not a whole number of at least 1`);
    if (burst > MAX_BURST) return fail('rate_limit.burst', `${quoted(String(burst))} is more than ${MAX_BURST}`);
    rateLimit = { intervalMs, burst };
  }
  return { tls, basicAuthUsers: users, headers, rateLimit };
}

export function readWebConfig(file: string): WebConfig {
  let text: string;
  try {
    // A FIFO or a device would block the read: only a regular file is read.
    const stats = statSync(file);
    if (!stats.isFile()) throw Object.assign(new Error('not a regular file'), { code: stats.isDirectory() ? 'EISDIR' : 'ENOTFILE' });
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      { file },
      `cannot read the web config file: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'ENOTFILE' ? 'not a regular file' : errorMessage(error)}`,
    );
  }
  const config = parseWebConfig(text, file);
  if (config.tls !== undefined) checkCertificates(config.tls, file);
  return config;
}

/** Reads the certificate files named by the config; errors name the web config file and key. */
export function secureContextOptions(
  tls: TlsConfig,
  file: string,
): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  const read = (path: string, key: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(
        { file, key: `tls_server_config.${key}` },
        `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
      );
    }
  };
  const options: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } = {
    cert: read(tls.certFile, 'cert_file'),
    key: read(tls.keyFile, 'key_file'),
    minVersion: tls.minVersion,
    requestCert: tls.clientAuthType !== 'NoClientCert',
    // Node verifies against `ca` only when rejecting; "if given" and "any" are finished in the request hook.
    rejectUnauthorized: tls.clientAuthType === 'RequireAndVerifyClientCert',
  };
  if (tls.maxVersion !== undefined) options.maxVersion = tls.maxVersion;
  if (tls.clientCaFile !== undefined) options.ca = read(tls.clientCaFile, 'client_ca_file');
  return options;
}

/** The certificate and key must parse and belong together now, not at the first TLS handshake. */
function checkCertificates(tls: TlsConfig, file: string): void {
  const options = secureContextOptions(tls, file);
  const check = (key: string, what: string, attempt: () => unknown): void => {
    try {
      attempt();
    } catch (error) {
      throw new ConfigError({ file, key: `tls_server_config.${key}` }, `${what}: ${errorMessage(error).split('\n')[0]}`);
    }
  };
  check('cert_file', `${tls.certFile} is not a PEM certificate`, () => new X509Certificate(options.cert as Buffer));
  check('key_file', `${tls.keyFile} is not a PEM private key`, () => createPrivateKey(options.key as Buffer));
  if (tls.clientCaFile !== undefined)
    check('client_ca_file', `${tls.clientCaFile} is not a PEM certificate`, () => new X509Certificate(options.ca as Buffer));
  check('key_file', 'the key does not go with the certificate, or TLS refuses them', () => createSecureContext(options));
}

/** The files whose change means the web config must be read again. */
export function watchedFiles(file: string, config: WebConfig): string[] {
  const tls = config.tls;
  return [file, ...(tls === undefined ? [] : [tls.certFile, tls.keyFile, ...(tls.clientCaFile === undefined ? [] : [tls.clientCaFile])])];
}

export function modificationStamp(files: readonly string[]): string {
  return files
    .map((path) => {
      try {
        const stats = statSync(path);
        return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
