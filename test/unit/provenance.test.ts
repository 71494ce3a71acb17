import fc from 'fast-check';
import { parseProvenance, provenanceTrailers, trailerValue, type AgentProvenance } from '../../src/engine/provenance.js';
import { parseTrailers } from '../../src/engine/store/gitformat.js';

const anyText = fc.string({ unit: 'binary', maxLength: 300 });
const provenance = fc.record(
  { agent: anyText, session: anyText, event: anyText, tool: anyText, toolUseId: anyText, promptId: anyText },
  { requiredKeys: ['agent', 'session', 'event'] },
);

describe('agent provenance trailers', () => {
  test('a value is one line of at most 200 characters, whatever the agent sent', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const value = trailerValue(text);
        expect(value).not.toMatch(/[\u0000-\u001f\u007f\u2028\u2029]/);
        expect([...value].length).toBeLessThanOrEqual(200);
        expect(value).toBe(value.trim());
      }),
    );
  });

  test('what is written reads back as written (values made safe), and forges no other trailer', () => {
    fc.assert(
      fc.property(provenance, (given) => {
        const message = `before: x\n\nShadowgit-Id: kkkkkkkk\nShadowgit-Trigger: agent-tool\n${provenanceTrailers(given as AgentProvenance).join('\n')}\n`;
        const trailers = parseTrailers(message);
        expect(trailers['Shadowgit-Id']).toBe('kkkkkkkk');
        expect(trailers['Shadowgit-Trigger']).toBe('agent-tool');
        const read = parseProvenance(trailers);
        const agent = trailerValue(given.agent);
        if (!agent) return expect(read).toBeUndefined();
        const expected: Record<string, string> = { agent, session: trailerValue(given.session), event: trailerValue(given.event) };
        for (const key of ['tool', 'toolUseId', 'promptId'] as const) {
          const value = given[key] === undefined ? '' : trailerValue(given[key]!);
          if (value) expected[key] = value;
        }
        expect(read).toEqual(expected);
      }),
    );
  });
});
