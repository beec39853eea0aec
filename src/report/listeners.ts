import type { Settings } from '../config/settings.js';
import type { Engine } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { ReportListener } from './types.js';

export interface ListenerContext {
  settings: Settings;
  engine: Engine;
  logger: Logger;
}

/** The listeners the settings ask for (text log, StatsD, enforcement). */
export function createListeners(_context: ListenerContext): ReportListener[] {
  return [];
}
