import { randomBytes } from 'node:crypto';

/** Paths the watcher remembers; a query reaching further back than the oldest is answered 'all'. */
const MAX_TRACKED_PATHS = 10000;

/**
 * Every changed path with the sequence number of its latest event, oldest first (a Map keeps
 * insertion order; a path seen again moves to the end). Tokens are `<instance>:<seq>`, the
 * instance random per watcher process so that a token from an earlier watcher is never mistaken
 * for one of ours. A token below `floor` predates what the log can answer for.
 */
export class ChangeLog {
  private readonly instance = randomBytes(8).toString('hex');
  private seq = 0;
  private floor = 0;
  private readonly latest = new Map<string, number>();

  constructor(private readonly maxPaths = MAX_TRACKED_PATHS) {}

  record(relPath: string): void {
    this.latest.delete(relPath);
    this.latest.set(relPath, ++this.seq);
    if (this.latest.size > this.maxPaths) {
      const [oldest, oldestSeq] = this.latest.entries().next().value as [string, number];
      this.latest.delete(oldest);
      this.floor = oldestSeq;
    }
  }

  /** Events may have gone unseen: every token handed out so far now answers 'all'. */
  forgetAll(): void {
    this.floor = ++this.seq;
    this.latest.clear();
  }

  token(): string {
    return `${this.instance}:${this.seq}`;
  }

  /** True when the log can list every change after `since`. */
  covers(since: string | undefined): boolean {
    return this.seqOf(since) !== undefined;
  }

  changesSince(since: string | undefined): string[] | 'all' {
    const sinceSeq = this.seqOf(since);
    if (sinceSeq === undefined) return 'all';
    const paths: string[] = [];
    for (const [relPath, seq] of this.latest) if (seq > sinceSeq) paths.push(relPath);
    return paths;
  }

  /** The sequence number of one of our tokens the log still covers. */
  private seqOf(token: string | undefined): number | undefined {
    const match = token === undefined ? null : /^([0-9a-f]+):(\d+)$/.exec(token);
    if (!match || match[1] !== this.instance) return undefined;
    const seq = Number(match[2]);
    return seq >= this.floor && seq <= this.seq ? seq : undefined;
  }
}
