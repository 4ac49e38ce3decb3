/* archive.c: image archives as sources (see image.h): docker-save and OCI archives, plain or
 * compressed, read as one stream from a file, a pipe or stdin.
 *
 * DESIGN. An image archive is read in one pass, whatever order its entries come in: an entry
 * whose first bytes are a tar (plain or compressed, by magic bytes) is walked as a layer at
 * once, a JSON document is kept in memory (up to a limit), links are remembered; the image
 * model resolves layers, configs and history at the end. Nothing is written to disk and the
 * input never needs to be seekable, so a pipe from `docker save` works the same as a file.
 * With more than one job, a layer entry of an archive *file* (not compressed as a whole) is
 * walked by a thread of its own, re-read with pread at its offset while the outer archive
 * skips it (layers.c). A digest-named entry whose layer is in the cache is only hashed
 * (reader.c).
 */
#define _GNU_SOURCE
#include "source/image.h"

#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/gunzip.h"
#include "source/layers.h"
#include "source/reader.h"
#include "common/util.h"

ssize_t rmg_read_head(int fd, void *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, (char *)buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* ---- reading a file descriptor, with what was already read first -------------------- */

/* Skips forward on a regular file (libarchive asks when it skips an entry of an archive that
 * is not compressed). 0: not skipped, libarchive reads instead. */
static la_int64_t fd_skip(struct archive *a, void *ud, la_int64_t request)
{
    struct rmg_fd_stream *s = ud;
    struct stat st;
    (void)a;
    off_t cur = s->head_done && !s->md && request > 0 ? lseek(s->fd, 0, SEEK_CUR) : -1;
    if (cur < 0 || fstat(s->fd, &st) != 0 || st.st_size <= cur)
        return 0;
    la_int64_t n = request < st.st_size - cur ? request : st.st_size - cur;
    if (lseek(s->fd, (off_t)n, SEEK_CUR) < 0)
        return 0;
    s->in += (uint64_t)n;
    return n;
}

/* ---- hashing an entry of the outer archive ----------------------------------------------- */

static void hash_tap(void *md, const void *data, size_t len)
{
    EVP_DigestUpdate(md, data, len);
}

/* Hashes the rest of the outer archive's current entry. False on a read error, or (with `in`,
 * the bytes the archive has read) once the archive turns out a bomb, with an error saying so. */
static bool hash_rest_of_entry(struct archive *a, EVP_MD_CTX *md, const uint64_t *in,
                               const struct rmg_limits *l)
{
    const void *blk;
    size_t len;
    la_int64_t off;
    int rc;
    while ((rc = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        EVP_DigestUpdate(md, blk, len);
        if (in && rmg_layer_is_bomb(a, *in, l)) {
            char m[128]; /* archive_set_error's own printf knows no %llu */
            rmg_fmt(m, sizeof m, "archive bomb: the image archive expands more than %llu times",
                    (unsigned long long)l->max_ratio);
            archive_set_error(a, -1, "%s", m);
            return false;
        }
    }
    return rc == ARCHIVE_EOF;
}

/* ---- the one-pass archive source -------------------------------------------------------- */

static struct rmg_blob *stream_get_json(struct rmg_image_source *src, const char *name,
                                        char *err, size_t errlen)
{
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (!b)
        rmg_fmt(err, errlen, "not in the archive");
    else if (!b->json)
        rmg_fmt(err, errlen, "not a JSON document");
    return b && b->json ? b : NULL;
}

static struct rmg_blob *stream_get_layer(struct rmg_image_source *src, const char *name,
                                         char *err, size_t errlen)
{
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (!b)
        rmg_fmt(err, errlen, "%s is not in the archive", name);
    else if (!b->layer)
        rmg_fmt(err, errlen, "%s is not a layer (not a tar archive, plain or compressed)", name);
    return b && b->layer ? b : NULL;
}

/* A link's target as a clean archive name: symlinks are relative to their directory,
 * hardlinks to the archive root. NULL if it leaves the archive. */
static char *link_target(const char *entry, const char *target, bool symlink)
{
    struct rmg_buf joined = {0};
    const char *slash = strrchr(entry, '/');
    if (symlink && target[0] != '/' && slash)
        rmg_buf_printf(&joined, "%.*s/%s", (int)(slash - entry), entry, target);
    else
        rmg_buf_puts(&joined, target);
    if (!joined.data)
        return NULL;
    /* Resolve "..": a name may not climb above the archive root. */
    char *parts[512];
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(joined.data, "/", &save); tok;
         tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (strcmp(tok, "..") == 0) {
            if (n == 0) {
                rmg_buf_free(&joined);
                return NULL;
            }
            n--;
            continue;
        }
        if (n == 512) {
            rmg_buf_free(&joined);
            return NULL;
        }
        parts[n++] = tok;
    }
    struct rmg_buf out = {0};
    for (size_t i = 0; i < n; i++)
        rmg_buf_printf(&out, "%s%s", i ? "/" : "", parts[i]);
    rmg_buf_free(&joined);
    return out.data ? out.data : rmg_strdup("");
}

static bool is_json_start(const unsigned char *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n')
            continue;
        return h[i] == '{' || h[i] == '[';
    }
    return false;
}

/* A digest-named entry whose layer is in the cache: its bytes are hashed, neither inflated nor
 * scanned, and the cached result is used if they match. True when done with (from the cache,
 * or an error); false to walk it. */
static bool entry_from_cache(struct rmg_reader *r, struct archive *a, int id, const char *digest,
                             const struct rmg_buf *head)
{
    struct rmg_results found;
    rmg_results_init(&found);
    struct rmg_pathset *paths;
    struct rmg_layer_prov *prov;
    if (!rmg_cache_load(r->ctx->cache, digest, r->src->target, id, &found, &paths, &prov))
        return false;
    const char *name = r->src->blobs.v[id].name;
    EVP_MD_CTX *md = rmg_hash_new();
    if (md)
        EVP_DigestUpdate(md, head->data, head->len);
    bool read = md && hash_rest_of_entry(a, md, r->outer_in, &r->ctx->limits);
    bool match = read && rmg_hash_is(md, digest);
    EVP_MD_CTX_free(md);
    if (match) {
        rmg_reader_take_cached(r, id, &found, paths, prov);
        return true;
    }
    rmg_results_clear(&found);
    rmg_pathset_free(paths);
    rmg_layer_prov_clear(prov);
    free(prov);
    if (!md)
        rmg_reader_error(r, RMG_ENOMEM, name, "out of memory");
    else if (!read)
        rmg_reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
    else
        rmg_reader_error(r, RMG_EINPUT, name, "its bytes do not have the digest its name says: "
                         "not the layer it claims to be; not scanned (its name's cached result "
                         "does not apply; scan with --no-cache to scan what it holds)");
    return true;
}

/* Does fd hold head's bytes at off? (Checks that an entry's offset is right before its
 * bytes are read again from there.) */
static bool same_bytes(int fd, la_int64_t off, const struct rmg_buf *head)
{
    unsigned char buf[4096];
    size_t n = head->len < sizeof buf ? head->len : sizeof buf;
    return n > 0 && pread(fd, buf, n, (off_t)off) == (ssize_t)n && memcmp(buf, head->data, n) == 0;
}

/* One regular entry of the outer archive. True when a layer thread reads its bytes at their
 * offset (the caller skips the rest of it). */
static bool read_entry(struct rmg_reader *r, struct archive *a, struct archive_entry *e,
                       const char *name)
{
    struct rmg_blob *b = rmg_blobs_add(&r->src->blobs, name);
    if (!b) {
        rmg_reader_error(r, RMG_ENOMEM, name, "out of memory");
        return false;
    }
    b->size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
    /* Where its bytes start in the file, if they can be read again from there. */
    la_int64_t data_off = r->seekable && archive_entry_size_is_set(e) &&
                          archive_entry_sparse_count(e) == 0 &&
                          (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR
                          ? archive_filter_bytes(a, 0) : -1;
    /* (An entry the file ends inside of is read in one pass, as from a pipe.) */
    if (data_off >= 0 && (uint64_t)data_off + b->size > r->file_size)
        data_off = -1;
    /* The first block decides what it is. */
    struct rmg_buf head = {0};
    const void *blk;
    size_t len;
    la_int64_t off;
    int rc = ARCHIVE_OK;
    while (head.len < 512 && (rc = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
        rmg_buf_append(&head, blk, len);
    if (rc < ARCHIVE_WARN) {
        rmg_reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
        rmg_buf_free(&head);
        return false;
    }
    const unsigned char *h = (const unsigned char *)head.data;
    char *digest = r->ctx->cache && h ? rmg_blob_name_digest(name) : NULL;
    if (digest && entry_from_cache(r, a, b->id, digest, &head)) {
        free(digest);
        rmg_buf_free(&head);
        return false;
    }
    if (h && rmg_layer_is_tar(h, head.len)) {
        int id = b->id; /* b moves if the blob array grows: keep the index */
        struct rmg_pathset *paths = rmg_pathset_new();
        struct archive *la = rmg_layer_reader_new(false);
        if (!paths || !la) {
            rmg_pathset_free(paths);
            if (la)
                archive_read_free(la);
            rmg_reader_error(r, RMG_ENOMEM, name, "out of memory");
            rmg_buf_free(&head);
            return false;
        }
        r->src->blobs.v[id].layer = true;
        r->src->blobs.v[id].paths = paths;
        rmg_reader_progress(r, name, r->src->blobs.v[id].size, false);
        if (data_off >= 0 && r->par && same_bytes(r->walker_fd, data_off, &head)) {
            rmg_layers_reserve(r->par);
            if (rmg_layers_start(r, id, r->walker_fd, false, (uint64_t)data_off,
                                 r->src->blobs.v[id].size, digest, NULL, NULL)) {
                archive_read_free(la);
                rmg_buf_free(&head);
                return true; /* walked by a thread of its own: the outer archive skips it */
            }
        }
        /* With the cache on, a digest-named layer's bytes are checked: only then is it stored. */
        EVP_MD_CTX *md = digest ? rmg_hash_new() : NULL;
        struct rmg_entry_stream es = {.parent = a, .head = head.data, .head_len = head.len,
                                      .tap = md ? hash_tap : NULL, .tap_ud = md,
                                      .parent_in = r->outer_in, .limits = &r->ctx->limits};
        bool opened = rmg_entry_stream_open(la, &es) == ARCHIVE_OK;
        if (!opened)
            rmg_reader_error(r, RMG_EINPUT, name, "cannot open layer: %s",
                             archive_error_string(la));
        else
            rmg_layer_walk(&r->walker, la, name, id, r->src->blobs.v[id].size, paths,
                           rmg_blob_prov(&r->src->blobs.v[id]));
        archive_read_free(la);
        if (md && opened && hash_rest_of_entry(a, md, r->outer_in, &r->ctx->limits))
            rmg_reader_settle_digest(r, id, md, digest);
        EVP_MD_CTX_free(md);
    } else if (h && is_json_start(h, head.len)) {
        /* Kept in memory: each one, and all of them together, are bounded. */
        size_t max = r->ctx->limits.max_json, total = r->ctx->limits.max_json_total;
        size_t room = !r->json_full && total > r->json_bytes ? total - r->json_bytes : 0;
        size_t cap = max < room ? max : room;
        while (head.len <= cap && (rc = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
            rmg_buf_append(&head, blk, len);
        if (rc < ARCHIVE_WARN)
            rmg_reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
        else if (head.len > max)
            rmg_reader_error(r, RMG_WARN, name, "JSON document larger than %zu bytes: not read",
                             max);
        else if (head.len > cap && !r->json_full)
            rmg_reader_error(r, RMG_WARN, name, "JSON documents of more than %zu bytes in all in "
                             "this archive: this one and any after it not read", total);
        if (rc >= ARCHIVE_WARN && head.len > cap && head.len <= max)
            r->json_full = true;
        if (rc >= ARCHIVE_WARN && head.len <= cap) {
            r->json_bytes += head.len;
            b->json = head.data;
            b->json_len = head.len;
            free(digest);
            return false;
        }
        if (rc >= ARCHIVE_WARN && (strcmp(name, "manifest.json") == 0 ||
                                   strcmp(name, "index.json") == 0))
            r->meta_unread = true; /* an image whose manifest cannot be read: not a plain tar */
    }
    free(digest);
    rmg_buf_free(&head);
    return false;
}

static enum rmg_status walk_outer(struct rmg_reader *r, struct archive *a)
{
    struct archive_entry *e;
    uint64_t n = 0;
    for (;;) {
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc == ARCHIVE_RETRY)
            continue;
        if (rc < ARCHIVE_WARN) {
            rmg_reader_error(r, RMG_EINPUT, NULL, "%s: %s", n ? "corrupt image archive"
                             : "not a readable image archive", archive_error_string(a));
            break;
        }
        if (++n > r->ctx->limits.max_blobs) {
            rmg_reader_error(r, RMG_WARN, NULL, "more than %llu entries; the rest is not read",
                             (unsigned long long)r->ctx->limits.max_blobs);
            break;
        }
        const char *raw = archive_entry_pathname(e);
        char clean[4096];
        if (!raw || !rmg_layer_clean_path(raw, clean, sizeof clean))
            continue;
        const char *name = clean + 1;
        mode_t type = archive_entry_filetype(e);
        const char *hl = archive_entry_hardlink(e);
        if (hl || type == AE_IFLNK) {
            char *t = link_target(name, hl ? hl : archive_entry_symlink(e) ? archive_entry_symlink(e) : "",
                                  !hl);
            struct rmg_blob *b = t ? rmg_blobs_add(&r->src->blobs, name) : NULL;
            if (b)
                b->link = t;
            else
                free(t);
            continue;
        }
        if (type == AE_IFREG) {
            /* A layer another thread reads at its offset is skipped (the file is seekable and
             * not compressed); otherwise the rest of the entry is read, not skipped: a skip
             * inflates just the same, with nothing counting. */
            if (read_entry(r, a, e, name)) {
                if (archive_read_data_skip(a) < ARCHIVE_WARN) { /* the file shrank meanwhile */
                    rmg_reader_error(r, RMG_EINPUT, NULL, "corrupt image archive: %s",
                                     archive_error_string(a));
                    break;
                }
            } else if (rmg_layer_drain(a, r->outer_in, &r->ctx->limits) == 0) {
                rmg_reader_error(r, RMG_WARN, name, "archive bomb: the image archive expands more "
                                 "than %llu times; the rest of it is not read",
                                 (unsigned long long)r->ctx->limits.max_ratio);
                break;
            }
        }
    }
    return r->worst;
}

/* The same file, scanned as an archive of files (it was a tar, not an image). */
static void scan_plain_archive(const struct rmg_scan_ctx *ctx, const char *target,
                               const char *path, struct rmg_results *out)
{
    struct rmg_pool *pool = rmg_pool_new(ctx->rules, &ctx->opts, ctx->jobs);
    struct rmg_scanner *sc = rmg_scanner_new(ctx->rules, &ctx->opts);
    struct archive *a = rmg_layer_reader_new(false);
    if (!pool || !sc || !a) {
        rmg_results_add_error(out, RMG_ENOMEM, target, NULL, "out of memory");
    } else if (archive_read_open_filename(a, path, RMG_READ_SIZE) != ARCHIVE_OK) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", archive_error_string(a));
    } else {
        struct rmg_walker w = {&ctx->limits, pool, sc, out, target};
        struct stat st;
        rmg_layer_walk(&w, a, target, -1, stat(path, &st) == 0 ? (uint64_t)st.st_size : 0, NULL,
                       NULL);
    }
    if (a)
        archive_read_free(a);
    if (pool)
        rmg_pool_finish(pool, out);
    rmg_scanner_free(sc);
}

enum rmg_status rmg_source_image_stream(const struct rmg_scan_ctx *ctx, const char *target,
                                        int fd, const void *head, size_t head_len,
                                        const char *ref, const char *fallback_path,
                                        struct rmg_results *out)
{
    struct rmg_results tmp;
    rmg_results_init(&tmp);
    struct rmg_reader r;
    struct rmg_pool *pool;
    struct rmg_scanner *sc;
    struct rmg_image_source src = {.get_json = stream_get_json, .get_layer = stream_get_layer};
    struct rmg_fd_stream fs = {.fd = fd, .head = head, .head_len = head_len,
                               .buf = malloc(RMG_READ_SIZE)};
    struct archive *a = rmg_layer_reader_new(false);
    bool ok = rmg_reader_init(&r, ctx, &src, target, &tmp, &pool, &sc) && a && fs.buf;
    r.outer_in = &fs.in;
    /* A file (not a pipe) read from its start: its tar entries can be read again with pread,
     * so its layers can be walked in parallel, unless the archive is compressed. */
    struct stat st_fd;
    static const unsigned char gz[2] = {0x1f, 0x8b};
    r.seekable = fstat(fd, &st_fd) == 0 && S_ISREG(st_fd.st_mode) &&
                 lseek(fd, 0, SEEK_CUR) == (off_t)head_len &&
                 !(head_len >= 2 && memcmp(head, gz, 2) == 0);
    r.walker_fd = fd;
    r.file_size = r.seekable ? (uint64_t)st_fd.st_size : 0;
    bool opened = false;
    enum rmg_status st = RMG_OK;
    if (!ok) {
        rmg_results_add_error(out, RMG_ENOMEM, target, NULL, "out of memory");
        st = RMG_ENOMEM;
    } else if ((r.seekable ? archive_read_open2(a, &fs, NULL, rmg_fd_read, fd_skip, NULL)
                           : rmg_archive_open_inflating(a, &fs, rmg_fd_read)) != ARCHIVE_OK) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "not an image archive: %s",
                              archive_error_string(a));
        st = RMG_EINPUT;
    } else {
        opened = true;
        r.seekable = r.seekable && archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE;
        st = walk_outer(&r, a);
    }
    if (a)
        archive_read_free(a);
    free(fs.buf);
    struct rmg_image_set *set = NULL;
    if (opened) {
        if (!rmg_image_found(&src) && !r.meta_unread && fallback_path && st < RMG_EINPUT) {
            /* A tar, but no image: forget the first pass and scan its files. */
            struct rmg_results discard;
            rmg_results_init(&discard);
            rmg_layers_finish(&r);
            rmg_pool_finish(pool, &discard);
            pool = NULL;
            rmg_results_clear(&discard);
            rmg_results_clear(&tmp);
            scan_plain_archive(ctx, target, fallback_path, out);
        } else if (rmg_image_found(&src) || st < RMG_EINPUT) {
            struct rmg_image_select sel = {ref, ctx->platform, ctx->all_platforms};
            enum rmg_status ps = rmg_image_plan(&src, &sel, &tmp, &set);
            st = ps > st ? ps : st;
        }
    }
    return rmg_reader_close(&r, pool, sc, set, out, st);
}
