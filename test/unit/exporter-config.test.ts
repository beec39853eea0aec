import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseListenAddress } from '../../src/config/listen-address.js';
import { parseWebConfig } from '../../src/exporter/web-config.js';

describe('parseListenAddress', () => {
  test('the usual exporter forms', () => {
    assert.deepEqual(parseListenAddress(':10091'), { text: ':10091', host: undefined, port: 10091 });
    assert.deepEqual(parseListenAddress('127.0.0.1:9000'), { text: '127.0.0.1:9000', host: '127.0.0.1', port: 9000 });
    assert.deepEqual(parseListenAddress('[::1]:9000'), { text: '[::1]:9000', host: '::1', port: 9000 });
    assert.deepEqual(parseListenAddress('localhost:0'), { text: 'localhost:0', host: 'localhost', port: 0 });
  });

  test('anything else is not host:port (the caller names the flag or key)', () => {
    for (const bad of ['10091', 'host:', ':99999', '::1:9000', 'a b:1']) {
      assert.throws(() => parseListenAddress(bad), { message: new RegExp(`^"${bad.replace(/[[\]]/g, '\\$&')}" is not host:port`) });
    }
  });
});

describe('parseWebConfig', () => {
  const hash = '$2y$10$ZSq3nOrTDWSMzVHXjr5CoOUIRGdRzWqQjF6VFj7X8qHaJBO3upMSm';

  test('exporter-toolkit keys, with paths relative to the file', () => {
    const config = parseWebConfig(
      `tls_server_config:\n  cert_file: tls/server.crt\n  key_file: /etc/k.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS13\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  prometheus: ${hash}\n`,
      '/etc/docker-monitor/web.yml',
    );
    assert.deepEqual(config.tls, {
      certFile: '/etc/docker-monitor/tls/server.crt',
      keyFile: '/etc/k.key',
      clientAuthType: 'RequireAndVerifyClientCert',
      clientCaFile: '/etc/docker-monitor/ca.crt',
      minVersion: 'TLSv1.3',
      maxVersion: undefined,
      clientAllowedSans: [],
    });
    assert.deepEqual(config.basicAuthUsers, { prometheus: hash });
    assert.deepEqual(config.headers, { 'X-Frame-Options': 'deny' });
  });

  test('an empty file means plain HTTP without auth', () => {
    assert.deepEqual(parseWebConfig('', 'w.yml'), { tls: undefined, basicAuthUsers: {}, headers: {}, rateLimit: undefined });
  });

  test('errors name the file and the key', () => {
    const cases: [string, string][] = [
      ['tls_server_config:\n  cert_file: a.crt\n', 'w.yml tls_server_config: cert_file and key_file are both required'],
      [
        'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n',
        'w.yml tls_server_config.client_auth_type: "Maybe" is not one of',
      ],
      [
        'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
        'w.yml tls_server_config.client_ca_file: is required with client_auth_type RequireAndVerifyClientCert',
      ],
      [
        'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n',
        'w.yml tls_server_config.min_version: "SSL3" is not one of TLS10',
      ],
      ['tls_server_config:\n  certfile: a\n', 'w.yml tls_server_config.certfile: unknown key'],
      ['basic_auth_users:\n  admin: secret\n', 'w.yml basic_auth_users.admin: is not a bcrypt hash'],
      ['listen: 1\n', 'w.yml listen: unknown key'],
      ['- a\n', 'w.yml: must be a YAML mapping'],
      ['a: [\n', 'w.yml: not valid YAML'],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseWebConfig(text, 'w.yml'),
        (error: Error) => error.message.startsWith(message),
        `${JSON.stringify(text)} → ${message}`,
      );
    }
  });
});
