#!/usr/bin/env node
// Writes dist/build-info.json: the git revision and branch this build comes from and when it was
// built, for `docker-monitor --version` and docker_monitor_build_info. Outside a git checkout (the
// image's build stage has no .git) DOCKER_MONITOR_REVISION and DOCKER_MONITOR_BRANCH give them,
// else they are "unknown". SOURCE_DATE_EPOCH, when set, fixes the date for reproducible builds.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;

/** `git args` in the repository, or undefined when git or the checkout is missing. */
function git(...args) {
  const result = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const out = result.status === 0 ? result.stdout.trim() : '';
  return out === '' ? undefined : out;
}

const epoch = process.env.SOURCE_DATE_EPOCH;
const info = {
  revision: process.env.DOCKER_MONITOR_REVISION || git('rev-parse', 'HEAD') || 'unknown',
  branch: process.env.DOCKER_MONITOR_BRANCH || git('rev-parse', '--abbrev-ref', 'HEAD') || 'unknown',
  buildDate: (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
};
mkdirSync(new URL('../dist', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/build-info.json', import.meta.url), `${JSON.stringify(info, null, 2)}\n`);
