import assert from 'node:assert/strict';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { issueServerCertificate, makeCertificates, type Certificates } from '../helpers/certificates.js';
import { ensureTestImage, removeTestContainers, requireEngine } from '../helpers/docker.js';
import { startExporter, type TestExporter } from '../helpers/exporter.js';

interface Answer {
  status: number;
  body: string;
  certificate: PeerCertificate;
}

function get(port: number, path: string, options: { ca: Buffer; auth?: string; cert?: Buffer; key?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: options.ca,
        ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
        ...(options.auth === undefined ? {} : { auth: options.auth }),
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, certificate: (res.socket as TLSSocket).getPeerCertificate() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let certificates: Certificates;
const password = 'correct horse battery staple';

before(async () => {
  await requireEngine();
  await ensureTestImage();
  certificates = await makeCertificates();
});
after(async () => {
  await removeTestContainers();
  await rm(certificates.dir, { recursive: true, force: true });
});

describe('TLS with basic auth', () => {
  let exporter: TestExporter;
  let port: number;
  let ca: Buffer;
  const configFile = (): string => join(certificates.dir, 'web.yml');

  before(async () => {
    ca = await readFile(certificates.ca);
    // Relative paths resolve from the web config's folder, as in exporter-toolkit.
    await copyFile(certificates.serverCert, join(certificates.dir, 'live.crt'));
    await copyFile(certificates.serverKey, join(certificates.dir, 'live.key'));
    const hash = await bcrypt.hash(password, 10);
    await writeFile(
      configFile(),
      `tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\nbasic_auth_users:\n  prometheus: ${hash}\n`,
    );
    exporter = await startExporter({ 'web.config.file': configFile() });
    await exporter.app.listen({ host: '127.0.0.1', port: 0 });
    port = (exporter.app.server.address() as AddressInfo).port;
  });
  after(() => exporter.close());

  test('the right password gets the metrics over TLS', async () => {
    const answer = await get(port, '/metrics', { ca, auth: `prometheus:${password}` });
    assert.equal(answer.status, 200);
    assert.match(answer.body, /^docker_monitor_up /m);
    assert.equal(answer.certificate.subject.CN, 'server');
  });

  test('a wrong password, an unknown user and no credentials get 401', async () => {
    assert.equal((await get(port, '/metrics', { ca, auth: 'prometheus:wrong' })).status, 401);
    assert.equal((await get(port, '/metrics', { ca, auth: `nobody:${password}` })).status, 401);
    assert.equal((await get(port, '/metrics', { ca })).status, 401);
    assert.equal((await get(port, '/', { ca })).status, 401);
  });

  test('probes answer without credentials', async () => {
    assert.equal((await get(port, '/-/healthy', { ca })).status, 200);
  });

  test('a rotated certificate is served without a restart', async () => {
    const rotated = await issueServerCertificate(certificates.dir, 'rotated');
    await copyFile(rotated.key, join(certificates.dir, 'live.key'));
    await copyFile(rotated.cert, join(certificates.dir, 'live.crt'));
    // The first request notices the change; connections after it get the new certificate.
    await get(port, '/-/healthy', { ca });
    const answer = await get(port, '/metrics', { ca, auth: `prometheus:${password}` });
    assert.equal(answer.status, 200);
    assert.equal(answer.certificate.subject.CN, 'rotated');
  });
});

describe('mutual TLS', () => {
  let exporter: TestExporter;
  let port: number;

  before(async () => {
    const file = join(certificates.dir, 'mtls.yml');
    await writeFile(
      file,
      `tls_server_config:\n  cert_file: ${certificates.serverCert}\n  key_file: ${certificates.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certificates.ca}\n`,
    );
    exporter = await startExporter({ 'web.config.file': file });
    await exporter.app.listen({ host: '127.0.0.1', port: 0 });
    port = (exporter.app.server.address() as AddressInfo).port;
  });
  after(() => exporter.close());

  test('a client certificate from the CA is accepted, none is refused', async () => {
    const ca = await readFile(certificates.ca);
    const answer = await get(port, '/metrics', {
      ca,
      cert: await readFile(certificates.clientCert),
      key: await readFile(certificates.clientKey),
    });
    assert.equal(answer.status, 200);
    await assert.rejects(get(port, '/metrics', { ca }));
  });
});

describe('client_allowed_sans', () => {
  test('a verified client certificate must carry an allowed name', async () => {
    const ca = await readFile(certificates.ca);
    const client = { ca, cert: await readFile(certificates.clientCert), key: await readFile(certificates.clientKey) };
    for (const [allowed, status] of [
      ['prometheus.example', 200],
      ['other.example', 403],
    ] as const) {
      const file = join(certificates.dir, `sans-${allowed}.yml`);
      await writeFile(
        file,
        `tls_server_config:\n  cert_file: ${certificates.serverCert}\n  key_file: ${certificates.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certificates.ca}\n  client_allowed_sans: [${allowed}]\n`,
      );
      const exporter = await startExporter({ 'web.config.file': file });
      try {
        await exporter.app.listen({ host: '127.0.0.1', port: 0 });
        const port = (exporter.app.server.address() as AddressInfo).port;
        assert.equal((await get(port, '/metrics', client)).status, status, `allowed ${allowed}`);
      } finally {
        await exporter.close();
      }
    }
  });
});

describe('bad web config', () => {
  test('a missing file and bad YAML are clear startup errors', async () => {
    await assert.rejects(startExporter({ 'web.config.file': join(certificates.dir, 'absent.yml') }), {
      name: 'ConfigError',
      message: `${join(certificates.dir, 'absent.yml')}: cannot read the web config file: no such file`,
    });
    const bad = join(certificates.dir, 'bad.yml');
    await writeFile(bad, 'basic_auth_users: [unclosed\n');
    await assert.rejects(startExporter({ 'web.config.file': bad }), (error: Error) => error.message.startsWith(`${bad}: not valid YAML`));
    await writeFile(bad, 'basic_auth_users:\n  admin: plaintext\n');
    await assert.rejects(startExporter({ 'web.config.file': bad }), (error: Error) =>
      error.message.startsWith(`${bad} basic_auth_users.admin: is not a bcrypt hash`),
    );
  });
});
