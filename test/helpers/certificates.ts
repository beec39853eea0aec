/** A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Certificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A certificate and key signed by the CA in `dir`, written as `name.crt` and `name.key`. */
async function issueCertificate(
  dir: string,
  name: string,
  commonName: string,
  subjectAltName: string,
): Promise<{ cert: string; key: string }> {
  await openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${commonName}`,
  ]);
  await run('sh', ['-c', `printf 'subjectAltName=${subjectAltName}\\n' > ${name}.ext`], { cwd: dir });
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  ]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** A server certificate for 127.0.0.1 and localhost signed by the CA; `name` distinguishes rotations. */
export function issueServerCertificate(dir: string, name: string): Promise<{ cert: string; key: string }> {
  return issueCertificate(dir, name, name, 'IP:127.0.0.1,DNS:localhost');
}

export async function makeCertificates(): Promise<Certificates> {
  const dir = await mkdtemp(join(tmpdir(), 'dm-tls-'));
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=docker-monitor test CA',
  ]);
  const server = await issueServerCertificate(dir, 'server');
  const client = await issueCertificate(dir, 'client', 'prometheus', 'DNS:prometheus.example');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
  };
}
