import type { Location, Log, Notification, ReportingDescriptor, Result } from 'sarif';
import { checksByName } from '../policy/severity.js';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CheckInstance, CheckResult, ContainerReport, Severity, SourcePosition } from '../policy/types.js';
import { VERSION } from '../version.js';
import type { CheckRun } from './check-run.js';

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFORMATION_URI = 'https://www.npmjs.com/package/docker-monitor';

/** SARIF has three levels; critical and high are errors, medium a warning, low and info notes. */
const LEVELS: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub code scanning ranks security alerts by this CVSS-like score (critical > 9, high ≥ 7, medium ≥ 4). */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
  info: '0.0',
};

/**
 * A rule's `name`: the check's name in words (`running-as-root-check`). SARIF wants it to differ from
 * the `id` (the check's name as the policy spells it, which fingerprints and waivers use).
 */
export function ruleName(checkName: string): string | undefined {
  const words = checkName
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
  return words === checkName ? undefined : words;
}

function rule(check: CheckInstance): ReportingDescriptor {
  const description = check.description === '' ? check.name : check.description;
  const name = ruleName(check.name);
  return {
    id: check.name,
    ...(name === undefined ? {} : { name }),
    shortDescription: { text: description },
    ...(check.remediation === undefined ? {} : { help: { text: check.remediation } }),
    defaultConfiguration: { level: LEVELS[check.severity] },
    properties: {
      severity: check.severity,
      'security-severity': SECURITY_SEVERITY[check.severity],
      scope: check.scope,
      ...(check.cisId === undefined ? {} : { cisId: check.cisId }),
      ...(check.remediation === undefined ? {} : { remediation: check.remediation }),
      tags: ['security', 'docker', ...(check.cisId === undefined ? [] : [`CIS-Docker-${check.cisId}`])],
    },
  };
}

/**
 * An image reference as a URI reference. Most are one already (`redis:7` reads as scheme and path,
 * `registry:5000/app:1` too, `team/app:1` as a relative path); a colon in the first segment after
 * something that cannot be a scheme (`app@sha256:…`) is percent-encoded.
 */
export function imageUri(image: string): string {
  const firstSegment = image.split('/')[0] ?? '';
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(image) || !firstSegment.includes(':') ? image : image.replaceAll(':', '%3A');
}

/**
 * A running container is no file: its image is the artifact, the container the logical location. The
 * finding is about the image as a whole, so its region is the whole (one-line) reference.
 */
function containerLocation(report: Pick<ContainerReport, 'name' | 'image'>): Location {
  return {
    ...(report.image === ''
      ? {}
      : { physicalLocation: { artifactLocation: { uri: imageUri(report.image) }, region: { startLine: 1, endLine: 1 } } }),
    logicalLocations: [{ name: report.name, fullyQualifiedName: `containers/${report.name}`, kind: 'container' }],
  };
}

/** A compose or stack file as a URI: relative to the working folder (the repository, in CI) when inside it. */
export function fileUri(file: string): string {
  const relativePath = relative(process.cwd(), file);
  if (relativePath === '' || relativePath.startsWith('..') || isAbsolute(relativePath)) return pathToFileURL(file).href;
  return relativePath.split(sep).map(encodeURIComponent).join('/');
}

/** A compose service's result: the file, line and column of the key the check read, and the service as logical location. */
function sourceLocation(source: SourcePosition, service: string, uris: Map<string, string>): Location {
  let uri = uris.get(source.file);
  if (uri === undefined) uris.set(source.file, (uri = fileUri(source.file)));
  return {
    physicalLocation: {
      artifactLocation: { uri },
      region: { startLine: source.line, startColumn: source.column },
    },
    logicalLocations: [{ name: service, fullyQualifiedName: `services/${service}`, kind: 'module' }],
  };
}

const HOST_LOCATION: Location = { logicalLocations: [{ name: 'engine', fullyQualifiedName: 'host/engine', kind: 'host' }] };

/**
 * `check --format sarif`: a SARIF 2.1.0 log with one rule per check of the chain and one result per
 * failing (or waived) container and check; waived results carry an accepted external suppression.
 * Checks that threw or timed out, and containers that could not be evaluated, are tool execution
 * notifications: they are not findings about the container.
 */
export function sarifLog(run: CheckRun): Log {
  const checks = [...checksByName(run.checks).values()];
  const ruleIndex = new Map(checks.map((check, index) => [check.name, index]));
  const results: Result[] = [];
  const notifications: Notification[] = [];

  const add = (result: CheckResult, subject: string, location: Location, properties: Record<string, unknown>): void => {
    const index = ruleIndex.get(result.check);
    const reference = { ruleId: result.check, ...(index === undefined ? {} : { ruleIndex: index }) };
    const text = `${subject}: ${result.reason ?? 'failed'}`;
    if (result.result === 'error') {
      notifications.push({
        level: 'error',
        message: { text },
        locations: [location],
        ...(index === undefined ? {} : { associatedRule: { id: result.check, index } }),
      });
      return;
    }
    if (result.result !== 'fail' && result.result !== 'waived' && result.result !== 'not_applicable') return;
    const check = index === undefined ? undefined : checks[index];
    results.push({
      ...reference,
      // Not applicable: the check could not be decided before the container runs; shown, never a pass.
      ...(result.result === 'not_applicable' ? { kind: 'notApplicable' as const, level: 'none' as const } : {}),
      ...(result.result === 'not_applicable' ? {} : { level: check === undefined ? ('error' as const) : LEVELS[check.severity] }),
      message: { text },
      locations: [location],
      partialFingerprints: { 'dockerMonitorFinding/v1': `${subject}/${result.check}` },
      ...(result.waiver === undefined
        ? {}
        : {
            suppressions: [
              {
                kind: 'external',
                status: 'accepted',
                justification: result.waiver.reason,
                properties: {
                  waiver: result.waiver.name,
                  ...(result.waiver.expires === undefined ? {} : { expires: result.waiver.expires }),
                },
              },
            ],
          }),
      properties,
    });
  };

  // A file's URI once, not once per finding: a large compose file has thousands.
  const uris = new Map<string, string>();
  for (const report of run.containers) {
    const properties = { container: report.name, containerId: report.id, image: report.image, imageId: report.imageId };
    const service = report.source?.service;
    for (const result of report.results) {
      const location =
        result.source !== undefined && service !== undefined ? sourceLocation(result.source, service, uris) : containerLocation(report);
      add(result, report.name, location, { ...properties, ...(service === undefined ? {} : { service }) });
    }
  }
  for (const result of run.host.results) add(result, 'engine', HOST_LOCATION, { scope: 'host' });
  for (const { name, error } of run.failed) {
    notifications.push({
      level: 'error',
      message: { text: `${name}: could not be evaluated: ${error}` },
      locations: [containerLocation({ name, image: '' })],
    });
  }

  return {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'docker-monitor',
            version: VERSION,
            semanticVersion: VERSION,
            informationUri: INFORMATION_URI,
            rules: checks.map(rule),
          },
        },
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
}
