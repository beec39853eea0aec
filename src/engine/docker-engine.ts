import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
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

/** Docker runs the host's ps: ask for the numeric UID column explicitly, as user names resolve against the host's passwd. */
const DOCKER_PS_ARGS = '-o pid,uid,user,args';
/** Seconds `stop` gives a container to exit on SIGTERM, as `docker stop` does. */
const STOP_GRACE_SECONDS = 10;

export interface DockerEngineOptions {
  /** An address (`unix:///path`, `tcp://host:port`, `ssh://user@host`; TLS per DOCKER_TLS_VERIFY) or one already resolved. */
  host: string | EngineAddress;
  /** Most engine calls in flight at once. */
  concurrency: number;
  /** Milliseconds before one engine call is abandoned. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** The Engine interface over dockerode, with a bound on concurrent calls and a timeout on each. */
export class DockerEngine implements Engine {
  readonly address: string;
  private readonly docker: Docker;
  private readonly limit: LimitFunction;
  private readonly timeoutMs: number;
  private readonly counts: Record<string, number> = {};

  constructor(options: DockerEngineOptions) {
    const address = typeof options.host === 'string' ? parseEngineAddress({ value: options.host, source: 'engine address' }, options.env) : options.host;
    this.address = address.display;
    this.docker = new Docker(address.options);
    this.limit = pLimit(options.concurrency);
    this.timeoutMs = options.timeoutMs;
  }

  /** One Engine API request under the concurrency limit, abandoned after the timeout. */
  private request<T>(
    endpoint: string,
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string> = {},
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    return this.limit(async () => {
      this.counts[endpoint] = (this.counts[endpoint] ?? 0) + 1;
      const abortSignal = AbortSignal.timeout(timeoutMs);
      try {
        return await new Promise<T>((resolve, reject) => {
          this.docker.modem.dial(
            {
              path: `${path}?`,
              method,
              options: { ...query },
              abortSignal,
              statusCodes: { 200: true, 204: true, 304: true, 404: `no such object (${endpoint})`, 409: 'conflict', 500: 'server error' },
            },
            (error, result) => (error ? reject(error) : resolve(result as T)),
          );
        });
      } catch (error) {
        if (abortSignal.aborted) throw new Error(`engine call ${endpoint} timed out after ${timeoutMs} ms`);
        throw error;
      }
    });
  }

  callCounts(): Readonly<Record<string, number>> {
    return { ...this.counts };
  }

  async ping(): Promise<void> {
    await this.request('ping', 'GET', '/_ping');
  }

  async listContainers(): Promise<ContainerSummary[]> {
    const list = await this.request<Docker.ContainerInfo[]>('containers', 'GET', '/containers/json');
    return list.map((entry) => ({
      id: entry.Id,
      name: containerName(entry.Names[0] ?? entry.Id),
      image: entry.Image,
      imageId: entry.ImageID,
      labels: entry.Labels,
      state: entry.State,
    }));
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
    // The event stream lives as long as the monitor: it is outside the limit and the per-call timeout.
    this.counts['events'] = (this.counts['events'] ?? 0) + 1;
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'] },
      abortSignal: signal,
    })) as Readable;
    return parseEvents(stream, signal);
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

/** The event stream is one JSON object per line. */
async function* parseEvents(stream: Readable, signal: AbortSignal): AsyncIterable<EngineEvent> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  // Destroying the input alone does not end readline's iterator: close both.
  const close = (): void => {
    lines.close();
    stream.destroy();
  };
  signal.addEventListener('abort', close, { once: true });
  stream.once('close', () => lines.close());
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const raw = JSON.parse(line) as RawEvent;
      yield {
        Type: raw.Type ?? 'container',
        Action: raw.Action ?? raw.status ?? '',
        id: raw.Actor?.ID ?? raw.id ?? '',
        name: raw.Actor?.Attributes?.['name'],
        time: raw.time,
      };
    }
  } finally {
    signal.removeEventListener('abort', close);
    close();
  }
}
