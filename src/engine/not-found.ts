/** Whether an engine call failed because what it named does not exist (HTTP 404). */
export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number } | undefined)?.statusCode === 404;
}
