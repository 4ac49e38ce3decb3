/* source_image.c: image archives and OCI layouts as sources (see source_image.h).
 *
 * DESIGN. An image archive is read in one pass, whatever order its entries come in: an entry
 * whose first bytes are a tar (plain or compressed, by magic bytes) is walked as a layer at
 * once, a JSON document is kept in memory (up to a limit), links are remembered; the image
 * model resolves layers, configs and history at the end. Nothing is written to disk and the
 * input never needs to be seekable, so a pipe from `docker save` works the same as a file.
 * An OCI layout directory is read on demand instead: index.json, then only the manifests,
 * configs and layers the selected images reference.
 */
#define _GNU_SOURCE
#include "source_image.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "util.h"

#define HEAD_MAX (64u << 10)
#define READ_SIZE (256u << 10)

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

struct fd_stream {
    int fd;
    const void *head;
    size_t head_len;
    bool head_done;
    unsigned char *buf;
};

static la_ssize_t fd_read(struct archive *a, void *ud, const void **out)
{
    struct fd_stream *s = ud;
    if (!s->head_done) {
        s->head_done = true;
        if (s->head_len) {
            *out = s->head;
            return (la_ssize_t)s->head_len;
        }
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf, READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            archive_set_error(a, errno, "read: %s", strerror(errno));
            return -1;
        }
        *out = s->buf;
        return n;
    }
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

struct reader {
    const struct rmg_scan_ctx *ctx;
    struct rmg_image_source *src;
    struct rmg_walker walker;
    struct rmg_results *tmp; /* the reader's own errors and streamed findings */
    enum rmg_status worst;
    int layers_read;
    uint64_t layer_bytes;
};

static void reader_error(struct reader *r, enum rmg_status st, const char *path,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reader_error(struct reader *r, enum rmg_status st, const char *path,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(r->tmp, st, r->src->target, path, fmt, ap);
    va_end(ap);
    if (st > r->worst)
        r->worst = st;
}

/* Says which layer is being read: a line per layer with --verbose, or one status line that
 * rewrites itself on a terminal (cleared when the target is done) with the run's images,
 * layers, bytes and rate. */
static void progress(struct reader *r, const char *name, uint64_t size)
{
    r->layers_read++;
    struct rmg_progress *t = r->ctx->tally;
    if (t) {
        t->layers++;
        t->bytes += size;
    }
    if (r->ctx->progress == 2) {
        fputs("rummage: reading layer ", stderr);
        rmg_fputs_safe(stderr, name, strlen(name));
        fputc('\n', stderr);
    } else if (r->ctx->progress == 1 && t) {
        double dt = rmg_now() - t->t0;
        double mib = (double)t->bytes / (1 << 20);
        fprintf(stderr, "\r\033[Krummage: image %u, layer %llu, %.0f MiB of layers in %.0f s "
                "(%.0f MiB/s)", t->images + 1, (unsigned long long)t->layers, mib, dt,
                dt > 0.5 ? mib / dt : 0.0);
        fflush(stderr);
    }
}

static void progress_done(const struct reader *r, bool image)
{
    if (image && r->ctx->tally)
        r->ctx->tally->images++;
    if (r->ctx->progress == 1 && r->layers_read)
        fputs("\r\033[K", stderr);
}

/* One regular entry of the outer archive. */
static void read_entry(struct reader *r, struct archive *a, struct archive_entry *e,
                       const char *name)
{
    struct rmg_blob *b = rmg_blobs_add(&r->src->blobs, name);
    if (!b) {
        reader_error(r, RMG_ENOMEM, name, "out of memory");
        return;
    }
    b->size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
    /* The first block decides what it is. */
    struct rmg_buf head = {0};
    const void *blk;
    size_t len;
    la_int64_t off;
    int rc = ARCHIVE_OK;
    while (head.len < 512 && (rc = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
        rmg_buf_append(&head, blk, len);
    if (rc < ARCHIVE_WARN) {
        reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
        rmg_buf_free(&head);
        return;
    }
    const unsigned char *h = (const unsigned char *)head.data;
    if (h && rmg_layer_is_tar(h, head.len)) {
        int id = b->id; /* b moves if the blob array grows: keep the index */
        struct rmg_pathset *paths = rmg_pathset_new();
        struct archive *la = rmg_layer_reader_new(false);
        if (!paths || !la) {
            rmg_pathset_free(paths);
            if (la)
                archive_read_free(la);
            reader_error(r, RMG_ENOMEM, name, "out of memory");
            rmg_buf_free(&head);
            return;
        }
        struct rmg_entry_stream es = {.parent = a, .head = head.data, .head_len = head.len};
        r->src->blobs.v[id].layer = true;
        r->src->blobs.v[id].paths = paths;
        progress(r, name, r->src->blobs.v[id].size);
        if (rmg_entry_stream_open(la, &es) != ARCHIVE_OK)
            reader_error(r, RMG_EINPUT, name, "cannot open layer: %s", archive_error_string(la));
        else
            rmg_layer_walk(&r->walker, la, name, id, r->src->blobs.v[id].size, paths);
        archive_read_free(la);
    } else if (h && is_json_start(h, head.len)) {
        size_t max = r->ctx->limits.max_json;
        while (head.len <= max && (rc = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
            rmg_buf_append(&head, blk, len);
        if (rc < ARCHIVE_WARN)
            reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
        else if (head.len > max)
            reader_error(r, RMG_WARN, name, "JSON document larger than %zu bytes: not read", max);
        else {
            b->json = head.data;
            b->json_len = head.len;
            return;
        }
    }
    rmg_buf_free(&head);
}

static enum rmg_status walk_outer(struct reader *r, struct archive *a)
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
            reader_error(r, RMG_EINPUT, NULL, "%s: %s", n ? "corrupt image archive"
                         : "not a readable image archive", archive_error_string(a));
            break;
        }
        if (++n > r->ctx->limits.max_blobs) {
            reader_error(r, RMG_WARN, NULL, "more than %llu entries; the rest is not read",
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
        if (type == AE_IFREG)
            read_entry(r, a, e, name);
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
    } else if (archive_read_open_filename(a, path, READ_SIZE) != ARCHIVE_OK) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", archive_error_string(a));
    } else {
        struct rmg_walker w = {&ctx->limits, pool, sc, out, target};
        rmg_layer_walk(&w, a, target, -1, 0, NULL);
    }
    if (a)
        archive_read_free(a);
    if (pool)
        rmg_pool_finish(pool, out);
    rmg_scanner_free(sc);
}

/* Ends a source: waits for the pool, resolves the planned images (set may be NULL), moves
 * everything into out and frees what the reader holds. Returns the worst of st and its own. */
static enum rmg_status reader_close(struct reader *r, struct rmg_pool *pool,
                                    struct rmg_scanner *sc, struct rmg_image_set *set,
                                    struct rmg_results *out, enum rmg_status st)
{
    if (pool) {
        struct rmg_results lr;
        rmg_results_init(&lr);
        enum rmg_status st2 = rmg_pool_finish(pool, &lr);
        rmg_results_merge(&lr, r->tmp);
        if (set) {
            enum rmg_status st3 = rmg_image_resolve(set, r->src, sc, &lr, out);
            st2 = st3 > st2 ? st3 : st2;
        } else {
            /* No image to attribute them to (a truncated stream, say): nothing is lost, each
             * finding names its blob: "/BLOB!/path". */
            for (size_t i = 0; i < lr.n_findings; i++) {
                struct rmg_finding *f = &lr.findings[i];
                int b = f->loc.layer_index;
                if (b < 0 || (size_t)b >= r->src->blobs.n)
                    continue;
                struct rmg_buf p = {0};
                rmg_buf_printf(&p, "/%s!%s", r->src->blobs.v[b].name, f->loc.path);
                if (p.data) {
                    free(f->loc.path);
                    f->loc.path = p.data;
                }
                f->loc.layer_index = -1;
            }
        }
        rmg_results_merge(out, &lr);
        rmg_results_clear(&lr);
        st = st2 > st ? st2 : st;
    }
    progress_done(r, set && r->layers_read);
    rmg_image_set_free(set);
    rmg_scanner_free(sc);
    rmg_blobs_free(&r->src->blobs);
    rmg_results_merge(out, r->tmp);
    rmg_results_clear(r->tmp);
    return st;
}

static bool reader_init(struct reader *r, const struct rmg_scan_ctx *ctx,
                        struct rmg_image_source *src, const char *target,
                        struct rmg_results *tmp, struct rmg_pool **pool,
                        struct rmg_scanner **sc)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->tmp = tmp;
    r->src = src;
    src->target = target;
    *pool = rmg_pool_new(ctx->rules, &ctx->opts, ctx->jobs);
    *sc = rmg_scanner_new(ctx->rules, &ctx->opts);
    r->walker = (struct rmg_walker){&ctx->limits, *pool, *sc, tmp, target};
    return *pool && *sc;
}

enum rmg_status rmg_source_image_stream(const struct rmg_scan_ctx *ctx, const char *target,
                                        int fd, const void *head, size_t head_len,
                                        const char *ref, const char *fallback_path,
                                        struct rmg_results *out)
{
    struct rmg_results tmp;
    rmg_results_init(&tmp);
    struct reader r;
    struct rmg_pool *pool;
    struct rmg_scanner *sc;
    struct rmg_image_source src = {.get_json = stream_get_json, .get_layer = stream_get_layer};
    struct fd_stream fs = {.fd = fd, .head = head, .head_len = head_len,
                           .buf = malloc(READ_SIZE)};
    struct archive *a = rmg_layer_reader_new(false);
    bool ok = reader_init(&r, ctx, &src, target, &tmp, &pool, &sc) && a && fs.buf;
    bool opened = false;
    enum rmg_status st = RMG_OK;
    if (!ok) {
        rmg_results_add_error(out, RMG_ENOMEM, target, NULL, "out of memory");
        st = RMG_ENOMEM;
    } else if (archive_read_open(a, &fs, NULL, fd_read, NULL) != ARCHIVE_OK) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "not an image archive: %s",
                              archive_error_string(a));
        st = RMG_EINPUT;
    } else {
        opened = true;
        st = walk_outer(&r, a);
    }
    if (a)
        archive_read_free(a);
    free(fs.buf);
    struct rmg_image_set *set = NULL;
    if (opened) {
        if (!rmg_image_found(&src) && fallback_path && st < RMG_EINPUT) {
            /* A tar, but no image: forget the first pass and scan its files. */
            struct rmg_results discard;
            rmg_results_init(&discard);
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
    return reader_close(&r, pool, sc, set, out, st);
}

/* ---- OCI layout directories ------------------------------------------------------------ */

struct dir_source {
    struct rmg_ondemand_source od; /* first: the callbacks get this pointer */
    const char *dir;
    size_t max_json;
};

static char *dir_path(const struct dir_source *d, const char *name)
{
    struct rmg_buf b = {0};
    rmg_buf_printf(&b, "%s/%s", d->dir, name);
    return b.data;
}

static struct rmg_blob *dir_get_json(struct rmg_image_source *src, const char *name, char *err,
                                     size_t errlen)
{
    struct dir_source *d = (struct dir_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b)
        return b->json ? b : NULL;
    char *path = dir_path(d, name);
    char *data = NULL;
    size_t len = 0;
    bool ok = path && rmg_read_file(path, d->max_json, &data, &len, err, errlen);
    free(path);
    if (!ok)
        return NULL;
    if (!(b = rmg_blobs_add(&src->blobs, name))) {
        free(data);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    b->json = data;
    b->json_len = len;
    return b;
}

static struct rmg_blob *dir_get_layer(struct rmg_image_source *src, const char *name, char *err,
                                      size_t errlen)
{
    struct dir_source *d = (struct dir_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b && b->layer)
        return b;
    char *path = dir_path(d, name);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) : -1;
    free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rmg_fmt(err, errlen, "%s: %s", name, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    b = rmg_source_image_walk_fd(&d->od, name, fd, (uint64_t)st.st_size, err, errlen);
    close(fd);
    return b;
}

enum rmg_status rmg_source_image_oci_dir(const struct rmg_scan_ctx *ctx, const char *target,
                                         const char *dir, const char *ref,
                                         struct rmg_results *out)
{
    struct dir_source d = {.od = {.base = {.get_json = dir_get_json, .get_layer = dir_get_layer}},
                           .dir = dir, .max_json = ctx->limits.max_json};
    return rmg_source_image_ondemand(ctx, target, &d.od, ref, out);
}

/* ---- on-demand sources of other modules ------------------------------------------------- */

struct rmg_source_reader {
    struct reader r;
};

void rmg_source_image_error(struct rmg_ondemand_source *src, enum rmg_status st,
                            const char *path, const char *fmt, ...)
{
    struct reader *r = &src->reader->r;
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(r->tmp, st, r->src->target, path, fmt, ap);
    va_end(ap);
    if (st > r->worst)
        r->worst = st;
}

struct rmg_blob *rmg_source_image_walk_fd(struct rmg_ondemand_source *src, const char *name,
                                          int fd, uint64_t size, char *err, size_t errlen)
{
    struct reader *r = &src->reader->r;
    struct rmg_blobs *blobs = &src->base.blobs;
    struct rmg_blob *b = rmg_blobs_find(blobs, name);
    if (b && b->layer)
        return b;
    if (!b && !(b = rmg_blobs_add(blobs, name))) {
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    int id = b->id;
    b->layer = true;
    b->size = size;
    b->paths = rmg_pathset_new();
    struct archive *a = rmg_layer_reader_new(false);
    if (!b->paths || !a) {
        if (a)
            archive_read_free(a);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    progress(r, name, size);
    if (archive_read_open_fd(a, fd, READ_SIZE) != ARCHIVE_OK)
        reader_error(r, RMG_EINPUT, name, "cannot open layer: %s", archive_error_string(a));
    else
        rmg_layer_walk(&r->walker, a, name, id, size, blobs->v[id].paths);
    archive_read_free(a);
    return &blobs->v[id];
}

enum rmg_status rmg_source_image_ondemand(const struct rmg_scan_ctx *ctx, const char *target,
                                          struct rmg_ondemand_source *src, const char *ref,
                                          struct rmg_results *out)
{
    struct rmg_results tmp;
    rmg_results_init(&tmp);
    struct rmg_source_reader sr;
    struct rmg_pool *pool;
    struct rmg_scanner *sc;
    bool ok = reader_init(&sr.r, ctx, &src->base, target, &tmp, &pool, &sc);
    src->reader = &sr;
    enum rmg_status st = RMG_OK;
    struct rmg_image_set *set = NULL;
    if (!ok) {
        rmg_results_add_error(out, RMG_ENOMEM, target, NULL, "out of memory");
        st = RMG_ENOMEM;
    } else {
        struct rmg_image_select sel = {ref, ctx->platform, ctx->all_platforms};
        st = rmg_image_plan(&src->base, &sel, &tmp, &set);
        if (sr.r.worst > st)
            st = sr.r.worst;
    }
    st = reader_close(&sr.r, pool, sc, set, out, st);
    src->reader = NULL;
    return st;
}
