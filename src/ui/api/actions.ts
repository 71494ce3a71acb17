/**
 * The UI's actions (docs/ui.md): approve, and rollback, restore and undo in two steps — a plan
 * (the preview the CLI's confirmation shows) and then that plan carried out by its id, once,
 * within 10 minutes, and only while the tree and the revision are as planned (ECHANGED
 * otherwise, nothing written). Each is the facade call the CLI makes, with the revision as asked,
 * so the op log records it as it records the CLI's; each answer carries `cli`, the equivalent
 * command line, and is announced to the open pages as an `action` event.
 */
import { ShadowGitError } from '../../engine/errors.js';
import { freeText, revision, treePath } from '../../frontend/args.js';
import type { ShownPlan } from '../../frontend/plans.js';
import type { CheckoutPlan, CheckoutReport } from '../../shadowgit.js';
import type { ApiRequest, ApiResponse, Route } from '../route.js';

/** Paths one restore takes (the MCP server's cap). */
const MAX_PATHS = 100;

/** `word` as a POSIX shell reads it back: bare when safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./~^-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

const command = (...words: string[]) => ['shadowgit', ...words].join(' ');

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw new ShadowGitError(`the body's "${name}" must be a string.`, 'EUSAGE');
  return value;
}

function optionalField(body: Record<string, unknown>, name: string): string | undefined {
  return body[name] === undefined ? undefined : field(body, name);
}

function pathsField(body: Record<string, unknown>): string[] {
  const paths = body.paths;
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > MAX_PATHS) throw new ShadowGitError(`the body's "paths" must be a list of 1 to ${MAX_PATHS} paths relative to the working tree root.`, 'EUSAGE');
  return paths.map((p) => {
    if (typeof p !== 'string') throw new ShadowGitError('every entry of "paths" must be a string.', 'EUSAGE');
    return treePath(p);
  });
}

function cliOf(plan: ShownPlan): string {
  if (plan.op === 'undo') return command('undo');
  if (plan.op === 'restore') return command('restore', shellWord(plan.rev!), '--', ...plan.paths!.map(shellWord));
  return command('rollback', shellWord(plan.rev!), '--yes');
}

/** Keeps `plan` as shown and answers with its id and what it would write and delete. */
function shown(req: ApiRequest, plan: CheckoutPlan, asked: Pick<ShownPlan, 'op' | 'rev'>): ApiResponse {
  const kept: ShownPlan = { target: plan.target.commit, ...(plan.paths ? { paths: plan.paths } : {}), worktreeTree: plan.worktreeTree, ...asked };
  const { id, expires } = req.ui.plans.add(kept);
  const t = plan.target;
  return {
    json: {
      plan: { id, op: asked.op, target: { id: t.id, commit: t.commit, date: t.date.toISOString(), message: t.message }, ...(plan.paths ? { paths: plan.paths } : {}), write: plan.write, delete: plan.delete, expires: expires.toISOString() },
      cli: cliOf(kept),
    },
  };
}

/** The plan the body's `plan` names, for `op`, used up; refused when unknown, used, expired or for another action. */
function takePlan(req: ApiRequest, op: NonNullable<ShownPlan['op']>): ShownPlan {
  const id = field(req.body, 'plan');
  const plan = req.ui.plans.peek(id);
  if (!plan || plan.op !== op) throw new ShadowGitError(`the plan "${id.slice(0, 64)}" is unknown, already carried out or expired, or not a ${op} plan; ask POST /api/${op}/plan for a new one.`, 'EUSAGE');
  req.ui.plans.take(id);
  return plan;
}

function done(req: ApiRequest, op: string, cli: string, report: CheckoutReport): ApiResponse {
  req.ui.publish('action', { op, cli });
  return { json: { ...report, cli } };
}

export const actionRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/api/approve',
    handler: async (req) => {
      const { sg, body } = req;
      const name = freeText(field(body, 'name'), 'name');
      const description = optionalField(body, 'description');
      const force = body.force === true;
      const report = await sg.approve(name, { description: description === undefined ? undefined : freeText(description, 'description'), force });
      // As the CLI: .shadowgit "remote": {"push": "approve"} sends the approval off-machine now; a failed push leaves it standing.
      const autoPush = sg.config.remote?.push === 'approve';
      const pushError = autoPush ? await sg.push().then(() => undefined, (err: Error) => err.message) : undefined;
      const cli = command('approve', shellWord(name), ...(description !== undefined ? ['-m', shellWord(description)] : []), ...(force ? ['--force'] : []));
      req.ui.publish('action', { op: 'approve', cli });
      return { json: { ...report, ...(autoPush ? { pushed: pushError === undefined, ...(pushError ? { pushError } : {}) } : {}), cli } };
    },
  },
  {
    method: 'POST',
    pattern: '/api/rollback/plan',
    handler: async (req) => {
      const rev = revision(field(req.body, 'rev'));
      return shown(req, await req.sg.checkoutPlan(rev), { op: 'rollback', rev });
    },
  },
  {
    method: 'POST',
    pattern: '/api/rollback',
    handler: async (req) => {
      const plan = takePlan(req, 'rollback');
      return done(req, 'rollback', cliOf(plan), await req.sg.rollback(plan.rev!, { expect: { target: plan.target, worktreeTree: plan.worktreeTree } }));
    },
  },
  {
    method: 'POST',
    pattern: '/api/restore/plan',
    handler: async (req) => {
      const rev = revision(field(req.body, 'rev'));
      return shown(req, await req.sg.checkoutPlan(rev, { paths: pathsField(req.body) }), { op: 'restore', rev });
    },
  },
  {
    method: 'POST',
    pattern: '/api/restore',
    handler: async (req) => {
      const plan = takePlan(req, 'restore');
      return done(req, 'restore', cliOf(plan), await req.sg.restore(plan.rev!, plan.paths!, { expect: { target: plan.target, worktreeTree: plan.worktreeTree } }));
    },
  },
  {
    method: 'POST',
    pattern: '/api/undo/plan',
    handler: async (req) => shown(req, await req.sg.planUndo(), { op: 'undo' }),
  },
  {
    method: 'POST',
    pattern: '/api/undo',
    handler: async (req) => {
      const plan = takePlan(req, 'undo');
      return done(req, 'undo', cliOf(plan), await req.sg.undo({ expect: { target: plan.target, worktreeTree: plan.worktreeTree } }));
    },
  },
];
