import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImageAllowList, normalizeReference } from '../../src/policy/image-match.js';
import { inspectFixture } from '../helpers/fixture-view.js';

const container = inspectFixture('user-1000');
const imageId = container.Image; // sha256:<64 hex>, as the engine reports it
const hex = imageId.slice('sha256:'.length);
const DIGEST = `sha256:${'b'.repeat(64)}`;

function allows(entries: string[], references: string[] = [], id = imageId): boolean {
  return new ImageAllowList(entries).matches({ imageId: id, references });
}

describe('normalizeReference', () => {
  test('short names resolve as the engine resolves them', () => {
    assert.equal(normalizeReference('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeReference('nginx:1.27'), 'docker.io/library/nginx:1.27');
    assert.equal(normalizeReference('docker.io/library/nginx:latest'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeReference('docker.io/nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeReference('index.docker.io/library/nginx:1.27'), 'docker.io/library/nginx:1.27');
    assert.equal(normalizeReference('bitnami/redis'), 'docker.io/bitnami/redis:latest');
  });

  test('registries with ports, localhost, digests', () => {
    assert.equal(normalizeReference('registry:5000/x:1'), 'registry:5000/x:1');
    assert.equal(normalizeReference('registry:5000/x'), 'registry:5000/x:latest');
    assert.equal(normalizeReference('localhost/app'), 'localhost/app:latest');
    assert.equal(normalizeReference('ghcr.io/org/app:2'), 'ghcr.io/org/app:2');
    assert.equal(normalizeReference(`nginx@${DIGEST}`), `docker.io/library/nginx@${DIGEST}`);
    assert.equal(normalizeReference(`registry:5000/x@${DIGEST}`), `registry:5000/x@${DIGEST}`);
  });
});

describe('ImageAllowList', () => {
  test('image IDs in every usual form: sha256:…, 64 hex, a 12-hex prefix, any case', () => {
    assert.equal(allows([imageId]), true);
    assert.equal(allows([hex]), true);
    assert.equal(allows([hex.slice(0, 12)]), true);
    assert.equal(allows([`sha256:${hex.slice(0, 12)}`]), true);
    assert.equal(allows([` ${hex.toUpperCase()} `]), true);
    assert.equal(allows([`sha256:${'0'.repeat(64)}`]), false);
    assert.equal(allows([hex.slice(1, 13)]), false, 'a prefix, not any substring');
  });

  test('a hex string shorter than 12 is a reference, not an ID', () => {
    assert.equal(allows([hex.slice(0, 11)]), false);
  });

  test('references match in normalised form', () => {
    for (const entry of ['nginx', 'nginx:latest', 'docker.io/library/nginx:latest', 'docker.io/nginx']) {
      assert.equal(allows([entry], ['nginx:latest']), true, entry);
      assert.equal(allows([entry], ['docker.io/library/nginx']), true, entry);
    }
    assert.equal(allows(['nginx:1.27'], ['nginx:latest']), false);
    assert.equal(allows(['nginx'], ['nginx:1.27']), false, 'nginx means nginx:latest, as for docker pull');
    assert.equal(allows(['registry:5000/x:1'], ['registry:5000/x:1']), true);
    assert.equal(allows(['registry:5000/x:1'], ['x:1']), false);
    assert.equal(allows([`nginx@${DIGEST}`], [`nginx@${DIGEST}`]), true);
    assert.equal(allows([`nginx@${DIGEST}`], ['nginx:latest']), false);
  });

  test("the captured container's own image reference", () => {
    assert.equal(allows([container.Config?.Image ?? ''], [container.Config?.Image ?? '']), true);
    assert.equal(allows(['docker-monitor-test/busybox'], [container.Config?.Image ?? '']), false, 'tag 1, not latest');
  });

  test('empty and reference-free lists', () => {
    const empty = new ImageAllowList([]);
    assert.equal(empty.empty, true);
    assert.equal(empty.matches({ imageId, references: ['nginx'] }), false);
    assert.equal(new ImageAllowList([hex]).hasReferences, false);
    assert.equal(new ImageAllowList(['nginx']).hasReferences, true);
  });
});
