/* image.c: image archives and OCI layouts as sources (see image.h).
 *
 * DESIGN. An image archive is read in one pass, whatever order its entries come in: an entry
 * whose first bytes are a tar (plain or compressed, by magic bytes) is walked as a layer at
 * once, a JSON document is kept in memory (up to a limit), links are remembered; the image
 * model resolves layers, configs and history at the end. Nothing is written to disk and the
 * input never needs to be seekable, so a pipe from `docker save` works the same as a file.
 * An OCI layout directory is read on demand instead: index.json, then only the manifests,
 * configs and layers the selected images reference.
 *
 * With more than one job, a layer whose bytes can be read on their own (an OCI layout's blob
 * file, a registry blob, the entry of an archive *file* at its offset) is walked by a thread of
 * its own ("layers walked in parallel" below), so several layers inflate at once; everything a
 * layer thread finds is kept apart and taken over in start order when all are done.
 *
 * The layer cache (cache.h) is consulted for every blob whose name is a digest
 * ("blobs/sha256/HEX", "HEX.tar"): an on-demand source does not fetch a cached layer at all
 * (a local directory's blob is hashed first: its name is only a claim), a stream hashes the
 * entry's bytes instead of inflating and scanning them, and a cached result is used only when
 * the bytes match. A layer is stored once its bytes were checked against its digest and its
 * walk had no error or warning, so an entry never describes bytes other than its digest's.
 */
#define _GNU_SOURCE
#include "source/image.h"

#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/gunzip.h"
#include "image/model.h"
#include "common/util.h"

#define HEAD_MAX (64u << 10)
#define READ_SIZE (256u << 10)
/* Layers inflated at once (each holds a read buffer, an inflater and a scanner). */
#define RMG_MAX_PARALLEL_LAYERS 8

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
    EVP_MD_CTX *md; /* optional: hashes what is read from fd */
    uint64_t in;    /* bytes read, the head included (for the bomb ratio) */
};

static la_ssize_t fd_read(struct archive *a, void *ud, const void **out)
{
    struct fd_stream *s = ud;
    if (!s->head_done) {
        s->head_done = true;
        if (s->head_len) {
            s->in += s->head_len;
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
        if (s->md && n > 0)
            EVP_DigestUpdate(s->md, s->buf, (size_t)n);
        s->in += (uint64_t)n;
        *out = s->buf;
        return n;
    }
}

/* Skips forward on a regular file (libarchive asks when it skips an entry of an archive that
 * is not compressed). 0: not skipped, libarchive reads instead. */
static la_int64_t fd_skip(struct archive *a, void *ud, la_int64_t request)
{
    struct fd_stream *s = ud;
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
    size_t want = s->end - s->pos < READ_SIZE ? (size_t)(s->end - s->pos) : READ_SIZE;
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

/* ---- checking a blob's bytes against the digest its name says ------------------------- */

static EVP_MD_CTX *hash_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return md;
}

static void hash_tap(void *md, const void *data, size_t len)
{
    EVP_DigestUpdate(md, data, len);
}

/* The error of a walked layer whose bytes turned out not to have its digest. */
static const char not_its_digest[] = "its bytes do not have the digest its name says: not the "
                                     "layer it claims to be (what it holds is reported, but "
                                     "not trusted)";

/* Ends md (not freed): does it give `digest` ("sha256:HEX")? */
static bool hash_is(EVP_MD_CTX *md, const char *digest)
{
    unsigned char v[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
    if (!EVP_DigestFinal_ex(md, v, &n))
        return false;
    for (unsigned int i = 0; i < n; i++)
        rmg_fmt(hex + 2 * i, 3, "%02x", v[i]);
    return strncmp(digest, "sha256:", 7) == 0 && strcmp(hex, digest + 7) == 0;
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

/* Hashes the rest of fd. False on a read error. */
static bool hash_rest_of_fd(int fd, EVP_MD_CTX *md)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0;
        EVP_DigestUpdate(md, buf, (size_t)n);
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

struct layer_runner;

struct reader {
    const struct rmg_scan_ctx *ctx;
    struct rmg_image_source *src;
    struct rmg_walker walker;
    struct rmg_results *tmp; /* the reader's own errors and streamed findings */
    enum rmg_status worst;
    int layers_read;
    uint64_t layer_bytes;
    const uint64_t *outer_in; /* bytes an archive source has read (its bomb ratio), or NULL */
    size_t json_bytes;        /* JSON documents kept, in all */
    bool json_full;           /* ... up to the limit: no more are */
    bool meta_unread;         /* manifest.json or index.json was too large to keep */
    struct layer_runner *par; /* layers walked in threads of their own, or NULL: in this one */
    bool seekable;            /* a stream's entries can be read again with pread on ... */
    int walker_fd;            /* ... this fd, */
    uint64_t file_size;       /* ... of this size */
};

struct rmg_source_reader {
    struct reader r;
    /* the source's own get_layer (the cache's stands in front of it) */
    struct rmg_blob *(*get_layer)(struct rmg_image_source *src, const char *name, char *err,
                                  size_t errlen);
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
static void progress(struct reader *r, const char *name, uint64_t size, bool cached)
{
    r->layers_read++;
    r->tmp->stats.layers++;
    r->tmp->stats.layers_cached += cached;
    struct rmg_progress *t = r->ctx->tally;
    if (t) {
        t->layers++;
        t->bytes += cached ? 0 : size;
    }
    if (r->ctx->progress == 2) {
        fputs(cached ? "rummage: layer from the cache: " : "rummage: reading layer ", stderr);
        rmg_fputs_safe(stderr, name, strlen(name));
        fputc('\n', stderr);
    } else if (r->ctx->progress == 1 && t) {
        double dt = rmg_now() - t->t0;
        double mib = (double)t->bytes / (1 << 20);
        char of[32] = "";
        if (t->targets > 1)
            rmg_fmt(of, sizeof of, " of %u", t->targets);
        fprintf(stderr, "\r\033[Krummage: image %u%s, layer %llu, %.0f MiB of layers in %.0f s "
                "(%.0f MiB/s)", t->images + 1, of, (unsigned long long)t->layers, mib, dt,
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

/* A layer walked with its bytes hashed into md (all of them, read to the end): it is verified
 * (and may be cached) if they have `digest`, else that is an error of the scan. */
static void settle_digest(struct reader *r, int id, EVP_MD_CTX *md, const char *digest)
{
    if (hash_is(md, digest))
        r->src->blobs.v[id].verified = true;
    else
        reader_error(r, RMG_EINPUT, r->src->blobs.v[id].name, "%s", not_its_digest);
}

/* ---- layers walked in parallel -----------------------------------------------------------
 * A layer whose bytes can be read independently of everything else (a blob file of an OCI
 * layout, an entry of a docker-save file at a known offset) is walked by a thread of its own,
 * up to `max` at once, so several layers inflate at the same time; their files go to the same
 * pool of scanning workers. A task touches nothing of the reader: it has its own scanner, its
 * own results and the layer's path set, and the reader takes its results over (in the order
 * the layers were started, so the output does not depend on timing) when all are done. */

struct layer_task {
    pthread_t thread;
    bool started, done;
    struct layer_runner *run;
    int id;
    char *name;
    int fd;         /* read with pread from off, len bytes */
    bool own_fd;    /* closed when done */
    uint64_t off, len;
    char *digest;   /* with the cache on: the digest its bytes must have, else NULL */
    struct rmg_pathset *paths;
    void (*body)(void *arg); /* an on-demand source's own work for the layer, or NULL */
    void *arg;
    struct rmg_blob view;    /* what rmg_source_image_walk_fd returns to body */
    /* what it found */
    struct rmg_results res;
    enum rmg_status worst;
    bool verified;
};

struct layer_runner {
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
        size_t want = s->end - s->pos < READ_SIZE ? (size_t)(s->end - s->pos) : READ_SIZE;
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
        enum rmg_status st = rmg_layer_walk(&w, a, t->name, t->id, t->len, t->paths);
        t->worst = st > t->worst ? st : t->worst;
        /* With the cache on, the blob's bytes are checked: only then is it stored. */
        if (md && hash_rest(ud)) {
            t->verified = hash_is(md, t->digest);
            if (!t->verified)
                task_error(t, RMG_EINPUT, "%s", not_its_digest);
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
    struct fd_stream *s = ud;
    return hash_rest_of_fd(s->fd, s->md);
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
                                  .buf = malloc(READ_SIZE),
                                  .md = t->digest ? hash_new() : NULL};
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
static struct layer_runner *runner_new(const struct rmg_scan_ctx *ctx, struct rmg_pool *pool,
                                       const char *target)
{
    long jobs = ctx->jobs > 0 ? ctx->jobs : sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs <= 1 || !pool)
        return NULL;
    struct layer_runner *run = calloc(1, sizeof *run);
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

/* Waits until fewer than max layer threads run and takes a place among them. */
static void runner_reserve(struct layer_runner *run)
{
    pthread_mutex_lock(&run->mu);
    while (run->running >= run->max)
        pthread_cond_wait(&run->slot, &run->mu);
    run->running++;
    pthread_mutex_unlock(&run->mu);
}

static void runner_release(struct layer_runner *run)
{
    pthread_mutex_lock(&run->mu);
    run->running--;
    pthread_cond_signal(&run->slot);
    pthread_mutex_unlock(&run->mu);
}

/* With a place taken by runner_reserve: starts walking layer blob `id` from fd's bytes
 * [off, off + len) in a thread of its own (then fd is closed when done if own_fd, and digest
 * is taken over); or, with `body`, runs body(arg) there instead (an on-demand source's work
 * for the layer). False if it cannot (out of memory, no thread; the place is given back): the
 * caller does the work itself and still owns fd, digest and arg. */
static bool runner_start(struct reader *r, int id, int fd, bool own_fd, uint64_t off,
                         uint64_t len, char *digest, void (*body)(void *), void *arg)
{
    struct layer_runner *run = r->par;
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
                             .body = body, .arg = arg};
    t->view = (struct rmg_blob){.name = t->name, .layer = true, .id = id, .size = len,
                                .paths = b->paths};
    rmg_results_init(&t->res);
    if (!t->name) {
        t->digest = NULL;
        task_free(t);
        runner_release(run);
        return false;
    }
    /* Threads that are done are joined now (their results wait for runner_finish). */
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

/* Waits for every layer task and takes their results over, in the order they started. */
static void runner_finish(struct reader *r)
{
    struct layer_runner *run = r->par;
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
            reader_error(r, RMG_ENOMEM, t->name, "out of memory");
        if (t->worst > r->worst)
            r->worst = t->worst;
        task_free(t);
    }
    free(run->v);
    pthread_mutex_destroy(&run->mu);
    pthread_cond_destroy(&run->slot);
    free(run);
}

/* With a place taken by runner_reserve: blob `name` of an on-demand source becomes a layer
 * walked by a thread of its own (runner_start's fd, own_fd, digest, body and arg, from offset
 * 0), and is returned; NULL when it cannot (the place is given back, the caller still owns
 * fd, digest and arg). */
static struct rmg_blob *start_blob(struct reader *r, const char *name, uint64_t size, int fd,
                                   bool own_fd, char *digest, void (*body)(void *), void *arg)
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
    if (!runner_start(r, id, fd, own_fd, 0, size, digest, body, arg)) {
        rmg_pathset_free(blobs->v[id].paths);
        blobs->v[id].paths = NULL;
        return NULL;
    }
    b = &blobs->v[id];
    b->layer = true;
    progress(r, name, size, false);
    return b;
}

/* Blob `id` is a layer whose findings (added to r->tmp) and paths came from the cache. */
static void take_cached(struct reader *r, int id, struct rmg_results *found,
                        struct rmg_pathset *paths)
{
    struct rmg_blob *b = &r->src->blobs.v[id];
    b->layer = b->cached = b->verified = true;
    b->paths = paths;
    progress(r, b->name, b->size, true);
    if (rmg_results_merge(r->tmp, found) != RMG_OK)
        reader_error(r, RMG_ENOMEM, b->name, "out of memory");
    rmg_results_clear(found);
}

/* A digest-named entry whose layer is in the cache: its bytes are hashed, neither inflated nor
 * scanned, and the cached result is used if they match. True when done with (from the cache,
 * or an error); false to walk it. */
static bool entry_from_cache(struct reader *r, struct archive *a, int id, const char *digest,
                             const struct rmg_buf *head)
{
    struct rmg_results found;
    rmg_results_init(&found);
    struct rmg_pathset *paths;
    if (!rmg_cache_load(r->ctx->cache, digest, r->src->target, id, &found, &paths))
        return false;
    const char *name = r->src->blobs.v[id].name;
    EVP_MD_CTX *md = hash_new();
    if (md)
        EVP_DigestUpdate(md, head->data, head->len);
    bool read = md && hash_rest_of_entry(a, md, r->outer_in, &r->ctx->limits);
    bool match = read && hash_is(md, digest);
    EVP_MD_CTX_free(md);
    if (match) {
        take_cached(r, id, &found, paths);
        return true;
    }
    rmg_results_clear(&found);
    rmg_pathset_free(paths);
    if (!md)
        reader_error(r, RMG_ENOMEM, name, "out of memory");
    else if (!read)
        reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
    else
        reader_error(r, RMG_EINPUT, name, "its bytes do not have the digest its name says: "
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
static bool read_entry(struct reader *r, struct archive *a, struct archive_entry *e,
                       const char *name)
{
    struct rmg_blob *b = rmg_blobs_add(&r->src->blobs, name);
    if (!b) {
        reader_error(r, RMG_ENOMEM, name, "out of memory");
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
        reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
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
            reader_error(r, RMG_ENOMEM, name, "out of memory");
            rmg_buf_free(&head);
            return false;
        }
        r->src->blobs.v[id].layer = true;
        r->src->blobs.v[id].paths = paths;
        progress(r, name, r->src->blobs.v[id].size, false);
        if (data_off >= 0 && r->par && same_bytes(r->walker_fd, data_off, &head)) {
            runner_reserve(r->par);
            if (runner_start(r, id, r->walker_fd, false, (uint64_t)data_off,
                             r->src->blobs.v[id].size, digest, NULL, NULL)) {
                archive_read_free(la);
                rmg_buf_free(&head);
                return true; /* walked by a thread of its own: the outer archive skips it */
            }
        }
        /* With the cache on, a digest-named layer's bytes are checked: only then is it stored. */
        EVP_MD_CTX *md = digest ? hash_new() : NULL;
        struct rmg_entry_stream es = {.parent = a, .head = head.data, .head_len = head.len,
                                      .tap = md ? hash_tap : NULL, .tap_ud = md,
                                      .parent_in = r->outer_in, .limits = &r->ctx->limits};
        bool opened = rmg_entry_stream_open(la, &es) == ARCHIVE_OK;
        if (!opened)
            reader_error(r, RMG_EINPUT, name, "cannot open layer: %s", archive_error_string(la));
        else
            rmg_layer_walk(&r->walker, la, name, id, r->src->blobs.v[id].size, paths);
        archive_read_free(la);
        if (md && opened && hash_rest_of_entry(a, md, r->outer_in, &r->ctx->limits))
            settle_digest(r, id, md, digest);
        EVP_MD_CTX_free(md);
    } else if (h && is_json_start(h, head.len)) {
        /* Kept in memory: each one, and all of them together, are bounded. */
        size_t max = r->ctx->limits.max_json, total = r->ctx->limits.max_json_total;
        size_t room = !r->json_full && total > r->json_bytes ? total - r->json_bytes : 0;
        size_t cap = max < room ? max : room;
        while (head.len <= cap && (rc = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
            rmg_buf_append(&head, blk, len);
        if (rc < ARCHIVE_WARN)
            reader_error(r, RMG_EINPUT, name, "cannot read: %s", archive_error_string(a));
        else if (head.len > max)
            reader_error(r, RMG_WARN, name, "JSON document larger than %zu bytes: not read", max);
        else if (head.len > cap && !r->json_full)
            reader_error(r, RMG_WARN, name, "JSON documents of more than %zu bytes in all in "
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
        if (type == AE_IFREG) {
            /* A layer another thread reads at its offset is skipped (the file is seekable and
             * not compressed); otherwise the rest of the entry is read, not skipped: a skip
             * inflates just the same, with nothing counting. */
            if (read_entry(r, a, e, name)) {
                if (archive_read_data_skip(a) < ARCHIVE_WARN) { /* the file shrank meanwhile */
                    reader_error(r, RMG_EINPUT, NULL, "corrupt image archive: %s",
                                 archive_error_string(a));
                    break;
                }
            } else if (rmg_layer_drain(a, r->outer_in, &r->ctx->limits) == 0) {
                reader_error(r, RMG_WARN, name, "archive bomb: the image archive expands more "
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
    } else if (archive_read_open_filename(a, path, READ_SIZE) != ARCHIVE_OK) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", archive_error_string(a));
    } else {
        struct rmg_walker w = {&ctx->limits, pool, sc, out, target};
        struct stat st;
        rmg_layer_walk(&w, a, target, -1, stat(path, &st) == 0 ? (uint64_t)st.st_size : 0, NULL);
    }
    if (a)
        archive_read_free(a);
    if (pool)
        rmg_pool_finish(pool, out);
    rmg_scanner_free(sc);
}

/* Did the walk of blob `name` meet an error or a warning? (The walker's messages name the blob
 * first: "NAME", "NAME:/path", "NAME!inner".) */
static bool blob_has_error(const struct rmg_results *lr, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < lr->n_errors; i++) {
        const char *p = lr->errors[i].path;
        if (p && strncmp(p, name, n) == 0 && (p[n] == '\0' || p[n] == ':' || p[n] == '!'))
            return true;
    }
    return false;
}

/* Stores every layer walked now (not from the cache) whose bytes were checked against its
 * digest and whose walk was clean. */
static void store_layers(const struct reader *r, const struct rmg_results *lr)
{
    for (size_t i = 0; i < r->src->blobs.n; i++) {
        const struct rmg_blob *b = &r->src->blobs.v[i];
        if (!b->layer || b->cached || !b->verified || !b->paths || blob_has_error(lr, b->name))
            continue;
        char *digest = rmg_blob_name_digest(b->name);
        if (digest)
            rmg_cache_store(r->ctx->cache, digest, lr, b->id, b->paths);
        free(digest);
    }
}

/* Ends a source: waits for the pool, resolves the planned images (set may be NULL), moves
 * everything into out and frees what the reader holds. Returns the worst of st and its own. */
static enum rmg_status reader_close(struct reader *r, struct rmg_pool *pool,
                                    struct rmg_scanner *sc, struct rmg_image_set *set,
                                    struct rmg_results *out, enum rmg_status st)
{
    runner_finish(r);
    if (pool) {
        struct rmg_results lr;
        rmg_results_init(&lr);
        enum rmg_status st2 = rmg_pool_finish(pool, &lr);
        rmg_results_merge(&lr, r->tmp);
        if (r->ctx->cache)
            store_layers(r, &lr);
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
    r->walker_fd = -1;
    r->par = runner_new(ctx, *pool, target); /* NULL: one at a time, also if out of memory */
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
    } else if ((r.seekable ? archive_read_open2(a, &fs, NULL, fd_read, fd_skip, NULL)
                           : rmg_archive_open_inflating(a, &fs, fd_read)) != ARCHIVE_OK) {
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
            runner_finish(&r);
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
    int dirfd;                     /* the layout directory */
    size_t max_json;
};

/* A file of the layout, opened without following a symbolic link anywhere below the layout
 * directory: a layout from elsewhere must not make rummage read the host's files. -1 with a
 * message in err. */
static int dir_open(const struct dir_source *d, const char *name, char *err, size_t errlen)
{
    int fd = rmg_open_beneath(d->dirfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        rmg_fmt(err, errlen, "%s", errno == ELOOP || errno == ENOTDIR
                ? "a symbolic link (not followed in an OCI layout)" : strerror(errno));
    return fd;
}

static struct rmg_blob *dir_get_json(struct rmg_image_source *src, const char *name, char *err,
                                     size_t errlen)
{
    struct dir_source *d = (struct dir_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b && !b->json)
        rmg_fmt(err, errlen, "not a JSON document");
    if (b)
        return b->json ? b : NULL;
    char *data = NULL;
    size_t len = 0;
    int fd = dir_open(d, name, err, errlen);
    bool ok = fd >= 0 && rmg_read_fd(fd, name, d->max_json, &data, &len, err, errlen);
    struct stat st;
    if (!ok && fstatat(d->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        rmg_blobs_add(&src->blobs, name); /* there but unusable (too large, not a file): known */
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
    int fd = dir_open(d, name, err, errlen);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) {
            rmg_fmt(err, errlen, "not a regular file");
            close(fd);
        }
        return NULL;
    }
    struct reader *r = &d->od.reader->r;
    if (r->par) {
        /* Walked by a thread of its own (its bytes checked there, with the cache on). */
        char *digest = r->ctx->cache ? rmg_blob_name_digest(name) : NULL;
        runner_reserve(r->par);
        if ((b = start_blob(r, name, (uint64_t)st.st_size, fd, true, digest, NULL, NULL)))
            return b;
        free(digest);
    }
    b = rmg_source_image_walk_fd(&d->od, name, fd, (uint64_t)st.st_size, true, err, errlen);
    close(fd);
    return b;
}

/* A blob of a directory is only named by its digest: its bytes are checked before its cached
 * result is used. */
static bool dir_verify(struct rmg_ondemand_source *src, const char *name, const char *digest)
{
    struct dir_source *d = (struct dir_source *)src;
    char err[256];
    int fd = dir_open(d, name, err, sizeof err);
    struct stat st;
    EVP_MD_CTX *md = hash_new();
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && md &&
              hash_rest_of_fd(fd, md) && hash_is(md, digest);
    EVP_MD_CTX_free(md);
    if (fd >= 0)
        close(fd);
    return ok;
}

enum rmg_status rmg_source_image_oci_dir(const struct rmg_scan_ctx *ctx, const char *target,
                                         const char *dir, const char *ref,
                                         struct rmg_results *out)
{
    struct dir_source d = {.od = {.base = {.get_json = dir_get_json, .get_layer = dir_get_layer},
                                  .verify = dir_verify},
                           .max_json = ctx->limits.max_json};
    d.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.dirfd < 0) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s: %s", dir, strerror(errno));
        return RMG_EINPUT;
    }
    enum rmg_status st = rmg_source_image_ondemand(ctx, target, &d.od, ref, out);
    close(d.dirfd);
    return st;
}

/* ---- on-demand sources of other modules ------------------------------------------------- */

void rmg_source_image_error(struct rmg_ondemand_source *src, enum rmg_status st,
                            const char *path, const char *fmt, ...)
{
    struct reader *r = &src->reader->r;
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
    struct layer_runner *run = src->reader ? src->reader->r.par : NULL;
    if (run)
        runner_reserve(run);
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
    return start_blob(&src->reader->r, name, size, -1, false, NULL, body, arg);
}

struct rmg_blob *rmg_source_image_walk_fd(struct rmg_ondemand_source *src, const char *name,
                                          int fd, uint64_t size, bool check, char *err,
                                          size_t errlen)
{
    struct reader *r = &src->reader->r;
    struct layer_task *t = tl_task;
    if (t) {
        /* In the layer's own thread: the walk is the task's (the blobs are not touched). */
        char *digest = check && r->ctx->cache ? rmg_blob_name_digest(name) : NULL;
        struct fd_stream fs = {.fd = fd, .buf = malloc(READ_SIZE),
                               .md = digest ? hash_new() : NULL};
        free(t->digest);
        t->digest = digest;
        t->len = size;
        if (!fs.buf || (digest && !fs.md))
            task_error(t, RMG_ENOMEM, "out of memory");
        else
            task_walk_stream(t, &fs, fd_read, fs.md, fd_hash_rest);
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
    struct fd_stream fs = {.fd = fd, .buf = malloc(READ_SIZE), .md = digest ? hash_new() : NULL};
    if (!b->paths || !a || !fs.buf || (digest && !fs.md)) {
        if (a)
            archive_read_free(a);
        free(fs.buf);
        free(digest);
        EVP_MD_CTX_free(fs.md);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    progress(r, name, size, false);
    bool opened = rmg_archive_open_inflating(a, &fs, fd_read) == ARCHIVE_OK;
    if (!opened)
        reader_error(r, RMG_EINPUT, name, "cannot open layer: %s", archive_error_string(a));
    else
        rmg_layer_walk(&r->walker, a, name, id, size, blobs->v[id].paths);
    archive_read_free(a);
    /* With the cache on, a digest-named blob's bytes are checked: only then is it stored. */
    if (fs.md && opened && hash_rest_of_fd(fd, fs.md))
        settle_digest(r, id, fs.md, digest);
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
    if (digest && rmg_cache_load(sr->r.ctx->cache, digest, base->target, -1, &found, &paths) &&
        (!src->verify || src->verify(src, name, digest)) &&
        (b || (b = rmg_blobs_add(&base->blobs, name)))) {
        int id = b->id;
        for (size_t i = 0; i < found.n_findings; i++)
            found.findings[i].loc.layer_index = id;
        take_cached(&sr->r, id, &found, paths);
        free(digest);
        return &base->blobs.v[id];
    }
    rmg_results_clear(&found);
    rmg_pathset_free(paths);
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
    bool ok = reader_init(&sr.r, ctx, &src->base, target, &tmp, &pool, &sc);
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
    st = reader_close(&sr.r, pool, sc, set, out, st);
    src->base.get_layer = sr.get_layer;
    src->reader = NULL;
    return st;
}
