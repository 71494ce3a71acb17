// The chain index (issue #22): one line per snapshot of the first-parent chain from the
// snapshots ref, oldest first, so that `list`, resolving a revision and `status`'s count read one
// small file instead of every commit object of a long history. It is an accelerator, never the
// truth: history.ts (loadChain) checks its newest line against the ref on every load, reads only
// the commits the ref moved past (usually one), and builds it anew when it is missing or damaged.
//
// Layout (text, so native tools can read it):
//   shadowgit-chain-index 1 <parent commit of the oldest line, or ->
//   <commit> <id>\t<agent>\t<session>\t<trigger>\t<unix time>\t<added> <modified> <deleted>\t<event>\t<tool>\t<tool use id>\t<prompt id>\t<message>
// Free text has \\, tab, newline and carriage return escaped. A line is only parsed in full when
// asked for: loading finds where each line starts and checks its shape, nothing more, and the
// agent field comes first so that grouping sessions skips lines no hook recorded.
//
// Crash safety: the file is replaced whole (temp + rename), or a writer holding the repository
// lock appends one line after checking, on the same descriptor, that the file ends with the new
// snapshot's parent. A line cut short by a crash, or any line that is not of the shape above,
// ends what is read: the lines before it are still true, and the next load catches up from there.
import { constants as fsc, promises as fsp } from 'node:fs';
import { readFileIfExists, writeFileAtomic } from '../fsutil.js';
import type { AgentProvenance } from '../provenance.js';
import type { Repository } from '../store/repo.js';
import { CHAIN_INDEX } from '../store/statefiles.js';

const MAGIC = 'shadowgit-chain-index 1 ';
/** commit, space, id, then ten tab-separated fields, then the newline. */
const LINE = /[0-9a-f]{40} [^\t\n]+(?:\t[^\t\n]*){10}\n/y;

/** What the index holds of a snapshot: everything SnapshotInfo has but its tree. */
export interface IndexedSnapshot {
  id: string;
  commit: string;
  parent: string | undefined;
  date: Date;
  message: string;
  trigger: string;
  changes: { added: number; modified: number; deleted: number };
  agent?: AgentProvenance;
}

/** What grouping by agent session needs of a snapshot, with where it is on the chain. */
export interface IndexedAgentSnapshot {
  position: number;
  trigger: string;
  agent: Pick<AgentProvenance, 'agent' | 'session'>;
}

const escapeText = (text: string): string => text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
const unescapeText = (text: string): string => (text.includes('\\') ? text.replace(/\\([\\tnr])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')) : text);

/** The index line of `snapshot`. */
export function indexLine(snapshot: IndexedSnapshot): string {
  const agent = snapshot.agent;
  const { added, modified, deleted } = snapshot.changes;
  const fields = [agent?.agent, agent?.session, snapshot.trigger, String(Math.floor(snapshot.date.getTime() / 1000)), `${added} ${modified} ${deleted}`, agent?.event, agent?.tool, agent?.toolUseId, agent?.promptId, snapshot.message];
  return `${snapshot.commit} ${escapeText(snapshot.id) || '-'}\t${fields.map((f) => escapeText(f ?? '')).join('\t')}\n`;
}

export function indexHeader(rootParent: string | undefined): string {
  return `${MAGIC}${rootParent ?? '-'}\n`;
}

/**
 * The index as read from its file: the chain's snapshots by position, 0 the newest (as
 * listSnapshots orders them). Lines are decoded when asked for.
 */
export class ChainIndex {
  /** Where each line starts, oldest first. */
  private readonly starts: number[];
  private byCommit: Map<string, number> | undefined;

  private constructor(
    readonly text: string,
    /** The parent of the oldest snapshot indexed: a commit that could not be read when the index was made (else undefined: the chain's root). */
    readonly rootParent: string | undefined,
    starts: number[],
    /** False when the file went on past the last good line (a line cut short or damaged): it is then written whole, not appended to. */
    readonly clean: boolean,
  ) {
    this.starts = starts;
  }

  /** The index in `text`; undefined when it is not an index at all. */
  static parse(text: string): ChainIndex | undefined {
    if (!text.startsWith(MAGIC)) return undefined;
    const headerEnd = text.indexOf('\n');
    const root = text.slice(MAGIC.length, headerEnd);
    if (headerEnd < 0 || (root !== '-' && !/^[0-9a-f]{40}$/.test(root))) return undefined;
    const starts: number[] = [];
    let at = headerEnd + 1;
    for (LINE.lastIndex = at; LINE.test(text); LINE.lastIndex = at) {
      starts.push(at);
      at = LINE.lastIndex;
    }
    return new ChainIndex(text.slice(0, at), root === '-' ? undefined : root, starts, at === text.length);
  }

  static async read(repo: Repository): Promise<ChainIndex | undefined> {
    const raw = await readFileIfExists(repo.statePath(CHAIN_INDEX)).catch(() => undefined);
    return raw && ChainIndex.parse(raw.toString('utf8'));
  }

  get length(): number {
    return this.starts.length;
  }

  /** The newest snapshot's commit: the ref's commit when the index is current. */
  get tip(): string | undefined {
    return this.length > 0 ? this.commitAt(0) : undefined;
  }

  private lineStart(position: number): number {
    return this.starts[this.starts.length - 1 - position]!;
  }

  commitAt(position: number): string {
    const start = this.lineStart(position);
    return this.text.slice(start, start + 40);
  }

  idAt(position: number): string {
    const start = this.lineStart(position) + 41;
    return unescapeText(this.text.slice(start, this.text.indexOf('\t', start)));
  }

  /** The position of `commit`, or -1. */
  positionOf(commit: string): number {
    if (this.length > 0 && this.text.startsWith(commit, this.lineStart(0)) && commit.length === 40) return 0;
    if (!this.byCommit) {
      this.byCommit = new Map();
      for (let position = 0; position < this.length; position++) this.byCommit.set(this.commitAt(position), position);
    }
    return this.byCommit.get(commit) ?? -1;
  }

  /** Positions whose commit starts with `prefix` (lower-case hex). */
  positionsWithCommitPrefix(prefix: string): number[] {
    const found: number[] = [];
    for (let position = 0; position < this.length; position++) if (this.text.startsWith(prefix, this.lineStart(position))) found.push(position);
    return found;
  }

  /** Positions whose id starts with `prefix`. */
  positionsWithIdPrefix(prefix: string): number[] {
    const found: number[] = [];
    for (let position = 0; position < this.length; position++) if (this.text.startsWith(prefix, this.lineStart(position) + 41)) found.push(position);
    return found;
  }

  /** The snapshot at `position`, decoded. */
  at(position: number): IndexedSnapshot {
    const start = this.lineStart(position);
    const fields = this.text.slice(start + 41, this.text.indexOf('\n', start)).split('\t').map(unescapeText);
    const [id, agent, session, trigger, time, changes, event, tool, toolUseId, promptId, message] = fields as [string, string, string, string, string, string, string, string, string, string, string];
    const [added, modified, deleted] = changes.split(' ').map(Number) as [number, number, number];
    return {
      id,
      commit: this.commitAt(position),
      parent: position + 1 < this.length ? this.commitAt(position + 1) : this.rootParent,
      date: new Date(Number(time) * 1000),
      message,
      trigger,
      changes: { added, modified, deleted },
      ...(agent && { agent: { agent, session, event, ...(tool && { tool }), ...(toolUseId && { toolUseId }), ...(promptId && { promptId }) } }),
    };
  }

  /**
   * Every snapshot a hook recorded, newest first, with only what grouping needs (the first three
   * fields: no line is decoded in full); lines no hook recorded are skipped unread.
   */
  agentSnapshots(): IndexedAgentSnapshot[] {
    const found: IndexedAgentSnapshot[] = [];
    const text = this.text;
    for (let position = 0; position < this.length; position++) {
      const agentAt = text.indexOf('\t', this.lineStart(position) + 41) + 1;
      if (text.charCodeAt(agentAt) === 9) continue;
      const sessionAt = text.indexOf('\t', agentAt) + 1;
      const triggerAt = text.indexOf('\t', sessionAt) + 1;
      const agent = { agent: unescapeText(text.slice(agentAt, sessionAt - 1)), session: unescapeText(text.slice(sessionAt, triggerAt - 1)) };
      found.push({ position, trigger: unescapeText(text.slice(triggerAt, text.indexOf('\t', triggerAt))), agent });
    }
    return found;
  }

  /** The file with the snapshots from position `newestKept` back (the newer ones dropped), then `newer` (oldest first) on top. */
  textWith(newestKept: number, newer: IndexedSnapshot[], rootParent = this.rootParent): string {
    const lastKeptLine = this.length - 1 - newestKept;
    const kept = lastKeptLine >= 0 && this.length > 0 ? this.text.slice(this.starts[0], this.starts[lastKeptLine + 1] ?? this.text.length) : '';
    return indexHeader(rootParent) + kept + newer.map(indexLine).join('');
  }
}

/** Replaces the index with `text` as one step (a reader may do this without the lock: any complete file is true for the tip it names). */
export async function saveChainIndex(repo: Repository, text: string): Promise<void> {
  await writeFileAtomic(repo.statePath(CHAIN_INDEX), text, { durable: false }).catch(() => undefined);
}

export async function discardChainIndex(repo: Repository): Promise<void> {
  await fsp.rm(repo.statePath(CHAIN_INDEX), { force: true });
}

/**
 * Adds the snapshot just recorded (the caller holds the repository lock) when the index ends with
 * its parent, in one append: a snapshot does not pay for reading the whole index. Anything else
 * (no index, a torn last line, another tip) leaves the index as it is, and the next load catches up.
 */
export async function appendToChainIndex(repo: Repository, snapshot: IndexedSnapshot): Promise<void> {
  const file = repo.statePath(CHAIN_INDEX);
  if (!snapshot.parent) return saveChainIndex(repo, indexHeader(undefined) + indexLine(snapshot));
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(file, fsc.O_RDWR | fsc.O_APPEND);
    const { size } = await handle.stat();
    // The last line's start: read back from the end until the newline before it shows.
    for (let span = 4096; ; span *= 2) {
      const from = Math.max(0, size - span);
      const tail = Buffer.alloc(size - from);
      await handle.read(tail, 0, tail.length, from);
      if (tail.at(-1) !== 0x0a) return;
      const lineStart = tail.lastIndexOf(0x0a, tail.length - 2) + 1;
      if (lineStart === 0 && from > 0) continue;
      if (tail.toString('latin1', lineStart, lineStart + 40) !== snapshot.parent || tail[lineStart + 40] !== 0x20) return;
      await handle.write(indexLine(snapshot));
      return;
    }
  } catch {
    // No index yet, or it cannot be written: the next load builds it.
  } finally {
    await handle?.close();
  }
}

/**
 * Compares the index with the chain as read whole (`chain`: commit and id, newest first, as
 * verify walks it) and discards it when a line it holds says otherwise: the lines a load trusts
 * are only checked against the commits a command shows or resolves, and verify reads them all.
 * True when the index was discarded.
 */
export async function discardChainIndexUnlike(repo: Repository, chain: Array<{ commit: string; id: string }>): Promise<boolean> {
  const index = await ChainIndex.read(repo);
  if (!index?.tip) return false;
  const offset = chain.findIndex((s) => s.commit === index.tip);
  // An index behind the ref (or of another chain) is caught up by the next load.
  if (offset < 0) return false;
  for (let position = 0; position < index.length; position++) {
    const walked = chain[offset + position];
    if (walked?.commit !== index.commitAt(position) || walked.id !== index.idAt(position)) {
      await discardChainIndex(repo);
      return true;
    }
  }
  return false;
}
