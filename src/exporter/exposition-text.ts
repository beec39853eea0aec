/**
 * The Prometheus text format, written the way prom-client 15 writes it (escapes, value spelling, label
 * order as given), so that the verdicts, rendered here block by block, read byte for byte as the
 * registry-rendered exposition did.
 */

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return escapeText(value).replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** A gauge family's HELP and TYPE lines. */
export function gaugeHeader(name: string, help: string): string {
  return `# HELP ${escapeText(name)} ${escapeText(help)}\n# TYPE ${escapeText(name)} gauge\n`;
}

/** The `{a="1",b="2"}` part of a sample, labels in the order given; empty without labels. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** One sample line, ending in a newline. */
export function sampleLine(name: string, labels: string, value: number): string {
  return `${name}${labels} ${formatValue(value)}\n`;
}

/**
 * Samples of one family in the order first set, a later value for the same labels replacing the
 * earlier one in place (as a prom-client gauge set twice keeps its series where it first was).
 */
export class SampleSet {
  private readonly lines = new Map<string, string>();

  constructor(private readonly name: string) {}

  set(labels: Readonly<Record<string, string>>, value: number): void {
    const formatted = formatLabels(labels);
    this.lines.set(formatted, sampleLine(this.name, formatted, value));
  }

  text(): string {
    let text = '';
    for (const line of this.lines.values()) text += line;
    return text;
  }
}
