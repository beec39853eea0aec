import which from 'which';

/**
 * The absolute path of a scanner program: `name` itself when it contains a slash, else the first match
 * on PATH. Checked when the policy loads, so a wrong path is a configuration error, not a verdict.
 */
export function findExecutable(name: string): string {
  const found = which.sync(name, { nothrow: true });
  if (found === null) {
    throw new Error(
      name.includes('/') ? `${name} is not an executable file` : `${name} was not found on PATH (${process.env['PATH'] ?? ''})`,
    );
  }
  return found;
}
