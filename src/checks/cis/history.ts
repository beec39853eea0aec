import type { ImageHistoryEntry } from '../../engine/types.js';

/** One image history line, read back into the Dockerfile instruction that made it. */
export interface HistoryStep {
  /** `RUN`, `ADD`, `COPY`, `ENV`, …; empty for an imported or squashed layer. */
  instruction: string;
  /** For RUN, the shell command; for the others, the instruction's arguments. */
  text: string;
  /** Build arguments recorded with a RUN (`|1 TOKEN=abc /bin/sh -c …`): name and value. */
  buildArgs: [string, string][];
  /** The line as the engine gave it. */
  createdBy: string;
}

/**
 * Reads `CreatedBy` in both builders' forms: the classic builder's `/bin/sh -c #(nop)  ENV A=b`,
 * `/bin/sh -c #(nop) ADD file:… in /dst ` and `|1 A=b /bin/sh -c cmd` for RUN, and BuildKit's
 * `RUN /bin/sh -c cmd # buildkit`, `ADD src /dst # buildkit`, `ENV A=b`.
 */
export function parseHistoryEntry({ CreatedBy: createdBy = '' }: ImageHistoryEntry): HistoryStep {
  let line = createdBy.trim().replace(/\s*# buildkit$/, '');
  const nop = /#\(nop\)\s*([A-Z]+)\b\s*([\s\S]*)$/.exec(line);
  if (nop !== null) return { instruction: nop[1] ?? '', text: (nop[2] ?? '').trim(), buildArgs: [], createdBy };
  const buildKit = /^([A-Z]+)\s+([\s\S]*)$/.exec(line);
  if (buildKit !== null && buildKit[1] !== 'RUN')
    return { instruction: buildKit[1] ?? '', text: (buildKit[2] ?? '').trim(), buildArgs: [], createdBy };
  if (line === '') return { instruction: '', text: '', buildArgs: [], createdBy };
  if (buildKit !== null) line = buildKit[2] ?? '';
  const buildArgs: [string, string][] = [];
  const counted = /^\|(\d+)\s+/.exec(line);
  if (counted !== null) {
    line = line.slice(counted[0].length);
    for (let index = 0; index < Number(counted[1]); index += 1) {
      const pair = /^([^=\s]+)=(\S*)\s*/.exec(line);
      if (pair === null) break;
      buildArgs.push([pair[1] ?? '', pair[2] ?? '']);
      line = line.slice(pair[0].length);
    }
  }
  return { instruction: 'RUN', text: line.replace(/^\S*\/?sh -c\s+/, '').trim(), buildArgs, createdBy };
}
