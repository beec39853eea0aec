import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** The three PEM files of a TLS connection to the engine, and what chose them (named when one is missing). */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
  source: string;
}

export function requireTlsFiles(files: TlsFiles): void {
  const missing = [files.ca, files.cert, files.key].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new UsageError(
      `${files.source}: TLS is on but ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist (ca.pem, cert.pem and key.pem are needed)`,
    );
  }
}
