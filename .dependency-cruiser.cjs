/**
 * The layout's rules (issue #19), checked in `npm test` by test/unit/architecture.test.ts;
 * docs/architecture.md draws the same graph (`npm run docs:deps`).
 *
 * Dependencies flow one way: cli → facade (src/shadowgit.ts) → engine. impact/ sits beside the
 * facade. Type-only imports count too (they are how a layer comes to know another's shapes),
 * except where a rule says otherwise.
 */

/**
 * Engine modules the CLI may load itself, without going through the facade — each one so that
 * a command can start (or fail) before the facade, and with it the whole engine, is loaded.
 * Keep this list short: anything else a command needs comes from src/shadowgit.ts.
 */
const CLI_ENGINE_ALLOWLIST = [
  // ShadowGitError: context.ts turns every failure into an exit code and a sentence, and
  // main.ts tells a usage error from a failure, before any command has loaded the facade.
  '^src/engine/errors\\.ts$',
  // onLockWait: main.ts registers the "waiting for the lock held by …" message before the
  // command runs, for every command that might wait; a snapshot or status the watcher answers
  // never loads the facade at all.
  '^src/engine/store/lock\\.ts$',
  // snapshotViaWatcher / statusViaWatcher: `snapshot` and `status` hand the work to a running
  // watcher over its socket with no engine loaded; the facade loads only when no watcher answers.
  '^src/engine/worktree/watchclient\\.ts$',
  // OPERATIONS: `log --op` is declared and checked against the operations the log records, so
  // `log --help` and a mistyped --op answer before the facade loads.
  '^src/engine/store/oplog\\.ts$',
  // agentSummary: `list --json` shows a snapshot's agent in the same shape as the MCP server; a
  // pure function of the trailers that loads nothing, where the facade would load the engine.
  '^src/engine/provenance\\.ts$',
];

/** Erased at build time: they load nothing and cannot make one module run before another. */
const TYPE_ONLY = ['type-only', 'type-import', 'pre-compilation-only'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles: a module in a cycle cannot be read, tested or loaded apart from the ' +
        'others in it. A primitive two modules share lives in a third, below both.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves: one the cruise cannot follow is an edge no other rule sees.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'engine-below-everything',
      severity: 'error',
      comment:
        'The engine is the bottom layer: it never imports the facade, the library surface, the ' +
        'safe-edit helpers, the CLI, impact or the agent integrations (src/agents/, which know ' +
        'how each AI agent is configured and called). What needs a ShadowGit lives above the ' +
        'engine or becomes a facade method.',
      from: { path: '^src/engine/' },
      to: { path: ['^src/(shadowgit|index|safe)\\.ts$', '^src/cli/', '^src/impact/', '^src/agents/', '^src/frontend/'] },
    },
    {
      name: 'engine-primitives-at-the-bottom',
      severity: 'error',
      comment:
        'errors, fsutil, faults, config and provenance at the engine\'s root are what every room builds on; ' +
        'they import no room.',
      from: { path: '^src/engine/(errors|fsutil|faults|config|provenance)\\.ts$' },
      to: { path: '^src/engine/[a-z]+/' },
    },
    {
      name: 'store-below-the-rooms',
      severity: 'error',
      comment:
        'store/ (objects, packs, refs, repository, lock) is the lowest room. Its one use of ' +
        'worktree/ is the stat primitive (worktree/stat.ts): hashing a file checks it did not ' +
        'change while read, with the same comparison the scanner uses.',
      from: { path: '^src/engine/store/' },
      to: { path: '^src/engine/(worktree|snapshot|checkout|maintenance|protect)/', pathNot: '^src/engine/worktree/stat\\.ts$' },
    },
    {
      name: 'worktree-below-snapshots',
      severity: 'error',
      comment:
        'worktree/ (scan, stat cache, ignore rules, the watcher client) reads the tree; it knows ' +
        'nothing of snapshots, checkouts, maintenance or the protections built on them.',
      from: { path: '^src/engine/worktree/' },
      to: { path: '^src/engine/(snapshot|checkout|maintenance|protect)/' },
    },
    {
      name: 'snapshot-below-checkout',
      severity: 'error',
      comment: 'snapshot/ records and reads history; writing the tree back (checkout/) builds on it, never the reverse.',
      from: { path: '^src/engine/snapshot/' },
      to: { path: '^src/engine/(checkout|maintenance|protect)/' },
    },
    {
      name: 'checkout-below-maintenance',
      severity: 'error',
      comment: 'checkout/ writes snapshots back into the tree; retention, gc and verify (maintenance/) may read its journal, never the reverse.',
      from: { path: '^src/engine/checkout/' },
      to: { path: '^src/engine/(maintenance|protect)/' },
    },
    {
      name: 'maintenance-below-protect',
      severity: 'error',
      comment:
        'protect/ (watch server, guard, doctor, recover, bundle) is the top room: it drives the ' +
        'others, and none of them depends on it.',
      from: { path: '^src/engine/maintenance/' },
      to: { path: '^src/engine/protect/' },
    },
    {
      name: 'remote-on-the-store',
      severity: 'error',
      comment:
        'remote/ (the smart-HTTP transport: pkt-lines, packs as streams, credentials, proxy) moves ' +
        'objects and refs between the store and a git server. It builds on store/ and the root ' +
        'primitives only: what to push or fetch (snapshots, tags, notes) is decided by the rooms ' +
        'above that call it.',
      from: { path: '^src/engine/remote/' },
      to: { path: '^src/engine/(worktree|snapshot|checkout|maintenance|protect)/' },
    },
    {
      name: 'remote-above-the-store',
      severity: 'error',
      comment:
        'store/, worktree/ and the root primitives sit below remote/ and never import it: a local ' +
        'snapshot or checkout works with no network code loaded.',
      from: { path: ['^src/engine/(store|worktree)/', '^src/engine/[a-z]+\\.ts$'] },
      to: { path: '^src/engine/remote/' },
    },
    {
      name: 'sync-above-remote-and-snapshots',
      severity: 'error',
      comment:
        'sync/ (remotes, push, fetch: which snapshots, approvals and notes go where on a remote) ' +
        'decides what the transport (remote/) moves, from the history (snapshot/). Nothing it builds ' +
        'on imports it; only protect/ (the watcher pushing in the background) and the facade call it.',
      from: { path: ['^src/engine/(store|worktree|snapshot|checkout|maintenance|remote)/', '^src/engine/[a-z]+\\.ts$'] },
      to: { path: '^src/engine/sync/' },
    },
    {
      name: 'cli-only-above',
      severity: 'error',
      comment: 'Nothing below the CLI imports it: the library works without a terminal.',
      from: { pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-through-the-facade',
      severity: 'error',
      comment:
        'A command reaches the engine through src/shadowgit.ts; it loads an engine module ' +
        'itself only when that module is on the start-up allowlist (CLI_ENGINE_ALLOWLIST, each ' +
        'with its reason). Types are free: they name what the facade hands back and load nothing. ' +
        'The hook runtime (the files at src/agents/\'s top: `shadowgit hook`, what each agent\'s ' +
        'hook sends and expects) sits above the facade like the CLI and keeps the same rule, so a ' +
        'hook the running watcher answers loads no engine.',
      from: { path: ['^src/cli/', '^src/agents/[^/]+\\.ts$'] },
      to: { path: '^src/engine/', pathNot: CLI_ENGINE_ALLOWLIST, dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'cli-out-of-storage',
      severity: 'error',
      comment:
        'The CLI does not even name the storage layer (Repository, refs, objects, paths): ' +
        'what it shows of the shadow repository comes from the facade.',
      from: { path: '^src/cli/' },
      to: { path: '^src/engine/store/', pathNot: CLI_ENGINE_ALLOWLIST, dependencyTypes: TYPE_ONLY },
    },
    {
      name: 'agents-only-above',
      severity: 'error',
      comment:
        'The hook runtime is called by the CLI; the facade, the library surface and impact never ' +
        'import it (engine-below-everything keeps the engine from it).',
      from: { path: '^src/(impact/|(shadowgit|index|safe)\\.ts$)' },
      to: { path: '^src/agents/' },
    },
    {
      name: 'cli-not-through-the-library-surface',
      severity: 'error',
      comment:
        'src/index.ts loads every layer at once (impact, safe edits); the CLI loads only what ' +
        'the command it runs needs.',
      from: { path: '^src/cli/' },
      to: { path: '^src/(index|safe)\\.ts$' },
    },
    {
      name: 'mcp-beside-the-cli',
      severity: 'error',
      comment:
        'The MCP server (src/mcp/) is a front end like the CLI: it works through the facade and ' +
        'impact/, never the engine itself; only ShadowGitError (a refusal, not a bug) and types ' +
        'that name what the facade hands back come from there.',
      from: { path: '^src/mcp/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/errors\\.ts$', dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'ui-beside-the-cli',
      severity: 'error',
      comment:
        'The browser UI (src/ui/) is a front end like the CLI and the MCP server: its server and ' +
        'API modules work through the facade and impact/, never the engine itself; only ' +
        'ShadowGitError (a refusal the server maps to a status) and types come from there. It ' +
        'shares the MCP server\'s argument checks and plan store (src/frontend/).',
      from: { path: '^src/ui/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/errors\\.ts$', dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'frontend-helpers-below-the-front-ends',
      severity: 'error',
      comment:
        'src/frontend/ holds what the MCP server and the browser UI both need of a request ' +
        '(argument checks, the rollback and restore plans shown and not yet carried out): plain ' +
        'checks and bookkeeping that know no front end and no engine beyond ShadowGitError.',
      from: { path: '^src/frontend/' },
      to: { path: ['^src/(mcp|ui|cli|agents|impact)/', '^src/engine/(?!errors\\.ts$)', '^src/(shadowgit|index|safe)\\.ts$'] },
    },
    {
      name: 'ui-loaded-by-its-command-only',
      severity: 'error',
      comment:
        'Only `shadowgit ui` (src/cli/commands/ui.ts, by a dynamic import when it runs) loads ' +
        'src/ui/: no other command, the library surface or the MCP server pays for the UI.',
      from: { path: '^src/', pathNot: ['^src/ui/', '^src/cli/commands/ui\\.ts$'] },
      to: { path: '^src/ui/' },
    },
    {
      name: 'impact-beside-the-facade',
      severity: 'error',
      comment:
        'impact/ reads the shadow repository through the ShadowGit it is given, so whatever it ' +
        'writes there goes through the facade (mutate: lock, op log). It may use the shared ' +
        'primitives (errors, fsutil, object hashing, git formats) but not the repository, its ' +
        'lock, refs, op log or placement, nor the operations built on them.',
      from: { path: '^src/impact/' },
      to: {
        path: [
          '^src/engine/store/(repo|lock|refs|oplog|paths)\\.ts$',
          '^src/engine/(checkout|maintenance|protect)/',
        ],
      },
    },
    {
      name: 'impact-reads-snapshots-through-the-facade',
      severity: 'error',
      comment:
        'impact/ gets a snapshot\'s files and changes from facade methods (trackedFiles, diff); ' +
        'it may name their types but not run the snapshot code itself.',
      from: { path: '^src/impact/' },
      to: { path: '^src/engine/snapshot/', dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'src-not-to-dev-dependencies',
      severity: 'error',
      comment: 'A user installs only dependencies: src/ never loads a devDependency.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: TYPE_ONLY },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
