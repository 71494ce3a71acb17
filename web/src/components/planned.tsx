/**
 * Rollback, restore and undo as the CLI does them: first the plan (what would be written and
 * deleted, the same preview the CLI's confirmation shows), then, only on confirmation, the action
 * on that plan — which the server refuses if the tree or the target moved in between.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { post, sentence } from '../api.js';
import { href } from '../route.js';
import type { CheckoutReport, PlanAnswer } from '../types.js';
import { CliHint, ErrorNote } from './common.js';

export interface PlannedAction {
  /** "Roll back", "Restore", "Undo": the button that confirms. */
  verb: string;
  /** What it does, as the dialog's heading says it. */
  title: string;
  planPath: string;
  planBody: Record<string, unknown>;
  runPath: string;
}

type Stage = { name: 'planning' } | { name: 'planned'; answer: PlanAnswer } | { name: 'running'; answer: PlanAnswer } | { name: 'done'; report: CheckoutReport } | { name: 'failed'; error: string; answer?: PlanAnswer };

function PathList({ label, paths, testid }: { label: string; paths: string[]; testid: string }) {
  return (
    <section aria-label={label}>
      <h4>
        {label} ({paths.length})
      </h4>
      {paths.length === 0 ? (
        <p>
          <small>none</small>
        </p>
      ) : (
        <ul class="paths" data-testid={testid}>
          {paths.map((p) => (
            <li key={p}>
              <code>{p}</code>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The dialog of one planned action, open from the moment it is rendered until closed. */
function PlannedDialog({ action: asked, onClose, onDone }: { action: PlannedAction; onClose: () => void; onDone?: (report: CheckoutReport) => void }) {
  // The action as it was when the dialog opened: a parent's new render must not plan again.
  const [action] = useState(asked);
  const [stage, setStage] = useState<Stage>({ name: 'planning' });
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
    let live = true;
    post<PlanAnswer>(action.planPath, action.planBody).then(
      (answer) => live && setStage({ name: 'planned', answer }),
      (err: unknown) => live && setStage({ name: 'failed', error: sentence(err) }),
    );
    return () => {
      live = false;
    };
  }, []);

  const confirm = (answer: PlanAnswer) => {
    setStage({ name: 'running', answer });
    post<CheckoutReport>(action.runPath, { plan: answer.plan.id }).then(
      (report) => {
        setStage({ name: 'done', report });
        onDone?.(report);
      },
      (err: unknown) => setStage({ name: 'failed', error: sentence(err), answer }),
    );
  };

  const answer = stage.name === 'planned' || stage.name === 'running' ? stage.answer : stage.name === 'failed' ? stage.answer : undefined;
  const nothing = answer && answer.plan.write.length === 0 && answer.plan.delete.length === 0;
  return (
    <dialog
      ref={dialog}
      aria-labelledby="planned-title"
      onClose={onClose}
      // Escape closes it, except while the action runs: its report would be lost from view.
      onCancel={(e) => stage.name === 'running' && e.preventDefault()}
    >
      <article>
        <header>
          <h3 id="planned-title">{action.title}</h3>
        </header>
        {stage.name === 'planning' && <p aria-busy="true">Working out what would change…</p>}
        {answer && stage.name !== 'done' && (
          <div data-testid="plan-preview">
            <p>
              Target: <a href={href('snapshot', { rev: answer.plan.target.id })}>{answer.plan.target.id}</a> “{answer.plan.target.message}”
              {nothing ? ' — the tree already matches it; nothing would change.' : '. The current state is snapshotted first, so this can be undone.'}
            </p>
            <PathList label="Files to write" paths={answer.plan.write} testid="plan-write" />
            <PathList label="Files to delete" paths={answer.plan.delete} testid="plan-delete" />
            <CliHint cli={answer.cli} />
          </div>
        )}
        {stage.name === 'failed' && <ErrorNote error={stage.error} />}
        {stage.name === 'done' && (
          <div data-testid="action-report" role="status">
            <p>
              Done: {stage.report.written} written, {stage.report.deleted} deleted; the tree is now <a href={href('snapshot', { rev: stage.report.target.id })}>{stage.report.target.id}</a>.
            </p>
            {stage.report.preRollback && (
              <p>
                The state before is kept as snapshot <a href={href('snapshot', { rev: stage.report.preRollback.id })} data-testid="pre-rollback">{stage.report.preRollback.id}</a>
                {stage.report.preRollback.created ? '' : ' (it was already recorded)'}.
              </p>
            )}
            {stage.report.warnings?.map((w) => (
              <p key={w} class="warning">
                {w}
              </p>
            ))}
            <CliHint cli={stage.report.cli} />
          </div>
        )}
        <footer>
          {stage.name === 'done' || stage.name === 'failed' ? (
            <button type="button" onClick={() => dialog.current?.close()}>
              Close
            </button>
          ) : (
            <>
              <button type="button" class="secondary" onClick={() => dialog.current?.close()} disabled={stage.name === 'running'}>
                Cancel
              </button>
              <button type="button" onClick={() => answer && confirm(answer)} disabled={stage.name !== 'planned' || nothing} aria-busy={stage.name === 'running'}>
                {action.verb}
              </button>
            </>
          )}
        </footer>
      </article>
    </dialog>
  );
}

/** A button that opens the planned action's dialog. */
export function PlannedButton({ action, label, onDone, class: className }: { action: PlannedAction; label?: string; onDone?: (report: CheckoutReport) => void; class?: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class={className} onClick={() => setOpen(true)}>
        {label ?? action.verb}
      </button>
      {open && <PlannedDialog action={action} onClose={() => setOpen(false)} onDone={onDone} />}
    </>
  );
}
