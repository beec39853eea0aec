import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseBoolean, parseDuration, parseHostPort, parseEnum, parseInteger, parseList } from '../../src/ini/values.js';
import { parseLogLevel } from '../../src/config/setting-values.js';

describe('parseBoolean', () => {
  test('on/off, true/false, yes/no, 1/0 in any case and with blanks', () => {
    for (const word of ['on', 'ON', 'true', 'True', 'yes', 'YES', '1', '  on  ']) assert.equal(parseBoolean(word), true, word);
    for (const word of ['off', 'Off', 'false', 'FALSE', 'no', 'No', '0', '\toff ']) assert.equal(parseBoolean(word), false, word);
  });

  test('anything else is an error that says what is accepted', () => {
    for (const word of ['', 'offf', 'enabled', '2', 'y', 'n']) {
      assert.throws(() => parseBoolean(word), { message: `"${word}" is not a boolean (use on/off, true/false, yes/no or 1/0)` });
    }
  });
});

describe('parseDuration', () => {
  test('Prometheus-style durations in milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('1w'), 604_800_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration(' 10s '), 10_000);
  });

  test('a number without unit, a unit alone, or junk is an error', () => {
    for (const text of ['', '10', 's', '10 s', '10sec', '-1s', '1h 30m', 'soon']) {
      assert.throws(() => parseDuration(text), { message: `"${text}" is not a duration (use e.g. 500ms, 30s, 5m, 1h30m, 24h)` }, text);
    }
  });
});

describe('formatDuration', () => {
  test('the largest whole unit, and parseDuration reads it back', () => {
    const cases: [number, string][] = [
      [250, '250ms'],
      [1500, '1500ms'],
      [30_000, '30s'],
      [90_000, '90s'],
      [300_000, '5m'],
      [7_200_000, '2h'],
      [86_400_000, '1d'],
      [604_800_000, '1w'],
    ];
    for (const [ms, text] of cases) {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms);
    }
  });
});

describe('parseInteger, parseList, parseEnum, parseLogLevel', () => {
  test('integers, with a lower bound', () => {
    assert.equal(parseInteger(' 42 '), 42);
    assert.equal(parseInteger('-3'), -3);
    assert.throws(() => parseInteger('4.2'), { message: '"4.2" is not a whole number' });
    assert.throws(() => parseInteger('0', 1), { message: '"0" is not a whole number of at least 1' });
  });

  test('lists split at commas and newlines, blanks dropped', () => {
    assert.deepEqual(parseList('a, b ,,c\nd'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(parseList(' '), []);
  });

  test('enums ignore case', () => {
    assert.equal(parseEnum('KILL', ['warn', 'kill']), 'kill');
    assert.throws(() => parseEnum('nuke', ['warn', 'kill']), { message: '"nuke" is not one of warn, kill' });
  });

  test("log levels: ours and Python's names", () => {
    assert.equal(parseLogLevel('debug'), 'debug');
    assert.equal(parseLogLevel('DEBUG'), 'debug');
    assert.equal(parseLogLevel('INFO'), 'info');
    assert.equal(parseLogLevel('WARNING'), 'warn');
    assert.equal(parseLogLevel('warn'), 'warn');
    assert.equal(parseLogLevel('ERROR'), 'error');
    assert.equal(parseLogLevel('CRITICAL'), 'fatal');
    assert.throws(() => parseLogLevel('verbose'), /"verbose" is not a log level/);
  });
});

describe('parseHostPort', () => {
  test('host:port, [v6]:port and, where allowed, :port', () => {
    const optional = { hostOptional: true, minPort: 0 };
    assert.deepEqual(parseHostPort('127.0.0.1:8125', optional), { host: '127.0.0.1', port: 8125 });
    assert.deepEqual(parseHostPort('[::1]:10091', optional), { host: '::1', port: 10091 });
    assert.deepEqual(parseHostPort(':10091', optional), { host: undefined, port: 10091 });
    assert.deepEqual(parseHostPort('statsd.local:0', optional), { host: 'statsd.local', port: 0 });
    for (const bad of ['127.0.0.1', '::1:8125', 'host:70000', 'host:x', 'host: 1', ''])
      assert.throws(() => parseHostPort(bad, optional), /is not host:port/, bad);
    const required = { hostOptional: false, minPort: 1 };
    for (const bad of [':8125', 'host:0']) assert.throws(() => parseHostPort(bad, required), /is not host:port/, bad);
  });
});
