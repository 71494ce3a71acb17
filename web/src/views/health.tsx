/** Health: the overall status and one line per component, as /api/health gives them to monitors. */
import { get } from '../api.js';
import { Shown, When, useLoad } from '../components/common.js';
import type { Health as HealthAnswer } from '../types.js';

const MARK = { pass: '✓', warn: '!', fail: '✗' } as const;

export function Health() {
  const loaded = useLoad((signal) => get<HealthAnswer>('/api/health', {}, signal), []);
  return (
    <section aria-labelledby="health-title">
      <header class="view-head">
        <h2 id="health-title">Health</h2>
        <button type="button" class="outline small" onClick={loaded.reload} aria-busy={loaded.loading}>
          Check again
        </button>
      </header>
      <Shown loaded={loaded}>
        {(h) => (
          <>
            <p data-testid="health-status">
              <span class={`health health-${h.status}`}>
                {MARK[h.status]} {h.status}
              </span>{' '}
              <small class="muted">
                checked <When date={h.checkedAt} />
              </small>
            </p>
            <table class="striped">
              <thead>
                <tr>
                  <th scope="col">Component</th>
                  <th scope="col">Status</th>
                  <th scope="col">What it says</th>
                </tr>
              </thead>
              <tbody>
                {h.components.map((c) => (
                  <tr key={c.name} data-testid="health-component">
                    <th scope="row">{c.name}</th>
                    <td>
                      <span class={`health health-${c.status}`}>
                        {MARK[c.status]} {c.status}
                      </span>
                    </td>
                    <td>
                      {c.message}
                      {c.details !== undefined && (
                        <details>
                          <summary>Details</summary>
                          <pre>{JSON.stringify(c.details, null, 2)}</pre>
                        </details>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Shown>
    </section>
  );
}
