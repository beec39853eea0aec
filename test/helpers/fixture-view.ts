/**
 * ContainerViews built from JSON captured on the real engine by test/fixtures/capture-core.ts, so unit
 * tests run checks on what the engine really returns. Data that was not captured throws when asked for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcessTable } from '../../src/engine/processes.js';
import type { ContainerInspect, ProcessTable } from '../../src/engine/types.js';
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

/** A view of the captured container `inspect`, whose processes come from the `top` fixture of the same name when there is one. */
export function fixtureView(name: string, options: { top?: string; signal?: AbortSignal } = {}): ContainerView {
  const inspect = inspectFixture(name);
  const topName = options.top ?? name;
  return {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    inspect,
    signal: options.signal ?? new AbortController().signal,
    processes: async () => parseProcessTable(topFixture(topName)),
    image: notCaptured('image inspect'),
    imageHistory: notCaptured('image history'),
    exec: notCaptured('exec inspect'),
    engineInfo: notCaptured('engine info'),
    networks: notCaptured('networks'),
  };
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
