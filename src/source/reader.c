/* reader.c: the state of one image source's scan and the tools its layer walks share (see
 * reader.h): the fd stream, digest checks, errors, progress, the layer cache's hits and stores.
 *
 * DESIGN. The layer cache (cache.h) is consulted for every blob whose name is a digest
 * ("blobs/sha256/HEX", "HEX.tar"): an on-demand source does not fetch a cached layer at all
 * (a local directory's blob is hashed first: its name is only a claim), a stream hashes the
 * entry's bytes instead of inflating and scanning them, and a cached result is used only when
 * the bytes match. A layer is stored once its bytes were checked against its digest and its
 * walk had no error or warning, so an entry never describes bytes other than its digest's.
 */
#define _GNU_SOURCE
#include "source/reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/* ---- reading a file descriptor, with what was already read first -------------------- */

la_ssize_t rmg_fd_read(struct archive *a, void *ud, const void **out)
{
    struct rmg_fd_stream *s = ud;
    if (!s->head_done) {
        s->head_done = true;
        if (s->head_len) {
            s->in += s->head_len;
            *out = s->head;
            return (la_ssize_t)s->head_len;
        }
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf, RMG_READ_SIZE);
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

/* ---- checking a blob's bytes against the digest its name says ------------------------- */

EVP_MD_CTX *rmg_hash_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return md;
}

const char rmg_not_its_digest[] = "its bytes do not have the digest its name says: not the "
                                  "layer it claims to be (what it holds is reported, but "
                                  "not trusted)";

bool rmg_hash_is(EVP_MD_CTX *md, const char *digest)
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

bool rmg_hash_rest_of_fd(int fd, EVP_MD_CTX *md)
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

/* ---- the reader's own records ------------------------------------------------------------ */

void rmg_reader_error(struct rmg_reader *r, enum rmg_status st, const char *path,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(r->tmp, st, r->src->target, path, fmt, ap);
    va_end(ap);
    if (st > r->worst)
        r->worst = st;
}

void rmg_reader_progress(struct rmg_reader *r, const char *name, uint64_t size, bool cached)
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

void rmg_reader_progress_done(const struct rmg_reader *r, bool image)
{
    if (image && r->ctx->tally)
        r->ctx->tally->images++;
    if (r->ctx->progress == 1 && r->layers_read)
        fputs("\r\033[K", stderr);
}

void rmg_reader_settle_digest(struct rmg_reader *r, int id, EVP_MD_CTX *md,
                              const char *digest)
{
    if (rmg_hash_is(md, digest))
        r->src->blobs.v[id].verified = true;
    else
        rmg_reader_error(r, RMG_EINPUT, r->src->blobs.v[id].name, "%s", rmg_not_its_digest);
}

void rmg_reader_take_cached(struct rmg_reader *r, int id, struct rmg_results *found,
                            struct rmg_pathset *paths, struct rmg_layer_prov *prov)
{
    struct rmg_blob *b = &r->src->blobs.v[id];
    b->layer = b->cached = b->verified = true;
    b->paths = paths;
    rmg_layer_prov_clear(b->prov);
    free(b->prov);
    b->prov = prov;
    rmg_reader_progress(r, b->name, b->size, true);
    if (rmg_results_merge(r->tmp, found) != RMG_OK)
        rmg_reader_error(r, RMG_ENOMEM, b->name, "out of memory");
    rmg_results_clear(found);
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

void rmg_reader_store_layers(const struct rmg_reader *r, const struct rmg_results *lr)
{
    for (size_t i = 0; i < r->src->blobs.n; i++) {
        const struct rmg_blob *b = &r->src->blobs.v[i];
        if (!b->layer || b->cached || !b->verified || !b->paths || blob_has_error(lr, b->name))
            continue;
        char *digest = rmg_blob_name_digest(b->name);
        if (digest)
            rmg_cache_store(r->ctx->cache, digest, lr, b->id, b->paths, b->prov);
        free(digest);
    }
}
