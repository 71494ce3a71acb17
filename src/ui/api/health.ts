/**
 * GET /api/health: one status for monitors and the page (docs/ui.md) — overall pass/warn/fail
 * and one entry per component: doctor's checks, `verify --quick`, the watcher, the last
 * snapshot's age, free disk, and each remote's sync. A component that cannot be checked says so
 * as its own failure; the answer is always 200.
 */
import { promises as fsp } from 'node:fs';
import { ShadowGitError } from '../../engine/errors.js';
import type { ShadowGit } from '../../shadowgit.js';
import type { Route } from '../route.js';

type Status = 'pass' | 'warn' | 'fail';

interface Component {
  name: string;
  status: Status;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * verify --quick takes the repository lock (a snapshot waits for it) and re-hashes the latest
 * and approved snapshots: a monitor polling every few seconds gets the last result for this long.
 */
const VERIFY_REUSE_MS = 60_000;

const STATUS_OF_SEVERITY: Record<string, Status> = { ok: 'pass', info: 'pass', warn: 'warn', error: 'fail' };
const RANK: Record<Status, number> = { pass: 0, warn: 1, fail: 2 };
const worst = (statuses: Status[]): Status => statuses.reduce<Status>((a, b) => (RANK[b] > RANK[a] ? b : a), 'pass');

const lastVerify = new WeakMap<ShadowGit, { at: number; component: Component }>();

async function verifyComponent(sg: ShadowGit): Promise<Component> {
  const kept = lastVerify.get(sg);
  if (kept && Date.now() - kept.at < VERIFY_REUSE_MS) return kept.component;
  const report = await sg.verify({ quick: true });
  const damaged = [...report.snapshots, ...report.approved].filter((r) => !r.ok);
  const component: Component = {
    name: 'verify',
    status: report.ok ? 'pass' : 'fail',
    message: report.ok ? `the latest snapshot and ${report.approved.length} approved revision(s) read back intact (${report.objectsChecked} objects).` : `${damaged.length} revision(s) are damaged; run \`shadowgit verify\` for the whole history.`,
    details: { objectsChecked: report.objectsChecked, damaged: damaged.map((r) => ({ id: r.id, commit: r.commit, ...(r.name ? { name: r.name } : {}) })), ...(report.chainBrokenAt ? { chainBrokenAt: report.chainBrokenAt } : {}) },
  };
  lastVerify.set(sg, { at: Date.now(), component });
  return component;
}

/** `check` run as one component: an error becomes its failure (a held lock: a warning, it is busy). */
async function checked(name: string, check: () => Promise<Component | Component[]>): Promise<Component[]> {
  try {
    return [await check()].flat();
  } catch (err) {
    const busy = err instanceof ShadowGitError && err.code === 'ELOCKED';
    return [{ name, status: busy ? 'warn' : 'fail', message: err instanceof ShadowGitError ? err.message : `could not be checked: ${(err as Error)?.message ?? String(err)}` }];
  }
}

async function doctorComponents(sg: ShadowGit): Promise<Component[]> {
  const report = await sg.doctor();
  const byCheck = (checks: string[]) => report.findings.filter((f) => checks.includes(f.check));
  const from = (name: string, checks: string[], quiet: string): Component => {
    const findings = byCheck(checks);
    const status = worst(findings.map((f) => STATUS_OF_SEVERITY[f.severity] ?? 'warn'));
    const told = findings.filter((f) => STATUS_OF_SEVERITY[f.severity] === status);
    return { name, status, message: told.map((f) => f.message).join(' ') || quiet, details: { findings } };
  };
  return [
    from('doctor', ['repo', 'integrity', 'lock', 'journal', 'temp-files', 'critical-file'], 'the shadow repository, its lock and the critical files are in order.'),
    from('watcher', ['watcher'], 'no watcher state.'),
    from('last-snapshot', ['snapshot-age'], 'the last snapshot is recent.'),
    from('disk', ['disk'], 'the free disk space was not looked at.'),
  ];
}

async function lastSnapshotAge(sg: ShadowGit): Promise<Record<string, unknown>> {
  const [last] = await sg.list({ limit: 1 });
  return last ? { id: last.id, date: last.date, ageSeconds: Math.max(0, Math.round((Date.now() - Date.parse(last.date)) / 1000)) } : { id: null };
}

/** Free and total bytes where the shadow repository lives (the working tree's disk before it exists). */
async function diskBytes(sg: ShadowGit): Promise<Record<string, unknown>> {
  const stats = await fsp.statfs(sg.repoPath).catch(() => fsp.statfs(sg.worktree));
  return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

async function remoteComponents(sg: ShadowGit): Promise<Component[]> {
  const remotes = await sg.remotes();
  if (remotes.length === 0) return [{ name: 'remotes', status: 'pass', message: 'no remote is set up (`shadowgit remote add`).' }];
  return remotes.map((r) => ({
    name: `remote:${r.name}`,
    status: r.lastError ? 'warn' : 'pass',
    message: r.lastError ? `the last push or fetch failed (${r.lastError.time}): ${r.lastError.message}` : r.lastPush ? `last pushed ${r.lastPush}; ${r.unpushed} snapshot(s) not pushed yet.` : `never pushed; ${r.unpushed} snapshot(s) to push.`,
    details: { url: r.url, unpushed: r.unpushed, lastPush: r.lastPush ?? null, ...(r.machine ? { machine: r.machine } : {}) },
  }));
}

export const healthRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/health',
    handler: async ({ sg }) => {
      const exists = await sg.initialized();
      const [[doctor, verify], age, disk, remotes] = await Promise.all([
        // One after the other: doctor would report verify's hold on the lock.
        (async () => [await checked('doctor', () => doctorComponents(sg)), exists ? await checked('verify', () => verifyComponent(sg)) : [{ name: 'verify', status: 'warn' as const, message: 'there are no snapshots yet to verify.' }]])(),
        lastSnapshotAge(sg).catch(() => undefined),
        diskBytes(sg).catch(() => undefined),
        exists ? checked('remotes', () => remoteComponents(sg)) : [],
      ]);
      // doctor judges the age and the free space; the figures go beside its words.
      const add = (name: string, details: Record<string, unknown> | undefined) => {
        const component = doctor.find((c) => c.name === name);
        if (component && details) component.details = { ...component.details, ...details };
      };
      add('last-snapshot', age);
      const last = doctor.find((c) => c.name === 'last-snapshot');
      if (last && age?.id === null) Object.assign(last, { status: 'warn', message: 'there is no snapshot yet; `shadowgit snapshot` records one.' });
      add('disk', disk);
      const components = [...doctor, ...verify, ...remotes];
      return { json: { status: worst(components.map((c) => c.status)), checkedAt: new Date().toISOString(), components } };
    },
  },
];
