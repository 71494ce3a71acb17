import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { MODE_LINK } from './gitformat.js';
import type { FlatTree } from './record.js';
import type { Repository } from './repo.js';

export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'mode';

export interface FileChange {
  path: string;
  status: ChangeStatus;
  oldOid?: string;
  newOid?: string;
  oldMode?: string;
  newMode?: string;
}

export function compareTrees(from: FlatTree, to: FlatTree): FileChange[] {
  const changes: FileChange[] = [];
  for (const [p, e] of to) {
    const old = from.get(p);
    if (!old) changes.push({ path: p, status: 'added', newOid: e.oid, newMode: e.mode });
    else if (old.oid !== e.oid) changes.push({ path: p, status: 'modified', oldOid: old.oid, newOid: e.oid, oldMode: old.mode, newMode: e.mode });
    else if (old.mode !== e.mode) changes.push({ path: p, status: 'mode', oldOid: old.oid, newOid: e.oid, oldMode: old.mode, newMode: e.mode });
  }
  for (const [p, e] of from) if (!to.has(p)) changes.push({ path: p, status: 'deleted', oldOid: e.oid, oldMode: e.mode });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function looksBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

/**
 * Unified diff text for one change. `fromWorktree` says the new side is read from the working
 * tree (its blob may not be in the repository yet).
 */
export async function patchFor(repo: Repository, change: FileChange, fromWorktree: boolean): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  const read = async (oid: string | undefined, mode: string | undefined, worktreeSide: boolean): Promise<Buffer> => {
    if (!oid) return Buffer.alloc(0);
    if (worktreeSide) {
      const full = path.join(repo.worktree, change.path);
      return mode === MODE_LINK ? Buffer.from(await fsp.readlink(full)) : fsp.readFile(full);
    }
    return repo.objects.readTyped(oid, 'blob', change.path);
  };
  const oldContent = await read(change.oldOid, change.oldMode, false);
  const newContent = await read(change.newOid, change.newMode, fromWorktree);
  const header = `diff --shadowgit a/${change.path} b/${change.path}\n${change.oldMode && change.newMode && change.oldMode !== change.newMode ? `old mode ${change.oldMode}\nnew mode ${change.newMode}\n` : ''}`;
  if (change.status === 'mode') return header;
  if (looksBinary(oldContent) || looksBinary(newContent)) return `${header}Binary files differ\n`;
  const patch = createTwoFilesPatch(change.oldOid ? `a/${change.path}` : '/dev/null', change.newOid ? `b/${change.path}` : '/dev/null', oldContent.toString('utf8'), newContent.toString('utf8'), '', '', { context: 3 });
  return header + patch.split('\n').slice(1).join('\n');
}
