import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { timed } from './stats.js';

const run = promisify(execFile);

/**
 * Go templates of the kind docker-bench-security's container-runtime section passes to
 * `docker inspect --format`, one CLI process per check and container. The script itself cannot be installed
 * here (no network beyond npm and Debian), so only its call pattern is reproduced: 39 calls per container.
 */
const FORMATS = [
  '{{ .Id }}: AppArmorProfile={{ .AppArmorProfile }}',
  '{{ .Id }}: SecurityOpt={{ .HostConfig.SecurityOpt }}',
  '{{ .Id }}: CapAdd={{ .HostConfig.CapAdd }}',
  '{{ .Id }}: CapDrop={{ .HostConfig.CapDrop }}',
  '{{ .Id }}: Privileged={{ .HostConfig.Privileged }}',
  '{{ .Id }}: Volumes={{ .Mounts }}',
  '{{ .Id }}: Ports={{ .NetworkSettings.Ports }}',
  '{{ .Id }}: NetworkMode={{ .HostConfig.NetworkMode }}',
  '{{ .Id }}: Memory={{ .HostConfig.Memory }}',
  '{{ .Id }}: CpuShares={{ .HostConfig.CpuShares }}',
  '{{ .Id }}: ReadonlyRootfs={{ .HostConfig.ReadonlyRootfs }}',
  '{{ .Id }}: PortBindings={{ .HostConfig.PortBindings }}',
  '{{ .Id }}: RestartPolicyName={{ .HostConfig.RestartPolicy.Name }}',
  '{{ .Id }}: MaximumRetryCount={{ .HostConfig.RestartPolicy.MaximumRetryCount }}',
  '{{ .Id }}: PidMode={{ .HostConfig.PidMode }}',
  '{{ .Id }}: IpcMode={{ .HostConfig.IpcMode }}',
  '{{ .Id }}: Devices={{ .HostConfig.Devices }}',
  '{{ .Id }}: Ulimits={{ .HostConfig.Ulimits }}',
  '{{ .Id }}: Propagation={{range $mnt := .Mounts}} {{json $mnt.Propagation}} {{end}}',
  '{{ .Id }}: UTSMode={{ .HostConfig.UTSMode }}',
  '{{ .Id }}: SecurityOpt={{ .HostConfig.SecurityOpt }}',
  '{{ .Id }}: State={{ json .State }}',
  '{{ .Id }}: CgroupParent={{ .HostConfig.CgroupParent }}',
  '{{ .Id }}: SecurityOpt={{ .HostConfig.SecurityOpt }}',
  '{{ .Id }}: PidsLimit={{ .HostConfig.PidsLimit }}',
  '{{ .Id }}: NetworkMode={{ .HostConfig.NetworkMode }}',
  '{{ .Id }}: UsernsMode={{ .HostConfig.UsernsMode }}',
  '{{ .Id }}: Volumes={{ .Mounts }}',
  '{{ .Id }}: Name={{ .Name }}',
  '{{ .Id }}: User={{ .Config.User }}',
  '{{ .Id }}: Image={{ .Config.Image }}',
  '{{ .Id }}: Config={{ json .Config }}',
  '{{ .Id }}: ExecIDs={{ .ExecIDs }}',
  '{{ .Id }}: Binds={{ .HostConfig.Binds }}',
  '{{ .Id }}: Runtime={{ .HostConfig.Runtime }}',
  '{{ .Id }}: NanoCpus={{ .HostConfig.NanoCpus }}',
  '{{ .Id }}: PublishAllPorts={{ .HostConfig.PublishAllPorts }}',
  '{{ .Id }}: Networks={{ .NetworkSettings.Networks }}',
  '{{ .Id }}: Status={{ .State.Status }}',
];

export interface DockerBenchEstimate {
  label: string;
  callsPerContainer: number;
  sampledContainers: number;
  /** Measured: wall time per container of its calls, one CLI process after another, as the script runs them. */
  msPerContainer: number;
  /** Extrapolated to the fleet size: msPerContainer × containers. */
  estimatedMs: number;
}

export async function estimateDockerBench(ids: readonly string[], sample: number, fleetSize: number): Promise<DockerBenchEstimate> {
  const sampled = ids.slice(0, sample);
  const { ms } = await timed(async () => {
    for (const id of sampled) for (const format of FORMATS) await run('docker', ['inspect', '--format', format, id]);
  });
  const msPerContainer = ms / Math.max(1, sampled.length);
  return {
    label: `estimate: docker-bench-security's call pattern (${FORMATS.length} docker inspect --format CLI calls per container, run on ${sampled.length} containers, extrapolated)`,
    callsPerContainer: FORMATS.length,
    sampledContainers: sampled.length,
    msPerContainer,
    estimatedMs: msPerContainer * fleetSize,
  };
}
