import { readFileIfExists, writeFileAtomic } from '../fsutil.js';
import { readSnapshot, type SnapshotInfo } from './history.js';
import type { Repository } from '../store/repo.js';
import { LAST_CHECKOUT } from '../store/statefiles.js';

/** The record `undo` follows (the state before the last checkout), and what that checkout made the tree match. */
export interface LastCheckout {
  /** The operation as journalled: rollback, restore or undo. */
  op: string;
  /** The state before it: what `undo` returns to. */
  before: string;
  target: string;
  /** When it completed. */
  at: string;
  /** Who asked for it when not the user directly: `guard`. */
  by?: string;
  /** The id of the newest snapshot when it completed: a later snapshot supersedes the checkout as the tree's base. */
  tipId?: string;
  /** Set for a restore of some paths: the tree then matches no single snapshot. */
  paths?: string[];
}

export async function readLastCheckout(repo: Repository): Promise<LastCheckout | undefined> {
  const raw = await readFileIfExists(repo.statePath(LAST_CHECKOUT));
  return raw ? JSON.parse(raw.toString('utf8')) : undefined;
}

/** Written last, after the checkout is verified, under the lock (temp file + rename). */
export async function recordLastCheckout(repo: Repository, record: LastCheckout): Promise<void> {
  await writeFileAtomic(repo.statePath(LAST_CHECKOUT), JSON.stringify(record));
}

export interface TreeBase {
  /** The snapshot the working tree was last made to match. */
  snapshot: SnapshotInfo;
  /** What made it match: rollback, undo, guard. */
  by: string;
  at: string;
}

/**
 * The snapshot a rollback, undo or guard last checked out, while that is still the latest thing
 * that happened (no snapshot was recorded after it; `latest` is the snapshot taken before it).
 * A restore of some paths makes the tree match no single snapshot: no base then. Undefined too
 * when the record cannot be read: the latest snapshot is then the base, as before any checkout.
 */
export async function checkedOutBase(repo: Repository, latest: SnapshotInfo | undefined): Promise<TreeBase | undefined> {
  if (!latest) return undefined;
  try {
    const last = await readLastCheckout(repo);
    if (!last || last.paths || last.tipId !== latest.id) return undefined;
    const snapshot = last.target === latest.commit ? latest : await readSnapshot(repo, last.target);
    return { snapshot, by: last.by ?? last.op, at: last.at };
  } catch {
    return undefined;
  }
}
