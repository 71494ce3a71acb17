/**
 * GET /api/events: server-sent events for the open pages (docs/ui.md). Snapshots come from
 * other processes too (the CLI, the watcher, an agent's hook), so the shadow repository's refs
 * are polled — one directory walk a round, no object read — and a moved snapshots ref becomes a
 * `snapshot` event, any other moved ref (approvals, fetched remotes, notes) a `refs` event. The
 * server's own actions send `action`. A comment every 15 s keeps idle connections open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ShadowGit } from '../shadowgit.js';

const SNAPSHOTS_REF = 'refs/heads/snapshots';
const HEARTBEAT_MS = 15_000;
/** How often the refs are read: a new snapshot shows within a second. */
const POLL_MS = 750;

export class EventHub {
  private readonly open = new Set<ServerResponse>();
  private tips: Map<string, string> | undefined;
  private poller: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly sg: ShadowGit,
    /** Told when a stream opens or closes (the server's idle stop counts them). */
    private readonly onStreams: () => void,
  ) {}

  /** Open event streams (the server does not stop for idleness while there is one). */
  get streams(): number {
    return this.open.size;
  }

  /** Starts watching the refs: what they are now is the baseline, not news. */
  start(): void {
    const round = async () => {
      await this.poll();
      if (!this.closed) this.poller = setTimeout(() => void round(), POLL_MS);
    };
    void round();
    this.heartbeat = setInterval(() => {
      for (const res of this.open) res.write(': heartbeat\n\n');
    }, HEARTBEAT_MS);
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed) return void res.writeHead(503).end();
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    // A first line at once: the page (and a test) knows the stream is open.
    res.write('retry: 2000\n: open\n\n');
    this.open.add(res);
    this.onStreams();
    req.on('close', () => {
      this.open.delete(res);
      this.onStreams();
    });
  }

  publish(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.open) res.write(frame);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.poller);
    clearInterval(this.heartbeat);
    for (const res of this.open) res.end();
    this.open.clear();
  }

  private async poll(): Promise<void> {
    // A ref being replaced as it is read, or a repository not created yet: the next round sees it.
    const tips = await this.sg.refTips().catch(() => undefined);
    if (!tips || this.closed) return;
    const before = this.tips;
    this.tips = tips;
    if (!before) return;
    const tip = tips.get(SNAPSHOTS_REF);
    if (tip && tip !== before.get(SNAPSHOTS_REF)) {
      const snapshot = await this.sg.resolve(tip).catch(() => undefined);
      this.publish('snapshot', { id: snapshot?.id ?? null, commit: tip });
    }
    const others = (m: Map<string, string>) => JSON.stringify([...m].filter(([name]) => name !== SNAPSHOTS_REF).sort());
    if (others(tips) !== others(before)) this.publish('refs', {});
  }
}
