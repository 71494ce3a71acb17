import { parseConfig } from '../../src/engine/config.js';
import { criticalMatcher } from '../../src/engine/protect/doctor.js';
import { visible } from '../../src/cli/output.js';
import { runCli, useSandbox, writeTree, type Sandbox } from '../helpers/sandbox.js';

describe('critical patterns read like a .gitignore', () => {
  test('a negated pattern takes files out of the defaults and nothing else in', () => {
    const isCritical = criticalMatcher(['!playground/**']);
    expect(isCritical('package.json')).toBe(true);
    expect(isCritical('packages/a/tsconfig.build.json')).toBe(true);
    expect(isCritical('playground/x/package.json')).toBe(false);
    expect(isCritical('playground/x/.gitkeep')).toBe(false);
    expect(isCritical('src/main.ts')).toBe(false);
  });

  test('the last matching pattern decides; "!dir" leaves out everything inside dir; names may hold newlines', () => {
    expect(criticalMatcher(['!**/fixtures/**', 'test/fixtures/keep/package.json'])('test/fixtures/keep/package.json')).toBe(true);
    expect(criticalMatcher(['test/fixtures/keep/package.json', '!**/fixtures/**'])('test/fixtures/keep/package.json')).toBe(false);
    expect(criticalMatcher(['!playground'])('playground/a/b/package.json')).toBe(false);
    expect(criticalMatcher(['!playground/'])('playground/package.json')).toBe(false);
    expect(criticalMatcher(['!playground'])('playgrounds/package.json')).toBe(true);
    expect(criticalMatcher([])('odd\nname/package.json')).toBe(true);
  });
});

describe('.shadowgit messages', () => {
  test.each([
    ['{\n  "exclude": ["a/"]\n  "critical": []\n}', '.shadowgit:3:3: a comma is missing before "critical"; fix the JSON (comments and trailing commas are allowed).'],
    ['{ "repo" "/x" }', '.shadowgit:1:10: a colon is missing before "/x"; fix the JSON (comments and trailing commas are allowed).'],
    ['{ "repo": "/x', '.shadowgit:1:11: a string is never closed (a missing "); fix the JSON (comments and trailing commas are allowed).'],
    ['{\n  "watch": { "debounce": -5 }\n}', '.shadowgit:2: watch.debounce must be a number of seconds between 0.05 and 86400, not -5; fix that line.'],
    ['{ "watch": { "debounce": 5, "interval": 1 } }', '.shadowgit:1: watch.interval (1 s) must not be shorter than watch.debounce (5 s); fix that line.'],
    ['{ "bogus": 1 }', '.shadowgit:1: unknown key "bogus"; the keys are repo, exclude, critical, retention, tests, watch, mcp, hooks, remote (see `shadowgit help config`).'],
    ['"text"', '.shadowgit:1: the file must hold one JSON object ({ … }); see `shadowgit help config`.'],
    ['{ "remote": { "push": "always" } }', '.shadowgit:1: remote.push must be one of "never", "approve", "interval", not "always"; fix that line.'],
    ['{ "remote": { "interval": "15 minutes" } }', '.shadowgit:1: remote.interval must be a span such as "90s", "15m" or "2h", not "15 minutes"; fix that line.'],
    ['{ "remote": { "maxFileBytes": 0 } }', '.shadowgit:1: remote.maxFileBytes must be a positive whole number of bytes, not 0; fix that line.'],
    ['{\n  "hooks": { "destructive": ["\\\\brm\\\\b", "(unclosed"] }\n}', '.shadowgit:2: hooks.destructive must be a list of non-empty JavaScript regular expressions (escape a backslash as \\\\ in JSON), not ["\\\\brm\\\\b", "(unclosed"]; fix that line.'],
  ])('say what is wrong in words, where, and never point into the install directory: %s', (text, message) => {
    expect(() => parseConfig(text)).toThrow(message);
  });

  test.each(['', ' \n\t\n', '// nothing set yet\n/* really */\n'])('an empty file, or one of only comments, holds no settings: %j', (text) => {
    expect(parseConfig(text)).toEqual({ exclude: [], critical: [] });
  });
});

test('visible() escapes what would act on a terminal or hide in a line', () => {
  expect(visible('a\nb\r\t\u001b[2J\ufeffc\u202ed\u0007')).toBe('a\\nb\\r\\t\\e[2J\\u{FEFF}c\\u{202E}d\\u{0007}');
  expect(visible('plain/päth ✓')).toBe('plain/päth ✓');
});

describe('through the CLI', () => {
  let sb: Sandbox;
  useSandbox('sg-config-', (s) => (sb = s));

  test('a bad watch setting is reported as the config line it is, before the watch command reads it', async () => {
    await writeTree(sb.worktree, { '.shadowgit': '{\n  "watch": { "debounce": -5 }\n}\n', 'a.txt': 'a\n' });
    const result = runCli(sb, ['watch', '--detach']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`shadowgit: ${sb.worktree}/.shadowgit:2: watch.debounce must be a number of seconds between 0.05 and 86400, not -5; fix that line.\n`);
    await writeTree(sb.worktree, { '.shadowgit': '' });
    expect(runCli(sb, ['snapshot']).code).toBe(0);
  });
});
