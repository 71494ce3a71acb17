import { ShadowGitError } from '../errors.js';
import { encodeTag, signatureNow } from '../store/gitformat.js';
import { listApproved, NAME_TRAILER, tagNameFor, type ApprovedRevision, type SnapshotInfo } from './history.js';
import type { Repository } from '../store/repo.js';

/**
 * The name as shown (whitespace runs made one space) and the tag made from it; refused when no
 * tag can be made, so a caller can check before it records anything.
 */
export function approvedName(name: string): { displayName: string; tag: string } {
  const displayName = name.trim().replace(/\s+/g, ' ');
  if (!displayName) throw new ShadowGitError('the approved name is empty; give a name such as "Feature Complete".', 'EUSAGE');
  return { displayName, tag: tagNameFor(displayName) };
}

/**
 * The name (see approvedName), refused as well when its tag is in use and `force` is not given.
 * The caller holds the lock, and checks this before it records anything.
 */
export async function availableName(repo: Repository, name: string, force: boolean | undefined): Promise<{ displayName: string; tag: string }> {
  const checked = approvedName(name);
  const existing = (await listApproved(repo)).find((a) => a.tag === checked.tag);
  if (existing && !force) {
    throw new ShadowGitError(`the name "${checked.displayName}" is already in use (tag ${checked.tag}, on snapshot ${existing.commit.slice(0, 12)}); choose another name or pass --force to move it.`, 'EEXISTS');
  }
  return checked;
}

/**
 * Marks `snapshot` approved under a name checked by availableName: an annotated tag whose
 * subject line is "name: description" (what `git tag -n` shows) and whose trailer keeps the name
 * as typed.
 */
export async function approveSnapshot(repo: Repository, snapshot: SnapshotInfo, { displayName, tag }: { displayName: string; tag: string }, options: { description?: string }): Promise<ApprovedRevision> {
  const description = options.description?.trim() ?? '';
  const subject = description ? `${displayName}: ${description.split('\n')[0]}` : displayName;
  const rest = description.includes('\n') ? `\n\n${description.split('\n').slice(1).join('\n').trim()}` : '';
  const tagger = signatureNow();
  const content = encodeTag({ object: snapshot.commit, type: 'commit', tag, tagger, message: `${subject}${rest}\n\n${NAME_TRAILER}: ${displayName}\n` });
  const oid = await repo.objects.write('tag', content);
  await repo.refs.write(`refs/tags/${tag}`, oid);
  return { name: displayName, tag, commit: snapshot.commit, description, date: new Date(tagger.timestamp * 1000) };
}
