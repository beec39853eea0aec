/**
 * The fault record: each fault suite adds one row per fault it staged, with what the exporter did and the
 * figures it measured, and prints its table. With FAULTS_RECORD=1 the suite also rewrites its own block
 * of docs/faults-record.md, so the documented record is the suite's output (test/faults/record.test.ts
 * checks that every block is present).
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const FAULTS_DOC = new URL('../../docs/faults-record.md', import.meta.url).pathname;

export interface FaultRow {
  fault: string;
  outcome: string;
  figures: string;
}

export class FaultRecord {
  private readonly rows: FaultRow[] = [];

  constructor(readonly suite: string) {}

  add(row: FaultRow): void {
    this.rows.push(row);
  }

  markdown(): string {
    const escape = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    return [
      '| fault | what docker-monitor does | measured |',
      '|---|---|---|',
      ...this.rows.map((row) => `| ${escape(row.fault)} | ${escape(row.outcome)} | ${escape(row.figures)} |`),
    ].join('\n');
  }

  /** Prints the table and, with FAULTS_RECORD=1, writes it between this suite's markers in docs/faults-record.md. */
  write(): void {
    const table = this.markdown();
    process.stdout.write(`\nfault record (${this.suite}):\n${table}\n`);
    if (process.env['FAULTS_RECORD'] !== '1') return;
    const begin = `<!-- faults:${this.suite}:begin -->`;
    const end = `<!-- faults:${this.suite}:end -->`;
    const doc = readFileSync(FAULTS_DOC, 'utf8');
    const from = doc.indexOf(begin);
    const to = doc.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${FAULTS_DOC} has no ${begin} … ${end} block`);
    writeFileSync(FAULTS_DOC, `${doc.slice(0, from + begin.length)}\n${table}\n${doc.slice(to)}`);
  }
}

/** Megabytes with one decimal. */
export function mib(value: number): string {
  return `${value.toFixed(1)} MiB`;
}
