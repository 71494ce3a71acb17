import { rememberEnv } from '../helpers/sandbox.js';
import { applyPolicy, DEFAULT_POLICY, parseDuration, resolvePolicy } from '../../src/engine/maintenance/retention.js';
import type { SnapshotInfo } from '../../src/engine/snapshot/history.js';
import type { RetentionPolicy } from '../../src/engine/config.js';

// Buckets are computed in local time, as restic does; pin it so the expectations hold anywhere.
const restoreTz = rememberEnv('TZ');
beforeAll(() => {
  process.env.TZ = 'UTC';
});
afterAll(restoreTz);

/** Snapshots named by letter, newest first (2026-03-02 is a Monday: ISO week 10). */
const DATES: Array<[string, string]> = [
  ['A', '2026-03-02T10:40:00Z'],
  ['B', '2026-03-02T10:05:00Z'],
  ['C', '2026-03-02T09:15:00Z'],
  ['D', '2026-03-01T23:50:00Z'],
  ['E', '2026-03-01T08:00:00Z'],
  ['F', '2026-02-25T12:00:00Z'],
  ['G', '2026-02-23T12:00:00Z'],
  ['H', '2026-02-20T12:00:00Z'],
  ['I', '2026-01-15T12:00:00Z'],
  ['J', '2025-12-31T12:00:00Z'],
];

function chain(dates: Array<[string, string]>): SnapshotInfo[] {
  return dates.map(([id, date], i) => ({ id, commit: `commit-${id}`, tree: `tree-${id}`, parent: dates[i + 1] ? `commit-${dates[i + 1]![0]}` : undefined, date: new Date(date), message: id, trigger: 'manual', changes: { added: 0, modified: 0, deleted: 0 } }));
}

function kept(policy: RetentionPolicy, protect = new Map<string, string[]>(), dates = DATES): string {
  return applyPolicy(chain(dates), policy, protect)
    .filter((d) => d.keep)
    .map((d) => d.snapshot.id)
    .join('');
}

describe('retention policy (restic semantics)', () => {
  test.each<[string, RetentionPolicy, string]>([
    ['keep-last 3', { keepLast: 3 }, 'ABC'],
    ['keep-hourly 3: newest of each of the last 3 hours with snapshots', { keepHourly: 3 }, 'ACD'],
    ['keep-daily 3', { keepDaily: 3 }, 'ADF'],
    ['keep-weekly 2 (ISO weeks start on Monday)', { keepWeekly: 2 }, 'AD'],
    ['keep-weekly 3', { keepWeekly: 3 }, 'ADH'],
    ['keep-monthly 3', { keepMonthly: 3 }, 'AFI'],
    ['keep-monthly 4 reaches the previous year', { keepMonthly: 4 }, 'AFIJ'],
    ['keep-within 1d counts back from the newest snapshot', { keepWithin: '1d' }, 'ABCD'],
    ['keep-within 36h', { keepWithin: '36h' }, 'ABCDE'],
    ['keep-within 1m (calendar month)', { keepWithin: '1m' }, 'ABCDEFGH'],
    ['rules combine: last 1 + monthly 2', { keepLast: 1, keepMonthly: 2 }, 'AF'],
    ['more buckets than snapshots keeps all', { keepDaily: 100 }, 'ADFGHIJ'],
  ])('%s', (_name, policy, expected) => {
    expect(kept(policy)).toBe(expected);
  });

  test('each kept snapshot says which rules keep it', () => {
    const decisions = applyPolicy(chain(DATES), { keepLast: 1, keepMonthly: 2 }, new Map());
    expect(decisions[0]!.reasons).toEqual(['last snapshot', 'monthly snapshot']);
    expect(decisions.find((d) => d.snapshot.id === 'F')!.reasons).toEqual(['monthly snapshot']);
    expect(decisions.find((d) => d.snapshot.id === 'B')!.reasons).toEqual([]);
  });

  test('protected snapshots survive without using up a rule', () => {
    expect(kept({ keepLast: 1 }, new Map([['commit-G', ['approved: Release']]]))).toBe('AG');
    expect(kept({ keepDaily: 2 }, new Map([['commit-B', ['undo point']]]))).toBe('ABD');
    const decisions = applyPolicy(chain(DATES), { keepLast: 1 }, new Map([['commit-G', ['approved: Release']]]));
    expect(decisions.find((d) => d.snapshot.id === 'G')!.reasons).toEqual(['approved: Release']);
  });

  test('the ISO week of 2025-12-29 and 2026-01-04 is the same (week 1 of 2026)', () => {
    const dates: Array<[string, string]> = [
      ['X', '2026-01-04T12:00:00Z'],
      ['Y', '2025-12-29T12:00:00Z'],
      ['Z', '2025-12-28T12:00:00Z'],
    ];
    expect(kept({ keepWeekly: 5 }, new Map(), dates)).toBe('XZ');
  });
});

describe('durations', () => {
  test('restic forms', () => {
    expect(parseDuration('2d')).toEqual({ years: 0, months: 0, days: 2, hours: 0 });
    expect(parseDuration('36h')).toEqual({ years: 0, months: 0, days: 0, hours: 36 });
    expect(parseDuration('1y6m2w3d4h')).toEqual({ years: 1, months: 6, days: 17, hours: 4 });
  });

  test.each(['', '2', 'two days', '2 d', '-1d', '1.5d', '3s'])('%p is refused with an example of the syntax', (text) => {
    expect(() => parseDuration(text)).toThrow(/write it like 2d, 36h/);
  });
});

describe('which policy applies', () => {
  test('command line beats .shadowgit, .shadowgit beats the default', () => {
    expect(resolvePolicy({ keepLast: 3 }, { keepDaily: 9 })).toEqual({ policy: { keepLast: 3 }, source: 'options' });
    expect(resolvePolicy({ keepLast: undefined }, { keepDaily: 9 })).toEqual({ policy: { keepDaily: 9 }, source: 'config' });
    expect(resolvePolicy({}, undefined)).toEqual({ policy: DEFAULT_POLICY, source: 'default' });
    expect(DEFAULT_POLICY).toEqual({ keepLast: 50, keepHourly: 24, keepDaily: 7, keepWeekly: 4 });
  });

  test('a policy that keeps nothing is refused', () => {
    expect(() => resolvePolicy({ keepLast: 0 }, undefined)).toThrow(/keeps no snapshot at all/);
    expect(() => resolvePolicy({ keepWithin: '0d' }, undefined)).toThrow(/keeps no snapshot at all/);
    expect(() => resolvePolicy({}, { keepDaily: 0 })).toThrow(/in \.shadowgit "retention" keeps no snapshot/);
  });

  test('bad numbers and durations are refused', () => {
    expect(() => resolvePolicy({ keepLast: -2 }, undefined)).toThrow(/--keep-last on the command line must be a whole number/);
    expect(() => resolvePolicy({ keepDaily: 1.5 }, undefined)).toThrow(/--keep-daily/);
    expect(() => resolvePolicy({ keepWithin: 'soon' }, undefined)).toThrow(/not a duration/);
  });
});
