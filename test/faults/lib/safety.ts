/**
 * Shadow repo safety: created 0700; a shadow repo others can write to, or owned by another user,
 * is refused with an explanation; a bad `.shadowgit` gives an error naming the file, line and key.
 * Every refusal must leave the working tree and the shadow repo exactly as they were.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fingerprint, makeSandbox, writeTree } from '../../helpers/sandbox.js';
import { emptyRow, tally, type ScenarioRow } from './report.js';
import { clearRefusal, shadowgit } from './run.js';

interface SafetyCase {
  name: string;
  /** Only root can give a file to another user. */
  needsRoot?: boolean;
  /** Breaks something; returns what the refusal must mention. */
  setup(work: string, gitdir: string): Promise<RegExp[]>;
  command: string[];
  /** Puts things back, so the next case starts from a working repo. */
  undo(work: string, gitdir: string): Promise<void>;
}

const config = (text: string) => async (work: string) => fsp.writeFile(path.join(work, '.shadowgit'), text);
const noConfig = async (work: string) => fsp.rm(path.join(work, '.shadowgit'), { force: true });

const CASES: SafetyCase[] = [
  ...(['snapshot', 'status', 'rollback latest'] as const).map(
    (command): SafetyCase => ({
      name: `world-writable shadow repo (${command.split(' ')[0]})`,
      setup: async (_w, gitdir) => (await fsp.chmod(gitdir, 0o777), [/writable by others/, /chmod 700/]),
      command: [...command.split(' '), '--json'],
      undo: (_w, gitdir) => fsp.chmod(gitdir, 0o700),
    }),
  ),
  {
    name: 'group-writable shadow repo',
    setup: async (_w, gitdir) => (await fsp.chmod(gitdir, 0o770), [/writable by others/]),
    command: ['snapshot', '--json'],
    undo: (_w, gitdir) => fsp.chmod(gitdir, 0o700),
  },
  {
    name: 'shadow repo owned by another user',
    needsRoot: true,
    setup: async (_w, gitdir) => (await fsp.chown(gitdir, 65534, 65534), [/owned by another user/, /65534/]),
    command: ['snapshot', '--json'],
    undo: (_w, gitdir) => fsp.chown(gitdir, process.getuid!(), process.getgid!()),
  },
  {
    name: 'config: unknown key',
    setup: async (w) => (await config('{\n  "exclude": ["dist"],\n  "retain": 5\n}\n')(w), [/\.shadowgit:3/, /"retain"/]),
    command: ['snapshot', '--json'],
    undo: noConfig,
  },
  {
    name: 'config: wrong type',
    setup: async (w) => (await config('{\n  "exclude": "dist"\n}\n')(w), [/\.shadowgit:2/, /"exclude"/]),
    command: ['snapshot', '--json'],
    undo: noConfig,
  },
  {
    name: 'config: unknown nested key',
    setup: async (w) => (await config('// retention\n{\n  "retention": {\n    "keepLast": 3,\n    "keepForever": true\n  }\n}\n')(w), [/\.shadowgit:5/, /"retention\.keepForever"/]),
    command: ['status', '--json'],
    undo: noConfig,
  },
  {
    name: 'config: broken JSON',
    setup: async (w) => (await config('{\n  "exclude": ["dist"]\n  "critical": []\n}\n')(w), [/\.shadowgit:3/]),
    command: ['snapshot', '--json'],
    undo: noConfig,
  },
];

export const SAFETY_CASES = CASES.length + 1;

export async function safetyScenario(): Promise<ScenarioRow> {
  const row = emptyRow('shadow repo safety and bad config');
  const sandbox = makeSandbox('sg-safety-');
  try {
    const work = sandbox.worktree;
    await writeTree(work, { 'a.txt': 'a\n', 'src/b.txt': 'b\n' });
    const first = await shadowgit(['snapshot', '--json'], { cwd: work, env: sandbox.env });
    const gitdir = JSON.parse((await shadowgit(['status', '--json'], { cwd: work, env: sandbox.env })).stdout).repo as string;
    const mode = (await fsp.stat(gitdir)).mode & 0o777;
    tally(row, first.code === 0 && mode === 0o700 ? [] : [`a new shadow repo is mode ${mode.toString(8)}, not 700 (${first.stderr.trim()})`]);
    await writeTree(work, { 'a.txt': 'changed since the snapshot\n' });

    for (const c of CASES) {
      if (c.needsRoot && process.getuid?.() !== 0) {
        (row.skipped ??= []).push(`${c.name}: needs root to chown the repo to another user`);
        continue;
      }
      const problems: string[] = [];
      try {
        const mentions = await c.setup(work, gitdir);
        const [workBefore, repoBefore] = [await fingerprint(work), await fingerprint(gitdir)];
        const result = await shadowgit(c.command, { cwd: work, env: sandbox.env });
        const refusal = clearRefusal(result);
        if (refusal) problems.push(`${c.name}: not refused clearly (${refusal})`);
        for (const pattern of mentions) if (!pattern.test(result.stderr)) problems.push(`${c.name}: the message does not say ${pattern} (${result.stderr.trim()})`);
        problems.push(...stdoutProblems(c.name, c.command, result.stdout, result.stderr));
        if ((await fingerprint(work)) !== workBefore) problems.push(`${c.name}: the working tree changed`);
        if ((await fingerprint(gitdir)) !== repoBefore) problems.push(`${c.name}: the shadow repo changed`);
        await c.undo(work, gitdir);
        const after = await shadowgit(['status', '--json'], { cwd: work, env: sandbox.env });
        if (after.code !== 0) problems.push(`${c.name}: once fixed, status still fails: ${after.stderr.trim()}`);
      } catch (err) {
        problems.push(`${c.name}: ${(err as Error).message}`);
      }
      tally(row, problems);
    }
  } finally {
    await sandbox.cleanup();
  }
  return row;
}

/**
 * A refused command prints nothing on stdout, except with --json: then exactly one object
 * `{"error": {"code", "message"}}`, its message the sentence on stderr.
 */
function stdoutProblems(name: string, command: string[], stdout: string, stderr: string): string[] {
  if (!command.includes('--json')) return stdout.trim() === '' ? [] : [`${name}: printed on stdout: ${stdout.trim().slice(0, 100)}`];
  try {
    const { error, ...rest } = JSON.parse(stdout) as { error?: { code?: unknown; message?: unknown } };
    if (Object.keys(rest).length === 0 && typeof error?.code === 'string' && typeof error.message === 'string' && stderr.includes(error.message)) return [];
  } catch {
    // reported below
  }
  return [`${name}: --json did not print one error object matching stderr: ${stdout.trim().slice(0, 100)}`];
}
