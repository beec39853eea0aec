import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION = packageJson.version;

export interface BuildInfo {
  revision: string;
  branch: string;
  buildDate: string;
}

/** Written by scripts/build-info.mjs when `npm run build` runs; absent when the sources run directly (tsx). */
function readBuildInfo(): BuildInfo {
  try {
    return JSON.parse(readFileSync(new URL('./build-info.json', import.meta.url), 'utf8')) as BuildInfo;
  } catch {
    return { revision: 'unknown', branch: 'unknown', buildDate: 'unknown' };
  }
}

export const BUILD_INFO = readBuildInfo();
/** The git revision this build comes from, as `--version` and docker_monitor_build_info show it. */
export const REVISION = BUILD_INFO.revision;

/** `--version`, in the Prometheus exporters' form (`node_exporter --version`). */
export function versionText(): string {
  return [
    `docker-monitor, version ${VERSION} (branch: ${BUILD_INFO.branch}, revision: ${REVISION})`,
    `  build date:     ${BUILD_INFO.buildDate}`,
    `  nodejs version: ${process.version}`,
    `  platform:       ${process.platform}/${process.arch}`,
  ].join('\n');
}
