/**
 * The repository's own Dockerfile, built as users build it, on the local stand-in for its base image
 * (see node-image.ts). The legacy builder's layer cache makes a second build in the same run quick.
 */
import { fileURLToPath } from 'node:url';
import { docker } from './docker.js';
import { ensureNodeBaseImage } from './node-image.js';

export const EXPORTER_IMAGE = 'docker-monitor-test/exporter:local';
export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `docker build --build-arg NODE_IMAGE=<stand-in> -t docker-monitor-test/exporter:local .`; returns the tag. */
export async function buildExporterImage(): Promise<string> {
  const base = await ensureNodeBaseImage(24);
  await docker(['build', '-q', '--build-arg', `NODE_IMAGE=${base}`, '--build-arg', 'REVISION=test', '-t', EXPORTER_IMAGE, REPOSITORY_ROOT]);
  return EXPORTER_IMAGE;
}

/** The size Docker reports for an image, in bytes. */
export async function imageSize(image: string): Promise<number> {
  return Number(await docker(['image', 'inspect', '--format', '{{.Size}}', image]));
}

/**
 * The `docker run` arguments of docs/deployment.md, with the test's name, label and port: non-root
 * (the image's user), the socket's group, a read-only root, no capabilities, no new privileges, the
 * port published on loopback only.
 */
export function documentedRunArgs(options: {
  name: string;
  label: string;
  port: number;
  socket: string;
  socketGroup: string;
  pidHost?: boolean;
  groupAdd?: boolean;
  runArgs?: string[];
}): string[] {
  return [
    'run',
    '-d',
    '--name',
    options.name,
    '--label',
    options.label,
    '--init',
    '--restart',
    'unless-stopped',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    ...(options.pidHost === true ? ['--pid=host'] : []),
    '-p',
    `127.0.0.1:${options.port}:10091`,
    '-v',
    `${options.socket}:/var/run/docker.sock`,
    ...(options.groupAdd === false ? [] : ['--group-add', options.socketGroup]),
    ...(options.runArgs ?? []),
  ];
}
