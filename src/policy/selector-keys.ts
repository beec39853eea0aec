import { ConfigError, errorMessage } from '../errors.js';
import { ContainerSelector, compileGlob, parseLabelSelector, type SelectorSpec } from './selector.js';
import type { OptionSpec, OptionValue } from './types.js';
import type { IniSection } from '../ini/ini-file.js';

/** The three selector keys under a prefix: `containers`, `images`, `labels` (waivers) or `exclude_…`. */
export function selectorKeys(prefix: string, what: string): Record<string, OptionSpec> {
  return {
    [`${prefix}containers`]: { type: 'list', description: `container name globs ${what} (e.g. ci-*)` },
    [`${prefix}images`]: { type: 'list', description: `image references or IDs ${what} (e.g. gcr.io/cadvisor/cadvisor, sha256:…)` },
    [`${prefix}labels`]: { type: 'list', description: `label selectors ${what}: key, or key=value-glob` },
  };
}

const IMAGE_ENTRY = /^[^\s,]+$/;

/**
 * The selector written in a section's already-typed options; each entry is checked here so a bad glob,
 * selector or image names its key. Undefined when none of the three keys is given.
 */
export function selectorFrom(
  options: Readonly<Record<string, OptionValue>>,
  section: IniSection,
  file: string,
  prefix: string,
): ContainerSelector | undefined {
  const list = (key: string): string[] => (options[`${prefix}${key}`] as string[] | undefined) ?? [];
  const spec: SelectorSpec = { containers: list('containers'), images: list('images'), labels: list('labels') };
  const validators: Record<keyof SelectorSpec, (entry: string) => unknown> = {
    containers: compileGlob,
    images: (entry) => {
      if (!IMAGE_ENTRY.test(entry)) throw new Error(`"${entry}" is not an image reference or ID`);
    },
    labels: parseLabelSelector,
  };
  for (const [key, validate] of Object.entries(validators) as [keyof SelectorSpec, (entry: string) => unknown][]) {
    for (const entry of spec[key]) {
      try {
        validate(entry);
      } catch (error) {
        const name = `${prefix}${key}`;
        throw new ConfigError(
          { file, line: section.keyLines[name] ?? section.line, section: section.name, key: name },
          errorMessage(error),
        );
      }
    }
  }
  const selector = new ContainerSelector(spec);
  return selector.empty ? undefined : selector;
}
