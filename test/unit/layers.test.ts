/**
 * The layer order written in docs/design.md ("## Layers") holds in the code: every module of src/ is in
 * exactly one layer, no module imports from a later layer, rooms of one layer import each other only
 * along the arrows the page lists, and no import cycle exists. Imports are read by TypeScript's own
 * pre-processor, so every form counts: `import`, `import type`, `export … from`, `import x = require()`,
 * `require()` and `import()`, with single, double or back quotes.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/monitoring-files.js';

// Required, not imported: an ESM import of the 9 MB CommonJS file scans it for named exports, which
// doubles this file's start-up.
const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');

const SRC = join(REPO_ROOT, 'src');

function layersSection(): string {
  const design = readFileSync(join(REPO_ROOT, 'docs/design.md'), 'utf8');
  const section = design.split(/^## /m).find((part) => part.startsWith('Layers\n'));
  assert.ok(section !== undefined, 'docs/design.md has a "## Layers" section');
  return section;
}

/** The layers, in order: each a list of rooms, files (`src/x.ts`) and folders (`src/x/`). */
function layers(section: string): string[][] {
  return [...section.matchAll(/^\d+\. (.+)$/gm)].map((line) =>
    [...(line[1] ?? '').matchAll(/`(src\/[^`]+)`/g)].map((path) => path[1] ?? ''),
  );
}

/** The arrows allowed between rooms of one layer: lines "- `src/a` → `src/b`". */
function roomArrows(section: string): Set<string> {
  return new Set([...section.matchAll(/^- `(src\/[^`]+)` → `(src\/[^`]+)`/gm)].map((line) => `${line[1]} → ${line[2]}`));
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(REPO_ROOT, path)] : [];
  });
}

/** The files of the repository a file imports (relative specifiers only; packages are not layered). */
function importsOf(file: string): { specifier: string; target: string }[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
    .map((specifier) => ({
      specifier,
      target: relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, file)), specifier)).replace(/\.js$/, '.ts'),
    }));
}

const section = layersSection();
const order = layers(section);
const arrows = roomArrows(section);
const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

function roomOf(file: string): { layer: number; room: string } | undefined {
  for (const [index, rooms] of order.entries()) {
    const room = rooms.find((path) => (path.endsWith('/') ? file.startsWith(path) : file === path));
    if (room !== undefined) return { layer: index + 1, room };
  }
  return undefined;
}

/** Strongly connected components of more than one file (or a file importing itself): Tarjan's algorithm. */
function cycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const { target } of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.push(member);
      if (member === file) break;
    }
    const selfImport = (graph.get(file) ?? []).some(({ target }) => target === file);
    if (component.length > 1 || selfImport) found.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found;
}

/** One cycle through a component, as a path from its first file back to it (breadth first, so shortest). */
function cyclePath(component: string[]): string {
  const members = new Set(component);
  const start = component[0] ?? '';
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift() ?? '';
    for (const { target } of graph.get(file) ?? []) {
      if (!members.has(target) || previous.has(target)) continue;
      previous.set(target, file);
      if (target === start) {
        const path = [start];
        for (let step = file; step !== start; step = previous.get(step) ?? start) path.unshift(step);
        return [start, ...path].join(' → ');
      }
      queue.push(target);
    }
  }
  return component.join(', ');
}

describe('layers (docs/design.md)', () => {
  test('the design page lists the layers and the arrows between rooms of one layer', () => {
    assert.ok(order.length >= 10, `found ${order.length} layers`);
    for (const arrow of arrows) {
      const [from, to] = arrow.split(' → ').map((path) => order.findIndex((rooms) => rooms.includes(path ?? '')));
      assert.ok(from !== -1 && from === to, `${arrow}: both ends must be rooms of one layer`);
    }
  });

  test('every module of src/ is in exactly one layer', () => {
    const misplaced = files
      .map(
        (file) =>
          [
            file,
            order.flatMap((rooms, index) =>
              rooms.some((path) => (path.endsWith('/') ? file.startsWith(path) : file === path)) ? [index + 1] : [],
            ),
          ] as const,
      )
      .filter(([, found]) => found.length !== 1)
      .map(([file, found]) => `${file}: in ${found.length === 0 ? 'no layer' : `layers ${found.join(', ')}`}`);
    assert.deepEqual(misplaced, []);
  });

  test('every import names a module of src/', () => {
    const unknown = [...graph].flatMap(([file, imports]) =>
      imports.filter(({ target }) => !graph.has(target)).map(({ specifier }) => `${file} imports ${specifier}, which is no module of src/`),
    );
    assert.deepEqual(unknown, []);
  });

  test('no module imports from a later layer', () => {
    const upward = [...graph].flatMap(([file, imports]) => {
      const own = roomOf(file)?.layer ?? 0;
      return imports.flatMap(({ target }) => {
        const theirs = roomOf(target)?.layer ?? 0;
        return theirs > own ? [`${file} (layer ${own}) imports ${target} (layer ${theirs})`] : [];
      });
    });
    assert.deepEqual(upward, []);
  });

  test('rooms of one layer import each other only along the arrows listed', () => {
    const across = [...graph].flatMap(([file, imports]) => {
      const own = roomOf(file);
      return imports.flatMap(({ target }) => {
        const theirs = roomOf(target);
        if (own === undefined || theirs === undefined || own.layer !== theirs.layer || own.room === theirs.room) return [];
        return arrows.has(`${own.room} → ${theirs.room}`) ? [] : [`${file} imports ${target} (${own.room} → ${theirs.room} is not listed)`];
      });
    });
    assert.deepEqual(across, []);
  });

  test('no import cycle', () => {
    assert.deepEqual(cycles().map(cyclePath), []);
  });
});
