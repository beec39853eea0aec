/**
 * ContainerViews built from JSON captured on the real engine by test/fixtures/capture-core.ts, so unit
 * tests run checks on what the engine really returns. Data that was not captured throws when asked for.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerName } from '../../src/engine/container-name.js';
import { parseProcessTable } from '../../src/engine/processes.js';
import type {
  ContainerInspect,
  EngineInfo,
  ExecInspect,
  ImageHistoryEntry,
  ImageInspect,
  NetworkInspect,
  ProcessTable,
} from '../../src/engine/types.js';
import type { ContainerView } from '../../src/policy/types.js';

const fixtures = join(import.meta.dirname, '../fixtures');

/** test/fixtures/inspect/<name>.json */
export function inspectFixture(name: string): ContainerInspect {
  return JSON.parse(readFileSync(join(fixtures, 'inspect', `${name}.json`), 'utf8')) as ContainerInspect;
}

/** test/fixtures/top/<name>.json */
export function topFixture(name: string): ProcessTable {
  return JSON.parse(readFileSync(join(fixtures, 'top', `${name}.json`), 'utf8')) as ProcessTable;
}

function notCaptured(what: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${what} was not captured for this fixture`));
}

/** What was captured of one container and its engine; whatever is missing throws when asked for. */
export interface CapturedContainer {
  inspect: ContainerInspect;
  top?: ProcessTable | undefined;
  image?: ImageInspect | undefined;
  history?: ImageHistoryEntry[] | undefined;
  execs?: ExecInspect[] | undefined;
  info?: EngineInfo | undefined;
  networks?: NetworkInspect[] | undefined;
  signal?: AbortSignal | undefined;
}

/** The ContainerView a check would get for captured data, answering only with what the engine gave. */
export function capturedView(captured: CapturedContainer): ContainerView {
  const { inspect, top, image, history, execs, info, networks } = captured;
  const sessions = new Map((execs ?? []).map((session) => [session.ID, session]));
  return {
    id: inspect.Id,
    name: containerName(inspect.Name),
    inspect,
    signal: captured.signal ?? new AbortController().signal,
    processes: top === undefined ? notCaptured('top') : async () => parseProcessTable(top),
    image: image === undefined ? notCaptured('image inspect') : async () => image,
    imageHistory: history === undefined ? notCaptured('image history') : async () => history,
    exec:
      execs === undefined
        ? notCaptured('exec inspect')
        : async (id) => sessions.get(id) ?? Promise.reject(Object.assign(new Error(`no such exec ${id}`), { statusCode: 404 })),
    engineInfo: info === undefined ? notCaptured('engine info') : async () => info,
    networks: networks === undefined ? notCaptured('networks') : async () => networks,
  };
}

/** A view of the captured container `inspect`, whose processes come from the `top` fixture of the same name when there is one. */
export function fixtureView(name: string, options: { top?: string; signal?: AbortSignal } = {}): ContainerView {
  const topName = options.top ?? name;
  const hasTop = existsSync(join(fixtures, 'top', `${topName}.json`));
  return capturedView({ inspect: inspectFixture(name), top: hasTop ? topFixture(topName) : undefined, signal: options.signal });
}

/** Every user-spelling fixture with its configured user, as capture-core.ts made them. */
export const USER_FIXTURES: Readonly<Record<string, string>> = {
  'user-unset': '',
  'user-1000': '1000',
  'user-0-0': '0:0',
  'user-root-root': 'root:root',
  'user-0-1000': '0:1000',
  'user-root-app': 'root:app',
  'user-app-app': 'app:app',
};
