/**
 * The narrow view of the Docker Engine API that policy code works with. Shapes follow the Engine API
 * (v1.41+) JSON as returned by the engine; only the fields docker-monitor reads are typed, and every
 * field an older or newer engine may omit is optional.
 */

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

export interface MountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
  Mode?: string;
  RW?: boolean;
  Propagation?: string;
}

export interface HealthState {
  Status?: string;
  FailingStreak?: number;
}

export interface HostConfig {
  Privileged?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  SecurityOpt?: string[] | null;
  NetworkMode?: string;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  UsernsMode?: string;
  Memory?: number;
  CpuShares?: number;
  NanoCpus?: number;
  CpuQuota?: number;
  ReadonlyRootfs?: boolean;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  Devices?: { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }[] | null;
  Ulimits?: { Name?: string; Soft?: number; Hard?: number }[] | null;
  PidsLimit?: number | null;
  CgroupParent?: string;
  PublishAllPorts?: boolean;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  Binds?: string[] | null;
  Runtime?: string;
  LogConfig?: { Type?: string; Config?: Record<string, string> };
}

export interface ContainerConfig {
  User?: string;
  Image?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | string | null;
  Labels?: Record<string, string> | null;
  Healthcheck?: { Test?: string[] } | null;
  Hostname?: string;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Image: string;
  Created?: string;
  Path?: string;
  Args?: string[];
  State?: {
    Status?: string;
    Running?: boolean;
    Paused?: boolean;
    Pid?: number;
    StartedAt?: string;
    Health?: HealthState;
  };
  AppArmorProfile?: string;
  ExecIDs?: string[] | null;
  HostConfig?: HostConfig;
  Config?: ContainerConfig;
  Mounts?: MountPoint[];
  NetworkSettings?: {
    Ports?: Record<string, PortBinding[] | null> | null;
    Networks?: Record<string, { NetworkID?: string; IPAddress?: string }> | null;
  };
}

export interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: string;
  Config?: ContainerConfig | null;
  Os?: string;
  Architecture?: string;
}

export interface ImageHistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size?: number;
  Comment?: string;
}

/** `GET /containers/json` entry, reduced to what the monitor needs. */
export interface ContainerSummary {
  id: string;
  /** Name without the leading slash. */
  name: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  state: string;
}

/** `GET /containers/{id}/top`: `Titles` name the columns, which change with the ps arguments. */
export interface ProcessTable {
  Titles: string[];
  Processes: string[][];
}

export interface EngineInfo {
  ID?: string;
  Name?: string;
  ServerVersion?: string;
  Driver?: string;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  LiveRestoreEnabled?: boolean;
  ExperimentalBuild?: boolean;
  Debug?: boolean;
  SecurityOptions?: string[];
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
  RegistryConfig?: {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name?: string; Secure?: boolean; Official?: boolean }> | null;
  };
  Plugins?: { Authorization?: string[] | null };
  Warnings?: string[] | null;
  DockerRootDir?: string;
}

export interface EngineVersion {
  Version?: string;
  ApiVersion?: string;
  Experimental?: boolean;
  /** Podman names itself here ("Podman Engine"), with its own Experimental flag in Details. */
  Components?: { Name?: string; Version?: string; Details?: Record<string, string> | null }[] | null;
}

export interface NetworkInspect {
  Id: string;
  Name: string;
  Driver?: string;
  Options?: Record<string, string> | null;
  Containers?: Record<string, { Name?: string }> | null;
}

export interface ExecInspect {
  ID: string;
  Running?: boolean;
  ProcessConfig?: { user?: string; privileged?: boolean; entrypoint?: string; arguments?: string[] };
}

/** One process of a container, as the engine (or /proc) reports it from the host's point of view. */
export interface ContainerProcess {
  pid: number;
  /** Numeric user ID on the host; undefined only when the source gave a name that could not be resolved. */
  uid: number | undefined;
  /**
   * Whether the process is root inside the container's user namespace (UID 0 there): the same as
   * `uid === 0` without one, true with a host UID like 100000 under userns-remap, rootless engines and
   * `podman --uidmap`. Absent when the source cannot tell (Docker's `top`, which shows only host UIDs).
   */
  containerRoot?: boolean;
  user: string;
  command: string;
}

/** One engine event, as far as the monitor cares. */
export interface EngineEvent {
  Type: string;
  Action: string;
  id: string;
  name?: string | undefined;
  time?: number | undefined;
  /** The exec session of an `exec_*` event. */
  execId?: string | undefined;
  /** The container a network event (`connect`, `disconnect`) is about. */
  container?: string | undefined;
}

export type EnforcementAction = 'stop' | 'kill' | 'pause';

/**
 * Everything docker-monitor asks of the engine. HTTP requests to the engine (engine-transport.ts) sit
 * behind it in production; tests of policy logic hand checks plain data captured from a real engine
 * instead.
 */
export interface Engine {
  /** The address in a form fit for error messages (no credentials). */
  readonly address: string;
  ping(): Promise<void>;
  listContainers(): Promise<ContainerSummary[]>;
  inspectContainer(id: string): Promise<ContainerInspect>;
  /** `GET /containers/{id}/top`; `psArgs` default to Docker's host `ps` options (`-o pid,uid,user,args`). */
  top(id: string, psArgs?: string): Promise<ProcessTable>;
  inspectImage(id: string): Promise<ImageInspect>;
  imageHistory(id: string): Promise<ImageHistoryEntry[]>;
  inspectExec(id: string): Promise<ExecInspect>;
  info(): Promise<EngineInfo>;
  version(): Promise<EngineVersion>;
  networks(): Promise<NetworkInspect[]>;
  /**
   * Opens `/events`; resolves once the stream is open. The iterable ends (or throws)
   * when the stream breaks, and ends when the signal aborts.
   */
  events(signal: AbortSignal): Promise<AsyncIterable<EngineEvent>>;
  act(id: string, action: EnforcementAction): Promise<void>;
}
