/* pool.h: worker threads that scan files handed to them by a walker.
 *
 * Each worker owns a scanner and a results object; nothing is shared but the queue. With one
 * job the pool scans in the caller's thread. Results are merged when the pool finishes, and
 * reports sort them, so output never depends on thread timing. */
#ifndef RMG_POOL_H
#define RMG_POOL_H

#include "rummage.h"

struct rmg_pool;

/* rules and opts are borrowed and must outlive the pool. jobs <= 0 means the cores.
 * Returns NULL on out of memory or thread creation failure. */
struct rmg_pool *rmg_pool_new(const struct rmg_rules *rules, const struct rmg_scan_opts *opts,
                              int jobs);
/* Reads the file at fs_path and scans it into out as the file at loc, in a worker's thread with
 * that worker's scanner. The pool knows no source: the walker that submits a file says how it
 * is read (source/file.c opens it without following a final symlink). */
typedef void (*rmg_pool_file_fn)(struct rmg_scanner *sc, const char *fs_path,
                                 const struct rmg_location *loc, struct rmg_results *out);
/* Queues a file, to be read by scan_file; strings are copied. Blocks while the queue is full.
 * Not thread-safe: one producer. */
enum rmg_status rmg_pool_submit(struct rmg_pool *pool, rmg_pool_file_fn scan_file,
                                const char *target, const char *fs_path, const char *rel_path);
/* Queues bytes already in memory as one file at loc (copied). Takes ownership of data (a
 * malloc'd buffer), also on failure. Blocks while the queued bytes exceed the pool's bound,
 * so a fast reader cannot outrun the scanners by more than that. One producer. */
enum rmg_status rmg_pool_submit_buffer(struct rmg_pool *pool, const struct rmg_location *loc,
                                       void *data, size_t len);
/* Queues a call of fn(arg) in a worker's thread (in the caller's with one job): work of a
 * walker's that needs no scanner, such as hashing a buffer it is done with. `bytes` is what
 * arg holds, counted against the queue's bound like a file's bytes. fn owns arg (it frees
 * it); fn runs exactly once, also when the pool is finished early. One producer. */
typedef void (*rmg_pool_call_fn)(void *arg);
enum rmg_status rmg_pool_submit_call(struct rmg_pool *pool, rmg_pool_call_fn fn, void *arg,
                                     size_t bytes);
/* Bytes the pool may hold queued before submit blocks. */
#define RMG_POOL_MAX_QUEUED (64u << 20)

/* Waits for every queued file, merges all results into out and frees the pool. */
enum rmg_status rmg_pool_finish(struct rmg_pool *pool, struct rmg_results *out);

#endif
