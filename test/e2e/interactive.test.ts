import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { BIN, runJson, writeTree, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-tty-', (s) => (sb = s));

/**
 * Runs `shadowgit rollback` in a pseudo-terminal (util-linux `script`) and answers each prompt
 * when its text appears: [text to wait for, keys to send].
 */
function rollbackInTerminal(answers: Array<[string, string]>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} rollback`, '/dev/null'], { cwd: sb.worktree, env: sb.env });
    let output = '';
    let next = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no prompt "${answers[next]?.[0]}" within 30 s; output: ${output}`));
    }, 30000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      while (next < answers.length && output.includes(answers[next]![0])) {
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
  test('the picker lists snapshots; confirming rolls back to the chosen one', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'first' });
    const first = runJson(sb, ['snapshot', '-m', 'first state']);
    await writeTree(sb.worktree, { 'a.txt': 'second' });
    const second = runJson(sb, ['snapshot', '-m', 'second state']);
    await writeTree(sb.worktree, { 'a.txt': 'third, unsaved' });

    const { code, output } = await rollbackInTerminal([
      ['Roll back to which revision?', '\x1b[B\r'],
      ['will be written', 'y\r'],
    ]);
    expect(output).toContain(`${second.id}  second state`);
    expect(output).toContain(`${first.id}  first state`);
    expect(output).toMatch(/1 file\(s\) will be written and 0 deleted/);
    expect(code).toBe(0);
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('first');
    const list = runJson(sb, ['list']);
    expect(list[0].trigger).toBe('pre-rollback');
  });

  test('the confirmation defaults to no, and then nothing changes', async () => {
    await writeTree(sb.worktree, { 'a.txt': 'kept' });
    runJson(sb, ['snapshot']);
    await writeTree(sb.worktree, { 'a.txt': 'edited' });
    const { code, output } = await rollbackInTerminal([
      ['Roll back to which revision?', '\r'],
      ['will be written', '\r'],
    ]);
    expect(output).toContain('Nothing changed.');
    expect(code).toBe(1);
    expect(await fsp.readFile(path.join(sb.worktree, 'a.txt'), 'utf8')).toBe('edited');
    expect(runJson(sb, ['list'])).toHaveLength(1);
  });
});
