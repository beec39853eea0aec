/**
 * A Docker engine as a separate machine would have it, on this one: its own network namespace (its own
 * docker0, docker_gwbridge, VXLAN devices and ports, none of them seen by the host or by the shared
 * engine), its own UTS namespace (its own host name, which Swarm reports as the node's), its own socket
 * and data. The nodes reach each other and the host over a bridge the test creates.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { docker } from './docker.js';
import { eventually } from './wait.js';
import { unmountAll } from './mounts.js';

const run = promisify(execFile);
const sh = (script: string): Promise<unknown> => run('sh', ['-c', script]);

/** The bridge that joins the nodes to each other and to the host (10.210.<octet>.1/24). */
export class NodeNetwork {
  readonly subnet: string;

  constructor(
    readonly bridge: string,
    octet: number,
  ) {
    this.subnet = `10.210.${octet}`;
  }

  get hostAddress(): string {
    return `${this.subnet}.1`;
  }

  async create(): Promise<void> {
    await sh(
      `ip link add ${this.bridge} type bridge && ip addr add ${this.hostAddress}/24 dev ${this.bridge} && ip link set ${this.bridge} up`,
    );
    // The shared engine sets FORWARD's policy to DROP; bridged traffic between the nodes must pass.
    await sh(`iptables -I FORWARD -i ${this.bridge} -o ${this.bridge} -j ACCEPT`);
  }

  async destroy(): Promise<void> {
    await sh(`iptables -D FORWARD -i ${this.bridge} -o ${this.bridge} -j ACCEPT 2>/dev/null; ip link del ${this.bridge} 2>/dev/null; true`);
  }
}

export class SwarmNode {
  readonly root: string;
  readonly socket: string;
  readonly host: string;
  readonly address: string;
  private readonly netns: string;
  private readonly veth: string;

  /** `hostname` also names its folder, so a Swarm mount template {{.Node.Hostname}} finds its socket. */
  constructor(
    readonly hostname: string,
    readonly network: NodeNetwork,
    index: number,
    base: string,
  ) {
    this.root = `${base}/${hostname}`;
    this.socket = `${this.root}/docker.sock`;
    this.host = `unix://${this.socket}`;
    this.address = `${network.subnet}.${10 + index}`;
    this.netns = `${network.bridge}n${index}`;
    this.veth = `${network.bridge}v${index}`;
  }

  docker(args: readonly string[]): Promise<string> {
    return docker(args, { ...process.env, DOCKER_HOST: this.host });
  }

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await sh(
      [
        `ip netns add ${this.netns}`,
        `ip link add ${this.veth} type veth peer name eth0 netns ${this.netns}`,
        `ip link set ${this.veth} master ${this.network.bridge} up`,
        `ip netns exec ${this.netns} ip addr add ${this.address}/24 dev eth0`,
        `ip netns exec ${this.netns} ip link set eth0 up`,
        `ip netns exec ${this.netns} ip link set lo up`,
      ].join(' && '),
    );
    // nsenter, not `ip netns exec`: that one remounts /sys and hides the cgroup file systems from dockerd.
    const child = spawn(
      'nsenter',
      [
        `--net=/var/run/netns/${this.netns}`,
        'unshare',
        '--uts',
        'sh',
        '-c',
        `hostname ${this.hostname} && exec dockerd --host ${this.host} --data-root ${this.root}/data --exec-root ${this.root}/exec --pidfile ${this.root}/docker.pid`,
      ],
      { stdio: 'ignore', detached: true },
    );
    child.unref();
    await eventually(
      () => this.docker(['info', '--format', '{{.Name}}']).catch(() => ''),
      (name) => name === this.hostname,
      30_000,
      `dockerd of swarm node ${this.hostname} to start`,
    );
  }

  /** Stops dockerd (by the PID it wrote) and removes its namespace, its link and its files. */
  async destroy(): Promise<void> {
    const pidFile = `${this.root}/docker.pid`;
    if (existsSync(pidFile)) {
      const pid = Number(await readFile(pidFile, 'utf8'));
      try {
        process.kill(pid, 'SIGTERM');
        await eventually(
          async () => existsSync(`/proc/${pid}`),
          (alive) => !alive,
          20_000,
          `dockerd ${pid} to exit`,
        );
      } catch {
        // already gone
      }
    }
    await sh(`ip netns del ${this.netns} 2>/dev/null; ip link del ${this.veth} 2>/dev/null; true`);
    await unmountAll(this.root);
    await rm(this.root, { recursive: true, force: true });
  }
}
