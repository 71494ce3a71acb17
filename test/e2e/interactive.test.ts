import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { BIN, refsAndObjects, repoOf, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-tty-', (s) => (sb = s));

const CTRL_C = '\x03';
const ESC = '\x1b';

/**
 * Runs `shadowgit rollback ARGS` in a pseudo-terminal (util-linux `script`, 80 columns) and
 * answers each prompt when its text appears after the previous one: [text to wait for, keys].
 */
function rollbackInTerminal(answers: Array<[string, string]>, args: string[] = []): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', [process.execPath, BIN, 'rollback', ...args].join(' '), '/dev/null'], { cwd: sb.worktree, env: sb.env });
    let output = '';
    let next = 0;
    let from = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no prompt "${answers[next]?.[0]}" within 30 s; output: ${output}`));
    }, 30000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      for (let at: number; next < answers.length && (at = output.indexOf(answers[next]![0], from)) >= 0; ) {
        from = at + answers[next]![0].length;
        const keys = answers[next]![1];
        next++;
        setTimeout(() => child.stdin.write(keys), 150);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

describe('interactive rollback in a terminal', () => {
  test('the picker shows ids beside approved names and counts against the tree now; typing filters; the confirmation lists the files', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'first' });
    const first = runJson(sb, ['snapshot', '-m', 'first state']);
    runJson(sb, ['approve', 'Good One']);
    const added = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`c${String(i + 1).padStart(2, '0')}.txt`, `c${i}`]));
    await writeTree(sb.worktree, { 'a.txt': 'second', ...added });
    const second = runJson(sb, ['snapshot', '-m', 'second state']);
    await writeTree(sb.worktree, { 'a.txt': 'third, unsaved' });

    const { code, output } = await rollbackInTerminal([
      ['select', 'first'],
      [`❯ ${first.id}  first state`, '\r'],
      ['(y/N)', 'y\r'],
    ]);
    // What rolling back would do to the tree as it is, not what each snapshot changed from its parent.
    expect(output).toMatch(new RegExp(`★ Good One {2}${first.id} .*1 to write, 11 to delete`));
    expect(output).toMatch(new RegExp(`${second.id} {2}second state .*1 to write, 0 to delete`));
    expect(output).toMatch(new RegExp(`${first.id} {2}first state .*1 to write, 11 to delete`));
    const confirmation = output.slice(output.indexOf(`Roll back to ${first.id}`), output.indexOf('(y/N)') + 5);
    expect(confirmation).toMatch(/writing 1 file\(s\) and deleting 11\?\s+write {3}a\.txt\s+delete {2}c01\.txt[^]*delete {2}c09\.txt\s+…and 2 more\s+The current state is snapshotted first\. \(y\/N\)$/);
    expect(confirmation).not.toContain('c10.txt');
    expect(code).toBe(0);
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('first');
    await expect(fsp.access(path.join(sb.worktree, 'c01.txt'))).rejects.toThrow();
    expect(runJson(sb, ['list'])[0].trigger).toBe('pre-rollback');
  });

  test('Ctrl-C and Esc in the picker or the confirmation, or a "no", cancel with nothing changed', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'kept' });
    runJson(sb, ['snapshot']);
    await writeTree(sb.worktree, { 'a.txt': 'edited' });
    const repo = repoOf(sb);
    const before = refsAndObjects(repo);
    const cases: Array<[string, Array<[string, string]>, number]> = [
      ['Ctrl-C in the picker', [['select', CTRL_C]], 130],
      ['Esc in the picker', [['select', ESC]], 1],
      ['Ctrl-C in the confirmation', [['select', '\r'], ['(y/N)', CTRL_C]], 130],
      ['Esc in the confirmation', [['select', '\r'], ['(y/N)', ESC]], 1],
      ['the default answer', [['select', '\r'], ['(y/N)', '\r']], 1],
    ];
    for (const [what, answers, exitCode] of cases) {
      const { code, output } = await rollbackInTerminal(answers);
      expect({ what, code, cancelled: output.includes('Cancelled; nothing changed.'), unexpected: /unexpected error|force closed/.test(output) }).toEqual({ what, code: exitCode, cancelled: true, unexpected: false });
      expect(refsAndObjects(repo)).toBe(before);
    }
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('edited');
  });

  test('rolling back to the state the tree is in asks nothing and records nothing', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'same' });
    const only = runJson(sb, ['snapshot']);
    const repo = repoOf(sb);
    const before = refsAndObjects(repo);
    const { code, output } = await rollbackInTerminal([], [only.id]);
    expect(output).toContain(`Already at ${only.id} (${only.commit.slice(0, 10)}); nothing to do.`);
    expect(output).not.toContain('(y/N)');
    expect(code).toBe(0);
    expect(refsAndObjects(repo)).toBe(before);
  });
});
