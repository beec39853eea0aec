/** Unix milliseconds. */
export type Clock = () => number;

/**
 * The wall clock, or — for tests that must see a waiver expire while the exporter runs — one that starts
 * at `DOCKER_MONITOR_FAKE_TIME` (an ISO 8601 time) and runs at the real pace from there.
 */
export function clockFromEnvironment(env: NodeJS.ProcessEnv = process.env): Clock {
  const start = env['DOCKER_MONITOR_FAKE_TIME'];
  if (start === undefined || start === '') return Date.now;
  const fakeStart = Date.parse(start);
  if (Number.isNaN(fakeStart)) throw new Error(`DOCKER_MONITOR_FAKE_TIME: "${start}" is not an ISO 8601 time`);
  const realStart = Date.now();
  return () => fakeStart + (Date.now() - realStart);
}
