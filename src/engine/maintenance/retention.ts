import type { RetentionPolicy } from '../config.js';
import { ShadowGitError } from '../errors.js';
import type { IndexedSnapshot } from '../snapshot/chainindex.js';

/** What `prune` keeps when neither the command line nor `.shadowgit` says. */
export const DEFAULT_POLICY: Readonly<RetentionPolicy> = { keepLast: 50, keepHourly: 24, keepDaily: 7, keepWeekly: 4 };

const COUNT_RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly'] as const;
type CountRule = (typeof COUNT_RULES)[number];

export type PolicySource = 'options' | 'config' | 'default';

/**
 * The policy in force: the command line's rules if any were given, else `.shadowgit`'s
 * `retention`, else DEFAULT_POLICY. A policy that keeps nothing is refused, never applied.
 */
export function resolvePolicy(options: RetentionPolicy, config: RetentionPolicy | undefined): { policy: RetentionPolicy; source: PolicySource } {
  const given = (p: RetentionPolicy | undefined) => p !== undefined && Object.values(p).some((v) => v !== undefined);
  const [policy, source]: [RetentionPolicy, PolicySource] = given(options) ? [options, 'options'] : given(config) ? [config!, 'config'] : [DEFAULT_POLICY, 'default'];
  const where = source === 'config' ? 'in .shadowgit "retention"' : 'on the command line';
  for (const rule of COUNT_RULES) {
    const value = policy[rule];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw new ShadowGitError(`${ruleFlag(rule)} ${where} must be a whole number of snapshots (0 or more), not ${value}.`, 'EUSAGE');
  }
  if (policy.keepWithin !== undefined) parseDuration(policy.keepWithin, `${ruleFlag('keepWithin')} ${where}`);
  const keepsSomething = COUNT_RULES.some((rule) => (policy[rule] ?? 0) > 0) || (policy.keepWithin !== undefined && withinIsPositive(policy.keepWithin));
  if (!keepsSomething) {
    throw new ShadowGitError(`the retention policy ${where} keeps no snapshot at all, so prune refuses to run; give at least one rule, e.g. --keep-last 20 or --keep-daily 7.`, 'EUSAGE');
  }
  return { policy, source };
}

function ruleFlag(rule: CountRule | 'keepWithin'): string {
  return `--${rule.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The policy as its flags without dashes, for messages and rewrites.jsonl: "keep-last 5, keep-within 2d". */
export function describePolicy(policy: RetentionPolicy): string {
  return ([...COUNT_RULES, 'keepWithin'] as const)
    .filter((rule) => policy[rule] !== undefined && policy[rule] !== 0)
    .map((rule) => `${ruleFlag(rule).slice(2)} ${policy[rule]}`)
    .join(', ');
}

export interface Duration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

/**
 * restic's duration syntax: a sequence of NUMBER+UNIT with y(ears), m(onths), w(eeks), d(ays), h(ours): "2d", "36h", "1y6m".
 * `source` names where the text came from ("--keep-within on the command line") for the error.
 */
export function parseDuration(text: string, source?: string): Duration {
  const duration: Duration = { years: 0, months: 0, days: 0, hours: 0 };
  const trimmed = text.trim();
  if (!/^(\d+[ymwdh])+$/.test(trimmed)) {
    throw new ShadowGitError(`${source ? `${source}: ` : ''}"${text}" is not a duration; write it like 2d, 36h, 4w or 1y6m (y years, m months, w weeks, d days, h hours).`, 'EUSAGE');
  }
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([ymwdh])/g)) {
    const n = Number(amount);
    if (unit === 'y') duration.years += n;
    else if (unit === 'm') duration.months += n;
    else if (unit === 'w') duration.days += 7 * n;
    else if (unit === 'd') duration.days += n;
    else duration.hours += n;
  }
  return duration;
}

function withinIsPositive(text: string): boolean {
  const d = parseDuration(text);
  return d.years + d.months + d.days + d.hours > 0;
}

/** `date` minus `duration`, by the calendar (a month back from March 31 is the end of February's overflow, as in restic). */
export function subtract(date: Date, duration: Duration): Date {
  const result = new Date(date);
  result.setFullYear(result.getFullYear() - duration.years, result.getMonth() - duration.months, result.getDate() - duration.days);
  return new Date(result.getTime() - duration.hours * 3600_000);
}

/** ISO 8601 week number and its year (weeks start on Monday; week 1 holds the first Thursday). */
function isoWeek(date: Date): number {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const dayFromMonday = (d.getDay() + 6) % 7;
  d.setDate(d.getDate() - dayFromMonday + 3);
  const weekYear = d.getFullYear();
  const firstThursday = new Date(weekYear, 0, 4);
  firstThursday.setDate(firstThursday.getDate() - ((firstThursday.getDay() + 6) % 7) + 3);
  return weekYear * 100 + 1 + Math.round((d.getTime() - firstThursday.getTime()) / (7 * 86400_000));
}

/** The time bucket of a snapshot per rule, in local time as restic does; `keepLast` makes every snapshot its own bucket. */
const BUCKETS: Record<CountRule, { label: string; key: (date: Date, index: number) => number }> = {
  keepLast: { label: 'last', key: (_date, index) => index },
  keepHourly: { label: 'hourly', key: (d) => ((d.getFullYear() * 100 + d.getMonth()) * 100 + d.getDate()) * 100 + d.getHours() },
  keepDaily: { label: 'daily', key: (d) => (d.getFullYear() * 100 + d.getMonth()) * 100 + d.getDate() },
  keepWeekly: { label: 'weekly', key: isoWeek },
  keepMonthly: { label: 'monthly', key: (d) => d.getFullYear() * 100 + d.getMonth() },
};

export interface RetentionDecision {
  snapshot: IndexedSnapshot;
  keep: boolean;
  /** Why it is kept ("daily snapshot", "approved: Feature Complete", …); empty when it goes. */
  reasons: string[];
}

/**
 * restic's `forget` algorithm: snapshots newest first; each count rule keeps the newest snapshot
 * of each of its next N distinct buckets (hour, day, ISO week, month); `keepWithin` keeps every
 * snapshot within the duration before the newest one. `protect` (approved revisions, undo
 * points) is kept whatever the policy says, without using up any rule's count.
 */
export function applyPolicy(snapshotsNewestFirst: IndexedSnapshot[], policy: RetentionPolicy, protect: Map<string, string[]>): RetentionDecision[] {
  const newest = snapshotsNewestFirst[0];
  const withinStart = policy.keepWithin !== undefined && newest ? subtract(newest.date, parseDuration(policy.keepWithin)) : undefined;
  const remaining = new Map(COUNT_RULES.map((rule) => [rule, policy[rule] ?? 0]));
  const lastBucket = new Map<CountRule, number>();
  return snapshotsNewestFirst.map((snapshot, index) => {
    const reasons: string[] = [];
    if (withinStart && snapshot.date.getTime() >= withinStart.getTime()) reasons.push(`within ${policy.keepWithin}`);
    for (const rule of COUNT_RULES) {
      if ((remaining.get(rule) ?? 0) <= 0) continue;
      const bucket = BUCKETS[rule].key(snapshot.date, index);
      if (lastBucket.get(rule) === bucket) continue;
      lastBucket.set(rule, bucket);
      remaining.set(rule, remaining.get(rule)! - 1);
      reasons.push(`${BUCKETS[rule].label} snapshot`);
    }
    reasons.push(...(protect.get(snapshot.commit) ?? []));
    return { snapshot, keep: reasons.length > 0, reasons };
  });
}
