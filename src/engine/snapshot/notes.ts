import { decodeCommit, decodeTree, encodeCommit, encodeTree, MODE_FILE, MODE_TREE, signatureNow, type TreeEntry } from '../store/gitformat.js';
import { NOTES_REF } from '../store/refs.js';
import type { Repository } from '../store/repo.js';

/**
 * Free text attached to snapshots, stored as git notes: a commit chain on NOTES_REF whose tree
 * maps a snapshot's commit id (hex) to a blob. Native `git notes show <commit>` reads it.
 */

/** Commit id → note blob id. Reads flat and fanned-out ("ab/cdef…") trees alike, as git writes both. */
export async function readNotes(repo: Repository, notesCommit?: string): Promise<Map<string, string>> {
  const head = notesCommit ?? (await repo.refs.read(NOTES_REF));
  const notes = new Map<string, string>();
  if (!head) return notes;
  const walk = async (tree: string, prefix: string): Promise<void> => {
    for (const entry of decodeTree(await repo.objects.readTyped(tree, 'tree', `notes ${prefix || '/'}`))) {
      const name = prefix + entry.name;
      if (entry.mode === MODE_TREE) await walk(entry.oid, name);
      else if (/^[0-9a-f]{40}$/.test(name)) notes.set(name, entry.oid);
    }
  };
  await walk(decodeCommit(await repo.objects.readTyped(head, 'commit', NOTES_REF)).tree, '');
  return notes;
}

export async function readNote(repo: Repository, commit: string): Promise<string | undefined> {
  const blob = (await readNotes(repo)).get(commit);
  return blob ? (await repo.objects.readTyped(blob, 'blob', `note of ${commit}`)).toString('utf8') : undefined;
}

/**
 * Writes a notes tree and a notes commit on top of the current notes ref (or, with `history:
 * false`, as a new root, so older notes trees become garbage), without moving the ref: callers
 * move it once everything else they write is durable. Undefined when there are no notes.
 */
export async function writeNotesCommit(repo: Repository, notes: Map<string, string>, message: string, options: { history?: boolean } = {}): Promise<string | undefined> {
  const parent = options.history === false ? undefined : await repo.refs.read(NOTES_REF);
  if (notes.size === 0 && !(await repo.refs.read(NOTES_REF))) return undefined;
  const entries: TreeEntry[] = [...notes].map(([commit, blob]) => ({ name: commit, mode: MODE_FILE, oid: blob }));
  const tree = await repo.objects.write('tree', encodeTree(entries));
  const signature = signatureNow();
  return repo.objects.write('commit', encodeCommit({ tree, parents: parent ? [parent] : [], author: signature, committer: signature, message: `${message}\n` }));
}

/** Attaches `text` to `commit`; an existing note is kept and the new text appended (like `git notes append`). */
export async function addNote(repo: Repository, commit: string, text: string): Promise<void> {
  const notes = await readNotes(repo);
  const existing = notes.get(commit);
  const body = text.endsWith('\n') ? text : `${text}\n`;
  const content = existing ? `${(await repo.objects.readTyped(existing, 'blob', `note of ${commit}`)).toString('utf8').trimEnd()}\n\n${body}` : body;
  notes.set(commit, await repo.objects.write('blob', Buffer.from(content)));
  const notesCommit = await writeNotesCommit(repo, notes, `Notes added by 'shadowgit snapshot'`);
  await repo.refs.write(NOTES_REF, notesCommit!);
}
