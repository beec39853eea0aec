import { builtInCheck } from '../policy/built-in-check.js';
import type { CheckContext, CheckMetric, CheckOptions, CheckOutcome, ContainerView } from '../policy/types.js';
import { errorMessage } from '../errors.js';
import { findExecutable } from '../scanners/executable.js';
import type { ImageScanCache } from '../scanners/image-scan-cache.js';
import { lastLine, runScanner } from '../scanners/run-scanner.js';
import { SCANNER_OPTIONS, scannerSettings } from '../scanners/scanner-options.js';

/** Trivy's severity names, lower-cased, most severe first. */
export const VULNERABILITY_SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type VulnerabilitySeverity = (typeof VULNERABILITY_SEVERITIES)[number];
export type SeverityCounts = Readonly<Record<VulnerabilitySeverity, number>>;

/** What TrivyScanCheck found in a container's image. */
export interface VulnerabilityData {
  vulnerabilities: SeverityCounts;
}

/**
 * Per image reference in use, the count at each severity (zeros included, so every series exists).
 * `image` is the reference the container was started with: containers of one image ID started by
 * different references give one series each.
 */
const IMAGE_VULNERABILITIES_METRIC: CheckMetric<VulnerabilityData> = {
  name: 'docker_monitor_image_vulnerabilities',
  help: "Vulnerabilities found by TrivyScanCheck in an image in use, by severity; each image ID is scanned once per the check's cache_ttl.",
  labelNames: ['image', 'severity'],
  samples: (data, container) =>
    VULNERABILITY_SEVERITIES.map((severity) => ({
      labels: { image: container.image || container.imageId, severity },
      value: data.vulnerabilities[severity],
    })),
};

/** The part of trivy's JSON report (`--format json`, schema version 2) that is counted. */
interface TrivyReport {
  Results?: { Vulnerabilities?: { Severity?: string; FixedVersion?: string }[] | null }[] | null;
}

function severityOf(name: string | undefined): VulnerabilitySeverity {
  const severity = (name ?? '').toLowerCase();
  return (VULNERABILITY_SEVERITIES as readonly string[]).includes(severity) ? (severity as VulnerabilitySeverity) : 'unknown';
}

/** Counts a trivy JSON report's vulnerabilities by severity; `ignoreUnfixed` leaves out those without a FixedVersion. */
export function countVulnerabilities(json: string, ignoreUnfixed: boolean): SeverityCounts {
  let report: TrivyReport;
  try {
    report = JSON.parse(json) as TrivyReport;
  } catch {
    throw new Error(`trivy did not print a JSON report: ${JSON.stringify(json.trim().slice(0, 120))}`);
  }
  if (typeof report !== 'object' || report === null || Array.isArray(report)) {
    throw new Error('trivy printed JSON that is not a report (an object with Results)');
  }
  const counts = Object.fromEntries(VULNERABILITY_SEVERITIES.map((severity) => [severity, 0])) as Record<VulnerabilitySeverity, number>;
  for (const result of report.Results ?? []) {
    for (const vulnerability of result.Vulnerabilities ?? []) {
      if (ignoreUnfixed && !vulnerability.FixedVersion) continue;
      counts[severityOf(vulnerability.Severity)] += 1;
    }
  }
  return counts;
}

/**
 * For those without Prisma Cloud: `trivy image --format json --quiet <image ID>` and FAIL when more than
 * `max` vulnerabilities are at or above `severity`. The counts by severity are also kept for
 * `docker_monitor_image_vulnerabilities`. Each image ID is scanned once per `cache_ttl`; see
 * PrismaScanCheck for why the scope is `container`.
 */
export class TrivyScanCheck extends builtInCheck({
  description: 'the image has no more than `max` known vulnerabilities at or above `severity` (trivy image)',
  remediation: 'Rebuild the image on patched base images and packages so trivy finds no vulnerabilities above the limit.',
  severity: 'high',
  inputs: ['inspect'],
  options: {
    trivy_path: { type: 'string', default: 'trivy', description: 'the trivy program: a path, or a name found on PATH' },
    // Replaces the common `severity` key: the threshold is also how bad this check's failure is.
    severity: {
      type: 'enum',
      values: ['critical', 'high', 'medium', 'low'],
      default: 'high',
      description: 'count vulnerabilities at or above this severity (CRITICAL, HIGH, MEDIUM, LOW)',
    },
    max: { type: 'integer', default: 0, description: 'most vulnerabilities at or above severity an image may have' },
    ignore_unfixed: { type: 'boolean', default: false, description: 'leave out vulnerabilities that have no fixed version yet' },
    ...SCANNER_OPTIONS,
  },
  metrics: [IMAGE_VULNERABILITIES_METRIC],
}) {
  private readonly trivy: string;
  private readonly counted: readonly VulnerabilitySeverity[];
  private readonly max: number;
  private readonly ignoreUnfixed: boolean;
  private readonly timeoutMs: number;
  private readonly cache: ImageScanCache<SeverityCounts>;

  constructor(config: CheckOptions, context: CheckContext) {
    super(config, context);
    try {
      this.trivy = findExecutable(this.config.trivy_path);
    } catch (error) {
      throw new Error(`trivy_path: ${errorMessage(error)}`, { cause: error });
    }
    const threshold = VULNERABILITY_SEVERITIES.indexOf(this.config.severity);
    this.counted = VULNERABILITY_SEVERITIES.slice(0, threshold + 1);
    this.max = this.config.max;
    if (this.max < 0) throw new Error('max must be 0 or more');
    this.ignoreUnfixed = this.config.ignore_unfixed;
    ({ timeoutMs: this.timeoutMs, cache: this.cache } = scannerSettings<SeverityCounts>(this.config, context));
  }

  async check(container: ContainerView): Promise<CheckOutcome<VulnerabilityData>> {
    const imageId = container.inspect.Image;
    const counts = await this.cache.get(imageId, () => this.scan(imageId));
    const data = { vulnerabilities: counts };
    const found = this.counted.filter((severity) => counts[severity] > 0);
    const total = found.reduce((sum, severity) => sum + counts[severity], 0);
    if (total <= this.max) return { result: 'pass', data };
    const threshold = (this.counted[this.counted.length - 1] ?? 'high').toUpperCase();
    const bySeverity = found.map((severity) => `${severity.toUpperCase()} ${counts[severity]}`).join(', ');
    return {
      result: 'fail',
      reason: `${total} ${this.ignoreUnfixed ? 'fixable ' : ''}vulnerabilit${total === 1 ? 'y' : 'ies'} at ${threshold} or above (${bySeverity}); at most ${this.max} allowed`,
      data,
    };
  }

  private async scan(imageId: string): Promise<SeverityCounts> {
    const output = await runScanner({
      file: this.trivy,
      args: ['image', '--format', 'json', '--quiet', imageId],
      timeoutMs: this.timeoutMs,
    });
    if (output.exitCode !== 0) {
      throw new Error(`trivy failed (exit code ${output.exitCode}): ${lastLine(output.stderr) || lastLine(output.stdout) || 'no output'}`);
    }
    return countVulnerabilities(output.stdout, this.ignoreUnfixed);
  }
}
