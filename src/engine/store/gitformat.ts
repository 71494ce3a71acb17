/** Encoders and parsers for git's tree, commit and tag formats. */

export const MODE_FILE = '100644';
export const MODE_EXEC = '100755';
export const MODE_LINK = '120000';
export const MODE_TREE = '40000';
/** A submodule: the entry names a commit of another repository, whose content is not here. */
export const MODE_GITLINK = '160000';

export type EntryMode = typeof MODE_FILE | typeof MODE_EXEC | typeof MODE_LINK | typeof MODE_TREE;

export interface TreeEntry {
  name: string;
  mode: EntryMode;
  oid: string;
}

/** A path's content as git records it: blob id and mode. */
export interface FlatEntry {
  oid: string;
  mode: EntryMode;
}

/** Path → entry for every file (blob or symlink) of a tree. */
export type FlatTree = ReadonlyMap<string, FlatEntry>;

/** Git sorts tree entries by name, with directories compared as if they ended in "/". */
function sortKey(entry: TreeEntry): string {
  return entry.mode === MODE_TREE ? `${entry.name}/` : entry.name;
}

export function compareEntries(a: TreeEntry, b: TreeEntry): number {
  return Buffer.compare(Buffer.from(sortKey(a)), Buffer.from(sortKey(b)));
}

export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = [...entries].sort(compareEntries);
  const parts: Buffer[] = [];
  for (const entry of sorted) {
    parts.push(Buffer.from(`${entry.mode} ${entry.name}\0`), Buffer.from(entry.oid, 'hex'));
  }
  return Buffer.concat(parts);
}

const KNOWN_MODES = new Set<string>([MODE_FILE, MODE_EXEC, MODE_LINK, MODE_TREE, '040000', '100664', MODE_GITLINK]);

/** Parses a tree; entry names are validated by the caller that writes to disk. */
export function decodeTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let i = 0;
  while (i < content.length) {
    const space = content.indexOf(0x20, i);
    const nul = content.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > content.length) throw new Error('truncated tree entry');
    let mode = content.subarray(i, space).toString('latin1');
    if (!KNOWN_MODES.has(mode)) throw new Error(`unknown tree entry mode ${mode}`);
    if (mode === '040000') mode = MODE_TREE;
    if (mode === '100664') mode = MODE_FILE;
    const name = content.subarray(space + 1, nul).toString('utf8');
    const oid = content.subarray(nul + 1, nul + 21).toString('hex');
    entries.push({ name, mode: mode as EntryMode, oid });
    i = nul + 21;
  }
  return entries;
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Minutes east of UTC. */
  tzOffset: number;
}

function formatTz(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

function formatSignature(sig: Signature): string {
  return `${sig.name} <${sig.email}> ${sig.timestamp} ${formatTz(sig.tzOffset)}`;
}

function parseSignature(text: string): Signature {
  const match = /^(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)$/.exec(text);
  if (!match) throw new Error(`bad signature: ${text}`);
  const offset = Number(match[5]) * 60 + Number(match[6]);
  return { name: match[1]!, email: match[2]!, timestamp: Number(match[3]), tzOffset: match[4] === '-' ? -offset : offset };
}

/**
 * The clock of every new commit and tag. SHADOWGIT_NOW (an ISO date) pins it: a test-only hook so
 * retention tests can make snapshots with controlled dates; never set it in normal use.
 */
export function clockNow(): Date {
  const pinned = process.env.SHADOWGIT_NOW;
  return pinned ? new Date(pinned) : new Date();
}

export function signatureNow(now: Date = clockNow()): Signature {
  return { name: 'shadowgit', email: 'shadowgit@localhost', timestamp: Math.floor(now.getTime() / 1000), tzOffset: -now.getTimezoneOffset() };
}

export interface CommitData {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

export function encodeCommit(commit: CommitData): Buffer {
  const lines = [`tree ${commit.tree}`, ...commit.parents.map((p) => `parent ${p}`), `author ${formatSignature(commit.author)}`, `committer ${formatSignature(commit.committer)}`];
  return Buffer.from(`${lines.join('\n')}\n\n${commit.message}`);
}

function splitHeaders(content: Buffer): { headers: Array<[string, string]>; message: string } {
  const text = content.toString('utf8');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const headers: Array<[string, string]> = [];
  for (const line of head.split('\n')) {
    if (line.startsWith(' ') && headers.length > 0) {
      headers[headers.length - 1]![1] += `\n${line.slice(1)}`;
      continue;
    }
    const space = line.indexOf(' ');
    headers.push([line.slice(0, space), line.slice(space + 1)]);
  }
  return { headers, message: end < 0 ? '' : text.slice(end + 2) };
}

export function decodeCommit(content: Buffer): CommitData {
  const { headers, message } = splitHeaders(content);
  const get = (key: string) => headers.find(([k]) => k === key)?.[1];
  const tree = get('tree');
  const author = get('author');
  const committer = get('committer');
  if (!tree || !/^[0-9a-f]{40}$/.test(tree) || !author || !committer) throw new Error('commit lacks tree, author or committer');
  return { tree, parents: headers.filter(([k]) => k === 'parent').map(([, v]) => v), author: parseSignature(author), committer: parseSignature(committer), message };
}

export interface TagData {
  object: string;
  type: string;
  tag: string;
  tagger: Signature;
  message: string;
}

export function encodeTag(tag: TagData): Buffer {
  return Buffer.from(`object ${tag.object}\ntype ${tag.type}\ntag ${tag.tag}\ntagger ${formatSignature(tag.tagger)}\n\n${tag.message}`);
}

export function decodeTag(content: Buffer): TagData {
  const { headers, message } = splitHeaders(content);
  const get = (key: string) => headers.find(([k]) => k === key)?.[1];
  const object = get('object');
  const type = get('type');
  const tag = get('tag');
  const tagger = get('tagger');
  if (!object || !type || !tag || !tagger) throw new Error('tag lacks object, type, tag or tagger');
  return { object, type, tag, tagger: parseSignature(tagger), message };
}

/** `Key: value` lines of the message's last paragraph. */
export function parseTrailers(message: string): Record<string, string> {
  const paragraphs = message.trimEnd().split(/\n\n+/);
  const last = paragraphs[paragraphs.length - 1] ?? '';
  const trailers: Record<string, string> = {};
  for (const line of last.split('\n')) {
    const match = /^([A-Za-z][A-Za-z0-9-]*): (.*)$/.exec(line);
    if (match) trailers[match[1]!] = match[2]!;
  }
  return trailers;
}

/** The message without its trailer paragraph. */
export function messageBody(message: string): string {
  const paragraphs = message.trimEnd().split(/\n\n+/);
  if (paragraphs.length > 1 && Object.keys(parseTrailers(message)).length > 0) paragraphs.pop();
  return paragraphs.join('\n\n');
}

/** The four kinds of git object. */
export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';
