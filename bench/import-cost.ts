/**
 * `npm run bench:import`: what loading an Engine API client costs a fresh Node.js process, in
 * resident memory and start-up time: dockerode against the exporter's own client
 * (dist/engine/docker-engine.js), each over `node -e 0`. Runs alternate so that the machine's load
 * falls on all three alike; the figures are medians.
 *
 *   npm run bench:import -- --runs 15
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, round } from './stats.js';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' } } });
const runs = Number(values.runs);

const REPORT = 'console.log(JSON.stringify({ rss: process.memoryUsage().rss }))';
const SUBJECTS = {
  'node -e 0': REPORT,
  dockerode: `import('dockerode').then(() => ${REPORT})`,
  'DockerEngine (dist/engine/docker-engine.js)': `import('./dist/engine/docker-engine.js').then(() => ${REPORT})`,
} as const;
type Subject = keyof typeof SUBJECTS;

/** One child `node -e code`: wall time from spawn to exit, and its resident memory once loaded. */
function measure(code: string): Promise<{ ms: number; rss: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', code], { cwd: root }, (error, stdout) => {
      if (error !== null) return reject(new Error(`node -e ${code}: ${error.message}`, { cause: error }));
      const { rss } = JSON.parse(stdout) as { rss: number };
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, rss });
    }),
  );
}

const samples = Object.fromEntries(Object.keys(SUBJECTS).map((name) => [name, { ms: [] as number[], rss: [] as number[] }])) as Record<
  Subject,
  { ms: number[]; rss: number[] }
>;
for (let run = 0; run < runs; run += 1) {
  for (const [name, code] of Object.entries(SUBJECTS) as [Subject, string][]) {
    const { ms, rss } = await measure(code);
    samples[name].ms.push(ms);
    samples[name].rss.push(rss);
  }
}

const base = samples['node -e 0'];
console.log(`Node.js ${process.version}, ${runs} runs each, medians\n`);
console.log('| process | resident memory | added | start to exit | added |');
console.log('|---|---|---|---|---|');
for (const [name, { ms, rss }] of Object.entries(samples)) {
  const mb = median(rss) / 1e6;
  const addedMb = (median(rss) - median(base.rss)) / 1e6;
  const addedMs = median(ms) - median(base.ms);
  console.log(`| ${name} | ${round(mb)} MB | ${round(addedMb)} MB | ${round(median(ms), 0)} ms | ${round(addedMs, 0)} ms |`);
}
