import type { ContainerInspect, EngineInfo } from '../../engine/types.js';

export interface SecurityOption {
  key: string;
  value: string | undefined;
}

/**
 * `HostConfig.SecurityOpt` as key and value. The CLI stores `seccomp=unconfined`, older engines
 * `seccomp:unconfined`, and `no-new-privileges` may come bare: the key ends at the first `=` or `:`.
 */
export function securityOptions(inspect: ContainerInspect): SecurityOption[] {
  return (inspect.HostConfig?.SecurityOpt ?? []).map((entry) => {
    const cut = entry.search(/[=:]/);
    return cut < 0 ? { key: entry, value: undefined } : { key: entry.slice(0, cut), value: entry.slice(cut + 1) };
  });
}

/** The features `/info` lists in `SecurityOptions` (`name=seccomp,profile=default` gives `seccomp`). */
export function engineSecurityFeatures(info: EngineInfo): Set<string> {
  const names = new Set<string>();
  for (const entry of info.SecurityOptions ?? []) {
    const name = /(?:^|,)name=([^,]+)/.exec(entry)?.[1];
    if (name !== undefined) names.add(name);
  }
  return names;
}
