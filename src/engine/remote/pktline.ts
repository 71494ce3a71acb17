import { ShadowGitError } from '../errors.js';

/**
 * git's pkt-line framing (Documentation/technical/protocol-common.txt): four hex digits giving
 * the line's length including themselves, then the payload; `0000` is a flush packet. Side-band
 * (protocol-capabilities.txt) puts one more byte in front of each payload: 1 data, 2 progress,
 * 3 a fatal error.
 */

/** The largest pkt-line: 65520 bytes, four of them the length. */
const MAX_PKT = 65520;
export const FLUSH = Buffer.from('0000');

export function pktLine(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (body.length + 4 > MAX_PKT) throw new Error(`pkt-line payload of ${body.length} bytes is too long`);
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}

export function protocolError(what: string): ShadowGitError {
  return new ShadowGitError(`the remote answered something shadowgit cannot read (${what}); check that the URL names a git repository served over smart HTTP.`, 'EPROTOCOL');
}

/**
 * Reads bytes from a stream on demand: exact lengths, or whatever is buffered. Consumed bytes
 * can be observed (`onConsume`), which is how a pack's checksum is computed as it is parsed.
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  onConsume: ((bytes: Buffer) => void) | undefined;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  get available(): number {
    return this.buffered;
  }

  /** Whether the source has ended (what is buffered is all there is). */
  get ended(): boolean {
    return this.done;
  }

  /** Buffers at least `n` bytes; false when the source ended first. */
  async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) await this.pull();
    return this.buffered >= n;
  }

  /** Reads one more chunk from the source; false when it has ended. */
  async pull(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Everything buffered, as one buffer, without consuming it. */
  peekAll(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Consumes `n` buffered bytes (the caller made sure they are there). */
  consume(n: number): Buffer {
    const all = this.peekAll();
    const taken = all.subarray(0, n);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.buffered -= n;
    this.onConsume?.(taken);
    return taken;
  }

  /** Reads exactly `n` bytes, or fails saying `what` was cut short. */
  async read(n: number, what: string): Promise<Buffer> {
    if (!(await this.fill(n))) throw protocolError(`${what} was cut short`);
    return this.consume(n);
  }

  /** Consumes and returns the first buffered chunk (pulling one if none), at most `max` bytes. */
  async takeChunk(max: number): Promise<Buffer | undefined> {
    if (this.buffered === 0 && !(await this.fill(1))) return undefined;
    const first = this.chunks[0]!;
    return this.consume(Math.min(first.length, max));
  }
}

/** One pkt-line: its payload, or `flush`, or undefined at the end of the stream. */
export async function readPkt(reader: ByteReader): Promise<Buffer | 'flush' | undefined> {
  if (!(await reader.fill(4))) {
    if (reader.available === 0) return undefined;
    throw protocolError('a pkt-line was cut short');
  }
  const lengthText = reader.consume(4).toString('latin1');
  if (!/^[0-9a-f]{4}$/.test(lengthText)) throw protocolError(`bad pkt-line length ${JSON.stringify(lengthText)}`);
  const length = parseInt(lengthText, 16);
  // 0001 (delim) and 0002 (response-end) belong to protocol v2, which is never asked for.
  if (length === 0) return 'flush';
  if (length < 4) throw protocolError(`unexpected pkt-line ${lengthText}`);
  return reader.read(length - 4, 'a pkt-line');
}

/** A payload's text without its trailing newline. */
export function pktText(payload: Buffer): string {
  const text = payload.toString('utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * Splits a side-band stream: band 1 (data) is yielded, band 2 (progress) goes to `onProgress`,
 * band 3 (the server's fatal error) throws. Ends at a flush packet or the end of the stream.
 */
export async function* demuxSideBand(reader: ByteReader, onProgress: (text: string) => void, onServerError: (text: string) => Error): AsyncGenerator<Buffer> {
  for (;;) {
    const pkt = await readPkt(reader);
    if (pkt === undefined || pkt === 'flush') return;
    const band = pkt[0];
    if (band === 1) yield pkt.subarray(1);
    else if (band === 2) onProgress(pkt.subarray(1).toString('utf8'));
    else if (band === 3) throw onServerError(pktText(pkt.subarray(1)).trim());
    else throw protocolError(`side-band ${band}`);
  }
}

/** Keeps the last lines a server printed on its progress band, for an error to quote. */
export class ServerMessages {
  private partial = '';
  readonly lines: string[] = [];

  constructor(private readonly keep = 8) {}

  add(text: string): void {
    const parts = (this.partial + text).split(/\r|\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      const trimmed = line.trim();
      if (trimmed) this.lines.push(trimmed);
      if (this.lines.length > this.keep) this.lines.shift();
    }
  }

  /** What the server said, without git's own progress counters. */
  summary(): string {
    const said = [...this.lines, this.partial.trim()].filter((line) => line && !/^(Counting|Compressing|Writing|Enumerating|Total|Resolving|Receiving|Unpacking) /.test(line));
    return said.join(' / ');
  }
}
