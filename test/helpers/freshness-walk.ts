/**
 * The differential freshness test's machinery: four `docker-monitor serve` processes on one engine
 * ({scrape, --refresh 2s} × {default policy, examples/cis.ini}), a fresh `docker-monitor check --format
 * json` per policy as the reference, and a seeded random walk of engine changes. After each step the
 * verdicts each exporter serves must equal the fresh ones within the bound docs/exporter.md promises
 * for that kind of change and that mode; a mismatch fails with the seed and the steps that reproduce it.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runToEnd, startServe } from './cli.js';
import { RUN_ID, TEST_LABEL } from './docker.js';
import { fetchText, freePort, type Service } from './services.js';
import { FLIPPER, ROOT_TRIGGER, SPAWN_TRIGGER, writeFlipperRootfsTar } from './setuid-flipper.js';
import { scaled } from './time-scale.js';
import { eventually } from './wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CIS = join(ROOT, 'examples/cis.ini');
/**
 * How long a fresh check may fail to judge a container before the walk fails: dockerd blocks a paused
 * container's inspect for its health check's timeout (30 s by default) when the pause caught a probe.
 */
const UNEVALUATED_LIMIT_MS = 90_000;

/** The interval of the `--refresh` exporters. */
export const INTERVAL_MS = 2000;
const FLIP_LABEL = `${TEST_LABEL}.flip`;
const NNP_LABEL = `${TEST_LABEL}.nnp`;

/** What kind of change a step made, which decides its freshness bound. */
export type Change = 'event' | 'no-event' | 'restart';

/** docs/exporter.md's bounds: an evented change within 3 s in both modes; an event-less one in the next scrape, or within the interval plus one evaluation; a daemon restart within 12 s. */
export function boundMs(mode: Mode, change: Change): number {
  if (change === 'restart') return scaled(12_000);
  if (change === 'no-event' && mode === 'interval') return scaled(INTERVAL_MS + 3000);
  return scaled(3000);
}

/** Mulberry32: a small seeded generator, so a seed replays the same walk. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }
  below(count: number): number {
    return Math.floor(this.next() * count);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.below(items.length)] as T;
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

/** The walk's seed (DIFF_SEED or a random one) and step count (`stepsVariable`, DIFF_STEPS by default, or `defaultSteps`). */
export function walkSettings(defaultSteps: number, stepsVariable = 'DIFF_STEPS'): { seed: number; steps: number } {
  const seedText = process.env['DIFF_SEED'];
  const seed = seedText === undefined || seedText === '' ? Math.floor(Math.random() * 2 ** 31) : Number(seedText);
  const stepsText = process.env[stepsVariable];
  const steps = stepsText === undefined || stepsText === '' ? defaultSteps : Number(stepsText);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`DIFF_SEED must be a non-negative integer, not ${JSON.stringify(seedText)}`);
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`${stepsVariable} must be a positive integer, not ${JSON.stringify(stepsText)}`);
  return { seed, steps };
}

// --- Verdicts ------------------------------------------------------------------------------------

export type Mode = 'scrape' | 'interval';
export type PolicyName = 'default' | 'cis.ini';
/**
 * `container\0check` (host checks: `\0host\0check`) → 0 fail or error, 1 pass, 2 pass_fast, 3 waived;
 * plus the container names, and those a fresh check could not judge (the engine failed on them).
 */
export interface Verdicts {
  containers: Set<string>;
  results: Map<string, number>;
  unevaluated: ReadonlySet<string>;
}

const RESULT_VALUES: Readonly<Record<string, number>> = { fail: 0, error: 0, pass: 1, pass_fast: 2, waived: 3 };
const VALUE_NAMES = ['fail', 'pass', 'pass_fast', 'waived'];
const HOST = '\u0000host';

interface CheckJson {
  containers: { name: string; results: { check: string; result: string }[] }[];
  host: { results: { check: string; result: string }[] };
  unevaluated: { name: string }[];
}

export function verdictsOfJson(document: CheckJson): Verdicts {
  const results = new Map<string, number>();
  for (const container of document.containers) {
    for (const { check, result } of container.results) results.set(`${container.name}\u0000${check}`, valueOf(result));
  }
  for (const { check, result } of document.host.results) results.set(`${HOST}\u0000${check}`, valueOf(result));
  return {
    containers: new Set(document.containers.map(({ name }) => name)),
    results,
    unevaluated: new Set(document.unevaluated.map(({ name }) => name)),
  };
}

function valueOf(result: string): number {
  const value = RESULT_VALUES[result];
  if (value === undefined) throw new Error(`unknown result ${JSON.stringify(result)} in check --format json`);
  return value;
}

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, '$1');
  return labels;
}

export function verdictsOfExposition(exposition: string): Verdicts {
  const containers = new Set<string>();
  const results = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    const match = /^(docker_monitor_check_result|docker_monitor_host_check_result|docker_monitor_container_compliant)\{(.*)\} (\S+)$/.exec(
      line,
    );
    if (match === null) continue;
    const [, name, labelText, value] = match as unknown as [string, string, string, string];
    const labels = labelsOf(labelText);
    if (name === 'docker_monitor_container_compliant') containers.add(labels['container'] ?? '');
    else if (name === 'docker_monitor_check_result') results.set(`${labels['container']}\u0000${labels['check']}`, Number(value));
    else results.set(`${HOST}\u0000${labels['check']}`, Number(value));
  }
  return { containers, results, unevaluated: new Set() };
}

function describeValue(value: number | undefined): string {
  return value === undefined ? 'absent' : `${VALUE_NAMES[value] ?? '?'}(${value})`;
}

/** One verdict two sides disagree on: its key (a container name, or a result's key) and a line saying how. */
interface Difference {
  key: string;
  line: string;
}

/** The container a difference's key names (a name, or `container\0check`); `\0host` for the host's. */
function containerOfKey(key: string): string {
  return key.startsWith(HOST) ? HOST : (key.split('\u0000')[0] as string);
}

/**
 * Every difference between served and fresh verdicts (or between two fresh ones). A container the fresh
 * check could not judge has no reference to differ from: it is compared again once one judges it.
 */
export function differences(served: Verdicts, fresh: Verdicts): Difference[] {
  const found: Difference[] = [];
  for (const name of new Set([...served.containers, ...fresh.containers])) {
    if (fresh.unevaluated.has(name) || served.unevaluated.has(name)) continue;
    if (served.containers.has(name) !== fresh.containers.has(name)) {
      found.push({
        key: name,
        line: `container ${name}: served ${served.containers.has(name) ? 'present' : 'absent'}, fresh ${fresh.containers.has(name) ? 'present' : 'absent'}`,
      });
    }
  }
  for (const key of new Set([...served.results.keys(), ...fresh.results.keys()])) {
    const [container, check] = key.split('\u0000').filter(Boolean) as [string, string];
    // A container missing on one side is reported once, above.
    if (container !== HOST.slice(1) && !(served.containers.has(container) && fresh.containers.has(container))) continue;
    const servedValue = served.results.get(key);
    const freshValue = fresh.results.get(key);
    if (servedValue !== freshValue) {
      found.push({
        key,
        line: `${container === HOST.slice(1) ? 'host' : `container ${container}`} check ${check}: served ${describeValue(servedValue)}, fresh ${describeValue(freshValue)}`,
      });
    }
  }
  return found;
}

// --- Exporters and the fresh reference ----------------------------------------------------------

interface Exporter {
  mode: Mode;
  policy: PolicyName;
  url: string;
  service: Service;
}

/** The four exporters of one engine and the fresh `check` per policy. */
export class Comparison {
  private constructor(
    private readonly host: string,
    readonly exporters: readonly Exporter[],
  ) {}

  static async start(host: string): Promise<Comparison> {
    const exporters: Exporter[] = [];
    try {
      for (const mode of ['scrape', 'interval'] as const) {
        for (const policy of ['default', 'cis.ini'] as const) {
          const port = await freePort();
          const { service } = await startServe(
            [process.execPath, CLI],
            [
              '--web.listen-address',
              `127.0.0.1:${port}`,
              '--docker.host',
              host,
              '--metrics.results',
              'all',
              ...(mode === 'interval' ? ['--refresh', `${INTERVAL_MS / 1000}s`] : []),
              ...(policy === 'cis.ini' ? ['-f', CIS] : []),
            ],
          );
          exporters.push({ mode, policy, url: `http://127.0.0.1:${port}/metrics`, service });
        }
      }
    } catch (error) {
      await Promise.all(exporters.map(({ service }) => service.stop()));
      throw error;
    }
    return new Comparison(host, exporters);
  }

  async stop(): Promise<void> {
    await Promise.all(this.exporters.map(({ service }) => service.stop()));
  }

  /** A fresh `docker-monitor check --format json`; undefined while the engine cannot be reached (exit 3). */
  async fresh(policy: PolicyName): Promise<Verdicts | undefined> {
    const args = [
      CLI,
      'check',
      '--format',
      'json',
      '--docker.host',
      this.host,
      '--log.level',
      'error',
      ...(policy === 'cis.ini' ? ['-f', CIS] : []),
    ];
    const outcome = await runToEnd(process.execPath, args, { timeoutMs: scaled(60_000) });
    if (outcome.code === 3) return undefined;
    if (outcome.code > 1) throw new Error(`docker-monitor check (${policy}) exited ${outcome.code}: ${outcome.stderr.trim()}`);
    return verdictsOfJson(JSON.parse(outcome.stdout) as CheckJson);
  }

  /**
   * Re-reads both sides until every exporter serves what a fresh check gives, each within its mode's
   * bound for `change` from `end`. A verdict that changes by itself while this waits (a health check's
   * probe turning a container healthy) gets its bound from when it changed, taken as the end of the last
   * fresh check that still saw the old value (it read the data before it ended, by a few hundred ms at
   * most). A container a fresh check could not judge is compared once one does, its bound counting from
   * the end of the last check that could not. Returns the failure text, or undefined when all agreed in time.
   */
  async agree(change: Change, end: number): Promise<string | undefined> {
    const pending = new Set(this.exporters);
    const last = new Map<Exporter, Difference[]>();
    /** Per policy and verdict key: when the fresh value changed during this wait. */
    const changedAt = new Map<string, number>();
    /** Per policy and container: the end of the last fresh check that could not judge it (the engine failed on it). */
    const unevaluatedAt = new Map<string, number>();
    let previous: { checkedAt: number; references: Record<PolicyName, Verdicts | undefined> } | undefined;
    const since = (exporter: Exporter, key: string): number =>
      Math.max(
        changedAt.get(`${exporter.policy}\u0000${key}`) ?? end,
        unevaluatedAt.get(`${exporter.policy}\u0000${containerOfKey(key)}`) ?? end,
      );
    for (;;) {
      const [defaults, cis] = await Promise.all([this.fresh('default'), this.fresh('cis.ini')]);
      const checkedAt = Date.now();
      const references: Record<PolicyName, Verdicts | undefined> = { default: defaults, 'cis.ini': cis };
      for (const policy of ['default', 'cis.ini'] as const) {
        const before = previous?.references[policy];
        const now = references[policy];
        for (const name of now?.unevaluated ?? []) unevaluatedAt.set(`${policy}\u0000${name}`, checkedAt);
        if (previous === undefined || before === undefined || now === undefined) continue;
        for (const { key } of differences(before, now)) changedAt.set(`${policy}\u0000${key}`, previous.checkedAt);
      }
      if (checkedAt > end + scaled(UNEVALUATED_LIMIT_MS) && [defaults, cis].some((verdicts) => (verdicts?.unevaluated.size ?? 0) > 0))
        return `a fresh check still could not judge ${[...new Set([...(defaults?.unevaluated ?? []), ...(cis?.unevaluated ?? [])])].join(', ')} ${checkedAt - end} ms after the step`;
      const scrapedAt = Date.now();
      previous = { checkedAt: scrapedAt, references };
      await Promise.all(
        [...pending].map(async (exporter) => {
          const reference = references[exporter.policy];
          if (!exporter.service.running)
            throw new Error(`the ${exporter.mode} exporter with the ${exporter.policy} policy exited\n${exporter.service.output}`);
          const body = await fetchText(exporter.url, scaled(10_000)).catch((error: unknown) => `unanswered: ${String(error)}`);
          const found =
            reference === undefined
              ? [{ key: '', line: 'the engine does not answer the fresh check yet' }]
              : differences(verdictsOfExposition(body), reference);
          if (found.length === 0) pending.delete(exporter);
          else last.set(exporter, found);
        }),
      );
      if (pending.size === 0) return undefined;
      const bound = (exporter: Exporter): number => boundMs(exporter.mode, change);
      const late = [...pending].filter((exporter) =>
        (last.get(exporter) ?? []).some(({ key }) => scrapedAt > Math.max(end, since(exporter, key)) + bound(exporter)),
      );
      if (late.length > 0) {
        return late
          .map((exporter) => {
            const mode = exporter.mode === 'scrape' ? 'scrape mode' : `--refresh ${INTERVAL_MS / 1000}s`;
            const lines = (last.get(exporter) ?? []).map(({ key, line }) => {
              const changed = since(exporter, key) - end;
              return `    ${line}${changed > 0 ? ` (the fresh value changed by itself, or was first judged, ${changed} ms after the step; its bound counts from there)` : ''}`;
            });
            return `${mode}, ${exporter.policy} policy, not equal ${scrapedAt - end} ms after the step (bound ${bound(exporter)} ms):\n${lines.join('\n')}`;
          })
          .join('\n');
      }
    }
  }
}

// --- The engine under test ----------------------------------------------------------------------

/** What the walk needs of an engine: its CLI (docker or podman) and what it can do. */
export interface WalkEngine {
  readonly name: 'docker' | 'podman';
  readonly host: string;
  cli(args: readonly string[]): Promise<string>;
  /** Options every `run` gets (Podman: no network). */
  readonly runDefaults: readonly string[];
  /** `rm` options (Podman: no stop timeout). */
  readonly rmArgs: readonly string[];
  /** Address on the engine's private bridge for published ports; undefined without one. */
  readonly bridgeAddress?: string;
  /** A network the test made, for connect and disconnect. */
  readonly network?: string;
  readonly healthchecks: boolean;
  /** `update` options the walk picks from; none where the engine announces no update event. */
  readonly updatable: readonly (readonly string[])[];
  readonly restartPolicies: boolean;
  /** Flips a host setting a cis.ini host check reads and makes the daemon reload it; returns what changed. */
  reload?(random: Random): Promise<string>;
  /** Stops and starts the daemon. */
  restart?(): Promise<string>;
}

/** Every kind of step, with its weight in the walk after the opening round, which runs each kind once. */
const KINDS = {
  run: 10,
  rm: 6,
  rename: 3,
  update: 4,
  network: 3,
  pause: 3,
  execShort: 2,
  execLinger: 2,
  rootNoEvent: 4,
  setuidFlip: 4,
  tag: 3,
  untag: 3,
  rmi: 2,
  appTagCase: 2,
  reload: 2,
  restart: 1,
  burst: 1,
} as const;
type Kind = keyof typeof KINDS;

interface Running {
  id: string;
  name: string;
  /** Host PID of its first process. */
  pid: number;
  /** Its first process's real UID is root (dm-flip then cannot give root up). */
  root: boolean;
  paused: boolean;
  flip: boolean;
  noNewPrivileges: boolean;
}

interface Done {
  description: string;
  change: Change;
}

/** The walk over one engine: images it imported, the steps so far, and the comparison after each. */
export class Walk {
  private readonly steps: string[] = [];
  private readonly images: string[] = [];
  private names = 0;
  private tarball = '';
  private work = '';

  constructor(
    private readonly engine: WalkEngine,
    private readonly comparison: Comparison,
    private readonly seed: number,
    private readonly random = new Random(seed),
  ) {}

  private get kinds(): Kind[] {
    return (Object.keys(KINDS) as Kind[]).filter((kind) => {
      if (kind === 'update') return this.engine.updatable.length > 0;
      if (kind === 'network') return this.engine.network !== undefined;
      if (kind === 'reload') return this.engine.reload !== undefined;
      if (kind === 'restart') return this.engine.restart !== undefined;
      return true;
    });
  }

  /** Builds the images (three of the same files, each its own ID) and the first containers. */
  async prepare(): Promise<void> {
    this.work = await mkdtemp(join(tmpdir(), 'dm-walk-'));
    this.tarball = join(this.work, 'rootfs.tar');
    await writeFlipperRootfsTar(this.tarball);
    for (let family = 0; family < 3; family += 1) this.images.push(await this.importImage(family === 1 ? ['USER 1000'] : []));
    for (let index = 0; index < 4; index += 1) await this.run();
  }

  async cleanUp(): Promise<void> {
    const ids = await this.engine.cli(['ps', '-aq', '--filter', `label=${TEST_LABEL}=${RUN_ID}`]).catch(() => '');
    if (ids !== '') await this.engine.cli(['rm', '-f', ...this.engine.rmArgs, ...ids.split(/\s+/)]).catch(() => undefined);
    if (this.work !== '') await rm(this.work, { recursive: true, force: true });
  }

  private async importImage(changes: readonly string[] = []): Promise<string> {
    const id = await this.engine.cli([
      'import',
      '--change',
      `CMD ["${FLIPPER}"]`,
      '--change',
      `LABEL ${TEST_LABEL}.image=${RUN_ID}-${this.names++}`,
      ...changes.flatMap((change) => ['--change', change]),
      this.tarball,
    ]);
    return (
      id
        .replace(/^sha256:/, '')
        .split('\n')
        .pop() ?? id
    );
  }

  private name(prefix = 'dmw'): string {
    this.names += 1;
    return `${prefix}-${RUN_ID}-${this.names}`;
  }

  private async running(): Promise<Running[]> {
    const ids = await this.engine.cli(['ps', '-q', '--no-trunc', '--filter', `label=${TEST_LABEL}=${RUN_ID}`]);
    if (ids === '') return [];
    // inspect, not ps --format: the two CLIs' ps templates differ for labels.
    const format = '{{.Id}}\t{{.Name}}\t{{.State.Paused}}\t{{.State.Pid}}\t{{json .Config.Labels}}';
    const text = await this.engine.cli(['inspect', '--format', format, ...ids.split(/\s+/)]).catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id = '', name = '', paused = '', pid = '0', labels = '{}'] = line.split('\t');
        const label = (JSON.parse(labels) as Record<string, string> | null) ?? {};
        return {
          id,
          name: name.replace(/^\//, ''),
          pid: Number(pid),
          paused: paused === 'true',
          flip: label[FLIP_LABEL] === '1',
          noNewPrivileges: label[NNP_LABEL] === '1',
          root: uidOf(Number(pid), 'real') === 0,
        };
      });
  }

  /** Tags of the walk's images that exist now, as `repo:tag`. */
  private async tags(): Promise<string[]> {
    const text = await this.engine.cli(['images', '--filter', `label=${TEST_LABEL}.image`, '--format', '{{.Repository}}:{{.Tag}}']);
    return text.split('\n').filter((tag) => tag !== '' && !tag.includes('<none>'));
  }

  /** An image to run: one of the families (re-imported if an rmi deleted it) by ID, or one of their tags. */
  private async someImage(): Promise<string> {
    const tags = await this.tags();
    if (tags.length > 0 && this.random.chance(0.5)) return this.random.pick(tags);
    const family = this.random.below(this.images.length);
    const id = this.images[family] as string;
    const exists = await this.engine.cli(['image', 'inspect', '--format', '{{.Id}}', id]).then(
      () => true,
      () => false,
    );
    if (!exists) this.images[family] = await this.importImage(family === 1 ? ['USER 1000'] : []);
    return this.images[family] as string;
  }

  /** Options of a `run`, varied by the walk. */
  private runOptions(): { args: string[]; flip: boolean; noNewPrivileges: boolean } {
    const random = this.random;
    const args: string[] = [];
    const flip = random.chance(0.75);
    const user = random.pick(flip ? ['1000', '1000:1000', '65534', '0', ''] : ['1000', '0', '', 'nobody']);
    if (user !== '') args.push('--user', user);
    if (random.chance(0.3)) args.push('--read-only', '--tmpfs', '/tmp');
    if (random.chance(0.4)) args.push('--memory', random.pick(['32m', '64m', '128m']));
    if (random.chance(0.3))
      args.push(
        ...random.pick([
          ['--cpus', '0.5'],
          ['--cpu-shares', '512'],
          ['--cpu-shares', '1024'],
        ]),
      );
    if (random.chance(0.3)) args.push('--pids-limit', random.pick(['50', '100']));
    if (this.engine.restartPolicies && random.chance(0.4))
      args.push('--restart', random.pick(['no', 'always', 'on-failure:3', 'unless-stopped']));
    // Every probe is an exec, whose `runc init` is root for a moment: the process source judges it as
    // what it becomes, so a probe in a non-root container must not make it a root process.
    if (this.engine.healthchecks && random.chance(0.6)) {
      args.push('--health-cmd', random.pick(['true', 'false']), '--health-interval', '3s', '--health-retries', '1');
    }
    const address = this.engine.bridgeAddress;
    if (address !== undefined && random.chance(0.25)) {
      const port = random.chance(0.5) ? 100 + random.below(900) : 20_000 + random.below(20_000);
      args.push('--publish', `${address}:${port}:8080`);
    }
    if (this.engine.network !== undefined && random.chance(0.2)) args.push('--network', this.engine.network);
    if (random.chance(0.3)) args.push('--label', `team=${random.pick(['a', 'b'])}`);
    if (random.chance(0.2)) args.push('--cap-add', random.pick(['NET_ADMIN', 'SYS_PTRACE']));
    if (random.chance(0.2)) args.push('--cap-drop', 'ALL');
    const noNewPrivileges = random.chance(0.2);
    if (noNewPrivileges) args.push('--security-opt', 'no-new-privileges');
    if (random.chance(0.1)) args.push('--security-opt', 'seccomp=unconfined');
    args.push('--label', `${FLIP_LABEL}=${flip ? 1 : 0}`, '--label', `${NNP_LABEL}=${noNewPrivileges ? 1 : 0}`);
    return { args, flip, noNewPrivileges };
  }

  /** `run -d` of `image` with the walk's name and label, the engine's defaults and `args`. */
  private runCommand(name: string, args: readonly string[], image: string, command: readonly string[]): string[] {
    const labelled = ['--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`];
    return ['run', '-d', ...labelled, ...this.engine.runDefaults, ...args, image, ...command];
  }

  private async run(image?: string): Promise<Done> {
    const { args, flip } = this.runOptions();
    const chosen = image ?? (await this.someImage());
    const name = this.name();
    const command = flip ? [] : ['sleep', '3600'];
    const full = this.runCommand(name, args, chosen, command);
    const outcome = await this.attempt(full);
    return { description: `${this.engine.name} ${full.join(' ')}${outcome}`, change: 'event' };
  }

  /** Runs a CLI command the walk may see refused (a port taken, an image in use): the refusal is part of the step. */
  private async attempt(args: readonly string[]): Promise<string> {
    try {
      await this.engine.cli(args);
      return '';
    } catch (error) {
      return ` (refused: ${String((error as { stderr?: string }).stderr ?? error)
        .trim()
        .split('\n')
        .pop()})`;
    }
  }

  private async withContainer(filter: (container: Running) => boolean, action: (container: Running) => Promise<Done>): Promise<Done> {
    const candidates = (await this.running()).filter(filter);
    if (candidates.length === 0) return this.run();
    return action(this.random.pick(candidates));
  }

  private async step(kind: Kind): Promise<Done> {
    const random = this.random;
    const cli = (args: readonly string[]): string => `${this.engine.name} ${args.join(' ')}`;
    const live = await this.running();
    // Enough containers to work on, not so many that a fresh check grows slow.
    if (live.length > 14 && kind === 'run') kind = 'rm';
    switch (kind) {
      case 'run':
        return this.run();
      case 'rm':
        return this.withContainer(
          () => true,
          async (container) => {
            const args = ['rm', '-f', ...this.engine.rmArgs, container.name];
            return { description: cli(args) + (await this.attempt(args)), change: 'event' };
          },
        );
      case 'rename':
        return this.withContainer(
          () => true,
          async (container) => {
            const args = ['rename', container.name, this.name('dmr')];
            return { description: cli(args) + (await this.attempt(args)), change: 'event' };
          },
        );
      case 'update':
        return this.withContainer(
          () => true,
          async (container) => {
            const args = ['update', ...random.pick(this.engine.updatable), container.name];
            return { description: cli(args) + (await this.attempt(args)), change: 'event' };
          },
        );
      case 'network':
        return this.withContainer(
          () => true,
          async (container) => {
            const network = random.chance(0.5) ? (this.engine.network as string) : 'bridge';
            const args = [random.chance(0.5) ? 'connect' : 'disconnect', network, container.name];
            return { description: cli(['network', ...args]) + (await this.attempt(['network', ...args])), change: 'event' };
          },
        );
      case 'pause':
        return this.withContainer(
          () => true,
          async (container) => {
            const args = [container.paused ? 'unpause' : 'pause', container.name];
            return { description: cli(args) + (await this.attempt(args)), change: 'event' };
          },
        );
      case 'execShort':
        return this.withContainer(
          (container) => !container.paused,
          async (container) => {
            const args = ['exec', '-u', '0', container.name, 'true'];
            return { description: cli(args) + (await this.attempt(args)), change: 'event' };
          },
        );
      case 'execLinger':
        return this.withContainer(
          (container) => !container.paused,
          async (container) => {
            const args = ['exec', '-d', '-u', '0', container.name, 'sleep', '3600'];
            return { description: cli(args) + (await this.attempt(args)), change: 'event' };
          },
        );
      case 'rootNoEvent':
        return this.trigger(SPAWN_TRIGGER, 'a root child of dm-flip');
      case 'setuidFlip':
        return this.trigger(ROOT_TRIGGER, 'dm-flip itself as root');
      case 'tag': {
        const image = random.pick(this.images);
        const tag = random.pick(['app:1.4', 'app:latest', 'app:2', 'web:latest', 'web:0.9']);
        const args = ['tag', image, tag];
        return { description: cli(args) + (await this.attempt(args)), change: 'event' };
      }
      case 'untag': {
        const tags = await this.tags();
        if (tags.length === 0) return this.step('tag');
        const args = ['rmi', ...(random.chance(0.5) ? ['--force'] : []), random.pick(tags)];
        return { description: cli(args) + (await this.attempt(args)), change: 'event' };
      }
      case 'rmi': {
        const args = ['rmi', ...(random.chance(0.5) ? ['--force'] : []), random.pick(this.images)];
        return { description: cli(args) + (await this.attempt(args)), change: 'event' };
      }
      case 'appTagCase':
        return this.appTagCase();
      case 'reload':
        return { description: await (this.engine.reload as (random: Random) => Promise<string>)(random), change: 'event' };
      case 'restart':
        return { description: await (this.engine.restart as () => Promise<string>)(), change: 'restart' };
      case 'burst':
        return this.burst();
    }
  }

  /**
   * Creates or deletes a trigger file in a running dm-flip container (not paused, not no-new-privileges,
   * so dm-flip can act) and waits until the process table shows the change: the step's end.
   */
  private trigger(file: string, what: string): Promise<Done> {
    return this.withContainer(
      (container) => container.flip && !container.paused && !container.noNewPrivileges && !container.root,
      async (container) => {
        const pid = container.pid;
        const path = `/proc/${pid}/root${file}`;
        const on = !existsSync(path);
        if (on) await writeFile(path, '');
        else await unlink(path);
        const rootNow = (): boolean => {
          if (file === ROOT_TRIGGER) return uidOf(pid, 'effective') === 0;
          return childrenOf(pid).some((child) => uidOf(child, 'effective') === 0);
        };
        await eventually(
          async () => rootNow(),
          (root) => root === on,
          10_000,
          `dm-flip in ${container.name} to act on ${file}`,
        );
        return {
          description: `${on ? 'create' : 'delete'} ${file} in ${container.name} (${what} ${on ? 'appears' : 'goes'}, no event)`,
          change: 'no-event',
        };
      },
    );
  }

  /** The issue's case: an image tagged app:1.4 and app:latest runs as app:latest, then loses app:1.4 (two steps). */
  private async appTagCase(): Promise<Done> {
    const image = await this.importImage();
    this.images.push(image);
    const tag = ['tag', image, 'app:1.4'];
    const latest = ['tag', image, 'app:latest'];
    await this.engine.cli(tag);
    await this.engine.cli(latest);
    const ran = await this.run('app:latest');
    const done = {
      description: `${this.engine.name} import (new image ${image.slice(0, 12)}); ${tag.join(' ')}; ${latest.join(' ')}; ${ran.description}`,
      change: 'event' as const,
    };
    await this.settle(done);
    const untag = ['rmi', 'app:1.4'];
    return { description: `${this.engine.name} ${untag.join(' ')}${await this.attempt(untag)}`, change: 'event' };
  }

  /** 50 containers started at once (10 in flight), compared, then removed together. */
  private async burst(): Promise<Done> {
    const names = Array.from({ length: 50 }, () => this.name('dmb'));
    const image = await this.someImage();
    const start = async (name: string, index: number): Promise<void> => {
      const user = index % 2 === 0 ? ['--user', '1000'] : [];
      await this.engine.cli(this.runCommand(name, ['--label', `${FLIP_LABEL}=0`, ...user], image, ['sleep', '3600']));
    };
    for (let index = 0; index < names.length; index += 10) await Promise.all(names.slice(index, index + 10).map(start));
    await this.settle({ description: `${this.engine.name} run 50 containers of ${image} (10 at a time)`, change: 'event' });
    await this.engine.cli(['rm', '-f', ...this.engine.rmArgs, ...names]);
    return { description: `${this.engine.name} rm -f the 50 burst containers`, change: 'event' };
  }

  /** Records a step and waits for the exporters to agree with a fresh check within its bound. */
  private async settle(done: Done): Promise<void> {
    const end = Date.now();
    this.steps.push(`${this.steps.length + 1}. ${done.description}`);
    const failure = await this.comparison.agree(done.change, end);
    if (failure !== undefined) {
      throw new Error(
        `served verdicts differ from a fresh check on ${this.engine.name} (seed ${this.seed}; replay with DIFF_SEED=${this.seed})\nsteps:\n${this.steps
          .map((line) => `  ${line}`)
          .join('\n')}\n${failure}`,
      );
    }
  }

  /** The walk: every kind once in a seeded order, then weighted picks, `count` steps in all. */
  async walk(count: number, progress: (line: string) => void): Promise<void> {
    await this.settle({ description: 'start (containers of prepare())', change: 'event' });
    const kinds = this.kinds;
    const opening = [...kinds].sort(() => this.random.next() - 0.5);
    const weighted = kinds.flatMap((kind) => Array.from({ length: KINDS[kind] }, () => kind));
    const started = Date.now();
    for (let index = 0; index < count; index += 1) {
      const kind = index < opening.length ? (opening[index] as Kind) : this.random.pick(weighted);
      await this.settle(await this.step(kind));
      if ((index + 1) % 25 === 0)
        progress(`${this.engine.name}: ${index + 1} steps agreed in ${Math.round((Date.now() - started) / 1000)} s`);
    }
  }

  get recorded(): readonly string[] {
    return this.steps;
  }
}

function uidOf(pid: number, which: 'real' | 'effective'): number | undefined {
  try {
    const line = /^Uid:\t(\d+)\t(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line === null ? undefined : Number(line[which === 'real' ? 1 : 2]);
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}
