/* file.c: regular files, directory trees and stdin, streamed into the engine.
 *
 * DESIGN. A directory walk uses openat/fstatat relative to the directory's own descriptor,
 * with AT_SYMLINK_NOFOLLOW, so a symlink is never followed and a path is never re-resolved
 * through a link that changed under us. Files are opened O_NOFOLLOW | O_NONBLOCK and checked
 * with fstat before the first read: a FIFO or device is skipped, never read. Limits on depth
 * and path length bound a hostile tree.
 */
#define _GNU_SOURCE
#include "source/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define READ_SIZE (256u << 10)
#define MAX_DEPTH 256
#define MAX_PATH_LEN 4096

enum rmg_status rmg_source_scan_fd(struct rmg_scanner *sc, int fd, const void *head,
                                   size_t head_len, const struct rmg_location *loc,
                                   struct rmg_results *out)
{
    unsigned char *buf = malloc(READ_SIZE);
    if (!buf)
        return RMG_ENOMEM;
    enum rmg_status st = rmg_scanner_begin(sc, loc, out);
    if (st == RMG_OK && head_len)
        st = rmg_scanner_feed(sc, head, head_len);
    while (st == RMG_OK) {
        ssize_t n = read(fd, buf, READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rmg_results_add_error(out, RMG_EINPUT, loc->target, loc->path, "read: %s",
                                  strerror(errno));
            st = RMG_EINPUT;
            break;
        }
        if (n == 0)
            break;
        st = rmg_scanner_feed(sc, buf, (size_t)n);
    }
    enum rmg_status st2 = rmg_scanner_end(sc);
    free(buf);
    return st > st2 ? st : st2;
}

enum rmg_status rmg_source_scan_path(struct rmg_scanner *sc, const char *fs_path, bool follow,
                                     const struct rmg_location *loc, struct rmg_results *out)
{
    int fd = open(fs_path, O_RDONLY | (follow ? 0 : O_NOFOLLOW) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP) {
            out->stats.skipped++;
            return RMG_SKIP;
        }
        rmg_results_add_error(out, RMG_EINPUT, loc->target, loc->path, "cannot open: %s",
                              strerror(errno));
        return RMG_EINPUT;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        out->stats.skipped++;
        return RMG_SKIP;
    }
    /* Regular files never block; clear O_NONBLOCK for plain reads. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    enum rmg_status res = rmg_source_scan_fd(sc, fd, NULL, 0, loc, out);
    close(fd);
    return res;
}

struct walk {
    const char *target;
    struct rmg_pool *pool;
    rmg_walk_keep_fn keep;
    void *keep_ud;
    struct rmg_results *out;
    struct rmg_buf fs;  /* root + "/" + rel */
    size_t rel_start;   /* where rel begins in fs */
    enum rmg_status status;
};

/* A walked file, read in a pool worker: the walk has seen a regular file, so a symlink put there
 * since is not followed. */
static void scan_walked_file(struct rmg_scanner *sc, const char *fs_path,
                             const struct rmg_location *loc, struct rmg_results *out)
{
    rmg_source_scan_path(sc, fs_path, false, loc, out);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(struct walk *w, int dfd, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p)
                break;
            names = p;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    size_t save = w->fs.len;
    for (size_t i = 0; i < n; i++) {
        w->fs.len = save;
        w->fs.data[save] = '\0';
        if (save + 1 + strlen(names[i]) > MAX_PATH_LEN) {
            rmg_results_add_error(w->out, RMG_WARN, w->target, w->fs.data + w->rel_start,
                                  "path longer than %d bytes: entry skipped", MAX_PATH_LEN);
            continue;
        }
        if (save > w->rel_start)
            rmg_buf_puts(&w->fs, "/");
        rmg_buf_puts(&w->fs, names[i]);
        const char *rel = w->fs.data + w->rel_start;
        struct stat st;
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rmg_results_add_error(w->out, RMG_EINPUT, w->target, rel, "stat: %s", strerror(errno));
            w->status = RMG_EINPUT;
            continue;
        }
        if (w->keep && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
            !w->keep(w->keep_ud, rel, S_ISDIR(st.st_mode)))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= MAX_DEPTH) {
                rmg_results_add_error(w->out, RMG_WARN, w->target, rel,
                                      "directory deeper than %d levels: not scanned", MAX_DEPTH);
                continue;
            }
            int cfd = openat(dirfd(d), names[i],
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd < 0) {
                rmg_results_add_error(w->out, RMG_EINPUT, w->target, rel, "cannot open: %s",
                                      strerror(errno));
                w->status = RMG_EINPUT;
                continue;
            }
            walk_dir(w, cfd, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            enum rmg_status s = rmg_pool_submit(w->pool, scan_walked_file, w->target, w->fs.data,
                                                rel);
            if (s > w->status)
                w->status = s;
        } else {
            w->out->stats.skipped++;
        }
    }
    w->fs.len = save;
    if (w->fs.data)
        w->fs.data[save] = '\0';
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
}

enum rmg_status rmg_source_dir_walk(const char *root, const char *target,
                                    struct rmg_pool *pool, struct rmg_results *out)
{
    return rmg_source_dir_walk_filtered(root, target, pool, NULL, NULL, out);
}

enum rmg_status rmg_source_dir_walk_filtered(const char *root, const char *target,
                                             struct rmg_pool *pool, rmg_walk_keep_fn keep,
                                             void *ud, struct rmg_results *out)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "cannot open directory: %s",
                              strerror(errno));
        return RMG_EINPUT;
    }
    struct walk w = {.target = target, .pool = pool, .keep = keep, .keep_ud = ud, .out = out,
                     .status = RMG_OK};
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    if (!rmg_buf_append(&w.fs, root, rl) || !rmg_buf_puts(&w.fs, "/")) {
        close(fd);
        rmg_buf_free(&w.fs);
        return RMG_ENOMEM;
    }
    w.rel_start = w.fs.len;
    walk_dir(&w, fd, 0);
    rmg_buf_free(&w.fs);
    return w.status;
}
