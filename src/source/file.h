/* file.h: files, directories and stdin as scan sources. */
#ifndef RMG_SOURCE_FILE_H
#define RMG_SOURCE_FILE_H

#include "engine/pool.h"
#include "rummage.h"

/* Streams everything readable from fd into the scanner as one file at loc, after `head`
 * (head_len bytes already read from fd; may be empty). Read errors are recorded in out
 * (target and path from loc) and returned. */
enum rmg_status rmg_source_scan_fd(struct rmg_scanner *sc, int fd, const void *head,
                                   size_t head_len, const struct rmg_location *loc,
                                   struct rmg_results *out);

/* Opens fs_path (never blocking on a FIFO; following a final symlink only if asked) and scans
 * it if it is a regular file; anything else is skipped and counted (RMG_SKIP). */
enum rmg_status rmg_source_scan_path(struct rmg_scanner *sc, const char *fs_path, bool follow,
                                     const struct rmg_location *loc, struct rmg_results *out);

/* Walks a directory (symlinks never followed, special files skipped, entries in name order)
 * and submits every regular file to the pool with its path relative to root. Errors (an
 * unreadable directory, a limit) go to out and the walk goes on. */
enum rmg_status rmg_source_dir_walk(const char *root, const char *target,
                                    struct rmg_pool *pool, struct rmg_results *out);

/* Decides what a walk takes: rel is the path relative to the root; for a directory, false
 * means its contents are not walked. */
typedef bool (*rmg_walk_keep_fn)(void *ud, const char *rel, bool is_dir);
/* The same walk, taking only what keep (may be NULL: everything) says. */
enum rmg_status rmg_source_dir_walk_filtered(const char *root, const char *target,
                                             struct rmg_pool *pool, rmg_walk_keep_fn keep,
                                             void *ud, struct rmg_results *out);

#endif
