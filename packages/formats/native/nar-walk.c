/*
 * nar-walk: serialises a file-system tree as NAR bytes on a thread of its own, writing
 * straight into the slots of a ring buffer that JavaScript owns and reads (Node-API).
 *
 * Why native: `kiln hash -S nar` must hash a tree as fast as `nix hash path`. JavaScript
 * can hash at SHA-256's full speed, but the walk (four syscalls a file, ~4,000 files a
 * 100 MiB tree) then runs on the same thread, and a worker thread costs ~33 ms of boot
 * before it does anything (bench:nar-hash-floor measures both). A plain pthread starts
 * in microseconds, so the walk here overlaps the hash from the first byte.
 *
 * The walk makes the same choices as nar-chunks.ts: entries in byte order of their
 * names, lstat semantics (d_type, else fstatat without following), regular files opened
 * O_NOFOLLOW|O_NONBLOCK and checked with fstat, the executable bit from S_IXUSR, exactly
 * st_size bytes read (a file that shrinks is an error). On any error the walk stops and
 * reports a one-line reason; the JavaScript side then repeats the walk itself, so every
 * error a user sees comes from one place (nar-chunks.ts).
 *
 * The protocol: the walker fills slot `produced % slots`, publishes its length and moves
 * on, waiting while all slots are full; JavaScript calls next(), which hands back the
 * previous slot and waits for the next one to be published. A mutex and one condition
 * variable guard the two counters: a chunk is ~1 MiB, so there are ~100 hand-overs for
 * 100 MiB and their cost does not matter.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest symlink target accepted (NAR_MAX_NAME_BYTES in nar-tokens.ts). */
#define MAX_TARGET 4096

typedef struct {
  uint8_t *ring;
  size_t slot_size;
  uint32_t slots;
  uint32_t *lengths;
  /* The slot being filled by the walker, and the fill. */
  uint8_t *buf;
  size_t pos;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t produced; /* slots published by the walker */
  uint64_t consumed; /* slots handed back by JavaScript */
  int outstanding;   /* JavaScript holds slot `consumed % slots` */
  int done, failed, cancel, joined;
  uint64_t nar_size;
  char message[1024];
  pthread_t thread;
  napi_ref ring_ref;
  char *root;
} walk_t;

/* Records the first error; called on the walker's thread only. */
static void fail(walk_t *w, const char *path, const char *what) {
  pthread_mutex_lock(&w->mu);
  if (!w->failed) {
    w->failed = 1;
    snprintf(w->message, sizeof w->message, "%s: %s", path, what);
  }
  pthread_mutex_unlock(&w->mu);
}

static void fail_errno(walk_t *w, const char *path, const char *call) {
  char what[256];
  snprintf(what, sizeof what, "%s: %s", call, strerror(errno));
  fail(w, path, what);
}

/* Publishes the current slot and takes the next free one; 0, or -1 if cancelled. */
static int flush(walk_t *w) {
  pthread_mutex_lock(&w->mu);
  w->lengths[w->produced % w->slots] = (uint32_t)w->pos;
  w->nar_size += w->pos;
  w->produced++;
  pthread_cond_broadcast(&w->cv);
  while (!w->cancel && w->produced - w->consumed >= w->slots) pthread_cond_wait(&w->cv, &w->mu);
  int cancelled = w->cancel;
  pthread_mutex_unlock(&w->mu);
  w->buf = w->ring + (w->produced % w->slots) * w->slot_size;
  w->pos = 0;
  return cancelled ? -1 : 0;
}

static int emit(walk_t *w, const void *data, size_t n) {
  const uint8_t *p = data;
  while (n > 0) {
    if (w->pos == w->slot_size && flush(w) < 0) return -1;
    size_t take = w->slot_size - w->pos;
    if (take > n) take = n;
    memcpy(w->buf + w->pos, p, take);
    w->pos += take;
    p += take;
    n -= take;
  }
  return 0;
}

static int emit_u64(walk_t *w, uint64_t value) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(value >> (8 * i));
  return emit(w, bytes, 8);
}

static const uint8_t ZEROS[8] = {0};

static int emit_padding(walk_t *w, uint64_t length) {
  size_t padding = (8 - length % 8) % 8;
  return padding ? emit(w, ZEROS, padding) : 0;
}

/* str(s): u64le(length), the bytes, zero padding to a multiple of 8. */
static int emit_str(walk_t *w, const void *bytes, size_t n) {
  if (emit_u64(w, n) < 0 || emit(w, bytes, n) < 0) return -1;
  return emit_padding(w, n);
}

/* The fixed token runs of nar-tokens.ts, built once by build_tokens(). */
typedef struct {
  uint8_t bytes[128];
  size_t length;
} run_t;
static run_t REGULAR_HEAD, EXECUTABLE_HEAD, SYMLINK_HEAD, DIRECTORY_HEAD, ENTRY_HEAD, ENTRY_NODE,
    CLOSE, PROLOGUE;

static void build_run(run_t *run, const char *const *texts, int count) {
  run->length = 0;
  for (int i = 0; i < count; i++) {
    size_t n = strlen(texts[i]);
    for (int b = 0; b < 8; b++) run->bytes[run->length + b] = (uint8_t)((uint64_t)n >> (8 * b));
    memcpy(run->bytes + run->length + 8, texts[i], n);
    size_t padded = (n + 7) / 8 * 8;
    memset(run->bytes + run->length + 8 + n, 0, padded - n);
    run->length += 8 + padded;
  }
}

static void build_tokens(void) {
  static const char *const regular[] = {"(", "type", "regular", "contents"};
  static const char *const executable[] = {"(", "type", "regular", "executable", "", "contents"};
  static const char *const symlink[] = {"(", "type", "symlink", "target"};
  static const char *const directory[] = {"(", "type", "directory"};
  static const char *const entry[] = {"entry", "(", "name"};
  static const char *const node[] = {"node"};
  static const char *const close_[] = {")"};
  static const char *const prologue[] = {"nix-archive-1"};
  build_run(&REGULAR_HEAD, regular, 4);
  build_run(&EXECUTABLE_HEAD, executable, 6);
  build_run(&SYMLINK_HEAD, symlink, 4);
  build_run(&DIRECTORY_HEAD, directory, 3);
  build_run(&ENTRY_HEAD, entry, 3);
  build_run(&ENTRY_NODE, node, 1);
  build_run(&CLOSE, close_, 1);
  build_run(&PROLOGUE, prologue, 1);
}

static int put(walk_t *w, const run_t *run) { return emit(w, run->bytes, run->length); }

typedef struct {
  char *name;
  unsigned char type;
} entry_t;

static int compare_entries(const void *a, const void *b) {
  return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

static int dump_node(walk_t *w, int parent, const char *name, const char *path, unsigned char type);

static int dump_regular(walk_t *w, int parent, const char *name, const char *path) {
  int fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail_errno(w, path, "open"), -1;
  struct stat st;
  int rc = -1;
  if (fstat(fd, &st) < 0) {
    fail_errno(w, path, "fstat");
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    fail(w, path, "changed type while being archived");
    goto out;
  }
  if ((st.st_mode & S_IXUSR ? put(w, &EXECUTABLE_HEAD)
                            : put(w, &REGULAR_HEAD)) < 0 ||
      emit_u64(w, (uint64_t)st.st_size) < 0)
    goto out;
  uint64_t remaining = (uint64_t)st.st_size;
  while (remaining > 0) {
    if (w->pos == w->slot_size && flush(w) < 0) goto out;
    size_t want = w->slot_size - w->pos;
    if (want > remaining) want = (size_t)remaining;
    ssize_t got = read(fd, w->buf + w->pos, want);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      fail_errno(w, path, "read");
      goto out;
    }
    if (got == 0) {
      fail(w, path, "shrank while being archived");
      goto out;
    }
    w->pos += (size_t)got;
    remaining -= (uint64_t)got;
  }
  rc = emit_padding(w, (uint64_t)st.st_size) < 0 || put(w, &CLOSE) < 0 ? -1 : 0;
out:
  close(fd);
  return rc;
}

static int dump_symlink(walk_t *w, int parent, const char *name, const char *path) {
  char target[MAX_TARGET + 1];
  ssize_t n = readlinkat(parent, name, target, sizeof target);
  if (n < 0) return fail_errno(w, path, "readlink"), -1;
  if (n > MAX_TARGET) return fail(w, path, "has an over-long target"), -1;
  if (put(w, &SYMLINK_HEAD) < 0 || emit_str(w, target, (size_t)n) < 0)
    return -1;
  return put(w, &CLOSE);
}

static int dump_directory(walk_t *w, int parent, const char *name, const char *path) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno(w, path, "open"), -1;
  DIR *dir = fdopendir(fd);
  if (!dir) {
    fail_errno(w, path, "fdopendir");
    close(fd);
    return -1;
  }
  entry_t *entries = NULL;
  size_t count = 0, capacity = 0;
  int rc = -1;
  for (;;) {
    errno = 0;
    struct dirent *d = readdir(dir);
    if (!d) {
      if (errno) {
        fail_errno(w, path, "readdir");
        goto out;
      }
      break;
    }
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    if (count == capacity) {
      capacity = capacity ? 2 * capacity : 16;
      entry_t *grown = realloc(entries, capacity * sizeof *entries);
      if (!grown) {
        fail(w, path, "out of memory");
        goto out;
      }
      entries = grown;
    }
    entries[count].name = strdup(d->d_name);
    entries[count].type = d->d_type;
    if (!entries[count].name) {
      fail(w, path, "out of memory");
      goto out;
    }
    count++;
  }
  if (count > 1) qsort(entries, count, sizeof *entries, compare_entries);
  if (put(w, &DIRECTORY_HEAD) < 0) goto out;
  size_t path_length = strlen(path);
  for (size_t i = 0; i < count; i++) {
    size_t name_length = strlen(entries[i].name);
    char *child = malloc(path_length + name_length + 2);
    if (!child) {
      fail(w, path, "out of memory");
      goto out;
    }
    memcpy(child, path, path_length);
    child[path_length] = '/';
    memcpy(child + path_length + 1, entries[i].name, name_length + 1);
    int step = put(w, &ENTRY_HEAD) < 0 ||
                       emit_str(w, entries[i].name, name_length) < 0 || put(w, &ENTRY_NODE) < 0 ||
                       dump_node(w, dirfd(dir), entries[i].name, child, entries[i].type) < 0 ||
                       put(w, &CLOSE) < 0
                   ? -1
                   : 0;
    free(child);
    if (step < 0) goto out;
  }
  rc = put(w, &CLOSE);
out:
  for (size_t i = 0; i < count; i++) free(entries[i].name);
  free(entries);
  closedir(dir);
  return rc;
}

static int dump_node(walk_t *w, int parent, const char *name, const char *path, unsigned char type) {
  if (type == DT_UNKNOWN) {
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return fail_errno(w, path, "lstat"), -1;
    type = S_ISREG(st.st_mode)    ? DT_REG
           : S_ISDIR(st.st_mode)  ? DT_DIR
           : S_ISLNK(st.st_mode)  ? DT_LNK
           : S_ISSOCK(st.st_mode) ? DT_SOCK
           : S_ISFIFO(st.st_mode) ? DT_FIFO
           : S_ISCHR(st.st_mode)  ? DT_CHR
           : S_ISBLK(st.st_mode)  ? DT_BLK
                                  : DT_UNKNOWN;
  }
  switch (type) {
    case DT_REG:
      return dump_regular(w, parent, name, path);
    case DT_DIR:
      return dump_directory(w, parent, name, path);
    case DT_LNK:
      return dump_symlink(w, parent, name, path);
    default:
      return fail(w, path, "is not a regular file, directory or symlink"), -1;
  }
}

static void *walk_main(void *arg) {
  walk_t *w = arg;
  if (put(w, &PROLOGUE) == 0) dump_node(w, AT_FDCWD, w->root, w->root, DT_UNKNOWN);
  pthread_mutex_lock(&w->mu);
  if (!w->failed && !w->cancel && w->pos > 0) {
    w->lengths[w->produced % w->slots] = (uint32_t)w->pos;
    w->nar_size += w->pos;
    w->produced++;
  }
  w->done = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* Stops the walk (if running) and waits for its thread; idempotent. */
static void stop(walk_t *w) {
  if (w->joined) return;
  pthread_mutex_lock(&w->mu);
  w->cancel = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  w->joined = 1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  walk_t *w = data;
  stop(w);
  if (w->ring_ref) napi_delete_reference(env, w->ring_ref);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w->lengths);
  free(w->root);
  free(w);
}

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, "ERR_KILN_NAR_WALK", "nar-walk: " #call " failed"); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

/* The walk behind a call's first argument; throws (and returns NULL) if there is none. */
static walk_t *unwrap(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return data;
}

/* start(path: string, ring: ArrayBuffer, slotSize: number): handle */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "nar-walk: start(path, ring, slotSize)");
    return NULL;
  }
  size_t path_length;
  CHECK(napi_get_value_string_utf8(env, argv[0], NULL, 0, &path_length));
  char *root = malloc(path_length + 1);
  if (!root) return napi_throw_error(env, NULL, "nar-walk: out of memory"), NULL;
  CHECK(napi_get_value_string_utf8(env, argv[0], root, path_length + 1, &path_length));
  void *ring;
  size_t ring_length;
  CHECK(napi_get_arraybuffer_info(env, argv[1], &ring, &ring_length));
  uint32_t slot_size;
  CHECK(napi_get_value_uint32(env, argv[2], &slot_size));
  if (slot_size < 4096 || ring_length / slot_size < 2) {
    free(root);
    napi_throw_range_error(env, NULL, "nar-walk: the ring needs two slots of at least 4 KiB");
    return NULL;
  }
  walk_t *w = calloc(1, sizeof *w);
  if (!w) return free(root), napi_throw_error(env, NULL, "nar-walk: out of memory"), NULL;
  w->root = root;
  w->ring = ring;
  w->slot_size = slot_size;
  w->slots = (uint32_t)(ring_length / slot_size);
  w->lengths = calloc(w->slots, sizeof *w->lengths);
  w->buf = w->ring;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  napi_value handle;
  if (!w->lengths || napi_create_reference(env, argv[1], 1, &w->ring_ref) != napi_ok) {
    w->joined = 1;
    finalize(env, w, NULL);
    napi_throw_error(env, NULL, "nar-walk: out of memory");
    return NULL;
  }
  if (pthread_create(&w->thread, NULL, walk_main, w) != 0) {
    w->joined = 1;
    finalize(env, w, NULL);
    napi_throw_error(env, NULL, "nar-walk: cannot start a thread");
    return NULL;
  }
  if (napi_create_external(env, w, finalize, NULL, &handle) != napi_ok) {
    finalize(env, w, NULL);
    napi_throw_error(env, NULL, "nar-walk: napi_create_external failed");
    return NULL;
  }
  return handle;
}

/*
 * next(handle): hands back the slot returned last, then waits for the next one. Returns
 * the length of slot (n % slots) for the n-th call, -1 once the archive is complete, or
 * -2 if the walk failed (message() says why).
 */
static napi_value next(napi_env env, napi_callback_info info) {
  walk_t *w = unwrap(env, info, "nar-walk: next(handle)");
  if (!w) return NULL;
  pthread_mutex_lock(&w->mu);
  if (w->outstanding) {
    w->outstanding = 0;
    w->consumed++;
    pthread_cond_broadcast(&w->cv);
  }
  while (!w->done && !w->failed && w->produced == w->consumed) pthread_cond_wait(&w->cv, &w->mu);
  int64_t result;
  if (w->failed) result = -2;
  else if (w->produced > w->consumed) {
    result = w->lengths[w->consumed % w->slots];
    w->outstanding = 1;
  } else result = -1;
  pthread_mutex_unlock(&w->mu);
  napi_value value;
  CHECK(napi_create_int64(env, result, &value));
  return value;
}

/* narSize(handle): the bytes published so far (the whole archive once next() gave -1). */
static napi_value nar_size(napi_env env, napi_callback_info info) {
  walk_t *w = unwrap(env, info, "nar-walk: narSize(handle)");
  if (!w) return NULL;
  pthread_mutex_lock(&w->mu);
  double size = (double)w->nar_size;
  pthread_mutex_unlock(&w->mu);
  napi_value value;
  CHECK(napi_create_double(env, size, &value));
  return value;
}

/* message(handle): why the walk failed, or "". */
static napi_value message(napi_env env, napi_callback_info info) {
  walk_t *w = unwrap(env, info, "nar-walk: message(handle)");
  if (!w) return NULL;
  pthread_mutex_lock(&w->mu);
  char text[sizeof w->message];
  memcpy(text, w->failed ? w->message : "", w->failed ? sizeof text : 1);
  pthread_mutex_unlock(&w->mu);
  napi_value value;
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value));
  return value;
}

/* close(handle): stops the walk and waits for its thread; the ring is JavaScript's again. */
static napi_value close_walk(napi_env env, napi_callback_info info) {
  walk_t *w = unwrap(env, info, "nar-walk: close(handle)");
  if (!w) return NULL;
  stop(w);
  if (w->ring_ref) {
    napi_delete_reference(env, w->ring_ref);
    w->ring_ref = NULL;
  }
  return NULL;
}

/* Bumped whenever start/next/narSize/message/close change; nar-native.ts checks it. */
#define NAR_WALK_VERSION 1

NAPI_MODULE_INIT() {
  build_tokens();
  napi_value version;
  if (napi_create_uint32(env, NAR_WALK_VERSION, &version) != napi_ok ||
      napi_set_named_property(env, exports, "version", version) != napi_ok)
    return NULL;
  napi_property_descriptor properties[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"next", NULL, next, NULL, NULL, NULL, napi_default, NULL},
      {"narSize", NULL, nar_size, NULL, NULL, NULL, napi_default, NULL},
      {"message", NULL, message, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_walk, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof *properties, properties) !=
      napi_ok)
    return NULL;
  return exports;
}
