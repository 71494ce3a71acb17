// Who asked for a snapshot when an AI agent's hook did: recorded as trailers of the snapshot's
// commit, so it travels with the commit (prune rewrites keep the message, a push carries it) and
// native git shows it (`git log --format=%(trailers)`). One home for the trailer names, how a
// value is made safe to store and how it is read back.

/** The agent, session and event behind a snapshot a hook recorded (issue #20). */
export interface AgentProvenance {
  /** claude, cursor, codex, gemini, cline. */
  agent: string;
  session: string;
  /** The agent's own name for the event (UserPromptSubmit, beforeShellExecution, …). */
  event: string;
  tool?: string;
  /** The agent's id of the tool call, where it sends one. */
  toolUseId?: string;
  /** The agent's id of the prompt or turn, where it sends one. */
  promptId?: string;
}

const TRAILERS: Record<keyof AgentProvenance, string> = {
  agent: 'Shadowgit-Agent',
  session: 'Shadowgit-Session',
  event: 'Shadowgit-Event',
  tool: 'Shadowgit-Tool',
  toolUseId: 'Shadowgit-Tool-Use',
  promptId: 'Shadowgit-Prompt',
};

/** Longest value kept: ids and tool names are short; anything longer is cut, never refused. */
const MAX_VALUE_CHARS = 200;

/** One line, no control characters, at most MAX_VALUE_CHARS: a value can never forge a trailer or a header. */
export function trailerValue(text: string): string {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim()].slice(0, MAX_VALUE_CHARS).join('');
}

/** The trailer lines for `provenance` (empty values left out), in a fixed order. */
export function provenanceTrailers(provenance: AgentProvenance): string[] {
  const lines: string[] = [];
  for (const key of Object.keys(TRAILERS) as (keyof AgentProvenance)[]) {
    const value = provenance[key] === undefined ? '' : trailerValue(provenance[key]!);
    if (value) lines.push(`${TRAILERS[key]}: ${value}`);
  }
  return lines;
}

/** The provenance a commit's trailers record; undefined when no agent is named (not a hook's snapshot). */
export function parseProvenance(trailers: Record<string, string>): AgentProvenance | undefined {
  const agent = trailers[TRAILERS.agent];
  if (!agent) return undefined;
  const provenance: AgentProvenance = { agent, session: trailers[TRAILERS.session] ?? '', event: trailers[TRAILERS.event] ?? '' };
  for (const key of ['tool', 'toolUseId', 'promptId'] as const) if (trailers[TRAILERS[key]]) provenance[key] = trailers[TRAILERS[key]];
  return provenance;
}

/** `value` as provenance if it has the shape (strings where set; agent, session, event present), else undefined. */
export function asProvenance(value: unknown): AgentProvenance | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  if (!(Object.keys(fields) as string[]).every((key) => key in TRAILERS && typeof fields[key] === 'string')) return undefined;
  if (!['agent', 'session', 'event'].every((key) => typeof fields[key] === 'string')) return undefined;
  return fields as unknown as AgentProvenance;
}

/** A snapshot's agent as `list --json` and the MCP server show it: name, session, event, and tool and prompt (its number in the session) only where there is one. */
export function agentSummary({ agent, session, event, tool, prompt }: AgentProvenance & { prompt?: number }): { name: string; session: string; event: string; tool?: string; prompt?: number } {
  return { name: agent, session, event, ...(tool !== undefined && { tool }), ...(prompt !== undefined && { prompt }) };
}
