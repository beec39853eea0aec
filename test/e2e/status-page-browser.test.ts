/**
 * The status page in a real browser: Debian's Chromium (/usr/bin/chromium, headless) driven by
 * playwright-core, which downloads nothing. The exporter serves a private engine's containers on
 * loopback (a small fleet), and the real app serves a synthetic 1 000-container state made by the real
 * chain under examples/cis.ini from captured containers (a large fleet). The tests look at what a person
 * sees and save screenshots under test-output/screenshots/ (and docs/images/ with UPDATE_DOCS_SCREENSHOT=1).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildApp } from '../../src/exporter/app.js';
import { createMetrics } from '../../src/exporter/metrics.js';
import { createEventCounters } from '../../src/event-counters.js';
import { cisFleet, fleetMonitor } from '../helpers/cis-fleet.js';
import { TEST_LABEL, requireEngine, type TestContainer } from '../helpers/docker.js';
import { startExporter, type TestExporter } from '../helpers/exporter.js';
import { eventually } from '../helpers/wait.js';
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

/** `UPDATE_DOCS_SCREENSHOT=1` also refreshes the pictures in docs/images/ that docs/status-page.md and the README show. */
const DOCS_IMAGES = process.env['UPDATE_DOCS_SCREENSHOT'] === '1' ? join(ROOT, 'docs/images') : undefined;

/** The whole page, or its top `screens` viewport heights (a 1 000-container page is far taller than a picture can be). */
async function screenshot(page: Page, name: string, options: { docs?: boolean; screens?: number } = {}): Promise<void> {
  const viewport = page.viewportSize();
  const paths = [
    join(SCREENSHOTS, `${name}.png`),
    ...(options.docs === true && DOCS_IMAGES !== undefined ? [join(DOCS_IMAGES, `${name}.png`)] : []),
  ];
  if (options.screens !== undefined && viewport !== null) {
    // A taller window, not a clip of a full-page capture: that would lay out and paint the whole page.
    await page.setViewportSize({ width: viewport.width, height: viewport.height * options.screens });
    for (const path of paths) await page.screenshot({ path });
    await page.setViewportSize(viewport);
    return;
  }
  for (const path of paths) await page.screenshot({ path, fullPage: true });
}

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/**
 * Words that wrap across lines inside the page's badges, headers, severities, tiles and check names
 * (`PAS|S`, `Sever|ity`): each word of their text is measured with a Range, and a word whose boxes sit
 * on more than one line is broken. Folded content has no boxes and is skipped. Runs in the page.
 */
const BROKEN_WORDS = `(() => {
  const broken = [];
  for (const element of document.querySelectorAll('.verdict, .sev, th, .chip, h1, h2, h3, summary, .tiles li, .check, .cis, .runbook, .grafana, label, button')) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      // Image references are single tokens longer than a phone is wide: they must break.
      if (node.parentElement.closest('.image') !== null) continue;
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
        if (lines.size > 1) broken.push(match[0] + ' in ' + element.tagName.toLowerCase() + '.' + element.className);
      }
    }
  }
  return broken;
})()`;

async function brokenWords(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(BROKEN_WORDS);
}

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
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (test/run-all.sh installs it)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
});

describe('the status page in Chromium, a small fleet on a private engine', () => {
  before(async () => {
    await requireEngine();
    await engine.start();
    await engine.loadTestImage();
    // Fixed names: the engine is this suite's own, and the screenshots read better.
    containers['api'] = await engine.startContainer(['--user', '1000', '--memory', '64m'], ['sleep', '3600'], 'api');
    containers['cache'] = await engine.startContainer(['--memory', '64m'], ['sleep', '3600'], 'cache');
    containers['proxy'] = await engine.startContainer(['--user', '1000', '--network', 'host'], ['sleep', '3600'], 'proxy');
    containers['worker'] = await engine.startContainer(['--user', '1000', '--memory', '64m'], ['sleep', '3600'], 'worker');
    // Root, but covered by the policy's [waiver:vendor-root].
    containers['legacy'] = await engine.startContainer(['--memory', '64m'], ['sleep', '3600'], 'legacy');
    exporter = await startExporter({
      'docker.host': engine.host,
      configFile: POLICY,
      refresh: '1h',
      'web.grafanaUrl': 'http://grafana.invalid:3000',
    });
    await exporter.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(exporter.app.server.address() as AddressInfo).port}/`;
    await eventually(
      async () => exporter.monitor.state.containers.size,
      (size) => size === 5,
      20_000,
      'five evaluated containers',
    );
  });

  after(async () => {
    await exporter?.close();
    await engine.destroy();
  });

  test('the overview first, the failing host check above the containers, the failing containers with one line per check', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(base);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('#watched').innerText(), '5');
    assert.equal(await page.locator('#compliant').innerText(), '60 %');
    assert.equal(await page.locator('#failing').innerText(), '2');
    const checks = await page
      .locator('#checks tbody tr')
      .evaluateAll((rows: PageElement[]) => rows.map((row) => row.getAttribute('data-check') ?? ''));
    // The most severe first, then by failing containers, then by waived ones (legacy's waiver covers both root checks), then by name.
    assert.deepEqual(checks, ['RootProcessCheck', 'RunningAsRootCheck', 'HostNetworkCheck', 'MemoryLimitCheck']);
    assert.deepEqual(await listed(page), ['cache', 'proxy', 'legacy', 'api', 'worker']);
    const tops = await Promise.all(
      ['#overview', '#host', '#containers'].map(async (selector) => (await page.locator(selector).boundingBox())?.y ?? -1),
    );
    assert.deepEqual(
      [...tops].sort((a, b) => a - b),
      tops,
      `overview, host checks, then containers: ${tops.join(', ')}`,
    );
    assert.match(await page.locator('#host tr[data-check="LiveRestoreCheck"]').innerText(), /live restore is off/);
    const cache = page.locator('li.container[data-container="cache"]');
    assert.deepEqual(await cache.locator('.finding .check').allInnerTexts(), ['RunningAsRootCheck', 'RootProcessCheck']);
    assert.equal(await cache.locator('.finding[data-check="RunningAsRootCheck"] .reason').innerText(), 'no user set: runs as root');
    const [check, reason] = await Promise.all(
      ['.check', '.reason'].map((part) => cache.locator(`.finding[data-check="RootProcessCheck"] ${part}`).boundingBox()),
    );
    assert.ok(check && reason && Math.abs(check.y - reason.y) < 10 && reason.height < 30, 'the check and its reason on one line');
    assert.equal(await page.locator('#containers').getByText('Fix:').count(), 0, 'no fix text in the list');
    assert.equal(
      await cache.locator('a.grafana').getAttribute('href'),
      'http://grafana.invalid:3000/d/docker-monitor-container?var-container=cache',
    );
    // Passing and waived containers are folded: in the page, not shown until opened.
    assert.equal(await page.locator('li.container[data-container="api"]').isVisible(), false);
    await page.locator('#passing-list summary').click();
    assert.equal(await page.locator('li.container[data-container="api"]').isVisible(), true);
    await page.locator('#waived-list summary').click();
    assert.equal(
      await page.locator('li.container[data-container="legacy"] .finding[data-check="RunningAsRootCheck"] .reason').innerText(),
      'waived by vendor-root until 2030-01-01: the vendor image runs as root until its 3.0 release (OPS-42)',
    );
    assert.equal(await page.locator('#engine').innerText(), 'reachable');
    assert.match(await page.locator('#refreshed').innerText(), /^\d+ s ago$/);
    await page.reload();
    await screenshot(page, 'status-page', { docs: true });
    assert.deepEqual(dialogs, []);
    await page.close();
    const phone = await browser.newPage({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await phone.goto(base);
    await screenshot(phone, 'status-page-phone', { docs: true });
    await phone.close();
  });

  test("a check's row leads to the containers failing it, with its fix once and its runbook", async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    await page.goto(base);
    await Promise.all([
      page.waitForURL(/\?check=RunningAsRootCheck&verdict=fail$/),
      page.click('#checks tr[data-check="RunningAsRootCheck"] td.num a'),
    ]);
    assert.deepEqual(await listed(page), ['cache']);
    assert.equal(await page.getByText('Fix: Run as an unprivileged user').count(), 1);
    assert.equal(
      await page.locator('#check-view a.runbook').getAttribute('href'),
      'https://github.com/docker-monitor/docker-monitor/blob/main/docs/alerts.md#dockermonitorcontainernoncompliant',
    );
    await page.goto(base);
    assert.equal(
      await page.locator('#checks tr[data-check="RootProcessCheck"] a.runbook').getAttribute('href'),
      'https://github.com/docker-monitor/docker-monitor/blob/main/docs/alerts.md#dockermonitorrootprocess',
    );
    await page.close();
  });

  test('a filter, a search and a sort narrow and order the list, through the form, without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(base);
    await page.selectOption('select[name="verdict"]', 'fail');
    await page.selectOption('select[name="severity"]', 'high');
    await page.selectOption('select[name="check"]', 'HostNetworkCheck');
    await Promise.all([page.waitForURL(/\?/), page.click('button[type="submit"]')]);
    assert.equal(new URL(page.url()).search, '?q=&label=&verdict=fail&severity=high&check=HostNetworkCheck&sort=severity');
    assert.deepEqual(await listed(page), ['proxy']);
    assert.equal(await page.locator('#shown').innerText(), 'Showing 1 of 5 containers.');
    await screenshot(page, 'status-page-filtered');
    await page.goto(base);
    await page.fill('input[name="q"]', 'WORK');
    await Promise.all([page.waitForURL(/q=WORK/), page.click('button[type="submit"]')]);
    assert.deepEqual(await listed(page), ['worker']);
    assert.equal(await page.locator('li.container[data-container="worker"]').isVisible(), true, 'a search opens what it found');
    await page.goto(base);
    await page.fill('input[name="label"]', TEST_LABEL);
    await page.selectOption('select[name="sort"]', 'name');
    await Promise.all([page.waitForURL(/sort=name/), page.click('button[type="submit"]')]);
    assert.deepEqual(await listed(page), ['cache', 'proxy', 'legacy', 'api', 'worker'], 'failing by name, then the folded ones by name');
    await page.goto(`${base}?label=no.such.label`);
    assert.deepEqual(await listed(page), []);
    await page.goto(`${base}?verdict=pass`);
    assert.deepEqual(await listed(page), ['api', 'worker']);
    await page.goto(`${base}?verdict=waived`);
    assert.deepEqual(await listed(page), ['legacy']);
    await context.close();
  });

  test('the per-container page lists every result, with runbook and Grafana links, reached from the list', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    await page.goto(base);
    await Promise.all([
      page.waitForURL(/\/containers\/cache$/),
      page.click('li.container[data-container="cache"] h3 a[href^="containers/"]'),
    ]);
    assert.equal(await page.locator('h1').innerText(), 'cache FAILING');
    const rows = await page
      .locator('#results tbody tr')
      .evaluateAll((items: PageElement[]) => items.map((item) => `${item.getAttribute('data-check') ?? ''}:${item.className}`));
    assert.deepEqual(rows, ['RunningAsRootCheck:fail', 'RootProcessCheck:fail', 'HostNetworkCheck:pass', 'MemoryLimitCheck:pass']);
    assert.equal(await page.locator('#root-processes').innerText(), '1');
    assert.equal(await page.locator('#results a.runbook').count(), 2);
    assert.equal(
      await page.locator('header a.grafana').getAttribute('href'),
      'http://grafana.invalid:3000/d/docker-monitor-container?var-container=cache',
    );
    await screenshot(page, 'container-page');
    await page.click('text=← All containers');
    assert.equal(page.url(), base);
    await page.close();
  });

  test('no badge, header, severity or check name breaks inside a word, at 1280 px and at 390 px', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await browser.newPage({ viewport });
      for (const path of ['', 'containers/cache', 'containers/proxy', '?check=RunningAsRootCheck']) {
        await page.goto(base + path);
        await page.locator('details').evaluateAll((items: { open: boolean }[]) => items.forEach((item) => (item.open = true)));
        assert.deepEqual(await brokenWords(page), [], `${path || '/'} at ${viewport.width} px`);
      }
      await page.close();
    }
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
    const listed = await page.locator('#root-process-list').innerText();
    assert.ok(listed.includes(`sh -c sleep 3600; true ${MARKUP}`), listed);
    const reason = await page.locator('#results tr[data-check="RootProcessCheck"] .reason').innerText();
    assert.ok(reason.includes(MARKUP), reason);
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
    await screenshot(page, 'status-page-phone-agent');
    await page.close();
  });
});

describe('the status page in Chromium, 1 000 containers under examples/cis.ini', () => {
  let fleetBase = '';
  /** The name of a privileged container: the most findings, the longest check names. */
  let privileged = '';
  let close: () => Promise<void> = async () => undefined;

  before(async () => {
    const { state, checks } = await cisFleet(1000);
    privileged = [...state.containers.values()].find((report) => report.name.startsWith('privileged-'))?.name ?? '';
    const monitor = fleetMonitor(state);
    const metrics = createMetrics({ monitor, checks, counters: createEventCounters(), refresh: 3_600_000 });
    const app = await buildApp({ monitor, metrics, telemetryPath: '/metrics', checks, grafanaUrl: 'http://grafana.invalid:3000' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    close = () => app.close();
    fleetBase = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
  });

  after(async () => {
    await close();
  });

  test('the first container starts within 3 screens at 1280 × 800', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    await page.goto(fleetBase);
    assert.equal(await page.locator('#watched').innerText(), '1000');
    const first = await page.locator('li.container').first().boundingBox();
    assert.ok(first !== null && first.y < 3 * DESKTOP.height, `the first container at ${first?.y} px`);
    // Above it: the overview with every failing check, and the failing host checks.
    assert.equal(await page.locator('#checks tbody tr').count(), 40);
    const host = await page.locator('#host').boundingBox();
    assert.ok(host !== null && host.y + host.height <= first.y, 'the host checks above the containers');
    await screenshot(page, 'status-page-1000', { docs: true, screens: 3 });
    await page.close();
    const phone = await browser.newPage({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await phone.goto(fleetBase);
    await screenshot(phone, 'status-page-1000-phone', { docs: true, screens: 3 });
    await phone.close();
  });

  test('no word breaks at 1280 px and 390 px, on the overview, a check view and a container page', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await browser.newPage({ viewport });
      for (const path of ['', '?check=SeccompUnconfinedCheck&verdict=fail', `containers/${privileged}`]) {
        assert.equal((await page.goto(fleetBase + path))?.status(), 200, path);
        await page.locator('details').evaluateAll((items: { open: boolean }[]) => items.forEach((item) => (item.open = true)));
        assert.deepEqual(await brokenWords(page), [], `${path || '/'} at ${viewport.width} px`);
      }
      await page.close();
    }
  });
});
