import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
// @ts-expect-error -- a plain .mjs script (also `npm run docs:deps`), no declarations
import { cruiseSrc, diagramIn, DOC, folderDiagram, isTypeOnly } from '../../scripts/docs-deps.mjs';

// The layout's rules live in .dependency-cruiser.cjs (issue #19); one cruise of src/ checks them
// and redraws the diagram the architecture doc carries.
const rules: { forbidden: { name: string; comment: string }[] } = createRequire(import.meta.url)('../../.dependency-cruiser.cjs');

interface Step {
  name: string;
  dependencyTypes: string[];
}

interface Violation extends Partial<Step> {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: Step[];
}

const cruised = cruiseSrc();

/** `→ to`, marked when the import is erased at build time (a type). */
const arrow = (step: Step) => ` →${isTypeOnly(step.dependencyTypes) ? '(type)' : ''} ${step.name}`;

/** One line per broken import (a cycle as its chain), grouped under the rule it breaks and why. */
function explain(violations: Violation[]): string {
  const byRule = new Map<string, string[]>();
  for (const v of violations) {
    const steps = v.cycle ?? [{ name: v.to, dependencyTypes: v.dependencyTypes ?? [] }];
    byRule.set(v.rule.name, [...(byRule.get(v.rule.name) ?? []), `    ${v.from}${steps.map(arrow).join('')}`]);
  }
  return [...byRule].map(([name, lines]) => {
    const why = rules.forbidden.find((rule) => rule.name === name)?.comment ?? '';
    return `${name} (${lines.length}): ${why}\n${lines.join('\n')}`;
  }).join('\n\n');
}

describe('architecture (.dependency-cruiser.cjs)', () => {
  test('src/ has no import that breaks the layout rules', () => {
    // It read the rules and looked at src/ (an unresolved import is a violation of its own).
    expect(cruised.summary.ruleSetUsed.forbidden.map((rule: { name: string }) => rule.name)).toEqual(rules.forbidden.map((rule) => rule.name));
    expect(cruised.summary.totalCruised).toBeGreaterThan(50);
    const violations: Violation[] = cruised.summary.violations;
    if (violations.length > 0) {
      throw new Error(`${violations.length} import(s) break the layout rules in .dependency-cruiser.cjs:\n\n${explain(violations)}\n`);
    }
  });

  test('the dependency diagram in docs/architecture.md is the one the code draws (`npm run docs:deps` redraws it)', () => {
    expect(diagramIn(readFileSync(DOC, 'utf8'))).toBe(folderDiagram(cruised));
  });
});
