import { git, runCli, runJson, useSandbox, writeTree, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox('sg-approve-name-', (s) => (sb = s));

test.each([['---'], ['-----'], ['!!!'], ['...']])('approve %j: the name has no letters or digits for a tag, and nothing is recorded', async (name) => {
  await writeTree(sb.worktree, { 'a.txt': 'a\n' });
  expect(runCli(sb, ['snapshot']).code).toBe(0);
  const repo = runJson<{ repo: string }>(sb, ['status']).repo;
  const head = git(repo, ['rev-parse', 'refs/heads/snapshots']);
  await writeTree(sb.worktree, { 'a.txt': 'changed since\n' });
  const result = runCli(sb, ['approve', name]);
  expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({
    code: 2,
    stdout: '',
    stderr: `shadowgit: the name ${JSON.stringify(name)} has no letters or digits to make a tag name from; choose another name.\n`,
  });
  // Refused before the snapshot approve takes first: the chain and the tags are as they were.
  expect(git(repo, ['rev-parse', 'refs/heads/snapshots'])).toBe(head);
  expect(git(repo, ['tag', '--list'])).toBe('');
});
