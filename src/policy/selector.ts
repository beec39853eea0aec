import picomatch from 'picomatch';
import { ImageAllowList, type ImageIdentity } from './image-match.js';

/** What a selector looks at: the container's name, labels and image. */
export interface SelectorTarget extends ImageIdentity {
  /** Name without the leading slash. */
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** The three ways a policy author names containers (waivers and exclusions share them). */
export interface SelectorSpec {
  /** Name globs (`ci-*`). */
  containers: readonly string[];
  /** Image references or IDs, as `[policy] always_allow`. */
  images: readonly string[];
  /** `key` (the label is set) or `key=value-glob`. */
  labels: readonly string[];
}

export const EMPTY_SELECTOR: SelectorSpec = { containers: [], images: [], labels: [] };

// `bash`: a single `*` also crosses `/`, which label values (paths, URLs) contain.
const GLOB_OPTIONS = { dot: true, bash: true, nonegate: true, noextglob: true } as const;

/** Checks a glob the way it will be used; throws a message fit for a config error. */
export function compileGlob(glob: string): (value: string) => boolean {
  if (glob.trim() === '') throw new Error('an empty pattern matches nothing');
  try {
    const regex = picomatch.makeRe(glob, GLOB_OPTIONS);
    return (value) => regex.test(value);
  } catch (error) {
    throw new Error(`"${glob}" is not a valid glob (${error instanceof Error ? error.message : String(error)})`);
  }
}

interface LabelMatcher {
  key: string;
  value: ((value: string) => boolean) | undefined;
}

export function parseLabelSelector(entry: string): LabelMatcher {
  const equals = entry.indexOf('=');
  const key = (equals < 0 ? entry : entry.slice(0, equals)).trim();
  if (key === '' || /\s/.test(key)) throw new Error(`"${entry}" is not a label selector (use key or key=value-glob)`);
  if (equals < 0) return { key, value: undefined };
  const glob = entry.slice(equals + 1).trim();
  return { key, value: glob === '' ? (value) => value === '' : compileGlob(glob) };
}

/**
 * A container matches when any of its parts matches: a name glob, an image (reference or ID), or a label
 * selector. Built once from validated text; `new ContainerSelector` throws on a bad glob or selector.
 */
export class ContainerSelector {
  private readonly names: ((name: string) => boolean)[];
  private readonly images: ImageAllowList;
  private readonly labels: LabelMatcher[];

  constructor(spec: SelectorSpec) {
    this.names = spec.containers.map(compileGlob);
    this.images = new ImageAllowList(spec.images);
    this.labels = spec.labels.map(parseLabelSelector);
  }

  get empty(): boolean {
    return this.names.length === 0 && this.images.empty && this.labels.length === 0;
  }

  /** Whether image references (beyond `Config.Image`) could decide a match, so image data is worth reading. */
  get hasImageReferences(): boolean {
    return this.images.hasReferences;
  }

  matches(target: SelectorTarget): boolean {
    if (this.names.some((matches) => matches(target.name))) return true;
    if (!this.images.empty && this.images.matches(target)) return true;
    return this.labels.some(({ key, value }) => {
      const actual = target.labels[key];
      return actual !== undefined && (value === undefined || value(actual));
    });
  }
}
