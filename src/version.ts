import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION = packageJson.version;
/** The git revision, stamped into the image at build time (Dockerfile) or given by the environment. */
export const REVISION = process.env['DOCKER_MONITOR_REVISION'] ?? 'unknown';
