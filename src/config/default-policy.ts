/** The policy used without `-f`: the CFPB tool's first two checks and cnitch's root-process rule. */
export const DEFAULT_POLICY_NAME = '<embedded default policy>';

export const DEFAULT_POLICY_INI = `[policy]
always_allow =

[docker_monitor.checks.ActiveBuildCheck]

[docker_monitor.checks.RunningAsRootCheck]
allow_root = off

[docker_monitor.checks.RootProcessCheck]
`;
