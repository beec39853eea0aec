/**
 * The status page and container pages rendered from a state the real chain made from captured
 * containers: order, findings, waived results, filters, and escaping of user-controlled values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NO_FILTER, parseStatusFilter, statusRows, type StatusFilter } from '../../src/exporter/status-filter.js';
import { findContainer, renderContainerPage, renderNotFound, renderStatusPage, type PageContext } from '../../src/exporter/status-page.js';
import type { MonitorState } from '../../src/core/monitor.js';
import { checksByName } from '../../src/policy/severity.js';
import type { ContainerReport } from '../../src/policy/types.js';
import { fixtureCheckRun } from '../helpers/check-run-fixture.js';
import { ALERTS_DOC_URL } from '../../src/exporter/status-links.js';

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

  test('the overview: containers, compliant share, failing by most severe finding, failing host checks', () => {
    assert.match(page, /<b id="compliant">40 %<\/b><span>compliant \(2 of 5\)<\/span>/);
    assert.match(page, /<b id="host-failing">1 of 2<\/b>/);
    const chips = [...page.matchAll(/data-severity="([a-z]+)" href="\?verdict&#61;fail&#38;severity&#61;\1"><b>(\d+)<\/b>/g)];
    // privileged: critical; host-net: high; flaky: its error counts at BrokenCheck's medium.
    assert.deepEqual(
      chips.map((match) => `${match[1]}:${match[2]}`),
      ['critical:1', 'high:1', 'medium:1', 'low:0', 'info:0'],
    );
  });

  test('the checks table: how many containers fail each, the most severe first, each a link to them and to its runbook', () => {
    const rows = [
      ...page.matchAll(
        /<tr data-check="([^"]+)"><td><a class="check" href="\?check&#61;\1">.*?<td class="num">(.*?)<\/td><td class="num wide">(\d+)<\/td>/g,
      ),
    ];
    assert.deepEqual(
      rows.map((match) => `${match[1]}:${(match[2] ?? '').replace(/<[^>]+>/g, '')}:${match[3]}`),
      [
        'PrivilegedContainerCheck:1:0',
        'RunningAsRootCheck:2:1',
        'HostNetworkCheck:1:0',
        'MemoryLimitCheck:2:1',
        'BrokenCheck:1 (1 error):0',
      ],
    );
    assert.ok(
      page.includes('<a href="?check&#61;RunningAsRootCheck&#38;verdict&#61;fail" title="the containers failing RunningAsRootCheck">2</a>'),
    );
    assert.ok(page.includes(`href="${ALERTS_DOC_URL}#dockermonitorprivilegedcontainer"`));
    assert.ok(page.includes(`href="${ALERTS_DOC_URL}#dockermonitorcheckerrors"`), 'a check that only errors links to the errors runbook');
  });

  test('each failing container on one line per check: severity, check, reason; no fix in the list', () => {
    assert.ok(
      page.includes(
        '<li class="finding fail" data-check="PrivilegedContainerCheck"><span class="sev critical">critical</span><a class="check" href="?check&#61;PrivilegedContainerCheck&#38;verdict&#61;fail">PrivilegedContainerCheck</a><span class="reason">runs privileged (--privileged)</span></li>',
      ),
    );
    assert.ok(
      page.includes(
        '<span class="verdict error">error</span><a class="check" href="?check&#61;BrokenCheck&#38;verdict&#61;fail">BrokenCheck</a>',
      ),
    );
    assert.doesNotMatch(page.slice(page.indexOf('<section id="containers">')), /Fix:/);
    assert.ok(page.includes('<p class="note">4 checks pass.</p>'));
  });

  test('passing and waived containers fold under a count; failing ones do not', () => {
    assert.match(page, /<ul class="containers" id="failing-list"><li class="container fail" data-container="privileged"/);
    assert.match(
      page,
      /<details id="waived-list"><summary>1 container passing thanks to waivers<\/summary><ul class="containers"><li class="container waived" data-container="legacy"/,
    );
    assert.match(
      page,
      /<details id="passing-list"><summary>1 passing container<\/summary><ul class="containers"><li class="container pass" data-container="hardened"/,
    );
    assert.match(
      renderStatusPage(context(), filter({ verdict: 'pass' })),
      /<details id="passing-list" open>/,
      'open when asked for by verdict',
    );
  });

  test('waived results show the waiver name, reason and expiry', () => {
    assert.ok(
      page.includes(
        '<span class="reason">waived by legacy-root until 2030-01-01: the vendor image runs as root until its 3.0 release</span>',
      ),
    );
  });

  test('engine reachability and the age of the last refresh; failing host checks, with their fix, above the containers', () => {
    assert.ok(page.includes('<span id="engine">reachable</span>'));
    assert.ok(page.includes('<time datetime="2026-11-27T11:58:25.000Z">95 s ago</time>'));
    assert.ok(
      page.includes(
        `<tr data-check="LiveRestoreCheck"><td><b>LiveRestoreCheck</b>  <span class="cis">CIS 2.15</span></td><td><span class="sev low">low</span></td><td><span class="reason">live restore is off</span></td><td>Set &#34;live-restore&#34;: true in daemon.json. <a class="runbook" href="${ALERTS_DOC_URL}#dockermonitorhostcheckfailed"`,
      ),
    );
    assert.ok(page.includes('<details><summary>1 host check not failing</summary><p class="note">SwarmModeCheck (pass)</p></details>'));
    assert.ok(page.indexOf('<section id="host">') < page.indexOf('<section id="containers">'));
    const down = renderStatusPage(context(run.containers, { up: false, lastRefreshTimestamp: NOW / 1000 - 7_300 }));
    assert.ok(down.includes('<span id="engine" class="down">unreachable: showing the last-known verdicts</span>'));
    assert.ok(down.includes('>2 h ago</time>'));
    assert.ok(
      renderStatusPage({ ...context([], { lastRefreshTimestamp: 0 }), ready: false }).includes(
        '<span id="engine">first refresh in progress</span>',
      ),
    );
  });

  test("a check's view shows its fix once, above the containers failing it", () => {
    const view = renderStatusPage(context(), filter({ check: 'RunningAsRootCheck', verdict: 'fail' }));
    assert.deepEqual(listed(view), ['host-net', 'privileged'], 'both fail it at high: by name');
    assert.equal(view.split('Fix: Run as an unprivileged user').length - 1, 1);
    assert.match(
      view,
      /<section class="panel" id="check-view" data-check="RunningAsRootCheck">[\s\S]*Failing on <b>2<\/b> of 5 containers/,
    );
  });

  test('with --web.grafana-url each container links to its dashboard', () => {
    assert.doesNotMatch(page, /class="grafana"/);
    const linked = renderStatusPage({ ...context(), grafanaUrl: 'https://grafana.example/' });
    assert.ok(
      linked.includes(
        '<a class="grafana" href="https://grafana.example/d/docker-monitor-container?var-container&#61;host-net">Grafana</a>',
      ),
    );
    const container = renderContainerPage({ ...context(), grafanaUrl: 'https://grafana.example' }, run.containers[1] as ContainerReport);
    assert.ok(container.includes('href="https://grafana.example/d/docker-monitor-container?var-container&#61;host-net"'));
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

  test('q finds text in the name, the image or a key=value label, in any case; label keeps those with that label', () => {
    assert.deepEqual(shown({ q: 'HOST' }), ['host-net']);
    assert.deepEqual(shown({ q: 'busybox' }).length, 5, 'every captured container runs the test image');
    assert.deepEqual(shown({ q: 'nothing-like-this' }), []);
    const labelled = run.containers.map((report) =>
      report.name === 'legacy' ? { ...report, labels: { ...report.labels, 'com.example.team': 'payments,eu' } } : report,
    );
    const rows = (query: Record<string, string>): string[] =>
      statusRows(labelled, checksByName(run.checks), filter(query)).map((row) => row.report.name);
    assert.deepEqual(rows({ q: 'team=pay' }), ['legacy']);
    assert.deepEqual(rows({ label: 'com.example.team' }), ['legacy']);
    assert.deepEqual(rows({ label: 'com.example.team=payments,eu' }), ['legacy'], 'a comma is part of the value');
    assert.deepEqual(rows({ label: 'com.example.team=payments' }), []);
  });

  test('limit: the first 50 containers by default, a number, or all; the page links to the rest', () => {
    const many = Array.from({ length: 120 }, (_, index) => ({
      ...(run.containers[0] as ContainerReport),
      id: String(index),
      name: `web-${index}`,
    }));
    const first = renderStatusPage(context(many), filter({ q: 'WEB' }));
    assert.equal(listed(first).length, 50);
    assert.ok(first.includes('Showing 120 of 120 containers.'));
    assert.ok(
      first.includes(
        'Listed: the first 50. Narrow the list with the search or the filters, or <a href="?q&#61;web&#38;limit&#61;all">list all 120</a>.',
      ),
    );
    assert.equal(listed(renderStatusPage(context(many), filter({ limit: 'all' }))).length, 120);
    assert.equal(listed(renderStatusPage(context(many), filter({ limit: '7' }))).length, 7);
    assert.deepEqual(parseStatusFilter({ limit: '0' }, checkNames), {
      error: 'limit: "0" is not a number of containers (1 or more) or all',
    });
  });

  test('sort: worst first by default, or by name, image, or the most failing checks', () => {
    assert.deepEqual(shown({ sort: 'name' }), ['flaky', 'hardened', 'host-net', 'legacy', 'privileged']);
    assert.deepEqual(shown({ sort: 'findings' }), ['privileged', 'host-net', 'flaky', 'hardened', 'legacy']);
    assert.deepEqual(parseStatusFilter({ sort: 'age' }, checkNames), {
      error: 'sort: "age" is not one of severity, name, image, findings',
    });
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
        '>1 process running as root: pid 9 (sh -c &#60;/p&#62;&#60;script&#62;alert(document.cookie)&#60;/script&#62;)</span>',
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
