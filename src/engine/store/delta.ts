/**
 * Git's delta format (Documentation/gitformat-pack.txt, "Deltified representation"), both ways:
 * the sizes of base and result as varints, then instructions that either copy a range of the
 * base or insert literal bytes. No npm package creates this format (they only apply it), so the
 * encoder is built here the way git's diff-delta.c does, more simply: the base is indexed by a hash of
 * each aligned 16-byte block, the target is scanned with a rolling hash of the same 16 bytes,
 * and every hit is verified and stretched as far as the bytes agree (forward, and backward over
 * bytes not yet emitted). Any common run of 31 bytes or more is found.
 */

const BLOCK = 16;
/** git writes no copy longer than this (a longer one needs pack version 3 readers). */
const MAX_COPY = 0x10000;
const MAX_INSERT = 0x7f;
/** Candidates looked at per hash bucket: bounds the time spent on repetitive content. */
const CHAIN_LIMIT = 32;
const PRIME = 0x01000193;
/** PRIME^(BLOCK-1) mod 2^32: the weight of the byte leaving the rolling window. */
const OUTGOING_WEIGHT = (() => {
  let weight = 1;
  for (let i = 1; i < BLOCK; i++) weight = Math.imul(weight, PRIME);
  return weight;
})();

/** A base prepared for deltas against it; built once, used for every target tried against it. */
export interface DeltaIndex {
  base: Buffer;
  shift: number;
  /** First block (index into the base / BLOCK) per bucket, -1 when empty; `next` chains the rest. */
  head: Int32Array;
  next: Int32Array;
}

function hashBlock(bytes: Buffer, at: number): number {
  let hash = 0;
  for (let i = 0; i < BLOCK; i++) hash = (Math.imul(hash, PRIME) + bytes[at + i]!) | 0;
  return hash;
}

function bucketOf(hash: number, shift: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> shift;
}

export function indexBase(base: Buffer): DeltaIndex {
  const blocks = Math.floor(base.length / BLOCK);
  let bits = 1;
  while (1 << bits < blocks && bits < 30) bits++;
  const head = new Int32Array(1 << bits).fill(-1);
  const next = new Int32Array(blocks);
  const shift = 32 - bits;
  // Inserted from the end, so each chain lists earlier blocks first.
  for (let block = blocks - 1; block >= 0; block--) {
    const bucket = bucketOf(hashBlock(base, block * BLOCK), shift);
    next[block] = head[bucket]!;
    head[bucket] = block;
  }
  return { base, shift, head, next };
}

/** A growing output buffer. */
class Output {
  bytes = Buffer.allocUnsafe(256);
  length = 0;

  private room(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + extra));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  byte(value: number): void {
    this.room(1);
    this.bytes[this.length++] = value;
  }

  varint(value: number): void {
    while (value >= 0x80) {
      this.byte((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.byte(value);
  }

  insert(source: Buffer, start: number, end: number): void {
    for (let at = start; at < end; at += MAX_INSERT) {
      const size = Math.min(MAX_INSERT, end - at);
      this.room(size + 1);
      this.bytes[this.length++] = size;
      source.copy(this.bytes, this.length, at, at + size);
      this.length += size;
    }
  }

  copy(offset: number, size: number): void {
    for (; size > 0; ) {
      const piece = Math.min(MAX_COPY, size);
      this.room(8);
      const opAt = this.length++;
      let op = 0x80;
      for (let bit = 0; bit < 4; bit++) {
        const byte = Math.floor(offset / 2 ** (8 * bit)) & 0xff;
        if (byte !== 0) {
          op |= 1 << bit;
          this.bytes[this.length++] = byte;
        }
      }
      // A copy of exactly 0x10000 bytes is written with no size bytes at all.
      for (let bit = 0; bit < 3 && piece !== MAX_COPY; bit++) {
        const byte = (piece >> (8 * bit)) & 0xff;
        if (byte !== 0) {
          op |= 1 << (4 + bit);
          this.bytes[this.length++] = byte;
        }
      }
      this.bytes[opAt] = op;
      offset += piece;
      size -= piece;
    }
  }
}

/** How many bytes from base[b] and target[t] on are equal, at most `limit`. */
function matchLength(base: Buffer, b: number, target: Buffer, t: number, limit: number): number {
  // A chance hash hit is turned down here, in the first bytes; long runs are compared
  // natively in growing chunks, the tail byte by byte.
  let length = 0;
  const head = Math.min(limit, BLOCK);
  while (length < head && base[b + length] === target[t + length]) length++;
  if (length < head) return length;
  for (let chunk = 32; length + chunk <= limit; chunk = Math.min(chunk * 2, 1 << 16)) {
    if (base.compare(target, t + length, t + length + chunk, b + length, b + length + chunk) !== 0) break;
    length += chunk;
  }
  while (length < limit && base[b + length] === target[t + length]) length++;
  return length;
}

/** Below this length a match may be a chance repeat: the next BLOCK - 1 positions are tried too. */
const LAZY_BELOW = 256;

const roll = (target: Buffer, at: number, hash: number) => (Math.imul((hash - Math.imul(target[at]!, OUTGOING_WEIGHT)) | 0, PRIME) + target[at + BLOCK]!) | 0;

/**
 * The delta that builds `target` from the indexed base, or undefined when it would be larger
 * than `maxSize` bytes (the encoding stops as soon as it is).
 */
export function createDelta(index: DeltaIndex, target: Buffer, maxSize = Infinity): Buffer | undefined {
  const { base, shift, head, next } = index;
  const out = new Output();
  out.varint(base.length);
  out.varint(target.length);
  let pending = 0;
  /** The longest verified match for the block of `target` at `at`, stretched back over pending bytes. */
  const find = (at: number, hash: number) => {
    let length = 0;
    let from = 0;
    let walked = 0;
    for (let block = head[bucketOf(hash, shift)]!; block >= 0 && walked < CHAIN_LIMIT; block = next[block]!, walked++) {
      const start = block * BLOCK;
      const found = matchLength(base, start, target, at, Math.min(base.length - start, target.length - at));
      if (found > length) {
        length = found;
        from = start;
        if (at + found === target.length) break;
      }
    }
    if (length < BLOCK) return undefined;
    let start = at;
    while (from > 0 && start > pending && base[from - 1] === target[start - 1]) {
      from--;
      start--;
      length++;
    }
    return { start, from, length };
  };
  let at = 0;
  let hash = target.length >= BLOCK ? hashBlock(target, 0) : 0;
  while (at + BLOCK <= target.length) {
    let match = find(at, hash);
    if (!match) {
      if (out.length + at - pending > maxSize) return undefined;
      if (at + BLOCK < target.length) hash = roll(target, at, hash);
      at++;
      continue;
    }
    // The base is indexed at every BLOCKth byte only: a long match whose alignment differs
    // shows up within the next BLOCK - 1 positions, and is worth more than a short one here.
    for (let ahead = at, aheadHash = hash; match.length < LAZY_BELOW && ahead + 1 < at + BLOCK && ahead + 1 + BLOCK <= target.length; ) {
      aheadHash = roll(target, ahead, aheadHash);
      ahead++;
      const later = find(ahead, aheadHash);
      if (later && later.start + later.length > match.start + match.length && later.length > match.length) match = later;
    }
    out.insert(target, pending, match.start);
    out.copy(match.from, match.length);
    if (out.length > maxSize) return undefined;
    at = match.start + match.length;
    pending = at;
    if (at + BLOCK <= target.length) hash = hashBlock(target, at);
  }
  out.insert(target, pending, target.length);
  return out.length > maxSize ? undefined : Buffer.from(out.bytes.subarray(0, out.length));
}

/** Reads a varint-coded size at the start of a delta. */
function deltaSize(delta: Buffer, at: { pos: number }, fail: (problem: string) => Error): number {
  let size = 0;
  let shift = 0;
  for (;;) {
    const byte = delta[at.pos++];
    if (byte === undefined) throw fail('a delta is cut short');
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return size;
  }
}

/**
 * Applies a git delta to `base` (used by the pack reader and by fetch); `fail` makes the error of a
 * malformed delta. The result is held whole: git deltifies nothing over core.bigFileThreshold,
 * 512 MiB.
 */
export function applyDelta(base: Buffer, delta: Buffer, fail: (problem: string) => Error): Buffer {
  const at = { pos: 0 };
  if (deltaSize(delta, at, fail) !== base.length) throw fail('a delta names a base of another size');
  const resultSize = deltaSize(delta, at, fail);
  // A delta can copy at most 64 KiB per instruction byte sequence of 1-8 bytes, or insert 127 per byte.
  if (resultSize > (delta.length - at.pos) * 0x10000) throw fail('a delta announces more than it can build');
  // Unfilled bytes are impossible: the result is refused unless every one was written.
  const result = Buffer.allocUnsafe(resultSize);
  let out = 0;
  while (at.pos < delta.length) {
    const op = delta[at.pos++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) offset += delta[at.pos++]! * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (op & (1 << (4 + bit))) size += delta[at.pos++]! << (8 * bit);
      if (size === 0) size = 0x10000;
      if (at.pos > delta.length || offset + size > base.length || out + size > result.length) throw fail('a delta copies past its base');
      base.copy(result, out, offset, offset + size);
      out += size;
    } else if (op > 0) {
      if (out + op > result.length || at.pos + op > delta.length) throw fail('a delta inserts past its end');
      delta.copy(result, out, at.pos, at.pos + op);
      at.pos += op;
      out += op;
    } else {
      throw fail('a delta holds a reserved instruction');
    }
  }
  if (out !== result.length) throw fail('a delta builds less than it announced');
  return result;
}
