/**
 * Help topics that are not commands (`shadowgit help config`): references a message can point
 * to wherever shadowgit is installed, unlike a file in its install directory.
 */
export const HELP_TOPICS: Record<string, string> = {
  config: `.shadowgit — shadowgit's settings for one working tree

A file named .shadowgit at the root of the working tree: one JSON object; comments (// and
/* */) and trailing commas are allowed, an empty file is no settings. Every key is optional;
an unknown key or a value of the wrong type is an error naming the file, line and key.

  "repo": "~/.local/share/shadowgit/repos/my-project.git"
      Where the shadow repository lives (~/ is your home; relative to the tree's root). It
      must be outside the working tree. Default: $SHADOWGIT_HOME/repos/<name>-<hash>.git,
      where $SHADOWGIT_HOME defaults to ~/.local/share/shadowgit.

  "exclude": ["*.tmp", "coverage/"]
      Extra gitignore-style patterns, relative to the tree's root. They act like git's
      .git/info/exclude: a project's own .gitignore "!" rule can re-include a path.
      node_modules/ is always excluded this way.

  "critical": ["src/main.ts", "config/*.json", "!**/fixtures/**", "!playground"]
      Files \`shadowgit doctor\` checks and \`shadowgit recover\` restores when they are
      damaged, added to the defaults: package.json, tsconfig*.json and lockfiles (at any
      depth). Read in order like a .gitignore: the last pattern matching a file decides, and
      a "!pattern" leaves out what it matches, defaults included (a "!dir" leaves out all of
      dir). \`*\` stays within one directory, \`**\` crosses them.

  "retention": { "keepLast": 50, "keepHourly": 24, "keepDaily": 7, "keepWeekly": 4,
                 "keepMonthly": 0, "keepWithin": "2d" }
      The snapshots \`shadowgit prune\` keeps (restic's forms): the N newest; the newest of
      each of the last N hours, days, ISO weeks, months that have one; everything newer
      than a duration (36h, 2d, 4w, 1y6m: y years, m months, w weeks, d days, h hours).
      Approved revisions are always kept. Default: keepLast 50, keepHourly 24, keepDaily 7,
      keepWeekly 4. Any --keep-* option given to \`shadowgit prune\` replaces the whole
      policy for that run.

  "tests": ["**/*.test.ts", "e2e/**"]
      Globs that mark test files for \`shadowgit impact\` (default: *.test.*, *.spec.*,
      __tests__/, test/, tests/).

  "watch": { "debounce": 2, "interval": 30 }
      \`shadowgit watch\`: seconds of quiet before a snapshot, and the longest gap in seconds
      between snapshots while changes keep coming (each between 0.05 and 86400; interval at
      least debounce). Options given to \`shadowgit watch\` win.

  "mcp": { "allowApprove": true }
      \`shadowgit mcp\`: also offer the agent an \`approve\` tool. Approving a revision is
      a person's call, so it is left out unless this is true.
  "hooks": { "destructive": ["\\\\brm\\\\s+-[a-zA-Z]*r", "\\\\bmake\\\\s+distclean\\\\b"] }
      \`shadowgit hook --guard\`: the shell commands an AI agent runs only after the person
      confirms, as JavaScript regular expressions searched anywhere in the command (a
      backslash is written \\\\ in JSON). Replaces the built-in list: rm -r/-rf, git reset
      --hard, git clean -f, git checkout -- PATH, git checkout ., git checkout/switch -f,
      git restore (not --staged), git stash drop/clear, find … -delete, Remove-Item -Recurse,
      shred (docs/agents.md).

  "remote": { "name": "origin", "push": "approve", "interval": "15m", "maxFileBytes": 104857600 }
      Off-machine copies (docs/remote.md). name: the remote \`push\` and \`fetch\` use
      without one (default: the only remote). push: "never" (default), "approve" (push after
      every \`shadowgit approve\`; a failed push is a warning, the approval stands) or
      "interval" (the watcher pushes every interval — 90s, 15m, 2h; default 15m — in the
      background; failures show in \`shadowgit status\`). maxFileBytes: a push naming a
      larger file is refused before anything is sent (default 100 MiB).

Example:

  {
    // keep the shadow repo on the big disk
    "repo": "/data/shadow/my-project.git",
    "exclude": ["dist/", "*.log"],
    "critical": ["!test/fixtures"],
    "retention": { "keepLast": 100, "keepWithin": "7d" },
  }
`,
};
