import { BUILT_IN_CHECKS } from '../checks/index.js';
import { applyFlags } from '../config/flags.js';
import { closeChecks, loadPolicy, type LoadedPolicy } from '../config/load-policy.js';
import { errorMessage } from '../errors.js';
import type { Evaluator } from '../core/evaluator.js';
import { createEvaluator, type Runtime } from '../runtime.js';
import type { ReloadStatus } from './metrics.js';
import type { WebSecurity } from './web-security.js';

/** What asked for the reload, for its log line. */
export type ReloadTrigger = 'SIGHUP' | 'POST /-/reload';

export type ReloadOutcome = { ok: true } | { ok: false; error: string };

/**
 * SIGHUP and `POST /-/reload`, as Prometheus and Alertmanager do them: the log file is reopened, then the
 * web config and the policy are read again and, only when both load, put in force together. A failure
 * leaves the running configuration in place, is logged in one line naming the place (file, line,
 * section, key), and shows as docker_monitor_config_last_reload_successful 0. Settings read once at the
 * start (listen addresses, the engine's address, the log file's path and format) need a restart; the
 * checks, waivers, exclusions, `always_allow`, `fail_fast` and the log level follow a reload.
 */
export class ConfigReloader {
  readonly status: ReloadStatus = { successful: true, lastSuccessSeconds: Date.now() / 1000 };
  /** Reloads run one at a time: a SIGHUP during a POST waits for it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly runtime: Runtime,
    private readonly security: WebSecurity | undefined,
    /** Puts a loaded policy in force: the monitor, the metrics and the pages switch to it. */
    private readonly usePolicy: (policy: LoadedPolicy, evaluator: Evaluator) => void,
  ) {}

  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.reloadNow(trigger));
    this.queue = next;
    return next;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { runtime } = this;
    runtime.reopenLog();
    let policy: LoadedPolicy;
    let commitWebConfig: (() => void) | undefined;
    let settings;
    try {
      commitWebConfig = this.security?.prepareReload();
      policy = await loadPolicy(runtime.flags.configFile, BUILT_IN_CHECKS, () => runtime.logger);
      settings = applyFlags(policy.settings, runtime.flags);
    } catch (error) {
      this.status.successful = false;
      runtime.logger.error({ trigger }, `configuration reload failed; the running configuration stays: ${errorMessage(error)}`);
      return { ok: false, error: errorMessage(error) };
    }
    commitWebConfig?.();
    const previous = runtime.policy;
    const evaluator = createEvaluator(policy, settings, runtime.cache, runtime.clock);
    runtime.policy = policy;
    runtime.evaluator = evaluator;
    runtime.logger.level = settings.logLevel;
    for (const warning of policy.warnings) runtime.logger.warn(warning);
    this.usePolicy(policy, evaluator);
    // The replaced checks' worker threads (users' checks) end; a run of theirs still in flight is an error.
    await closeChecks(previous.checks);
    this.status.successful = true;
    this.status.lastSuccessSeconds = Date.now() / 1000;
    runtime.logger.info({ trigger, policy: policy.file, checks: policy.checks.map((check) => check.name) }, 'configuration reloaded');
    return { ok: true };
  }
}
