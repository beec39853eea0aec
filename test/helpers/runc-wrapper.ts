/**
 * runc, minus what this machine cannot grant: CAP_SYS_RESOURCE in the spec it is handed
 * (`create --bundle B` reads B/config.json, `exec --process F` reads F), and for Podman also
 * `process.rlimits` (Podman sets RLIMIT_NOFILE and RLIMIT_NPROC above what the machine allows).
 * With `dropRlimits`, a bundle's config.json is put back as Podman wrote it once runc has read it:
 * Podman's inspect reads that file (`HostConfig.Ulimits`), and must show what real Podman records.
 * Written for this Node, so the wrapper needs no jq.
 */
export function runcWrapper(runc: string, options: { dropRlimits?: boolean } = {}): string {
  return `#!${process.execPath}
const { readFileSync, writeFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const args = process.argv.slice(2);
const dropRlimits = ${options.dropRlimits === true};
let spec;
let bundle = false;
args.forEach((arg, index) => {
  const next = args[index + 1];
  if ((arg === '--bundle' || arg === '-b') && next) { spec = next + '/config.json'; bundle = true; }
  else if (arg.startsWith('--bundle=')) { spec = arg.slice(9) + '/config.json'; bundle = true; }
  else if (arg === '--process' && next) spec = next;
  else if (arg.startsWith('--process=')) spec = arg.slice(10);
});
const strip = (value) => Array.isArray(value) ? value.filter((item) => item !== 'CAP_SYS_RESOURCE').map(strip)
  : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([key]) => !(dropRlimits && key === 'rlimits')).map(([k, v]) => [k, strip(v)])) : value;
let original;
if (spec) {
  try { original = readFileSync(spec, 'utf8'); writeFileSync(spec, JSON.stringify(strip(JSON.parse(original)))); } catch {}
}
const status = spawnSync(${JSON.stringify(runc)}, args, { stdio: 'inherit' }).status ?? 1;
if (dropRlimits && bundle && original !== undefined) {
  try { writeFileSync(spec, original); } catch {}
}
process.exit(status);
`;
}
