// Agent sessions read back (issue #20): `sessions`, `list --session/--agent`, the `prompt:N@SESSION`
// revision, through the library and the real CLI, with native git as the oracle for a rollback.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ShadowGit, type AgentProvenance } from '../../src/index.js';
import { diskFiles, expectSameFiles, gitTreeFiles, runCli, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-sessions-', (s) => (sb = s), { setHome: true });

const CLAUDE = { agent: 'claude', session: 'a1b2c3d4-0000-4000-8000-000000000001' };
const CURSOR = { agent: 'cursor', session: 'a1b9f0e8-0000-4000-8000-000000000002' };

/**
 * A manual snapshot, then a Claude Code session (prompt 1, an Edit, prompt 2, the turn's end),
 * then a Cursor session (prompt 1, a shell command), as the hooks record them. The two session
 * ids share the prefix "a1b".
 */
async function recordTwoSessions() {
  const sg = await ShadowGit.open({ worktree: sb.worktree });
  const prompt = (who: typeof CLAUDE, text: string) => sg.snapshot({ trigger: 'agent-prompt', message: `before: ${text.split('\n')[0]}`, note: text, provenance: { ...who, event: 'UserPromptSubmit' }, recordUnchanged: true });
  const tool = (who: typeof CLAUDE, event: string, provenance: Partial<AgentProvenance> = {}) => sg.snapshot({ trigger: event === 'Stop' ? 'agent-turn' : 'agent-tool', provenance: { ...who, event, ...provenance } });
  await writeTree(sb.worktree, { 'a.txt': 'one\n' });
  const manual = await sg.snapshot({ message: 'by hand' });
  const claude1 = await prompt(CLAUDE, 'fix the bug\nin a.txt, carefully');
  await writeTree(sb.worktree, { 'b.txt': 'b\n' });
  const edit = await tool(CLAUDE, 'PreToolUse', { tool: 'Edit', toolUseId: 'toolu_01' });
  const claude2 = await prompt(CLAUDE, 'now add c');
  await writeTree(sb.worktree, { 'c.txt': 'c\n', 'a.txt': 'two\n' });
  const stop = await tool(CLAUDE, 'Stop');
  const cursor1 = await prompt(CURSOR, 'clean up');
  await writeTree(sb.worktree, { 'd.txt': 'd\n' });
  const shell = await tool(CURSOR, 'beforeShellExecution', { tool: 'shell' });
  for (const s of [manual, claude1, edit, claude2, stop, cursor1, shell]) expect(s.created).toBe(true);
  return { sg, manual, claude1, edit, claude2, stop, cursor1, shell };
}

describe('agent sessions', () => {
  test('the library groups the history by session, filters the listing and resolves prompt:N@SESSION', async () => {
    const { sg, manual, claude1, edit, claude2, stop, cursor1, shell } = await recordTwoSessions();

    const sessions = await sg.sessions();
    expect(sessions).toEqual([
      { agent: 'cursor', session: CURSOR.session, shortSession: 'a1b9', label: 'cursor·a1b9', started: expect.any(String), lastActivity: expect.any(String), prompts: 1, snapshots: 2, filesChanged: 1, firstPrompt: 'clean up', firstSnapshot: cursor1.id, lastSnapshot: shell.id },
      // files: a.txt modified, b.txt and c.txt added between prompt 1 and the turn's end; the first prompt read from its note.
      { agent: 'claude', session: CLAUDE.session, shortSession: 'a1b2', label: 'claude·a1b2', started: expect.any(String), lastActivity: expect.any(String), prompts: 2, snapshots: 4, filesChanged: 3, firstPrompt: 'fix the bug', firstSnapshot: claude1.id, lastSnapshot: stop.id },
    ]);
    expect((await sg.sessions({ agent: 'CLAUDE' })).map((s) => s.agent)).toEqual(['claude']);
    expect((await sg.sessions({ limit: 1 })).map((s) => s.agent)).toEqual(['cursor']);

    // --session by a unique prefix; --agent in any case; the limit after the filter.
    const listed = await sg.list({ session: 'a1b2' });
    expect(listed.map((s) => s.id)).toEqual([stop.id, claude2.id, edit.id, claude1.id]);
    expect(listed.map((s) => s.agent?.prompt)).toEqual([undefined, 2, undefined, 1]);
    expect(listed[2]!.agent).toEqual({ ...CLAUDE, event: 'PreToolUse', tool: 'Edit', toolUseId: 'toolu_01', label: 'claude·a1b2' });
    expect((await sg.list({ agent: 'Cursor', limit: 1 })).map((s) => s.id)).toEqual([shell.id]);
    expect(await sg.list({ agent: 'cursor', session: 'a1b2' }).catch((err) => err.code)).toBe('EUSAGE');
    const ambiguous = await sg.list({ session: 'a1b' }).catch((err) => err);
    expect(ambiguous.code).toBe('EUSAGE');
    expect(ambiguous.message).toContain(CLAUDE.session);
    expect(ambiguous.message).toContain(CURSOR.session);
    expect((await sg.list()).find((s) => s.id === manual.id)!.agent).toBeUndefined();

    // prompt:N counts from 1 in its session; without @SESSION, the latest session's; -1 the last; ~N goes on back.
    expect((await sg.resolve('prompt:2@a1b2')).id).toBe(claude2.id);
    expect((await sg.resolve('prompt:-1@A1B2C3')).id).toBe(claude2.id);
    expect((await sg.resolve('prompt:1')).id).toBe(cursor1.id);
    expect((await sg.resolve(`prompt:1@${CLAUDE.session}`)).id).toBe(claude1.id);
    expect((await sg.resolve('prompt:2@a1b2~1')).id).toBe(edit.id);
    for (const [rev, says] of [
      ['prompt:3@a1b2', 'has 2 prompts (prompt:1 to prompt:2'],
      ['prompt:1@a1b', 'is ambiguous'],
      ['prompt:1@ffff', 'no agent session'],
      ['prompt:0', 'count from 1'],
    ]) {
      const err = await sg.resolve(rev!).catch((e) => e);
      expect({ rev, code: err.code, says: err.message.includes(says!) }).toEqual({ rev, code: 'EBADREV', says: true });
    }
  });

  test('through the CLI: sessions, list --session/--agent, and rollback to before a prompt', async () => {
    const { sg, manual, claude2, edit, shell } = await recordTwoSessions();

    const table = runCli(sb, ['sessions']);
    expect(table.code).toBe(0);
    expect(table.stdout.indexOf('cursor·a1b9')).toBeGreaterThan(-1);
    expect(table.stdout.indexOf('cursor·a1b9')).toBeLessThan(table.stdout.indexOf('claude·a1b2'));
    expect(table.stdout).toContain('fix the bug');
    expect(runJson(sb, ['sessions', '--agent', 'claude']).map((s: { session: string; prompts: number }) => [s.session, s.prompts])).toEqual([[CLAUDE.session, 2]]);

    // The listing says who asked (and which prompt), in every layout.
    for (const columns of ['120', '80', '40']) {
      const text = runCli(sb, ['list', '--session', 'a1b2'], { env: { COLUMNS: columns } });
      expect({ columns, code: text.code, who: text.stdout.includes('claude·a1b2 #2'), manual: text.stdout.includes(manual.id) }).toEqual({ columns, code: 0, who: true, manual: false });
    }
    const json = runJson(sb, ['list']);
    expect(json.find((s: { id: string }) => s.id === manual.id)).not.toHaveProperty('agent');
    expect(json.find((s: { id: string }) => s.id === edit.id).agent).toEqual({ name: 'claude', session: CLAUDE.session, event: 'PreToolUse', tool: 'Edit' });
    expect(json.find((s: { id: string }) => s.id === claude2.id).agent).toEqual({ name: 'claude', session: CLAUDE.session, event: 'UserPromptSubmit', prompt: 2 });
    expect(runJson(sb, ['list', '--agent', 'cursor', '-n', '1']).map((s: { id: string }) => s.id)).toEqual([shell.id]);
    const ambiguous = runCli(sb, ['list', '--session', 'a1b']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(CURSOR.session);

    expect(runCli(sb, ['status']).stdout).toContain('Recorded by:   cursor, session a1b9f0e8, at beforeShellExecution shell');

    // prompt:1 is the latest session's first prompt: the tree since then gained d.txt.
    expect(runJson(sb, ['diff', 'prompt:1']).changes.map((c: { path: string; status: string }) => [c.path, c.status])).toEqual([['d.txt', 'added']]);
    const before = await diskFiles(sb.worktree);
    const beyond = runCli(sb, ['rollback', 'prompt:3@a1b2', '--yes']);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('has 2 prompts');
    expectSameFiles(await diskFiles(sb.worktree), before);

    const rolled = runCli(sb, ['rollback', 'prompt:2@a1b2', '--yes']);
    expect(rolled.code).toBe(0);
    expectSameFiles(await diskFiles(sb.worktree), gitTreeFiles(sg.repoPath, claude2.commit));
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('one\n');
  });
});
