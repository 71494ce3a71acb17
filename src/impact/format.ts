import type { ImpactResult } from './index.js';

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The affected subgraph in Graphviz DOT: importer → imported, targets filled, tests boxed. */
export function toDot(result: ImpactResult): string {
  const lines = ['digraph impact {', '  rankdir=LR;', '  node [shape=box, style=rounded, fontname="Helvetica"];'];
  const tests = new Set(result.tests);
  for (const t of result.targets) lines.push(`  ${quote(t)} [style="rounded,filled", fillcolor="#ffd6a5"${tests.has(t) ? ', peripheries=2' : ''}];`);
  for (const d of result.dependents) lines.push(`  ${quote(d.path)}${tests.has(d.path) ? ' [peripheries=2, color="#2a9d8f"]' : ''};`);
  for (const e of result.edges) lines.push(`  ${quote(e.from)} -> ${quote(e.to)}${e.typeOnly ? ' [style=dashed]' : e.kind === 'dynamic' ? ' [style=dotted]' : ''};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The affected subgraph as a Mermaid flowchart (paste into Markdown). */
export function toMermaid(result: ImpactResult): string {
  const ids = new Map<string, string>();
  const id = (p: string) => {
    let v = ids.get(p);
    if (!v) {
      v = `n${ids.size}`;
      ids.set(p, v);
    }
    return v;
  };
  const label = (p: string) => `"${p.replace(/"/g, '#quot;')}"`;
  const lines = ['flowchart LR'];
  for (const t of result.targets) lines.push(`  ${id(t)}[${label(t)}]:::target`);
  const tests = new Set(result.tests);
  for (const d of result.dependents) lines.push(`  ${id(d.path)}[${label(d.path)}]${tests.has(d.path) ? ':::test' : ''}`);
  for (const e of result.edges) lines.push(`  ${id(e.from)} ${e.typeOnly ? '-.->' : '-->'} ${id(e.to)}`);
  lines.push('  classDef target fill:#ffd6a5,stroke:#c77d00', '  classDef test stroke:#2a9d8f,stroke-width:2px');
  return `${lines.join('\n')}\n`;
}
