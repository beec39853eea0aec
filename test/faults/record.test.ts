/** docs/faults-record.md carries the table of every fault suite, as the suite wrote it (FAULTS_RECORD=1). */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FAULTS_DOC } from './fault-record.js';

test('docs/faults-record.md has a filled table for every fault suite', () => {
  const dir = new URL('.', import.meta.url).pathname;
  const doc = readFileSync(FAULTS_DOC, 'utf8');
  const suites = readdirSync(dir)
    .filter((name) => name.endsWith('.test.ts'))
    .flatMap((name) =>
      [...readFileSync(`${dir}/${name}`, 'utf8').matchAll(/new FaultRecord\('([\w-]+)'\)/g)].map((match) => match[1] ?? ''),
    );
  assert.ok(suites.length >= 6, `suites found: ${suites.join(', ')}`);
  for (const suite of suites) {
    const block = new RegExp(
      `<!-- faults:${suite}:begin -->\\n\\| fault \\| what docker-monitor does \\| measured \\|\\n\\|---\\|---\\|---\\|\\n(\\|.*\\|\\n)+<!-- faults:${suite}:end -->`,
    );
    assert.match(doc, block, `the ${suite} table is missing or empty: run FAULTS_RECORD=1 TEST_FILTER=test/faults bash test/run-all.sh`);
  }
});
