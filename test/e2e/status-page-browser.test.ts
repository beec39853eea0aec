/**
 * The status page in a real browser: Debian's Chromium (/usr/bin/chromium, headless) driven by
 * playwright-core, which downloads nothing. The exporter serves a private engine's containers on
 * loopback; the tests look at what a person sees and save screenshots under test-output/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireEngine, type TestContainer } from '../helpers/docker.js';
import { eventually, startExporter, type TestExporter } from '../helpers/exporter.js';
import { PrivateEngine } from '../helpers/private-engine.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SCREENSHOTS = join(ROOT, 'test-output/screenshots');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Markup in a process's command line: the page must show it as text and run none of it. */
const MARKUP = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"><b>bold</b>';

const POLICY = join(ROOT, 'test/fixtures/status-page.ini');
const engine = new PrivateEngine('14web');
let exporter: TestExporter;
let browser: Browser;
let base = '';
const containers: Record<string, TestContainer> = {};

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** `UPDATE_DOCS_SCREENSHOT=1` also refreshes the README's picture of the page. */
const DOCS_SCREENSHOT = process.env['UPDATE_DOCS_SCREENSHOT'] === '1' ? join(ROOT, 'docs/images/status-page.png') : undefined;

/** What the tests read of an element in the page (the test's TypeScript has no DOM types). */
interface PageElement {
  getAttribute(name: string): string | null;
  className: string;
}

/** The container names as listed, top to bottom. */
function listed(page: Page): Promise<string[]> {
  return page.locator('li.container').evaluateAll((items: PageElement[]) => items.map((item) => item.getAttribute('data-container') ?? ''));
}

before(async () => {
  await requireEngine();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (test/run-all.sh installs it)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await engine.start();
  await engine.loadTestImage();
  // Fixed names: the engine is this suite's own, and the screenshots read better.
  containers['api'] = await engine.startContainer(['--user', '1000', '--memory', '64m'], ['sleep', '3600'], 'api');
  containers['cache'] = await engine.startContainer(['--memory', '64m'], ['sleep', '3600'], 'cache');
  containers['proxy'] = await engine.startContainer(['--user', '1000', '--network', 'host'], ['sleep', '3600'], 'proxy');
  containers['worker'] = await engine.startContainer(['--user', '1000', '--memory', '64m'], ['sleep', '3600'], 'worker');
  // Root, but covered by the policy's [waiver:vendor-root].
  containers['legacy'] = await engine.startContainer(['--memory', '64m'], ['sleep', '3600'], 'legacy');
  exporter = await startExporter({ 'docker.host': engine.host, configFile: POLICY, refresh: '1h' });
  await exporter.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(exporter.app.server.address() as AddressInfo).port}/`;
  await eventually(
    async () => exporter.monitor.state.containers.size,
    (size) => size === 5,
    20_000,
    'five evaluated containers',
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await exporter?.close();
  await engine.destroy();
});

describe('the status page in Chromium', () => {
  test('the failing containers come first, each with its reasons and fixes', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(base);
    assert.equal(response?.status(), 200);
    assert.deepEqual(await listed(page), ['cache', 'proxy', 'legacy', 'api', 'worker']);
    const first = page.locator('li.container').first();
    assert.equal(await first.getAttribute('data-verdict'), 'fail');
    const cache = page.locator('li.container[data-container="cache"]');
    assert.deepEqual(await cache.locator('.finding b').allInnerTexts(), ['RunningAsRootCheck', 'RootProcessCheck']);
    assert.equal(await cache.locator('.finding[data-check="RunningAsRootCheck"] .reason').innerText(), 'no user set: runs as root');
    assert.match(await cache.locator('.finding[data-check="RunningAsRootCheck"] .fix').innerText(), /^Fix: Run as an unprivileged user/);
    assert.match(
      await page.locator('li.container[data-container="proxy"] .finding[data-check="HostNetworkCheck"]').innerText(),
      /HIGH\s+CIS 5\.10[\s\S]*--network host/i,
    );
    const legacy = page.locator('li.container[data-container="legacy"]');
    assert.equal(await legacy.getAttribute('data-verdict'), 'waived');
    assert.equal(
      await legacy.locator('.finding[data-check="RunningAsRootCheck"] .waiver').innerText(),
      'Waived by vendor-root until 2030-01-01: the vendor image runs as root until its 3.0 release (OPS-42)',
    );
    assert.equal(await page.locator('#engine').innerText(), 'reachable');
    assert.match(await page.locator('#refreshed').innerText(), /^\d+ s ago$/);
    assert.match(await page.locator('#host tr[data-check="LiveRestoreCheck"]').innerText(), /live restore is off/);
    await screenshot(page, 'status-page');
    if (DOCS_SCREENSHOT !== undefined) await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
    assert.deepEqual(dialogs, []);
    await page.close();
  });

  test('a filter narrows the list, through the form, without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    await page.goto(base);
    await page.selectOption('select[name="verdict"]', 'fail');
    await page.selectOption('select[name="severity"]', 'high');
    await page.selectOption('select[name="check"]', 'HostNetworkCheck');
    await Promise.all([page.waitForURL(/\?/), page.click('button[type="submit"]')]);
    assert.equal(new URL(page.url()).search, '?verdict=fail&severity=high&check=HostNetworkCheck');
    assert.deepEqual(await listed(page), ['proxy']);
    assert.equal(await page.locator('#shown').innerText(), 'Showing 1 of 5 containers.');
    await screenshot(page, 'status-page-filtered');
    await page.goto(`${base}?verdict=pass`);
    assert.deepEqual(await listed(page), ['api', 'worker']);
    await page.goto(`${base}?verdict=waived`);
    assert.deepEqual(await listed(page), ['legacy']);
    await context.close();
  });

  test('the per-container page lists every result, reached from the list', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(base);
    await Promise.all([page.waitForURL(/\/containers\/cache$/), page.click('li.container[data-container="cache"] h3 a')]);
    assert.equal(await page.locator('h1').innerText(), 'cache FAILING');
    const rows = await page
      .locator('#results tbody tr')
      .evaluateAll((items: PageElement[]) => items.map((item) => `${item.getAttribute('data-check') ?? ''}:${item.className}`));
    assert.deepEqual(rows, ['RunningAsRootCheck:fail', 'RootProcessCheck:fail', 'HostNetworkCheck:pass', 'MemoryLimitCheck:pass']);
    assert.equal(await page.locator('#root-processes').innerText(), '1');
    await screenshot(page, 'container-page');
    await page.click('text=← All containers');
    assert.equal(page.url(), base);
    await page.close();
  });

  test('a command line holding HTML and script is shown as text and runs nothing', async () => {
    // Started now, so the screenshots above show an ordinary fleet; its start event brings it in.
    containers['agent'] = await engine.startContainer(['--memory', '64m'], ['sh', '-c', 'sleep 3600; true', MARKUP], 'agent');
    await eventually(
      async () => exporter.monitor.state.containers.size,
      (size) => size === 6,
      20_000,
      'the agent container evaluated',
    );
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    for (const path of ['', 'containers/agent']) {
      await page.goto(base + path);
      assert.equal(await page.evaluate('window.pwned'), undefined, path);
      assert.equal(await page.locator('script, img, main b:text-is("bold")').count(), 0, path);
    }
    assert.ok((await page.locator('#root-process-list').innerText()).includes(`sh -c sleep 3600; true ${MARKUP}`));
    assert.ok((await page.locator('#results tr[data-check="RootProcessCheck"] .reason').innerText()).includes(MARKUP));
    assert.deepEqual(dialogs, []);
    await screenshot(page, 'container-page-markup');
    await page.close();
  });

  test('on a phone: nothing wider than the screen, the filters and findings readable', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    for (const path of ['', 'containers/agent']) {
      await page.goto(base + path);
      // A string: the test's TypeScript has no DOM types; this runs in the page.
      const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
        '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
      );
      assert.ok(scrollWidth <= innerWidth, `${path || '/'}: ${scrollWidth}px wide on a ${innerWidth}px screen`);
    }
    await page.goto(base);
    const select = await page.locator('select[name="verdict"]').boundingBox();
    assert.ok(select !== null && select.height >= 40, 'the filter controls are big enough to tap');
    await screenshot(page, 'status-page-phone');
    await page.close();
  });
});
