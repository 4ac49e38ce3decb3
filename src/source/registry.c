/* registry.c: images in a container registry, read through the Registry HTTP API v2
 * (see registry.h).
 *
 * DESIGN. The registry is an on-demand image source (source/image.h) like an OCI layout
 * directory: the manifest the reference names is fetched first (GET /v2/REPO/manifests/REF,
 * Accept listing the OCI and Docker schema 2 types, the type taken from Content-Type), and
 * becomes the one descriptor of a synthetic "index.json"; the image model then asks for
 * "blobs/ALG/HEX" names, which are fetched from /manifests/ (digests that an index lists) or
 * /blobs/ (configs, layers). No JSON is used before its digest is checked. A layer is fetched
 * by a thread running libcurl that writes into a socket pair, hashing what it sends, while this
 * thread walks the other end (source/daemon.c's scheme): nothing touches the disk, memory is
 * bounded by the socket buffer, and after the walk the rest of the stream is drained so the
 * digest covers every byte. A digest mismatch is an input error naming the layer; what the
 * walk found is still reported, under that error.
 *
 * Every request goes through a session (source/registry_session.h: the libcurl handle, TLS,
 * retries, authentication); a layer transferred beside others has a clone of its own. */
#define _GNU_SOURCE
#include "source/registry.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "source/image.h"
#include "source/registry_ref.h"
#include "source/registry_session.h"
#include "common/util.h"

/* ---- the image source ------------------------------------------------------------------- */

struct reg_source {
    struct rmg_ondemand_source base; /* first: the callbacks get this pointer */
    struct rmg_registry_session *s;
    char **manifests; /* digests an index lists: fetched from /manifests/ */
    size_t n_manifests, cap_manifests;
};

static bool is_manifest(const struct reg_source *r, const char *digest)
{
    for (size_t i = 0; i < r->n_manifests; i++)
        if (strcmp(r->manifests[i], digest) == 0)
            return true;
    return false;
}

/* Remembers the digests an index lists (they are manifests, fetched as such). */
static void note_manifests(struct reg_source *r, const char *json, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
        const cJSON *dg = cJSON_GetObjectItemCaseSensitive(d, "digest");
        if (!cJSON_IsString(dg) || is_manifest(r, dg->valuestring))
            continue;
        if (r->n_manifests == r->cap_manifests) {
            size_t cap = r->cap_manifests ? r->cap_manifests * 2 : 8;
            char **v = realloc(r->manifests, cap * sizeof *v);
            if (!v)
                break;
            r->manifests = v;
            r->cap_manifests = cap;
        }
        if ((r->manifests[r->n_manifests] = rmg_strdup(dg->valuestring)))
            r->n_manifests++;
    }
    cJSON_Delete(j);
}

/* "blobs/ALG/HEX" -> "ALG:HEX"; false for any other name. */
static bool name_digest(const char *name, char *out, size_t cap)
{
    if (strncmp(name, "blobs/", 6) != 0)
        return false;
    const char *alg = name + 6, *slash = strchr(alg, '/');
    if (!slash || slash == alg || strchr(slash + 1, '/'))
        return false;
    rmg_fmt(out, cap, "%.*s:%s", (int)(slash - alg), alg, slash + 1);
    return rmg_registry_digest_md(out) != NULL;
}

/* The hex digest of data with md. */
static void hex_digest(const EVP_MD *md, const void *data, size_t len, char *out, size_t cap)
{
    unsigned char v[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (!md || !EVP_Digest(data, len, v, &n, md, NULL))
        return;
    for (unsigned int i = 0; i < n && 2 * i + 2 < cap; i++)
        rmg_fmt(out + 2 * i, 3, "%02x", v[i]);
}

/* The hex digest of data with the algorithm of `digest` ("ALG:HEX"). */
static void digest_of(const char *digest, const void *data, size_t len, char *out, size_t cap)
{
    hex_digest(rmg_registry_digest_md(digest), data, len, out, cap);
}

static bool digest_matches(const char *digest, const void *data, size_t len)
{
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    digest_of(digest, data, len, hex, sizeof hex);
    const char *colon = strchr(digest, ':');
    return hex[0] && colon && strcmp(colon + 1, hex) == 0;
}

/* Keeps a JSON document (taking ownership of body) as blob "blobs/ALG/HEX". */
static struct rmg_blob *keep_json(struct reg_source *r, const char *name, struct rmg_buf *body,
                                  char *err, size_t errlen)
{
    struct rmg_blob *b = rmg_blobs_add(&r->base.base.blobs, name);
    if (!b) {
        rmg_fmt(err, errlen, "out of memory");
        rmg_buf_free(body);
        return NULL;
    }
    b->json = body->data ? body->data : rmg_strdup("");
    b->json_len = body->len;
    b->size = body->len;
    memset(body, 0, sizeof *body);
    note_manifests(r, b->json, b->json_len);
    return b;
}

static bool schema1(const char *content_type)
{
    return strncmp(content_type, RMG_MT_DOCKER_V1, strlen(RMG_MT_DOCKER_V1)) == 0;
}

static struct rmg_blob *reg_get_json(struct rmg_image_source *src, const char *name, char *err,
                                     size_t errlen)
{
    struct reg_source *r = (struct reg_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b) {
        if (!b->json)
            rmg_fmt(err, errlen, "not a JSON document");
        return b->json ? b : NULL;
    }
    char digest[200];
    if (!name_digest(name, digest, sizeof digest)) {
        rmg_fmt(err, errlen, "not in a registry");
        return NULL;
    }
    bool manifest = is_manifest(r, digest);
    char what[300];
    rmg_fmt(what, sizeof what, "%s/%s", manifest ? "manifests" : "blobs", digest);
    struct rmg_registry_response resp;
    memset(&resp, 0, sizeof resp);
    enum rmg_status st = rmg_registry_session_fetch(r->s, what, manifest, NULL, NULL,
                                                    r->s->ctx->limits.max_json, &resp, err,
                                                    errlen);
    if (st != RMG_OK) {
        rmg_buf_free(&resp.body);
        return NULL;
    }
    if (manifest && schema1(resp.content_type)) {
        rmg_fmt(err, errlen, "a Docker schema 1 manifest (%s): not supported",
                resp.content_type);
        rmg_buf_free(&resp.body);
        return NULL;
    }
    if (!digest_matches(digest, resp.body.data ? resp.body.data : "", resp.body.len)) {
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        digest_of(digest, resp.body.data ? resp.body.data : "", resp.body.len, hex, sizeof hex);
        rmg_fmt(err, errlen, "digest mismatch: the registry sent %zu bytes whose digest is "
                             "%.*s:%.16s..., not %s: not used", resp.body.len,
                (int)strcspn(digest, ":"), digest, hex, digest);
        rmg_buf_free(&resp.body);
        return NULL;
    }
    return keep_json(r, name, &resp.body, err, errlen);
}

/* Where a layer digest sits in the manifests read so far: its index and size (the first
 * manifest listing it). */
static void layer_info(const struct reg_source *r, const char *digest, int *index,
                       uint64_t *size)
{
    *index = -1;
    *size = 0;
    const struct rmg_blobs *bs = &r->base.base.blobs;
    for (size_t i = 0; i < bs->n && *index < 0; i++) {
        if (!bs->v[i].json)
            continue;
        cJSON *j = cJSON_ParseWithLength(bs->v[i].json, bs->v[i].json_len);
        int k = 0;
        const cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(j, "layers")) {
            const cJSON *dg = cJSON_GetObjectItemCaseSensitive(l, "digest");
            const cJSON *sz = cJSON_GetObjectItemCaseSensitive(l, "size");
            if (cJSON_IsString(dg) && strcmp(dg->valuestring, digest) == 0) {
                *index = k;
                *size = cJSON_IsNumber(sz) && sz->valuedouble > 0 ? (uint64_t)sz->valuedouble : 0;
                break;
            }
            k++;
        }
        cJSON_Delete(j);
    }
}

/* A layer's transfer: a thread runs it, writing into one end of a socket pair. */
struct layer_transfer {
    struct rmg_registry_session *s;
    char what[300];
    int fd;
    EVP_MD_CTX *md;
    uint64_t bytes;
    bool hash_ok;
    enum rmg_status st;
    char err[600];
};

static bool to_socket(void *ud, const char *data, size_t len)
{
    struct layer_transfer *t = ud;
    if (!EVP_DigestUpdate(t->md, data, len))
        t->hash_ok = false;
    t->bytes += len;
    return rmg_send_all(t->fd, data, len); /* false: the reader stopped, abort */
}

static void *transfer_main(void *arg)
{
    struct layer_transfer *t = arg;
    struct rmg_registry_response resp;
    memset(&resp, 0, sizeof resp);
    t->st = rmg_registry_session_fetch(t->s, t->what, false, to_socket, t, 0, &resp, t->err,
                                       sizeof t->err);
    rmg_buf_free(&resp.body);
    shutdown(t->fd, SHUT_WR);
    close(t->fd);
    return NULL;
}

/* One layer being fetched: the transfer thread writes the blob into one end of a socket pair,
 * the walk reads the other (in the planner's thread, or in a layer thread of its own). */
struct layer_fetch {
    struct reg_source *r;
    struct rmg_registry_session *own; /* the transfer's own session (beside others), or NULL */
    struct rmg_results warnings; /* own's */
    struct layer_transfer t;
    pthread_t th;
    int fd;                      /* the reading end */
    char *name;
    char digest[200];
    char label[64];              /* "layer N: " */
    uint64_t size;               /* the manifest's, 0 if unknown */
};

static void layer_fetch_free(struct layer_fetch *f)
{
    if (f->own) {
        rmg_registry_session_release(f->own);
        free(f->own);
    }
    rmg_results_clear(&f->warnings);
    EVP_MD_CTX_free(f->t.md);
    free(f->name);
    free(f);
}

/* Reads the rest of the transfer (the walk stops at the tar's end: the digest covers it all),
 * waits for it and passes on its session's warnings. */
static void layer_fetch_end(struct layer_fetch *f)
{
    char sink[16384];
    ssize_t got;
    while ((got = read(f->fd, sink, sizeof sink)) > 0 || (got < 0 && errno == EINTR))
        ;
    close(f->fd);
    pthread_join(f->th, NULL);
    for (size_t i = 0; i < f->warnings.n_errors; i++) {
        const struct rmg_error *e = &f->warnings.errors[i];
        rmg_source_image_error(&f->r->base, e->status, e->path, "%s", e->message);
    }
}

/* The walk of a layer whose first byte has arrived, and the check of its digest. False (a
 * message in err) on out of memory, with nothing recorded. */
static bool layer_fetch_walk(struct layer_fetch *f, char *err, size_t errlen)
{
    struct reg_source *r = f->r;
    const char *name = f->name;
    struct rmg_blob *b = rmg_source_image_walk_fd(&r->base, name, f->fd, f->size, false, err,
                                                  errlen);
    layer_fetch_end(f);
    unsigned char v[EVP_MAX_MD_SIZE];
    unsigned int vl = 0;
    f->t.hash_ok = EVP_DigestFinal_ex(f->t.md, v, &vl) && f->t.hash_ok;
    if (!b)
        return false;
    if (f->t.st != RMG_OK) {
        rmg_source_image_error(&r->base, RMG_EINPUT, name, "%sthe transfer broke after %llu "
                               "bytes: %s", f->label, (unsigned long long)f->t.bytes, f->t.err);
        return true;
    }
    char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
    for (unsigned int i = 0; i < vl; i++)
        rmg_fmt(hex + 2 * i, 3, "%02x", v[i]);
    const char *digest = f->digest, *want = strchr(digest, ':') + 1;
    if (!f->t.hash_ok || strcmp(hex, want) != 0)
        rmg_source_image_error(&r->base, RMG_EINPUT, name,
                               "%sdigest mismatch: the registry sent %llu bytes whose digest "
                               "is %.*s:%.16s..., not %s: this is not the layer the manifest "
                               "names (what it holds is reported, but not trusted)",
                               f->label, (unsigned long long)f->t.bytes,
                               (int)strcspn(digest, ":"), digest, f->t.hash_ok ? hex : "?",
                               digest);
    else if (f->size && f->t.bytes != f->size)
        rmg_source_image_error(&r->base, RMG_WARN, name, "%s%llu bytes, the manifest says "
                               "%llu", f->label, (unsigned long long)f->t.bytes,
                               (unsigned long long)f->size);
    else
        rmg_source_image_verified(&r->base, name);
    return true;
}

/* layer_fetch_walk in a layer thread of its own. */
static void layer_fetch_main(void *arg)
{
    struct layer_fetch *f = arg;
    char err[512];
    if (!layer_fetch_walk(f, err, sizeof err))
        rmg_source_image_error(&f->r->base, RMG_ENOMEM, f->name, "%s%s", f->label, err);
    layer_fetch_free(f);
}

/* A layer that could not be fetched: gives its place among the layer threads back. */
static struct rmg_blob *layer_fetch_fail(struct layer_fetch *f, bool reserved)
{
    if (reserved)
        rmg_source_image_unreserve(&f->r->base);
    layer_fetch_free(f);
    return NULL;
}

static struct rmg_blob *reg_get_layer(struct rmg_image_source *src, const char *name, char *err,
                                      size_t errlen)
{
    struct reg_source *r = (struct reg_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b && b->layer)
        return b;
    struct layer_fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->name = rmg_strdup(name))) {
        free(f);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    f->r = r;
    rmg_results_init(&f->warnings);
    if (!name_digest(name, f->digest, sizeof f->digest)) {
        rmg_fmt(err, errlen, "%s: not a digest this registry source can check", name);
        layer_fetch_free(f);
        return NULL;
    }
    /* Beside other layers (once one of the places for them is free: a transfer must not wait
     * for its reader, it would time out), the transfer needs a session of its own. */
    bool reserved = rmg_source_image_reserve(&r->base);
    if (reserved && !(f->own = rmg_registry_session_clone(r->s, &f->warnings))) {
        rmg_source_image_unreserve(&r->base);
        reserved = false;
    }
    f->t = (struct layer_transfer){.s = f->own ? f->own : r->s, .md = EVP_MD_CTX_new(),
                                   .hash_ok = true};
    rmg_fmt(f->t.what, sizeof f->t.what, "blobs/%s", f->digest);
    int sv[2];
    if (!f->t.md || !EVP_DigestInit_ex(f->t.md, rmg_registry_digest_md(f->digest), NULL) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        rmg_fmt(err, errlen, "cannot start the transfer: %s", strerror(errno));
        return layer_fetch_fail(f, reserved);
    }
    f->t.fd = sv[1];
    f->fd = sv[0];
    if (pthread_create(&f->th, NULL, transfer_main, &f->t) != 0) {
        close(sv[0]);
        close(sv[1]);
        rmg_fmt(err, errlen, "cannot start the transfer thread");
        return layer_fetch_fail(f, reserved);
    }
    /* Wait for the first byte: a registry that sends no layer is this layer's error. */
    char c;
    ssize_t n;
    while ((n = recv(f->fd, &c, 1, MSG_PEEK)) < 0 && errno == EINTR)
        ;
    int index;
    layer_info(r, f->digest, &index, &f->size);
    if (index >= 0)
        rmg_fmt(f->label, sizeof f->label, "layer %d: ", index);
    if (n <= 0) {
        layer_fetch_end(f);
        if (f->t.st == RMG_OK)
            rmg_fmt(err, errlen, "the registry sent an empty blob for %s", f->digest);
        else
            rmg_fmt(err, errlen, "%s", f->t.err);
        return layer_fetch_fail(f, reserved);
    }
    if (reserved && (b = rmg_source_image_start_layer(&r->base, name, f->size, layer_fetch_main,
                                                      f)))
        return b;
    bool walked = layer_fetch_walk(f, err, errlen);
    layer_fetch_free(f);
    return walked ? rmg_blobs_find(&src->blobs, name) : NULL;
}

/* The synthetic index.json: one descriptor, the manifest the reference names. */
static char *synthetic_index(const struct rmg_registry_ref *ref, const char *media_type,
                             const char *digest, size_t size)
{
    cJSON *ix = cJSON_CreateObject(), *ms = cJSON_CreateArray(), *d = cJSON_CreateObject(),
          *ann = cJSON_CreateObject();
    char *text = NULL;
    if (ix && ms && d && ann) {
        cJSON_AddNumberToObject(ix, "schemaVersion", 2);
        cJSON_AddStringToObject(ix, "mediaType", RMG_MT_OCI_INDEX);
        cJSON_AddStringToObject(d, "mediaType", media_type);
        cJSON_AddStringToObject(d, "digest", digest);
        cJSON_AddNumberToObject(d, "size", (double)size);
        if (ref->tag[0])
            cJSON_AddStringToObject(ann, "org.opencontainers.image.ref.name", ref->tag);
        cJSON_AddStringToObject(ann, "io.containerd.image.name", ref->name);
        cJSON_AddItemToObject(d, "annotations", ann);
        ann = NULL;
        cJSON_AddItemToArray(ms, d);
        d = NULL;
        cJSON_AddItemToObject(ix, "manifests", ms);
        ms = NULL;
        text = cJSON_PrintUnformatted(ix);
    }
    cJSON_Delete(ann);
    cJSON_Delete(d);
    cJSON_Delete(ms);
    cJSON_Delete(ix);
    return text;
}

/* Fetches the manifest the reference names and keeps it with the synthetic index.json. */
static bool fetch_top(struct reg_source *r, char *err, size_t errlen)
{
    struct rmg_registry_session *s = r->s;
    char what[400];
    rmg_fmt(what, sizeof what, "manifests/%s", s->ref.digest[0] ? s->ref.digest : s->ref.tag);
    struct rmg_registry_response resp;
    memset(&resp, 0, sizeof resp);
    if (rmg_registry_session_fetch(s, what, true, NULL, NULL, s->ctx->limits.max_json, &resp, err,
                                   errlen) != RMG_OK) {
        rmg_buf_free(&resp.body);
        return false;
    }
    const char *body = resp.body.data ? resp.body.data : "";
    char digest[200], hex[2 * EVP_MAX_MD_SIZE + 1];
    bool ok = false;
    if (schema1(resp.content_type)) {
        rmg_fmt(err, errlen, "a Docker schema 1 manifest (%s): not supported; the registry "
                             "has no schema 2 or OCI manifest for %s", resp.content_type,
                s->ref.name);
    } else if (s->ref.digest[0] && !digest_matches(s->ref.digest, body, resp.body.len)) {
        digest_of(s->ref.digest, body, resp.body.len, hex, sizeof hex);
        rmg_fmt(err, errlen, "digest mismatch: the registry sent a manifest whose digest is "
                             "%.*s:%.16s..., not %s: not used",
                (int)strcspn(s->ref.digest, ":"), s->ref.digest, hex, s->ref.digest);
    } else if (!s->ref.digest[0] && resp.digest[0] && rmg_registry_digest_md(resp.digest) &&
               !digest_matches(resp.digest, body, resp.body.len)) {
        rmg_fmt(err, errlen, "digest mismatch: the manifest the registry sent does not have "
                             "the digest it names (Docker-Content-Digest %.200s): not used",
                resp.digest);
    } else {
        if (s->ref.digest[0])
            rmg_fmt(digest, sizeof digest, "%s", s->ref.digest);
        else if (resp.digest[0] && rmg_registry_digest_md(resp.digest))
            rmg_fmt(digest, sizeof digest, "%s", resp.digest);
        else {
            hex_digest(EVP_sha256(), body, resp.body.len, hex, sizeof hex);
            rmg_fmt(digest, sizeof digest, "sha256:%s", hex);
        }
        ok = true;
    }
    if (!ok) {
        rmg_buf_free(&resp.body);
        return false;
    }
    const char *colon = strchr(digest, ':');
    char name[300];
    rmg_fmt(name, sizeof name, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
    size_t size = resp.body.len;
    /* A manifest without a Content-Type the image model can tell apart by its body. */
    const char *mt = resp.content_type[0] ? resp.content_type : RMG_MT_OCI_MANIFEST;
    char *index = synthetic_index(&s->ref, mt, digest, size);
    if (!index || !keep_json(r, name, &resp.body, err, errlen)) {
        free(index);
        rmg_buf_free(&resp.body);
        rmg_fmt(err, errlen, "out of memory");
        return false;
    }
    struct rmg_blob *b = rmg_blobs_add(&r->base.base.blobs, "index.json");
    if (!b) {
        free(index);
        rmg_fmt(err, errlen, "out of memory");
        return false;
    }
    b->json = index;
    b->json_len = strlen(index);
    return true;
}

enum rmg_status rmg_source_registry(const struct rmg_scan_ctx *ctx,
                                    const struct rmg_registry_opts *opts, const char *target,
                                    const char *spec, struct rmg_results *out)
{
    static const struct rmg_registry_opts none = {0};
    char err[1024];
    struct rmg_registry_session s = {.ctx = ctx, .opts = opts ? opts : &none, .target = target,
                                     .out = out};
    if (!rmg_registry_ref_parse_any(spec, s.opts->default_registry, &s.ref, err, sizeof err)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(s.curl = curl_easy_init())) {
        rmg_results_add_error(out, RMG_ENOMEM, target, NULL, "out of memory");
        return RMG_ENOMEM;
    }
    struct reg_source r = {.base = {.base = {.get_json = reg_get_json,
                                             .get_layer = reg_get_layer,
                                             .target = target}},
                           .s = &s};
    enum rmg_status st;
    if (!fetch_top(&r, err, sizeof err)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", err);
        rmg_blobs_free(&r.base.base.blobs);
        st = RMG_EINPUT;
    } else {
        st = rmg_source_image_ondemand(ctx, target, &r.base, NULL, out);
    }
    for (size_t i = 0; i < r.n_manifests; i++)
        free(r.manifests[i]);
    free(r.manifests);
    rmg_registry_session_release(&s);
    return st;
}

/* ---- listing: --all-tags and --all-repos ------------------------------------------------ */

#define MAX_LISTED 100000          /* tags of a repository, repositories, targets in all */
#define MAX_LIST_BODY (32u << 20)  /* one page of a list */
#define LIST_PAGE "n=1000"         /* the page size asked for (the registry may give fewer) */

struct strv {
    char **v;
    size_t n, cap;
};

/* Appends s (taken: freed on failure). */
static bool strv_push(struct strv *a, char *s)
{
    if (!s)
        return false;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return false;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = s;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and drops duplicates. */
static void strv_sort_unique(struct strv *a)
{
    if (a->n)
        qsort(a->v, a->n, sizeof *a->v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (k && strcmp(a->v[k - 1], a->v[i]) == 0)
            free(a->v[i]);
        else
            a->v[k++] = a->v[i];
    }
    a->n = k;
}

/* A warning about the target (skipped names). */
static void session_warn(struct rmg_registry_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void session_warn(struct rmg_registry_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(s->out, RMG_WARN, s->target, NULL, fmt, ap);
    va_end(ap);
}

/* The rel="next" URL of a Link header as a path on this registry ("/v2/..."): true with out
 * set, or out "" when there is none; false (with a message) for a link elsewhere. */
static bool next_link(const struct rmg_registry_session *s, const char *link, char *out,
                      size_t cap, char *err, size_t errlen)
{
    out[0] = '\0';
    for (const char *start = strchr(link, '<'); start; start = strchr(start, '<')) {
        start++;
        const char *end = strchr(start, '>');
        if (!end)
            break;
        const char *params = end + 1, *stop = strchr(params, '<');
        size_t pl = stop ? (size_t)(stop - params) : strlen(params);
        char par[512];
        rmg_fmt(par, sizeof par, "%.*s", (int)(pl < 500 ? pl : 500), params);
        if (!strstr(par, "rel=\"next\"") && !strstr(par, "rel=next")) {
            start = end + 1;
            continue;
        }
        size_t ul = (size_t)(end - start), hl = strlen(s->ref.host);
        const char *path = start;
        static const char *const schemes[] = {"https://", "http://"};
        for (int k = 0; k < 2; k++) {
            size_t kl = strlen(schemes[k]);
            if (ul <= kl || strncasecmp(start, schemes[k], kl) != 0)
                continue;
            if (ul <= kl + hl || strncasecmp(start + kl, s->ref.host, hl) != 0 ||
                start[kl + hl] != '/') {
                rmg_fmt(err, errlen, "the next page is on another host (%.*s): not followed",
                        (int)(ul > 200 ? 200 : ul), start);
                return false;
            }
            path = start + kl + hl;
            break;
        }
        size_t pathl = (size_t)(end - path);
        if (pathl < 4 || strncmp(path, "/v2/", 4) != 0 || pathl >= cap ||
            memchr(path, ' ', pathl)) {
            rmg_fmt(err, errlen, "the next page link (%.*s) is not a /v2/ path on the registry",
                    (int)(ul > 200 ? 200 : ul), start);
            return false;
        }
        rmg_fmt(out, cap, "%.*s", (int)pathl, path);
        return true;
    }
    return true;
}

/* GET first and each next page (Link rel="next"): the strings of the array `key` of each
 * page's JSON object, checked by `valid`, into out (at most MAX_LISTED). `what` names the list
 * in messages. */
static bool fetch_list(struct rmg_registry_session *s, const char *first, const char *key,
                       bool (*valid)(const char *, size_t), const char *what, struct strv *out,
                       char *err, size_t errlen)
{
    char path[2100], e[900];
    rmg_fmt(path, sizeof path, "%s", first);
    size_t skipped = 0;
    while (path[0]) {
        struct rmg_registry_response resp;
        memset(&resp, 0, sizeof resp);
        if (rmg_registry_session_fetch(s, path, false, NULL, NULL, MAX_LIST_BODY, &resp, e,
                                       sizeof e) != RMG_OK) {
            rmg_buf_free(&resp.body);
            rmg_fmt(err, errlen, "listing %s: %s%s", what, e,
                    strcmp(key, "repositories") == 0 && (resp.status == 404 ||
                                                         resp.status == 403)
                        ? " (the registry does not offer its catalog to these credentials)"
                        : "");
            return false;
        }
        cJSON *j = resp.body.data ? cJSON_ParseWithLength(resp.body.data, resp.body.len) : NULL;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, key);
        bool ok = cJSON_IsObject(j) && (!arr || cJSON_IsNull(arr) || cJSON_IsArray(arr));
        if (!ok)
            rmg_fmt(err, errlen, "listing %s: the answer to GET %.200s is not {\"%s\": [...]}",
                    what, path, key);
        size_t before = out->n;
        const cJSON *it, *list = ok && cJSON_IsArray(arr) ? arr : (const cJSON *)NULL;
        cJSON_ArrayForEach(it, list) {
            if (!cJSON_IsString(it) || !valid(it->valuestring, strlen(it->valuestring))) {
                skipped++;
                continue;
            }
            if (out->n >= MAX_LISTED) {
                rmg_fmt(err, errlen, "listing %s: more than %d: not scanned (name fewer)", what,
                        MAX_LISTED);
                ok = false;
                break;
            }
            if (!strv_push(out, rmg_strdup(it->valuestring))) {
                rmg_fmt(err, errlen, "out of memory");
                ok = false;
                break;
            }
        }
        char next[2100] = "";
        if (ok && !next_link(s, resp.link, next, sizeof next, e, sizeof e)) {
            rmg_fmt(err, errlen, "listing %s: %s", what, e);
            ok = false;
        }
        if (ok && next[0] && (out->n == before || strcmp(next, path) == 0)) {
            rmg_fmt(err, errlen, "listing %s: the registry's pages do not advance (%.200s)",
                    what, next);
            ok = false;
        }
        cJSON_Delete(j);
        rmg_buf_free(&resp.body);
        if (!ok)
            return false;
        rmg_fmt(path, sizeof path, "%s", next);
    }
    if (skipped)
        session_warn(s, "listing %s: %zu name%s not valid, skipped", what, skipped,
                     skipped == 1 ? "" : "s");
    return true;
}

static bool valid_tag_name(const char *t, size_t n)
{
    return rmg_registry_valid_tag(t, n);
}

static bool valid_repo_name(const char *r, size_t n)
{
    return n < sizeof ((struct rmg_registry_ref *)0)->repo && rmg_registry_valid_repo(r, n);
}

/* The tags of s->ref.repo as targets "docker://HOST/REPO:TAG" appended to out. */
static bool list_tags(struct rmg_registry_session *s, struct strv *out, char *err, size_t errlen)
{
    char first[700], what[700];
    rmg_fmt(first, sizeof first, "/v2/%s/tags/list?" LIST_PAGE, s->ref.repo);
    rmg_fmt(what, sizeof what, "the tags of %s (GET /v2/%s/tags/list)", s->ref.repo,
            s->ref.repo);
    struct strv tags = {0};
    bool ok = fetch_list(s, first, "tags", valid_tag_name, what, &tags, err, errlen);
    strv_sort_unique(&tags);
    for (size_t i = 0; i < tags.n && ok; i++) {
        if (out->n >= MAX_LISTED) {
            rmg_fmt(err, errlen, "more than %d images to scan: name fewer", MAX_LISTED);
            ok = false;
            break;
        }
        struct rmg_buf t = {0};
        rmg_buf_printf(&t, "docker://%s/%s:%s", s->ref.host, s->ref.repo, tags.v[i]);
        if (!(ok = strv_push(out, t.data)))
            rmg_fmt(err, errlen, "out of memory");
    }
    rmg_strv_free(tags.v, tags.n);
    return ok;
}

enum rmg_status rmg_registry_expand(const struct rmg_registry_opts *o, const char *target,
                                    bool all_tags, bool all_repos, char ***out, size_t *n,
                                    struct rmg_results *errors)
{
    static const struct rmg_registry_opts none = {0};
    static const char scheme[] = "docker://";
    *out = NULL;
    *n = 0;
    struct strv v = {0};
    bool docker = strncmp(target, scheme, strlen(scheme)) == 0;
    const char *spec = docker ? target + strlen(scheme) : "";
    const char *slash = strchr(spec, '/');
    bool host_only = docker && (!slash || !slash[1]);
    const char *last = docker ? strrchr(spec, '/') : NULL;
    bool names_image = last && (strchr(last, ':') || strchr(last, '@'));
    char err[1200] = "";
    if (docker && host_only && !all_repos)
        rmg_fmt(err, sizeof err, "names no repository: write docker://HOST[:PORT]/REPO[:TAG], "
                                 "or give --all-repos to scan every repository");
    else if (docker && !host_only && all_tags && names_image)
        rmg_fmt(err, sizeof err, "--all-tags wants docker://HOST[:PORT]/REPO, without a tag or "
                                 "digest");
    if (err[0]) {
        rmg_results_add_error(errors, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    if (!docker || (!host_only && !all_tags)) { /* not a listing: the target itself */
        if (!strv_push(&v, rmg_strdup(target)))
            return rmg_results_add_error(errors, RMG_ENOMEM, target, NULL, "out of memory");
        *out = v.v;
        *n = v.n;
        return RMG_OK;
    }
    struct rmg_scan_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    struct rmg_registry_session s = {.ctx = &ctx, .opts = o ? o : &none, .target = target,
                                     .out = errors};
    bool ok = true;
    if (host_only) {
        size_t hl = slash ? (size_t)(slash - spec) : strlen(spec);
        if (hl == strlen(RMG_DOCKER_HUB_NAME) && strncmp(spec, RMG_DOCKER_HUB_NAME, hl) == 0) {
            rmg_fmt(err, sizeof err, "%s names Docker Hub, whose API endpoint is not built in: "
                                     "write the registry's API host (and Docker Hub has no "
                                     "catalog to list)", RMG_DOCKER_HUB_NAME);
            ok = false;
        } else if (!rmg_registry_valid_host(spec, hl) || hl >= sizeof s.ref.host) {
            rmg_fmt(err, sizeof err, "'%.*s' is not a registry host[:port]",
                    (int)(hl > 200 ? 200 : hl), spec);
            ok = false;
        }
        if (ok)
            memcpy(s.ref.host, spec, hl);
    } else {
        ok = rmg_registry_ref_parse_any(spec, s.opts->default_registry, &s.ref, err, sizeof err);
    }
    if (!ok) {
        rmg_results_add_error(errors, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(s.curl = curl_easy_init()))
        return rmg_results_add_error(errors, RMG_ENOMEM, target, NULL, "out of memory");
    if (host_only) {
        struct strv repos = {0};
        ok = fetch_list(&s, "/v2/_catalog?" LIST_PAGE, "repositories", valid_repo_name,
                        "the repositories (GET /v2/_catalog)", &repos, err, sizeof err);
        strv_sort_unique(&repos);
        for (size_t i = 0; i < repos.n && ok; i++) {
            rmg_fmt(s.ref.repo, sizeof s.ref.repo, "%s", repos.v[i]);
            ok = list_tags(&s, &v, err, sizeof err);
        }
        rmg_strv_free(repos.v, repos.n);
    } else {
        ok = list_tags(&s, &v, err, sizeof err);
        if (ok && v.n == 0) {
            rmg_fmt(err, sizeof err, "the repository %s has no tags", s.ref.repo);
            ok = false;
        }
    }
    rmg_registry_session_release(&s);
    if (!ok) {
        rmg_strv_free(v.v, v.n);
        rmg_results_add_error(errors, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    strv_sort_unique(&v);
    *out = v.v;
    *n = v.n;
    return RMG_OK;
}
