/**
 * Every setting of the command line and the policy file's settings sections, declared once: its flag,
 * INI key, environment variable, type, default and help. The commander options
 * (`commander-options.ts`), the flags applied over the file (`flags.ts`), the INI sections' keys, the
 * defaults and the `Settings` type (`settings.ts`) are made from this table, and `test/unit/setting-table.test.ts` holds `--help`
 * and docs/configuration.md to it.
 */
import type { OptionType } from '../policy/types.js';
import { parseInteger } from '../ini/values.js';
import { checkLogFile, checkTelemetryPath } from './checked-paths.js';
import { parseListenAddress } from './listen-address.js';
import { MAX_CONCURRENCY, moreVerbose, parseHttpUrl, parseLabelGlobs, parseLogLevel, parseRefresh } from './setting-values.js';

export type CommandName = 'serve' | 'check' | 'healthcheck';
export type SettingsSection = 'policy' | 'logging' | 'exporter' | 'docker' | 'statsd';

/** `check --format` values. */
export const CHECK_FORMATS = ['text', 'json', 'sarif', 'junit'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];
/** The severities `check --fail-on` accepts. */
export const FAIL_ON_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type FailOn = (typeof FAIL_ON_SEVERITIES)[number];

export interface SettingSpec {
  /** The long flag; none for a key of the file alone. */
  flag?: `--${string}`;
  short?: `-${string}`;
  /** The flag's value, as `--help` shows it; none for a switch. */
  argument?: `<${string}>`;
  /** The commands that take the flag. */
  commands: readonly CommandName[];
  /** How a value (the flag's, or the key's) is read before `parse`: the INI option types. */
  type: OptionType;
  values?: readonly string[];
  /** Given several times, each value kept (the value is then a list of the flags' values). */
  repeatable?: boolean;
  /** `-v`: counted, each time one step applied to the setting by `adjust`. */
  adjust?: (value: never, count: number) => unknown;
  /** Offered by commander as choices (`--help` lists them, others are refused as usage errors). */
  choices?: readonly string[];
  /** `[section] key` in the policy file. */
  ini?: { section: SettingsSection; key: string };
  /** The environment variable read when neither flag nor key is given. */
  env?: string;
  /** The default, as a user would write it: parsed into the default setting, shown in `--help`. */
  default?: string;
  /** The default in words, when it is no value (worked out at run time, or nothing); shown in `--help`. */
  defaultText?: string;
  /** One line of `--help`; `(default: …)` is added to it. */
  help: string;
  /** Another line for some command, in place of `help`. */
  helpIn?: Partial<Record<CommandName, string>>;
  /** A switch's `--no-` form: its help line, per command. */
  negation?: { help: string; helpIn?: Partial<Record<CommandName, string>>; isDefault?: boolean };
  /** The docs' meaning, when it says more than `help` (links). */
  doc?: string;
  /** The docs' type, when it says more than `type`. */
  docType?: string;
  /** The `Settings` field it sets; none for what a command reads itself. */
  setting?: string;
  /** From the value of `type` to the setting's value; its message follows the flag or the file's key. */
  parse?: (value: never) => unknown;
  /** The setting remembers which flag or key gave it (engine errors name it). */
  sourced?: boolean;
  /** Another name of the setting of an earlier flag (cnitch's `--check`): giving both is refused. */
  alias?: boolean;
  /** Given as a flag, it also drops the file's choice of this setting (the engine named the other way). */
  replaces?: string;
  /** An empty value is an error with this message instead of the default. */
  refuseEmpty?: string;
}

const BOTH = ['serve', 'check'] as const;
const SERVE = ['serve'] as const;
const CHECK = ['check'] as const;

export const SETTING_TABLE = [
  {
    flag: '--config-file',
    short: '-f',
    argument: '<path>',
    commands: ['serve', 'check', 'healthcheck'],
    type: 'string',
    docType: 'path',
    defaultText: 'the embedded default policy',
    help: 'INI policy file',
    helpIn: { healthcheck: 'INI policy file whose [exporter] section serve uses' },
  },
  {
    ini: { section: 'policy', key: 'always_allow' },
    commands: [],
    type: 'list',
    setting: 'alwaysAllow',
    help: 'images exempt from every check: IDs (sha256:…, 64 or 12 hex) or references (nginx:1.27)',
    doc: 'images exempt from every check ([`always_allow`](#always_allow))',
  },
  {
    ini: { section: 'policy', key: 'action' },
    commands: [],
    type: 'enum',
    values: ['warn', 'stop', 'kill', 'pause'],
    default: 'kill',
    setting: 'action',
    refuseEmpty: 'is empty; give one of warn, stop, kill, pause',
    help: 'what --enforce does to a failing container',
  },
  {
    ini: { section: 'policy', key: 'fail_fast' },
    commands: [],
    type: 'boolean',
    default: 'off',
    setting: 'failFast',
    help: "stop a container's chain at its first FAIL",
    doc: "`on`: stop a container's checks at its first FAIL, as the CFPB tool did. `off`: run every check, so every violation is visible",
  },
  {
    ini: { section: 'logging', key: 'log_file' },
    commands: [],
    type: 'string',
    docType: 'path',
    defaultText: 'standard error',
    setting: 'logFile',
    parse: checkLogFile,
    help: 'file to append log records to (its folder is created)',
  },
  {
    flag: '--log.level',
    argument: '<level>',
    ini: { section: 'logging', key: 'level' },
    commands: BOTH,
    type: 'string',
    docType: '`debug`, `info`, `warn`, `error`, or `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`',
    default: 'info',
    setting: 'logLevel',
    parse: parseLogLevel,
    help: 'debug, info, warn or error',
    doc: "least severe record written (Python's names also accepted: `WARNING` is `warn`, `CRITICAL` is `fatal`)",
  },
  {
    flag: '--verbose',
    short: '-v',
    commands: BOTH,
    type: 'boolean',
    setting: 'logLevel',
    adjust: moreVerbose,
    help: 'one level more verbose than --log.level, each time given',
    helpIn: { check: 'one level more verbose each time; once brings back the per-container lines' },
  },
  {
    flag: '--log.format',
    argument: '<format>',
    ini: { section: 'logging', key: 'format' },
    commands: BOTH,
    type: 'enum',
    values: ['text', 'logfmt', 'json'],
    default: 'text',
    setting: 'logFormat',
    help: "text (for people), logfmt (promslog's keys) or json (one object per line)",
  },
  {
    flag: '--docker.host',
    argument: '<url>',
    ini: { section: 'docker', key: 'host' },
    env: 'DOCKER_HOST',
    commands: BOTH,
    type: 'string',
    docType: 'URL',
    defaultText: '$DOCKER_HOST, else the current docker context, else unix:///var/run/docker.sock',
    setting: 'dockerHost',
    sourced: true,
    replaces: 'dockerContext',
    help: 'engine address: unix:///path, tcp://host:port, ssh://user@host[:port]',
    doc: 'engine address: `unix:///path`, `tcp://host:port`, `ssh://user@host[:port]` ([engines](engines.md#choosing-the-engine))',
  },
  {
    flag: '--docker.context',
    argument: '<name>',
    ini: { section: 'docker', key: 'context' },
    env: 'DOCKER_CONTEXT',
    commands: BOTH,
    type: 'string',
    defaultText: "$DOCKER_CONTEXT, else the store's current context",
    setting: 'dockerContext',
    sourced: true,
    replaces: 'dockerHost',
    help: "use a context from the docker CLI's context store",
  },
  {
    flag: '--docker.tls-verify',
    ini: { section: 'docker', key: 'tls_verify' },
    env: 'DOCKER_TLS_VERIFY',
    commands: BOTH,
    type: 'boolean',
    defaultText: 'on when $DOCKER_TLS_VERIFY is not empty',
    setting: 'dockerTlsVerify',
    sourced: true,
    help: 'TLS with certificate verification for tcp://',
    negation: { help: 'plain TCP even when $DOCKER_TLS_VERIFY is set' },
    doc: 'TLS with certificate verification for `tcp://` ([TLS](engines.md#docker-over-tls-tcp))',
  },
  {
    flag: '--docker.cert-path',
    argument: '<dir>',
    ini: { section: 'docker', key: 'cert_path' },
    env: 'DOCKER_CERT_PATH',
    commands: BOTH,
    type: 'string',
    docType: 'path',
    defaultText: '$DOCKER_CERT_PATH, else ~/.docker',
    setting: 'dockerCertPath',
    sourced: true,
    help: 'folder with ca.pem, cert.pem and key.pem',
  },
  {
    flag: '--docker.concurrency',
    argument: '<n>',
    ini: { section: 'docker', key: 'concurrency' },
    commands: BOTH,
    type: 'string',
    docType: `whole number, 1 to ${MAX_CONCURRENCY}`,
    default: '8',
    setting: 'dockerConcurrency',
    parse: (value: string) => parseInteger(value, 1, MAX_CONCURRENCY),
    help: 'most engine calls in flight at once',
  },
  {
    flag: '--docker.timeout',
    argument: '<duration>',
    ini: { section: 'docker', key: 'timeout' },
    commands: BOTH,
    type: 'timeout',
    default: '10s',
    setting: 'dockerTimeoutMs',
    help: 'how long one engine call may take',
  },
  {
    ini: { section: 'docker', key: 'process_cache_ttl' },
    commands: [],
    type: 'duration',
    default: '10s',
    setting: 'processCacheTtlMs',
    help: "how long a container's process list is reused between refreshes",
  },
  {
    flag: '--docker.resync-interval',
    argument: '<duration>',
    ini: { section: 'docker', key: 'resync_interval' },
    commands: SERVE,
    type: 'timeout',
    default: '5m',
    setting: 'resyncIntervalMs',
    help: 'how often every container is listed and inspected again; events keep them current in between',
    doc: 'how often every container is listed and inspected again; events keep them current in between ([exporter](exporter.md#refresh-modes-events-and-what-is-cached))',
  },
  {
    flag: '--enforce',
    ini: { section: 'exporter', key: 'enforce' },
    commands: BOTH,
    type: 'boolean',
    setting: 'enforce',
    help: 'apply [policy] action to failing containers',
    helpIn: { check: 'apply [policy] action to failing running containers' },
    negation: { help: 'only warn about failing containers', helpIn: { check: 'only report failing containers' }, isDefault: true },
    doc: 'apply `[policy] action` to failing containers, or only warn',
  },
  {
    flag: '--web.listen-address',
    argument: '<addr>',
    ini: { section: 'exporter', key: 'listen_address' },
    commands: ['serve', 'healthcheck'],
    type: 'list',
    repeatable: true,
    docType: 'list of addresses',
    default: ':10091',
    setting: 'listenAddresses',
    parse: (addresses: string[]) => addresses.map(parseListenAddress),
    help: 'host:port, [v6]:port or :port (every interface) to listen on; repeat for several',
    helpIn: { healthcheck: 'as for serve; repeat for several' },
    doc: '`host:port`, `[v6]:port` or `:port` (every interface: IPv6 and IPv4 where the host has IPv6, IPv4 alone where not); repeat the flag, or comma-separate in the file, to serve several addresses ([deployment](deployment.md#listen-addresses-and-the-health-check))',
  },
  {
    flag: '--web.telemetry-path',
    argument: '<path>',
    ini: { section: 'exporter', key: 'telemetry_path' },
    commands: SERVE,
    type: 'string',
    docType: 'URL path',
    default: '/metrics',
    setting: 'telemetryPath',
    parse: checkTelemetryPath,
    help: 'path of the metrics endpoint',
  },
  {
    flag: '--web.config.file',
    argument: '<path>',
    ini: { section: 'exporter', key: 'web_config_file' },
    commands: ['serve', 'healthcheck'],
    type: 'string',
    docType: 'path',
    setting: 'webConfigFile',
    help: 'TLS and basic auth, in the Prometheus exporter-toolkit web-config format',
    helpIn: { healthcheck: 'as for serve: with TLS in it, the probe uses https' },
    doc: 'TLS and basic auth, in the Prometheus exporter-toolkit web-config format ([exporter](exporter.md#tls-and-basic-auth---webconfigfile))',
  },
  {
    flag: '--web.grafana-url',
    argument: '<url>',
    commands: SERVE,
    type: 'string',
    docType: 'URL',
    setting: 'grafanaUrl',
    parse: parseHttpUrl,
    help: 'the status page links each container to its Grafana dashboard at this base (e.g. http://grafana:3000)',
    doc: 'the [status page](status-page.md) links each container to its Grafana dashboard (`/d/docker-monitor-container?var-container=NAME`) at this base, e.g. `http://grafana:3000`',
  },
  {
    flag: '--web.enable-lifecycle',
    commands: SERVE,
    type: 'boolean',
    setting: 'webEnableLifecycle',
    help: 'allow POST /-/reload (SIGHUP always reloads)',
  },
  {
    flag: '--refresh',
    argument: '<mode>',
    ini: { section: 'exporter', key: 'refresh' },
    commands: SERVE,
    type: 'string',
    docType: '`scrape` or a duration',
    default: 'scrape',
    setting: 'refresh',
    parse: parseRefresh,
    help: 'scrape (evaluate on each scrape) or a duration such as 30s',
    doc: '`scrape` (evaluate on each scrape) or a duration such as `30s` (evaluate in the background, serve the cache; [refresh modes](exporter.md#refresh-modes-events-and-what-is-cached))',
  },
  {
    flag: '--check',
    argument: '<duration>',
    commands: SERVE,
    type: 'string',
    docType: 'duration',
    setting: 'refresh',
    alias: true,
    parse: parseRefresh,
    help: "cnitch's name for --refresh <duration>",
  },
  {
    flag: '--hostname',
    argument: '<name>',
    ini: { section: 'exporter', key: 'hostname' },
    commands: SERVE,
    type: 'string',
    defaultText: "this machine's",
    setting: 'hostname',
    help: 'host name carried by StatsD tags and log lines',
  },
  {
    flag: '--statsd-server',
    argument: '<host:port>',
    ini: { section: 'statsd', key: 'server' },
    commands: SERVE,
    type: 'string',
    docType: 'host:port',
    setting: 'statsdServer',
    help: 'also report to StatsD/DogStatsD over UDP',
  },
  {
    flag: '--statsd-prefix',
    argument: '<prefix>',
    ini: { section: 'statsd', key: 'prefix' },
    commands: SERVE,
    type: 'string',
    default: 'docker_monitor',
    setting: 'statsdPrefix',
    help: 'StatsD metric prefix; cnitch used cnitch',
    doc: "StatsD metric prefix (`cnitch` reproduces cnitch's names)",
  },
  {
    flag: '--metrics.results',
    argument: '<mode>',
    ini: { section: 'exporter', key: 'metrics_results' },
    commands: SERVE,
    type: 'enum',
    values: ['all', 'failing', 'none'],
    default: 'all',
    setting: 'metricsResults',
    help: 'per-container results exported: all, failing (every result not a pass) or none',
    doc: 'per-container results exported: `all`, `failing` (every result not a pass) or `none` ([metrics](metrics.md#bounding-the-number-of-series))',
  },
  {
    flag: '--metrics.container-labels',
    argument: '<list>',
    ini: { section: 'exporter', key: 'metrics_container_labels' },
    commands: SERVE,
    type: 'list',
    docType: 'list of names or globs',
    defaultText: 'none',
    setting: 'metricsContainerLabels',
    parse: parseLabelGlobs,
    help: 'container labels copied onto docker_monitor_container_info: comma-separated names or globs',
    doc: 'container labels copied onto `docker_monitor_container_info`: comma-separated names or globs ([metrics](metrics.md#container-labels))',
  },
  {
    flag: '--format',
    argument: '<format>',
    commands: CHECK,
    type: 'enum',
    choices: CHECK_FORMATS,
    default: 'text',
    help: 'text, json, sarif (SARIF 2.1.0) or junit (JUnit XML)',
    doc: '`text`, `json`, `sarif` (SARIF 2.1.0) or `junit` (JUnit XML): [`check` in pipelines](check-output.md)',
  },
  {
    flag: '--fail-on',
    argument: '<severity>',
    commands: CHECK,
    type: 'enum',
    choices: FAIL_ON_SEVERITIES,
    defaultText: 'any failure',
    help: 'exit 1 only for a failure of at least this severity',
    doc: 'exit 1 only for a failure of at least this severity ([exit codes](check-output.md#exit-codes-and---fail-on))',
  },
  {
    flag: '--output',
    argument: '<file>',
    commands: CHECK,
    type: 'string',
    help: 'write the report to this file instead of standard output',
  },
  {
    flag: '--compose',
    argument: '<file>',
    commands: CHECK,
    type: 'string',
    repeatable: true,
    help: 'judge the services of a Compose file before they run; repeat to merge overrides in order',
    doc: 'judge the services of a Compose file before they run; repeat to merge overrides in order ([before deployment](before-deployment.md))',
  },
  {
    flag: '--project-name',
    short: '-p',
    argument: '<name>',
    commands: CHECK,
    type: 'string',
    defaultText: '$COMPOSE_PROJECT_NAME, else the top-level name, else the folder',
    help: 'Compose project name for --compose',
    doc: 'Compose project name for `--compose`: container names are `<project>-<service>-1` ([before deployment](before-deployment.md#targets))',
  },
  {
    flag: '--env-file',
    argument: '<file>',
    commands: CHECK,
    type: 'string',
    defaultText: '.env beside the first file',
    help: 'variables for --compose/--stack interpolation',
  },
  {
    flag: '--profile',
    argument: '<name>',
    commands: CHECK,
    type: 'string',
    repeatable: true,
    help: 'enable a Compose profile; repeatable',
  },
  {
    flag: '--stack',
    argument: '<file>',
    commands: CHECK,
    type: 'string',
    repeatable: true,
    help: 'judge the services of a Swarm stack file before deployment; repeatable',
  },
  {
    flag: '--image',
    argument: '<ref>',
    commands: CHECK,
    type: 'string',
    repeatable: true,
    help: 'judge a local image with the image checks, running or not; repeatable',
  },
  {
    flag: '--container',
    argument: '<glob>',
    commands: CHECK,
    type: 'string',
    repeatable: true,
    help: 'judge only running containers whose name matches; repeatable',
  },
  {
    flag: '--label',
    argument: '<key[=value]>',
    commands: CHECK,
    type: 'string',
    repeatable: true,
    help: 'judge only running containers with this label (value may be a glob); repeatable',
  },
  {
    flag: '--host',
    commands: CHECK,
    type: 'boolean',
    help: 'run the host checks too when --container or --label select containers',
  },
] as const satisfies readonly SettingSpec[];

export type SettingEntry = (typeof SETTING_TABLE)[number];

/** `web.listen-address` → `web.listenAddress`: the key commander gives a flag's value. */
type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
type FlagValue<E> = E extends { adjust: unknown }
  ? number
  : E extends { choices: readonly (infer C)[] }
    ? C
    : E extends { repeatable: true }
      ? string[]
      : E extends { argument: string }
        ? string
        : boolean;

/** Every flag's value as commander parses it; each optional, so the file's value stands when a flag is absent. */
export type Flags = {
  [E in SettingEntry as E extends { flag: `--${infer Name}` } ? Camel<Name> : never]?: FlagValue<E>;
};

/** The attribute commander stores a flag's value under (as `Option.attributeName()` makes it). */
export function attributeOf(flag: `--${string}`): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The help line of a flag (or its `--no-` form) for one command, with its default as `--help` shows it. */
export function helpLine(spec: SettingSpec, command: CommandName): string {
  const help = spec.helpIn?.[command] ?? spec.help;
  // commander adds a default that is one of the choices itself.
  const shownDefault = spec.choices?.includes(spec.default ?? '') === true ? undefined : (spec.default ?? spec.defaultText);
  return shownDefault === undefined || spec.negation?.isDefault === true ? help : `${help} (default: ${shownDefault})`;
}

export function negationHelpLine(spec: SettingSpec, command: CommandName): string | undefined {
  if (spec.negation === undefined) return undefined;
  const help = spec.negation.helpIn?.[command] ?? spec.negation.help;
  return spec.negation.isDefault === true ? `${help} (default)` : help;
}
