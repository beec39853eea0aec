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
    super(
      `cannot reach the Docker engine at ${address}: ${cause} (is dockerd running? set DOCKER_HOST or --docker.host)`,
      3,
    );
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
