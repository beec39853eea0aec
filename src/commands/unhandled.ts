import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * The last line of defence: a promise some check or library forgot to handle must not end the command
 * (and, in serve, every other container's results with it), nor print a stack. Returns the undo.
 */
export function logUnhandledRejections(logger: Logger): () => void {
  const unhandled = (reason: unknown): void => {
    logger.error({ err: errorMessage(reason) }, 'unhandled rejection (ignored; please report it)');
  };
  process.on('unhandledRejection', unhandled);
  return () => process.off('unhandledRejection', unhandled);
}
