/**
 * Real programs on loopback for the end-to-end tests: free ports, child processes that keep their
 * last lines of output for failure messages and are stopped by their own PID, polling, and a
 * webhook receiver that records what Alertmanager sends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { errorMessage } from '../../src/errors.js';
import { eventually } from './wait.js';
import { scaled } from './time-scale.js';

const LOOPBACK = '127.0.0.1';
const KEPT_LINES = 40;
const STOP_GRACE_MS = 5_000;

/** Ports this process has handed out: the OS may offer a just-closed port again, and two services must not get one. */
const handedOut = new Set<number>();

/** A loopback port that was free a moment ago (the OS picks it), never one handed out before in this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createTcpServer();
    server.listen(0, LOOPBACK);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, 'close');
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** A child process started by the test; `stop()` ends exactly that process. */
export class Service {
  private readonly lines: string[] = [];
  private readonly watchers: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    cwd?: string,
  ) {
    this.child = spawn(command, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit');
    this.child.on('error', (error) => this.keep(`spawn error: ${error.message}`));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) =>
        chunk
          .split('\n')
          .filter(Boolean)
          .forEach((line) => this.keep(line)),
      );
    }
  }

  /** Resolves with the first line printed from now on that matches `pattern` (kept however much follows). */
  nextLine(pattern: RegExp): Promise<string> {
    return new Promise((resolve) => this.watchers.push({ pattern, resolve }));
  }

  private keep(line: string): void {
    for (const watcher of this.watchers.filter(({ pattern }) => pattern.test(line))) {
      this.watchers.splice(this.watchers.indexOf(watcher), 1);
      watcher.resolve(line);
    }
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) this.lines.shift();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines it printed, for assertion messages. */
  get output(): string {
    return `--- last output of ${this.name} (pid ${this.child.pid ?? '?'}) ---\n${this.lines.join('\n')}`;
  }

  async stop(): Promise<void> {
    // No pid: it never started (the spawn error is in the output).
    if (this.child.pid === undefined || !this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Polls `probe` until it returns something other than undefined. On timeout the error says what was
 * awaited, what the probe last saw, and the output of the given services.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; services?: readonly Service[] } = {},
): Promise<T> {
  let last = 'not yet';
  const services = options.services ?? [];
  const read = async (): Promise<T | undefined> => {
    const dead = services.find((service) => !service.running);
    if (dead !== undefined) throw new Error(`${dead.name} exited waiting for ${what} (last: ${last})\n${outputOf(services)}`);
    try {
      const value = await probe();
      last = 'not yet';
      return value;
    } catch (error) {
      last = String(error);
      return undefined;
    }
  };
  try {
    return (await eventually(read, (value) => value !== undefined, options.timeoutMs ?? 60_000, what)) as T;
  } catch (error) {
    if (services.some((service) => !service.running)) throw error;
    throw new Error(`${errorMessage(error)} (last: ${last})\n${outputOf(services)}`, { cause: error });
  }
}

function outputOf(services: readonly Service[]): string {
  return services.map((service) => service.output).join('\n');
}

/**
 * GET that resolves to the body text (any status), or rejects. Its deadline is an ordinary timer: a
 * connection that a port forwarder accepts but never answers holds no reference on the event loop,
 * and AbortSignal.timeout's timer does not either, so the test runner would end the test as pending.
 */
export async function fetchText(url: string, unscaledMs = 10_000): Promise<string> {
  const timeoutMs = scaled(unscaledMs);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    return await (await fetch(url, { signal: controller.signal })).text();
  } finally {
    clearTimeout(timer);
  }
}

/** GET that resolves to the parsed JSON body, or throws with the status and body. */
export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(scaled(10_000)) });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Whether a GET answers 200 (for readiness probes); undefined otherwise, as waitFor wants. */
export async function answers(url: string): Promise<true | undefined> {
  const response = await fetch(url, { signal: AbortSignal.timeout(scaled(5_000)) });
  return response.ok ? true : undefined;
}

export interface WebhookMessage {
  /** The receiver: the request path without the slash. */
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string> }[];
}

/** Records Alertmanager's webhook notifications, by path. */
export class WebhookReceiver {
  readonly messages: WebhookMessage[] = [];
  private readonly server: Server = createHttpServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const message = JSON.parse(body) as Omit<WebhookMessage, 'receiver'>;
      this.messages.push({ ...message, receiver: (request.url ?? '/').slice(1) });
      response.end();
    });
  });

  async listen(): Promise<number> {
    this.server.listen(0, LOOPBACK);
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}
