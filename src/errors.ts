/**
 * Errors a user can act on. Each carries the exit code the CLI returns and a one-line message that
 * names the file, section and key (or the flag) at fault, so the CLI can print it without a stack.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad usage or configuration: exit code 2. */
export class ConfigError extends UserError {
  constructor(
    readonly location: ConfigLocation,
    detail: string,
  ) {
    super(`${formatLocation(location)}: ${detail}`, 2);
  }
}

/** A setting and where it came from (a flag, a variable or a file and key), for one-line error messages. */
export interface Sourced<T = string> {
  value: T;
  source: string;
}

export interface ConfigLocation {
  file: string;
  line?: number | undefined;
  section?: string | undefined;
  key?: string | undefined;
}

export function formatLocation({ file, line, section, key }: ConfigLocation): string {
  let where = line === undefined ? file : `${file}:${line}`;
  if (section !== undefined) where += ` [${section}]`;
  if (key !== undefined) where += ` ${key}`;
  return where;
}

/** A flag or argument on the command line is wrong: exit code 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The Docker engine could not be reached: exit code 3. */
export class EngineUnreachableError extends UserError {
  constructor(address: string, cause: string) {
    super(`cannot reach the Docker engine at ${address}: ${cause} (is dockerd running? set DOCKER_HOST or --docker.host)`, 3);
  }
}

export function errorMessage(error: unknown): string {
  return readableTlsAlert(error instanceof Error ? error.message : String(error));
}

/**
 * OpenSSL's failures read `80…:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/…:SSL alert number 42`
 * and end in a newline; the alert is the part a user can act on.
 */
function readableTlsAlert(message: string): string {
  const alert = /:SSL routines:[^:]*:(?:sslv3 |tlsv1\d? )?alert ([a-z ]+):/.exec(message);
  if (alert === null) return message;
  return `the engine refused the TLS handshake ("${alert[1]}"): is the client certificate (cert.pem, key.pem) signed by the CA the engine trusts?`;
}
