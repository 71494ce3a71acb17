import { promises as fsp } from 'node:fs';
import { faultPoint } from '../faults.js';
import { readFileIfExists, writeFileAtomic } from '../fsutil.js';
import type { Repository } from '../store/repo.js';
import { CHECKOUT_JOURNAL } from '../store/statefiles.js';

// A checkout's journal: written before the first file of the tree is touched and removed when
// the checkout is done, so an interrupted one is finished or abandoned by the next command.

/** What a rollback or restore is about to do; written before the first file is touched. */
export interface Journal {
  op: string;
  /** Commit whose tree is being checked out. */
  target: string;
  /** Snapshot that holds the state before the operation (the way back). */
  before: string;
  /** Limits the operation to these paths (restore); absent for a whole-tree rollback. */
  paths?: string[];
  startedAt: string;
  /** Who asked, when not the user directly (guard): kept in last-checkout.json for status. */
  by?: string;
}

export async function writeJournal(repo: Repository, journal: Journal): Promise<void> {
  await faultPoint('journal');
  await writeFileAtomic(repo.statePath(CHECKOUT_JOURNAL), JSON.stringify(journal));
}

export async function readJournal(repo: Repository): Promise<Journal | undefined> {
  const raw = await readFileIfExists(repo.statePath(CHECKOUT_JOURNAL));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as Journal;
  } catch {
    return undefined;
  }
}

export async function clearJournal(repo: Repository): Promise<void> {
  await fsp.rm(repo.statePath(CHECKOUT_JOURNAL), { force: true });
}
