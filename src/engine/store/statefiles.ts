// Every name shadowgit keeps in its state directory, `<shadow repo>/shadowgit/`, in one place:
// a new file is added here, so no two modules take one name for different things and the
// list of what can be there (for doctor, bundle and anyone reading a repository) is this file.
// Each is passed to `repo.statePath(name)`.

/**
 * The most a state file that is read whole (watch.json, the watcher's log) may hold: far more
 * than any shadowgit writes, so only a file planted or grown by something else is refused.
 */
export const STATE_FILE_MAX_BYTES = 256 * 2 ** 20;

/** The state directory inside the shadow repository (beside git's own objects/ and refs/). */
export const STATE_DIR = 'shadowgit';

/** The repository lock (store/lock.ts). */
export const LOCK = 'lock';
/** The operation log and its rotated predecessor `oplog.1.jsonl` (store/oplog.ts). */
export const OPLOG = 'oplog.jsonl';
/** Object sizes by pack, so `status` need not stat every object (store/objects.ts). */
export const OBJECT_SIZES = 'objects-size.json';
/** The stat cache of the last snapshot or checkout (worktree/statcache.ts; layout in docs/statcache.md). */
export const STAT_CACHE = 'statcache';
/** Where a damaged object goes when a snapshot writes it again: kept for whoever investigates, never deleted (snapshot/record.ts). */
export const DAMAGED_OBJECTS_DIR = 'damaged-objects';
/** Broken snapshots refs set aside before a new chain starts (snapshot/history.ts). */
export const BROKEN_REFS_DIR = 'broken-refs';
/** One line per snapshot of the chain, so `list`, resolving a revision and `status`'s count read no commit (snapshot/chainindex.ts). */
export const CHAIN_INDEX = 'chain-index';
/** The snapshot the worktree was last checked out to (snapshot/base.ts). */
export const LAST_CHECKOUT = 'last-checkout.json';
/** What every prune did to commit hashes (snapshot/rewrites.ts). */
export const REWRITES = 'rewrites.jsonl';
/** A checkout in progress, so an interrupted one is finished or abandoned (checkout/journal.ts). */
export const CHECKOUT_JOURNAL = 'journal.json';
/** A prune in progress (maintenance/prune.ts). */
export const PRUNE_JOURNAL = 'prune-journal.json';
/** The running watcher: who it is, its settings and the changes since its last snapshot (worktree/watchstate.ts). */
export const WATCH_STATE = 'watch.json';
/** The watcher's socket, when its path fits in a socket address (protect/watchsocket.ts). */
export const WATCH_SOCKET = 'watch.sock';
/** The background watcher's output (protect/watch.ts). */
export const WATCH_LOG = 'watch.log';
/** This shadow repository's machine name on remotes, made on its first push (sync/remotes.ts; docs/remote.md). */
export const MACHINE_NAME = 'machine.json';
/** Per remote `<name>.json`: what was last pushed there and the last error (sync/remotes.ts). */
export const REMOTES_DIR = 'remotes';
