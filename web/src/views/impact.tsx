/**
 * The import graph of the current changes, drawn by Cytoscape with the dagre layout: the changed
 * modules, the files that reach them through imports, tests marked. A node clicked opens its
 * panel (the file, its history, its diff); the same nodes are listed as a table for keyboards
 * and screen readers.
 */
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { Shown, useLoad } from '../components/common.js';
import { href } from '../route.js';
import type { ImpactGraph, ImpactNode } from '../types.js';

cytoscape.use(dagre);

/** The last two segments of a path: enough to tell nodes apart in a drawing. */
const shortName = (path: string) => path.split('/').slice(-2).join('/');

/** A colour of the page's theme (Pico's variables), so the graph follows light and dark. */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function Graph({ graph, onPick }: { graph: ImpactGraph; onPick: (id: string) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const pick = useRef(onPick);
  pick.current = onPick;
  useEffect(() => {
    if (!box.current) return;
    const text = themeColor('--pico-color', '#333');
    const muted = themeColor('--pico-muted-border-color', '#999');
    const line = themeColor('--pico-muted-color', '#777');
    const surface = themeColor('--pico-card-background-color', '#fff');
    const cy = cytoscape({
      container: box.current,
      elements: [
        ...graph.nodes.map((n) => ({ data: { id: n.id, label: shortName(n.id) }, classes: [n.changed ? 'changed' : '', n.test ? 'test' : ''].filter(Boolean) })),
        ...graph.edges.map((e, i) => ({ data: { id: `e${i}`, source: e.from, target: e.to }, classes: e.typeOnly ? ['type-only'] : [] })),
      ],
      style: [
        {
          selector: 'node',
          style: {
            label: 'data(label)',
            color: text,
            'font-size': 11,
            'text-valign': 'bottom',
            'text-margin-y': 4,
            // Edges leave a node downwards, through its label: the label keeps a background.
            'text-background-color': surface,
            'text-background-opacity': 0.9,
            'text-background-padding': '2px',
            'background-color': surface,
            'border-width': 2,
            'border-color': muted,
            width: 22,
            height: 22,
          },
        },
        { selector: 'node.changed', style: { 'background-color': '#e8590c', 'border-color': '#e8590c' } },
        { selector: 'node.test', style: { shape: 'round-rectangle', 'border-color': '#2f9e44', 'border-width': 4 } },
        { selector: 'node:selected', style: { 'border-color': '#1c7ed6', 'border-width': 5 } },
        { selector: 'edge', style: { width: 1.5, 'line-color': line, 'target-arrow-color': line, 'target-arrow-shape': 'triangle', 'curve-style': 'bezier' } },
        { selector: 'edge.type-only', style: { 'line-style': 'dashed' } },
      ],
      layout: { name: 'dagre', rankDir: 'TB', nodeSep: 30, rankSep: 60, fit: true, padding: 30, nodeDimensionsIncludeLabels: true } as cytoscape.LayoutOptions,
      // A small graph is not blown up to fill the box: labels stay the size of the page's text.
      maxZoom: 1.4,
    });
    cy.on('tap', 'node', (event) => pick.current(event.target.id() as string));
    return () => cy.destroy();
  }, [graph]);
  return <div ref={box} class="impact-graph" data-testid="impact-graph" role="img" aria-label={`Import graph: ${graph.nodes.length} files, ${graph.edges.length} imports`} />;
}

function NodePanel({ node, base }: { node: ImpactNode; base: string }) {
  return (
    <aside class="node-panel" data-testid="impact-node" aria-label={`Selected: ${node.id}`}>
      <h3>
        <code>{node.id}</code>
      </h3>
      <p>
        {node.changed ? 'Changed since the last snapshot.' : `Imports a changed module ${node.depth} step${node.depth === 1 ? '' : 's'} away.`}
        {node.test ? ' A test.' : ''}
      </p>
      <ul>
        {node.changed && (
          <li>
            <a href={href('compare', { from: base, path: node.id })}>Its changes</a>
          </li>
        )}
        <li>
          <a href={href('browse', { rev: base, path: node.id })}>Open it (as in {base})</a>
        </li>
        <li>
          <a href={href('history', { path: node.id })}>Its history</a>
        </li>
      </ul>
    </aside>
  );
}

export function Impact() {
  const loaded = useLoad((signal) => get<ImpactGraph>('/api/impact', {}, signal), []);
  const [picked, setPicked] = useState<string>();
  return (
    <section aria-labelledby="impact-title">
      <h2 id="impact-title">Impact</h2>
      <Shown loaded={loaded}>
        {(g) => {
          const node = g.nodes.find((n) => n.id === picked);
          return (
            <>
              <p data-testid="impact-summary">
                Since {g.base.id}: {g.total.changed} changed module{g.total.changed === 1 ? '' : 's'}, {g.total.dependents} file{g.total.dependents === 1 ? '' : 's'} reaching them, {g.total.tests} test{g.total.tests === 1 ? '' : 's'}
                {g.deleted.length > 0 && `; deleted: ${g.deleted.join(', ')}`}
                {g.unresolved > 0 && `; ${g.unresolved} import${g.unresolved === 1 ? '' : 's'} lead nowhere`}.{g.truncated && ' Only the nearest are drawn.'}
              </p>
              <p class="legend" aria-hidden="true">
                <span class="swatch changed" /> changed <span class="swatch test" /> test <span class="swatch plain" /> reaches a change · arrows point from importer to imported
              </p>
              {g.nodes.length === 0 ? (
                <p>No module changed since {g.base.id}.</p>
              ) : (
                <div class="impact">
                  <Graph graph={g} onPick={setPicked} />
                  {node ? <NodePanel node={node} base={g.base.id} /> : <p class="muted node-panel">Click a node to open it.</p>}
                </div>
              )}
              {g.nodes.length > 0 && (
                <details>
                  <summary>The files as a list</summary>
                  <table class="striped">
                    <thead>
                      <tr>
                        <th scope="col">File</th>
                        <th scope="col">Changed</th>
                        <th scope="col">Test</th>
                        <th scope="col">Steps to a change</th>
                      </tr>
                    </thead>
                    <tbody>
                      {g.nodes.map((n) => (
                        <tr key={n.id}>
                          <td>
                            <button type="button" class="link" onClick={() => setPicked(n.id)}>
                              {n.id}
                            </button>
                          </td>
                          <td>{n.changed ? 'yes' : ''}</td>
                          <td>{n.test ? 'yes' : ''}</td>
                          <td>{n.depth}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </details>
              )}
            </>
          );
        }}
      </Shown>
    </section>
  );
}
