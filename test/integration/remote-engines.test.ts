/**
 * Remote engines: one private dockerd listening on its own unix socket and on tcp://127.0.0.1 with
 * --tlsverify (certificates made here), reached also through a private sshd on loopback. The same
 * containers must get the same verdicts over every address kind, and over docker contexts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { RUN_ID, TEST_IMAGE, TEST_LABEL, requireEngine } from '../helpers/docker.js';
import { sampleValue, startExporter, type TestExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { makeCertificates, type Certificates } from '../helpers/certificates.js';
import { PrivateEngine } from '../helpers/private-engine.js';
import { freePort } from '../helpers/services.js';
import { SshServer } from '../helpers/ssh-server.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const CIS = join(ROOT, 'examples/cis.ini');

let engine: PrivateEngine;
let ssh: SshServer;
let certs: Certificates;
let tcpPort: number;
/** DOCKER_CERT_PATH layouts: the right client certificate, and one from another CA. */
let rightCerts: string;
let wrongCerts: string;
let scratch: string;
const names = { root: `remote-root-${RUN_ID}`, user: `remote-user-${RUN_ID}` };

function certFolder(dir: string, ca: string, cert: string, key: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(ca, join(dir, 'ca.pem'));
  copyFileSync(cert, join(dir, 'cert.pem'));
  copyFileSync(key, join(dir, 'key.pem'));
  return dir;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI with nothing of this process's environment but PATH, and the SSH client's HOME. */
function cli(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env = { PATH: process.env['PATH'], HOME: ssh.clientHome, ...extra };
  return run(process.execPath, [CLI, ...args], { env, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

interface Verdicts {
  containers: { name: string; compliant: boolean; results: { check: string; result: string; reason: string | null }[] }[];
  host: unknown;
}

/** `check -f cis.ini --format json` over some address; exit 1 because the root container fails. */
async function verdicts(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<{ verdicts: Verdicts; stderr: string }> {
  // -v: the process source's info line, which some tests read (check logs only warnings and errors by default).
  const outcome = await cli(['check', '-v', '-f', CIS, '--format', 'json', ...args], extra);
  assert.equal(outcome.code, 1, `exit 1 (a failing container) for ${args.join(' ')}: ${outcome.stderr}`);
  const parsed = JSON.parse(outcome.stdout) as Verdicts & { containers: (Verdicts['containers'][number] & { id: string })[] };
  return {
    verdicts: { containers: parsed.containers.map(({ name, compliant, results }) => ({ name, compliant, results })), host: parsed.host },
    stderr: outcome.stderr,
  };
}

before(async () => {
  await requireEngine();
  certs = await makeCertificates();
  scratch = mkdtempSync(join(tmpdir(), 'dm-remote-'));
  rightCerts = certFolder(join(scratch, 'right'), certs.ca, certs.clientCert, certs.clientKey);
  const stranger = await makeCertificates();
  wrongCerts = certFolder(join(scratch, 'wrong'), certs.ca, stranger.clientCert, stranger.clientKey);
  rmSync(stranger.dir, { recursive: true, force: true });
  tcpPort = await freePort();
  engine = new PrivateEngine('11remote', [
    '--host',
    `tcp://127.0.0.1:${tcpPort}`,
    '--tlsverify',
    '--tlscacert',
    certs.ca,
    '--tlscert',
    certs.serverCert,
    '--tlskey',
    certs.serverKey,
  ]);
  await engine.start();
  await engine.loadTestImage();
  await engine.docker(['run', '-d', '--name', names.root, '--label', `${TEST_LABEL}=${RUN_ID}`, TEST_IMAGE, 'sleep', '3600']);
  await engine.docker([
    'run',
    '-d',
    '--name',
    names.user,
    '--label',
    `${TEST_LABEL}=${RUN_ID}`,
    '--user',
    '1000',
    TEST_IMAGE,
    'sleep',
    '3600',
  ]);
  ssh = new SshServer(engine.host);
  await ssh.start();
});

after(async () => {
  await ssh?.stop();
  await engine?.destroy();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
});

describe('check gives the same verdicts over every address kind', () => {
  let local: Verdicts;

  before(async () => {
    local = (await verdicts(['--docker.host', engine.host])).verdicts;
    assert.deepEqual(
      local.containers.map((container) => [container.name, container.compliant]),
      [
        [names.root, false],
        [names.user, false],
      ],
    );
    const rootProcess = local.containers[0]?.results.find((result) => result.check === 'RootProcessCheck');
    assert.equal(rootProcess?.result, 'fail', "the root container's sleep runs as root");
    assert.ok((local.containers[0]?.results.length ?? 0) >= 20, 'the whole CIS chain ran');
  });

  test('tcp:// with --docker.tls-verify and --docker.cert-path', async () => {
    const { verdicts: remote, stderr } = await verdicts([
      '--docker.host',
      `tcp://127.0.0.1:${tcpPort}`,
      '--docker.tls-verify',
      '--docker.cert-path',
      rightCerts,
    ]);
    assert.deepEqual(remote, local);
    assert.match(
      stderr,
      /reading container processes with the engine's top: the engine at tcp:\/\/127\.0\.0\.1:\d+ is reached over the network/,
    );
  });

  test('tcp:// with DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', async () => {
    const { verdicts: remote } = await verdicts([], {
      DOCKER_HOST: `tcp://127.0.0.1:${tcpPort}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: rightCerts,
    });
    assert.deepEqual(remote, local);
  });

  test('ssh://root@127.0.0.1:PORT through OpenSSH and docker system dial-stdio', async () => {
    const { verdicts: remote, stderr } = await verdicts(['--docker.host', ssh.address]);
    assert.deepEqual(remote, local);
    assert.match(stderr, /the engine at ssh:\/\/root@127\.0\.0\.1:\d+ is reached over the network/);
  });

  test('docker contexts made by the docker CLI: --docker.context and DOCKER_CONTEXT', async () => {
    const context = (args: string[]) => run('docker', ['context', ...args], { env: { PATH: process.env['PATH'], HOME: ssh.clientHome } });
    await context([
      'create',
      'tls-engine',
      '--docker',
      `host=tcp://127.0.0.1:${tcpPort},ca=${rightCerts}/ca.pem,cert=${rightCerts}/cert.pem,key=${rightCerts}/key.pem`,
    ]);
    await context(['create', 'ssh-engine', '--docker', `host=${ssh.address}`]);
    assert.deepEqual((await verdicts(['--docker.context', 'tls-engine'])).verdicts, local);
    assert.deepEqual((await verdicts([], { DOCKER_CONTEXT: 'ssh-engine' })).verdicts, local);
    await context(['use', 'tls-engine']);
    assert.deepEqual((await verdicts([])).verdicts, local, "the store's current context");
  });

  test('a client certificate from another CA: exit 3 with the TLS failure', async () => {
    const outcome = await cli([
      'check',
      '--docker.host',
      `tcp://127.0.0.1:${tcpPort}`,
      '--docker.tls-verify',
      '--docker.cert-path',
      wrongCerts,
    ]);
    assert.equal(outcome.code, 3, outcome.stderr);
    assert.match(
      outcome.stderr,
      /^docker-monitor: cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:\d+: the engine refused the TLS handshake \("bad certificate"\): is the client certificate \(cert\.pem, key\.pem\) signed by the CA the engine trusts\? \(is dockerd running/m,
    );
  });

  test("an SSH host key that is not the server's: exit 3, nothing sent", async () => {
    const home = join(scratch, 'stranger-home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    copyFileSync(join(ssh.clientHome, '.ssh', 'id_ed25519'), join(home, '.ssh', 'id_ed25519'));
    // The client's own public key, filed as the server's host key.
    const { stdout } = await run('ssh-keygen', ['-y', '-f', join(home, '.ssh', 'id_ed25519')]);
    await run('sh', ['-c', `printf '[127.0.0.1]:${ssh.port} %s\\n' "$1" > "$2"`, 'sh', stdout.trim(), join(home, '.ssh', 'known_hosts')]);
    const outcome = await cli(['check', '--docker.host', ssh.address], { HOME: home });
    assert.equal(outcome.code, 3, outcome.stderr);
    assert.match(outcome.stderr, /cannot reach the Docker engine at ssh:\/\/root@127\.0\.0\.1:\d+: .*verification failed/);
  });
});

describe('serve against remote engines', () => {
  let exporter: TestExporter | undefined;

  after(async () => {
    await exporter?.close();
  });

  test('TLS with a wrong client certificate: docker_monitor_up 0 and no verdicts', async () => {
    exporter = await startExporter({
      'docker.host': `tcp://127.0.0.1:${tcpPort}`,
      'docker.tlsVerify': true,
      'docker.certPath': wrongCerts,
      refresh: '1h',
    });
    const body = await eventually(
      () => exporter!.scrape(),
      (text) => sampleValue(text, 'docker_monitor_up') !== undefined,
      15_000,
      'a refresh',
    );
    assert.equal(sampleValue(body, 'docker_monitor_up'), 0);
    assert.equal(sampleValue(body, `docker_monitor_container_compliant{container="${names.root}"}`), undefined);
    await exporter.close();
    exporter = undefined;
  });

  test('TLS with the right client certificate: verdicts and root processes', async () => {
    exporter = await startExporter({
      'docker.host': `tcp://127.0.0.1:${tcpPort}`,
      'docker.tlsVerify': true,
      'docker.certPath': rightCerts,
      refresh: '1h',
    });
    const body = await eventually(
      () => exporter!.scrape(),
      (text) => sampleValue(text, 'docker_monitor_up') === 1,
      15_000,
      'docker_monitor_up 1',
    );
    assert.equal(sampleValue(body, `docker_monitor_check_result{check="RunningAsRootCheck",container="${names.root}"}`), 0);
    assert.equal(sampleValue(body, `docker_monitor_check_result{check="RunningAsRootCheck",container="${names.user}"}`), 1);
    assert.equal(sampleValue(body, `docker_monitor_root_processes{container="${names.root}"}`), 1);
    assert.equal(sampleValue(body, `docker_monitor_root_processes{container="${names.user}"}`), 0);
    await exporter.close();
    exporter = undefined;
  });

  test('ssh://: the event stream runs over SSH (a new container shows without a refresh), and removal drops it', async () => {
    // The key and known_hosts are read from HOME while the runtime is made.
    const home = process.env['HOME'];
    process.env['HOME'] = ssh.clientHome;
    try {
      exporter = await startExporter({ 'docker.host': ssh.address, refresh: '1h' });
    } finally {
      process.env['HOME'] = home;
    }
    await eventually(
      () => exporter!.scrape(),
      (text) => sampleValue(text, 'docker_monitor_up') === 1,
      20_000,
      'docker_monitor_up 1',
    );
    const late = `remote-late-${RUN_ID}`;
    await engine.docker(['run', '-d', '--name', late, '--label', `${TEST_LABEL}=${RUN_ID}`, TEST_IMAGE, 'sleep', '3600']);
    await eventually(
      () => exporter!.scrape(),
      (text) => sampleValue(text, `docker_monitor_root_processes{container="${late}"}`) === 1,
      15_000,
      'the new container over SSH',
    );
    await engine.docker(['rm', '-f', late]);
    await eventually(
      () => exporter!.scrape(),
      (text) => sampleValue(text, `docker_monitor_container_compliant{container="${late}"}`) === undefined,
      15_000,
      'the removed container gone',
    );
  });
});
