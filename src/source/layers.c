/* layers.c: the layers of an image source's scan: the layer runner, which walks several
 * layers at once in threads of their own (layers.h), the reader's start and end around it, and
 * the on-demand source API of image.h (rmg_source_image_ondemand and what a source's get_layer
 * calls).
 *
 * DESIGN. Layers walked in parallel: with more than one job, a layer whose bytes can be read
 * independently of everything else (a blob file of an OCI layout, a registry blob, an entry of
 * a docker-save or OCI archive *file* at a known offset, re-read with pread) is walked by a
 * thread of its own, up to `max` at once, so several layers inflate at the same time; their
 * files go to the same pool of scanning workers. A task touches nothing of the reader: it has
 * its own scanner, its own results and the layer's path set, and the reader takes its results
 * over (in the order the layers were started, so the output does not depend on timing) when
 * all are done. An on-demand source's get_layer may run its own work for a layer in such a
 * thread (rmg_source_image_start_layer): what that work records goes to its task, found
 * through a thread-local pointer.
 */
#define _GNU_SOURCE
#include "source/layers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/gunzip.h"
#include "common/util.h"

/* Layers inflated at once (each holds a read buffer, an inflater and a scanner). */
#define RMG_MAX_PARALLEL_LAYERS 8

/* ---- reading a byte range of a file with pread (several readers share one fd) ---------- */

struct range_stream {
    int fd;
    uint64_t pos, end;
    unsigned char *buf;
    EVP_MD_CTX *md; /* optional: hashes what is read */
};

static la_ssize_t range_read(struct archive *a, void *ud, const void **out)
{
    struct range_stream *s = ud;
    size_t want = s->end - s->pos < RMG_READ_SIZE ? (size_t)(s->end - s->pos) : RMG_READ_SIZE;
    if (want == 0)
        return 0;
    for (;;) {
        ssize_t n = pread(s->fd, s->buf, want, (off_t)s->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            archive_set_error(a, errno, "read: %s", strerror(errno));
            return -1;
        }
        if (n == 0) /* the file ends early: the layer is cut short, as in one pass */
            return 0;
        if (s->md)
            EVP_DigestUpdate(s->md, s->buf, (size_t)n);
        s->pos += (uint64_t)n;
        *out = s->buf;
        return n;
    }
}

/* ---- layers walked in parallel ----------------------------------------------------------- */

struct layer_task {
    pthread_t thread;
    bool started, done;
    struct rmg_layer_runner *run;
    int id;
    char *name;
    int fd;         /* read with pread from off, len bytes */
    bool own_fd;    /* closed when done */
    uint64_t off, len;
    char *digest;   /* with the cache on: the digest its bytes must have, else NULL */
    struct rmg_pathset *paths;
    struct rmg_layer_prov *prov;
    void (*body)(void *arg); /* an on-demand source's own work for the layer, or NULL */
    void *arg;
    struct rmg_blob view;    /* what rmg_source_image_walk_fd returns to body */
    /* what it found */
    struct rmg_results res;
    enum rmg_status worst;
    bool verified;
};

struct rmg_layer_runner {
    const struct rmg_scan_ctx *ctx;
    struct rmg_pool *pool;
    const char *target;
    pthread_mutex_t mu;
    pthread_cond_t slot;
    int running, max;
    struct layer_task **v;
    size_t n, cap;
};

static void task_error(struct layer_task *t, enum rmg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void task_error(struct layer_task *t, enum rmg_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(&t->res, st, t->run->target, t->name, fmt, ap);
    va_end(ap);
    if (st > t->worst)
        t->worst = st;
}

/* The rest of a range, hashed. False on a read error. */
static bool range_drain(struct range_stream *s)
{
    while (s->pos < s->end) {
        size_t want = s->end - s->pos < RMG_READ_SIZE ? (size_t)(s->end - s->pos) : RMG_READ_SIZE;
        ssize_t n = pread(s->fd, s->buf, want, (off_t)s->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        EVP_DigestUpdate(s->md, s->buf, (size_t)n);
        s->pos += (uint64_t)n;
    }
    return true;
}

/* Walks the layer that read_cb(ud) gives into t. With md (t->digest set), hash_rest reads
 * what the walk left so it is hashed too, and the bytes are checked against t->digest. */
static void task_walk_stream(struct layer_task *t, void *ud, archive_read_callback *read_cb,
                             EVP_MD_CTX *md, bool (*hash_rest)(void *ud))
{
    const struct rmg_scan_ctx *ctx = t->run->ctx;
    struct rmg_scanner *sc = rmg_scanner_new(ctx->rules, &ctx->opts);
    struct archive *a = rmg_layer_reader_new(false);
    if (!sc || !a) {
        task_error(t, RMG_ENOMEM, "out of memory");
    } else if (rmg_archive_open_inflating(a, ud, read_cb) != ARCHIVE_OK) {
        task_error(t, RMG_EINPUT, "cannot open layer: %s", archive_error_string(a));
    } else {
        struct rmg_walker w = {&ctx->limits, t->run->pool, sc, &t->res, t->run->target};
        enum rmg_status st = rmg_layer_walk(&w, a, t->name, t->id, t->len, t->paths, t->prov);
        t->worst = st > t->worst ? st : t->worst;
        /* With the cache on, the blob's bytes are checked: only then is it stored. */
        if (md && hash_rest(ud)) {
            t->verified = rmg_hash_is(md, t->digest);
            if (!t->verified)
                task_error(t, RMG_EINPUT, "%s", rmg_not_its_digest);
        }
    }
    if (a)
        archive_read_free(a);
    rmg_scanner_free(sc);
}

static bool range_hash_rest(void *ud)
{
    return range_drain(ud);
}

static bool fd_hash_rest(void *ud)
{
    struct rmg_fd_stream *s = ud;
    return rmg_hash_rest_of_fd(s->fd, s->md);
}

/* The task of the running thread, if it is one (rmg_source_image_walk_fd and
 * rmg_source_image_error of an on-demand source's layer body record into it). */
static __thread struct layer_task *tl_task;

static void *task_main(void *arg)
{
    struct layer_task *t = arg;
    tl_task = t;
    if (t->body) {
        t->body(t->arg);
    } else {
        struct range_stream rs = {.fd = t->fd, .pos = t->off, .end = t->off + t->len,
                                  .buf = malloc(RMG_READ_SIZE),
                                  .md = t->digest ? rmg_hash_new() : NULL};
        if (!rs.buf || (t->digest && !rs.md))
            task_error(t, RMG_ENOMEM, "out of memory");
        else
            task_walk_stream(t, &rs, range_read, rs.md, range_hash_rest);
        EVP_MD_CTX_free(rs.md);
        free(rs.buf);
    }
    tl_task = NULL;
    if (t->own_fd)
        close(t->fd);
    t->own_fd = false;
    pthread_mutex_lock(&t->run->mu);
    t->done = true;
    t->run->running--;
    pthread_cond_signal(&t->run->slot);
    pthread_mutex_unlock(&t->run->mu);
    return NULL;
}

/* A runner when the scan has more than one job, else NULL (layers are walked in the reader's
 * thread). */
static struct rmg_layer_runner *runner_new(const struct rmg_scan_ctx *ctx,
                                           struct rmg_pool *pool, const char *target)
{
    long jobs = ctx->jobs > 0 ? ctx->jobs : sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs <= 1 || !pool)
        return NULL;
    struct rmg_layer_runner *run = calloc(1, sizeof *run);
    if (!run)
        return NULL;
    run->ctx = ctx;
    run->pool = pool;
    run->target = target;
    run->max = jobs < RMG_MAX_PARALLEL_LAYERS ? (int)jobs : RMG_MAX_PARALLEL_LAYERS;
    pthread_mutex_init(&run->mu, NULL);
    pthread_cond_init(&run->slot, NULL);
    return run;
}

static void task_free(struct layer_task *t)
{
    if (t->own_fd)
        close(t->fd);
    rmg_results_clear(&t->res);
    free(t->name);
    free(t->digest);
    free(t);
}

void rmg_layers_reserve(struct rmg_layer_runner *run)
{
    pthread_mutex_lock(&run->mu);
    while (run->running >= run->max)
        pthread_cond_wait(&run->slot, &run->mu);
    run->running++;
    pthread_mutex_unlock(&run->mu);
}

static void runner_release(struct rmg_layer_runner *run)
{
    pthread_mutex_lock(&run->mu);
    run->running--;
    pthread_cond_signal(&run->slot);
    pthread_mutex_unlock(&run->mu);
}

bool rmg_layers_start(struct rmg_reader *r, int id, int fd, bool own_fd, uint64_t off,
                      uint64_t len, char *digest, void (*body)(void *), void *arg)
{
    struct rmg_layer_runner *run = r->par;
    struct rmg_blob *b = &r->src->blobs.v[id];
    struct layer_task *t = calloc(1, sizeof *t);
    if (t && run->n == run->cap) {
        size_t cap = run->cap ? 2 * run->cap : 16;
        struct layer_task **v = realloc(run->v, cap * sizeof *v);
        if (v) {
            run->v = v;
            run->cap = cap;
        }
    }
    if (!t || run->n == run->cap) {
        free(t);
        runner_release(run);
        return false;
    }
    *t = (struct layer_task){.run = run, .id = id, .name = rmg_strdup(b->name), .fd = fd,
                             .off = off, .len = len, .digest = digest, .paths = b->paths,
                             .prov = rmg_blob_prov(b), .body = body, .arg = arg};
    t->view = (struct rmg_blob){.name = t->name, .layer = true, .id = id, .size = len,
                                .paths = b->paths, .prov = t->prov};
    rmg_results_init(&t->res);
    if (!t->name) {
        t->digest = NULL;
        task_free(t);
        runner_release(run);
        return false;
    }
    /* Threads that are done are joined now (their results wait for rmg_layers_finish). */
    for (size_t i = 0; i < run->n; i++) {
        struct layer_task *u = run->v[i];
        pthread_mutex_lock(&run->mu);
        bool done = u->done;
        pthread_mutex_unlock(&run->mu);
        if (u->started && done) {
            pthread_join(u->thread, NULL);
            u->started = false;
        }
    }
    t->own_fd = own_fd;
    if (pthread_create(&t->thread, NULL, task_main, t) != 0) {
        runner_release(run);
        t->digest = NULL;
        t->own_fd = false;
        task_free(t);
        return false;
    }
    t->started = true;
    run->v[run->n++] = t;
    return true;
}

void rmg_layers_finish(struct rmg_reader *r)
{
    struct rmg_layer_runner *run = r->par;
    if (!run)
        return;
    r->par = NULL;
    for (size_t i = 0; i < run->n; i++) {
        struct layer_task *t = run->v[i];
        if (t->started)
            pthread_join(t->thread, NULL);
        if (t->verified)
            r->src->blobs.v[t->id].verified = true;
        if (rmg_results_merge(r->tmp, &t->res) != RMG_OK)
            rmg_reader_error(r, RMG_ENOMEM, t->name, "out of memory");
        if (t->worst > r->worst)
            r->worst = t->worst;
        task_free(t);
    }
    free(run->v);
    pthread_mutex_destroy(&run->mu);
    pthread_cond_destroy(&run->slot);
    free(run);
}

struct rmg_blob *rmg_layers_start_blob(struct rmg_reader *r, const char *name, uint64_t size,
                                       int fd, bool own_fd, char *digest,
                                       void (*body)(void *), void *arg)
{
    struct rmg_blobs *blobs = &r->src->blobs;
    struct rmg_blob *b = rmg_blobs_find(blobs, name);
    if ((b && b->layer) || (!b && !(b = rmg_blobs_add(blobs, name))) ||
        !(b->paths = rmg_pathset_new())) {
        runner_release(r->par);
        return NULL;
    }
    int id = b->id;
    b->size = size;
    if (!rmg_layers_start(r, id, fd, own_fd, 0, size, digest, body, arg)) {
        rmg_pathset_free(blobs->v[id].paths);
        blobs->v[id].paths = NULL;
        return NULL;
    }
    b = &blobs->v[id];
    b->layer = true;
    rmg_reader_progress(r, name, size, false);
    return b;
}

/* ---- the reader's start and end ---------------------------------------------------------- */

enum rmg_status rmg_reader_close(struct rmg_reader *r, struct rmg_pool *pool,
                                 struct rmg_scanner *sc, struct rmg_image_set *set,
                                 struct rmg_results *out, enum rmg_status st)
{
    rmg_layers_finish(r);
    if (pool) {
        struct rmg_results lr;
        rmg_results_init(&lr);
        enum rmg_status st2 = rmg_pool_finish(pool, &lr);
        rmg_results_merge(&lr, r->tmp);
        if (r->ctx->cache)
            rmg_reader_store_layers(r, &lr);
        if (set) {
            struct rmg_resolve_opts ro = {r->ctx->base, r->ctx->collect_base};
            enum rmg_status st3 = rmg_image_resolve(set, r->src, sc, &lr, &ro, out);
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
                    f->loc.outer_len = 0; /* no layer: nothing for provenance to look up */
                }
                f->loc.layer_index = -1;
            }
        }
        rmg_results_merge(out, &lr);
        rmg_results_clear(&lr);
        st = st2 > st ? st2 : st;
    }
    rmg_reader_progress_done(r, set && r->layers_read);
    rmg_image_set_free(set);
    rmg_scanner_free(sc);
    rmg_blobs_free(&r->src->blobs);
    rmg_results_merge(out, r->tmp);
    rmg_results_clear(r->tmp);
    return st;
}

bool rmg_reader_init(struct rmg_reader *r, const struct rmg_scan_ctx *ctx,
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
    r->walker_fd = -1;
    r->par = runner_new(ctx, *pool, target); /* NULL: one at a time, also if out of memory */
    return *pool && *sc;
}

/* ---- on-demand sources of other modules ------------------------------------------------- */

void rmg_source_image_error(struct rmg_ondemand_source *src, enum rmg_status st,
                            const char *path, const char *fmt, ...)
{
    struct rmg_reader *r = &src->reader->r;
    struct layer_task *t = tl_task;
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(t ? &t->res : r->tmp, st, t ? t->run->target : r->src->target, path,
                           fmt, ap);
    va_end(ap);
    enum rmg_status *worst = t ? &t->worst : &r->worst;
    if (st > *worst)
        *worst = st;
}

void rmg_source_image_verified(struct rmg_ondemand_source *src, const char *name)
{
    struct rmg_blob *b;
    if (tl_task)
        tl_task->verified = true;
    else if ((b = rmg_blobs_find(&src->base.blobs, name)))
        b->verified = true;
}

bool rmg_source_image_reserve(struct rmg_ondemand_source *src)
{
    struct rmg_layer_runner *run = src->reader ? src->reader->r.par : NULL;
    if (run)
        rmg_layers_reserve(run);
    return run != NULL;
}

void rmg_source_image_unreserve(struct rmg_ondemand_source *src)
{
    runner_release(src->reader->r.par);
}

struct rmg_blob *rmg_source_image_start_layer(struct rmg_ondemand_source *src,
                                              const char *name, uint64_t size,
                                              void (*body)(void *arg), void *arg)
{
    return rmg_layers_start_blob(&src->reader->r, name, size, -1, false, NULL, body, arg);
}

struct rmg_blob *rmg_source_image_walk_fd(struct rmg_ondemand_source *src, const char *name,
                                          int fd, uint64_t size, bool check, char *err,
                                          size_t errlen)
{
    struct rmg_reader *r = &src->reader->r;
    struct layer_task *t = tl_task;
    if (t) {
        /* In the layer's own thread: the walk is the task's (the blobs are not touched). */
        char *digest = check && r->ctx->cache ? rmg_blob_name_digest(name) : NULL;
        struct rmg_fd_stream fs = {.fd = fd, .buf = malloc(RMG_READ_SIZE),
                                   .md = digest ? rmg_hash_new() : NULL};
        free(t->digest);
        t->digest = digest;
        t->len = size;
        if (!fs.buf || (digest && !fs.md))
            task_error(t, RMG_ENOMEM, "out of memory");
        else
            task_walk_stream(t, &fs, rmg_fd_read, fs.md, fd_hash_rest);
        EVP_MD_CTX_free(fs.md);
        free(fs.buf);
        return &t->view;
    }
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
    char *digest = check && r->ctx->cache ? rmg_blob_name_digest(name) : NULL;
    struct rmg_fd_stream fs = {.fd = fd, .buf = malloc(RMG_READ_SIZE),
                               .md = digest ? rmg_hash_new() : NULL};
    if (!b->paths || !a || !fs.buf || (digest && !fs.md)) {
        if (a)
            archive_read_free(a);
        free(fs.buf);
        free(digest);
        EVP_MD_CTX_free(fs.md);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    rmg_reader_progress(r, name, size, false);
    bool opened = rmg_archive_open_inflating(a, &fs, rmg_fd_read) == ARCHIVE_OK;
    if (!opened)
        rmg_reader_error(r, RMG_EINPUT, name, "cannot open layer: %s", archive_error_string(a));
    else
        rmg_layer_walk(&r->walker, a, name, id, size, blobs->v[id].paths,
                       rmg_blob_prov(&blobs->v[id]));
    archive_read_free(a);
    /* With the cache on, a digest-named blob's bytes are checked: only then is it stored. */
    if (fs.md && opened && rmg_hash_rest_of_fd(fd, fs.md))
        rmg_reader_settle_digest(r, id, fs.md, digest);
    EVP_MD_CTX_free(fs.md);
    free(fs.buf);
    free(digest);
    return &blobs->v[id];
}

/* get_layer of an on-demand source with the cache on: a cached layer is neither fetched nor
 * walked (a source with `verify` checks the blob's bytes first); the rest goes to the source's
 * own get_layer. */
static struct rmg_blob *cached_get_layer(struct rmg_image_source *base, const char *name,
                                         char *err, size_t errlen)
{
    struct rmg_ondemand_source *src = (struct rmg_ondemand_source *)base;
    struct rmg_source_reader *sr = src->reader;
    struct rmg_blob *b = rmg_blobs_find(&base->blobs, name);
    if (b && b->layer)
        return b;
    char *digest = rmg_blob_name_digest(name);
    struct rmg_results found;
    rmg_results_init(&found);
    struct rmg_pathset *paths = NULL;
    struct rmg_layer_prov *prov = NULL;
    if (digest &&
        rmg_cache_load(sr->r.ctx->cache, digest, base->target, -1, &found, &paths, &prov) &&
        (!src->verify || src->verify(src, name, digest)) &&
        (b || (b = rmg_blobs_add(&base->blobs, name)))) {
        int id = b->id;
        for (size_t i = 0; i < found.n_findings; i++)
            found.findings[i].loc.layer_index = id;
        rmg_reader_take_cached(&sr->r, id, &found, paths, prov);
        free(digest);
        return &base->blobs.v[id];
    }
    rmg_results_clear(&found);
    rmg_pathset_free(paths);
    rmg_layer_prov_clear(prov);
    free(prov);
    free(digest);
    return sr->get_layer(base, name, err, errlen);
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
    bool ok = rmg_reader_init(&sr.r, ctx, &src->base, target, &tmp, &pool, &sc);
    src->reader = &sr;
    sr.get_layer = src->base.get_layer;
    if (ctx->cache)
        src->base.get_layer = cached_get_layer;
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
    st = rmg_reader_close(&sr.r, pool, sc, set, out, st);
    src->base.get_layer = sr.get_layer;
    src->reader = NULL;
    return st;
}
