import type { ShadowGit } from '../shadowgit.js';
import { isInteractive, type GlobalArgs } from './context.js';
import { color, print } from './output.js';

/** Exit code of a prompt cancelled with Ctrl-C, as a shell reports SIGINT. */
const EXIT_INTERRUPTED = 130;

/**
 * Before a command that may take the first snapshot of `sg`'s tree (snapshot, watch): a new
 * shadow repository of the home directory is almost always a command run in the wrong place,
 * so it is created only with --yes or after a yes in a terminal; elsewhere it is refused with
 * one sentence (exit 2). (`/` is refused always, see locateRepository.) Returns the handle to
 * use and whether the repository is new, or, when the user said no, the exit code of a
 * command that wrote nothing.
 */
export async function confirmFirstSnapshot(sg: ShadowGit, args: GlobalArgs & { yes?: boolean }): Promise<{ sg: ShadowGit; fresh: boolean } | number> {
  if (await sg.repository.exists()) return { sg, fresh: false };
  const { isHomeDirectory, homeRefusal } = await import('../engine/repo.js');
  if (!(await isHomeDirectory(sg.worktree))) return { sg, fresh: true };
  if (!args.yes) {
    if (!isInteractive(args)) throw homeRefusal(sg.worktree);
    const answer = await ask(`${sg.worktree} is your home directory. Snapshot all of it into a new shadow repository?`);
    if (answer !== true) {
      print(answer === false ? 'Nothing recorded.' : 'Cancelled; nothing recorded.');
      return answer === 'interrupted' ? EXIT_INTERRUPTED : 1;
    }
  }
  return { sg: await allowingHome(sg), fresh: true };
}

/** The same tree, opened to allow creating a shadow repository of the home directory. */
export async function allowingHome(sg: ShadowGit): Promise<ShadowGit> {
  const { ShadowGit } = await import('../shadowgit.js');
  return ShadowGit.open({ worktree: sg.worktree, allowHome: true });
}

/** A yes/no question defaulting to no; Esc cancels it, Ctrl-C interrupts it. */
async function ask(message: string): Promise<boolean | 'cancelled' | 'interrupted'> {
  // Loaded only here: every snapshot would pay for the prompt library otherwise.
  const { confirm } = await import('@inquirer/prompts');
  const controller = new AbortController();
  const onKey = (_: string, key?: { name?: string }) => {
    if (key?.name === 'escape') controller.abort();
  };
  process.stdin.on('keypress', onKey);
  try {
    return await confirm({ message, default: false }, { signal: controller.signal });
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') return 'interrupted';
    if ((err as Error).name === 'AbortPromptError') return 'cancelled';
    throw err;
  } finally {
    process.stdin.removeListener('keypress', onKey);
  }
}

/** Says once, when a command created the tree's shadow repository, where it is. */
export function announceCreated(repoPath: string): void {
  process.stderr.write(`Created the shadow repository at ${color.bold(repoPath)}; \`shadowgit status\` shows it.\n`);
}
