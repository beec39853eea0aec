import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIni } from '../../src/ini/ini-file.js';
import { ConfigError } from '../../src/errors.js';
import { didYouMean, parseOptions } from '../../src/policy/options.js';
import type { OptionSpec } from '../../src/policy/types.js';

const SPECS: Record<string, OptionSpec> = {
  allow_root: { type: 'boolean', default: false, description: 'let containers run as root' },
  timeout: { type: 'duration', default: 10_000, description: 'how long' },
  images: { type: 'list', description: 'images' },
  mode: { type: 'enum', values: ['warn', 'kill'], default: 'warn', description: 'mode' },
  count: { type: 'integer', description: 'count' },
  name: { type: 'string', description: 'name' },
};

function options(body: string, specs: Record<string, OptionSpec> = SPECS) {
  const section = parseIni(`[my.Check]\n${body}`, 'p.ini').sections[0];
  assert.ok(section);
  return parseOptions(specs, section, 'p.ini');
}

function configError(message: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, `ConfigError, got ${String(error)}`);
    assert.equal(error.message, message);
    assert.equal(error.exitCode, 2);
    return true;
  };
}

describe('parseOptions', () => {
  test('typed values, defaults for what is not given', () => {
    assert.deepEqual(options('allow_root = off\ntimeout = 2s\nimages = a, b\nmode = KILL\ncount = 3\nname = x y \n'), {
      allow_root: false,
      timeout: 2000,
      images: ['a', 'b'],
      mode: 'kill',
      count: 3,
      name: 'x y',
    });
    assert.deepEqual(options(''), { allow_root: false, timeout: 10_000, mode: 'warn' });
  });

  test('an empty value means the default, as in the CFPB examples (always_allow =)', () => {
    assert.deepEqual(options('allow_root =\nimages =\n'), { allow_root: false, timeout: 10_000, mode: 'warn' });
  });

  test('an unknown key names file, line, section and key, and suggests the nearest known key', () => {
    assert.throws(() => options('allow_rot = on'), configError('p.ini:2 [my.Check] allow_rot: unknown key (did you mean allow_root?)'));
  });

  test('an unknown key far from any known one lists the known keys', () => {
    assert.throws(
      () => options('colour = blue', { name: { type: 'string', description: 'n' } }),
      configError('p.ini:2 [my.Check] colour: unknown key (known keys: name)'),
    );
    assert.throws(() => options('colour = blue', {}), configError('p.ini:2 [my.Check] colour: unknown key (this section takes no keys)'));
  });

  test('a bad value names file, line, section and key, and says what is accepted', () => {
    assert.throws(
      () => options('\nallow_root = maybe'),
      configError('p.ini:3 [my.Check] allow_root: "maybe" is not a boolean (use on/off, true/false, yes/no or 1/0)'),
    );
    assert.throws(
      () => options('timeout = 10'),
      configError('p.ini:2 [my.Check] timeout: "10" is not a duration (use e.g. 500ms, 30s, 5m, 1h30m, 24h)'),
    );
    assert.throws(() => options('mode = nuke'), configError('p.ini:2 [my.Check] mode: "nuke" is not one of warn, kill'));
  });

  test('a required key missing or empty is an error naming it', () => {
    const specs: Record<string, OptionSpec> = { url: { type: 'string', required: true, description: 'the scanner URL' } };
    assert.throws(() => options('', specs), configError('p.ini:1 [my.Check] url: is required: the scanner URL'));
    assert.throws(() => options('url =', specs), configError('p.ini:2 [my.Check] url: is required: the scanner URL'));
    assert.deepEqual(options('url = https://x', specs), { url: 'https://x' });
  });
});

describe('didYouMean', () => {
  test('suggests only close names', () => {
    assert.equal(didYouMean('RunningAsRootChek', ['RunningAsRootCheck', 'RootProcessCheck']), ' (did you mean RunningAsRootCheck?)');
    assert.equal(didYouMean('zzz', ['RunningAsRootCheck']), '');
    assert.equal(didYouMean('x', []), '');
  });
});
