/**
 * Node.js's on-disk compile cache (Node.js 22.1 and later): the entry point imports this module first,
 * so the modules that every command loads afterwards are read from compiled code instead of being
 * parsed and compiled again at each start. The cache lives where Node.js puts it by default (the OS
 * temporary folder, or NODE_COMPILE_CACHE); NODE_DISABLE_COMPILE_CACHE=1 turns it off. An unwritable
 * folder or an older Node.js only means no cache: nothing here fails.
 */
import module from 'node:module';

const enable = (module as { enableCompileCache?: () => unknown }).enableCompileCache;
try {
  enable?.();
} catch {
  // Starting slower is the only consequence.
}
