/** The user closed a prompt (Ctrl-C, Esc) or said no: the command stops with nothing changed. */
export class PromptCancelled extends Error {
  constructor(readonly exitCode: number) {
    super('cancelled');
  }
}

/** Exit codes of a cancelled prompt: Ctrl-C as a shell reports SIGINT; Esc or "no" as a refusal. */
export const EXIT_INTERRUPTED = 130;
export const EXIT_DECLINED = 1;

type Prompt<C, T> = (config: C, context: { signal: AbortSignal }) => Promise<T>;

/**
 * Shows an @inquirer/prompts prompt that Esc closes too (inquirer itself only knows Ctrl-C);
 * either way it throws PromptCancelled, which `cancellable` turns into one line and an exit code.
 */
export async function ask<C, T>(prompt: Prompt<C, T>, config: C): Promise<T> {
  const escape = new AbortController();
  // The prompt's readline emits keypress events on stdin; a lone Esc arrives as `escape`.
  const onKeypress = (_: string, key: { name?: string } | undefined) => {
    if (key?.name === 'escape') escape.abort();
  };
  process.stdin.on('keypress', onKeypress);
  try {
    return await prompt(config, { signal: escape.signal });
  } catch (err) {
    // By name: the error classes live in @inquirer/core, which is not a dependency of its own.
    const name = (err as Error).name;
    if (name === 'ExitPromptError') throw new PromptCancelled(EXIT_INTERRUPTED);
    if (name === 'AbortPromptError') throw new PromptCancelled(EXIT_DECLINED);
    throw err;
  } finally {
    process.stdin.off('keypress', onKeypress);
  }
}

/** Wraps a command body that prompts: a cancelled prompt says so on stderr and exits with its code. */
export function cancellable(body: () => Promise<number | void>): () => Promise<number | void> {
  return async () => {
    try {
      return await body();
    } catch (err) {
      if (!(err instanceof PromptCancelled)) throw err;
      process.stderr.write('Cancelled; nothing changed.\n');
      return err.exitCode;
    }
  };
}
