import { promises as fsp, constants as fsc, createReadStream } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { CorruptObjectError, ShadowGitError } from './errors.js';
import { tempPathFor } from './fsutil.js';
import { faultPoint } from './faults.js';

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);
/** Speed over a few percent of size: loose objects are repacked by `gc` anyway. */
const DEFLATE_OPTIONS = { level: zlib.constants.Z_BEST_SPEED };
/** Files above this are hashed and deflated as a stream, never whole in memory. */
export const STREAM_THRESHOLD = 8 * 1024 * 1024;

export function objectHeader(type: ObjectType, size: number): Buffer {
  return Buffer.from(`${type} ${size}\0`);
}

export function hashObject(type: ObjectType, content: Uint8Array): string {
  return createHash('sha1').update(objectHeader(type, content.length)).update(content).digest('hex');
}

export function looseObjectPath(gitdir: string, oid: string): string {
  return path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
}

/**
 * Object store of one shadow repository. Writes are loose objects made atomic by temp file +
 * rename (a crash leaves a stray temp file, never a truncated object under the real name).
 */
export class ObjectStore {
  private readonly knownDirs = new Set<string>();
  private packReader: ((oid: string) => Promise<{ type: string; object: Uint8Array } | undefined>) | undefined;

  constructor(readonly gitdir: string) {}

  async has(oid: string): Promise<boolean> {
    try {
      await fsp.access(looseObjectPath(this.gitdir, oid));
      return true;
    } catch {
      return (await this.readPacked(oid)) !== undefined;
    }
  }

  private async ensureDir(oid: string): Promise<string> {
    const dir = path.join(this.gitdir, 'objects', oid.slice(0, 2));
    if (!this.knownDirs.has(dir)) {
      await fsp.mkdir(dir, { recursive: true });
      this.knownDirs.add(dir);
    }
    return dir;
  }

  /** Writes `content` as an object unless it exists; returns its id. */
  async write(type: ObjectType, content: Uint8Array): Promise<string> {
    const oid = hashObject(type, content);
    const target = looseObjectPath(this.gitdir, oid);
    if (await pathExists(target)) return oid;
    await this.ensureDir(oid);
    const deflated = await deflate(Buffer.concat([objectHeader(type, content.length), content]), DEFLATE_OPTIONS);
    await writeNewFile(target, deflated);
    return oid;
  }

  /**
   * Streams a large file into a blob: hash and deflate while reading, so memory stays flat.
   * `expectedSize` is the size from lstat; a file that grows or shrinks while read is an error
   * the caller retries.
   */
  async writeBlobFromFile(file: string, expectedSize: number): Promise<string> {
    const hash = createHash('sha1').update(objectHeader('blob', expectedSize));
    const tmpDir = path.join(this.gitdir, 'objects');
    const tmp = tempPathFor(path.join(tmpDir, 'incoming'));
    let seen = 0;
    const gzip = zlib.createDeflate(DEFLATE_OPTIONS);
    gzip.write(objectHeader('blob', expectedSize));
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      const out = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o444);
      try {
        await pipeline(createReadStream(file), tap, gzip, out.createWriteStream());
      } finally {
        await out.close().catch(() => undefined);
      }
      if (seen !== expectedSize) throw new ShadowGitError(`${file} changed size while it was read`, 'ECHANGED');
      const oid = hash.digest('hex');
      const target = looseObjectPath(this.gitdir, oid);
      await this.ensureDir(oid);
      if (await pathExists(target)) await fsp.rm(tmp, { force: true });
      else await fsp.rename(tmp, target);
      return oid;
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  /** Reads and verifies an object; a missing or damaged one throws CorruptObjectError. */
  async read(oid: string, where?: string): Promise<{ type: ObjectType; content: Buffer }> {
    let raw: Buffer | undefined;
    try {
      raw = await fsp.readFile(looseObjectPath(this.gitdir, oid));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (raw) {
      let inflated: Buffer;
      try {
        inflated = await inflate(raw);
      } catch {
        throw new CorruptObjectError(oid, where, 'damaged (it does not inflate)');
      }
      const nul = inflated.indexOf(0);
      const [type, sizeText] = inflated.subarray(0, nul).toString('latin1').split(' ');
      const content = inflated.subarray(nul + 1);
      if (nul < 0 || Number(sizeText) !== content.length || !isObjectType(type)) throw new CorruptObjectError(oid, where, 'damaged (bad header)');
      if (hashObject(type, content) !== oid) throw new CorruptObjectError(oid, where, 'damaged (its content does not match its id)');
      return { type, content };
    }
    const packed = await this.readPacked(oid);
    if (!packed) throw new CorruptObjectError(oid, where, 'missing');
    if (!isObjectType(packed.type)) throw new CorruptObjectError(oid, where, 'damaged (unknown type)');
    const content = Buffer.from(packed.object);
    if (hashObject(packed.type, content) !== oid) throw new CorruptObjectError(oid, where, 'damaged (its content does not match its id)');
    return { type: packed.type, content };
  }

  async readTyped(oid: string, type: ObjectType, where?: string): Promise<Buffer> {
    const object = await this.read(oid, where);
    if (object.type !== type) throw new CorruptObjectError(oid, where, `a ${object.type}, not a ${type}`);
    return object.content;
  }

  /** Packed objects (after `gc`) are read through isomorphic-git, loaded only when needed. */
  private async readPacked(oid: string): Promise<{ type: string; object: Uint8Array } | undefined> {
    const packDir = path.join(this.gitdir, 'objects', 'pack');
    if (!this.packReader) {
      const packs = await fsp.readdir(packDir).catch(() => [] as string[]);
      if (!packs.some((name) => name.endsWith('.idx'))) return undefined;
      const [{ default: git }, fs] = await Promise.all([import('isomorphic-git'), import('node:fs')]);
      const cache = {};
      this.packReader = async (id) => {
        try {
          const result = await git.readObject({ fs, gitdir: this.gitdir, oid: id, format: 'content', cache });
          return { type: result.type, object: result.object as Uint8Array };
        } catch {
          return undefined;
        }
      };
    }
    return this.packReader(oid);
  }
}

function isObjectType(type: string | undefined): type is ObjectType {
  return type === 'blob' || type === 'tree' || type === 'commit' || type === 'tag';
}

async function pathExists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Temp file + rename: the object's real name only ever holds a whole object. */
async function writeNewFile(target: string, data: Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  await fsp.writeFile(tmp, data, { mode: 0o444, flag: 'wx' });
  await faultPoint('object');
  await fsp.rename(tmp, target);
}
