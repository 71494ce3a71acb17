import { randomBytes } from 'node:crypto';
import { ShadowGitError } from '../errors.js';
import { readFileIfExists } from '../fsutil.js';
import { appendJsonLine, parseJsonLines, type OpRecord } from '../store/oplog.js';
import type { Repository } from '../store/repo.js';
import { REWRITES } from '../store/statefiles.js';

/**
 * What every prune did to commit hashes, so a hash printed before a prune keeps naming its
 * snapshot: one JSON line per prune, appended (and fsynced) before the prune moves any ref.
 * A line without its newline was cut short by a crash and is ignored. Old commits are only
 * named here, never kept: gc deletes them like any unreachable object.
 */
export interface PruneRecord {
  /** Unique per prune: an interrupted prune finished from its journal appends its record once. */
  prune: string;
  /** When the prune ran (ISO 8601). */
  time: string;
  /** The policy as flags: "keep-last 5, keep-daily 7". */
  policy: string;
  /** Old commit → new commit of every kept snapshot whose hash changed. */
  rewritten: Record<string, string>;
  /** Commit → snapshot id of every snapshot the prune removed. */
  removed: Record<string, string>;
}

export interface Removal {
  id: string;
  commit: string;
  time: string;
  policy: string;
}

/** What became of a commit: the commit naming its snapshot now (itself when never rewritten), or its removal. */
export type Fate = { commit: string } | { removal: Removal };

export function newPruneRecord(policy: string, rewritten: Map<string, string>, removed: Array<{ commit: string; id: string }>): PruneRecord {
  return {
    prune: randomBytes(8).toString('hex'),
    time: new Date().toISOString(),
    policy,
    rewritten: Object.fromEntries([...rewritten].filter(([from, to]) => from !== to)),
    removed: Object.fromEntries(removed.map((s) => [s.commit, s.id])),
  };
}

export class Rewrites {
  /** Commit → its newest step: the commit it became, or its removal. Later prunes override earlier ones. */
  private readonly steps = new Map<string, { to: string } | { removal: Removal }>();
  private readonly removals: Removal[] = [];

  private constructor(readonly records: PruneRecord[]) {
    for (const record of records) {
      for (const [from, to] of Object.entries(record.rewritten)) this.steps.set(from, { to });
      for (const [commit, id] of Object.entries(record.removed)) {
        const removal = { id, commit, time: record.time, policy: record.policy };
        this.steps.set(commit, { removal });
        this.removals.push(removal);
      }
    }
  }

  static async load(repo: Repository): Promise<Rewrites> {
    const text = (await readFileIfExists(repo.statePath(REWRITES)))?.toString('utf8') ?? '';
    return new Rewrites(parseJsonLines(text).filter(isPruneRecord));
  }

  get empty(): boolean {
    return this.steps.size === 0;
  }

  /** Follows `commit` through every prune since it was printed (A → B by one prune, B → C by the next). */
  follow(commit: string): Fate {
    const seen = new Set<string>();
    let current = commit;
    for (let step = this.steps.get(current); step && !seen.has(current); step = this.steps.get(current)) {
      if ('removal' in step) return { removal: step.removal };
      seen.add(current);
      current = step.to;
    }
    return { commit: current };
  }

  /** Every old commit starting with `prefix` (lower-case hex). */
  oldCommitsStartingWith(prefix: string): string[] {
    return [...this.steps.keys()].filter((commit) => commit.startsWith(prefix));
  }

  /** The newest removal of each removed snapshot whose id starts with `prefix`. */
  removalsWithIdPrefix(prefix: string): Removal[] {
    const byId = new Map<string, Removal>();
    for (const removal of this.removals) if (removal.id.startsWith(prefix)) byId.set(removal.id, removal);
    return [...byId.values()];
  }
}

function isPruneRecord(value: unknown): value is PruneRecord {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  return isObject(value) && isObject(value.rewritten) && isObject(value.removed);
}

/** Appends `record` unless it is already there (a prune finished after a crash), durably. */
export async function appendPruneRecord(repo: Repository, record: PruneRecord): Promise<void> {
  if ((await Rewrites.load(repo)).records.some((r) => r.prune === record.prune)) return;
  await appendJsonLine(repo.statePath(REWRITES), record, { durable: true });
}

/** "snapshot X (commit …) was removed by prune on DATE (policy: …)", with what to do. */
export class RemovedSnapshotError extends ShadowGitError {
  constructor(
    readonly removal: Removal,
    typed: string,
  ) {
    const what = typed === removal.id ? `snapshot ${removal.id}` : `"${typed}" names snapshot ${removal.id} (commit ${removal.commit.slice(0, 10)}), which`;
    super(`${what} was removed by prune on ${removal.time.slice(0, 16).replace('T', ' ')} UTC (policy: ${removal.policy}); \`shadowgit list\` shows what is kept.`, 'EPRUNED');
  }
}

/** A logged operation with the commits it names as they are named now. */
export interface LoggedOp extends OpRecord {
  /** Per entry of `commits`: the commit naming that snapshot now (a prune may have rewritten it), or null when a prune removed it. */
  currentCommits: Array<string | null>;
}

export function withCurrentCommits(record: OpRecord, rewrites: Rewrites): LoggedOp {
  const commits = Array.isArray(record.commits) ? record.commits : [];
  const current = (commit: string) => {
    const fate = rewrites.follow(commit);
    return 'commit' in fate ? fate.commit : null;
  };
  return { ...record, currentCommits: commits.map(current) };
}
