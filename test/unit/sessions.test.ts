import { findPrompt, findSession, groupSessions, parsePromptRevision, shortSessionIds, type SessionSnapshot } from '../../src/engine/snapshot/sessions.js';

type Snap = SessionSnapshot & { name: string };
const by = (agent: string, session: string, trigger: string, name: string): Snap => ({ name, trigger, agent: { agent, session } });
const fail = (why: string): never => {
  throw new Error(why);
};

describe('agent sessions grouped from the history', () => {
  // Newest first, as listSnapshots gives them; "m" was recorded by no hook.
  const history: Snap[] = [
    by('claude', 'abcdef', 'agent-tool', 't3'),
    by('claude', 'abcd', 'agent-prompt', 'p2'),
    { name: 'm', trigger: 'manual' },
    by('cursor', 'abcd', 'agent-prompt', 'x1'),
    by('claude', 'abcd', 'agent-tool', 't1'),
    by('claude', 'abcd', 'agent-prompt', 'p1'),
  ];
  const sessions = groupSessions(history);

  test('one session per agent and id, the most recently active first, snapshots and prompts oldest first', () => {
    expect(sessions.map((s) => [s.agent, s.session, s.snapshots.map((x) => x.name), s.prompts.map((x) => x.name)])).toEqual([
      ['claude', 'abcdef', ['t3'], []],
      ['claude', 'abcd', ['p1', 't1', 'p2'], ['p1', 'p2']],
      ['cursor', 'abcd', ['x1'], ['x1']],
    ]);
  });

  test('short ids grow past a shared prefix; an id two agents share stays whole', () => {
    const short = shortSessionIds(sessions);
    expect(sessions.map((s) => short.get(s))).toEqual(['abcde', 'abcd', 'abcd']);
    const others = groupSessions([by('a', '3f2a91c0', 'agent-tool', '1'), by('a', '77', 'agent-tool', '2'), by('a', '3F2B', 'agent-tool', '3')]);
    expect(others.map((s) => shortSessionIds(others).get(s))).toEqual(['3f2a', '77', '3F2B']);
  });

  test('an exact id wins over the longer ids it starts; otherwise a prefix must name one session', () => {
    const claude = sessions.filter((s) => s.agent === 'claude');
    expect(findSession(claude, 'ABCD', fail).session).toBe('abcd');
    expect(findSession(claude, 'abcde', fail).session).toBe('abcdef');
    expect(() => findSession(claude, 'abc', fail)).toThrow(/"abc" is ambiguous: 2 sessions' ids start with it \(claude abcdef, claude abcd\)/);
    expect(() => findSession(sessions, 'abcd', fail)).toThrow(/ambiguous/);
    expect(() => findSession(claude, 'zz', fail)).toThrow(/no agent session's id starts with "zz" \(the sessions: claude abcdef, claude abcd\)/);
  });

  test('prompt:N counts from 1 (negative from the last) in the named session, else in the latest one', () => {
    expect(parsePromptRevision('prompt:2@ab~c')).toEqual({ number: 2, session: 'ab~c' });
    expect(parsePromptRevision('prompt:-1')).toEqual({ number: -1 });
    for (const text of ['prompt:', 'prompt:x', 'prompt:1@', 'prompts:1', 'prompt:1.5']) expect(parsePromptRevision(text)).toBeUndefined();
    const claude = sessions.filter((s) => s.agent === 'claude');
    expect(findPrompt(claude, { number: 2, session: 'abcd' }, fail).name).toBe('p2');
    expect(findPrompt(claude, { number: -2, session: 'abcd' }, fail).name).toBe('p1');
    expect(() => findPrompt(claude, { number: -3, session: 'abcd' }, fail)).toThrow(/has 2 prompts \(prompt:1 to prompt:2, or prompt:-1 for the last\), so "prompt:-3" names none/);
    expect(() => findPrompt(claude, { number: 1 }, fail)).toThrow(/the latest claude session abcdef has no recorded prompts/);
    expect(() => findPrompt([], { number: 1 }, fail)).toThrow(/no snapshot was recorded by an agent's hook/);
  });
});
