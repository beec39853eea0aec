import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIni } from '../../src/ini/ini-file.js';
import { ConfigError } from '../../src/errors.js';

function sectionNamed(text: string, name: string) {
  const section = parseIni(text, 'policy.ini').sections.find((candidate) => candidate.name === name);
  assert.ok(section, `section [${name}] parsed`);
  return section;
}

describe('parseIni', () => {
  test('keeps dotted section names whole and in file order, with their lines', () => {
    const document = parseIni(
      '[policy]\nalways_allow =\n\n[docker_monitor.checks.ActiveBuildCheck]\n\n[my.pkg.checks.MyCheck]\nx = 1\n',
      'policy.ini',
    );
    assert.deepEqual(
      document.sections.map(({ name, line }) => [name, line]),
      [
        ['policy', 1],
        ['docker_monitor.checks.ActiveBuildCheck', 4],
        ['my.pkg.checks.MyCheck', 6],
      ],
    );
    assert.deepEqual(document.sections[2]?.values, { x: '1' });
    assert.deepEqual(document.warnings, []);
  });

  test('a section written twice warns with both lines, merges its keys (later wins) and appears once', () => {
    const text = [
      '[docker_monitor.checks.RunningAsRootCheck]', // 1
      'allow_root = off', // 2
      'severity = high', // 3
      '', // 4
      '[docker_monitor.checks.RootProcessCheck]', // 5
      '', // 6
      '[docker_monitor.checks.RunningAsRootCheck]', // 7
      'allow_root = on', // 8
    ].join('\n');
    const document = parseIni(text, 'dup.ini');
    assert.deepEqual(
      document.sections.map((section) => section.name),
      ['docker_monitor.checks.RunningAsRootCheck', 'docker_monitor.checks.RootProcessCheck'],
    );
    const section = document.sections[0];
    assert.deepEqual(section?.values, { allow_root: 'on', severity: 'high' });
    assert.equal(section?.line, 1);
    assert.deepEqual(section?.keyLines, { allow_root: 8, severity: 3 });
    assert.deepEqual(document.warnings, [
      'dup.ini:7: section [docker_monitor.checks.RunningAsRootCheck] is written again (first at line 1); its keys are merged and it runs once',
    ]);
  });

  test('a key outside any section is an error naming file and line', () => {
    assert.throws(
      () => parseIni('; comment\nallow_root = off\n[policy]\n', 'p.ini'),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.exitCode === 2 &&
        error.message === 'p.ini:2: the key "allow_root" is outside any section (add a [section] header above it)',
    );
  });

  test('a line that is not key = value is an error naming file, line and section', () => {
    assert.throws(() => parseIni('[policy]\nalways_allow\n', 'p.ini'), {
      message: 'p.ini:2 [policy]: "always_allow" is not a key = value line',
    });
  });

  test('an empty section name is an error', () => {
    assert.throws(() => parseIni('[ ]\n', 'p.ini'), { message: 'p.ini:1: empty section name "[]"' });
  });

  test('comments, blank lines, empty values and quoted values', () => {
    const section = sectionNamed('# a comment\n[x.Y]\n; another\nempty =\nquoted = "a;b#c"\ncomment = value ; trailing\n', 'x.Y');
    assert.deepEqual(section.values, { empty: '', quoted: 'a;b#c', comment: 'value' });
  });

  test('as in Python configparser: keys are case-insensitive, "key: value" works, indented lines continue a value', () => {
    const section = sectionNamed('[policy]\nAlways_Allow =\n    sha256:aaaaaaaaaaaa,\n    nginx:1.27\nfail_fast: on\n', 'policy');
    assert.deepEqual(section.values, { always_allow: 'sha256:aaaaaaaaaaaa,\nnginx:1.27', fail_fast: 'on' });
    assert.deepEqual(section.keyLines, { always_allow: 2, fail_fast: 5 });
  });

  test('Windows line endings', () => {
    assert.deepEqual(sectionNamed('[policy]\r\nfail_fast = on\r\n', 'policy').values, { fail_fast: 'on' });
  });
});
