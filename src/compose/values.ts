/** Reading parsed compose YAML: mappings and scalars as Compose reads them. */
export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A scalar as Compose reads it (numbers and booleans as written); undefined for anything else. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}
