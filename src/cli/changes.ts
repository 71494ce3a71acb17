import { color } from './output.js';

/** git's letter for each kind of change (T: the type changed, e.g. a file became a symlink or executable). */
const LETTER = { added: 'A', modified: 'M', deleted: 'D', mode: 'T' } as const;
const PAINT = { added: color.green, modified: color.yellow, deleted: color.red, mode: color.cyan };

export type ChangeStatus = keyof typeof LETTER;

/** "M src/app.ts", coloured by status: one changed file in diff, show, status and precheck. */
export function changeLine(change: { path: string; status: ChangeStatus }): string {
  return PAINT[change.status](`${LETTER[change.status]} ${change.path}`);
}

/** "+3 ~1 -0": how many files a snapshot added, modified and deleted; coloured as changeLine colours them when `painted`. */
export function changeCounts(counts: { added: number; modified: number; deleted: number }, painted = false): string {
  const paint = (status: Exclude<ChangeStatus, 'mode'>, text: string) => (painted ? PAINT[status](text) : text);
  return `${paint('added', `+${counts.added}`)} ${paint('modified', `~${counts.modified}`)} ${paint('deleted', `-${counts.deleted}`)}`;
}
