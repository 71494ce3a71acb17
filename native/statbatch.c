// lstat of every entry of a set of directories, on background threads, without a JavaScript
// object per call. Node's lstatSync costs about twice the system call here (a Stats object
// with four Dates per path, then the garbage), and a worker thread to share the work costs
// ~40 ms of CPU to start; this does the same calls from C and writes the same numbers.
//
// start(root, bytes, dirRanges, fileCounts, namesAt, namesEnd, results, threads, missing, unreadable)
//   bytes: holds directory paths (relative to root, "" for root itself) at
//     dirRanges[2d] with length dirRanges[2d + 1], and in [namesAt, namesEnd) the paths of
//     every directory's files (relative to root), directory by directory (fileCounts[d]
//     each), NUL between them (the stat cache's path table, read in place).
//   results: STAT_FIELDS doubles per entry (mtimeMs, ctimeMs, size, ino, mode, at the
//     STAT_* indexes below), entries laid out as directory d, then its files. mode is `missing` (ENOENT, ENOTDIR) or `unreadable` (any
//     other error) when there is no stat.
//   Returns a job; `threads` background threads start on it at once.
// wait(job): this thread takes a share of what is left, then waits for the others.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// One entry's numbers in `results`, as src/engine/worktree/statcache-layout.ts declares them
// (test/unit/statcache-layout.test.ts checks that these match it). The stat cache file itself
// is never parsed here: JavaScript hands over where its paths are (dirRanges, namesAt).
#define STAT_MTIME 0
#define STAT_CTIME 1
#define STAT_SIZE 2
#define STAT_INO 3
#define STAT_MODE 4
#define STAT_FIELDS 5
// Room for any path the working tree can hold (the kernel refuses longer ones anyway).
#define PATH_BYTES (PATH_MAX * 4)
#define MAX_THREADS 8
// Directories are claimed in runs of about this many entries: threads stay balanced and
// the shared counter is touched rarely.
#define CLAIM_ENTRIES 256

typedef struct {
  char *root;
  int root_fd;
  int open_errno;  // why root could not be opened: every path below it fails the same way
  const uint8_t *bytes;
  const int32_t *dir_ranges;
  const int32_t *file_counts;
  uint32_t dir_count;
  uint32_t *dir_start;  // index of directory d's own entry
  size_t *name_start;   // offset in bytes of directory d's first name
  size_t names_end;
  double *results;
  double missing, unreadable;
  atomic_uint next_dir;
  pthread_t threads[MAX_THREADS];
  int thread_count;
  int joined;
  napi_ref refs[4];
} job_t;

#if defined(__APPLE__)
#define MTIME(st) (st).st_mtimespec
#define CTIME(st) (st).st_ctimespec
#else
#define MTIME(st) (st).st_mtim
#define CTIME(st) (st).st_ctim
#endif

// Node computes mtimeMs as sec * 1000 + nsec / 1e6 in doubles; the same operations in the
// same order give the same bits (built with -ffp-contract=off, so no fused multiply-add).
static inline double ms_of(time_t sec, long nsec) { return (double)sec * 1000.0 + (double)nsec / 1000000.0; }

static void record(job_t *job, uint32_t entry, int rc, const struct stat *st) {
  double *out = job->results + (size_t)entry * STAT_FIELDS;
  if (rc != 0) {
    out[STAT_MODE] = (errno == ENOENT || errno == ENOTDIR) ? job->missing : job->unreadable;
    return;
  }
  out[STAT_MTIME] = ms_of(MTIME(*st).tv_sec, MTIME(*st).tv_nsec);
  out[STAT_CTIME] = ms_of(CTIME(*st).tv_sec, CTIME(*st).tv_nsec);
  out[STAT_SIZE] = (double)st->st_size;
  out[STAT_INO] = (double)st->st_ino;
  out[STAT_MODE] = (double)st->st_mode;
}

static int stat_at(job_t *job, const uint8_t *rel, size_t len, char *path, size_t cap, struct stat *st) {
  if (job->root_fd < 0) {
    errno = job->open_errno;
    return -1;
  }
  if (len + 1 > cap) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(path, rel, len);
  path[len] = 0;
  return fstatat(job->root_fd, path, st, AT_SYMLINK_NOFOLLOW);
}

static void stat_dir(job_t *job, uint32_t d, char *path, size_t cap) {
  struct stat st;
  size_t dir_len = (size_t)job->dir_ranges[2 * d + 1];
  uint32_t entry = job->dir_start[d];
  int rc = dir_len == 0 ? lstat(job->root, &st) : stat_at(job, job->bytes + job->dir_ranges[2 * d], dir_len, path, cap, &st);
  record(job, entry++, rc, &st);
  const uint8_t *name = job->bytes + job->name_start[d];
  const uint8_t *names_end = job->bytes + job->names_end;
  for (int32_t k = 0; k < job->file_counts[d]; k++) {
    const uint8_t *end = memchr(name, 0, (size_t)(names_end - name));
    size_t len = end ? (size_t)(end - name) : (size_t)(names_end - name);
    rc = stat_at(job, name, len, path, cap, &st);
    record(job, entry++, rc, &st);
    name += len + 1;
  }
}

static void *work(void *arg) {
  job_t *job = arg;
  char *path = malloc(PATH_BYTES);
  if (!path) return NULL;
  for (;;) {
    uint32_t d = atomic_load(&job->next_dir);
    uint32_t end;
    do {
      if (d >= job->dir_count) {
        free(path);
        return NULL;
      }
      end = d;
      uint32_t entries = 0;
      while (end < job->dir_count && entries < CLAIM_ENTRIES) entries += 1 + (uint32_t)job->file_counts[end++];
    } while (!atomic_compare_exchange_weak(&job->next_dir, &d, end));
    for (; d < end; d++) stat_dir(job, d, path, PATH_BYTES);
  }
}

static void finish(napi_env env, job_t *job) {
  if (job->joined) return;
  for (int i = 0; i < job->thread_count; i++) pthread_join(job->threads[i], NULL);
  job->joined = 1;
  if (env)
    for (int i = 0; i < 4; i++)
      if (job->refs[i]) napi_delete_reference(env, job->refs[i]);
  memset(job->refs, 0, sizeof job->refs);
}

static void release(napi_env env, void *data, void *hint) {
  (void)hint;
  job_t *job = data;
  // Threads still running (wait was never called) must stop writing before the memory goes.
  finish(env, job);
  if (job->root_fd >= 0) close(job->root_fd);
  free(job->root);
  free(job->dir_start);
  free(job->name_start);
  free(job);
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "statbatch: bad arguments to " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

/* Stands in for the data of an empty array, which N-API may give as NULL (a tree with no files). */
static double empty_array[1];

/* The data of a typed array of type `want`; NULL when `value` is not one. */
static void *typed(napi_env env, napi_value value, napi_typedarray_type want, size_t *length) {
  napi_typedarray_type type;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != want) return NULL;
  return data != NULL ? data : empty_array;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 10) {
    napi_throw_error(env, NULL, "statbatch.start: expected 10 arguments");
    return NULL;
  }
  size_t root_len, bytes_len, ranges_len, counts_len, results_len;
  CHECK(napi_get_value_string_utf8(env, argv[0], NULL, 0, &root_len));
  const uint8_t *bytes = typed(env, argv[1], napi_uint8_array, &bytes_len);
  const int32_t *ranges = typed(env, argv[2], napi_int32_array, &ranges_len);
  const int32_t *counts = typed(env, argv[3], napi_int32_array, &counts_len);
  double *results = typed(env, argv[6], napi_float64_array, &results_len);
  uint32_t names_at, names_end, threads;
  double missing, unreadable;
  CHECK(napi_get_value_uint32(env, argv[4], &names_at));
  CHECK(napi_get_value_uint32(env, argv[5], &names_end));
  CHECK(napi_get_value_uint32(env, argv[7], &threads));
  CHECK(napi_get_value_double(env, argv[8], &missing));
  CHECK(napi_get_value_double(env, argv[9], &unreadable));
  uint32_t dir_count = (uint32_t)counts_len;
  if (!bytes || !ranges || !counts || !results || ranges_len != 2 * (size_t)dir_count || names_at > names_end || names_end > bytes_len) {
    napi_throw_error(env, NULL, "statbatch.start: bad arguments");
    return NULL;
  }

  job_t *job = calloc(1, sizeof *job);
  job->root_fd = -1;
  job->root = malloc(root_len + 1);
  job->dir_start = malloc(sizeof(uint32_t) * (dir_count + 1));
  job->name_start = malloc(sizeof(size_t) * (dir_count + 1));
  napi_value external;
  if (!job->root || !job->dir_start || !job->name_start || napi_create_external(env, job, release, NULL, &external) != napi_ok) {
    free(job->root), free(job->dir_start), free(job->name_start), free(job);
    napi_throw_error(env, NULL, "statbatch.start: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], job->root, root_len + 1, &root_len);

  // Every range and name must lie inside `bytes`, so no thread can read past it.
  size_t entries = 0, at = names_at;
  for (uint32_t d = 0; d < dir_count; d++) {
    if (ranges[2 * d] < 0 || ranges[2 * d + 1] < 0 || (size_t)ranges[2 * d] + (size_t)ranges[2 * d + 1] > bytes_len || counts[d] < 0) {
      napi_throw_error(env, NULL, "statbatch.start: a directory lies outside the bytes");
      return NULL;
    }
    job->dir_start[d] = (uint32_t)entries;
    job->name_start[d] = at;
    for (int32_t k = 0; k < counts[d]; k++) {
      if (at >= names_end) {
        napi_throw_error(env, NULL, "statbatch.start: fewer names than the counts say");
        return NULL;
      }
      const uint8_t *end = memchr(bytes + at, 0, names_end - at);
      at = end ? (size_t)(end - bytes) + 1 : names_end;
    }
    entries += 1 + (size_t)counts[d];
  }
  if (entries * STAT_FIELDS != results_len) {
    napi_throw_error(env, NULL, "statbatch.start: results must hold 5 numbers per entry");
    return NULL;
  }
#ifdef O_PATH
  job->root_fd = open(job->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
  job->root_fd = open(job->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
  // A root that is gone is not an error here: lstat of every path under it fails, as it
  // would from JavaScript, and the caller decides what a missing tree means.
  if (job->root_fd < 0) {
    job->open_errno = errno;
    threads = 0;
  }
  job->bytes = bytes;
  job->dir_ranges = ranges;
  job->file_counts = counts;
  job->dir_count = dir_count;
  job->names_end = names_end;
  job->results = results;
  job->missing = missing;
  job->unreadable = unreadable;
  atomic_init(&job->next_dir, 0);
  // The arrays stay alive while threads read and write them.
  CHECK(napi_create_reference(env, argv[1], 1, &job->refs[0]));
  CHECK(napi_create_reference(env, argv[2], 1, &job->refs[1]));
  CHECK(napi_create_reference(env, argv[3], 1, &job->refs[2]));
  CHECK(napi_create_reference(env, argv[6], 1, &job->refs[3]));
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  for (uint32_t i = 0; i < threads; i++)
    if (pthread_create(&job->threads[job->thread_count], NULL, work, job) == 0) job->thread_count++;
  return external;
}

static napi_value wait_for(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  job_t *job;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_external(env, argv[0], (void **)&job) != napi_ok) {
    napi_throw_error(env, NULL, "statbatch.wait: expected a job");
    return NULL;
  }
  if (!job->joined) work(job);
  finish(env, job);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "start", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "wait", NAPI_AUTO_LENGTH, wait_for, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "wait", fn) != napi_ok) return NULL;
  return exports;
}
