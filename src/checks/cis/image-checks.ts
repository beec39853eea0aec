import { builtInCheck } from '../../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';
import { isRootUser, rootUserFinding } from '../running-as-root-check.js';
import { parseHistoryEntry } from './history.js';

/** Checks of the image alone: run once per image ID, the verdict shared by its containers. */
const IMAGE_CHECK = { scope: 'image', inputs: ['image'] } as const;

/**
 * The image itself names a user other than root (`USER 0:0` and `root:root` are root too). Not CIS 4.1,
 * whose audit reads the container (ContainerUserCheck): an image without USER run with `--user 1000`
 * passes 4.1 and fails this one. Not in examples/cis.ini; add it to hold images to their own USER.
 */
export class ImageUserCheck extends builtInCheck({
  ...IMAGE_CHECK,
  description: 'the image itself sets a non-root USER',
  remediation: 'Add a USER instruction with a non-root user to the Dockerfile.',
  severity: 'medium',
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const user = (await container.image()).Config?.User ?? '';
    if (!isRootUser(user)) return this.PASS;
    return this.fail(user === '' ? 'the image sets no USER' : `the image's USER ${user} is root`);
  }
}

/**
 * CIS 4.6, as its audit reads the image's `Config.Healthcheck`: it is set. `HEALTHCHECK NONE` is set too
 * and passes, as in the audit; its containers report no health and fail ContainerHealthcheckCheck (5.27).
 */
export class ImageHealthcheckCheck extends builtInCheck({
  ...IMAGE_CHECK,
  description: 'the image defines a HEALTHCHECK',
  remediation: 'Add a HEALTHCHECK instruction to the Dockerfile.',
  severity: 'low',
  cisId: '4.6',
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const test = (await container.image()).Config?.Healthcheck?.Test ?? [];
    return test.length === 0 ? this.fail('the image has no HEALTHCHECK') : this.PASS;
  }
}

/**
 * CIS 4.1, as its audit reads it: the container's `Config.User` (the image's USER, or `--user` over it)
 * is not root, so `--user 1000` on an image without USER passes.
 */
export class ContainerUserCheck extends builtInCheck({
  description: "the container runs as a non-root user (its Config.User: the image's USER or --user)",
  remediation: 'Run as a non-root user: set USER in the image or start the container with --user UID:GID.',
  severity: 'medium',
  cisId: '4.1',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const finding = rootUserFinding(inspect.Config?.User ?? '');
    return finding === undefined ? this.PASS : this.fail(finding);
  }
}

/** Package managers: the command that refreshes the index, and those that install from it. */
const PACKAGE_MANAGERS: Readonly<Record<string, { update: readonly string[]; install: readonly string[] }>> = {
  'apt-get': { update: ['update'], install: ['install', 'upgrade', 'dist-upgrade', 'full-upgrade', 'build-dep'] },
  apt: { update: ['update'], install: ['install', 'upgrade', 'dist-upgrade', 'full-upgrade', 'build-dep'] },
  apk: { update: ['update'], install: ['add', 'upgrade'] },
  yum: { update: ['makecache'], install: ['install', 'update', 'upgrade', 'groupinstall'] },
  dnf: { update: ['makecache'], install: ['install', 'update', 'upgrade', 'groupinstall'] },
  microdnf: { update: ['makecache'], install: ['install', 'update', 'upgrade'] },
  zypper: { update: ['refresh', 'ref'], install: ['install', 'in', 'update', 'up', 'dist-upgrade', 'dup'] },
};

/** `sudo DEBIAN_FRONTEND=noninteractive apt-get -qq update` → `{ manager: 'apt-get', verb: 'update' }`. */
function packageCommand(command: string): { manager: string; verb: string } | undefined {
  const words = command.trim().split(/\s+/);
  const at = words.findIndex((word) => Object.hasOwn(PACKAGE_MANAGERS, word.split('/').pop() ?? ''));
  if (at < 0) return undefined;
  const verb = words.slice(at + 1).find((word) => !word.startsWith('-'));
  return { manager: words[at]?.split('/').pop() ?? '', verb: verb ?? '' };
}

/** The shell command refreshes a package index and installs nothing after it. */
export function updatesAlone(line: string): boolean {
  const commands = line.split(/&&|\|\||[;|\n]/).map(packageCommand);
  const update = commands.findIndex((command) => command !== undefined && PACKAGE_MANAGERS[command.manager]?.update.includes(command.verb));
  if (update < 0) return false;
  return !commands
    .slice(update + 1)
    .some((command) => command !== undefined && PACKAGE_MANAGERS[command.manager]?.install.includes(command.verb));
}

/**
 * CIS 4.7: no RUN refreshes a package index without installing in the same line (a cached layer would
 * pin a stale index). Judged on the whole history line, so `apt-get update && apt-get install …`
 * passes; docker-bench greps `update` in history cut to 45 characters and flags it.
 */
export class UpdateAloneCheck extends builtInCheck({
  ...IMAGE_CHECK,
  description: 'package index updates are not used alone in a RUN',
  remediation: 'Run the package index update and the install in one RUN (apt-get update && apt-get install ...).',
  severity: 'low',
  cisId: '4.7',
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const alone = (await container.imageHistory())
      .map(parseHistoryEntry)
      .filter((step) => step.instruction === 'RUN' && updatesAlone(step.text));
    if (alone.length === 0) return this.PASS;
    return this.fail(`update without install: ${alone.map((step) => `RUN ${step.text}`).join('; ')}`);
  }
}

/**
 * CIS 4.9: files come in with COPY, not ADD. Matches the ADD instruction itself (not text such as
 * `ENV ADDRESS=…`); the oldest history entry, the base image's root filesystem, is exempt.
 */
export class AddInsteadOfCopyCheck extends builtInCheck({
  ...IMAGE_CHECK,
  description: 'COPY is used instead of ADD',
  remediation: 'Use COPY instead of ADD to put local files into the image.',
  severity: 'low',
  cisId: '4.9',
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    // History is newest first: the base layer is last.
    const steps = (await container.imageHistory()).slice(0, -1).map(parseHistoryEntry);
    const adds = steps.filter((step) => step.instruction === 'ADD');
    if (adds.length === 0) return this.PASS;
    return this.fail(adds.map((step) => `ADD ${step.text}`).join('; '));
  }
}

/** Words of a variable name that mark its value as a secret (the name split at `_`, `-` and `.`). */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'PASSWORD',
  'PASSWD',
  'PASS',
  'SECRET',
  'SECRETS',
  'TOKEN',
  'APIKEY',
  'CREDENTIAL',
  'CREDENTIALS',
  'PRIVATEKEY',
  'KEY',
]);
/** Last words that make the value a reference to a secret rather than the secret (`DB_PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`); `PUBLIC` anywhere marks a public key. */
const REFERENCE_WORDS: ReadonlySet<string> = new Set(['FILE', 'PATH', 'DIR', 'URL', 'ID', 'NAME', 'USER', 'USERNAME']);

export function isSecretName(name: string, allowed: readonly string[]): boolean {
  const upper = name.toUpperCase();
  if (allowed.some((entry) => entry.toUpperCase() === upper)) return false;
  const words = upper.split(/[_.-]+/).filter((word) => word !== '');
  if (REFERENCE_WORDS.has(words[words.length - 1] ?? '') || words.includes('PUBLIC')) return false;
  return words.some((word) => SECRET_WORDS.has(word));
}

/**
 * CIS 4.10, the part the API can decide: no secret-looking variable with a value in the image's
 * environment (`ENV`) or in the build arguments its history recorded (`ARG` used by a RUN). Names
 * are matched by whole words, so `ADDRESS` or `MONKEY` do not count; values are never shown.
 */
export class ImageSecretEnvCheck extends builtInCheck({
  ...IMAGE_CHECK,
  description: "no secrets in the image's environment or build arguments",
  remediation: 'Pass secrets at run time (docker secrets, mounted files) instead of ENV or build arguments, and rebuild the image.',
  severity: 'high',
  cisId: '4.10',
  options: {
    allowed_names: {
      type: 'list',
      default: ['GPG_KEY', 'GPG_KEYS'],
      description: 'variable names that look secret but are not (public key fingerprints, …)',
    },
  },
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const allowed = this.config.allowed_names;
    const [image, history] = await Promise.all([container.image(), container.imageHistory()]);
    const env = (image.Config?.Env ?? []).map((entry): [string, string] => {
      const cut = entry.indexOf('=');
      return cut < 0 ? [entry, ''] : [entry.slice(0, cut), entry.slice(cut + 1)];
    });
    const args = history.map(parseHistoryEntry).flatMap((step) => step.buildArgs);
    const found = new Set<string>();
    for (const [name, value] of env) if (value !== '' && isSecretName(name, allowed)) found.add(`ENV ${name}`);
    for (const [name, value] of args) if (value !== '' && isSecretName(name, allowed)) found.add(`build argument ${name}`);
    if (found.size === 0) return this.PASS;
    return this.fail(`secret-looking values in ${[...found].join(', ')}`);
  }
}

/**
 * House rule (dockle's DKL-DI-0006, no CIS id): the image carries a version tag. Untagged images and
 * images tagged only `latest` fail; a `latest` tag beside a version tag passes. Not CIS 5.28, whose
 * audit compares the image with the newest version in its registry, which the Engine API cannot see.
 */
export class LatestTagCheck extends builtInCheck({
  ...IMAGE_CHECK,
  description: 'the image has a version tag (not only latest, not untagged)',
  remediation: 'Run the image by a version tag or digest, not latest or an untagged ID.',
  severity: 'low',
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const tags = ((await container.image()).RepoTags ?? []).filter((tag) => tag !== '<none>:<none>');
    if (tags.length === 0) return this.fail('the image has no tag');
    if (tags.every((tag) => tag.endsWith(':latest'))) return this.fail(`tagged only latest (${tags.join(', ')})`);
    return this.PASS;
  }
}
