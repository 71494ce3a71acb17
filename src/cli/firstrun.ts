import type { ShadowGit } from '../shadowgit.js';
import { isInteractive, type GlobalArgs } from './context.js';
import { color } from './output.js';
import { ask, EXIT_DECLINED, PromptCancelled } from './prompt.js';

/**
 * Before a command that may take the first snapshot of `sg`'s tree (snapshot, watch): a new
 * shadow repository of the home directory is almost always a command run in the wrong place,
 * so it is created only with --yes or after a yes in a terminal; elsewhere it is refused with
 * one sentence (exit 2). (`/` is refused always, see locateRepository.) Returns the handle to
 * use and whether the repository is new; a no, Esc or Ctrl-C throws PromptCancelled (the
 * command's `cancellable` says so and exits with its code), with nothing written.
 */
export async function confirmFirstSnapshot(sg: ShadowGit, args: GlobalArgs & { yes?: boolean }): Promise<{ sg: ShadowGit; fresh: boolean }> {
  if (await sg.initialized()) return { sg, fresh: false };
  if (!(await sg.isHomeDirectory())) return { sg, fresh: true };
  if (!args.yes) {
    if (!isInteractive(args)) throw sg.homeRefusal();
    // Loaded only here: every snapshot would pay for the prompt library otherwise.
    const { confirm } = await import('@inquirer/prompts');
    if (!(await ask(confirm, { message: `${sg.worktree} is your home directory. Snapshot all of it into a new shadow repository?`, default: false }))) throw new PromptCancelled(EXIT_DECLINED);
  }
  return { sg: await allowingHome(sg), fresh: true };
}

/** The same tree, opened to allow creating a shadow repository of the home directory. */
export async function allowingHome(sg: ShadowGit): Promise<ShadowGit> {
  const { ShadowGit } = await import('../shadowgit.js');
  return ShadowGit.open({ worktree: sg.worktree, allowHome: true });
}

/** Runs `body` and, when that created the tree's shadow repository (approve, guard), says where (announceCreated). */
export async function announcingCreation<T>(sg: ShadowGit, body: () => Promise<T>): Promise<T> {
  const fresh = !(await sg.initialized());
  const result = await body();
  if (fresh && (await sg.initialized())) announceCreated(sg.repoPath);
  return result;
}

/** Says once, when a command created the tree's shadow repository, where it is. */
export function announceCreated(repoPath: string): void {
  process.stderr.write(`Created the shadow repository at ${color.bold(repoPath)}; \`shadowgit status\` shows it.\n`);
}
