/**
 * How Compose merges a service defined in several files (`-f a.yml -f b.yml`) or extended: mappings
 * merge key by key, `environment` and `labels` as mappings, lists such as `cap_add` and `ports` are
 * joined without duplicates, `volumes` and `devices` replace by container path, anything else is
 * replaced by the later file's value.
 */
import { isMapping, text, type Mapping } from './values.js';

const AS_MAPPING = new Set(['environment', 'labels', 'sysctls', 'extra_hosts', 'annotations']);
const UNIQUE_LISTS = new Set([
  'cap_add',
  'cap_drop',
  'security_opt',
  'ports',
  'expose',
  'dns',
  'dns_search',
  'dns_opt',
  'tmpfs',
  'env_file',
  'external_links',
  'volumes_from',
  'device_cgroup_rules',
  'group_add',
  'secrets',
  'configs',
]);
const BY_TARGET = new Set(['volumes', 'devices']);
const DEEP = new Set(['ulimits', 'healthcheck', 'deploy', 'logging', 'build', 'networks', 'blkio_config', 'credential_spec']);

/** `["A=1", "B"]` or `{A: 1}` as a mapping. */
export function listOrMapping(value: unknown, separator = '='): Mapping {
  if (isMapping(value)) return value;
  if (!Array.isArray(value)) return {};
  return Object.fromEntries(
    value.map((entry) => {
      const line = String(entry);
      const cut = line.indexOf(separator);
      return cut < 0 ? [line, null] : [line.slice(0, cut), line.slice(cut + 1)];
    }),
  );
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** The container path of a volume or device entry (short or long syntax). */
function targetOf(entry: unknown): string {
  if (isMapping(entry)) return text(entry['target'] ?? entry['source']) ?? '';
  const parts = (text(entry) ?? '').split(':');
  return parts.length === 1 ? (parts[0] ?? '') : (parts[1] ?? '');
}

function deepMerge(base: Mapping, override: Mapping): Mapping {
  const out: Mapping = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const previous = out[key];
    out[key] = isMapping(previous) && isMapping(value) ? deepMerge(previous, value) : value;
  }
  return out;
}

function key(entry: unknown): string {
  return typeof entry === 'string' ? entry : JSON.stringify(entry);
}

export function mergeService(base: Mapping, override: Mapping): Mapping {
  const out: Mapping = { ...base };
  for (const [name, value] of Object.entries(override)) {
    const previous = out[name];
    if (previous === undefined || previous === null || value === null) out[name] = value;
    else if (AS_MAPPING.has(name))
      out[name] = {
        ...listOrMapping(previous, name === 'extra_hosts' ? ':' : '='),
        ...listOrMapping(value, name === 'extra_hosts' ? ':' : '='),
      };
    else if (UNIQUE_LISTS.has(name)) {
      const seen = new Map<string, unknown>();
      for (const entry of [...asList(previous), ...asList(value)]) seen.set(key(entry), entry);
      out[name] = [...seen.values()];
    } else if (BY_TARGET.has(name)) {
      const byTarget = new Map<string, unknown>();
      for (const entry of [...asList(previous), ...asList(value)]) byTarget.set(targetOf(entry), entry);
      out[name] = [...byTarget.values()];
    } else if (DEEP.has(name)) {
      const left = name === 'networks' && Array.isArray(previous) ? listOrMapping(previous) : previous;
      const right = name === 'networks' && Array.isArray(value) ? listOrMapping(value) : value;
      out[name] = isMapping(left) && isMapping(right) ? deepMerge(left, right) : value;
    } else out[name] = value;
  }
  return out;
}
