import { errorMessage } from '../errors.js';
import { builtInCheck } from '../policy/built-in-check.js';
import type { CheckContext, CheckOptions, CheckOutcome, ContainerView } from '../policy/types.js';
import { findExecutable } from '../scanners/executable.js';
import type { ImageScanCache } from '../scanners/image-scan-cache.js';
import { lastLine, runScanner, scrub } from '../scanners/run-scanner.js';
import { SCANNER_OPTIONS, scannerSettings } from '../scanners/scanner-options.js';

const VERDICT_LINE = /^\s*Compliance threshold check results:\s*(PASS|FAIL)\b/m;
const COMPLIANCE_SUMMARY = /^\s*Compliance found for image .*?:\s*(total - .*?)\s*$/m;
// eslint-disable-next-line no-control-regex -- an ANSI escape starts with the ESC control character
const ANSI_ESCAPE = /\u001b\[[0-9;]*m/g;

/** Reads twistcli's summary: its compliance line decides, as in the CFPB tool; undefined when absent. */
export function complianceOutcome(output: string): CheckOutcome | undefined {
  const text = output.replace(ANSI_ESCAPE, '');
  const verdict = VERDICT_LINE.exec(text)?.[1];
  if (verdict === undefined) return undefined;
  if (verdict === 'PASS') return { result: 'pass' };
  const summary = COMPLIANCE_SUMMARY.exec(text)?.[1];
  return { result: 'fail', reason: `Prisma Cloud compliance threshold check failed${summary === undefined ? '' : ` (${summary})`}` };
}

function listed(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** How twistcli authenticates: user and password through its environment, a token only on its command line. */
interface Credentials {
  args: string[];
  env: Record<string, string>;
  secrets: string[];
}

/**
 * The CFPB tool's Prisma Cloud scan: `twistcli images scan --address <url> [--token <token>] <image ID>`
 * passes when twistcli reports `Compliance threshold check results: PASS` (the thresholds live in
 * Prisma Cloud). Unlike the Python tool it checks its settings when the policy loads, runs twistcli
 * without a shell, keeps credentials out of logs and errors, and scans each image ID once per `cache_ttl`.
 *
 * Its scope is `container` although the verdict is per image: the chain would keep an image-scoped
 * verdict for as long as the image is in use, and `cache_ttl` must be able to send the image back to
 * the scanner. The per-image cache below does the sharing instead.
 */
export class PrismaScanCheck extends builtInCheck({
  description: 'the image passes the Prisma Cloud compliance threshold (twistcli images scan)',
  remediation: 'Rebuild the image on patched base images and packages until twistcli reports it within the threshold.',
  severity: 'high',
  inputs: ['inspect'],
  options: {
    twistcli_path: { type: 'string', description: 'the twistcli program: a path, or a name found on PATH' },
    url: { type: 'string', description: 'Prisma Cloud Compute Console address (https://…), passed as --address' },
    token: {
      type: 'string',
      description: "API token, passed as --token (visible in the host's process list while a scan runs; prefer user and password)",
    },
    user: { type: 'string', description: 'access key ID or user name, passed to twistcli in TWISTLOCK_USER' },
    password: {
      type: 'string',
      description: 'secret key or password, passed to twistcli in TWISTLOCK_PASSWORD (never on its command line)',
    },
    ...SCANNER_OPTIONS,
  },
}) {
  private readonly twistcli: string;
  private readonly address: string;
  private readonly credentials: Credentials;
  private readonly timeoutMs: number;
  private readonly cache: ImageScanCache<CheckOutcome>;

  constructor(config: CheckOptions, context: CheckContext, env: NodeJS.ProcessEnv = process.env) {
    super(config, context);
    const { twistcli_path: path = '', url = '', token = '', user = '', password = '' } = this.config;
    const hasPassword = password !== '' || (env['TWISTLOCK_PASSWORD'] ?? '') !== '';
    const missing = [
      ...(path === '' ? ['twistcli_path'] : []),
      ...(url === '' ? ['url'] : []),
      ...(token === '' && !hasPassword ? ['token (or user and password)'] : []),
    ];
    if (missing.length > 0) {
      throw new Error(`${listed(missing)} must be set: the twistcli program, the Prisma Cloud Console address and its credentials`);
    }
    if (token !== '' && password !== '') throw new Error('give token, or user and password, not both');
    let address: URL;
    try {
      address = new URL(url);
    } catch {
      throw new Error(`url "${url}" is not an address (e.g. https://console.example.com:8083)`);
    }
    if (address.protocol !== 'https:') throw new Error(`url "${url}" must start with https:// (twistcli only speaks HTTPS to the Console)`);
    try {
      this.twistcli = findExecutable(path);
    } catch (error) {
      throw new Error(`twistcli_path: ${errorMessage(error)}`, { cause: error });
    }
    this.address = url;
    this.credentials =
      token !== ''
        ? { args: ['--token', token], env: {}, secrets: [token] }
        : {
            args: [],
            env: { ...(user === '' ? {} : { TWISTLOCK_USER: user }), ...(password === '' ? {} : { TWISTLOCK_PASSWORD: password }) },
            secrets: [password, env['TWISTLOCK_PASSWORD'] ?? ''].filter((secret) => secret !== ''),
          };
    ({ timeoutMs: this.timeoutMs, cache: this.cache } = scannerSettings<CheckOutcome>(this.config, context));
  }

  check(container: ContainerView): Promise<CheckOutcome> {
    const imageId = container.inspect.Image;
    return this.cache.get(imageId, () => this.scan(imageId));
  }

  private async scan(imageId: string): Promise<CheckOutcome> {
    const { secrets } = this.credentials;
    // The image goes last: twistcli ignores options after it.
    const output = await runScanner({
      file: this.twistcli,
      args: ['images', 'scan', '--address', this.address, ...this.credentials.args, imageId],
      env: this.credentials.env,
      timeoutMs: this.timeoutMs,
      secrets,
    });
    const outcome = complianceOutcome(output.stdout);
    if (outcome !== undefined) return outcome.reason === undefined ? outcome : { ...outcome, reason: scrub(outcome.reason, secrets) };
    // twistcli exits 1 both for a failed threshold and for its own errors; only the text tells them apart.
    const why = lastLine(output.stderr, secrets) || lastLine(output.stdout, secrets) || 'no output';
    throw new Error(`twistcli gave no compliance result (exit code ${output.exitCode}): ${why}`);
  }
}
