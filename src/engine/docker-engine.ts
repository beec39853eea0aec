import type { IncomingMessage } from 'node:http';
import pLimit, { type LimitFunction } from 'p-limit';
import type {
  ContainerInspect,
  ContainerSummary,
  EnforcementAction,
  Engine,
  EngineEvent,
  EngineInfo,
  EngineVersion,
  ExecInspect,
  ImageHistoryEntry,
  ImageInspect,
  NetworkInspect,
  ProcessTable,
} from './types.js';
import { containerName } from './container-name.js';
import { parseEngineAddress, type EngineAddress } from './engine-address.js';
import { createTransport, type Method, type Query, type Transport } from './engine-transport.js';

/** Docker runs the host's ps: ask for the numeric UID column explicitly, as user names resolve against the host's passwd. */
const DOCKER_PS_ARGS = '-o pid,uid,user,args';
/** Seconds `stop` gives a container to exit on SIGTERM, as `docker stop` does. */
const STOP_GRACE_SECONDS = 10;
/**
 * Bounds on what an engine may send, so that a broken or hostile engine cannot grow the exporter
 * without limit: one JSON answer (an inspect is tens of KB, a list of thousands of containers a few MB),
 * an error answer, one event line (an event is under a few KB), and the containers one refresh evaluates.
 */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
export const MAX_EVENT_LINE_BYTES = 1024 * 1024;
export const MAX_LISTED_CONTAINERS = 5_000;

/** The fields of one `GET /containers/json` entry that the exporter reads. */
interface RawContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Labels: Record<string, string>;
  State: string;
}

export interface DockerEngineOptions {
  /** An address (`unix:///path`, `tcp://host:port`, `ssh://user@host`; TLS per DOCKER_TLS_VERIFY) or one already resolved. */
  host: string | EngineAddress;
  /** Most engine calls in flight at once. */
  concurrency: number;
  /** Milliseconds before one engine call is abandoned. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * The Engine interface over plain HTTP requests (engine-transport.ts; dockerode would load gRPC, protobuf,
 * tar and SSH code that no command uses), with a bound on concurrent calls and a timeout on each.
 */
export class DockerEngine implements Engine {
  readonly address: string;
  private readonly transport: Transport;
  private readonly limit: LimitFunction;
  private readonly timeoutMs: number;
  private readonly counts: Record<string, number> = {};

  constructor(options: DockerEngineOptions) {
    const address =
      typeof options.host === 'string' ? parseEngineAddress({ value: options.host, source: 'engine address' }, options.env) : options.host;
    this.address = address.display;
    this.transport = createTransport(address.options);
    this.limit = pLimit(options.concurrency);
    this.timeoutMs = options.timeoutMs;
  }

  /** One Engine API request under the concurrency limit; settles by its deadline whatever the engine does. */
  private request<T>(endpoint: string, method: Method, path: string, query: Query = {}, timeoutMs = this.timeoutMs): Promise<T> {
    return this.limit(async () => {
      this.counts[endpoint] = (this.counts[endpoint] ?? 0) + 1;
      const { status, body } = await this.exchange(endpoint, method, path, query, timeoutMs, MAX_BODY_BYTES);
      if (status < 200 || status >= 300) throw engineStatusError(endpoint, status, body);
      if (endpoint === 'ping' || body.length === 0) return undefined as T;
      try {
        return JSON.parse(body.toString('utf8')) as T;
      } catch {
        throw new Error(`engine answered ${endpoint} with malformed JSON (${body.length} bytes)`);
      }
    });
  }

  /**
   * Sends one request and reads its whole answer, at most `maxBytes` of it, within `timeoutMs`.
   * The engine client's own callback never fires when the peer closes in the middle of a body, so the
   * response stream is read here and one deadline covers connect, headers and body alike.
   */
  private exchange(
    endpoint: string,
    method: Method,
    path: string,
    query: Query,
    timeoutMs: number,
    maxBytes: number,
  ): Promise<{ status: number; body: Buffer }> {
    return withDeadline(`engine call ${endpoint}`, timeoutMs, (signal) =>
      this.open(path, method, query, signal).then(async (response) => ({
        status: response.statusCode ?? 0,
        body: await readBody(response, maxBytes, endpoint),
      })),
    );
  }

  /** Opens a request and resolves with the response as soon as its headers arrive, whatever its status. */
  private open(path: string, method: Method, query: Query, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const abandon = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', abandon, { once: true });
      this.transport(path, method, query, signal).then(
        (response) => {
          signal.removeEventListener('abort', abandon);
          resolve(response);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', abandon);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  callCounts(): Readonly<Record<string, number>> {
    return { ...this.counts };
  }

  async ping(): Promise<void> {
    await this.request('ping', 'GET', '/_ping');
  }

  async listContainers(): Promise<ContainerSummary[]> {
    // Paused containers are running ones: dockerd lists them (and restarting ones) unasked, Podman only
    // when asked by status, and Podman refuses the status `restarting`: the union of the two lists.
    const [listed, paused] = await Promise.all([this.containerList({}), this.containerList({ filters: { status: ['paused'] } })]);
    const ids = new Set(listed.map((entry) => entry.Id));
    const list = [...listed, ...paused.filter((entry) => !ids.has(entry.Id))];
    if (list.length > MAX_LISTED_CONTAINERS) {
      throw new Error(`engine listed ${list.length} running containers, more than the ${MAX_LISTED_CONTAINERS} docker-monitor evaluates`);
    }
    return list.map((entry) => ({
      id: entry.Id,
      name: containerName(entry.Names[0] ?? entry.Id),
      image: entry.Image,
      imageId: entry.ImageID,
      labels: entry.Labels,
      state: entry.State,
    }));
  }

  private async containerList(query: Query): Promise<RawContainerSummary[]> {
    const list = await this.request<RawContainerSummary[]>('containers', 'GET', '/containers/json', query);
    if (!Array.isArray(list)) throw new Error('engine answered containers with something other than a list');
    return list;
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.request('inspect', 'GET', `/containers/${encodeURIComponent(id)}/json`);
  }

  top(id: string, psArgs = DOCKER_PS_ARGS): Promise<ProcessTable> {
    return this.request('top', 'GET', `/containers/${encodeURIComponent(id)}/top`, { ps_args: psArgs });
  }

  inspectImage(id: string): Promise<ImageInspect> {
    return this.request('image', 'GET', `/images/${encodeURIComponent(id)}/json`);
  }

  imageHistory(id: string): Promise<ImageHistoryEntry[]> {
    return this.request('history', 'GET', `/images/${encodeURIComponent(id)}/history`);
  }

  inspectExec(id: string): Promise<ExecInspect> {
    return this.request('exec', 'GET', `/exec/${encodeURIComponent(id)}/json`);
  }

  info(): Promise<EngineInfo> {
    return this.request('info', 'GET', '/info');
  }

  version(): Promise<EngineVersion> {
    return this.request('version', 'GET', '/version');
  }

  networks(): Promise<NetworkInspect[]> {
    return this.request('networks', 'GET', '/networks');
  }

  async act(id: string, action: EnforcementAction): Promise<void> {
    const path = `/containers/${encodeURIComponent(id)}/${action}`;
    if (action === 'stop') {
      // The engine waits up to STOP_GRACE_SECONDS for SIGTERM before SIGKILL; the call may take that long.
      await this.request(action, 'POST', path, { t: String(STOP_GRACE_SECONDS) }, this.timeoutMs + STOP_GRACE_SECONDS * 1000);
    } else {
      await this.request(action, 'POST', path);
    }
  }

  async events(signal: AbortSignal): Promise<AsyncIterable<EngineEvent>> {
    // The event stream lives as long as the monitor: it is outside the limit; only its opening has a deadline.
    this.counts['events'] = (this.counts['events'] ?? 0) + 1;
    const response = await withDeadline('engine call events', this.timeoutMs, (deadline) =>
      // Every type: container events, and network, daemon and image events that change what the cache holds.
      // (Podman rejects type filters it does not know, such as `daemon`.)
      this.open('/events', 'GET', {}, AbortSignal.any([deadline, signal])),
    );
    if (response.statusCode !== 200) {
      try {
        const body = await withDeadline('engine call events', this.timeoutMs, () => readBody(response, MAX_ERROR_BODY_BYTES, 'events'));
        throw engineStatusError('events', response.statusCode ?? 0, body);
      } finally {
        response.destroy();
      }
    }
    return parseEvents(response, signal);
  }
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  time?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/**
 * The event stream is one JSON object per line. Lines longer than MAX_EVENT_LINE_BYTES and lines that are
 * not JSON end the stream with an error (the monitor reconnects); the stream is read only as fast as
 * the events are consumed, so a flood waits in the socket, not in memory.
 */
async function* parseEvents(stream: IncomingMessage, signal: AbortSignal): AsyncIterable<EngineEvent> {
  const close = (): void => {
    stream.destroy();
  };
  signal.addEventListener('abort', close, { once: true });
  try {
    let carry = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const lines = (carry + chunk.toString('utf8')).split('\n');
      carry = lines.pop() ?? '';
      if (carry.length > MAX_EVENT_LINE_BYTES) throw new Error(`engine sent an event line longer than ${MAX_EVENT_LINE_BYTES} bytes`);
      for (const line of lines) {
        if (line.trim() === '') continue;
        yield toEvent(line);
      }
    }
    if (carry.trim() !== '') yield toEvent(carry);
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    signal.removeEventListener('abort', close);
    close();
  }
}

function toEvent(line: string): EngineEvent {
  let raw: RawEvent;
  try {
    raw = JSON.parse(line) as RawEvent;
  } catch {
    throw new Error(`engine sent a malformed event line (${line.length} characters)`);
  }
  if (typeof raw !== 'object' || raw === null) throw new Error('engine sent an event that is not an object');
  return {
    Type: typeof raw.Type === 'string' ? raw.Type : 'container',
    Action: dockerAction(typeof raw.Action === 'string' ? raw.Action : typeof raw.status === 'string' ? raw.status : ''),
    id: typeof raw.Actor?.ID === 'string' ? raw.Actor.ID : typeof raw.id === 'string' ? raw.id : '',
    name: typeof raw.Actor?.Attributes?.['name'] === 'string' ? raw.Actor.Attributes['name'] : undefined,
    time: typeof raw.time === 'number' ? raw.time : undefined,
    execId: typeof raw.Actor?.Attributes?.['execID'] === 'string' ? raw.Actor.Attributes['execID'] : undefined,
    container: typeof raw.Actor?.Attributes?.['container'] === 'string' ? raw.Actor.Attributes['container'] : undefined,
  };
}

/**
 * Podman's Docker-compatible events name an exec session's start `exec` and its end `exec_died`, where
 * dockerd says `exec_start: <command>` and `exec_die`: one vocabulary for what follows.
 */
const PODMAN_ACTIONS: Readonly<Record<string, string>> = { exec: 'exec_start', exec_died: 'exec_die' };

function dockerAction(action: string): string {
  return PODMAN_ACTIONS[action] ?? action;
}

/** Runs `work` with a signal that aborts after `timeoutMs`; rejects then, whether or not `work` settles. */
function withDeadline<T>(what: string, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new Error(`${what} timed out after ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    work(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The whole body of a response, or an error when it is larger than `maxBytes` or cut off. */
function readBody(response: IncomingMessage, maxBytes: number, endpoint: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        reject(new Error(`engine answer to ${endpoint} is larger than ${maxBytes} bytes`));
      } else {
        chunks.push(chunk);
      }
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
    response.on('close', () => reject(new Error(`engine closed the connection in the middle of its answer to ${endpoint}`)));
  });
}

/** An engine answer outside 2xx, with `statusCode` for callers that treat 404 or 409 as "gone". */
function engineStatusError(endpoint: string, status: number, body: Buffer): Error {
  let detail = body.subarray(0, 512).toString('utf8');
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { message?: unknown };
    if (typeof parsed.message === 'string') detail = parsed.message;
  } catch {
    // Not JSON: the text itself is the detail.
  }
  detail = detail
    // eslint-disable-next-line no-control-regex -- control characters are what is taken out
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, 300);
  return Object.assign(new Error(`engine answered ${endpoint} with HTTP ${status}${detail === '' ? '' : `: ${detail}`}`), {
    statusCode: status,
  });
}
