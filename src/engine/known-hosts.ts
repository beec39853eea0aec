/**
 * Host key checking for ssh:// engines against OpenSSH's known_hosts, as the docker CLI gets it from
 * `ssh`: ssh2 accepts any host key unless told otherwise, which would hand the engine to whoever
 * answers on that address.
 */
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** The name known_hosts uses for a host: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(name);
}

/** One host-patterns field: plain names and globs (`!` negates), or a hashed `|1|salt|hash` entry. */
function patternsMatch(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (salt === undefined || hash === undefined) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The host keys (raw SSH wire blobs) known_hosts lists for a host; @revoked and @cert-authority lines are not host keys. */
export function knownHostKeys(text: string, host: string, port: number): Buffer[] {
  const name = knownHostsName(host, port);
  const keys: Buffer[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith('#') || fields[0]!.startsWith('@')) continue;
    if (patternsMatch(fields[0]!, name)) keys.push(Buffer.from(fields[2]!, 'base64'));
  }
  return keys;
}

/** ssh2's `hostVerifier` for one host; throws a UsageError now when known_hosts does not know the host at all. */
export function knownHostsVerifier(file: string, user: string, host: string, port: number, source: string): (key: Buffer) => boolean {
  const keys = existsSync(file) ? knownHostKeys(readFileSync(file, 'utf8'), host, port) : [];
  if (keys.length === 0) {
    const ssh = `ssh ${port === 22 ? '' : `-p ${port} `}${user}@${host}`;
    throw new UsageError(
      `${source}: ${knownHostsName(host, port)} has no host key in ${file}; connect once with "${ssh}" (or add "ssh-keyscan" output) to trust it`,
    );
  }
  return (key) => keys.some((known) => known.equals(key));
}
