import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Counter } from 'prom-client';
import { LoginLimiter } from './login-limiter.js';
import { modificationStamp, readWebConfig, secureContextOptions, watchedFiles, type WebConfig } from './web-config.js';

/** A hash to compare against for unknown users, so a wrong user name costs as much as a wrong password. */
let dummyHash: Promise<string> | undefined;
const MAX_CACHED_LOGINS = 1024;

export type AuthResult = { ok: true } | { ok: false; status: 401 | 403 | 429; reason: string };

/** Why a login failed, as the `reason` label of docker_monitor_web_failed_logins_total. */
export type LoginFailure = 'missing' | 'wrong' | 'rate_limited';

/**
 * The web config in force. Like exporter-toolkit it is re-read when the file (or a certificate it
 * names) changes, so certificates rotate and users change without a restart; a broken new version is
 * logged and the last good one stays.
 */
export class WebSecurity {
  private config: WebConfig;
  private stamp: string;
  /** Verified logins: bcrypt costs ~70 ms, far too much to pay on every scrape. */
  private readonly verified = new Set<string>();
  private readonly tlsListeners: ((options: ReturnType<typeof secureContextOptions>) => void)[] = [];
  private readonly limiter = new LoginLimiter();
  private requestTokens = 0;
  /** 0: the bucket starts full. */
  private requestsUpdated = 0;

  constructor(
    readonly file: string,
    private readonly logger: Logger | undefined,
    /** Counts refused logins by reason (docker_monitor_web_failed_logins_total). */
    private readonly failedLogins?: Counter<'reason'>,
  ) {
    this.config = readWebConfig(file);
    this.stamp = modificationStamp(watchedFiles(file, this.config));
  }

  /** `rate_limit` of the web config: a token bucket shared by every request; true when this one may go on. */
  allowRequest(): boolean {
    const limit = this.config.rateLimit;
    if (limit === undefined) return true;
    const now = Date.now();
    this.requestTokens = Math.min(limit.burst, this.requestTokens + (now - this.requestsUpdated) / limit.intervalMs);
    this.requestsUpdated = now;
    if (this.requestTokens < 1) return false;
    this.requestTokens -= 1;
    return true;
  }

  private fail(reason: LoginFailure, status: 401 | 429, fields: Record<string, string>): AuthResult {
    this.failedLogins?.inc({ reason });
    // Never the password; a rate-limited flood is counted, not logged line by line.
    if (reason === 'wrong') this.logger?.warn(fields, 'failed login: wrong user name or password');
    return { ok: false, status, reason: status === 429 ? 'too many failed logins; try again later' : 'wrong user name or password' };
  }

  get current(): WebConfig {
    return this.config;
  }

  /** TLS options for the server at start; undefined for plain HTTP. */
  tlsOptions(): ReturnType<typeof secureContextOptions> | undefined {
    return this.config.tls === undefined ? undefined : secureContextOptions(this.config.tls, this.file);
  }

  /** Called with fresh TLS options whenever the certificates change. */
  onTlsChange(listener: (options: ReturnType<typeof secureContextOptions>) => void): void {
    this.tlsListeners.push(listener);
  }

  /** Re-reads the config if any of its files changed. Cheap: a stat of each file. */
  reloadIfChanged(): void {
    const stamp = modificationStamp(watchedFiles(this.file, this.config));
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    try {
      this.prepareReload()();
    } catch (error) {
      this.logger?.error({ err: errorMessage(error) }, 'web config could not be reloaded; keeping the previous one');
    }
  }

  /**
   * Reads the config and its certificates again, throwing a ConfigError when they do not load; the
   * function returned puts them in force (a reload commits the web config and the policy together).
   */
  prepareReload(): () => void {
    const next = readWebConfig(this.file);
    const tls = next.tls === undefined ? undefined : secureContextOptions(next.tls, this.file);
    return () => {
      this.config = next;
      this.stamp = modificationStamp(watchedFiles(this.file, next));
      this.verified.clear();
      if (tls !== undefined) for (const listener of this.tlsListeners) listener(tls);
      this.logger?.info({ file: this.file }, 'web config reloaded');
    };
  }

  /** Client certificate rules that the TLS handshake alone does not enforce, then basic auth. */
  async authorize(authorization: string | undefined, socket: unknown, client = ''): Promise<AuthResult> {
    const tls = this.config.tls;
    if (tls !== undefined && (tls.clientAuthType === 'RequireAnyClientCert' || tls.clientAuthType === 'VerifyClientCertIfGiven')) {
      const tlsSocket = socket as TLSSocket;
      const certificate = tlsSocket.getPeerCertificate?.();
      const presented = certificate !== undefined && Object.keys(certificate).length > 0;
      if (tls.clientAuthType === 'RequireAnyClientCert' && !presented)
        return { ok: false, status: 403, reason: 'client certificate required' };
      if (tls.clientAuthType === 'VerifyClientCertIfGiven' && presented && !tlsSocket.authorized) {
        return { ok: false, status: 403, reason: 'client certificate not trusted' };
      }
    }
    if (tls !== undefined && tls.clientAllowedSans.length > 0) {
      const certificate = (socket as TLSSocket).getPeerCertificate?.();
      const names = (certificate?.subjectaltname ?? '').split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
      if (!tls.clientAllowedSans.some((san) => names.includes(san))) {
        return { ok: false, status: 403, reason: 'client certificate has none of the allowed subject alternative names' };
      }
    }
    const users = this.config.basicAuthUsers;
    if (Object.keys(users).length === 0) return { ok: true };
    const credentials = parseBasic(authorization);
    if (credentials === undefined) {
      this.failedLogins?.inc({ reason: 'missing' });
      return { ok: false, status: 401, reason: 'authentication required' };
    }
    const hash = users[credentials.user];
    const key = createHash('sha256')
      .update(`${credentials.user}\0${credentials.password}\0${hash ?? ''}`)
      .digest('hex');
    if (hash !== undefined && this.verified.has(key)) return { ok: true };
    const fields = { user: credentials.user.slice(0, 64), client };
    if (!this.limiter.tryAcquire(client)) return this.fail('rate_limited', 429, fields);
    let matches = false;
    try {
      // Made on first need: every start would otherwise pay a bcrypt hash, with or without basic auth.
      matches = await bcrypt.compare(credentials.password, hash ?? (await (dummyHash ??= bcrypt.hash('docker-monitor', 10))));
    } finally {
      this.limiter.release(client, !matches || hash === undefined);
    }
    if (!matches || hash === undefined) return this.fail('wrong', 401, fields);
    if (this.verified.size >= MAX_CACHED_LOGINS) this.verified.clear();
    this.verified.add(key);
    return { ok: true };
  }
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
