/** Ends a process group a user's check started (its leader's PID), whatever is left of it. */
export function endGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
