import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGit } from '../../src/shadowgit.js';
import { diskFiles, expectSameFiles, fsck, git, gitTreeFiles, makeSandbox, rememberEnv, runCli, runJson, writeTree, type Sandbox, type TreeFile } from '../helpers/sandbox.js';

/**
 * Snapshots with controlled dates (SHADOWGIT_NOW pins the commit clock), pruned by each policy
 * form; native git checks the rewritten repository.
 */

interface Listed {
  id: string;
  commit: string;
  tags: string[];
  changes: { added: number; modified: number; deleted: number };
}
interface PruneJson {
  removed: number;
  kept: number;
  rewritten: number;
  policySource: string;
  snapshots: Array<{ id: string; keep: boolean; reasons: string[] }>;
  gc?: { bytesBefore: number; bytesAfter: number; deletedObjects: number };
}

const worktreeFiles = (root: string) => diskFiles(root, (_rel, name) => name === '.git');

function utc(sb: Sandbox): void {
  // Retention buckets are local time (as restic's); pin the zone so the expectations hold anywhere.
  sb.env.TZ = 'UTC';
}

async function snapshotAt(sb: Sandbox, date: string, files: Record<string, string>, extra: string[] = []): Promise<string> {
  await writeTree(sb.worktree, files);
  return runJson<{ id: string }>(sb, ['snapshot', '-m', `at ${date}`, ...extra], { env: { SHADOWGIT_NOW: date } }).id;
}

/** Runs a library call with the commit clock pinned (in-process: building a long history costs no process spawns). */
async function at<T>(date: string, fn: () => Promise<T>): Promise<T> {
  process.env.SHADOWGIT_NOW = date;
  try {
    return await fn();
  } finally {
    delete process.env.SHADOWGIT_NOW;
  }
}

function keptIds(result: PruneJson): string[] {
  return result.snapshots.filter((s) => s.keep).map((s) => s.id);
}

describe('prune', () => {
  let sb: Sandbox;
  const restoreHome = rememberEnv('SHADOWGIT_HOME');
  afterEach(async () => {
    restoreHome();
    await sb.cleanup();
  });

  test('each policy form keeps exactly the expected snapshots; approved and undo points survive; ids, tags, notes and undo stay valid', async () => {
    sb = makeSandbox('sg-prune-');
    utc(sb);
    process.env.SHADOWGIT_HOME = sb.home;
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    const snap = async (date: string, files: Record<string, string>, note?: string) => {
      await writeTree(sb.worktree, files);
      return (await at(date, () => sg.snapshot({ message: `at ${date}`, note }))).id;
    };
    const s: string[] = [];
    s[1] = await snap('2026-02-01T09:00:00Z', { 'a.txt': 'one\n', 'keep/bin.sh': '#!/bin/sh\n' });
    await fsp.chmod(path.join(sb.worktree, 'keep/bin.sh'), 0o755);
    s[2] = await snap('2026-02-01T09:30:00Z', { 'a.txt': 'two\n' });
    s[3] = await snap('2026-02-01T10:15:00Z', { 'b.txt': 'only in three\n' });
    s[4] = await snap('2026-02-02T08:00:00Z', { 'a.txt': 'four\n' }, 'prompt: add the login form');
    await at('2026-02-02T08:05:00Z', () => sg.approve('Release One'));
    s[5] = await snap('2026-02-02T08:20:00Z', { 'a.txt': 'five\n' });
    s[6] = await snap('2026-02-09T12:00:00Z', { 'six.bin': 'unique content of snapshot six\n' }, 'a note that goes with snapshot six');
    await fsp.rm(path.join(sb.worktree, 'six.bin'));
    s[7] = await snap('2026-02-09T12:10:00Z', { 'a.txt': 'seven\n' });
    s[8] = await snap('2026-02-09T12:20:00Z', { 'a.txt': 'eight\n' });
    // A rollback with unrecorded changes: its pre-rollback snapshot (s9) is the undo point, s2 its target.
    await writeTree(sb.worktree, { 'a.txt': 'nine, never snapshotted by hand\n' });
    const rollback = await at('2026-02-09T12:30:00Z', () => sg.rollback(s[2]!));
    s[9] = rollback.preRollback!.id;
    expect(rollback.preRollback!.created).toBe(true);
    const { repo } = runJson(sb, ['status']);

    const before = runJson<Listed[]>(sb, ['list']);
    expect(before.map((x) => x.id)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1].map((i) => s[i]));
    const filesBefore = new Map<string, Map<string, TreeFile>>(before.map((x) => [x.id, gitTreeFiles(repo, x.commit)]));
    const tagBefore = git(repo, ['cat-file', 'tag', 'refs/tags/release-one']) as string;
    const sixBlob = (git(repo, ['rev-parse', `${before.find((x) => x.id === s[6])!.commit}:six.bin`]) as string).trim();
    const sixNote = (git(repo, ['notes', 'list', before.find((x) => x.id === s[6])!.commit]) as string).trim();

    const dry = (args: string[]) => runJson<PruneJson>(sb, ['prune', '--dry-run', ...args]);
    const ids = (...n: number[]) => n.map((i) => s[i]);
    // Protected whatever the policy: s4 (approved), s9 (undo point), s2 (target of the last rollback).
    const preview = dry(['--keep-last', '2']);
    expect(keptIds(preview)).toEqual(ids(9, 8, 4, 2));
    expect(keptIds(dry(['--keep-hourly', '3']))).toEqual(ids(9, 5, 4, 3, 2));
    expect(keptIds(dry(['--keep-daily', '2']))).toEqual(ids(9, 5, 4, 2));
    expect(keptIds(dry(['--keep-weekly', '3']))).toEqual(ids(9, 5, 4, 3, 2));
    expect(keptIds(dry(['--keep-monthly', '1']))).toEqual(ids(9, 4, 2));
    expect(keptIds(dry(['--keep-within', '1d']))).toEqual(ids(9, 8, 7, 6, 4, 2));
    expect(keptIds(dry(['--keep-within', '36h', '--keep-last', '1']))).toEqual(ids(9, 8, 7, 6, 4, 2));

    const reasons = Object.fromEntries(preview.snapshots.map((x) => [x.id, x.reasons]));
    expect(reasons[s[9]!]).toEqual(['last snapshot', 'undo point (state before the last rollback)']);
    expect(reasons[s[4]!]).toEqual(['approved: Release One']);
    expect(reasons[s[2]!]).toEqual(['target of the last rollback']);
    expect(reasons[s[6]!]).toEqual([]);
    expect(preview).toMatchObject({ removed: 5, kept: 4, policySource: 'options' });
    const text = runCli(sb, ['prune', '--dry-run', '--keep-last', '2']);
    expect(text.stdout).toMatch(/Would remove 5 of 9 snapshots; policy: keep-last 2 \(command line\)/);
    // A dry run changes nothing.
    expect(runJson<Listed[]>(sb, ['list']).map((x) => x.commit)).toEqual(before.map((x) => x.commit));

    const pruned = runJson<PruneJson>(sb, ['prune', '--keep-last', '2', '--grace', '0']);
    expect(pruned).toMatchObject({ removed: 5, kept: 4, rewritten: 4 });
    const after = runJson<Listed[]>(sb, ['list']);
    expect(after.map((x) => x.id)).toEqual(ids(9, 8, 4, 2));
    fsck(repo);
    expect((git(repo, ['rev-list', '--count', 'refs/heads/snapshots']) as string).trim()).toBe('4');

    // Trees, dates and messages are unchanged; change counts are recomputed against the new parent.
    for (const snapshot of after) expectSameFiles(gitTreeFiles(repo, snapshot.commit), filesBefore.get(snapshot.id)!);
    const s2 = after.find((x) => x.id === s[2])!;
    expect((git(repo, ['log', '-1', '--format=%at %ct %s', s2.commit]) as string).trim()).toBe(`${Date.parse('2026-02-01T09:30:00Z') / 1000} ${Date.parse('2026-02-01T09:30:00Z') / 1000} at 2026-02-01T09:30:00Z`);
    expect(s2.changes).toEqual({ added: 2, modified: 0, deleted: 0 });
    const s4 = after.find((x) => x.id === s[4])!;
    expect(s4.changes).toEqual({ added: 1, modified: 1, deleted: 0 }); // b.txt from s3 came in, a.txt changed

    // The approved tag moved to the rewritten commit with its message and tagger intact.
    expect(s4.tags).toEqual(['Release One']);
    const tagAfter = git(repo, ['cat-file', 'tag', 'refs/tags/release-one']) as string;
    expect(tagAfter).toBe(tagBefore.replace(/^object [0-9a-f]{40}/, `object ${s4.commit}`));
    // The note followed its snapshot, readable by plain `git notes show`.
    expect(git(repo, ['notes', 'show', s4.commit])).toBe('prompt: add the login form\n');
    // Space of removed snapshots is reclaimed: content only snapshot six had is gone.
    expect(() => git(repo, ['cat-file', '-e', sixBlob])).toThrow();
    expect(() => git(repo, ['cat-file', '-e', sixNote])).toThrow();
    expect((git(repo, ['notes', 'list']) as string).trim().split('\n')).toHaveLength(1);
    expect(pruned.gc!.deletedObjects).toBeGreaterThan(0);
    expect(pruned.gc!.bytesAfter).toBeLessThan(pruned.gc!.bytesBefore);

    // undo still returns to the state before the rollback (its record was re-pointed).
    runJson(sb, ['undo']);
    expectSameFiles(await worktreeFiles(sb.worktree), filesBefore.get(s[9]!)!);
    // Every kept snapshot rolls back byte-exact, by the id users saw before the prune.
    for (const id of ids(2, 4, 8)) {
      runJson(sb, ['rollback', id!, '--yes']);
      expectSameFiles(await worktreeFiles(sb.worktree), filesBefore.get(id!)!);
    }
    fsck(repo);
  });

  test('a commit hash printed before a prune keeps naming its snapshot, through two prunes and a crash; a pruned one says it was removed', async () => {
    sb = makeSandbox('sg-prune-hashes-');
    process.env.SHADOWGIT_HOME = sb.home;
    // Snapshots are taken in-process (cheaper than a process each); everything after goes through the CLI.
    const sg = await ShadowGit.open({ worktree: sb.worktree });
    type Printed = { id: string; commit: string };
    const printed: Printed[] = [];
    const snap = async (content: string) => {
      await writeTree(sb.worktree, { 'a.txt': content, [`${content}.txt`]: `only in ${content}\n` });
      printed.push(await sg.snapshot());
    };
    for (const n of ['one', 'two', 'three', 'four', 'five', 'six']) await snap(n);
    const repo = sg.repoPath;
    const filesOf = new Map(printed.map((p) => [p.id, gitTreeFiles(repo, p.commit)]));
    const [one, two, three, four, five, six] = printed as [Printed, Printed, Printed, Printed, Printed, Printed];
    const showJson = (rev: string) => runJson<{ id: string; commit: string }>(sb, ['show', rev]);
    const removed = (rev: string, policy: string) => {
      const result = runCli(sb, ['show', rev]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`was removed by prune on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\(policy: ${policy}\\); \`shadowgit list\` shows what is kept`));
      expect(result.stdout).toBe('');
    };

    expect(runJson<PruneJson>(sb, ['prune', '--keep-last', '4', '--grace', '0'])).toMatchObject({ removed: 2, kept: 4, rewritten: 4 });
    fsck(repo);
    const listed = runJson<Listed[]>(sb, ['list']);
    expect(listed.map((x) => x.id)).toEqual([six, five, four, three].map((p) => p.id));
    for (const old of [three, four, five, six]) {
      const now = listed.find((x) => x.id === old.id)!;
      expect(now.commit).not.toBe(old.commit);
      expect(() => git(repo, ['cat-file', '-e', old.commit])).toThrow(); // gone from the object store
      expectSameFiles(gitTreeFiles(repo, now.commit), filesOf.get(old.id)!);
    }
    // The old hash, in full or as printed (10 digits), names the same snapshot under its new commit.
    expect(showJson(three.commit)).toMatchObject({ id: three.id, commit: listed[3]!.commit });
    expect(showJson(five.commit.slice(0, 10))).toMatchObject({ id: five.id, commit: listed[1]!.commit });
    expect(runJson<{ from: { id: string }; changes: unknown[] }>(sb, ['diff', six.commit.slice(0, 10), 'latest'])).toMatchObject({ from: { id: six.id }, changes: [] });
    runJson(sb, ['rollback', four.commit.slice(0, 10), '--yes']);
    expectSameFiles(await worktreeFiles(sb.worktree), filesOf.get(four.id)!);
    removed(two.commit.slice(0, 10), 'keep-last 4');
    const byId = runCli(sb, ['rollback', one.id, '--yes']);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toMatch(new RegExp(`snapshot ${one.id} was removed by prune on .*policy: keep-last 4`));
    // The op log shows each snapshot's commit as it is named now.
    const log = runJson<Array<{ op: string; commits: string[]; currentCommits: Array<string | null> }>>(sb, ['log', '--op', 'snapshot']);
    expect(log.map((o) => o.currentCommits[0])).toEqual([null, null, ...[three, four, five, six].map((p) => listed.find((x) => x.id === p.id)!.commit)]);
    const logText = runCli(sb, ['log', '--op', 'snapshot']).stdout;
    expect(logText).toContain(`${listed[0]!.commit.slice(0, 10)} (was ${six.commit.slice(0, 10)})`);
    expect(logText).toContain(`${one.commit.slice(0, 10)} (pruned)`);

    // A second prune, cut off after its journal (before its rewrites record): old hashes still
    // resolve while it waits, and the command that finishes it appends the record.
    const crashed = runCli(sb, ['prune', '--keep-last', '1', '--no-gc'], { env: { SHADOWGIT_FAULT: 'prune-journal:1' } });
    expect(crashed.code).not.toBe(0);
    expect(showJson(three.commit)).toMatchObject({ id: three.id });
    runJson(sb, ['gc', '--grace', '0']);
    fsck(repo);
    // The rollback's undo point (six: the tree had not changed since) and its target four are kept.
    const after = runJson<Listed[]>(sb, ['list']);
    expect(after.map((x) => x.id)).toEqual([six.id, four.id]);
    // Two prunes in a row: a hash from before the first resolves through both.
    expect(showJson(four.commit)).toMatchObject({ id: four.id, commit: after[1]!.commit });
    expectSameFiles(gitTreeFiles(repo, after[1]!.commit), filesOf.get(four.id)!);
    removed(five.commit.slice(0, 8), 'keep-last 1');

    // A torn last line (a crash mid-append) is ignored, and the next prune starts on a fresh line;
    // killed after its record, before any ref moved: the old chain still answers; the next command finishes.
    const rewrites = path.join(repo, 'shadowgit', 'rewrites.jsonl');
    await fsp.appendFile(rewrites, '{"prune":"torn","rewri');
    await snap('seven');
    await snap('eight');
    const [seven, eight] = printed.slice(6) as [Printed, Printed];
    expect(runCli(sb, ['prune', '--keep-last', '1', '--no-gc'], { env: { SHADOWGIT_FAULT: 'prune-rewrites:1' } }).code).not.toBe(0);
    expect(showJson(eight.commit)).toMatchObject({ id: eight.id, commit: eight.commit });
    runJson(sb, ['gc', '--grace', '0']);
    fsck(repo);
    const eightNow = showJson(eight.commit.slice(0, 10));
    expect(eightNow.id).toBe(eight.id);
    expect(eightNow.commit).not.toBe(eight.commit);
    expect((git(repo, ['rev-parse', 'refs/heads/snapshots']) as string).trim()).toBe(eightNow.commit);
    removed(seven.commit, 'keep-last 1');
    const lines = (await fsp.readFile(rewrites, 'utf8')).split('\n');
    expect(lines.filter((l) => l.startsWith('{"prune":"torn"'))).toEqual(['{"prune":"torn","rewri']);
    expect(lines.filter((l) => l.includes('"policy":"keep-last 1"'))).toHaveLength(2);
  });

  test('a prune killed while moving refs is finished by the next command; an empty policy is refused; .shadowgit supplies the policy', async () => {
    sb = makeSandbox('sg-prune-crash-');
    utc(sb);
    await writeTree(sb.worktree, { '.shadowgit': '{ "retention": { "keepLast": 1 } }\n' });
    const first = await snapshotAt(sb, '2026-03-01T10:00:00Z', { 'a.txt': '1\n' });
    const middle = await snapshotAt(sb, '2026-03-01T11:00:00Z', { 'a.txt': '2\n' });
    runJson(sb, ['approve', 'Middle'], { env: { SHADOWGIT_NOW: '2026-03-01T11:01:00Z' } });
    const last = await snapshotAt(sb, '2026-03-01T12:00:00Z', { 'a.txt': '3\n' });
    const { repo } = runJson(sb, ['status']);

    const empty = runCli(sb, ['prune', '--keep-last', '0']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/keeps no snapshot at all, so prune refuses to run; give at least one rule/);
    // Bad values are usage errors (exit 2) quoting what was typed.
    const usage = (args: string[], message: RegExp) => {
      const result = runCli(sb, args);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(message);
    };
    usage(['prune', '--keep-within', 'banana'], /--keep-within on the command line: "banana" is not a duration; write it like 2d/);
    usage(['gc', '--grace', 'xyz'], /"xyz" is not a grace period; write it like 0, 90s, 15m/);
    usage(['log', '--op', 'snapshot', '--op', 'nonsense'], /--op "nonsense" is not an operation; the log records snapshot, approve, rollback, restore, undo, .*prune, gc, .*clone\./);
    expect(runJson<PruneJson>(sb, ['prune', '--dry-run'])).toMatchObject({ policySource: 'config', removed: 1 });

    // Killed after the first ref moved: the journal holds the rest.
    const crashed = runCli(sb, ['prune', '--no-gc'], { env: { SHADOWGIT_FAULT: 'prune-ref:1' } });
    expect(crashed.code).not.toBe(0);
    await expect(fsp.access(path.join(repo, 'shadowgit', 'prune-journal.json'))).resolves.toBeUndefined();
    runJson(sb, ['gc', '--grace', '0']);
    await expect(fsp.access(path.join(repo, 'shadowgit', 'prune-journal.json'))).rejects.toThrow();
    const listed = runJson<Listed[]>(sb, ['list']);
    expect(listed.map((x) => x.id)).toEqual([last, middle]);
    expect(listed[1]!.tags).toEqual(['Middle']);
    expect(listed.map((x) => x.id)).not.toContain(first);
    fsck(repo);
    const verify = runCli(sb, ['verify']);
    expect(verify.code).toBe(0);
  });
});
