/**
 * The docker CLI's context store: `contexts/meta/<sha256 of the name>/meta.json` holds the endpoint,
 * `contexts/tls/<sha256 of the name>/docker/{ca,cert,key}.pem` its TLS material, if any.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, errorMessage, type Sourced } from '../errors.js';
import { requireTlsFiles, type TlsFiles } from './tls-files.js';

export interface ContextEndpoint {
  host: string;
  skipTlsVerify: boolean;
  metaFile: string;
  tls?: TlsFiles;
}

interface ContextMeta {
  Name?: unknown;
  Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
}

/** Reads one context's Docker endpoint. Throws a UsageError naming the flag or variable that chose it. */
export function readContext(name: Sourced, configDir: string): ContextEndpoint {
  const digest = createHash('sha256').update(name.value).digest('hex');
  const store = join(configDir, 'contexts');
  const metaFile = join(store, 'meta', digest, 'meta.json');
  if (!existsSync(metaFile)) {
    throw new UsageError(`${name.source}: there is no docker context "${name.value}" in ${store} (docker context ls lists them)`);
  }
  let meta: ContextMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as ContextMeta;
  } catch (error) {
    throw new UsageError(`${name.source}: context "${name.value}": ${metaFile} is not valid JSON (${errorMessage(error)})`);
  }
  const docker = meta.Endpoints?.docker;
  if (typeof docker?.Host !== 'string' || docker.Host === '') {
    throw new UsageError(`${name.source}: context "${name.value}" has no Docker endpoint (Endpoints.docker.Host in ${metaFile})`);
  }
  const tlsDir = join(store, 'tls', digest, 'docker');
  const endpoint: ContextEndpoint = { host: docker.Host, skipTlsVerify: docker.SkipTLSVerify === true, metaFile };
  if (existsSync(tlsDir)) {
    endpoint.tls = {
      ca: join(tlsDir, 'ca.pem'),
      cert: join(tlsDir, 'cert.pem'),
      key: join(tlsDir, 'key.pem'),
      source: `${name.source} (context "${name.value}")`,
    };
    requireTlsFiles(endpoint.tls);
  }
  return endpoint;
}
