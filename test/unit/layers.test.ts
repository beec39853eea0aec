/**
 * The layer order written in docs/design.md ("## Layers") holds in the code: every module of src/ is in
 * exactly one layer, and no module imports (statically, for types, or dynamically) from a later layer.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/monitoring-files.js';

const SRC = join(REPO_ROOT, 'src');

/** The layers, in order: each a list of files (`src/x.ts`) and folders (`src/x/`). */
function layers(): string[][] {
  const design = readFileSync(join(REPO_ROOT, 'docs/design.md'), 'utf8');
  const section = design.split(/^## /m).find((part) => part.startsWith('Layers\n'));
  assert.ok(section !== undefined, 'docs/design.md has a "## Layers" section');
  return [...section.matchAll(/^\d+\. (.+)$/gm)].map((line) =>
    [...(line[1] ?? '').matchAll(/`(src\/[^`]+)`/g)].map((path) => path[1] ?? ''),
  );
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(REPO_ROOT, path)] : [];
  });
}

/** Relative module specifiers of a file: `from '…'`, `import '…'` and `import('…')`. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1] ?? '');
}

const order = layers();

function layerOf(file: string): number[] {
  return order.flatMap((paths, index) =>
    paths.some((path) => (path.endsWith('/') ? file.startsWith(path) : file === path)) ? [index + 1] : [],
  );
}

describe('layers (docs/design.md)', () => {
  test('the design page lists the layers', () => {
    assert.ok(order.length >= 10, `found ${order.length} layers`);
  });

  test('every module of src/ is in exactly one layer', () => {
    const misplaced = sourceFiles(SRC)
      .map((file) => [file, layerOf(file)] as const)
      .filter(([, found]) => found.length !== 1)
      .map(([file, found]) => `${file}: in ${found.length === 0 ? 'no layer' : `layers ${found.join(', ')}`}`);
    assert.deepEqual(misplaced, []);
  });

  test('no module imports from a later layer', () => {
    const upward: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const own = layerOf(file)[0] ?? 0;
      for (const specifier of importsOf(file)) {
        const target = relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, file)), specifier)).replace(/\.js$/, '.ts');
        const theirs = layerOf(target)[0];
        assert.ok(theirs !== undefined, `${file} imports ${specifier}, which is in no layer`);
        if (theirs > own) upward.push(`${file} (layer ${own}) imports ${target} (layer ${theirs})`);
      }
    }
    assert.deepEqual(upward, []);
  });
});
