/**
 * Approve: like `shadowgit approve NAME`, the tree as it is (snapshotted first if it changed) gets
 * the name, an annotated tag native git sees.
 */
import { useState } from 'preact/hooks';
import { post, sentence } from '../api.js';
import type { ApproveAnswer } from '../types.js';
import { CliHint, ErrorNote } from './common.js';

export function ApproveForm({ onDone }: { onDone?: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<ApproveAnswer>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await post<ApproveAnswer>('/api/approve', { name, ...(description && { description }), ...(force && { force }) }));
      onDone?.();
    } catch (err) {
      setError(sentence(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Approve the tree as it is">
      <fieldset role="group">
        <input name="name" aria-label="Approval name" placeholder="Approval name (e.g. tests pass)" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <input name="description" aria-label="Description" placeholder="Description (optional)" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
        <button type="submit" aria-busy={busy} disabled={busy}>
          Approve
        </button>
      </fieldset>
      <label>
        <input type="checkbox" name="force" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} />
        Move the name if it is already in use
      </label>
      <ErrorNote error={error} />
      {done && (
        <div role="status" data-testid="approve-report">
          <p>
            Approved {done.id} as “{done.name}”{done.snapshotCreated ? ' (the tree had changed: a snapshot was recorded for it)' : ''}.
            {done.pushed === true && ' Pushed.'}
            {done.pushError && ` The push failed: ${done.pushError}`}
          </p>
          <CliHint cli={done.cli} />
        </div>
      )}
    </form>
  );
}

