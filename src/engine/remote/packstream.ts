import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { ShadowGitError } from '../errors.js';
import { STREAM_THRESHOLD, type ObjectStore, type ObjectType } from '../store/objects.js';
import { PackEncoder, packHeader, wholeItem } from '../store/pack.js';
import { applyDelta } from '../store/delta.js';
import { protocolError, type ByteReader } from './pktline.js';

/**
 * Packs as streams (Documentation/gitformat-pack.txt, version 2). Writing: the objects of a
 * push, read from the store one at a time and deflated into pack entries as the request body
 * asks for them, a large loose blob inflated and deflated in chunks. Reading: a fetched pack
 * parsed as it arrives, each object written to the store as a loose object.
 */

const CODE_TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Small entries are gathered into request-body chunks of about this size. */
const BODY_CHUNK = 1 << 20;

/**
 * The pack of `oids` as a byte stream: header, one undeltified entry per object (each read and
 * verified from the store), SHA-1 trailer. Holds at most one small object plus about
 * BODY_CHUNK bytes; a blob above STREAM_THRESHOLD that the store keeps loose or packed
 * undeltified goes through in one-MiB chunks.
 */
export async function* writePackStream(store: ObjectStore, oids: readonly string[], onObject: () => void = () => undefined): AsyncGenerator<Buffer> {
  const hash = createHash('sha1');
  const encoder = new PackEncoder(zlib.constants.Z_BEST_SPEED);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const add = (bytes: Buffer) => {
    hash.update(bytes);
    pending.push(bytes);
    pendingBytes += bytes.length;
  };
  const flush = () => {
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    return chunk;
  };
  add(packHeader(oids.length));
  for (const oid of oids) {
    for await (const bytes of encoder.encode(await wholeItem(store, oid))) {
      add(bytes);
      if (pendingBytes >= BODY_CHUNK) yield flush();
    }
    onObject();
  }
  yield Buffer.concat([flush(), hash.digest()]);
}

/** zlib's worst case for deflating `size` bytes (deflateBound), plus its header and trailer. */
function deflateBound(size: number): number {
  return size + (size >> 12) + (size >> 14) + (size >> 25) + 64;
}

/** Inflates the zlib stream at the reader's position whole (it inflates to `size` bytes), consuming exactly its bytes. */
async function inflateWhole(reader: ByteReader, size: number): Promise<Buffer> {
  await reader.fill(deflateBound(size));
  for (;;) {
    let result: { buffer: Buffer; engine: { bytesWritten: number } } | undefined;
    try {
      result = zlib.inflateSync(reader.peekAll(), { info: true, maxOutputLength: Math.max(1, size) }) as unknown as typeof result;
    } catch (err) {
      const truncated = (err as { code?: string }).code === 'Z_BUF_ERROR';
      if (truncated && (await reader.pull())) continue;
      throw protocolError(truncated ? 'the pack was cut short' : 'a pack entry does not inflate');
    }
    if (result!.buffer.length !== size) throw protocolError('a pack entry inflates to another size than its header says');
    reader.consume(result!.engine.bytesWritten);
    return result!.buffer;
  }
}

/**
 * The zlib stream at the reader's position as a stream of inflated chunks, fed one buffered
 * chunk at a time so that exactly its bytes are consumed: zlib reports how much input it used,
 * and stops using any once the stream's end is reached.
 */
function inflateStreaming(reader: ByteReader): { output: zlib.Inflate; fed: Promise<void> } {
  const output = zlib.createInflate({ chunkSize: BODY_CHUNK });
  const fed = (async () => {
    for (;;) {
      if (reader.available === 0 && !(await reader.pull())) throw protocolError('the pack was cut short');
      const chunk = reader.peekAll().subarray(0, BODY_CHUNK);
      const before = output.bytesWritten;
      await new Promise<void>((resolve, reject) => {
        output.write(chunk, (err) => (err ? reject(err) : resolve()));
      });
      const used = output.bytesWritten - before;
      reader.consume(used);
      if (used < chunk.length) break;
    }
    output.end();
  })();
  fed.catch(() => output.destroy());
  return { output, fed };
}

interface WaitingDelta {
  offset: number;
  base: { offset: number } | { oid: string };
  delta: Buffer;
}

/**
 * Parses the pack at `reader` as it arrives and writes every object into `store` (loose, through
 * its ordinary write path); returns how many there were. Undeltified blobs above STREAM_THRESHOLD
 * are inflated, hashed and deflated in chunks; a delta's base is read whole from the store and
 * its result built in memory. The trailer checksum is verified last: objects written before
 * that are unreferenced until the caller moves a ref.
 */
export async function readPackStream(store: ObjectStore, reader: ByteReader, onObject: () => void = () => undefined): Promise<number> {
  const hash = createHash('sha1');
  let position = 0;
  reader.onConsume = (bytes) => {
    hash.update(bytes);
    position += bytes.length;
  };
  const header = await reader.read(12, 'the pack header');
  if (header.toString('latin1', 0, 4) !== 'PACK' || ![2, 3].includes(header.readUInt32BE(4))) throw protocolError('not a version 2 pack');
  const count = header.readUInt32BE(8);
  /** Where each object began, to find an OFS_DELTA's base. */
  const idAt = new Map<number, string>();
  const waiting: WaitingDelta[] = [];
  const byte = async () => (await reader.read(1, 'a pack entry header'))[0]!;

  const record = async (offset: number, type: ObjectType, content: Buffer) => {
    idAt.set(offset, await store.write(type, content));
    onObject();
  };
  const resolveDelta = async (entry: WaitingDelta): Promise<boolean> => {
    const baseId = 'oid' in entry.base ? entry.base.oid : idAt.get(entry.base.offset);
    if (baseId === undefined || !(await store.has(baseId))) return false;
    const base = await store.read(baseId);
    await record(entry.offset, base.type, applyDelta(base.content, entry.delta, protocolError));
    return true;
  };

  for (let index = 0; index < count; index++) {
    const offset = position;
    let c = await byte();
    const code = (c >> 4) & 7;
    let size = c & 0x0f;
    for (let shift = 4; c & 0x80; shift += 7) {
      c = await byte();
      size += (c & 0x7f) * 2 ** shift;
    }
    if (code === OFS_DELTA || code === REF_DELTA) {
      let base: WaitingDelta['base'];
      if (code === OFS_DELTA) {
        c = await byte();
        let distance = c & 0x7f;
        while (c & 0x80) {
          c = await byte();
          distance = (distance + 1) * 128 + (c & 0x7f);
        }
        base = { offset: offset - distance };
      } else {
        base = { oid: (await reader.read(20, 'a delta base id')).toString('hex') };
      }
      const entry = { offset, base, delta: await inflateWhole(reader, size) };
      if (!(await resolveDelta(entry))) waiting.push(entry);
      continue;
    }
    const type = CODE_TYPES[code];
    if (!type) throw protocolError(`pack entry type ${code}`);
    if (type === 'blob' && size > STREAM_THRESHOLD) {
      const { output, fed } = inflateStreaming(reader);
      const [oid] = await Promise.all([store.writeStream('blob', size, output), fed]);
      idAt.set(offset, oid);
      onObject();
    } else {
      await record(offset, type, await inflateWhole(reader, size));
    }
  }
  // REF_DELTAs whose base came later in the pack (or was itself such a delta).
  for (let progress = true; waiting.length > 0 && progress; ) {
    progress = false;
    for (let i = 0; i < waiting.length; ) {
      if (await resolveDelta(waiting[i]!)) {
        waiting.splice(i, 1);
        progress = true;
      } else i++;
    }
  }
  if (waiting.length > 0) throw new ShadowGitError(`the fetched pack holds ${waiting.length} deltas whose base is neither in it nor here; fetch again, and if it repeats, run \`git fsck\` on the server's repository.`, 'ECORRUPT');
  const computed = hash.digest();
  reader.onConsume = undefined;
  const trailer = await reader.read(20, 'the pack checksum');
  if (!trailer.equals(computed)) throw new ShadowGitError('the fetched pack does not match its checksum (damaged in transit); fetch again.', 'ECORRUPT');
  return count;
}
