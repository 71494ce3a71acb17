// The history grouped by the agent session that asked for each snapshot (issue #20): what
// `sessions` lists, what `list --session` filters by, and what `prompt:N@SESSION` resolves
// through. Everything here works on a list already read, in one pass; nothing reads the
// repository (issue #22 will index the history so that the list need not be read whole).
import type { AgentProvenance } from '../provenance.js';

/** The trigger of the snapshot a hook records when a prompt is submitted: always recorded, so prompt N is its Nth. */
export const PROMPT_TRIGGER = 'agent-prompt';

/** What grouping needs of a snapshot (history.ts's SnapshotInfo has it; history.ts resolves through here). */
export interface SessionSnapshot {
  trigger: string;
  agent?: Pick<AgentProvenance, 'agent' | 'session'>;
}

export interface AgentSession<S extends SessionSnapshot = SessionSnapshot> {
  agent: string;
  /** The agent's session id, as it sent it ('' when it sent none). */
  session: string;
  /** Its snapshots, oldest first. */
  snapshots: S[];
  /** The snapshots taken as its prompts were submitted, oldest first: prompt N is `prompts[N - 1]`. */
  prompts: S[];
}

/**
 * The agent sessions of `snapshots` (newest first, as listSnapshots gives them), the most
 * recently active first. Snapshots no hook recorded belong to none.
 */
export function groupSessions<S extends SessionSnapshot>(snapshots: S[]): AgentSession<S>[] {
  const byKey = new Map<string, AgentSession<S>>();
  for (const snapshot of snapshots) {
    if (!snapshot.agent) continue;
    const { agent, session } = snapshot.agent;
    const key = `${agent}\0${session}`;
    let found = byKey.get(key);
    if (!found) byKey.set(key, (found = { agent, session, snapshots: [], prompts: [] }));
    found.snapshots.push(snapshot);
    if (snapshot.trigger === PROMPT_TRIGGER) found.prompts.push(snapshot);
  }
  const sessions = [...byKey.values()];
  for (const session of sessions) {
    session.snapshots.reverse();
    session.prompts.reverse();
  }
  return sessions;
}

/** Shortest a session's short id gets, as a snapshot id's prefix (long enough to type, short enough to read). */
const MIN_SHORT_SESSION = 4;

/**
 * Each session's id cut to the shortest prefix (4 characters or more) that starts no other
 * session's id, as findSession matches them: what the tables show, and enough to type back.
 */
export function shortSessionIds(sessions: AgentSession[]): Map<AgentSession, string> {
  const sorted = [...sessions].sort((a, b) => (a.session.toLowerCase() < b.session.toLowerCase() ? -1 : 1));
  const commonPrefix = (a: AgentSession | undefined, b: AgentSession) => {
    if (!a) return 0;
    const [x, y] = [a.session.toLowerCase(), b.session.toLowerCase()];
    let n = 0;
    while (n < x.length && x[n] === y[n]) n++;
    return n;
  };
  const short = new Map<AgentSession, string>();
  for (const [i, session] of sorted.entries()) {
    const shared = Math.max(commonPrefix(sorted[i - 1], session), commonPrefix(sorted[i + 1], session));
    short.set(session, session.session.slice(0, Math.max(MIN_SHORT_SESSION, shared + 1)));
  }
  return short;
}

/** "claude·3f2a": the agent and the session's short id, as the tables show a session. */
export function sessionLabel(agent: string, shortSession: string): string {
  return shortSession ? `${agent}·${shortSession}` : agent;
}

/** How an error names some sessions: full ids, so a longer prefix can be picked from them. */
function nameSessions(sessions: AgentSession[]): string {
  const shown = sessions.slice(0, 5).map((s) => `${s.agent} ${s.session || '(no id)'}`);
  return sessions.length > shown.length ? `${shown.join(', ')} and ${sessions.length - shown.length} more` : shown.join(', ');
}

/**
 * The one session whose id is `prefix` or starts with it (case-insensitively; an exact id wins
 * over longer ones it starts). `fail` reports no match or several, with the candidates.
 */
export function findSession<S extends SessionSnapshot>(sessions: AgentSession<S>[], prefix: string, fail: (why: string) => never): AgentSession<S> {
  const lower = prefix.toLowerCase();
  const exact = sessions.filter((s) => s.session.toLowerCase() === lower);
  const matches = exact.length > 0 ? exact : sessions.filter((s) => s.session.toLowerCase().startsWith(lower));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) return fail(`session "${prefix}" is ambiguous: ${matches.length} sessions' ids start with it (${nameSessions(matches)})`);
  if (sessions.length === 0) return fail(`no snapshot was recorded by an agent's hook, so there is no session "${prefix}"`);
  return fail(`no agent session's id starts with "${prefix}" (the sessions: ${nameSessions(sessions)})`);
}

/** `prompt:N` or `prompt:N@SESSION`, as a revision names the snapshot taken as a prompt was submitted. */
export interface PromptRevision {
  /** From 1 (the session's first prompt); negative counts from its last (-1). */
  number: number;
  /** A session id or a unique prefix of one; absent: the most recently active session. */
  session?: string;
}

export function parsePromptRevision(text: string): PromptRevision | undefined {
  const match = /^prompt:(-?\d{1,9})(?:@(.+))?$/.exec(text);
  if (!match) return undefined;
  return { number: Number(match[1]), ...(match[2] !== undefined && { session: match[2] }) };
}

/** The snapshot of the prompt `revision` names: the tree as it was right before that prompt. */
export function findPrompt<S extends SessionSnapshot>(sessions: AgentSession<S>[], revision: PromptRevision, fail: (why: string) => never): S {
  const asked = `prompt:${revision.number}`;
  if (revision.number === 0) return fail(`prompts count from 1, so "${asked}" names none (prompt:1 is a session's first prompt, prompt:-1 its last)`);
  let session: AgentSession<S>;
  if (revision.session !== undefined) session = findSession(sessions, revision.session, fail);
  else if (sessions[0]) session = sessions[0];
  else return fail(`no snapshot was recorded by an agent's hook, so "${asked}" names no prompt`);
  const count = session.prompts.length;
  const index = revision.number > 0 ? revision.number - 1 : count + revision.number;
  const prompt = session.prompts[index];
  if (prompt && index >= 0) return prompt;
  const has = count === 0 ? 'no recorded prompts' : count === 1 ? 'one prompt (prompt:1)' : `${count} prompts (prompt:1 to prompt:${count}, or prompt:-1 for the last)`;
  return fail(`${revision.session === undefined ? 'the latest ' : ''}${session.agent} session ${session.session || '(no id)'} has ${has}, so "${asked}" names none`);
}
