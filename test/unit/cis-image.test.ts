/**
 * CIS image checks on image inspect and history captured from images built with the classic builder
 * (test/fixtures/capture-cis.ts): the history parser, the traps (`apt-get update && apt-get install`,
 * `ENV ADDRESS=…`, `USER 0:0`) and the secret matcher. Verdicts per case are in cis-container.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHistoryEntry } from '../../src/checks/cis/history.js';
import { isSecretName, updatesAlone } from '../../src/checks/cis/image-checks.js';
import { cisContainerView, containerFixture, runCheck } from '../fixtures/cis/fixture-views.js';

function steps(name: string) {
  return containerFixture(name).history.map(parseHistoryEntry);
}

describe('history lines read back into instructions', () => {
  test("the classic builder's lines, newest first, down to the imported base layer", () => {
    assert.deepEqual(
      steps('image-bad').map(({ instruction, text }) => [
        instruction,
        text.replace(/file:[0-9a-f]{64}/, 'file:…').replace(/test=\w+$/, 'test=…'),
      ]),
      [
        ['LABEL', 'docker-monitor.test=…'],
        ['USER', '0:0'],
        ['ENV', 'DB_PASSWORD=hunter2'],
        ['RUN', 'apt-get update'],
        ['ARG', 'API_TOKEN'],
        ['ADD', 'file:… in /data.txt'],
        ['COPY', 'file:… in /usr/bin/apt-get'],
        ['', ''],
      ],
    );
  });

  test('build arguments recorded with a RUN (|1 NAME=value) are read apart from the command', () => {
    const run = steps('image-bad').find((step) => step.instruction === 'RUN');
    assert.deepEqual(run?.buildArgs, [['API_TOKEN', 'not-a-real-token']]);
    assert.equal(run?.text, 'apt-get update');
  });
});

describe('UpdateAloneCheck (4.7)', () => {
  test('`apt-get update && apt-get install` in one line passes; `apt-get update` alone fails', async () => {
    assert.ok(steps('image-good').some((step) => step.text === 'apt-get update && apt-get install -y curl'));
    assert.equal((await runCheck('UpdateAloneCheck', cisContainerView('image-good'))).result, 'pass');
    assert.deepEqual(await runCheck('UpdateAloneCheck', cisContainerView('image-bad')), {
      result: 'fail',
      reason: 'update without install: RUN apt-get update',
    });
  });

  test('other spellings of update and install', () => {
    assert.equal(updatesAlone('apt-get -qq update'), true);
    assert.equal(updatesAlone('apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -y install curl'), false);
    assert.equal(updatesAlone('apt update; apt upgrade -y'), false);
    assert.equal(updatesAlone('apt-get install -y curl && apt-get update'), true);
    assert.equal(updatesAlone('apk update && apk add curl'), false);
    assert.equal(updatesAlone('yum makecache'), true);
    assert.equal(updatesAlone('echo update && sudo /usr/bin/apt-get update'), true);
    assert.equal(updatesAlone('git update-index --refresh'), false);
  });
});

describe('AddInsteadOfCopyCheck (4.9)', () => {
  test('the ADD instruction fails; ENV ADDRESS=… and COPY do not', async () => {
    assert.ok(steps('image-good').some((step) => step.text.includes('ADDRESS=10.0.0.1')));
    assert.equal((await runCheck('AddInsteadOfCopyCheck', cisContainerView('image-good'))).result, 'pass');
    assert.match(
      (await runCheck('AddInsteadOfCopyCheck', cisContainerView('image-bad'))).reason ?? '',
      /^ADD file:[0-9a-f]{64} in \/data\.txt$/,
    );
  });

  test('the oldest entry, the base root filesystem, is exempt', async () => {
    // The imported test image's only layer, moved to the bottom of a history whose newest line is an ADD.
    const view = cisContainerView('image-bad', (fixture) => {
      const add = fixture.history.find((entry) => entry.CreatedBy.includes(' ADD ')) ?? assert.fail('no ADD');
      fixture.history = [fixture.history[0] ?? assert.fail('empty'), add];
    });
    assert.equal((await runCheck('AddInsteadOfCopyCheck', view)).result, 'pass');
  });
});

describe('ImageUserCheck (4.1) and ImageHealthcheckCheck (4.6)', () => {
  test('USER 0:0 is root', async () => {
    assert.equal(containerFixture('image-bad').image.Config?.User, '0:0');
    assert.equal((await runCheck('ImageUserCheck', cisContainerView('image-bad'))).reason, "the image's USER 0:0 is root");
    assert.equal((await runCheck('ImageUserCheck', cisContainerView('image-untagged'))).reason, "the image's USER root is root");
    assert.equal((await runCheck('ImageUserCheck', cisContainerView('image-good'))).result, 'pass');
  });

  test("HEALTHCHECK NONE is set, as 4.6's audit reads Config.Healthcheck; its container reports no health and fails 5.27", async () => {
    assert.deepEqual(containerFixture('image-untagged').image.Config?.Healthcheck?.Test, ['NONE']);
    assert.equal((await runCheck('ImageHealthcheckCheck', cisContainerView('image-untagged'))).result, 'pass');
    assert.equal(containerFixture('image-untagged').inspect.State?.Health, undefined);
    assert.equal((await runCheck('ContainerHealthcheckCheck', cisContainerView('image-untagged'))).reason, 'no healthcheck');
    assert.equal((await runCheck('ImageHealthcheckCheck', cisContainerView('default'))).reason, 'the image has no HEALTHCHECK');
  });
});

describe('ImageSecretEnvCheck (4.10)', () => {
  test('secret-looking ENV and build arguments fail without their values in the reason', async () => {
    const outcome = await runCheck('ImageSecretEnvCheck', cisContainerView('image-bad'));
    assert.equal(outcome.reason, 'secret-looking values in ENV DB_PASSWORD, build argument API_TOKEN');
  });

  test('GPG_KEY, *_FILE and ADDRESS pass; allowed_names widens the list', async () => {
    assert.equal((await runCheck('ImageSecretEnvCheck', cisContainerView('image-good'))).result, 'pass');
    assert.equal(
      (await runCheck('ImageSecretEnvCheck', cisContainerView('image-bad'), 'allowed_names = db_password, API_TOKEN')).result,
      'pass',
    );
  });

  test('names are judged by whole words', () => {
    for (const name of ['DB_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'api-key', 'SSH_PRIVATE_KEY', 'REDIS_PASS']) {
      assert.equal(isSecretName(name, []), true, name);
    }
    for (const name of ['ADDRESS', 'PASSAGE', 'MONKEY', 'PWD', 'AWS_ACCESS_KEY_ID', 'DB_PASSWORD_FILE', 'GPG_PUBLIC_KEY', 'KEYBOARD']) {
      assert.equal(isSecretName(name, []), false, name);
    }
  });
});

describe('LatestTagCheck (house rule, no CIS id)', () => {
  test('a version tag passes; latest only and untagged fail', async () => {
    assert.equal((await runCheck('LatestTagCheck', cisContainerView('image-good'))).result, 'pass');
    assert.match(
      (await runCheck('LatestTagCheck', cisContainerView('image-bad'))).reason ?? '',
      /^tagged only latest \(docker-monitor-test\/cis-bad-\w+:latest\)$/,
    );
    assert.equal((await runCheck('LatestTagCheck', cisContainerView('image-untagged'))).reason, 'the image has no tag');
  });
});
