/**
 * For the scanner checks' tests: the stand-in executables in test/fixtures/scanners, checks loaded
 * from policy text the way a user's file loads them, and readers for the stand-ins' invocation log.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUILT_IN_CHECKS } from '../../src/checks/index.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import type { ContainerInspect } from '../../src/engine/types.js';
import { runCheck } from '../../src/policy/chain.js';
import type { CheckInstance, CheckResult } from '../../src/policy/types.js';
import { fixtureView, inspectFixture } from './fixture-view.js';

export const STANDINS = join(import.meta.dirname, '..', 'fixtures', 'scanners');
export const TWISTCLI = join(STANDINS, 'twistcli');
export const TRIVY = join(STANDINS, 'trivy');

/** A container of the test image, as the real engine described it (test/fixtures/capture-scanners.ts). */
export const TARGET = inspectFixture('scanner-target');

/** The captured container, or the same container running another image ID. */
export function targetWithImage(imageId = TARGET.Image): ContainerInspect {
  return { ...TARGET, Image: imageId };
}

/** A made-up image ID, distinct per number. */
export function imageId(n: number): string {
  return `sha256:${n.toString(16).padStart(64, '0')}`;
}

/** Loads the single check section of `ini` as the policy loader does. */
export async function loadCheck(ini: string, file = 'policy.ini'): Promise<CheckInstance> {
  const check = (await loadChecks(ini, file))[0];
  if (check === undefined) throw new Error('no check in the policy');
  return check;
}

/** Every check of one policy: they share that policy's scan pool. */
export async function loadChecks(ini: string, file = 'policy.ini'): Promise<CheckInstance[]> {
  return (await parsePolicy(ini, file, BUILT_IN_CHECKS)).checks;
}

/** Runs a check on the captured container (by default with its own image) as the chain does: timeout, errors become `error`. */
export function run(check: CheckInstance, inspect: ContainerInspect = TARGET): Promise<CheckResult> {
  return runCheck(check, (signal) => ({ ...fixtureView('scanner-target', { signal }), inspect }));
}

export interface Invocation {
  pid: number;
  line: string;
}

function logLines(log: string): string[] {
  try {
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
  } catch {
    return [];
  }
}

/** The stand-ins' starts, in order. */
export function invocations(log: string): Invocation[] {
  return logLines(log)
    .filter((line) => line.startsWith('start '))
    .map((line) => ({ pid: Number(line.split(' ')[1]), line }));
}

/** The most stand-ins that were running at the same time. */
export function maxOverlap(log: string): number {
  let running = 0;
  let max = 0;
  for (const line of logLines(log)) {
    running += line.startsWith('start ') ? 1 : line.startsWith('end ') ? -1 : 0;
    max = Math.max(max, running);
  }
  return max;
}

/** Live (not zombie) processes in a process group, read from /proc. */
export function liveProcessesInGroup(pgid: number): number[] {
  const live: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') live.push(Number(entry));
  }
  return live;
}
