/**
 * `shadowgit mcp`: the tools an AI agent gets over the Model Context Protocol (stdio), on the
 * facade only. Every tool has an output schema and answers with structured content; a mistake
 * or a refusal is a tool result with isError and one sentence, never a protocol error. stdout
 * carries JSON-RPC and nothing else.
 */
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ChangeStat } from '../engine/snapshot/diff.js';
import { ShadowGitError } from '../engine/errors.js';
import { agentSummary, momentOf, ShadowGit, type CheckoutReport } from '../shadowgit.js';
import { freeText, identifier, revision, treePath, treePaths } from '../frontend/args.js';
import { PlanStore } from '../frontend/plans.js';

/** How many paths a list in a result shows before it says how many more there are. */
const LIST_CAP = 100;
/** Characters of patches a diff returns: about 8k tokens. */
const PATCH_CAP = 30_000;
/** Files a diff lists. */
const DIFF_FILES_CAP = 500;
/** Bytes of a file show_file returns. */
const FILE_CAP = 100_000;
/** Trigger of the snapshots the agent asks for. */
const TRIGGER = 'mcp';

export const INSTRUCTIONS = `shadowgit records the whole working tree (whoever edits it) as snapshots in a shadow git repository outside it; the project's own git is never touched.
To look: status (what changed since the last snapshot), list_snapshots (history; since, path, session), diff (snapshot to snapshot or to the tree; stat for line counts), show_file (a file as a snapshot recorded it), impact (what imports the files you are about to change, and which tests cover them).
Before risky work (large refactors, deleting or moving files, codemods, shell commands that write), call snapshot with a message saying what comes next.
To go back, restore is two-step: call it with a revision (and paths, or none for the whole tree) to get the plan (files to write and delete) and a plan_id; check the plan, then call it again with the same arguments plus plan_id. It records the current state first, so restoring that pre-restore snapshot undoes it.
Revisions: a snapshot id, a commit hash, an approved name, latest, latest~N, prompt:N@SESSION (the state before prompt N of an agent session). Paths are relative to the working tree root.`;

// Schemas are made afresh for each use: a schema object used twice in one tool becomes a JSON
// Schema $ref, which some agents' schema readers do not follow.
const ref = () => z.object({ id: z.string(), commit: z.string() });
const snapshotSummary = () => ref().extend({ date: z.string(), message: z.string() });
const counts = () => z.object({ added: z.number(), modified: z.number(), deleted: z.number() });
const pathList = () => z.array(z.string());
/** Set when a list or text was cut: what was left out and how to see it. */
const note = () => z.string().optional();

// destructiveHint and idempotentHint mean something only for tools that write (MCP spec), so read-only ones leave them out.
const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;

type Structured = Record<string, unknown>;

/** The first `cap` of `list`, and a sentence about the rest when there is more. */
function capped<T>(list: T[], cap: number, what: string, narrower: string): { shown: T[]; note?: string } {
  if (list.length <= cap) return { shown: list };
  return { shown: list.slice(0, cap), note: `${list.length - cap} more ${what} left out (${list.length} in all); ${narrower}.` };
}

/** One line ending in a full stop: an unexpected error's message may span lines. */
function sentence(text: string): string {
  const line = text.trim().replace(/\s*\n\s*/g, ' ');
  return /[.!?]$/.test(line) ? line : `${line}.`;
}

function failure(err: unknown): CallToolResult {
  const known = err instanceof ShadowGitError;
  const message = known ? err.message : `unexpected error: ${(err as Error)?.message ?? String(err)} (please report it)`;
  if (!known && process.env.SHADOWGIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return { content: [{ type: 'text', text: sentence(message) }], isError: true };
}

function success(structured: Structured): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

const summaryOf = (s: { id: string; commit: string; date: Date | string; message: string }) => ({ id: s.id, commit: s.commit, date: typeof s.date === 'string' ? s.date : s.date.toISOString(), message: s.message });

/** Git's test for binary content: a NUL in the first 8000 bytes; and text must be UTF-8. */
function isText(content: Buffer): boolean {
  if (content.subarray(0, 8000).includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
    return true;
  } catch {
    return false;
  }
}

const KIND_OF_MODE: Record<string, string> = { '100644': 'file', '100755': 'executable', '120000': 'symlink' };

export interface ServeOptions {
  /** Where the working tree is found from (the CLI's current directory, after -C). */
  cwd: string;
}

/**
 * The server with its tools for the tree found from `cwd`. Each call opens the tree afresh, so
 * an edited `.shadowgit` counts from the next call; whether `approve` is offered is read once.
 */
export async function createServer(options: ServeOptions): Promise<{ server: McpServer; finished: () => Promise<unknown> }> {
  const opened = await ShadowGit.open({ cwd: options.cwd });
  const worktree = opened.worktree;
  const open = () => ShadowGit.open({ worktree });
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const server = new McpServer({ name: 'shadowgit', version }, { instructions: INSTRUCTIONS });
  const plans = new PlanStore();
  /** Tool calls under way: the server ends only after they finish (a restore is not cut short). */
  const running = new Set<Promise<CallToolResult>>();

  const tool = <I extends z.ZodRawShape, O extends z.ZodRawShape>(
    name: string,
    config: { description: string; inputSchema: I; outputSchema: O; annotations: Record<string, boolean> },
    run: (args: z.objectOutputType<I, z.ZodTypeAny>, sg: ShadowGit) => Promise<z.objectOutputType<O, z.ZodTypeAny>>,
  ) =>
    server.registerTool(name, config, ((args: z.objectOutputType<I, z.ZodTypeAny>) => {
      const call = (async () => {
        try {
          return success(await run(args, await open()));
        } catch (err) {
          return failure(err);
        }
      })();
      running.add(call);
      return call.finally(() => running.delete(call));
    }) as never);

  tool(
    'status',
    {
      description: 'What changed in the working tree since the last snapshot, and that snapshot.',
      inputSchema: {},
      outputSchema: {
        worktree: z.string(),
        initialized: z.boolean().describe('false until the first snapshot'),
        lastSnapshot: snapshotSummary().optional(),
        comparedWith: ref().extend({ by: z.string() }).optional().describe('the snapshot a rollback or restore made the tree match, when changes are counted from it'),
        counts: counts(),
        changes: z.object({ added: pathList(), modified: pathList(), deleted: pathList() }),
        snapshots: z.number(),
        interruptedOperation: z.string().optional(),
        note: note(),
      },
      annotations: READ_ONLY,
    },
    async (_args, sg) => {
      const status = await sg.status();
      const all = [...status.changes.added, ...status.changes.modified, ...status.changes.deleted];
      const cut = capped(all, LIST_CAP, 'changed paths', 'diff with paths lists them by directory');
      const shown = new Set(cut.shown);
      const keep = (list: string[]) => list.filter((p) => shown.has(p));
      return {
        worktree: status.worktree,
        initialized: status.initialized,
        ...(status.lastSnapshot ? { lastSnapshot: summaryOf(status.lastSnapshot) } : {}),
        ...(status.base ? { comparedWith: { id: status.base.id, commit: status.base.commit, by: status.base.by } } : {}),
        counts: { added: status.changes.added.length, modified: status.changes.modified.length, deleted: status.changes.deleted.length },
        changes: { added: keep(status.changes.added), modified: keep(status.changes.modified), deleted: keep(status.changes.deleted) },
        snapshots: status.snapshots,
        ...(status.interruptedOperation ? { interruptedOperation: status.interruptedOperation } : {}),
        ...(cut.note ? { note: cut.note } : {}),
      };
    },
  );

  tool(
    'list_snapshots',
    {
      description: 'Snapshots, newest first.',
      inputSchema: {
        limit: z.number().int().min(1).max(500).optional().describe('at most this many (default 20)'),
        since: z.string().max(64).optional().describe('only newer than a date (2026-12-07T14:30) or a duration back from now (2h, 3d, 1w)'),
        path: z.string().optional().describe('only snapshots that changed this file or directory'),
        session: z.string().max(200).optional().describe('only snapshots an agent session recorded (its id, or a unique prefix)'),
      },
      outputSchema: {
        snapshots: z.array(snapshotSummary().extend({ trigger: z.string(), tags: z.array(z.string()), changes: counts(), agent: z.object({ name: z.string(), session: z.string(), event: z.string(), tool: z.string().optional(), prompt: z.number().optional() }).optional() })),
        more: z.boolean().describe('more snapshots match than were returned'),
      },
      annotations: READ_ONLY,
    },
    async (args, sg) => {
      const path = args.path === undefined ? undefined : treePath(args.path);
      const since = args.since === undefined ? undefined : await momentOf(args.since);
      const limit = args.limit ?? 20;
      let snapshots = await sg.list({ session: args.session === undefined ? undefined : identifier(args.session, 'session') });
      if (since) snapshots = snapshots.filter((s) => new Date(s.date) > since);
      if (path !== undefined) {
        const changing = await sg.snapshotsChanging(snapshots.map((s) => s.commit), [path]);
        snapshots = snapshots.filter((s) => changing.has(s.commit));
      }
      return {
        snapshots: snapshots.slice(0, limit).map((s) => ({ ...summaryOf(s), trigger: s.trigger, tags: s.tags, changes: s.changes, ...(s.agent && { agent: agentSummary(s.agent) }) })),
        more: snapshots.length > limit,
      };
    },
  );

  tool(
    'diff',
    {
      description: 'Changes between two snapshots, or from a snapshot to the working tree (default: from the last snapshot), as patches or line counts.',
      inputSchema: {
        from: z.string().optional().describe('revision (default: what status compares with)'),
        to: z.string().optional().describe('revision (default: the working tree)'),
        paths: z.array(z.string()).min(1).max(100).optional().describe('only these files or directories'),
        stat: z.boolean().optional().describe('lines added and removed per file instead of patches'),
      },
      outputSchema: {
        from: ref(),
        to: z.union([ref(), z.literal('worktree')]),
        changes: z.array(z.object({ path: z.string(), status: z.string(), insertions: z.number().optional(), deletions: z.number().optional(), binary: z.boolean().optional(), oldBytes: z.number().optional(), newBytes: z.number().optional() })),
        patch: z.string().optional().describe('unified diffs, without stat'),
        truncated: z.boolean(),
        note: note(),
      },
      annotations: READ_ONLY,
    },
    async (args, sg) => {
      const from = args.from === undefined ? undefined : revision(args.from);
      const to = args.to === undefined ? undefined : revision(args.to);
      const result = await sg.diff(from, to, { paths: treePaths(args.paths), cwd: worktree });
      const worktreeSide = to === undefined;
      const listed = capped(result.changes, DIFF_FILES_CAP, 'changed files', 'narrow it with paths');
      // With stat, each change carries its line counts, or `binary` with the sizes (as the CLI's --json).
      const changes: Array<{ path: string; status: string } & Partial<ChangeStat>> = [];
      let patch = '';
      let patched = 0;
      let patchCut = false;
      for (const change of listed.shown) {
        if (args.stat) {
          changes.push({ path: change.path, status: change.status, ...(await sg.stat(change, worktreeSide)) });
          continue;
        }
        changes.push({ path: change.path, status: change.status });
        if (patchCut) continue;
        const text = await sg.patch(change, worktreeSide);
        patchCut = patch.length + text.length > PATCH_CAP;
        patch += patchCut ? cutAtLine(text, PATCH_CAP - patch.length) : text;
        patched++;
      }
      const cutNote = patchCut
        ? `the patches were cut at ${PATCH_CAP} characters, in the patch of ${listed.shown[patched - 1]!.path} (file ${patched} of ${result.changes.length}); narrow it with paths, or pass stat: true for line counts.`
        : undefined;
      const notes = [listed.note, cutNote].filter(Boolean).join(' ');
      return {
        from: { id: result.from.id, commit: result.from.commit },
        to: result.to ? { id: result.to.id, commit: result.to.commit } : ('worktree' as const),
        changes,
        ...(args.stat ? {} : { patch }),
        truncated: notes !== '',
        ...(notes ? { note: notes } : {}),
      };
    },
  );

  tool(
    'show_file',
    {
      description: 'A file as a snapshot recorded it.',
      inputSchema: {
        path: z.string().describe('file, relative to the working tree root'),
        revision: z.string().optional().describe('default latest'),
      },
      outputSchema: {
        snapshot: ref(),
        path: z.string(),
        kind: z.string().describe('file, executable or symlink (content: its target)'),
        bytes: z.number().optional(),
        content: z.string().optional().describe('absent for a binary or too large file'),
        note: note(),
      },
      annotations: READ_ONLY,
    },
    async (args, sg) => {
      const file = await sg.fileAt(revision(args.revision ?? 'latest'), treePath(args.path), { cwd: worktree });
      const base = { snapshot: { id: file.snapshot.id, commit: file.snapshot.commit }, path: file.path, kind: KIND_OF_MODE[file.mode] ?? file.mode };
      const restoreHint = `restore it (restore with paths: [${JSON.stringify(file.path)}]) to read it in the tree`;
      if (!file.content) return { ...base, note: `the file is larger than 8 MiB, so it is not shown; ${restoreHint}.` };
      const bytes = file.content.length;
      if (!isText(file.content)) return { ...base, bytes, note: `the file is binary (${bytes} bytes), so it is not shown.` };
      if (bytes > FILE_CAP) return { ...base, bytes, note: `the file is ${bytes} bytes, more than the ${FILE_CAP} shown, so it is not shown; diff it with paths to see what changed, or ${restoreHint}.` };
      return { ...base, bytes, content: file.content.toString('utf8') };
    },
  );

  tool(
    'impact',
    {
      description: 'Files that import the given files, directly or transitively, and the tests among them (TypeScript/JavaScript).',
      inputSchema: { paths: z.array(z.string()).min(1).max(100).describe('files or directories about to change') },
      outputSchema: {
        targets: pathList(),
        dependents: z.array(z.object({ path: z.string(), depth: z.number(), via: pathList() })),
        tests: pathList(),
        unresolved: z.number().describe('imports that lead nowhere, so dependents may be missing'),
        note: note(),
      },
      annotations: READ_ONLY,
    },
    async (args, sg) => {
      const paths = treePaths(args.paths)!;
      const { impact } = await import('../impact/index.js');
      const result = await impact(sg, { paths, cwd: worktree });
      const dependents = capped(result.dependents, LIST_CAP, 'dependents', 'ask about fewer files');
      const tests = capped(result.tests, LIST_CAP, 'tests', 'ask about fewer files');
      const notes = [dependents.note, tests.note].filter(Boolean).join(' ');
      return {
        targets: result.targets,
        dependents: dependents.shown.map((d) => ({ path: d.path, depth: d.depth, via: d.via })),
        tests: tests.shown,
        unresolved: result.unresolved.length,
        ...(notes ? { note: notes } : {}),
      };
    },
  );

  tool(
    'snapshot',
    {
      description: 'Record the whole working tree now (nothing new is recorded when it is unchanged).',
      inputSchema: { message: z.string().max(2000).optional().describe('what comes next, e.g. "before deleting the old API"') },
      outputSchema: { ...ref().shape, created: z.boolean().describe('false: the tree was unchanged and this is the snapshot that has it'), changes: counts(), warnings: z.array(z.string()).optional() },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, sg) => {
      const message = args.message === undefined ? undefined : freeText(args.message, 'message');
      const report = await sg.snapshot({ message, trigger: TRIGGER });
      return { id: report.id, commit: report.commit, created: report.created, changes: report.changes, ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}) };
    },
  );

  tool(
    'restore',
    {
      description: 'Return files, or the whole tree, to a snapshot. Two steps: without plan_id it returns the plan and a plan_id; call again with the same arguments and plan_id to carry it out.',
      inputSchema: {
        revision: z.string().describe('the snapshot to return to'),
        paths: z.array(z.string()).min(1).max(100).optional().describe('only these files or directories (default: the whole tree)'),
        plan_id: z.string().max(64).optional().describe('from the plan step: carry out exactly that plan'),
      },
      outputSchema: {
        done: z.boolean().describe('false: this is the plan, nothing was changed'),
        target: snapshotSummary(),
        paths: pathList().optional(),
        counts: z.object({ write: z.number(), delete: z.number() }),
        write: pathList(),
        delete: pathList(),
        plan_id: z.string().optional(),
        expires: z.string().optional(),
        preRestore: ref().extend({ created: z.boolean() }).optional().describe('the state before, recorded first: restore it to undo'),
        note: note(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async (args, sg) => {
      const rev = revision(args.revision);
      const paths = treePaths(args.paths);
      if (args.plan_id === undefined) {
        const plan = await sg.checkoutPlan(rev, { paths, cwd: worktree });
        const lists = listsOf(plan.write, plan.delete);
        const base = { done: false, target: summaryOf(plan.target), ...(plan.paths ? { paths: plan.paths } : {}), counts: { write: plan.write.length, delete: plan.delete.length }, ...lists.lists };
        if (plan.write.length === 0 && plan.delete.length === 0) return { ...base, note: `nothing to do: ${plan.paths ? 'these paths match' : 'the tree matches'} snapshot ${plan.target.id}.` };
        const shown = plans.add({ target: plan.target.commit, paths: plan.paths, worktreeTree: plan.worktreeTree });
        return { ...base, plan_id: shown.id, expires: shown.expires.toISOString(), note: [`to carry it out, call restore again with the same arguments and plan_id (once, within 10 minutes); the current state is recorded first.`, lists.note].filter(Boolean).join(' ') };
      }
      const unknown = () => new ShadowGitError('the plan_id is unknown, already used or expired; call restore without plan_id for a new plan.', 'EUSAGE');
      // Checked against the request before it is used up: a call with other arguments leaves the plan as it was.
      const shown = plans.peek(args.plan_id);
      if (!shown) throw unknown();
      const scope = paths?.map((p) => sg.toWorktreePath(p));
      if (JSON.stringify(scope ?? null) !== JSON.stringify(shown.paths ?? null)) throw new ShadowGitError('the plan_id was made for other paths; call restore with the same arguments as for the plan, or without plan_id for a new plan.', 'EUSAGE');
      const target = await sg.resolve(rev);
      if (target.commit !== shown.target) {
        throw new ShadowGitError(`the revision "${rev}" now names snapshot ${target.id}, not the one the plan was made for; call restore without plan_id for a new plan.`, 'ECHANGED');
      }
      if (!plans.take(args.plan_id)) throw unknown();
      const expect = { target: shown.target, worktreeTree: shown.worktreeTree };
      const report = shown.paths ? await sg.restore(shown.target, shown.paths, { expect }) : await sg.rollback(shown.target, { expect });
      return doneResult(report, target, shown.paths);
    },
  );

  if (opened.config.mcp?.allowApprove) {
    tool(
      'approve',
      {
        description: 'Mark the working tree as it is now as an approved revision with a name (snapshots it first if it changed).',
        inputSchema: { name: z.string().min(1).max(200), description: z.string().max(2000).optional() },
        outputSchema: { name: z.string(), tag: z.string(), ...ref().shape, snapshotCreated: z.boolean() },
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      },
      async (args, sg) => {
        const report = await sg.approve(freeText(args.name, 'name'), { description: args.description === undefined ? undefined : freeText(args.description, 'description') });
        return { name: report.name, tag: report.tag, id: report.id, commit: report.commit, snapshotCreated: report.snapshotCreated };
      },
    );
  }
  return { server, finished: () => Promise.allSettled(running) };
}

/** The write and delete lists of a plan or a done restore, capped together. */
function listsOf(write: string[], remove: string[]): { lists: { write: string[]; delete: string[] }; note?: string } {
  const w = capped(write, LIST_CAP, 'paths to write', 'restore fewer paths to see them all');
  const d = capped(remove, LIST_CAP, 'paths to delete', 'restore fewer paths to see them all');
  return { lists: { write: w.shown, delete: d.shown }, note: [w.note, d.note].filter(Boolean).join(' ') || undefined };
}

function doneResult(report: CheckoutReport, target: { id: string; commit: string; date: Date; message: string }, paths: string[] | undefined) {
  const lists = listsOf(report.writtenPaths, report.deletedPaths);
  const pre = report.preRollback;
  return {
    done: true,
    target: summaryOf(target),
    ...(paths ? { paths } : {}),
    counts: { write: report.written, delete: report.deleted },
    ...lists.lists,
    ...(pre ? { preRestore: { id: pre.id, commit: pre.commit, created: pre.created } } : {}),
    ...(pre ? { note: [`restored; the state before is snapshot ${pre.id} (restore it to undo).`, lists.note].filter(Boolean).join(' ') } : { note: 'nothing to do: the tree already matched.' }),
  };
}

/** The first `room` characters of `text`, cut back to a line end. */
function cutAtLine(text: string, room: number): string {
  const end = text.lastIndexOf('\n', room - 1);
  return text.slice(0, end + 1);
}

/**
 * Serves the tools over stdio until stdin closes or a SIGINT/SIGTERM comes (a tool call under
 * way finishes first). stdout is the JSON-RPC channel's alone: anything else written to it while
 * the server runs goes to stderr.
 */
export async function serveMcp(options: ServeOptions): Promise<void> {
  const { server, finished } = await createServer(options);
  const stdout = process.stdout;
  const channel = { write: stdout.write.bind(stdout), once: stdout.once.bind(stdout) } as unknown as Writable;
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write;
  await server.connect(new StdioServerTransport(process.stdin, channel));
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await finished();
  await server.close();
  process.stdin.destroy();
}
