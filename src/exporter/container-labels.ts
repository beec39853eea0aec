import { compileGlob } from '../policy/selector.js';
import type { ContainerReport } from '../policy/types.js';

/** `com.docker.compose.project` → `label_com_docker_compose_project`, as cAdvisor names them. */
export function sanitizeLabelName(name: string): string {
  return `label_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/**
 * `--metrics.container-labels`: which container labels (names or globs) become labels of
 * docker_monitor_container_info. Only labels are read, never environment variables.
 */
export class ContainerLabelCopier {
  private readonly patterns: ((name: string) => boolean)[];

  constructor(globs: readonly string[]) {
    this.patterns = globs.map(compileGlob);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  private wanted(name: string): boolean {
    return this.patterns.some((matches) => matches(name));
  }

  /**
   * The sanitised names the given containers need, sorted. Two labels that sanitise alike
   * (`a.b`, `a_b`) share one name; the value of the first in sorted order is kept.
   */
  labelNames(reports: Iterable<ContainerReport>): string[] {
    if (this.empty) return [];
    const names = new Set<string>();
    for (const report of reports) {
      for (const name of Object.keys(report.labels)) if (this.wanted(name)) names.add(sanitizeLabelName(name));
    }
    return [...names].sort();
  }

  /** This container's values for `names` (empty when it lacks the label: absent to Prometheus). */
  values(report: ContainerReport, names: readonly string[]): Record<string, string> {
    const values: Record<string, string> = Object.fromEntries(names.map((name) => [name, '']));
    for (const name of Object.keys(report.labels).sort()) {
      const sanitized = sanitizeLabelName(name);
      if (this.wanted(name) && values[sanitized] === '') values[sanitized] = report.labels[name] ?? '';
    }
    return values;
  }
}
