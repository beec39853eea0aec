/**
 * Where `serve`'s resident memory goes at start: the idle exporter's RSS and V8 heap (from its own
 * /metrics), and what each runtime dependency costs when a fresh Node.js imports it alone.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServeProcess } from './exporter.js';
import { median } from './stats.js';

const root = join(import.meta.dirname, '..');

export interface ServeMemory {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export interface DependencyCost {
  name: string;
  /** Median RSS of a fresh Node.js after importing the dependency alone, less that of one importing nothing. */
  rssBytes: number;
}

export interface MemoryFigures {
  serve: ServeMemory;
  /** RSS of a fresh Node.js that imports nothing. */
  bareNodeRssBytes: number;
  dependencies: DependencyCost[];
}

/** A sample's value in an exposition, NaN when absent. */
export function sample(body: string, name: string): number {
  const line = body.split('\n').find((text) => text.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

/** The idle exporter (default policy, no containers), a second after it is ready and one scrape. */
async function serveMemory(cli: string, engineHost: string): Promise<ServeMemory> {
  const serving = await ServeProcess.start(cli, undefined, ['--docker.host', engineHost]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const body = await serving.scrape();
    const { rssBytes } = await serving.memory();
    return {
      rssBytes,
      heapUsedBytes: sample(body, 'nodejs_heap_size_used_bytes'),
      heapTotalBytes: sample(body, 'nodejs_heap_size_total_bytes'),
      externalBytes: sample(body, 'nodejs_external_memory_bytes'),
    };
  } finally {
    await serving.stop();
  }
}

/** RSS of a fresh Node.js (this one's binary, run from the repository) after importing `name`, or nothing. */
async function rssAfterImport(name: string | undefined): Promise<number> {
  const code = `${name === undefined ? '' : `await import(${JSON.stringify(name)});`} process.stdout.write(String(process.memoryUsage().rss));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout) out += String(chunk);
  const rss = Number(out);
  if (!Number.isFinite(rss)) throw new Error(`importing ${name} printed ${out}`);
  return rss;
}

/** `runs` fresh processes per dependency of package.json, and as many importing nothing; `serve` on `engineHost`. */
export async function measureMemory(cli: string, engineHost: string, runs: number): Promise<MemoryFigures> {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const bare: number[] = [];
  for (let run = 0; run < runs; run += 1) bare.push(await rssAfterImport(undefined));
  const bareNodeRssBytes = median(bare);
  const dependencies: DependencyCost[] = [];
  for (const name of Object.keys(manifest.dependencies)) {
    const samples: number[] = [];
    for (let run = 0; run < runs; run += 1) samples.push(await rssAfterImport(name));
    dependencies.push({ name, rssBytes: median(samples) - bareNodeRssBytes });
  }
  dependencies.sort((a, b) => b.rssBytes - a.rssBytes);
  return { serve: await serveMemory(cli, engineHost), bareNodeRssBytes, dependencies };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export function memoryTable(figures: MemoryFigures): string {
  const { serve } = figures;
  return [
    '| `serve`, idle (default policy, no containers) | resident memory |',
    '|---|---|',
    `| RSS (heap used / heap total / external) | ${mb(serve.rssBytes)} (${mb(serve.heapUsedBytes)} / ${mb(serve.heapTotalBytes)} / ${mb(serve.externalBytes)}) |`,
    `| a Node.js that imports nothing | ${mb(figures.bareNodeRssBytes)} |`,
    ...figures.dependencies.map((dependency) => `| + \`${dependency.name}\` imported alone | ${mb(dependency.rssBytes)} |`),
  ].join('\n');
}
