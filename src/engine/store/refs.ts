import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';
import { readFileIfExists, writeFileAtomic } from '../fsutil.js';
import { faultPoint } from '../faults.js';

export const SNAPSHOT_REF = 'refs/heads/snapshots';
/** git's default notes ref, so a plain `git notes show <commit>` reads snapshot notes. */
export const NOTES_REF = 'refs/notes/commits';

/** What to do when the snapshots ref names no readable commit (see takeSnapshot, which does it). */
export const BROKEN_TIP_ADVICE =
  'run `shadowgit snapshot`: it keeps the bad ref in the shadow repository\'s shadowgit/broken-refs/ and starts a new chain on the newest intact snapshot the op log names, so no snapshot is lost — then `shadowgit verify`';

/** A ref file that holds neither an object id nor a symbolic ref: git cannot read it either. */
export class DamagedRefError extends ShadowGitError {
  /** What is wrong with it: "holds "…", not an object id". */
  readonly problem: string;

  constructor(
    readonly ref: string,
    readonly file: string,
    content: string,
  ) {
    const problem = `holds ${JSON.stringify(content.slice(0, 40))}, not an object id`;
    super(`the ref file ${file} ${problem}; ${ref === SNAPSHOT_REF ? BROKEN_TIP_ADVICE : 'move it out of the repository'}.`, 'EBADREF');
    this.problem = problem;
  }
}

/** Loose refs and packed-refs of one repository; writes are atomic and durable. */
export class RefStore {
  constructor(readonly gitdir: string) {}

  private async packedRefs(): Promise<Map<string, string>> {
    const text = (await readFileIfExists(path.join(this.gitdir, 'packed-refs')))?.toString('utf8') ?? '';
    const refs = new Map<string, string>();
    for (const line of text.split('\n')) {
      const match = /^([0-9a-f]{40}) (\S+)$/.exec(line);
      if (match) refs.set(match[2]!, match[1]!);
    }
    return refs;
  }

  async read(ref: string): Promise<string | undefined> {
    const file = path.join(this.gitdir, ref);
    const loose = await readFileIfExists(file);
    if (loose) {
      const value = loose.toString('utf8').trim();
      if (value.startsWith('ref: ')) return this.read(value.slice(5));
      if (/^[0-9a-f]{40}$/.test(value)) return value;
      throw new DamagedRefError(ref, file, value);
    }
    return (await this.packedRefs()).get(ref);
  }

  /** Objects must be written before this is called: the ref is the commit point. */
  async write(ref: string, oid: string): Promise<void> {
    const file = path.join(this.gitdir, ref);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await faultPoint('ref');
    await writeFileAtomic(file, `${oid}\n`);
  }

  async delete(ref: string): Promise<void> {
    await fsp.rm(path.join(this.gitdir, ref), { force: true });
    const packed = await this.packedRefs();
    if (packed.delete(ref)) await this.writePacked(packed);
  }

  private async writePacked(refs: Map<string, string>): Promise<void> {
    const lines = ['# pack-refs with: peeled fully-peeled sorted', ...[...refs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, oid]) => `${oid} ${name}`)];
    await writeFileAtomic(path.join(this.gitdir, 'packed-refs'), `${lines.join('\n')}\n`);
  }

  /** All refs under `prefix` (e.g. "refs/tags/"), loose overriding packed. */
  async list(prefix: string): Promise<Map<string, string>> {
    const refs = new Map<string, string>();
    for (const [name, oid] of await this.packedRefs()) if (name.startsWith(prefix)) refs.set(name, oid);
    const walk = async (dir: string, rel: string): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.name.endsWith('.tmp') || entry.name.endsWith('.lock')) continue;
        const name = `${rel}${entry.name}`;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), `${name}/`);
        else {
          const value = (await fsp.readFile(path.join(dir, entry.name), 'utf8')).trim();
          if (/^[0-9a-f]{40}$/.test(value)) refs.set(name, value);
        }
      }
    };
    await walk(path.join(this.gitdir, prefix), prefix);
    return refs;
  }
}
