/**
 * Every link in the README and in docs/ resolves: a relative link names a file or folder that exists,
 * and an anchor names a heading of its page, slugged as GitHub does (github-slugger). Links inside
 * code blocks and inline code are not links.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import GithubSlugger from 'github-slugger';
import { REPO_ROOT } from '../helpers/monitoring-files.js';

const README_LIMIT_BYTES = 15 * 1024;

/** The page's text without fenced code blocks and inline code, where brackets are not links. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

function anchorsOf(path: string): Set<string> {
  const slugger = new GithubSlugger();
  // GitHub slugs a heading as written, inline code included; only fenced blocks hold no headings.
  const headings = readFileSync(path, 'utf8')
    .replace(/^```[\s\S]*?^```/gm, '')
    .matchAll(/^#{1,6} +(.+?) *$/gm);
  return new Set([...headings].map((match) => slugger.slug(match[1] ?? '')));
}

function linksOf(path: string): string[] {
  return [...prose(readFileSync(path, 'utf8')).matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)].map((match) => match[1] ?? '');
}

const pages = [
  join(REPO_ROOT, 'README.md'),
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(REPO_ROOT, 'docs', name)),
];

describe('documentation links', () => {
  test(`the README fits on a few screens (under ${README_LIMIT_BYTES / 1024} KB) and links to every page in docs/`, () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    assert.ok(Buffer.byteLength(readme) < README_LIMIT_BYTES, `README.md is ${Buffer.byteLength(readme)} bytes`);
    const linked = new Set(linksOf(join(REPO_ROOT, 'README.md')).map((target) => target.split('#')[0]));
    for (const page of pages.slice(1)) assert.ok(linked.has(relative(REPO_ROOT, page)), `README.md links to ${relative(REPO_ROOT, page)}`);
  });

  for (const page of pages) {
    test(`every link and anchor in ${relative(REPO_ROOT, page)} resolves`, () => {
      const broken: string[] = [];
      for (const target of linksOf(page)) {
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http(s), mailto: outside this repository
        const [file = '', anchor] = target.split('#');
        const destination = file === '' ? page : join(dirname(page), decodeURIComponent(file));
        if (!existsSync(destination)) {
          broken.push(`${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && !anchorsOf(destination).has(anchor)) broken.push(`${target}: no heading with that anchor`);
      }
      assert.deepEqual(broken, []);
    });
  }
});
