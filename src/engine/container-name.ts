/** The engine names containers `/name`; the `container` label and every message use `name`. */
export function containerName(engineName: string): string {
  return engineName.replace(/^\//, '');
}
