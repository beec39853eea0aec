/**
 * The status pages served by the exporter on a real (private) engine: what they show, that they cost no
 * engine call (they read the monitor's state, as /metrics does), their status codes, and that TLS and
 * basic auth cover them like every other path. A private engine, so that no other suite's containers
 * send events (and engine calls) while the calls are counted.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { makeCertificates, type Certificates } from '../helpers/certificates.js';
import { requireEngine, type TestContainer } from '../helpers/docker.js';
import { startExporter, type TestExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
import { PrivateEngine } from '../helpers/private-engine.js';

const engine = new PrivateEngine('14page');

before(async () => {
  await requireEngine();
  await engine.start();
  await engine.loadTestImage();
});
after(() => engine.destroy());

const totalCalls = (exporter: TestExporter): number =>
  Object.values(exporter.runtime.engine.callCounts()).reduce((sum, count) => sum + count, 0);

/** Container names in the order the page lists them, with their verdicts. */
function listed(body: string): { name: string; verdict: string }[] {
  return [...body.matchAll(/<li class="container [a-z]+" data-container="([^"]+)" data-verdict="([a-z]+)">/g)].map((match) => ({
    name: match[1] ?? '',
    verdict: match[2] ?? '',
  }));
}

describe('status pages on the real engine (--refresh 1h: state from the refresh and events)', () => {
  let exporter: TestExporter;
  let root: TestContainer;
  let user: TestContainer;

  before(async () => {
    exporter = await startExporter({ 'docker.host': engine.host, refresh: '1h' });
    await eventually(async () => exporter.monitor.ready, Boolean, 15_000, 'first refresh');
    root = await engine.startContainer();
    user = await engine.startContainer(['--user', '1000']);
    await eventually(
      async () => (await exporter.app.inject({ url: '/' })).body,
      (body) =>
        body.includes(`data-container="${root.name}" data-verdict="fail"`) &&
        body.includes(`data-container="${user.name}" data-verdict="pass"`),
      20_000,
      'both containers on the page',
    );
  });
  after(() => exporter.close());

  test('failing containers first, one line per finding with its reason; the passing one folded after; the fix on the check view', async () => {
    const response = await exporter.app.inject({ url: '/' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
    const rows = listed(response.body);
    const names = rows.map((row) => row.name);
    assert.ok(names.indexOf(root.name) < names.indexOf(user.name));
    const firstPassing = rows.findIndex((row) => row.verdict !== 'fail');
    assert.ok(
      rows.slice(firstPassing === -1 ? rows.length : firstPassing).every((row) => row.verdict !== 'fail'),
      'no failing container after a passing one',
    );
    const block = response.body.slice(response.body.indexOf(`data-container="${root.name}"`));
    assert.match(
      block,
      /<li class="finding fail" data-check="RunningAsRootCheck"><span class="sev high">high<\/span><a class="check" href="\?check&#61;RunningAsRootCheck&#38;verdict&#61;fail">RunningAsRootCheck<\/a><span class="reason">no user set: runs as root<\/span><\/li>/,
    );
    assert.match(block, />RootProcessCheck<\/a><span class="reason">1 process running as root: pid \d+ \(sleep 3600\)<\/span>/);
    assert.match(response.body, /<details id="passing-list"><summary>1 passing container<\/summary>/);
    assert.doesNotMatch(response.body, /Fix: Run as an unprivileged user/);
    const view = await exporter.app.inject({ url: '/?check=RunningAsRootCheck&verdict=fail' });
    assert.equal(view.body.split('Fix: Run as an unprivileged user').length - 1, 1);
  });

  test('gzipped when the browser accepts it, the same page inside', async () => {
    const plain = await exporter.app.inject({ url: '/' });
    assert.equal(plain.headers['content-encoding'], undefined);
    const zipped = await exporter.app.inject({ url: '/', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers['vary'], 'Accept-Encoding');
    const body = gunzipSync(zipped.rawPayload).toString('utf8');
    assert.deepEqual(listed(body), listed(plain.body));
    assert.ok(zipped.rawPayload.length * 2 < body.length, `${zipped.rawPayload.length} of ${body.length} bytes`);
  });

  test('query parameters filter without JavaScript; a bad value is a 400 saying what is allowed', async () => {
    const failing = await exporter.app.inject({ url: '/?verdict=fail&severity=high' });
    assert.ok(listed(failing.body).some((row) => row.name === root.name));
    assert.ok(!listed(failing.body).some((row) => row.name === user.name));
    const byCheck = await exporter.app.inject({ url: '/?check=RootProcessCheck&verdict=pass' });
    assert.ok(listed(byCheck.body).some((row) => row.name === user.name));
    const bad = await exporter.app.inject({ url: '/?severity=urgent' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /severity: &#34;urgent&#34; is not one of critical, high, medium, low, info/);
  });

  test('/containers/NAME lists every result; an unknown name is a 404', async () => {
    const page = await exporter.app.inject({ url: `/containers/${root.name}` });
    assert.equal(page.statusCode, 200);
    assert.deepEqual(
      [...page.body.matchAll(/<tr data-check="([^"]+)" class="([^"]+)">/g)].map((match) => `${match[1]}:${match[2]}`),
      ['ActiveBuildCheck:pass', 'RunningAsRootCheck:fail', 'RootProcessCheck:fail'],
    );
    assert.match(page.body, /<dd id="root-processes">1<\/dd>/);
    assert.match(page.body, /<li><code>\d+: sleep 3600<\/code><\/li>/);
    const missing = await exporter.app.inject({ url: '/containers/no-such-container' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /No running container named “no-such-container”/);
  });

  test('the pages make no engine call: they render the state /metrics reads', async () => {
    const before = totalCalls(exporter);
    for (let index = 0; index < 5; index += 1) {
      assert.equal((await exporter.app.inject({ url: '/' })).statusCode, 200);
      assert.equal((await exporter.app.inject({ url: '/?verdict=fail&check=RunningAsRootCheck' })).statusCode, 200);
      assert.equal((await exporter.app.inject({ url: `/containers/${user.name}` })).statusCode, 200);
    }
    assert.equal(totalCalls(exporter), before, JSON.stringify(exporter.runtime.engine.callCounts()));
  });
});

describe('status page with --refresh scrape', () => {
  test('opening the page does not evaluate: only a scrape does', async () => {
    const exporter = await startExporter({ 'docker.host': engine.host, refresh: 'scrape' });
    try {
      await eventually(async () => exporter.monitor.ready, Boolean, 15_000, 'first refresh');
      await exporter.scrape();
      const before = totalCalls(exporter);
      for (let index = 0; index < 5; index += 1) assert.equal((await exporter.app.inject({ url: '/' })).statusCode, 200);
      assert.equal(totalCalls(exporter), before);
      await exporter.scrape();
      assert.ok(totalCalls(exporter) > before, 'a scrape does call the engine (the count can move)');
    } finally {
      await exporter.close();
    }
  });
});

describe('TLS and basic auth cover the status pages', () => {
  let certificates: Certificates;
  let exporter: TestExporter;
  let port: number;
  let ca: Buffer;
  const password = 'status page password';

  function get(path: string, auth?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, ca, agent: false, ...(auth === undefined ? {} : { auth }) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  before(async () => {
    certificates = await makeCertificates();
    ca = await readFile(certificates.ca);
    const file = join(certificates.dir, 'web.yml');
    await writeFile(
      file,
      `tls_server_config:\n  cert_file: ${certificates.serverCert}\n  key_file: ${certificates.serverKey}\nbasic_auth_users:\n  operator: ${await bcrypt.hash(password, 10)}\n`,
    );
    exporter = await startExporter({ 'docker.host': engine.host, 'web.config.file': file, refresh: '1h' });
    await exporter.app.listen({ host: '127.0.0.1', port: 0 });
    port = (exporter.app.server.address() as AddressInfo).port;
    await eventually(async () => exporter.monitor.ready, Boolean, 15_000, 'first refresh');
  });
  after(async () => {
    await exporter.close();
    await rm(certificates.dir, { recursive: true, force: true });
  });

  test('no credentials or a wrong password: 401 for / and /containers/NAME', async () => {
    for (const path of ['/', '/?verdict=fail', '/containers/anything']) {
      assert.equal((await get(path)).status, 401, path);
      assert.equal((await get(path, 'operator:wrong')).status, 401, path);
    }
  });

  test('the right password over TLS gets the page', async () => {
    const answer = await get('/', `operator:${password}`);
    assert.equal(answer.status, 200);
    assert.match(answer.body, /<h1>docker-monitor<\/h1>/);
  });
});
