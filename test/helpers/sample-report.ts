import type { ContainerReport } from '../../src/policy/types.js';

/**
 * A report as the evaluator makes it for cnitch's own example (README: ubuntu, `tail -f /dev/null` as
 * root, pid 365): a root container failing two checks, one more with an error, and passing one.
 */
export const FAILING_REPORT: ContainerReport = {
  id: '7bd489560a310343c39186500daa680290289c27f7a730524a31355a3aaf0430',
  name: 'web',
  image: 'ubuntu',
  imageId: 'sha256:0f3c1b6b2fa5fd3c0a4f0bc0b0a7c0e5b3c8e4b1f1c7e0b9c2f4d3a6e8b1c2d3',
  compliant: false,
  alwaysAllowed: false,
  results: [
    { check: 'ActiveBuildCheck', result: 'pass' },
    { check: 'RunningAsRootCheck', result: 'fail', reason: 'no user set: runs as root' },
    {
      check: 'RootProcessCheck',
      result: 'fail',
      reason: '2 processes running as root: pid 365 (tail -f /dev/null), pid 366 (sh)',
      data: {
        rootProcesses: [
          { pid: 365, command: 'tail -f /dev/null' },
          { pid: 366, command: 'sh' },
        ],
      },
    },
    { check: 'PrismaScanCheck', result: 'error', reason: 'timed out after 10000 ms' },
  ],
  startedAt: '2024-05-02T10:00:00.000000000Z',
  labels: {},
};
