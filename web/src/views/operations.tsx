/** The op log, newest first (every action of the CLI, the MCP server and this page), and undo. */
import { get } from '../api.js';
import { Shown, When, useLoad } from '../components/common.js';
import { PlannedButton } from '../components/planned.js';
import { useEvents } from '../events.js';
import type { Operation } from '../types.js';

export const UNDO = { verb: 'Undo', title: 'Undo the last rollback, restore or undo', planPath: '/api/undo/plan', planBody: {}, runPath: '/api/undo' };

const argsText = (args: Record<string, unknown>) =>
  Object.entries(args)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');

export function Operations() {
  const loaded = useLoad(async (signal) => (await get<{ operations: Operation[] }>('/api/operations', { limit: 50 }, signal)).operations, []);
  useEvents(() => loaded.reload());
  return (
    <section aria-labelledby="operations-title">
      <header class="view-head">
        <h2 id="operations-title">Operations</h2>
        <PlannedButton action={UNDO} label="Undo the last rollback or restore…" onDone={loaded.reload} />
      </header>
      <Shown loaded={loaded}>
        {(ops) => (
          <table class="striped">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Operation</th>
                <th scope="col">Outcome</th>
                <th scope="col">Arguments</th>
              </tr>
            </thead>
            <tbody>
              {ops.map((o, i) => (
                <tr key={`${o.time}:${i}`}>
                  <td>
                    <When date={o.time} />
                  </td>
                  <td>{o.op}</td>
                  <td class={o.outcome === 'ok' ? 'added' : 'deleted'}>{o.outcome === 'ok' ? 'ok' : `error: ${o.error ?? ''}`}</td>
                  <td>
                    <small>{argsText(o.args)}</small>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Shown>
    </section>
  );
}
