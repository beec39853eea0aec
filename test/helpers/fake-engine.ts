/**
 * An Engine that answers with what the real one answered (test/fixtures/monitor/engine.json, made by
 * test/fixtures/capture-monitor.ts) and that a test steers through what a real engine cannot be made
 * to do on cue: a call held until the test lets it answer, a call that fails, an engine that stops
 * answering, an event stream the test feeds, ends or breaks. Answers are computed when a call is made
 * (a held call answers with the state of that moment), and arrive after a microtask, so one
 * `setImmediate` turn settles every call that is not held.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  ContainerInspect,
  ContainerSummary,
  Engine,
  EngineEvent,
  EngineInfo,
  EngineVersion,
  ExecInspect,
  HealthState,
  ImageHistoryEntry,
  ImageInspect,
  NetworkInspect,
  ProcessTable,
} from '../../src/engine/types.js';

/** The captured containers: two of one image as user 1000, one as root, one of another image, one that met its OOM killer. */
export type Role = 'app' | 'twin' | 'root' | 'other' | 'hog';
export const ROLES: readonly Role[] = ['app', 'twin', 'root', 'other', 'hog'];

/** An error as DockerEngine threw it: its own fields (statusCode, code, …), name and message. */
export type CapturedError = Record<string, unknown> & { name: string; message: string };

export interface Snapshot {
  inspect: ContainerInspect;
  /** Absent for a container that is not running (`top` then fails as the engine's did). */
  top?: ProcessTable;
  execs: ExecInspect[];
}

export interface CapturedEngine {
  info: EngineInfo;
  version: EngineVersion;
  networks: NetworkInspect[];
  containers: Record<Role, { id: string; name: string }>;
  /** `listContainers()` with every role running. */
  list: ContainerSummary[];
  /**
   * By role as started, plus `app.exec-root` (a root exec session running), `app.exec-ended` (after
   * it), `app.after-hup` (after `docker kill -s HUP`, which it ignores) and `root.stopped` (after
   * `docker stop`, before `docker rm`).
   */
  snapshots: Record<string, Snapshot>;
  images: Record<string, { inspect: ImageInspect; history: ImageHistoryEntry[] }>;
  /** What `events()` yielded for these containers, in order. */
  events: EngineEvent[];
  /**
   * `notFound` and `topNotFound`: inspect and top of the removed `root`; `topNotRunning`: top of the
   * stopped `root`; `unreachable`: a call to a port where nothing listens.
   */
  errors: { notFound: CapturedError; topNotFound: CapturedError; topNotRunning: CapturedError; unreachable: CapturedError };
}

export const CAPTURED: CapturedEngine = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/monitor/engine.json'), 'utf8'),
) as CapturedEngine;

/** A captured engine error as a thrown Error again, with the same fields. */
export function engineError(captured: CapturedError): Error {
  const { name, message, ...fields } = captured;
  return Object.assign(new Error(message), fields, { name });
}

/** Engine call names, as DockerEngine counts them. */
export type Endpoint =
  'ping' | 'containers' | 'inspect' | 'top' | 'image' | 'history' | 'exec' | 'info' | 'version' | 'networks' | 'events';

/** A call caught by `hold()`: it answers (or fails) when the test says so. */
export interface HeldCall {
  /** Resolves when the call has been made. */
  readonly arrived: Promise<void>;
  release(): void;
  fail(error: Error): void;
}

interface Rule {
  endpoint: Endpoint;
  id: string | undefined;
  /** Runs in place of the call's wait: resolves to let the answer through, rejects to fail the call. */
  apply(): Promise<void>;
}

/** An `/events` stream the test drives. It ends when the monitor's signal aborts. */
export class FakeEventStream implements AsyncIterable<EngineEvent> {
  private readonly queue: EngineEvent[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(signal: AbortSignal) {
    signal.addEventListener('abort', () => this.end(), { once: true });
  }

  push(...events: EngineEvent[]): void {
    this.queue.push(...events);
    this.wake?.();
  }

  /** The engine closed the stream (a restart, a proxy timeout). */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The connection broke mid-stream. */
  fail(error: Error): void {
    this.error = error;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<EngineEvent> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.error !== undefined) throw this.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

export class FakeEngine implements Engine {
  readonly address = 'fake://captured';
  /** Streams opened by `events()`, oldest first. */
  readonly streams: FakeEventStream[] = [];
  private readonly calls: Partial<Record<Endpoint, number>> = {};
  private readonly containers = new Map<string, Snapshot>();
  private readonly rules: Rule[] = [];
  private outage: CapturedError | undefined;
  private streamWaiters: { count: number; resolve: (stream: FakeEventStream) => void }[] = [];

  /** Every role running as captured at first. */
  constructor(readonly captured: CapturedEngine = CAPTURED) {
    for (const role of ROLES) this.set(role, role);
  }

  id(role: Role): string {
    return this.captured.containers[role].id;
  }

  /** The captured event of `role` whose action starts with `action` (`kill`, `exec_die`, …). */
  event(role: Role, action: string): EngineEvent {
    const found = this.captured.events.find((event) => event.id === this.id(role) && event.Action.startsWith(action));
    if (found === undefined) throw new Error(`no ${action} event of ${role} was captured`);
    return { ...found };
  }

  /** From now on the container answers as in the captured snapshot `name` (`app.exec-root`, …). */
  set(role: Role, name: string): void {
    const snapshot = this.captured.snapshots[name];
    if (snapshot === undefined) throw new Error(`no snapshot ${name} was captured`);
    this.containers.set(this.id(role), structuredClone(snapshot));
  }

  /**
   * The container's processes change with no event and no change to its inspect data (a process it
   * started itself): `top` answers as in the captured snapshot `name`, inspect as before.
   */
  setProcesses(role: Role, name: string): void {
    const top = this.captured.snapshots[name]?.top;
    const container = this.containers.get(this.id(role));
    if (top === undefined || container === undefined) throw new Error(`no running ${role} or no top in snapshot ${name}`);
    container.top = structuredClone(top);
  }

  /**
   * The container's health (State.Health, as an engine reported it for some container) changes, with
   * no event: as dockerd marks a container unhealthy when a pause stops its probes.
   */
  setHealth(role: Role, health: HealthState): void {
    const container = this.containers.get(this.id(role));
    if (container?.inspect.State === undefined) throw new Error(`no running ${role}`);
    container.inspect.State.Health = structuredClone(health);
  }

  /** The container is gone: not listed, and inspect and top answer 404 as the engine did. */
  remove(role: Role): void {
    this.containers.delete(this.id(role));
  }

  /** Calls made so far to one endpoint. */
  count(endpoint: Endpoint): number {
    return this.calls[endpoint] ?? 0;
  }

  callCounts(): Readonly<Record<string, number>> {
    return { ...this.calls };
  }

  /** Holds the next call to `endpoint` (for object `id`, when given) until the test releases or fails it. */
  hold(endpoint: Endpoint, id?: string): HeldCall {
    let arrive: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    let release: () => void = () => undefined;
    let fail: (error: Error) => void = () => undefined;
    const gate = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    gate.catch(() => undefined);
    this.rules.push({
      endpoint,
      id,
      apply: () => {
        arrive();
        return gate;
      },
    });
    return { arrived, release, fail };
  }

  /** Fails the next call to `endpoint` (for `id`, when given) with `error`. */
  failNext(endpoint: Endpoint, error: Error, id?: string): void {
    this.rules.push({ endpoint, id, apply: () => Promise.reject(error) });
  }

  /** Every call fails as a call to an address where nothing listens, until `comeBack()`. */
  goDown(error: CapturedError = this.captured.errors.unreachable): void {
    this.outage = error;
  }

  comeBack(): void {
    this.outage = undefined;
  }

  /** Resolves with the `count`-th stream opened by `events()` (1 = the first), once it is open. */
  stream(count: number): Promise<FakeEventStream> {
    const open = this.streams[count - 1];
    if (open !== undefined) return Promise.resolve(open);
    return new Promise((resolve) => this.streamWaiters.push({ count, resolve }));
  }

  private async call<T>(endpoint: Endpoint, id: string | undefined, answer: () => T): Promise<T> {
    this.calls[endpoint] = (this.calls[endpoint] ?? 0) + 1;
    if (this.outage !== undefined) throw engineError(this.outage);
    const at = this.rules.findIndex((rule) => rule.endpoint === endpoint && (rule.id === undefined || rule.id === id));
    const [rule] = at < 0 ? [] : this.rules.splice(at, 1);
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: structuredClone(answer()) };
    } catch (error) {
      outcome = { error };
    }
    await rule?.apply();
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  private container(id: string, notFound = this.captured.errors.notFound): Snapshot {
    const snapshot = this.containers.get(id);
    if (snapshot === undefined) throw engineError(notFound);
    return snapshot;
  }

  private fail(error: CapturedError): never {
    throw engineError(error);
  }

  private image(id: string): { inspect: ImageInspect; history: ImageHistoryEntry[] } {
    const image = this.captured.images[id];
    if (image === undefined) throw engineError({ ...this.captured.errors.notFound, message: `no image ${id} was captured` });
    return image;
  }

  ping(): Promise<void> {
    return this.call('ping', undefined, () => undefined);
  }

  listContainers(): Promise<ContainerSummary[]> {
    // Only running containers are listed, as `GET /containers/json` does.
    return this.call('containers', undefined, () =>
      this.captured.list.filter((summary) => this.containers.get(summary.id)?.inspect.State?.Running === true),
    );
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.call('inspect', id, () => this.container(id).inspect);
  }

  top(id: string): Promise<ProcessTable> {
    return this.call(
      'top',
      id,
      () => this.container(id, this.captured.errors.topNotFound).top ?? this.fail(this.captured.errors.topNotRunning),
    );
  }

  inspectImage(id: string): Promise<ImageInspect> {
    return this.call('image', id, () => this.image(id).inspect);
  }

  imageHistory(id: string): Promise<ImageHistoryEntry[]> {
    return this.call('history', id, () => this.image(id).history);
  }

  inspectExec(id: string): Promise<ExecInspect> {
    return this.call('exec', id, () => {
      for (const snapshot of this.containers.values()) {
        const session = snapshot.execs.find((exec) => exec.ID === id);
        if (session !== undefined) return session;
      }
      throw engineError({ ...this.captured.errors.notFound, message: `no exec ${id} was captured` });
    });
  }

  info(): Promise<EngineInfo> {
    return this.call('info', undefined, () => this.captured.info);
  }

  version(): Promise<EngineVersion> {
    return this.call('version', undefined, () => this.captured.version);
  }

  networks(): Promise<NetworkInspect[]> {
    return this.call('networks', undefined, () => this.captured.networks);
  }

  async events(signal: AbortSignal): Promise<AsyncIterable<EngineEvent>> {
    await this.call('events', undefined, () => undefined);
    const stream = new FakeEventStream(signal);
    this.streams.push(stream);
    const ready = this.streamWaiters.filter((waiter) => waiter.count <= this.streams.length);
    this.streamWaiters = this.streamWaiters.filter((waiter) => waiter.count > this.streams.length);
    for (const waiter of ready) waiter.resolve(this.streams[waiter.count - 1] ?? stream);
    return stream;
  }

  async act(): Promise<void> {
    throw new Error('the fake engine does not act on containers');
  }
}
