import { DEFAULT_DESTRUCTIVE, destructiveMatch } from '../../src/agents/guard.js';

// `shadowgit hook --guard`'s built-in list: what a person is asked about, and what runs unasked.

describe('the destructive-command list', () => {
  test.each([
    'rm -rf src/lib',
    'rm -fr build',
    'rm -r old',
    'rm -R old',
    'rm -f -r old',
    'rm --recursive old',
    'sudo rm -rf /tmp/x',
    'cd packages/a && rm -rf dist && npm run build',
    'git rm -r --cached vendor',
    'git reset --hard',
    'git -C sub reset --hard HEAD~1',
    'git clean -fd',
    'git clean -xdf',
    'git clean --force',
    'git checkout -- .',
    'git checkout .',
    'git checkout HEAD -- src/app.ts',
    'git checkout -f main',
    'git switch --discard-changes main',
    'git restore .',
    'git restore src/app.ts',
    'git stash drop',
    'git stash clear',
    "find . -name '*.orig' -delete",
    'Remove-Item -Path build -Recurse -Force',
    'shred -u secrets.txt',
  ])('asks before: %s', (command) => {
    expect(destructiveMatch(command, DEFAULT_DESTRUCTIVE)).toBeDefined();
  });

  test.each([
    'rm notes.txt',
    'rm -f a.log',
    'docker rm -f web',
    'git reset --soft HEAD~1',
    'git clean -n -d',
    'git checkout main',
    'git checkout -b feature/x',
    'git restore --staged src/app.ts',
    'git stash',
    'git stash pop',
    "find . -name '*.ts'",
    'ls -R',
    'grep -r TODO .',
    'npm run format',
  ])('runs unasked: %s', (command) => {
    expect(destructiveMatch(command, DEFAULT_DESTRUCTIVE)).toBeUndefined();
  });

  test('a tree\'s own list replaces the built-in one, and a pattern that does not compile matches nothing', () => {
    expect(destructiveMatch('make distclean', ['(unclosed', String.raw`\bmake\s+distclean\b`])).toBe(String.raw`\bmake\s+distclean\b`);
    expect(destructiveMatch('rm -rf build', [String.raw`\bmake\s+distclean\b`])).toBeUndefined();
  });
});
