/**
 * The restore plans a front end (the MCP server, the browser UI) has shown and not yet carried
 * out. A plan id is a hash of what the plan depends on (the target commit, the paths asked, the
 * working tree as scanned, and the UI's operation and revision as asked),
 * so the same request on the same tree names the same plan; each id is good for one use and
 * for a limited time.
 */
import { createHash } from 'node:crypto';

/** What a shown plan was made for: enough to carry it out exactly or to refuse. */
export interface ShownPlan {
  /** The commit the revision named. */
  target: string;
  /** Worktree-relative paths as the facade normalised them; absent for the whole tree. */
  paths?: string[];
  /** The working tree's id as the plan scanned it. */
  worktreeTree: string;
  /**
   * The browser UI's plans (rollback, restore, undo) also keep the operation and the revision as
   * asked, to carry it out as the CLI would (the op log records the revision typed); the MCP
   * server's restore plans need neither.
   */
  op?: 'rollback' | 'restore' | 'undo';
  rev?: string;
}

export const PLAN_LIFETIME_MS = 10 * 60_000;

export function planId(plan: ShownPlan): string {
  const asked = plan.op === undefined ? [] : [plan.op, plan.rev ?? null];
  return createHash('sha256').update(JSON.stringify([plan.target, plan.paths ?? null, plan.worktreeTree, ...asked])).digest('hex').slice(0, 24);
}

export class PlanStore {
  private readonly plans = new Map<string, ShownPlan & { expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Keeps `plan` for PLAN_LIFETIME_MS; returns its id and when it expires. */
  add(plan: ShownPlan): { id: string; expires: Date } {
    const now = this.now();
    for (const [id, kept] of this.plans) if (kept.expires <= now) this.plans.delete(id);
    const id = planId(plan);
    const expires = now + PLAN_LIFETIME_MS;
    this.plans.set(id, { ...plan, expires });
    return { id, expires: new Date(expires) };
  }

  /** The plan `id` names, still kept; undefined when unknown, used or expired. */
  peek(id: string): ShownPlan | undefined {
    const kept = this.plans.get(id);
    if (!kept || kept.expires <= this.now()) return undefined;
    const { expires: _expires, ...plan } = kept;
    return plan;
  }

  /** The plan `id` names, removed so it cannot be used twice; undefined when unknown, used or expired. */
  take(id: string): ShownPlan | undefined {
    const plan = this.peek(id);
    this.plans.delete(id);
    return plan;
  }
}
