import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirRules } from '../../src/engine/worktree/ignore.js';

/** Rules in force in `rel`, read the way the scanner reads them: one directory at a time. */
async function rulesFor(root: string, rel: string, excludes: string[] = []): Promise<DirRules> {
  let rules = await DirRules.root(excludes).child(root, '', new Set(['.gitignore', '.shadowgitignore']));
  const parts = rel ? rel.split('/') : [];
  for (let i = 1; i <= parts.length; i++) rules = await rules.child(root, parts.slice(0, i).join('/'), new Set(['.gitignore', '.shadowgitignore']));
  return rules;
}

describe('ignore rules', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'sg-ignore-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('node_modules is excluded by default and a project .gitignore can re-include it', async () => {
    writeFileSync(path.join(root, '.gitignore'), '!fixtures/node_modules/\n');
    expect((await rulesFor(root, '')).ignores('node_modules', true)).toBe(true);
    expect((await rulesFor(root, 'fixtures')).ignores('fixtures/node_modules', true)).toBe(false);
    // Inside the re-included directory, its contents are not excluded by the default rule.
    expect((await rulesFor(root, 'fixtures/node_modules')).ignores('fixtures/node_modules/pkg', true)).toBe(false);
  });

  test('deeper ignore files take precedence; last matching rule wins within a file', async () => {
    mkdirSync(path.join(root, 'sub'));
    writeFileSync(path.join(root, '.gitignore'), '*.log\n');
    writeFileSync(path.join(root, 'sub/.gitignore'), '!keep.log\n');
    writeFileSync(path.join(root, 'sub/.shadowgitignore'), 'secret\n');
    const sub = await rulesFor(root, 'sub');
    expect(sub.ignores('sub/keep.log', false)).toBe(false);
    expect(sub.ignores('sub/other.log', false)).toBe(true);
    expect(sub.ignores('sub/secret', false)).toBe(true);
    expect((await rulesFor(root, '')).ignores('secret', false)).toBe(false);
  });

  test('a directory-only pattern never matches a file of that name', async () => {
    writeFileSync(path.join(root, '.gitignore'), '# output\nbuild/\n');
    const rules = await rulesFor(root, '');
    expect(rules.ignores('build', true)).toBe(true);
    expect(rules.ignores('build', false)).toBe(false);
    expect(rules.ignores('node_modules', false)).toBe(false);
    expect((await rulesFor(root, '', ['*.tmp'])).ignores('x.tmp', false)).toBe(true);
  });

  test('config excludes act at the lowest precedence', async () => {
    writeFileSync(path.join(root, '.gitignore'), '!important.tmp\n');
    const rules = await rulesFor(root, '', ['*.tmp']);
    expect(rules.ignores('x.tmp', false)).toBe(true);
    expect(rules.ignores('important.tmp', false)).toBe(false);
  });
});
