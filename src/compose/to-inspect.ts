/**
 * A compose service as the container Compose would create from it, in the Engine API's inspect shape
 * the checks read. Each key maps to the field the engine fills from it, with the engine's defaults.
 * Values that come from the image (USER, HEALTHCHECK, ENV, labels) are taken from the image when the
 * engine has it; when it does not, reading them throws NotApplicableError: they are unknown, never guessed.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { ContainerInspect, HostConfig, ImageInspect, MountPoint, PortBinding } from '../engine/types.js';
import { NotApplicableError } from '../policy/chain.js';
import type { ComposeProject, ComposeService } from './load-compose.js';
import { isMapping, text, type Mapping } from './values.js';
import { listOrMapping } from './merge.js';

/** How a service's container is run: by Compose (`docker compose up`) or as a Swarm task (`docker stack deploy`). */
export type Orchestrator = 'compose' | 'swarm';

export interface SyntheticContainer {
  inspect: ContainerInspect;
  /**
   * For a service with a healthcheck, the inspect data as it is once the container starts: the engine
   * then reports a health status (`starting`, later `healthy` or `unhealthy`). CIS 5.27 asks only
   * whether there is one, so its checks read this; which status it will be is known only once it runs.
   */
  inspectOnceStarted?: ContainerInspect;
  /** The image reference the container would run (`image:`, or Compose's name for a built one). */
  image: string;
}

/** `512m`, `1g`, `1024`, `1.5gb` → bytes (Compose's byte values). */
export function bytes(value: unknown): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$/i.exec(String(value));
  if (match === null) return 0;
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

/** The container name Compose gives: `container_name`, else `<project>-<service>-1`. */
export function composeContainerName(project: ComposeProject, service: ComposeService): string {
  return text(service.config['container_name']) ?? `${project.name}-${service.name}-1`;
}

function restartPolicy(config: Mapping, orchestrator: Orchestrator): NonNullable<HostConfig['RestartPolicy']> {
  // A Swarm task's container never restarts itself: the orchestrator replaces it.
  if (orchestrator === 'swarm') return { Name: 'no', MaximumRetryCount: 0 };
  const restart = text(config['restart']);
  if (restart !== undefined) {
    const [name = 'no', count = '0'] = restart.split(':');
    return { Name: name, MaximumRetryCount: Number(count) || 0 };
  }
  const policy = isMapping(config['deploy']) ? config['deploy']['restart_policy'] : undefined;
  if (isMapping(policy)) {
    const condition = text(policy['condition']) ?? 'any';
    const attempts = Number(policy['max_attempts'] ?? 0) || 0;
    if (condition === 'none') return { Name: 'no', MaximumRetryCount: 0 };
    if (condition === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: attempts };
    return { Name: 'always', MaximumRetryCount: 0 };
  }
  return { Name: 'no', MaximumRetryCount: 0 };
}

/** `[ip:][host:]container[/proto]` or the long syntax → the engine's bindings, keyed `80/tcp`. */
function ports(config: Mapping, orchestrator: Orchestrator): Record<string, PortBinding[] | null> {
  const out: Record<string, PortBinding[] | null> = {};
  const bind = (container: string, protocol: string, hostIp: string, hostPort: string, mode = 'ingress'): void => {
    const key = `${container}/${protocol}`;
    // Swarm's routing mesh publishes ingress ports outside the container: it has no host binding.
    if (orchestrator === 'swarm' && mode !== 'host') {
      out[key] ??= null;
      return;
    }
    // With no address, the engine binds every IPv4 and every IPv6 address.
    const addresses = hostIp === '' ? ['0.0.0.0', '::'] : [hostIp.replace(/^\[|\]$/g, '')];
    out[key] = [...(out[key] ?? []), ...addresses.map((address) => ({ HostIp: address, HostPort: hostPort }))];
  };
  for (const entry of Array.isArray(config['ports']) ? config['ports'] : []) {
    if (isMapping(entry)) {
      bind(
        String(entry['target']),
        text(entry['protocol']) ?? 'tcp',
        text(entry['host_ip']) ?? '',
        text(entry['published']) ?? '',
        text(entry['mode']) ?? 'ingress',
      );
      continue;
    }
    const [spec = '', protocol = 'tcp'] = String(entry).split('/');
    // `[ip:][host:]container`, split from the right: the address may be IPv6 (in brackets).
    const cut = spec.lastIndexOf(':');
    const rest = cut < 0 ? '' : spec.slice(0, cut);
    const inner = rest.endsWith(']') ? -1 : rest.lastIndexOf(':');
    const hostPort = rest.endsWith(']') ? '' : rest.slice(inner + 1);
    const hostIp = inner < 0 ? (rest.endsWith(']') ? rest : '') : rest.slice(0, inner);
    const containerPorts = range(spec.slice(cut + 1));
    const hostPorts = hostPort === '' ? [] : range(hostPort);
    containerPorts.forEach((port, index) =>
      bind(String(port), protocol, hostIp, hostPorts[index] === undefined ? '' : String(hostPorts[index])),
    );
  }
  for (const port of Array.isArray(config['expose']) ? config['expose'] : []) {
    const [number = '', protocol = 'tcp'] = String(port).split('/');
    const key = `${number}/${protocol}`;
    if (!(key in out)) out[key] = null;
  }
  return out;
}

function range(spec: string): number[] {
  const [from = '', to] = spec.split('-');
  const start = Number(from);
  const end = to === undefined ? start : Number(to);
  return Array.from({ length: Math.max(0, end - start + 1) }, (_, index) => start + index);
}

function hostPath(project: ComposeProject, path: string): string {
  if (path.startsWith('~')) return resolve(homedir(), `.${path.slice(1)}`);
  return isAbsolute(path) ? path : resolve(project.directory, path);
}

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

/** A volume's or network's engine name: its `name`, its own name when `external`, else `<project>_<name>`. */
function declaredName(project: ComposeProject, section: Mapping, name: string): string {
  const declared = section[name];
  if (isMapping(declared)) {
    if (typeof declared['name'] === 'string') return declared['name'];
    if (declared['external'] === true) return name;
  }
  return `${project.name}_${name}`;
}

const volumeName = (project: ComposeProject, name: string): string => declaredName(project, project.volumes, name);

function mounts(project: ComposeProject, config: Mapping): MountPoint[] {
  const out: MountPoint[] = [];
  for (const entry of Array.isArray(config['volumes']) ? config['volumes'] : []) {
    if (isMapping(entry)) {
      const type = text(entry['type']) ?? 'volume';
      const source = text(entry['source']) ?? '';
      const readOnly = entry['read_only'] === true;
      const target = text(entry['target']) ?? '';
      if (type === 'bind') {
        const propagation = isMapping(entry['bind']) ? text(entry['bind']['propagation']) : undefined;
        out.push({
          Type: 'bind',
          Source: hostPath(project, source),
          Destination: target,
          RW: !readOnly,
          Propagation: propagation ?? 'rprivate',
        });
      } else if (type === 'volume') {
        out.push({
          Type: 'volume',
          Name: source === '' ? '' : volumeName(project, source),
          Source: '',
          Destination: target,
          RW: !readOnly,
          Propagation: '',
        });
      } else out.push({ Type: type, Source: source, Destination: target, RW: !readOnly, Propagation: '' });
      continue;
    }
    const parts = String(entry).split(':');
    if (parts.length === 1) {
      out.push({ Type: 'volume', Name: '', Source: '', Destination: parts[0] ?? '', RW: true, Propagation: '' });
      continue;
    }
    const [source = '', target = '', mode = ''] = parts;
    const options = mode.split(',').filter((option) => option !== '');
    const readOnly = options.includes('ro');
    const isBind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    if (isBind) {
      const propagation = options.find((option) => PROPAGATIONS.has(option)) ?? 'rprivate';
      out.push({
        Type: 'bind',
        Source: hostPath(project, source),
        Destination: target,
        Mode: mode,
        RW: !readOnly,
        Propagation: propagation,
      });
    } else {
      out.push({
        Type: 'volume',
        Name: volumeName(project, source),
        Source: '',
        Destination: target,
        Mode: mode,
        RW: !readOnly,
        Propagation: '',
      });
    }
  }
  return out;
}

function devices(config: Mapping): NonNullable<HostConfig['Devices']> {
  return (Array.isArray(config['devices']) ? config['devices'] : []).map((entry) => {
    if (isMapping(entry)) {
      const source = text(entry['source']) ?? '';
      return {
        PathOnHost: source,
        PathInContainer: text(entry['target']) ?? source,
        CgroupPermissions: text(entry['permissions']) ?? 'rwm',
      };
    }
    const [host = '', container = host, permissions = 'rwm'] = String(entry).split(':');
    return { PathOnHost: host, PathInContainer: container, CgroupPermissions: permissions };
  });
}

function ulimits(config: Mapping): NonNullable<HostConfig['Ulimits']> {
  const limits = config['ulimits'];
  if (!isMapping(limits)) return [];
  return Object.entries(limits).map(([name, value]) =>
    isMapping(value)
      ? { Name: name, Soft: Number(value['soft']), Hard: Number(value['hard']) }
      : { Name: name, Soft: Number(value), Hard: Number(value) },
  );
}

function healthcheck(config: Mapping): { Test: string[] } | undefined {
  const health = config['healthcheck'];
  if (!isMapping(health)) return undefined;
  if (health['disable'] === true) return { Test: ['NONE'] };
  const test = health['test'];
  if (typeof test === 'string') return { Test: ['CMD-SHELL', test] };
  if (Array.isArray(test)) return { Test: test.map(String) };
  return undefined;
}

const networkName = (project: ComposeProject, name: string): string => declaredName(project, project.networks, name);

function networks(project: ComposeProject, config: Mapping, orchestrator: Orchestrator): { mode: string; attached: string[] } {
  const mode = text(config['network_mode']);
  if (mode !== undefined) {
    if (mode.startsWith('service:') || mode.startsWith('container:'))
      return { mode: `container:${mode.slice(mode.indexOf(':') + 1)}`, attached: [] };
    return { mode, attached: [mode] };
  }
  const listed = Object.keys(listOrMapping(config['networks']));
  const attached = (listed.length === 0 ? ['default'] : listed).map((name) => networkName(project, name));
  // A Swarm task's container is attached to its overlays (and ingress when it publishes in ingress mode).
  return { mode: orchestrator === 'swarm' ? 'default' : (attached[0] ?? 'default'), attached };
}

/** A field the image decides and the engine does not have: reading it makes the check not applicable. */
function unknownFromImage(target: object, field: string, image: string, what: string): void {
  Object.defineProperty(target, field, {
    enumerable: true,
    get() {
      throw new NotApplicableError(`the image ${image} is not on the engine, so its ${what} is unknown`);
    },
  });
}

/**
 * Keys `docker stack deploy` does not carry into a service (its reference: "not supported for docker
 * stack deploy"), and resources it takes only from `deploy.resources`: a Swarm task's container has none of them.
 */
const IGNORED_BY_SWARM = [
  'privileged',
  'devices',
  'network_mode',
  'restart',
  'security_opt',
  'userns_mode',
  'cgroup_parent',
  'container_name',
  'pid',
  'ipc',
  'uts',
  'mem_limit',
  'cpus',
  'cpu_shares',
  'cpu_quota',
  'pids_limit',
  'links',
  'external_links',
];

export interface EngineFacts {
  /** Whether the engine runs containers under AppArmor (from `/info`); undefined without an engine. */
  appArmor: boolean | undefined;
}

export function toContainer(
  project: ComposeProject,
  service: ComposeService,
  image: ImageInspect | undefined,
  engine: EngineFacts,
  orchestrator: Orchestrator = 'compose',
): SyntheticContainer {
  const config =
    orchestrator === 'swarm'
      ? Object.fromEntries(Object.entries(service.config).filter(([key]) => !IGNORED_BY_SWARM.includes(key)))
      : service.config;
  const reference = text(config['image']) ?? `${project.name}-${service.name}`;
  // A task's container is `<stack>_<service>.<slot>.<task ID>`; the task ID is known only once it runs.
  const name = orchestrator === 'swarm' ? `${project.name}_${service.name}.1` : composeContainerName(project, service);
  const deploy = isMapping(config['deploy']) ? config['deploy'] : {};
  const limits = isMapping(deploy['resources']) && isMapping(deploy['resources']['limits']) ? deploy['resources']['limits'] : {};
  const securityOpt = (Array.isArray(config['security_opt']) ? config['security_opt'] : []).map(String);
  const privileged = config['privileged'] === true;
  const network = networks(project, config, orchestrator);
  const cpus = Number(config['cpus'] ?? limits['cpus'] ?? 0) || 0;
  const appArmorOption = securityOpt.map((option) => /^apparmor[=:](.*)$/.exec(option)?.[1]).find((profile) => profile !== undefined);
  const labels: Record<string, string> = {
    ...(image?.Config?.Labels ?? {}),
    ...Object.fromEntries(Object.entries(listOrMapping(config['labels'])).map(([key, value]) => [key, text(value) ?? ''])),
    ...(orchestrator === 'compose'
      ? {
          'com.docker.compose.project': project.name,
          'com.docker.compose.service': service.name,
          'com.docker.compose.container-number': '1',
          'com.docker.compose.oneoff': 'False',
        }
      : { 'com.docker.stack.namespace': project.name, 'com.docker.swarm.service.name': `${project.name}_${service.name}` }),
  };
  const ownHealthcheck = healthcheck(config);
  const hostConfig: HostConfig = {
    Privileged: privileged,
    CapAdd: (Array.isArray(config['cap_add']) ? config['cap_add'] : []).map(String),
    CapDrop: (Array.isArray(config['cap_drop']) ? config['cap_drop'] : []).map(String),
    SecurityOpt: securityOpt,
    NetworkMode: network.mode,
    PidMode: text(config['pid']) ?? '',
    IpcMode: text(config['ipc']) ?? '',
    UTSMode: text(config['uts']) ?? '',
    UsernsMode: text(config['userns_mode']) ?? '',
    Memory: bytes(config['mem_limit'] ?? limits['memory'] ?? 0),
    CpuShares: Number(config['cpu_shares'] ?? 0) || 0,
    NanoCpus: Math.round(cpus * 1e9),
    CpuQuota: Number(config['cpu_quota'] ?? 0) || 0,
    ReadonlyRootfs: config['read_only'] === true,
    RestartPolicy: restartPolicy(config, orchestrator),
    Devices: devices(config),
    Ulimits: ulimits(config),
    PidsLimit: Number(config['pids_limit'] ?? limits['pids'] ?? 0) || 0,
    CgroupParent: text(config['cgroup_parent']) ?? '',
    PublishAllPorts: false,
    ...(isMapping(config['logging']) && typeof config['logging']['driver'] === 'string'
      ? { LogConfig: { Type: config['logging']['driver'] } }
      : {}),
  };
  const containerConfig: NonNullable<ContainerInspect['Config']> = {
    Image: reference,
    Labels: labels,
    Hostname: text(config['hostname']) ?? '',
  };
  const state: NonNullable<ContainerInspect['State']> = { Status: 'created', Running: false, StartedAt: '' };
  const user = text(config['user']);
  if (user !== undefined) containerConfig.User = user;
  else if (image !== undefined) containerConfig.User = image.Config?.User ?? '';
  else unknownFromImage(containerConfig, 'User', reference, 'USER');
  const environment = Object.entries(listOrMapping(config['environment'])).map(([key, value]) =>
    value === null ? key : `${key}=${text(value) ?? ''}`,
  );
  if (image !== undefined) containerConfig.Env = [...(image.Config?.Env ?? []), ...environment];
  else unknownFromImage(containerConfig, 'Env', reference, 'ENV');
  const effectiveHealthcheck = ownHealthcheck ?? (image === undefined ? undefined : (image.Config?.Healthcheck ?? undefined));
  if (effectiveHealthcheck !== undefined) containerConfig.Healthcheck = effectiveHealthcheck;
  const checked =
    effectiveHealthcheck?.Test !== undefined && effectiveHealthcheck.Test.length > 0 && effectiveHealthcheck.Test[0] !== 'NONE';
  const startedState = checked ? { ...state, Health: { Status: 'starting', FailingStreak: 0, Log: [] } } : undefined;
  if (checked) {
    Object.defineProperty(state, 'Health', {
      enumerable: true,
      get() {
        throw new NotApplicableError('its health status is known only once it runs');
      },
    });
  } else if (ownHealthcheck === undefined && image === undefined) unknownFromImage(state, 'Health', reference, 'HEALTHCHECK');
  const inspect: ContainerInspect = {
    Id: '',
    Name: `/${name}`,
    Image: image?.Id ?? '',
    State: state,
    // As the engine records it: privileged is unconfined where the engine has AppArmor, and no profile where it has none.
    AppArmorProfile: privileged
      ? engine.appArmor === false
        ? ''
        : 'unconfined'
      : (appArmorOption ?? (engine.appArmor === true ? 'docker-default' : '')),
    ExecIDs: null,
    HostConfig: hostConfig,
    Config: containerConfig,
    Mounts: mounts(project, config),
    NetworkSettings: {
      Ports: network.mode === 'host' ? {} : ports(config, orchestrator),
      Networks: Object.fromEntries(network.attached.map((attached) => [attached, {}])),
    },
  };
  return {
    image: reference,
    inspect,
    ...(startedState === undefined ? {} : { inspectOnceStarted: { ...inspect, State: startedState } }),
  };
}
