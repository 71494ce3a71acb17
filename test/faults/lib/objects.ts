/**
 * Hand-made git objects for the hostile-input cases. Written raw (zlib + sha1), because native
 * git refuses to build most of them (`git mktree` will not take `..` or a name with `/`).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export interface RawEntry {
  mode: string;
  name: string | Buffer;
  oid: string;
}

/** Writes `body` as a loose object under the id its content hashes to (or `forceOid`). */
export function writeLoose(gitdir: string, type: string, body: Buffer, options: { header?: string; forceOid?: string } = {}): string {
  const raw = Buffer.concat([Buffer.from(options.header ?? `${type} ${body.length}\0`), body]);
  const oid = options.forceOid ?? createHash('sha1').update(raw).digest('hex');
  const file = path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, zlib.deflateSync(raw));
  return oid;
}

export function blob(gitdir: string, content: string | Buffer): string {
  return writeLoose(gitdir, 'blob', Buffer.from(content));
}

/** A tree with entries exactly as given: no sorting, no name checks. */
export function tree(gitdir: string, entries: RawEntry[]): string {
  const body = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} `), Buffer.from(e.name), Buffer.from([0]), Buffer.from(e.oid, 'hex')]));
  return writeLoose(gitdir, 'tree', body);
}

export function commit(gitdir: string, treeOid: string, parent?: string): string {
  const who = 'Mallory <mallory@example.com> 1700000000 +0000';
  const body = `tree ${treeOid}\n${parent ? `parent ${parent}\n` : ''}author ${who}\ncommitter ${who}\n\nhostile\n`;
  return writeLoose(gitdir, 'commit', Buffer.from(body));
}
