/**
 * The status page and container pages rendered from a state the real chain made from captured
 * containers: order, findings, waived results, filters, and escaping of user-controlled values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NO_FILTER, parseStatusFilter, statusRows, type StatusFilter } from '../../src/exporter/status-filter.js';
import { findContainer, renderContainerPage, renderNotFound, renderStatusPage, type PageContext } from '../../src/exporter/status-page.js';
import type { MonitorState } from '../../src/monitor.js';
import { checksByName } from '../../src/policy/severity.js';
import type { ContainerReport } from '../../src/policy/types.js';
import { fixtureCheckRun } from '../helpers/check-run-fixture.js';

const run = await fixtureCheckRun();
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function context(containers: readonly ContainerReport[] = run.containers, changes: Partial<MonitorState> = {}): PageContext {
  return {
    state: {
      containers: new Map(containers.map((report) => [`${report.id}-${report.name}`, report])),
      host: run.host,
      up: true,
      lastRefreshTimestamp: NOW / 1000 - 95,
      refreshDuration: 0.2,
      ...changes,
    },
    checks: run.checks,
    telemetryPath: '/metrics',
    ready: true,
    now: NOW,
  };
}

const checkNames = run.checks.filter((check) => check.scope !== 'host').map((check) => check.name);

function filter(query: Record<string, string | string[]>): StatusFilter {
  const parsed = parseStatusFilter(query, checkNames);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
}

const shown = (query: Record<string, string | string[]>): string[] =>
  statusRows(run.containers, checksByName(run.checks), filter(query)).map((row) => row.report.name);

/** The container names in the order the page lists them. */
function listed(page: string): string[] {
  return [...page.matchAll(/<li class="container [a-z]+" data-container="([^"]+)"/g)].map((match) => match[1] ?? '');
}

describe('status page', () => {
  const page = renderStatusPage(context());

  test('every container, failing first (the most severe failure first), then waived, then passing', () => {
    assert.deepEqual(listed(page), ['privileged', 'host-net', 'flaky', 'legacy', 'hardened']);
    assert.match(page, /<b id="watched">5<\/b>/);
    assert.match(page, /<b id="failing">3<\/b>/);
    assert.match(page, /<b id="waived">1<\/b>/);
    assert.match(page, /<title>3 failing · docker-monitor<\/title>/);
  });

  test('each finding with its check, severity, CIS id, reason and remediation', () => {
    assert.ok(
      page.includes(
        '<div class="meta"><span class="verdict fail">fail</span><b>PrivilegedContainerCheck</b><span class="sev critical">critical</span><span class="cis">CIS 5.5</span></div>\n<p class="reason">runs privileged (--privileged)</p>\n<p class="fix">Fix: Remove --privileged; add only the capabilities or devices the application needs.</p>',
      ),
    );
    assert.ok(page.includes('<span class="verdict error">error</span><b>BrokenCheck</b>'));
    assert.ok(page.includes('<p class="note">4 checks pass.</p>'));
  });

  test('waived results show the waiver name, reason and expiry', () => {
    assert.ok(
      page.includes(
        '<p class="waiver">Waived by <b>legacy-root</b> until 2030-01-01: the vendor image runs as root until its 3.0 release</p>',
      ),
    );
  });

  test('engine reachability and the age of the last refresh; host checks with their fix', () => {
    assert.ok(page.includes('<span id="engine">reachable</span>'));
    assert.ok(page.includes('<time datetime="2026-11-27T11:58:25.000Z">95 s ago</time>'));
    assert.match(
      page,
      /<tr data-check="LiveRestoreCheck"><td><b>LiveRestoreCheck<\/b> <span class="cis">CIS 2\.15<\/span><\/td><td><span class="verdict fail">fail<\/span><\/td><td>low<\/td><td>live restore is off<\/td><td>Set &#34;live-restore&#34;: true in daemon.json.<\/td><\/tr>/,
    );
    const down = renderStatusPage(context(run.containers, { up: false, lastRefreshTimestamp: NOW / 1000 - 7_300 }));
    assert.ok(down.includes('<span id="engine" class="down">unreachable: showing the last-known verdicts</span>'));
    assert.ok(down.includes('>2 h ago</time>'));
    assert.ok(
      renderStatusPage({ ...context([], { lastRefreshTimestamp: 0 }), ready: false }).includes(
        '<span id="engine">first refresh in progress</span>',
      ),
    );
  });
});

describe('filters', () => {
  test('verdict keeps containers of that verdict; repeated or comma-separated values add up', () => {
    assert.deepEqual(shown({ verdict: 'fail' }), ['privileged', 'host-net', 'flaky']);
    assert.deepEqual(shown({ verdict: 'waived' }), ['legacy']);
    assert.deepEqual(shown({ verdict: ['pass', 'waived'] }), ['legacy', 'hardened']);
    assert.deepEqual(shown({ verdict: 'pass,waived' }), ['legacy', 'hardened']);
  });

  test('severity and check narrow each container to those results', () => {
    assert.deepEqual(shown({ verdict: 'fail', severity: 'critical' }), ['privileged']);
    assert.deepEqual(shown({ verdict: 'fail', severity: 'high' }), ['privileged', 'host-net']);
    assert.deepEqual(shown({ check: 'HostNetworkCheck', verdict: 'fail' }), ['host-net']);
    assert.deepEqual(shown({ check: 'BrokenCheck' }), ['flaky'], 'only containers the check ran on');
    const rows = statusRows(run.containers, checksByName(run.checks), filter({ severity: 'critical' }));
    assert.deepEqual(
      rows[0]?.findings.map((result) => result.check),
      ['PrivilegedContainerCheck'],
    );
  });

  test('the form shows the filter in force, and the page says how many it shows', () => {
    const page = renderStatusPage(context(), filter({ verdict: 'fail', severity: 'high' }));
    assert.deepEqual(listed(page), ['privileged', 'host-net']);
    assert.ok(page.includes('<option value="fail" selected>failing</option>'));
    assert.ok(page.includes('<option value="high" selected>high</option>'));
    assert.ok(page.includes('<p class="note" id="shown">Showing 2 of 5 containers.</p>'));
    assert.doesNotMatch(page, /<script/i);
  });

  test('values the page does not know are refused with a line saying what is allowed', () => {
    assert.deepEqual(parseStatusFilter({ verdict: 'failing' }, checkNames), {
      error: 'verdict: "failing" is not one of fail, waived, pass, allowed',
    });
    assert.deepEqual(parseStatusFilter({ severity: 'urgent' }, checkNames), {
      error: 'severity: "urgent" is not one of critical, high, medium, low, info',
    });
    assert.deepEqual(parseStatusFilter({ check: 'NoSuchCheck' }, checkNames), {
      error: 'check: "NoSuchCheck" is not a check of this policy',
    });
    assert.deepEqual(parseStatusFilter({ verdict: '', severity: '' }, checkNames), NO_FILTER, 'the form\'s "any" sends empty values');
    const page = renderStatusPage(context(), NO_FILTER, 'severity: "urgent" is not one of critical, high, medium, low, info');
    assert.ok(
      page.includes('<p class="down" id="filter-error">severity: &#34;urgent&#34; is not one of critical, high, medium, low, info</p>'),
    );
    assert.deepEqual(listed(page), []);
  });
});

describe('container page', () => {
  test('every check of the chain: its result, reason, fix or waiver, and what did not run', () => {
    const legacy = findContainer(context().state, 'legacy');
    assert.ok(legacy);
    const page = renderContainerPage(context(), legacy);
    assert.match(page, /<h1>legacy <span class="verdict waived" id="verdict">waived<\/span><\/h1>/);
    assert.deepEqual(
      [...page.matchAll(/<tr data-check="([^"]+)" class="([^"]+)">/g)].map((match) => `${match[1]}:${match[2]}`),
      [
        'RunningAsRootCheck:waived',
        'PrivilegedContainerCheck:pass',
        'MemoryLimitCheck:waived',
        'HostNetworkCheck:pass',
        'BrokenCheck:not-run',
      ],
    );
    assert.ok(page.includes('Waived by <b>legacy-root</b> until 2030-01-01'));
    assert.ok(page.includes('not run: fail_fast stopped the chain at the first failure'));
    const excluded = renderContainerPage(context(), { ...legacy, excluded: ['BrokenCheck'] });
    assert.ok(excluded.includes('<span class="verdict">excluded</span>'));
    assert.ok(excluded.includes('excluded: an exclude_* key of the policy keeps this check off this container'));
    assert.ok(page.includes(`<dt>Container ID</dt><dd>${legacy.id}</dd>`));
    const privileged = renderContainerPage(context(), run.containers[0] as ContainerReport);
    assert.ok(
      privileged.includes('<p class="fix">Fix: Remove --privileged; add only the capabilities or devices the application needs.</p>'),
    );
  });

  test('an unknown name gets a not-found page that escapes it', () => {
    assert.equal(findContainer(context().state, 'nope'), undefined);
    assert.ok(renderNotFound(context(), '<b>nope</b>').includes('No running container named “&#60;b&#62;nope&#60;/b&#62;”'));
  });
});

describe('user-controlled values are escaped', () => {
  const hostile: ContainerReport = {
    ...(run.containers[0] as ContainerReport),
    name: 'evil',
    image: 'evil/"><img src=x onerror=alert(1)>:1',
    labels: { '<script>alert("key")</script>': '"><script>alert("value")</script>' },
    results: [
      { check: 'RunningAsRootCheck', result: 'fail', reason: 'no user set: runs as root' },
      {
        check: 'RootProcessCheck',
        result: 'fail',
        reason: '1 process running as root: pid 9 (sh -c </p><script>alert(document.cookie)</script>)',
        data: { rootProcesses: [{ pid: 9, command: "sh -c </code><script>alert('cmd')</script>" }] },
      },
    ],
  };
  const pages = [renderStatusPage(context([hostile])), renderContainerPage(context([hostile]), hostile)];

  test('no markup from a container reaches the page', () => {
    for (const page of pages) {
      assert.doesNotMatch(page, /<script/i);
      assert.doesNotMatch(page, /<img/i);
    }
    assert.ok(
      pages[0]?.includes(
        '<p class="reason">1 process running as root: pid 9 (sh -c &#60;/p&#62;&#60;script&#62;alert(document.cookie)&#60;/script&#62;)</p>',
      ),
    );
    assert.ok(pages[1]?.includes('<li><code>9: sh -c &#60;/code&#62;&#60;script&#62;alert(&#39;cmd&#39;)&#60;/script&#62;</code></li>'));
    assert.ok(pages[1]?.includes('<dd>evil/&#34;&#62;&#60;img src&#61;x onerror&#61;alert(1)&#62;:1</dd>'));
  });
});

test('control characters in a container name, image and labels are shown escaped on both pages (HTML escaping does not cover them)', () => {
  const [first] = run.containers;
  assert.ok(first !== undefined);
  const report: ContainerReport = {
    ...first,
    name: 'evil\u001b[31mred',
    image: 'img\u0007bell',
    labels: { 'k\u001bey': 'v\u0000al' },
  };
  for (const page of [renderStatusPage(context([report]), NO_FILTER), renderContainerPage(context([report]), report)]) {
    // eslint-disable-next-line no-control-regex -- raw control characters are what must not be on the page
    assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(page), 'a raw control character reached the page');
    assert.ok(page.includes('evil\\u001b[31mred'));
  }
});
