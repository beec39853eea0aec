/**
 * Compose and stack files read as Compose reads them: several files merged in order, variables
 * interpolated from the environment and an env file, `extends` resolved, profiles applied. Every
 * service keeps where each of its keys is written (file, line, column), so a finding can point at it.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError, UsageError } from '../errors.js';
import type { SourcePosition } from '../policy/types.js';
import { interpolateValue, InterpolationError, parseEnvFile } from './interpolate.js';
import { mergeService } from './merge.js';
import { isMapping, type Mapping } from './values.js';

export interface ComposeService {
  name: string;
  /** The service after merging, `extends` and interpolation. */
  config: Mapping;
  /** Where the service's name is written (in the first file that defines it). */
  position: SourcePosition;
  /** Where each key is written, by dotted path (`deploy.resources.limits.memory`); the last file to set it wins. */
  keys: Map<string, SourcePosition>;
}

export interface ComposeProject {
  /** Compose's project name: `COMPOSE_PROJECT_NAME`, else the top-level `name`, else the first file's folder. */
  name: string;
  /** The first file's folder: relative paths in the files are resolved from it. */
  directory: string;
  services: ComposeService[];
  /** Top-level `networks`, `volumes`, `secrets`, `configs`, merged. */
  networks: Mapping;
  volumes: Mapping;
  secrets: Mapping;
  configs: Mapping;
}

export interface ComposeOptions {
  /** `--env-file`; default: `.env` in the project folder when it exists. */
  envFile?: string | undefined;
  /** `-p/--project-name`: wins over `COMPOSE_PROJECT_NAME`, the top-level `name` and the folder. */
  projectName?: string | undefined;
  /** `--profile` names (plus `COMPOSE_PROFILES`). */
  profiles?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
}

interface ParsedFile {
  file: string;
  data: Mapping;
  services: Map<string, { position: SourcePosition; keys: Map<string, SourcePosition> }>;
}

/** Records the position of every mapping key under `node`, by dotted path. */
function keyPositions(node: Node | null, prefix: string, file: string, lines: LineCounter, into: Map<string, SourcePosition>): void {
  if (!isMap(node)) return;
  for (const pair of node.items) {
    if (!isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
    const path = `${prefix}${String(pair.key.value)}`;
    const { line, col } = lines.linePos(pair.key.range[0]);
    into.set(path, { file, line, column: col });
    keyPositions(pair.value as Node | null, `${path}.`, file, lines, into);
  }
}

function parseFile(file: string, env: Readonly<Record<string, string | undefined>>): ParsedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError({ file }, `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
  const [problem] = document.errors;
  if (problem !== undefined) {
    throw new ConfigError({ file, line: lines.linePos(problem.pos[0]).line }, `not valid YAML: ${problem.message.split('\n')[0] ?? ''}`);
  }
  const raw: unknown = document.toJS({ maxAliasCount: 1000 });
  if (raw === null || raw === undefined) return { file, data: {}, services: new Map() };
  if (!isMapping(raw)) throw new ConfigError({ file }, 'the top level must be a mapping (services: …)');
  let data: Mapping;
  try {
    data = interpolateValue(raw, env) as Mapping;
  } catch (error) {
    if (error instanceof InterpolationError) throw new ConfigError({ file }, error.message);
    throw error;
  }
  const services = new Map<string, { position: SourcePosition; keys: Map<string, SourcePosition> }>();
  const servicesNode = document.get('services', true) as Node | undefined;
  if (isMap(servicesNode)) {
    for (const pair of servicesNode.items) {
      if (!isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
      const { line, col } = lines.linePos(pair.key.range[0]);
      const keys = new Map<string, SourcePosition>();
      keyPositions(pair.value as Node | null, '', file, lines, keys);
      services.set(String(pair.key.value), { position: { file, line, column: col }, keys });
    }
  }
  if (data['services'] !== undefined && !isMapping(data['services'])) throw new ConfigError({ file, key: 'services' }, 'must be a mapping');
  return { file, data, services };
}

/** Compose's project name rule for names it derives: lower case, only a-z, 0-9, `-` and `_`, not starting with `-` or `_`. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[-_]+/, '');
}

/** A name given with `-p` is taken as it is or refused, as Compose v2 does (v1 silently dropped what it could not use). */
function givenProjectName(name: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new UsageError(
      `-p/--project-name ${JSON.stringify(name)}: a project name is lower-case letters, digits, "-" and "_", starting with a letter or digit`,
    );
  }
  return name;
}

function serviceOf(parsed: ParsedFile, name: string): Mapping | undefined {
  const services = parsed.data['services'];
  const service = isMapping(services) ? services[name] : undefined;
  return isMapping(service) ? service : service === null ? {} : undefined;
}

export function loadCompose(files: readonly string[], options: ComposeOptions = {}): ComposeProject {
  const first = files[0];
  if (first === undefined) throw new ConfigError({ file: '--compose' }, 'no file given');
  const directory = dirname(resolve(first));
  const shellEnv = options.env ?? process.env;
  const envFile = options.envFile ?? join(directory, '.env');
  let fileEnv: Record<string, string> = {};
  try {
    fileEnv = parseEnvFile(readFileSync(envFile, 'utf8'));
  } catch (error) {
    if (options.envFile !== undefined) {
      throw new ConfigError(
        { file: options.envFile },
        `cannot read the env file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  }
  // The shell's variables win over the env file's, as in Compose.
  const env = { ...fileEnv, ...shellEnv };
  const parsed = files.map((file) => parseFile(file, env));

  const merged = { services: new Map<string, ComposeService>(), networks: {}, volumes: {}, secrets: {}, configs: {} };
  let topName: string | undefined;
  for (const file of parsed) {
    if (typeof file.data['name'] === 'string') topName = file.data['name'];
    for (const section of ['networks', 'volumes', 'secrets', 'configs'] as const) {
      const value = file.data[section];
      if (isMapping(value)) merged[section] = { ...merged[section], ...value };
    }
    for (const [name, where] of file.services) {
      const config = serviceOf(file, name);
      if (config === undefined)
        throw new ConfigError({ file: file.file, line: where.position.line, key: `services.${name}` }, 'must be a mapping');
      const previous = merged.services.get(name);
      if (previous === undefined) merged.services.set(name, { name, config, position: where.position, keys: new Map(where.keys) });
      else {
        previous.config = mergeService(previous.config, config);
        for (const [key, position] of where.keys) previous.keys.set(key, position);
      }
    }
  }

  const resolving = new Set<string>();
  const resolveExtends = (service: ComposeService, file: string, pool: (name: string) => ComposeService | undefined): void => {
    const spec = service.config['extends'];
    if (spec === undefined) return;
    const id = `${file}\u0000${service.name}`;
    if (resolving.has(id)) throw new ConfigError({ file, key: `services.${service.name}.extends` }, 'extends itself in a loop');
    resolving.add(id);
    const target = typeof spec === 'string' ? { service: spec } : isMapping(spec) ? spec : undefined;
    if (target === undefined || typeof target['service'] !== 'string') {
      throw new ConfigError(
        { file, key: `services.${service.name}.extends` },
        'must name a service (extends: NAME or extends: {service: NAME, file: FILE})',
      );
    }
    const baseName = target['service'];
    let base: ComposeService | undefined;
    let baseFile = file;
    if (typeof target['file'] === 'string') {
      baseFile = join(dirname(file), target['file']);
      const other = parseFile(baseFile, env);
      const config = serviceOf(other, baseName);
      const where = other.services.get(baseName);
      if (config !== undefined && where !== undefined)
        base = { name: baseName, config, position: where.position, keys: new Map(where.keys) };
      if (base !== undefined)
        resolveExtends(base, baseFile, (name) => {
          const c = serviceOf(other, name);
          const w = other.services.get(name);
          return c === undefined || w === undefined ? undefined : { name, config: c, position: w.position, keys: new Map(w.keys) };
        });
    } else {
      base = pool(baseName);
      if (base !== undefined) resolveExtends(base, file, pool);
    }
    if (base === undefined)
      throw new ConfigError({ file, key: `services.${service.name}.extends` }, `no service ${baseName} in ${baseFile}`);
    const own = { ...service.config };
    delete own['extends'];
    service.config = mergeService(base.config, own);
    service.keys = new Map([...base.keys, ...service.keys]);
    resolving.delete(id);
  };
  for (const service of merged.services.values()) resolveExtends(service, service.position.file, (name) => merged.services.get(name));

  const profiles = new Set([...(options.profiles ?? []), ...(env['COMPOSE_PROFILES'] ?? '').split(',').filter((name) => name !== '')]);
  const active = [...merged.services.values()].filter((service) => {
    const own = service.config['profiles'];
    return !Array.isArray(own) || own.length === 0 || own.some((name) => profiles.has(String(name)) || name === '*');
  });
  // An empty COMPOSE_PROJECT_NAME counts as unset, as in Compose.
  const fromEnv = env['COMPOSE_PROJECT_NAME'] === '' ? undefined : env['COMPOSE_PROJECT_NAME'];
  const name =
    options.projectName === undefined
      ? normalizeProjectName(fromEnv ?? topName ?? basename(directory))
      : givenProjectName(options.projectName);
  return {
    name,
    directory,
    services: active,
    networks: merged.networks,
    volumes: merged.volumes,
    secrets: merged.secrets,
    configs: merged.configs,
  };
}
