/**
 * runc, minus what this machine cannot grant: CAP_SYS_RESOURCE in the spec it is handed
 * (`create --bundle B` reads B/config.json, `exec --process F` reads F), and for Podman also
 * `process.rlimits` (Podman sets RLIMIT_NOFILE and RLIMIT_NPROC above what the machine allows).
 * Written for this Node, so the wrapper needs no jq.
 */
export function runcWrapper(runc: string, options: { dropRlimits?: boolean } = {}): string {
  return `#!${process.execPath}
const { readFileSync, writeFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const args = process.argv.slice(2);
const dropRlimits = ${options.dropRlimits === true};
let spec;
args.forEach((arg, index) => {
  const next = args[index + 1];
  if ((arg === '--bundle' || arg === '-b') && next) spec = next + '/config.json';
  else if (arg.startsWith('--bundle=')) spec = arg.slice(9) + '/config.json';
  else if (arg === '--process' && next) spec = next;
  else if (arg.startsWith('--process=')) spec = arg.slice(10);
});
const strip = (value) => Array.isArray(value) ? value.filter((item) => item !== 'CAP_SYS_RESOURCE').map(strip)
  : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([key]) => !(dropRlimits && key === 'rlimits')).map(([k, v]) => [k, strip(v)])) : value;
if (spec) {
  try { writeFileSync(spec, JSON.stringify(strip(JSON.parse(readFileSync(spec, 'utf8'))))); } catch {}
}
process.exit(spawnSync(${JSON.stringify(runc)}, args, { stdio: 'inherit' }).status ?? 1);
`;
}
