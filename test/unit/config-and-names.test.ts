import { parseConfig } from '../../src/engine/config.js';
import { newSnapshotId, tagNameFor } from '../../src/engine/snapshot/history.js';

describe('.shadowgit parsing', () => {
  test('accepts comments and trailing commas and returns every key', () => {
    const config = parseConfig('{\n  // where\n  "repo": "/tmp/x.git",\n  "exclude": ["a/"],\n  "retention": { "keepLast": 3, },\n}\n');
    expect(config).toEqual({ repo: '/tmp/x.git', exclude: ['a/'], critical: [], retention: { keepLast: 3 } });
  });

  test('mcp.allowApprove is a boolean', () => {
    expect(parseConfig('{ "mcp": { "allowApprove": true } }').mcp).toEqual({ allowApprove: true });
    expect(() => parseConfig('{\n  "mcp": { "allowApprove": "yes" }\n}')).toThrow(/\.shadowgit:2: "mcp\.allowApprove" must be a boolean/);
  });

  test.each([
    ['{\n  "exclude": "a/"\n}', /\.shadowgit:2: "exclude" must be a list of strings/],
    ['{\n\n  "retention": { "keepLots": 1 }\n}', /\.shadowgit:3: unknown key "retention\.keepLots"/],
    ['{\n  "repo": 1,\n}', /\.shadowgit:2: "repo" must be a string/],
    ['{\n  "exclude": [\n}', /\.shadowgit:3:1: a value is missing/],
    ['[1]', /must hold one JSON object/],
    ['{\n  "__proto__": 1\n}', /\.shadowgit:2: unknown key "__proto__"/],
    ['{\n  "constructor": {}\n}', /\.shadowgit:2: unknown key "constructor"/],
    ['{\n  "retention": { "toString": 1 }\n}', /\.shadowgit:2: unknown key "retention\.toString"/],
    ['{\n  "watch": { "hasOwnProperty": "x" }\n}', /\.shadowgit:2: unknown key "watch\.hasOwnProperty"/],
  ])('names the line and key of a mistake: %s', (text, message) => {
    expect(() => parseConfig(text)).toThrow(message);
  });
});

describe('names', () => {
  test.each([
    ['Feature Complete', 'feature-complete'],
    ['  v2: login ready!  ', 'v2-login-ready'],
    ['Café crème', 'cafe-creme'],
    ['..hidden..lock', 'hidden-lock'],
  ])('tag name for %j is %j', (name, tag) => {
    expect(tagNameFor(name)).toBe(tag);
  });

  test('a name without letters or digits is refused', () => {
    expect(() => tagNameFor('!!!')).toThrow(/choose another name/);
  });

  test('snapshot ids use letters k–z only, so they never read as hex', () => {
    for (let i = 0; i < 200; i++) expect(newSnapshotId()).toMatch(/^[k-z]{8}$/);
  });
});
