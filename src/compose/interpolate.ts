/**
 * Compose's variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (an error), `${VAR:+alt}` / `${VAR+alt}`,
 * and `$$` for a literal `$`. Defaults may themselves hold variables, as Compose allows.
 */
export class InterpolationError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The end (index of the closing brace) of a `${…}` starting at `open`, counting nested braces. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index += 1) {
    if (text[index] === '{') depth += 1;
    else if (text[index] === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return -1;
}

export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!text.includes('$')) return text;
  let out = '';
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar === -1) {
      out += text.slice(index);
      break;
    }
    out += text.slice(index, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      index = dollar + 2;
    } else if (next === '{') {
      const close = closingBrace(text, dollar + 1);
      if (close === -1) throw new InterpolationError(`invalid interpolation format in "${text}": no closing brace`);
      out += substitute(text.slice(dollar + 2, close), env, text);
      index = close + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) throw new InterpolationError(`invalid interpolation format in "${text}": write $$ for a literal $`);
      out += env[name] ?? '';
      index = dollar + 1 + name.length;
    }
  }
  return out;
}

function substitute(body: string, env: Readonly<Record<string, string | undefined>>, whole: string): string {
  const name = NAME.exec(body)?.[0];
  if (name === undefined) throw new InterpolationError(`invalid interpolation format in "${whole}"`);
  const rest = body.slice(name.length);
  const value = env[name];
  if (rest === '') return value ?? '';
  const operator = /^(:?[-?+])/.exec(rest)?.[1];
  if (operator === undefined) throw new InterpolationError(`invalid interpolation format in "${whole}"`);
  const argument = rest.slice(operator.length);
  const missing = operator.startsWith(':') ? value === undefined || value === '' : value === undefined;
  switch (operator.replace(':', '')) {
    case '-':
      return missing ? interpolate(argument, env) : (value ?? '');
    case '+':
      return missing ? '' : interpolate(argument, env);
    default:
      if (missing) throw new InterpolationError(`required variable ${name} is missing a value: ${interpolate(argument, env) || name}`);
      return value ?? '';
  }
}

/** Interpolates every string of a parsed YAML value (keys are left as written, as Compose does). */
export function interpolateValue(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateValue(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateValue(item, env)]));
  }
  return value;
}

/** A `.env` / `--env-file` file: `KEY=VALUE` lines, `#` comments, optional `export`, quotes removed. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) continue;
    let value = match[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    env[match[1] ?? ''] = value;
  }
  return env;
}
