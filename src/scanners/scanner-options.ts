import type { CheckContext, OptionSpec, OptionValues } from '../policy/types.js';
import { ImageScanCache } from './image-scan-cache.js';
import { DEFAULT_SCAN_CONCURRENCY } from './scan-pool.js';

const DAY_MS = 86_400_000;
/** As trivy's own default; twistcli scans usually take well under a minute. */
const DEFAULT_SCAN_TIMEOUT_MS = 300_000;

/** The keys every scanner check takes besides its own. `timeout` replaces the chain's 10s default. */
export const SCANNER_OPTIONS = {
  cache_ttl: {
    type: 'duration',
    default: DAY_MS,
    description: 'how long the verdict on an image ID is reused before the image is scanned again',
  },
  concurrency: {
    type: 'integer',
    default: DEFAULT_SCAN_CONCURRENCY,
    description: 'most scans running at once, shared by every scanner check of the policy (the smallest value given wins)',
  },
  timeout: {
    type: 'timeout',
    default: DEFAULT_SCAN_TIMEOUT_MS,
    description: 'how long one scan may take; a scan still running then is killed and the check gives an error',
  },
} as const satisfies Record<string, OptionSpec>;

/**
 * Reads the shared scanner keys, joins the policy's scan pool and makes the check's cache. Throws a plain
 * Error, which the loader reports with the file and section.
 */
export function scannerSettings<T>(
  config: OptionValues<typeof SCANNER_OPTIONS>,
  context: CheckContext,
): { timeoutMs: number; cache: ImageScanCache<T> } {
  const { cache_ttl: cacheTtlMs, concurrency, timeout: timeoutMs } = config;
  if (cacheTtlMs <= 0) throw new Error('cache_ttl must be longer than 0s');
  if (concurrency < 1) throw new Error('concurrency must be at least 1');
  if (timeoutMs <= 0) throw new Error('timeout must be longer than 0s');
  context.scanPool.request(concurrency);
  return { timeoutMs, cache: new ImageScanCache<T>(cacheTtlMs, context.scanPool) };
}
