/** Comparing `check --compose`/`--stack` verdicts with `check` on the running containers. */
export interface JsonReport {
  containers: { name: string; results: { check: string; result: string; reason: string | null }[] }[];
}

/** Each service's results by check, from a `check --format json` report; `nameOf` finds the service in the container name. */
export function byService(report: JsonReport, nameOf: (container: string) => string | undefined): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const container of report.containers) {
    const service = nameOf(container.name);
    if (service !== undefined) out.set(service, new Map(container.results.map((result) => [result.check, result.result])));
  }
  return out;
}

/** Every difference between the verdicts before and after, for the checks decidable before (not `not_applicable`). */
export function parityDifferences(before: Map<string, Map<string, string>>, running: Map<string, Map<string, string>>): string[] {
  const differences: string[] = [];
  for (const [service, results] of before) {
    const actual = running.get(service);
    if (actual === undefined) {
      differences.push(`${service}: no running container`);
      continue;
    }
    for (const [check, verdict] of results) {
      if (verdict === 'not_applicable') continue;
      const atRunTime = actual.get(check) ?? '(absent)';
      if (atRunTime !== verdict) differences.push(`${service}: ${check} is ${verdict} before it runs, ${atRunTime} running`);
    }
  }
  return differences;
}
