/* pathset.h: a set of paths, each with a few flag bits: what one image layer holds (files,
 * directories, whiteouts, opaque markers), so later layers can be checked for what they
 * delete or replace. */
#ifndef RMG_PATHSET_H
#define RMG_PATHSET_H

#include <stdbool.h>
#include <stddef.h>

enum {
    RMG_PATH_FILE = 1,     /* a regular file, symlink, hardlink or special file */
    RMG_PATH_DIR = 2,      /* a directory */
    RMG_PATH_WHITEOUT = 4, /* `.wh.NAME`: NAME (and all below it) deleted */
    RMG_PATH_OPAQUE = 8    /* `.wh..wh..opq`: everything below from lower layers deleted */
};

struct rmg_pathset;

struct rmg_pathset *rmg_pathset_new(void);
void rmg_pathset_free(struct rmg_pathset *s);
/* ORs flags into path's entry (the path is copied). False on out of memory. */
bool rmg_pathset_add(struct rmg_pathset *s, const char *path, size_t len, unsigned flags);
/* The flags of path (first len bytes), 0 when absent. */
unsigned rmg_pathset_get(const struct rmg_pathset *s, const char *path, size_t len);
size_t rmg_pathset_count(const struct rmg_pathset *s);
/* Calls fn for every path (in no particular order) until it returns false; returns false then. */
bool rmg_pathset_each(const struct rmg_pathset *s,
                      bool (*fn)(const char *path, size_t len, unsigned flags, void *ud), void *ud);

#endif
