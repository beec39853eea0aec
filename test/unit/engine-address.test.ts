/**
 * Engine addresses as the docker CLI reads them. The context store is written by the real docker CLI
 * (`docker context create`, which needs no engine), host keys by ssh-keygen and certificates by openssl.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ConnectConfig } from 'ssh2';
import { UsageError } from '../../src/errors.js';
import { resolveEngineAddress, type EngineAddress, type EngineSelection } from '../../src/engine/engine-address.js';
import { knownHostKeys } from '../../src/engine/known-hosts.js';
import { makeCertificates } from '../helpers/certificates.js';

const run = promisify(execFile);
let home: string;
let certs: string;
let hostKeyBlob: Buffer;

/** An environment with its own HOME (so ~/.docker and ~/.ssh are the test's) and nothing of the caller's. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: home, USER: 'tester', PATH: process.env['PATH'], ...extra };
}

async function dockerCli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<void> {
  await run('docker', args, { env: env(extra) });
}

function resolve(selection: EngineSelection, extra: NodeJS.ProcessEnv = {}): EngineAddress {
  return resolveEngineAddress(selection, env(extra));
}

function usageError(selection: EngineSelection, extra: NodeJS.ProcessEnv = {}): string {
  try {
    resolve(selection, extra);
  } catch (error) {
    assert.ok(error instanceof UsageError, `a UsageError, not ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return error.message;
  }
  assert.fail('no error');
}

const flag = (value: string) => ({ value, source: '--docker.host' });

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'dm-address-'));
  mkdirSync(join(home, '.ssh'));
  const made = await makeCertificates();
  certs = join(home, 'certs');
  mkdirSync(certs);
  copyFileSync(made.ca, join(certs, 'ca.pem'));
  copyFileSync(made.clientCert, join(certs, 'cert.pem'));
  copyFileSync(made.clientKey, join(certs, 'key.pem'));
  rmSync(made.dir, { recursive: true, force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, 'hostkey')]);
  const publicKey = readFileSync(join(home, 'hostkey.pub'), 'utf8').trim().split(' ');
  hostKeyBlob = Buffer.from(publicKey[1]!, 'base64');
  // One plain entry for a non-default port, one hashed the way `ssh-keygen -H` hashes them.
  writeFileSync(
    join(home, '.ssh', 'known_hosts'),
    `[127.0.0.1]:2222 ${publicKey[0]} ${publicKey[1]}\nengine.test ${publicKey[0]} ${publicKey[1]}\n`,
  );
  await run('ssh-keygen', ['-H', '-f', join(home, '.ssh', 'known_hosts')]);
  writeFileSync(join(home, '.ssh', 'id_ed25519'), readFileSync(join(home, 'hostkey')));
});

after(() => rmSync(home, { recursive: true, force: true }));

describe('unix:// and bare paths', () => {
  test('unix:///path is a local socket', () => {
    const address = resolve({ host: flag('unix:///run/other.sock') });
    assert.equal(address.options.socketPath, '/run/other.sock');
    assert.equal(address.options.host, undefined, 'no TCP host left over from DOCKER_HOST');
    assert.equal(address.remote, false);
    assert.equal(address.display, 'unix:///run/other.sock');
  });

  test('a bare path, as the CLI takes it', () => {
    assert.equal(resolve({ host: flag('/var/run/docker.sock') }).options.socketPath, '/var/run/docker.sock');
  });

  test('with nothing chosen: the local socket', () => {
    const address = resolve({});
    assert.equal(address.display, 'unix:///var/run/docker.sock');
    assert.equal(address.chosenBy, 'default');
  });

  test('unix:// without a path names the flag', () => {
    assert.equal(usageError({ host: flag('unix://') }), '--docker.host: "unix://" names no socket (unix:///var/run/docker.sock)');
  });
});

describe('tcp:// and TLS', () => {
  test('plain TCP: port 2375 by default, remote', () => {
    const address = resolve({ host: flag('tcp://engine.test') });
    assert.deepEqual([address.options.protocol, address.options.host, address.options.port], ['http', 'engine.test', '2375']);
    assert.equal(address.remote, true);
    assert.equal(address.display, 'tcp://engine.test:2375');
  });

  test('port 2376 alone does not turn TLS on (docker-modem would; the CLI does not)', () => {
    assert.equal(resolve({ host: flag('tcp://engine.test:2376') }).options.protocol, 'http');
  });

  test('DOCKER_TLS_VERIFY (any non-empty value, as the CLI) with DOCKER_CERT_PATH: https on 2376 with the three files', () => {
    const address = resolve({}, { DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
    assert.deepEqual([address.options.protocol, address.options.port], ['https', '2376']);
    assert.deepEqual(address.options.ca, readFileSync(join(certs, 'ca.pem')));
    assert.deepEqual(address.options.cert, readFileSync(join(certs, 'cert.pem')));
    assert.deepEqual(address.options.key, readFileSync(join(certs, 'key.pem')));
    assert.equal(address.chosenBy, 'DOCKER_HOST');
  });

  test('--docker.tls-verify and --docker.cert-path do the same, and win over the variables', () => {
    const address = resolve(
      {
        host: flag('tcp://127.0.0.1:9999'),
        tlsVerify: { value: true, source: '--docker.tls-verify' },
        certPath: { value: certs, source: '--docker.cert-path' },
      },
      { DOCKER_CERT_PATH: '/nonexistent' },
    );
    assert.deepEqual([address.options.protocol, address.options.port], ['https', '9999']);
    const plain = resolve(
      { host: flag('tcp://127.0.0.1:9999'), tlsVerify: { value: false, source: '--no-docker.tls-verify' } },
      { DOCKER_TLS_VERIFY: '1' },
    );
    assert.equal(plain.options.protocol, 'http');
  });

  test('missing certificates name the variable or flag that pointed at them', () => {
    assert.equal(
      usageError({}, { DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }),
      'DOCKER_CERT_PATH: TLS is on but /nonexistent/ca.pem, /nonexistent/cert.pem, /nonexistent/key.pem do not exist (ca.pem, cert.pem and key.pem are needed)',
    );
    assert.match(
      usageError({
        host: flag('tcp://127.0.0.1'),
        tlsVerify: { value: true, source: '--docker.tls-verify' },
        certPath: { value: home, source: '--docker.cert-path' },
      }),
      /^--docker\.cert-path: TLS is on but .*\/ca\.pem, .*\/cert\.pem, .*\/key\.pem do not exist/,
    );
    // Without DOCKER_CERT_PATH the CLI looks in ~/.docker; the message says so and names DOCKER_TLS_VERIFY.
    assert.match(
      usageError({}, { DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1' }),
      /^DOCKER_TLS_VERIFY \(certificates from .*\/\.docker, as DOCKER_CERT_PATH is unset\): TLS is on but/,
    );
  });
});

describe('ssh://', () => {
  test("user, host and port go to docker-modem's ssh2 transport, with the host key from known_hosts (hashed)", () => {
    const address = resolve({ host: flag('ssh://alice@127.0.0.1:2222') }, { SSH_AUTH_SOCK: '/tmp/agent.sock' });
    assert.deepEqual(
      [address.options.protocol, address.options.host, address.options.port, address.options.username],
      ['ssh', '127.0.0.1', 2222, 'alice'],
    );
    assert.equal(address.remote, true);
    assert.equal(address.display, 'ssh://alice@127.0.0.1:2222');
    const ssh = address.options.sshOptions as ConnectConfig & { hostVerifier: (key: Buffer) => boolean };
    assert.equal(ssh.agent, '/tmp/agent.sock');
    assert.deepEqual(ssh.privateKey, readFileSync(join(home, '.ssh', 'id_ed25519')));
    assert.equal(ssh.hostVerifier(hostKeyBlob), true);
    assert.equal(ssh.hostVerifier(Buffer.from('another key')), false);
  });

  test('without a user: the current user; without a port: 22', () => {
    const address = resolve({ host: flag('ssh://engine.test') });
    assert.deepEqual([address.options.username, address.options.port], ['tester', 22]);
    assert.equal(address.display, 'ssh://tester@engine.test');
  });

  test('a host known_hosts does not list is refused before any connection, naming the flag', () => {
    assert.match(
      usageError({ host: flag('ssh://alice@127.0.0.1:2200') }),
      /^--docker\.host: \[127\.0\.0\.1\]:2200 has no host key in .*\/\.ssh\/known_hosts; connect once with "ssh -p 2200 alice@127\.0\.0\.1"/,
    );
  });

  test('hashed and plain known_hosts lines, negation and wildcards', () => {
    const text = readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8');
    assert.match(text, /^\|1\|/, 'ssh-keygen -H hashed the file');
    assert.equal(knownHostKeys(text, '127.0.0.1', 2222).length, 1);
    assert.equal(knownHostKeys(text, '127.0.0.1', 22).length, 0);
    const plain = `*.example.test,!bad.example.test ssh-ed25519 ${hostKeyBlob.toString('base64')}\n@revoked good.example.test ssh-ed25519 AAAA\n`;
    assert.equal(knownHostKeys(plain, 'good.example.test', 22).length, 1);
    assert.equal(knownHostKeys(plain, 'bad.example.test', 22).length, 0);
  });

  test('no key at all (no agent, no ~/.ssh/id_*) names the flag', () => {
    rmSync(join(home, '.ssh', 'id_ed25519'));
    try {
      assert.match(
        usageError({ host: flag('ssh://alice@engine.test') }),
        /^--docker\.host: no SSH key for ssh:\/\/alice@engine\.test: start ssh-agent/,
      );
    } finally {
      writeFileSync(join(home, '.ssh', 'id_ed25519'), readFileSync(join(home, 'hostkey')));
    }
  });
});

describe('schemes the CLI does not take here', () => {
  test('npipe:// is Windows only', () => {
    assert.equal(
      usageError({ host: flag('npipe:////./pipe/docker_engine') }),
      '--docker.host: "npipe:////./pipe/docker_engine" is a Windows named pipe, which does not exist on Linux (use unix://, tcp:// or ssh://)',
    );
  });

  test('an unknown scheme names the variable it came from', () => {
    assert.equal(
      usageError({}, { DOCKER_HOST: 'fd://3' }),
      'DOCKER_HOST: "fd://3" has the unsupported scheme fd:// (use unix://, tcp:// or ssh://)',
    );
  });
});

describe('docker contexts', () => {
  before(async () => {
    await dockerCli(['context', 'create', 'over-ssh', '--docker', 'host=ssh://alice@127.0.0.1:2222']);
    await dockerCli([
      'context',
      'create',
      'over-tls',
      '--docker',
      `host=tcp://127.0.0.1:2376,ca=${certs}/ca.pem,cert=${certs}/cert.pem,key=${certs}/key.pem`,
    ]);
    await dockerCli(['context', 'create', 'local-socket', '--docker', 'host=unix:///run/other.sock']);
  });

  test('--docker.context reads the endpoint from the store', () => {
    const address = resolve({ context: { value: 'over-ssh', source: '--docker.context' } });
    assert.equal(address.display, 'ssh://alice@127.0.0.1:2222');
    assert.equal(address.chosenBy, '--docker.context (context "over-ssh")');
  });

  test("a context's TLS material comes from the store's tls folder", () => {
    const address = resolve({}, { DOCKER_CONTEXT: 'over-tls' });
    assert.deepEqual([address.options.protocol, address.options.port], ['https', '2376']);
    assert.deepEqual(address.options.cert, readFileSync(join(certs, 'cert.pem')));
  });

  test('an unknown context names the flag or variable', () => {
    assert.match(
      usageError({ context: { value: 'nowhere', source: '--docker.context' } }),
      /^--docker\.context: there is no docker context "nowhere" in .*\/\.docker\/contexts \(docker context ls lists them\)$/,
    );
    assert.match(usageError({}, { DOCKER_CONTEXT: 'nowhere' }), /^DOCKER_CONTEXT: there is no docker context "nowhere"/);
  });

  test("the order is the CLI's: --docker.host, --docker.context, DOCKER_HOST, DOCKER_CONTEXT, currentContext, the socket", async () => {
    assert.equal(resolve({}, { DOCKER_HOST: 'unix:///from/env.sock', DOCKER_CONTEXT: 'over-ssh' }).display, 'unix:///from/env.sock');
    assert.equal(
      resolve({ context: { value: 'local-socket', source: '--docker.context' } }, { DOCKER_HOST: 'unix:///from/env.sock' }).display,
      'unix:///run/other.sock',
    );
    assert.equal(resolve({}).display, 'unix:///var/run/docker.sock');
    await dockerCli(['context', 'use', 'local-socket']);
    try {
      const address = resolve({});
      assert.equal(address.display, 'unix:///run/other.sock');
      assert.match(address.chosenBy, /config\.json currentContext \(context "local-socket"\)$/);
      assert.equal(
        resolve({}, { DOCKER_CONTEXT: 'default' }).display,
        'unix:///var/run/docker.sock',
        'the built-in "default" context is the local socket',
      );
    } finally {
      await dockerCli(['context', 'use', 'default']);
    }
  });

  test('--docker.host and --docker.context together are a usage error', () => {
    assert.equal(
      usageError({ host: flag('unix:///a.sock'), context: { value: 'over-ssh', source: '--docker.context' } }),
      '--docker.host and --docker.context both name an engine: give one of them',
    );
  });
});
