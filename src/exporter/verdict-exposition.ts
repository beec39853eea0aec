import type { MonitorState } from '../core/monitor.js';
import type { CheckInstance, CheckMetric, ContainerReport, HostReport, ResultKind } from '../policy/types.js';
import type { Waiver } from '../policy/waivers.js';
import type { ContainerLabelCopier } from './container-labels.js';
import { formatLabels, gaugeHeader, sampleLine, SampleSet } from './exposition-text.js';
import { compressSegment, joinSegments, type CompressedHead } from './gzip-body.js';

/** What the verdict families are made of: the policy and how `--metrics.*` shape them. */
export interface VerdictSources {
  checks: readonly CheckInstance[];
  /** A result of a container exported by docker_monitor_check_result; undefined: that family is off. */
  exportedResult: ((result: ResultKind) => boolean) | undefined;
  /** A result whose check's own series (CheckMetric) are exported. */
  exportedCheckMetric: (result: ResultKind) => boolean;
  /** The HELP texts, as the registry had them. */
  help: VerdictHelp;
  resultValues: Readonly<Record<ResultKind, number>>;
  resultKinds: readonly ResultKind[];
  labels: ContainerLabelCopier;
  waivers: readonly Waiver[];
}

export interface VerdictHelp {
  checkResult: string;
  checkContainers: string;
  waiverExpiry: string;
  waiverMatches: string;
  compliant: string;
  /** A check's own metric's HELP, from the metric's. */
  checkMetric: (metric: CheckMetric) => string;
  info: string;
  checkInfo: string;
  hostCheckResult: string;
}

/** One piece of the body: its text, and its deflate blocks once a gzip scrape asked for them. */
class Segment {
  private compressed: Promise<Buffer> | undefined;

  constructor(readonly plain: Buffer) {}

  deflated(): Promise<Buffer> {
    this.compressed ??= compressSegment(this.plain);
    return this.compressed;
  }
}

/** What one container adds to the fleet-wide counts: a function of its report alone. */
interface Contribution {
  /** `check\0result` → results. */
  readonly results: Map<string, number>;
  readonly waivers: Map<string, number>;
  readonly labelNames: readonly string[];
}

/**
 * Consecutive containers (in the state's order) whose series are rendered and compressed together. A
 * group ends after a container whose ID hashes to 0 modulo GROUP_SIZE, so where groups end depends on
 * the containers, not on their positions: a container that comes or goes changes its own group only.
 */
interface Group {
  readonly reports: readonly ContainerReport[];
  readonly infoNames: string;
  /** One segment per per-container family, in family order. */
  readonly segments: readonly Segment[];
}

const GROUP_SIZE = 32;
/** A run of IDs that never hash to a boundary still ends here. */
const GROUP_LIMIT = 4 * GROUP_SIZE;

function endsGroup(id: string): boolean {
  // FNV-1a: cheap and spreads hex IDs and test names alike.
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193);
  return (hash >>> 0) % GROUP_SIZE === 0;
}

/** A family whose series each belong to one container: rendered per group. */
interface ContainerFamily {
  kind: 'container';
  header: Segment;
  samples(report: ContainerReport, infoNames: readonly string[]): string;
}

/** A family computed from the whole fleet (counts, the host, the policy): small, rendered whole. */
interface FleetFamily {
  kind: 'fleet';
  segment(state: Pick<MonitorState, 'containers' | 'host'>): Segment;
}

type Family = ContainerFamily | FleetFamily;

function segmentOf(text: string): Segment {
  return new Segment(Buffer.from(text));
}

/** A fleet family rendered once (the policy's own series). */
function constantFamily(text: string): FleetFamily {
  const segment = segmentOf(text);
  return { kind: 'fleet', segment: () => segment };
}

/** The verdicts' body of one state: its text, and its gzip head, each made once when first asked for. */
export interface VerdictBody {
  /** The text, as the pieces it is kept in. */
  plain(): readonly Buffer[];
  deflated(): Promise<CompressedHead>;
}

/**
 * The per-container series and the counts of `/metrics`, kept per group of containers. The monitor
 * keeps a container's report object while its verdicts do not change, so a state in which one
 * container changed renders and compresses that container's group again and reuses every other group:
 * a state change costs O(that container), plus the join of the cached pieces. The body is, per metric
 * family, its HELP and TYPE lines and then its series in container order, as one registry rendered it.
 */
export class VerdictExposition {
  private readonly families: Family[] = [];
  private readonly containerFamilies: ContainerFamily[] = [];
  /** The reports the counts below were last brought up to. */
  private counted: ReadonlyMap<string, ContainerReport> = new Map();
  private readonly resultCounts = new Map<string, number>();
  private readonly waiverCounts = new Map<string, number>();
  private readonly labelNameCounts = new Map<string, number>();
  private groups = new Map<string, Group>();

  constructor(private readonly sources: VerdictSources) {
    const { checks, help, resultValues, exportedResult, labels, waivers } = sources;
    const containerFamily = (name: string, familyHelp: string, samples: ContainerFamily['samples']): void => {
      const family: ContainerFamily = { kind: 'container', header: segmentOf(gaugeHeader(name, familyHelp)), samples };
      this.families.push(family);
      this.containerFamilies.push(family);
    };

    if (exportedResult !== undefined) {
      containerFamily('docker_monitor_check_result', help.checkResult, (report) => {
        const set = new SampleSet('docker_monitor_check_result');
        for (const { check, result } of report.results) {
          if (exportedResult(result)) set.set({ check, container: report.name }, resultValues[result]);
        }
        return set.text();
      });
    }

    const containerChecks = checks.filter((check) => check.scope !== 'host');
    const checkContainersHeader = gaugeHeader('docker_monitor_check_containers', help.checkContainers);
    this.fleetFamily(() => {
      let text = checkContainersHeader;
      for (const { name } of containerChecks) {
        for (const result of sources.resultKinds) {
          text += sampleLine(
            'docker_monitor_check_containers',
            formatLabels({ check: name, result }),
            this.resultCounts.get(`${name}\u0000${result}`) ?? 0,
          );
        }
      }
      return text;
    });

    if (waivers.some((waiver) => waiver.expiresAt !== undefined)) {
      const set = new SampleSet('docker_monitor_waiver_expiry_timestamp_seconds');
      for (const waiver of waivers) if (waiver.expiresAt !== undefined) set.set({ waiver: waiver.name }, waiver.expiresAt / 1000);
      this.families.push(constantFamily(gaugeHeader('docker_monitor_waiver_expiry_timestamp_seconds', help.waiverExpiry) + set.text()));
    }

    if (waivers.length > 0) {
      const header = gaugeHeader('docker_monitor_waiver_matches', help.waiverMatches);
      this.fleetFamily(() => {
        const set = new SampleSet('docker_monitor_waiver_matches');
        for (const waiver of waivers) set.set({ waiver: waiver.name }, this.waiverCounts.get(waiver.name) ?? 0);
        for (const [waiver, count] of this.waiverCounts) set.set({ waiver }, count);
        return header + set.text();
      });
    }

    containerFamily('docker_monitor_container_compliant', help.compliant, (report) =>
      sampleLine('docker_monitor_container_compliant', formatLabels({ container: report.name }), report.compliant ? 1 : 0),
    );

    this.registerCheckMetrics(containerFamily);

    containerFamily('docker_monitor_container_info', help.info, (report, names) =>
      sampleLine(
        'docker_monitor_container_info',
        formatLabels({
          container: report.name,
          id: report.id,
          image: report.image,
          image_id: report.imageId,
          ...labels.values(report, names),
        }),
        1,
      ),
    );

    const checkInfo = new SampleSet('docker_monitor_check_info');
    for (const check of checks) {
      checkInfo.set({ check: check.name, description: check.description, cis_id: check.cisId ?? '', severity: check.severity }, 1);
    }
    this.families.push(constantFamily(gaugeHeader('docker_monitor_check_info', help.checkInfo) + checkInfo.text()));

    const hostHeader = gaugeHeader('docker_monitor_host_check_result', help.hostCheckResult);
    let host: { report: HostReport; segment: Segment } | undefined;
    this.families.push({
      kind: 'fleet',
      segment: (state) => {
        if (host?.report !== state.host) {
          const set = new SampleSet('docker_monitor_host_check_result');
          for (const result of state.host.results) set.set({ check: result.check }, resultValues[result.result]);
          host = { report: state.host, segment: segmentOf(hostHeader + set.text()) };
        }
        return host.segment;
      },
    });
  }

  private fleetFamily(text: (state: Pick<MonitorState, 'containers' | 'host'>) => string): void {
    this.families.push({ kind: 'fleet', segment: (state) => segmentOf(text(state)) });
  }

  /**
   * The metrics checks bring (CheckMetric), each one family however many checks declare it. A metric
   * labelled by container has series of that container only; one that is not (trivy's, by image) may
   * have one series from several containers, so it is rendered over the whole fleet.
   */
  private registerCheckMetrics(containerFamily: (name: string, help: string, samples: ContainerFamily['samples']) => void): void {
    const { checks, help, exportedCheckMetric } = this.sources;
    const byMetric = new Map<string, { metric: CheckMetric; checks: Set<string> }>();
    for (const check of checks) {
      for (const metric of check.metrics) {
        const entry = byMetric.get(metric.name) ?? { metric, checks: new Set<string>() };
        entry.checks.add(check.name);
        byMetric.set(metric.name, entry);
      }
    }
    for (const { metric, checks: from } of byMetric.values()) {
      const addSamples = (set: SampleSet, report: ContainerReport): void => {
        for (const result of report.results) {
          if (result.data === undefined || !from.has(result.check) || !exportedCheckMetric(result.result)) continue;
          for (const { labels, value } of metric.samples(result.data, report)) set.set(labels, value);
        }
      };
      if (metric.labelNames.includes('container')) {
        containerFamily(metric.name, help.checkMetric(metric), (report) => {
          const set = new SampleSet(metric.name);
          addSamples(set, report);
          return set.text();
        });
      } else {
        const header = gaugeHeader(metric.name, help.checkMetric(metric));
        this.fleetFamily((state) => {
          const set = new SampleSet(metric.name);
          for (const report of state.containers.values()) addSamples(set, report);
          return header + set.text();
        });
      }
    }
  }

  /** The body of a state; call it in the tick that read the state. */
  render(state: Pick<MonitorState, 'containers' | 'host'>): VerdictBody {
    this.count(state.containers);
    const infoNames = [...this.labelNameCounts.keys()].sort();
    const groups = this.renderGroups(state.containers, infoNames);
    const segments: Segment[] = [];
    let containerFamily = 0;
    for (const family of this.families) {
      if (family.kind === 'fleet') {
        segments.push(family.segment(state));
        continue;
      }
      segments.push(family.header);
      for (const group of groups) segments.push(group.segments[containerFamily] as Segment);
      containerFamily += 1;
    }
    const plain = segments.map((segment) => segment.plain).filter((text) => text.length > 0);
    let deflated: Promise<CompressedHead> | undefined;
    return { plain: () => plain, deflated: () => (deflated ??= joinSegments(segments)) };
  }

  /** Brings the counts from the reports last counted to these: the changed containers' work only. */
  private count(containers: ReadonlyMap<string, ContainerReport>): void {
    if (containers === this.counted) return;
    for (const [id, report] of containers) {
      const before = this.counted.get(id);
      if (before === report) continue;
      if (before !== undefined) this.apply(this.contribution(before), -1);
      this.apply(this.contribution(report), 1);
    }
    for (const [id, before] of this.counted) if (!containers.has(id)) this.apply(this.contribution(before), -1);
    this.counted = containers;
  }

  private contribution(report: ContainerReport): Contribution {
    const results = new Map<string, number>();
    const waivers = new Map<string, number>();
    for (const { check, result, waiver } of report.results) {
      const key = `${check}\u0000${result}`;
      results.set(key, (results.get(key) ?? 0) + 1);
      if (waiver !== undefined) waivers.set(waiver.name, (waivers.get(waiver.name) ?? 0) + 1);
    }
    return { results, waivers, labelNames: this.sources.labels.labelNames([report]) };
  }

  private apply(contribution: Contribution, sign: 1 | -1): void {
    const add = (counts: Map<string, number>, key: string, count: number): void => {
      const total = (counts.get(key) ?? 0) + sign * count;
      if (total === 0) counts.delete(key);
      else counts.set(key, total);
    };
    for (const [key, count] of contribution.results) add(this.resultCounts, key, count);
    for (const [key, count] of contribution.waivers) add(this.waiverCounts, key, count);
    for (const name of contribution.labelNames) add(this.labelNameCounts, name, 1);
  }

  /** The groups of this state, each reused when it holds the same reports as before. */
  private renderGroups(containers: ReadonlyMap<string, ContainerReport>, infoNames: readonly string[]): Group[] {
    const infoKey = infoNames.join(',');
    const groups: Group[] = [];
    const next = new Map<string, Group>();
    let members: ContainerReport[] = [];
    const close = (): void => {
      const first = members[0] as ContainerReport;
      const cached = this.groups.get(first.id);
      const same =
        cached !== undefined &&
        cached.infoNames === infoKey &&
        cached.reports.length === members.length &&
        cached.reports.every((report, index) => report === members[index]);
      const group = same ? cached : this.renderGroup(members, infoNames, infoKey);
      groups.push(group);
      next.set(first.id, group);
      members = [];
    };
    for (const report of containers.values()) {
      members.push(report);
      if (endsGroup(report.id) || members.length === GROUP_LIMIT) close();
    }
    if (members.length > 0) close();
    this.groups = next;
    return groups;
  }

  private renderGroup(reports: ContainerReport[], infoNames: readonly string[], infoKey: string): Group {
    const segments = this.containerFamilies.map((family) => {
      let text = '';
      for (const report of reports) text += family.samples(report, infoNames);
      return segmentOf(text);
    });
    return { reports, infoNames: infoKey, segments };
  }
}
