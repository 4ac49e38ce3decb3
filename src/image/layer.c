/* layer.c: the layer walker (see layer.h).
 *
 * DESIGN. One pass, no seeking, no disk: each entry's bytes come from libarchive blocks.
 * The first block of a regular file is sniffed: an archive (zip, tar, gzip, zstd, xz,
 * bzip2) below --max-archive-depth is opened in place and walked with the path joined by
 * "!" (zip needs seeking, so a zip is read into memory first, up to a limit); anything else
 * is scanned. Files up to INLINE_MAX bytes are copied and queued to the worker pool, larger
 * ones are streamed through the caller's own scanner in chunks, so memory stays bounded by
 * the pool's queue plus one chunk whatever the file size. Hardlinks, symlinks and special
 * files have no content of their own and are never scanned, but whatever bytes an entry
 * carries are read through rather than skipped, so that they count against the limits.
 * Limits (entries, path length, decompressed bytes, compression ratio of each archive and of
 * the layer with everything nested in it, depth) stop the archive they concern with a
 * warning; the rest of the image is still scanned.
 */
#define _GNU_SOURCE
#include "image/layer.h"

#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "common/util.h"
#include "image/gunzip.h"
#include "image/origin.h"

#define HEAD_MAX (64u << 10)   /* sniffed and kept before deciding what a file is */
#define INLINE_MAX (4u << 20)  /* files up to this size go to the pool as one buffer */
#define PKGDB_MAX (64u << 20)  /* a package database file is read whole up to this size */

void rmg_limits_default(struct rmg_limits *l)
{
    l->max_entries = 1000000;
    l->max_path = 4096;
    l->max_layer_bytes = 64ull << 30;
    l->max_ratio = 200;
    l->ratio_floor = 256ull << 20;
    l->max_zip_bytes = 256u << 20;
    l->max_depth = 2;
    l->max_json = 16u << 20;
    l->max_json_total = 64u << 20;
    l->max_blobs = 100000;
}

struct archive *rmg_layer_reader_new(bool raw)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    /* Built-in decompressors only: never a filter that runs an external program. */
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_bzip2(a);
    if (raw) {
        archive_read_support_format_raw(a);
    } else {
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
    }
    return a;
}

static bool compressed_magic(const unsigned char *h, size_t n)
{
    return (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) ||
           (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0) ||
           (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0) ||
           (n >= 4 && memcmp(h, "BZh", 3) == 0 && h[3] >= '1' && h[3] <= '9');
}

bool rmg_layer_is_tar(const void *head, size_t len)
{
    const unsigned char *h = head;
    if (len >= 262 && memcmp(h + 257, "ustar", 5) == 0)
        return true;
    if (!compressed_magic(h, len))
        return false;
    struct archive *a = rmg_layer_reader_new(false);
    if (!a)
        return false;
    struct archive_entry *e;
    int r = archive_read_open_memory(a, head, len) == ARCHIVE_OK
                ? archive_read_next_header(a, &e)
                : ARCHIVE_FATAL;
    archive_read_free(a);
    return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

static la_ssize_t stream_read(struct archive *a, void *ud, const void **out)
{
    struct rmg_entry_stream *s = ud;
    if (!s->head_done) {
        s->head_done = true;
        if (s->head_len) {
            if (s->tap)
                s->tap(s->tap_ud, s->head, s->head_len);
            *out = s->head;
            return (la_ssize_t)s->head_len;
        }
    }
    const void *buf;
    size_t size;
    la_int64_t off;
    int r;
    do /* an empty block is not the end (returning 0 would say it is) */
        r = archive_read_data_block(s->parent, &buf, &size, &off);
    while ((r == ARCHIVE_OK || r == ARCHIVE_WARN) && size == 0);
    if (r >= ARCHIVE_WARN && r != ARCHIVE_EOF && s->tap)
        s->tap(s->tap_ud, buf, size);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_WARN) {
        const char *m = archive_error_string(s->parent);
        archive_set_error(a, -1, "%s", m ? m : "read error");
        return -1;
    }
    if (s->parent_in && s->limits && rmg_layer_is_bomb(s->parent, *s->parent_in, s->limits)) {
        char m[128]; /* archive_set_error's own printf knows no %llu */
        rmg_fmt(m, sizeof m, "archive bomb: the archive this is read from expands more than "
                "%llu times", (unsigned long long)s->limits->max_ratio);
        archive_set_error(a, -1, "%s", m);
        return -1;
    }
    *out = buf;
    return (la_ssize_t)size;
}

bool rmg_layer_is_bomb(struct archive *a, uint64_t in, const struct rmg_limits *l)
{
    la_int64_t out = archive_filter_bytes(a, 0);
    return out > 0 && (uint64_t)out > l->ratio_floor && (uint64_t)out / l->max_ratio > in;
}

int rmg_layer_drain(struct archive *a, const uint64_t *in, const struct rmg_limits *l)
{
    const void *buf;
    size_t size;
    la_int64_t off;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &size, &off);
        if (r == ARCHIVE_EOF)
            return 1;
        if (r < ARCHIVE_WARN)
            return -1;
        if (in && rmg_layer_is_bomb(a, *in, l))
            return 0;
    }
}

int rmg_entry_stream_open(struct archive *child, struct rmg_entry_stream *s)
{
    s->head_done = false;
    return rmg_archive_open_inflating(child, s, stream_read);
}

bool rmg_layer_clean_path(const char *name, char *out, size_t cap)
{
    size_t o = 0;
    const char *p = name;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - p);
        if (n && !(n == 1 && p[0] == '.')) {
            if (o + 1 + n + 1 > cap)
                return false;
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = e;
    }
    if (o == 0) {
        if (cap < 2)
            return false;
        out[o++] = '/';
    }
    out[o] = '\0';
    return true;
}

/* ---- the walk ------------------------------------------------------------------------- */

/* One archive being walked: a layer (depth 0) or an archive inside it. */
struct arc {
    struct archive *a;
    int depth;
    uint64_t compressed; /* its size in its parent (0 unknown) */
    uint64_t bytes;      /* decompressed bytes read from its entries */
    const char *prefix;  /* "" for a layer, "/app/x.jar!" inside */
    size_t outer_len;    /* inside: the length of the layer's own file's path ("/app/x.jar") */
    const char *raw_name; /* the one file of a compressed non-tar stream */
    bool stop;           /* a limit was hit: leave this archive */
};

struct walk {
    const struct rmg_walker *w;
    const char *layer;   /* names the layer in messages */
    int blob_id;
    uint64_t compressed; /* the layer's size (0 unknown) */
    uint64_t total;      /* decompressed bytes of the whole layer, nested archives included */
    bool stop_layer;
    struct rmg_pathset *paths;
    struct rmg_layer_prov *prov; /* package databases and archive digests, or NULL */
    enum rmg_status worst;
};

static void note(struct walk *k, enum rmg_status st, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(struct walk *k, enum rmg_status st, const char *path, const char *fmt, ...)
{
    struct rmg_buf where = {0};
    rmg_buf_printf(&where, "%s%s%s", k->layer, path ? ":" : "", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(k->w->out, st, k->w->target, where.data, fmt, ap);
    va_end(ap);
    rmg_buf_free(&where);
    if (st > k->worst)
        k->worst = st;
}

static const char *arc_error(struct archive *a)
{
    const char *m = archive_error_string(a);
    return m ? m : "unknown error";
}

/* Next data block of the current entry: 1 with data, 0 at its end, -1 on error or a limit
 * (reported; the caller stops). Counts bytes against the limits. */
static int next_block(struct walk *k, struct arc *ar, const char *path, const void **buf,
                      size_t *len)
{
    la_int64_t off;
    int r;
    do /* skip empty blocks (a zip entry may give one, with a NULL buffer) */
        r = archive_read_data_block(ar->a, buf, len, &off);
    while ((r == ARCHIVE_OK || r == ARCHIVE_WARN) && *len == 0);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_WARN) {
        /* Inside an archive of the layer (test data of a damaged tar, say) it is a warning:
         * the archive's own bytes were scanned. A damaged layer fails its reader too. */
        note(k, ar->depth ? RMG_WARN : RMG_EINPUT, path, "cannot read: %s", arc_error(ar->a));
        ar->stop = true;
        return -1;
    }
    const struct rmg_limits *l = k->w->limits;
    ar->bytes += *len;
    k->total += *len;
    if (k->total > l->max_layer_bytes) {
        note(k, RMG_WARN, path, "layer limit: more than %llu bytes decompressed; the rest of "
             "this layer is not scanned", (unsigned long long)l->max_layer_bytes);
        k->stop_layer = ar->stop = true;
        return -1;
    }
    if (ar->compressed && ar->bytes > l->ratio_floor && ar->bytes / l->max_ratio > ar->compressed) {
        note(k, RMG_WARN, path, "archive bomb: %s expands more than %llu times; the rest of it "
             "is not scanned", ar->depth ? "this archive" : "the layer",
             (unsigned long long)l->max_ratio);
        ar->stop = true;
        return -1;
    }
    /* Each archive may expand freely up to the floor: many small bombs in one layer, or bombs
     * inside bombs, would add up. Once the layer as a whole, what is inside its archives
     * included, has expanded past the floor and more than max_ratio times its size, an archive
     * inside it is left at its next block (the layer's own files go on). */
    if (ar->depth && k->compressed && k->total > l->ratio_floor &&
        k->total / l->max_ratio > k->compressed) {
        note(k, RMG_WARN, path, "archive bomb: with this archive the layer expands more than "
             "%llu times; the rest of this archive is not scanned",
             (unsigned long long)l->max_ratio);
        ar->stop = true;
        return -1;
    }
    return 1;
}

/* Reads the rest of an entry that is not scanned: its bytes count against the limits like
 * any other (a skip would decompress them all the same, unbounded). */
/* Reads the rest of the current entry through (into hash, if not NULL). */
static void skip_entry_hashed(struct walk *k, struct arc *ar, const char *path,
                              struct rmg_digester *hash)
{
    const void *b;
    size_t n;
    while (!ar->stop && next_block(k, ar, path, &b, &n) > 0)
        rmg_digester_update(hash, b, n);
}

static void skip_entry(struct walk *k, struct arc *ar, const char *path)
{
    skip_entry_hashed(k, ar, path, NULL);
}

/* A file of the layer itself (not inside an archive) opened as an archive: its digests go to
 * the layer's provenance facts, so that findings inside it can be checked against the package
 * that installed it. */
static void record_archive(struct walk *k, struct arc *ar, const char *path,
                           struct rmg_digester *hash)
{
    struct rmg_content_digest d;
    rmg_digester_final(hash, &d);
    if (ar->stop || !d.set || !k->prov)
        return; /* not read to its end: findings inside stay the builder's own */
    if (!rmg_layer_prov_add_archive(k->prov, path, &d))
        note(k, RMG_WARN, path, "too many archives in one layer for provenance: findings inside "
             "this one count as the image's own");
}

/* A top-level zip (a jar, a wheel) is in memory whole: its digests are taken by a pool
 * worker once the walk is done with it, not by the reading thread. */
struct zip_digest {
    unsigned char *buf;
    size_t len;
    struct rmg_archive_digest *node; /* owned by the layer's provenance facts */
};

static void zip_digest_run(void *arg)
{
    struct zip_digest *z = arg;
    rmg_digest_buffer(z->buf, z->len, &z->node->d);
    free(z->buf);
    free(z);
}

static void tap_digest(void *ud, const void *data, size_t len)
{
    rmg_digester_update(ud, data, len);
}

enum sniff { SNIFF_NONE, SNIFF_ZIP, SNIFF_STREAM };

static enum sniff sniff(const unsigned char *h, size_t n)
{
    if (n >= 4 && memcmp(h, "PK\3\4", 4) == 0)
        return SNIFF_ZIP;
    if (compressed_magic(h, n) || (n >= 262 && memcmp(h + 257, "ustar", 5) == 0))
        return SNIFF_STREAM;
    return SNIFF_NONE;
}

static enum rmg_status walk_arc(struct walk *k, struct arc *ar);

/* The location a file's findings get; strings borrowed. */
static struct rmg_location file_loc(struct walk *k, const struct arc *ar, const char *path)
{
    return (struct rmg_location){.target = (char *)k->w->target, .path = (char *)path,
                                 .outer_len = ar->depth ? ar->outer_len : 0,
                                 .layer_index = k->blob_id};
}

/* Streams the rest of an entry through the caller's scanner; `head` first. */
static void scan_streaming(struct walk *k, struct arc *ar, const char *path, const void *head,
                           size_t head_len)
{
    struct rmg_location loc = file_loc(k, ar, path);
    size_t before = k->w->out->n_findings;
    if (rmg_scanner_begin(k->w->sc, &loc, k->w->out) != RMG_OK) {
        rmg_scanner_end(k->w->sc);
        return;
    }
    /* A big file is hashed as it streams, for provenance (its bytes are gone once a finding
     * shows up): the cost falls on files over INLINE_MAX of layers only. */
    struct rmg_digester *hash = k->prov ? rmg_digester_new() : NULL;
    rmg_scanner_feed(k->w->sc, head, head_len);
    rmg_digester_update(hash, head, head_len);
    const void *b;
    size_t n;
    while (!ar->stop && next_block(k, ar, path, &b, &n) > 0) {
        rmg_scanner_feed(k->w->sc, b, n);
        rmg_digester_update(hash, b, n);
    }
    rmg_scanner_end(k->w->sc);
    struct rmg_content_digest d;
    rmg_digester_final(hash, &d);
    if (!ar->stop)
        for (size_t i = before; i < k->w->out->n_findings; i++)
            k->w->out->findings[i].content = d;
}

/* Reads the rest of an entry into *buf (which holds *len bytes, capacity *cap) until it has
 * `max` bytes. Returns 1 when the entry ended, 0 when max was reached first, -1 on error. */
static int read_rest(struct walk *k, struct arc *ar, const char *path, unsigned char **buf,
                     size_t *len, size_t *cap, size_t max)
{
    const void *b;
    size_t n;
    int r;
    while ((r = next_block(k, ar, path, &b, &n)) > 0) {
        if (*len + n > *cap) {
            size_t c = *cap ? *cap : 4096;
            while (c < *len + n)
                c *= 2;
            unsigned char *p = realloc(*buf, c);
            if (!p) {
                note(k, RMG_ENOMEM, path, "out of memory");
                return -1;
            }
            *buf = p;
            *cap = c;
        }
        memcpy(*buf + *len, b, n);
        *len += n;
        if (*len >= max)
            return 0;
    }
    return r == 0 ? 1 : -1;
}

/* The name of the one file inside a compressed non-tar file: its base name without the
 * compression suffix ("db.sql.gz" -> "db.sql"). */
static void raw_member_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    static const char *const sfx[] = {".gz", ".tgz", ".zst", ".xz", ".bz2", ".z", ".Z"};
    for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
        size_t s = strlen(sfx[i]);
        if (n > s && strcmp(base + n - s, sfx[i]) == 0) {
            n -= s;
            if (strcmp(sfx[i], ".tgz") == 0) {
                rmg_fmt(out, cap, "%.*s.tar", (int)n, base);
                return;
            }
            break;
        }
    }
    rmg_fmt(out, cap, "%.*s", (int)n, base);
}

static void walk_nested_stream(struct walk *k, struct arc *ar, const char *path,
                               const void *head, size_t head_len, uint64_t size,
                               struct rmg_digester *hash)
{
    /* A tar (plain or compressed) is walked; any other compressed file is read as the one file
     * it holds. Deciding from the decompressed start matters: a tar reader would take a file
     * beginning with a block of zeros for an empty archive and scan nothing. */
    struct archive *na = rmg_layer_reader_new(!rmg_layer_is_tar(head, head_len));
    if (!na) {
        note(k, RMG_ENOMEM, path, "out of memory");
        return;
    }
    struct rmg_entry_stream es = {.parent = ar->a, .head = head, .head_len = head_len,
                                  .tap = hash ? tap_digest : NULL, .tap_ud = hash};
    char prefix[8192], member[512];
    rmg_fmt(prefix, sizeof prefix, "%s!", path);
    raw_member_name(path, member, sizeof member);
    struct arc child = {.a = na, .depth = ar->depth + 1, .compressed = size, .prefix = prefix,
                        .raw_name = member,
                        .outer_len = ar->depth ? ar->outer_len : strlen(path)};
    if (rmg_entry_stream_open(na, &es) != ARCHIVE_OK)
        note(k, RMG_WARN, path, "cannot open the archive inside: %s", arc_error(na));
    else
        walk_arc(k, &child);
    archive_read_free(na);
}

static void walk_nested_zip(struct walk *k, struct arc *ar, const char *path, const void *head,
                            size_t head_len)
{
    size_t max = k->w->limits->max_zip_bytes;
    size_t len = head_len, cap = head_len > 4096 ? head_len : 4096;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        note(k, RMG_ENOMEM, path, "out of memory");
        return;
    }
    memcpy(buf, head, head_len);
    int r = read_rest(k, ar, path, &buf, &len, &cap, max);
    if (r < 0) {
        free(buf);
        return;
    }
    if (r == 0) {
        note(k, RMG_WARN, path, "zip archive larger than %zu bytes: scanned as it is, not opened",
             max);
        scan_streaming(k, ar, path, buf, len);
        free(buf);
        return;
    }
    struct archive *na = archive_read_new();
    if (!na) {
        free(buf);
        note(k, RMG_ENOMEM, path, "out of memory");
        return;
    }
    archive_read_support_format_zip_seekable(na);
    char prefix[8192];
    rmg_fmt(prefix, sizeof prefix, "%s!", path);
    struct arc child = {.a = na, .depth = ar->depth + 1, .compressed = len, .prefix = prefix,
                        .outer_len = ar->depth ? ar->outer_len : strlen(path)};
    if (archive_read_open_memory(na, buf, len) != ARCHIVE_OK) {
        note(k, RMG_WARN, path, "not a readable zip archive (%s): scanned as it is",
             arc_error(na));
        struct rmg_location loc = file_loc(k, ar, path);
        rmg_scan_buffer(k->w->sc, buf, len, &loc, k->w->out);
    } else {
        walk_arc(k, &child);
    }
    archive_read_free(na);
    /* A file of the layer itself: its digests, for provenance, taken by a worker. */
    struct rmg_archive_digest *node =
        ar->depth == 0 && k->prov ? rmg_layer_prov_add_archive(k->prov, path, NULL) : NULL;
    struct zip_digest *z = node ? malloc(sizeof *z) : NULL;
    if (z) {
        *z = (struct zip_digest){buf, len, node};
        rmg_pool_submit_call(k->w->pool, zip_digest_run, z, len); /* runs it; it frees buf */
        return;
    }
    if (ar->depth == 0 && k->prov)
        note(k, RMG_WARN, path, "too many archives in one layer for provenance (or out of "
             "memory): findings inside this one count as the image's own");
    free(buf);
}

/* A regular file: sniff, then open it as an archive or scan it. */
static void scan_file(struct walk *k, struct arc *ar, const char *path, struct archive_entry *e)
{
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int r = read_rest(k, ar, path, &buf, &len, &cap, HEAD_MAX);
    if (r < 0) {
        free(buf);
        return;
    }
    enum sniff s = sniff(buf, len);
    if (s != SNIFF_NONE) {
        if (ar->depth + 1 <= k->w->limits->max_depth) {
            /* A file of the layer itself is hashed as the archive inside reads it. */
            struct rmg_digester *hash = ar->depth == 0 && k->prov && s == SNIFF_STREAM
                                            ? rmg_digester_new()
                                            : NULL;
            if (s == SNIFF_ZIP)
                walk_nested_zip(k, ar, path, buf, len);
            else
                walk_nested_stream(k, ar, path, buf, len,
                                   archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e)
                                                                : 0,
                                   hash);
            free(buf);
            /* what the inner archive left (it stopped early) */
            skip_entry_hashed(k, ar, path, hash);
            if (hash)
                record_archive(k, ar, path, hash);
            return;
        }
        if (k->w->limits->max_depth > 0)
            note(k, RMG_WARN, path, "archive not opened: --max-archive-depth %d reached",
                 k->w->limits->max_depth);
    }
    /* Small enough for the pool: read it whole and hand it over. A package database is read
     * whole up to a bigger bound: provenance parses it too. */
    bool pkgdb = k->prov && rmg_pkgdb_wants(path);
    size_t whole = pkgdb ? PKGDB_MAX : INLINE_MAX;
    if (r == 0 && (!archive_entry_size_is_set(e) || archive_entry_size(e) <= (la_int64_t)whole))
        r = read_rest(k, ar, path, &buf, &len, &cap, whole + 1);
    if (r < 0) {
        free(buf);
        return;
    }
    if (r == 1 && pkgdb) {
        char err[256] = "";
        enum rmg_status st = rmg_layer_prov_add_db(k->prov, path, buf, len, err, sizeof err);
        if (st == RMG_ENOMEM)
            note(k, RMG_ENOMEM, path, "out of memory");
        else if (st != RMG_OK)
            note(k, RMG_WARN, path, "package database not fully read (%s): provenance uses what "
                 "could be read", err);
    } else if (pkgdb) {
        note(k, RMG_WARN, path, "package database larger than %u MiB: not read for provenance",
             PKGDB_MAX >> 20);
    }
    if (r == 1 && len == 0) {
        k->w->out->stats.files++;
        free(buf);
        return;
    }
    if (r == 1) {
        struct rmg_location loc = file_loc(k, ar, path);
        if (rmg_pool_submit_buffer(k->w->pool, &loc, buf, len) != RMG_OK)
            note(k, RMG_ENOMEM, path, "out of memory");
        return;
    }
    scan_streaming(k, ar, path, buf, len);
    free(buf);
}

/* Records a layer entry in the path set; whiteouts become deletions. Returns false if the
 * entry is a whiteout (no content). */
static bool record_path(struct walk *k, const char *path, mode_t type, bool hardlink)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash + 1;
    size_t dir_len = (size_t)(slash - path);
    if (strncmp(base, ".wh.", 4) == 0) {
        if (strcmp(base, ".wh..wh..opq") == 0) {
            if (!rmg_pathset_add(k->paths, dir_len ? path : "/", dir_len ? dir_len : 1,
                                 RMG_PATH_OPAQUE))
                note(k, RMG_ENOMEM, path, "out of memory");
        } else if (strncmp(base, ".wh..wh.", 8) != 0) {
            char target[8192];
            rmg_fmt(target, sizeof target, "%.*s/%s", (int)dir_len, path, base + 4);
            if (!rmg_pathset_add(k->paths, target, strlen(target), RMG_PATH_WHITEOUT))
                note(k, RMG_ENOMEM, path, "out of memory");
        }
        return false;
    }
    unsigned flags = type == AE_IFDIR && !hardlink ? RMG_PATH_DIR : RMG_PATH_FILE;
    if (!rmg_pathset_add(k->paths, path, strlen(path), flags))
        note(k, RMG_ENOMEM, path, "out of memory");
    return true;
}

static enum rmg_status walk_arc(struct walk *k, struct arc *ar)
{
    const struct rmg_limits *l = k->w->limits;
    struct archive_entry *e;
    uint64_t n_entries = 0;
    char clean[8192], full[8192 + 16];
    for (;;) {
        if (ar->stop || k->stop_layer)
            break;
        int r = archive_read_next_header(ar->a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_RETRY)
            continue;
        if (r < ARCHIVE_WARN) {
            note(k, ar->depth ? RMG_WARN : RMG_EINPUT, ar->depth ? ar->prefix : NULL,
                 "%s: %s; the rest of it is not scanned",
                 n_entries ? "corrupt archive" : "not a readable archive", arc_error(ar->a));
            break;
        }
        if (++n_entries > l->max_entries) {
            note(k, RMG_WARN, ar->depth ? ar->prefix : NULL,
                 "more than %llu entries; the rest is not scanned",
                 (unsigned long long)l->max_entries);
            break;
        }
        const char *name = archive_entry_pathname(e);
        if (archive_format(ar->a) == ARCHIVE_FORMAT_RAW && ar->raw_name)
            name = ar->raw_name;
        if (!name)
            continue;
        if (strlen(name) > l->max_path || !rmg_layer_clean_path(name, clean, sizeof clean)) {
            note(k, RMG_WARN, ar->prefix[0] ? ar->prefix : NULL,
                 "entry path longer than %zu bytes: skipped", l->max_path);
            if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
                skip_entry(k, ar, ar->prefix[0] ? ar->prefix : NULL);
            continue;
        }
        rmg_fmt(full, sizeof full, "%s%s", ar->prefix, clean);
        mode_t type = archive_entry_filetype(e);
        bool hardlink = archive_entry_hardlink(e) != NULL;
        if (r == ARCHIVE_WARN)
            note(k, RMG_WARN, full, "%s", arc_error(ar->a));
        if ((k->paths && ar->depth == 0 && !record_path(k, clean, type, hardlink)) ||
            hardlink || type != AE_IFREG) {
            /* A whiteout, a link, a special file: no content, but what bytes it carries are
             * read through and counted. */
            if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
                skip_entry(k, ar, full);
            continue;
        }
        scan_file(k, ar, full, e);
    }
    return RMG_OK;
}

enum rmg_status rmg_layer_walk(const struct rmg_walker *w, struct archive *a, const char *name,
                               int blob_id, uint64_t compressed, struct rmg_pathset *paths,
                               struct rmg_layer_prov *prov)
{
    struct walk k = {.w = w, .layer = name, .blob_id = blob_id, .compressed = compressed,
                     .paths = paths, .prov = prov};
    struct arc top = {.a = a, .depth = 0, .compressed = compressed, .prefix = ""};
    walk_arc(&k, &top);
    return k.worst;
}
