import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { networkInterfaces } from 'node:os';
import type { ListenAddress } from '../config/listen-address.js';
import { BUILT_IN_CHECKS } from '../checks/index.js';
import { applyFlags, type ServeFlags } from '../config/flags.js';
import { loadPolicy } from '../config/load-policy.js';
import { errorMessage } from '../errors.js';
import { readWebConfig } from '../exporter/web-config.js';

/**
 * The hosts a scraper would use to reach a listen address. For every interface (`:port`, `[::]`,
 * `0.0.0.0`) that is each address of a non-loopback interface, so a server bound to loopback alone
 * fails the check; loopback only when the machine (or container) has no other interface.
 */
export function probeHosts(address: ListenAddress, interfaces = networkInterfaces()): string[] {
  const host = address.host;
  if (host !== undefined && host !== '::' && host !== '0.0.0.0') return [host];
  const external = Object.values(interfaces)
    .flatMap((entries) => entries ?? [])
    .filter((entry) => !entry.internal && (entry.family === 'IPv4' || (host !== '0.0.0.0' && !entry.address.startsWith('fe80:'))))
    .map((entry) => entry.address);
  return external.length > 0 ? external : ['127.0.0.1'];
}

function probe(url: URL, timeoutMs: number): Promise<string | undefined> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    // Our own listener: its certificate need not be trusted to prove that it answers.
    const call = request(url, { timeout: timeoutMs, rejectUnauthorized: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200 ? undefined : `answered ${response.statusCode}`);
    });
    call.on('timeout', () => call.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    call.on('error', (error) => resolve(errorMessage(error)));
    call.end();
  });
}

/**
 * `docker-monitor healthcheck`: asks `/-/healthy` on every address `serve` listens on (given the same
 * flags), as a scraper would reach it. Exit 0 when all answer, 1 otherwise; one line per address.
 */
export async function runHealthcheck(flags: ServeFlags, write: (line: string) => void, timeoutMs = 3000): Promise<number> {
  const settings = applyFlags((await loadPolicy(flags.configFile, BUILT_IN_CHECKS)).settings, flags);
  const scheme = settings.webConfigFile !== undefined && readWebConfig(settings.webConfigFile).tls !== undefined ? 'https' : 'http';
  const urls = settings.listenAddresses.flatMap((address) =>
    probeHosts(address).map((host) => new URL(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}/-/healthy`)),
  );
  const failures = await Promise.all(urls.map((url) => probe(url, timeoutMs)));
  urls.forEach((url, index) => write(`${url.href}: ${failures[index] ?? 'healthy'}\n`));
  return failures.every((failure) => failure === undefined) ? 0 : 1;
}
