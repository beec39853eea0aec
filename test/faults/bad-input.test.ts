/**
 * Malformed input, table-driven: flags, environment, policy files and web config files. Each must end
 * the command with exit 2 and one line on standard error that names the place (flag, variable, or
 * file, line, section and key), without a stack trace, without echoing a secret, and without hanging.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { makeCertificates, type Certificates } from '../helpers/certificates.js';
import { FaultRecord } from './fault-record.js';
import { CLI } from './served.js';

const run = promisify(execFile);
const SECRET = 'S3CRET-never-shown';
/** A command that does not fail validation would start serving: it gets this long before it counts as a hang. */
const HANG_MS = 8_000;

interface BadInput {
  kind: 'flag' | 'environment' | 'policy file' | 'web config';
  name: string;
  /** Arguments after the CLI; `{dir}` is the case's folder. Default: `check -f {dir}/p.ini` for a policy. */
  args?: string[];
  env?: Record<string, string>;
  /** Policy text (p.ini) or web config text (web.yml); `{dir}`, `{cert}`, `{key}`, `{ca}` are replaced. */
  policy?: string | Buffer;
  web?: string;
  /** Extra preparation in the case's folder (a FIFO, a directory). */
  prepare?: (dir: string) => Promise<void>;
  /** The message (after "docker-monitor: ") must match. */
  expect: RegExp;
}

const check = (...args: string[]): string[] => ['check', ...args];
const serve = (...args: string[]): string[] => ['serve', '--web.listen-address', '127.0.0.1:0', ...args];
const webConfig = (): string[] => serve('--web.config.file', '{dir}/web.yml');

const CASES: BadInput[] = [
  // Flags.
  ...(
    [
      ['--refresh', '30d', /^--refresh: "30d" is too long \(at most 24d\)$/],
      ['--refresh', '0s', /^--refresh: "0s" must be longer than 0$/],
      ['--refresh', '0ms', /^--refresh: "0ms" must be longer than 0$/],
      ['--refresh', '50ms', /^--refresh: "50ms" is too short a refresh interval/],
      ['--refresh', 'soon', /^--refresh: "soon" is not a duration/],
      ['--refresh', '-1s', /^--refresh: "-1s" is not a duration/],
      ['--refresh', '1h30', /^--refresh: "1h30" is not a duration/],
      ['--refresh', '1000000w', /^--refresh: "1000000w" is too long/],
      ['--check', '30d', /^--check: "30d" is too long/],
      ['--check', 'scrap', /^--check: "scrap" is not a duration/],
      ['--docker.timeout', '30d', /^--docker\.timeout: "30d" is too long/],
      ['--docker.timeout', '25d', /^--docker\.timeout: "25d" is too long/],
      ['--docker.timeout', '0s', /^--docker\.timeout: "0s" must be longer than 0$/],
      ['--docker.timeout', '0ms', /^--docker\.timeout: "0ms" must be longer than 0$/],
      ['--docker.timeout', '10', /^--docker\.timeout: "10" is not a duration/],
      ['--docker.timeout', '', /^--docker\.timeout: "" is not a duration/],
      ['--docker.concurrency', '0', /^--docker\.concurrency: "0" is not a whole number of at least 1$/],
      ['--docker.concurrency', '100000000000', /^--docker\.concurrency: "100000000000" is more than 1024$/],
      ['--docker.concurrency', '-3', /^--docker\.concurrency: "-3" is not a whole number/],
      ['--docker.concurrency', 'many', /^--docker\.concurrency: "many" is not a whole number/],
      ['--docker.concurrency', '1.5', /^--docker\.concurrency: "1\.5" is not a whole number/],
      ['--docker.host', 'tcp://', /^--docker\.host: "tcp:\/\/" is not an engine address/],
      ['--docker.host', 'tcp://[::1', /^--docker\.host: "tcp:\/\/\[::1" is not an engine address/],
      ['--docker.host', 'ftp://engine:21', /^--docker\.host: "ftp:\/\/engine:21" has the unsupported scheme ftp:\/\//],
      ['--docker.host', 'unix://', /^--docker\.host: "unix:\/\/" names no socket/],
      ['--docker.host', 'http://exa mple:2375', /^--docker\.host: "http:\/\/exa mple:2375" is not an engine address/],
      ['--docker.host', ':::', /^--docker\.host: ":::" is not an engine address/],
      ['--log.level', 'loud', /^--log\.level: "loud" is not a log level/],
      ['--log.level', '', /^--log\.level: "" is not a log level/],
      ['--log.format', 'xml', /^--log\.format: "xml" is not one of text, logfmt, json$/],
      ['--web.telemetry-path', '/-/healthy', /^--web\.telemetry-path: "\/-\/healthy" collides with the probes/],
      ['--web.telemetry-path', '/-/ready', /^--web\.telemetry-path: "\/-\/ready" collides with the probes/],
      ['--web.telemetry-path', '/-/', /^--web\.telemetry-path: "\/-\/" collides with the probes/],
      ['--web.telemetry-path', 'metrics', /^--web\.telemetry-path: "metrics" must start with \/$/],
      ['--web.telemetry-path', '/', /^--web\.telemetry-path: "\/" would hide the status page/],
      ['--web.telemetry-path', '/metrics?x=1', /^--web\.telemetry-path: "\/metrics\?x=1" is not a plain URL path$/],
      ['--web.telemetry-path', '/a b', /^--web\.telemetry-path: "\/a b" is not a plain URL path$/],
      ['--web.listen-address', 'nonsense', /^--web\.listen-address: "nonsense" is not host:port/],
      ['--web.listen-address', ':99999', /^--web\.listen-address: ":99999" is not host:port/],
    ] as const
  ).map(([flag, value, expect]): BadInput => ({
    kind: 'flag',
    name: `${flag} ${JSON.stringify(value)}`,
    args: serve(flag, value),
    expect,
  })),
  {
    kind: 'flag',
    name: '--refresh and --check together',
    args: serve('--refresh', '30s', '--check', '30s'),
    expect: /^--refresh and --check mean the same thing/,
  },
  { kind: 'flag', name: 'an unknown flag', args: serve('--no-such-flag'), expect: /^unknown option '--no-such-flag'/ },
  {
    kind: 'flag',
    name: 'check --format xml',
    args: check('--format', 'xml'),
    expect: /^option '--format <format>' argument 'xml' is invalid/,
  },
  {
    kind: 'flag',
    name: '--config-file that does not exist',
    args: check('-f', '{dir}/none.ini'),
    expect: /none\.ini: cannot read the policy file: no such file$/,
  },
  {
    kind: 'flag',
    name: '--config-file that is a directory',
    args: check('-f', '{dir}'),
    expect: /: cannot read the policy file: is a directory$/,
  },
  {
    kind: 'flag',
    name: '--config-file that is a FIFO (must not hang)',
    args: check('-f', '{dir}/fifo'),
    prepare: fifo,
    expect: /fifo: cannot read the policy file: not a regular file$/,
  },
  {
    kind: 'flag',
    name: '--config-file /dev/zero (endless)',
    args: check('-f', '/dev/zero'),
    expect: /^\/dev\/zero: cannot read the policy file: not a regular file$/,
  },
  {
    kind: 'flag',
    name: '--web.config.file that does not exist',
    args: serve('--web.config.file', '{dir}/none.yml'),
    expect: /none\.yml: cannot read the web config file: no such file$/,
  },
  {
    kind: 'flag',
    name: '--web.config.file that is a FIFO (must not hang)',
    args: serve('--web.config.file', '{dir}/fifo'),
    prepare: fifo,
    expect: /fifo: cannot read the web config file: not a regular file$/,
  },
  {
    kind: 'flag',
    name: '--web.config.file that is a directory',
    args: serve('--web.config.file', '{dir}'),
    expect: /: cannot read the web config file: is a directory$/,
  },

  // Environment.
  {
    kind: 'environment',
    name: 'DOCKER_HOST=tcp://',
    args: check(),
    env: { DOCKER_HOST: 'tcp://' },
    expect: /^DOCKER_HOST: "tcp:\/\/" is not an engine address/,
  },
  {
    kind: 'environment',
    name: 'DOCKER_HOST=ftp://x',
    args: check(),
    env: { DOCKER_HOST: 'ftp://x' },
    expect: /^DOCKER_HOST: "ftp:\/\/x" has the unsupported scheme/,
  },
  {
    kind: 'environment',
    name: 'DOCKER_HOST with a space',
    args: serve(),
    env: { DOCKER_HOST: 'tcp://a b:2375' },
    expect: /^DOCKER_HOST: "tcp:\/\/a b:2375" is not an engine address/,
  },
  {
    kind: 'environment',
    name: 'DOCKER_HOST=unix://',
    args: serve(),
    env: { DOCKER_HOST: 'unix://' },
    expect: /^DOCKER_HOST: "unix:\/\/" names no socket/,
  },

  // Policy files.
  ...(
    [
      [
        'a binary file (NUL bytes)',
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 0, 0x0a, 0x5b, 0x00, 0x5d, 0x0a, 0xff, 0xfe]),
        /p\.ini: is not a text file \(it contains NUL bytes\)$/,
      ],
      ['UTF-16 text', Buffer.from('\ufeff[policy]\naction = kill\n', 'utf16le'), /p\.ini: is not a text file/],
      [
        'control characters and escapes',
        '\u001b[31mred\u000b\u000c\r\u0007',
        /p\.ini:1: the line "\\u001b\[31mred.*" is outside any section/,
      ],
      ['a 20 000-character line', `${'x'.repeat(20_000)}\n`, /p\.ini:1: the line "x{60}…" is outside any section/],
      ['a secret outside any section', `token = ${SECRET}\n`, /p\.ini:1: the key "token" is outside any section/],
      ['a secret outside any section, colon form', `password: ${SECRET}\n`, /p\.ini:1: the key "password" is outside any section/],
      ['an empty section name', '[]\n', /p\.ini:1: empty section name/],
      ['a line that is not key = value', '[policy]\njunk line\n', /p\.ini:2 \[policy\]: "junk …" is not a key = value line$/],
      ['a secret line without =', `[statsd]\ntoken ${SECRET}\n`, /p\.ini:2 \[statsd\]: "token …" is not a key = value line$/],
      [
        'log_file in a missing folder under /proc (it used to hang)',
        '[logging]\nlog_file = /proc/no/such/folder/dm.log\n',
        /p\.ini:2 \[logging\] log_file: cannot append to "\/proc\/no\/such\/folder\/dm\.log": procfs is not a place for a log file$/,
      ],
      [
        'log_file under /sys',
        '[logging]\nlog_file = /sys/kernel/dm/dm.log\n',
        /p\.ini:2 \[logging\] log_file: .*sysfs is not a place for a log file$/,
      ],
      ['an empty action', '[policy]\naction =\n', /p\.ini:2 \[policy\] action: is empty; give one of warn, stop, kill, pause$/],
      [
        '[docker] concurrency 1e11',
        '[docker]\nconcurrency = 100000000000\n',
        /p\.ini:2 \[docker\] concurrency: "100000000000" is more than 1024$/,
      ],
      [
        '[policy] action = explode',
        '[policy]\naction = explode\n',
        /p\.ini:2 \[policy\] action: "explode" is not one of warn, stop, kill, pause$/,
      ],
      ['[policy] fail_fast = maybe', '[policy]\nfail_fast = maybe\n', /p\.ini:2 \[policy\] fail_fast: "maybe" is not a boolean/],
      [
        '[policy] an unknown key',
        '[policy]\nalways_alow = x\n',
        /p\.ini:2 \[policy\] always_alow: unknown key \(did you mean always_allow\?\)$/,
      ],
      ['[logging] level = LOUD', '[logging]\nlevel = LOUD\n', /p\.ini:2 \[logging\] level: "LOUD" is not a log level/],
      ['[logging] format = xml', '[logging]\nformat = xml\n', /p\.ini:2 \[logging\] format: "xml" is not one of text, logfmt, json$/],
      [
        '[logging] log_file a directory',
        '[logging]\nlog_file = {dir}\n',
        /p\.ini:2 \[logging\] log_file: cannot append to ".*": is a directory$/,
      ],
      [
        '[logging] log_file below a file',
        '[logging]\nlog_file = {dir}/p.ini/sub/log\n',
        /p\.ini:2 \[logging\] log_file: cannot append to ".*": a folder on its path is a file$/,
      ],
      [
        '[logging] log_file on a read-only file system',
        '[logging]\nlog_file = /proc/docker-monitor.log\n',
        /p\.ini:2 \[logging\] log_file: cannot append to "\/proc\/docker-monitor\.log": /,
      ],
      ['[exporter] refresh = 30d', '[exporter]\nrefresh = 30d\n', /p\.ini:2 \[exporter\] refresh: "30d" is too long \(at most 24d\)$/],
      ['[exporter] refresh = 0s', '[exporter]\nrefresh = 0s\n', /p\.ini:2 \[exporter\] refresh: "0s" must be longer than 0$/],
      [
        '[exporter] telemetry_path = /-/healthy',
        '[exporter]\ntelemetry_path = /-/healthy\n',
        /p\.ini:2 \[exporter\] telemetry_path: "\/-\/healthy" collides with the probes/,
      ],
      [
        '[exporter] telemetry_path without /',
        '[exporter]\ntelemetry_path = metrics\n',
        /p\.ini:2 \[exporter\] telemetry_path: "metrics" must start with \/$/,
      ],
      ['[exporter] enforce = perhaps', '[exporter]\nenforce = perhaps\n', /p\.ini:2 \[exporter\] enforce: "perhaps" is not a boolean/],
      ['[docker] timeout = 30d', '[docker]\ntimeout = 30d\n', /p\.ini:2 \[docker\] timeout: "30d" is too long/],
      ['[docker] timeout = 0s', '[docker]\ntimeout = 0s\n', /p\.ini:2 \[docker\] timeout: "0s" must be longer than 0$/],
      ['[docker] timeout = 10', '[docker]\ntimeout = 10\n', /p\.ini:2 \[docker\] timeout: "10" is not a duration/],
      [
        '[docker] concurrency = 0',
        '[docker]\nconcurrency = 0\n',
        /p\.ini:2 \[docker\] concurrency: "0" is not a whole number of at least 1$/,
      ],
      ['[docker] host = tcp://', '[docker]\nhost = tcp://\n', /p\.ini:2 \[docker\] host: "tcp:\/\/" is not an engine address/],
      ['[docker] host = ftp://x', '[docker]\nhost = ftp://x\n', /p\.ini:2 \[docker\] host: "ftp:\/\/x" has the unsupported scheme/],
      [
        '[docker] process_cache_ttl = forever',
        '[docker]\nprocess_cache_ttl = forever\n',
        /p\.ini:2 \[docker\] process_cache_ttl: "forever" is not a duration/,
      ],
      [
        'a check timeout = 30d',
        '[docker_monitor.checks.RootProcessCheck]\ntimeout = 30d\n',
        /p\.ini:2 \[docker_monitor\.checks\.RootProcessCheck\] timeout: "30d" is too long/,
      ],
      [
        'a check timeout = 0s',
        '[docker_monitor.checks.RootProcessCheck]\ntimeout = 0s\n',
        /p\.ini:2 \[docker_monitor\.checks\.RootProcessCheck\] timeout: "0s" must be longer than 0$/,
      ],
      [
        'a check timeout = 0ms',
        '[docker_monitor.checks.RunningAsRootCheck]\ntimeout = 0ms\n',
        /p\.ini:2 \[docker_monitor\.checks\.RunningAsRootCheck\] timeout: "0ms" must be longer than 0$/,
      ],
      ['a check timeout = 1y', '[docker_monitor.checks.RunningAsRootCheck]\ntimeout = 1y\n', /timeout: "1y" is not a duration/],
      [
        'a check with an unknown key',
        '[docker_monitor.checks.RootProcessCheck]\nallow_rot = on\n',
        /p\.ini:2 \[docker_monitor\.checks\.RootProcessCheck\] allow_rot: unknown key/,
      ],
      ['an unknown built-in check', '[docker_monitor.checks.NoSuchCheck]\n', /p\.ini:1 \[docker_monitor\.checks\.NoSuchCheck\]: /],
      ['a user check module that does not exist', '[./missing_module.MyCheck]\n', /p\.ini:1 \[\.\/missing_module\.MyCheck\]: /],
      ['a user check module with no such export', '[./mod.Nope]\n', /p\.ini:1 \[\.\/mod\.Nope\]: /],
      [
        'a check timeout = 25d',
        '[docker_monitor.checks.RootProcessCheck]\ntimeout = 25d\n',
        /p\.ini:2 \[docker_monitor\.checks\.RootProcessCheck\] timeout: "25d" is too long/,
      ],
      ['a check section without a module', '[my_checks]\n', /p\.ini:1 \[my_checks\]: a check section is named <module>\.<ExportName>/],
      ['a user check module that is not JavaScript', '[./bad.MyCheck]\n', /p\.ini:1 \[\.\/bad\.MyCheck\]: /],
      ['[statsd] an unknown key', '[statsd]\nhost = x\n', /p\.ini:2 \[statsd\] host: unknown key/],
      ['[exporter] refresh = 1h30', '[exporter]\nrefresh = 1h30\n', /p\.ini:2 \[exporter\] refresh: "1h30" is not a duration/],
      ['[exporter] an unknown key', '[exporter]\nlisten = :1\n', /p\.ini:2 \[exporter\] listen: unknown key/],
      ['[docker] timeout = -5s', '[docker]\ntimeout = -5s\n', /p\.ini:2 \[docker\] timeout: "-5s" is not a duration/],
    ] as const
  ).map(([name, policy, expect]): BadInput => ({ kind: 'policy file', name, policy, expect })),

  // Web config files.
  ...(
    [
      ['not YAML', 'a: [b\n', /web\.yml: not valid YAML/],
      ['a list, not a mapping', '- a\n- b\n', /web\.yml: must be a YAML mapping$/],
      ['an unknown top-level key', 'tls_config: {}\n', /web\.yml tls_config: unknown key/],
      ['tls_server_config a list', 'tls_server_config: [a]\n', /web\.yml tls_server_config: must be a mapping$/],
      [
        'a certificate without its key',
        'tls_server_config:\n  cert_file: {cert}\n',
        /web\.yml tls_server_config: cert_file and key_file are both required$/,
      ],
      [
        'a certificate file that does not exist',
        'tls_server_config:\n  cert_file: {dir}/none.crt\n  key_file: {key}\n',
        /web\.yml tls_server_config\.cert_file: cannot read .*none\.crt: ENOENT$/,
      ],
      [
        'a garbage PEM certificate',
        'tls_server_config:\n  cert_file: {dir}/garbage.pem\n  key_file: {key}\n',
        /web\.yml tls_server_config\.cert_file: .*garbage\.pem is not a PEM certificate/,
      ],
      [
        'a garbage PEM key',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {dir}/garbage.pem\n',
        /web\.yml tls_server_config\.key_file: .*garbage\.pem is not a PEM private key/,
      ],
      [
        'a key that does not go with the certificate',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {otherkey}\n',
        /web\.yml tls_server_config\.key_file: the key does not go with the certificate/,
      ],
      [
        'a garbage client CA',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {dir}/garbage.pem\n',
        /web\.yml tls_server_config\.client_ca_file: .*garbage\.pem is not a PEM certificate/,
      ],
      [
        'min_version above max_version',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  min_version: TLS13\n  max_version: TLS12\n',
        /web\.yml tls_server_config\.min_version: TLS13 is above max_version TLS12$/,
      ],
      [
        'min_version TLS14',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  min_version: TLS14\n',
        /web\.yml tls_server_config\.min_version: "TLS14" is not one of/,
      ],
      [
        'client_auth_type Sometimes',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  client_auth_type: Sometimes\n',
        /web\.yml tls_server_config\.client_auth_type: "Sometimes" is not one of/,
      ],
      [
        'verified client certificates without a CA',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  client_auth_type: RequireAndVerifyClientCert\n',
        /web\.yml tls_server_config\.client_ca_file: is required/,
      ],
      [
        'client_allowed_sans without a CA',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  client_allowed_sans: [a]\n',
        /web\.yml tls_server_config\.client_allowed_sans: needs client_ca_file/,
      ],
      [
        'an unknown TLS key',
        'tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  ciphers: x\n',
        /web\.yml tls_server_config\.ciphers: unknown key/,
      ],
      [
        'a header name with a space',
        'http_server_config:\n  headers:\n    "Bad Header": x\n',
        /web\.yml http_server_config\.headers\.Bad Header: "Bad Header" cannot be set \(exporter-toolkit allows/,
      ],
      [
        'a header name with a colon',
        'http_server_config:\n  headers:\n    "X-A:b": x\n',
        /web\.yml http_server_config\.headers\.X-A:b: "X-A:b" cannot be set/,
      ],
      [
        'a Content-Length header (it used to cut every response)',
        'http_server_config:\n  headers:\n    Content-Length: "5"\n',
        /web\.yml http_server_config\.headers\.Content-Length: "Content-Length" cannot be set \(exporter-toolkit allows Content-Security-Policy, X-Frame-Options, X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security\)$/,
      ],
      [
        'a Content-Encoding header',
        'http_server_config:\n  headers:\n    Content-Encoding: gzip\n',
        /web\.yml http_server_config\.headers\.Content-Encoding: "Content-Encoding" cannot be set/,
      ],
      [
        'X-Frame-Options allowall',
        'http_server_config:\n  headers:\n    X-Frame-Options: allowall\n',
        /web\.yml http_server_config\.headers\.X-Frame-Options: "allowall" is not one of deny, sameorigin$/,
      ],
      [
        'rate_limit.burst 1e23',
        'rate_limit:\n  interval: 1s\n  burst: 1e23\n',
        /web\.yml rate_limit\.burst: "1e\+23" is more than 1000000$|rate_limit\.burst: .* is more than 1000000$/,
      ],
      [
        'a basic-auth user with a colon',
        'basic_auth_users:\n  "al:ice": $2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n',
        /web\.yml basic_auth_users\.al:ice: a user name cannot contain ":"$/,
      ],
      [
        'a header value with a newline',
        'http_server_config:\n  headers:\n    Content-Security-Policy: "a\\nInjected: yes"\n',
        /web\.yml http_server_config\.headers\.Content-Security-Policy: the value has a character a header cannot carry/,
      ],
      [
        'a header value with a carriage return',
        'http_server_config:\n  headers:\n    Content-Security-Policy: "a\\rb"\n',
        /web\.yml http_server_config\.headers\.Content-Security-Policy: the value has a character/,
      ],
      [
        'a header value that is a list',
        'http_server_config:\n  headers:\n    Content-Security-Policy: [a, b]\n',
        /web\.yml http_server_config\.headers\.Content-Security-Policy: must be a text value$/,
      ],
      [
        'headers that are a list',
        'http_server_config:\n  headers: [a]\n',
        /web\.yml http_server_config\.headers: must map header names to values$/,
      ],
      ['an unknown http_server_config key', 'http_server_config:\n  gzip: true\n', /web\.yml http_server_config\.gzip: unknown key/],
      ['a plain-text password', `basic_auth_users:\n  alice: ${SECRET}\n`, /web\.yml basic_auth_users\.alice: is not a bcrypt hash/],
      ['rate_limit a list', 'rate_limit: [1s]\n', /web\.yml rate_limit: must be a mapping with interval and burst$/],
      [
        'rate_limit.interval soon',
        'rate_limit:\n  interval: soon\n  burst: 2\n',
        /web\.yml rate_limit\.interval: "soon" is not a duration/,
      ],
      ['rate_limit.interval 0s', 'rate_limit:\n  interval: 0s\n  burst: 2\n', /web\.yml rate_limit\.interval: "0s" must be longer than 0$/],
      [
        'rate_limit.burst 0',
        'rate_limit:\n  interval: 1s\n  burst: 0\n',
        /web\.yml rate_limit\.burst: "0" is not a whole number of at least 1$/,
      ],
      [
        'rate_limit with an unknown key',
        'rate_limit:\n  interval: 1s\n  burst: 2\n  per_ip: true\n',
        /web\.yml rate_limit\.per_ip: unknown key/,
      ],
      ['basic_auth_users a list', 'basic_auth_users: [alice]\n', /web\.yml basic_auth_users: must map user names to bcrypt hashes$/],
      ['a binary web config', '\u0000\u0001\u0002garbage', /web\.yml: /],
    ] as const
  ).map(([name, web, expect]): BadInput => ({ kind: 'web config', name, web, args: webConfig(), expect })),
];

async function fifo(dir: string): Promise<void> {
  await run('mkfifo', [join(dir, 'fifo')]);
}

const record = new FaultRecord('bad-input');
let root: string;
let certificates: Certificates;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dm-bad-input-'));
  certificates = await makeCertificates();
});
after(async () => {
  record.write();
  await rm(root, { recursive: true, force: true });
  await rm(certificates.dir, { recursive: true, force: true });
});

/** Runs the CLI; a command still running after HANG_MS is killed and reported as a hang. */
async function runCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string; hung: boolean }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // An engine that is not there: a command that passes validation fails fast with exit 3, not 2.
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...env },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, HANG_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr, stdout, hung };
}

test(`at least 100 malformed inputs (${CASES.length})`, () => {
  assert.ok(CASES.length >= 100, `${CASES.length} cases`);
});

let index = 0;
for (const input of CASES) {
  index += 1;
  const number = index;
  test(`bad ${input.kind}: ${input.name} → exit 2, one line naming the place`, async () => {
    const dir = join(root, String(number));
    await mkdir(dir);
    const fill = (text: string): string =>
      text
        .replaceAll('{dir}', dir)
        .replaceAll('{cert}', certificates.serverCert)
        .replaceAll('{key}', certificates.serverKey)
        .replaceAll('{otherkey}', certificates.clientKey)
        .replaceAll('{ca}', certificates.ca);
    await writeFile(join(dir, 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n');
    await writeFile(join(dir, 'mod.mjs'), 'export class Other {}\n');
    await writeFile(join(dir, 'bad.mjs'), 'this is not { JavaScript\n');
    if (input.policy !== undefined)
      await writeFile(join(dir, 'p.ini'), typeof input.policy === 'string' ? fill(input.policy) : input.policy);
    if (input.web !== undefined) await writeFile(join(dir, 'web.yml'), fill(input.web));
    await input.prepare?.(dir);
    const args = (input.args ?? check('-f', '{dir}/p.ini')).map(fill);
    const started = performance.now();
    const result = await runCli(args, input.env ?? {});
    const ms = performance.now() - started;
    assert.equal(result.hung, false, `no answer within ${HANG_MS} ms`);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.equal(result.code, 2, `exit code ${result.code}; stderr: ${result.stderr}`);
    assert.equal(lines.length, 1, `one line on standard error, got:\n${result.stderr}`);
    const line = lines[0] ?? '';
    assert.ok(line.startsWith('docker-monitor: '), line);
    const message = line.slice('docker-monitor: '.length).replaceAll(dir, '{dir}');
    assert.match(message.replaceAll('{dir}', dir), input.expect);
    assert.ok(!result.stderr.includes(SECRET) && !result.stdout.includes(SECRET), 'a secret was echoed');
    // eslint-disable-next-line no-control-regex -- control characters are what must not be echoed
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(line), 'raw control characters were echoed');
    record.add({
      fault: `${input.kind}: ${input.name}`,
      outcome: `exit 2: \`${message.replaceAll('`', "'").replace(/\/tmp\/dm-tls-\w+\//g, '…/')}\``,
      figures: `exit after ${Math.round(ms / 100) / 10} s`,
    });
  });
}
