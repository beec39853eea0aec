import type { Runtime } from '../runtime.js';

/** Placeholder until the exporter lands (issue 3): refuses to run rather than pretending. */
export async function runServe(runtime: Runtime): Promise<number> {
  runtime.logger.error('serve is not built yet');
  return 2;
}
