/* cache.c: the layer cache (see cache.h).
 *
 * DESIGN. One file per layer and result key: DIR/layers/KK/KEY.json, where KEY is the sha256
 * of the key material (format version, rummage's version, rule set hash, scan options,
 * limits) and the layer's blob digest, so a change of any of them simply misses. An entry is
 * written to a temporary file in the same directory and renamed into place (atomic on POSIX):
 * concurrent runs may both write the same entry, never a torn one. An entry that cannot be
 * read, parsed or checked (unknown rule, bad field) is a miss, and the layer is scanned again.
 * The entry holds the redacted form of each secret and its shape (length, newlines) for
 * report regions, never the secret. Who may trust an entry is the caller's business: the
 * image sources only store entries for blobs whose bytes were checked against the digest. */
#define _GNU_SOURCE
#include "image/cache.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/util.h"

#define CACHE_FORMAT 2 /* 2: content digests and provenance facts */
#define MAX_ENTRY (512u << 20) /* bytes of one entry file */

struct rmg_cache {
    char *dir;
    char material[65]; /* sha256 of everything the results depend on, but the layer */
    const struct rmg_rules *rules;
};

/* mkdir -p, mode 0700 for what it creates. */
static bool make_dirs(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    if (!path[0] || strlen(path) >= sizeof buf) {
        rmg_fmt(err, errlen, "bad directory name");
        return false;
    }
    rmg_fmt(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                rmg_fmt(err, errlen, "cannot create %s: %s", buf, strerror(errno));
                return false;
            }
            if (end)
                break;
            *p = '/';
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rmg_fmt(err, errlen, "%s is not a directory", path);
        return false;
    }
    if (access(path, W_OK | X_OK) != 0) {
        rmg_fmt(err, errlen, "cannot write to %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool rmg_cache_default_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        rmg_fmt(out, cap, "%s/rummage", xdg);
    else if (home && home[0] == '/')
        rmg_fmt(out, cap, "%s/.cache/rummage", home);
    else
        return false;
    return true;
}

struct rmg_cache *rmg_cache_open(const char *dir, const struct rmg_rules *rules,
                                 const struct rmg_scan_opts *opts,
                                 const struct rmg_limits *limits, char *err, size_t errlen)
{
    if (!make_dirs(dir, err, errlen))
        return NULL;
    struct rmg_cache *c = calloc(1, sizeof *c);
    struct rmg_buf m = {0};
    /* Everything a layer's findings and path set depend on, but the layer itself. The chunk
     * size and prefilter do not change results (the engine's contract), but they are cheap to
     * include and keep debugging runs apart. */
    rmg_buf_printf(&m, "rummage layer cache %d\nrummage %s\nrules %s\n", CACHE_FORMAT,
                   RMG_VERSION, rmg_rules_hash(rules));
    rmg_buf_printf(&m, "opts %zu %d %d\n", opts->chunk_size, opts->no_prefilter,
                   opts->keep_overlaps);
    rmg_buf_printf(&m, "limits %llu %zu %llu %llu %llu %zu %d\n",
                   (unsigned long long)limits->max_entries, limits->max_path,
                   (unsigned long long)limits->max_layer_bytes,
                   (unsigned long long)limits->max_ratio, (unsigned long long)limits->ratio_floor,
                   limits->max_zip_bytes, limits->max_depth);
    if (!c || !m.data || !(c->dir = rmg_strdup(dir))) {
        rmg_buf_free(&m);
        free(c);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    rmg_sha256_hex(m.data, m.len, c->material);
    rmg_buf_free(&m);
    c->rules = rules;
    return c;
}

void rmg_cache_free(struct rmg_cache *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c);
}

/* DIR/layers/KK/KEY.json for digest; false if the digest is not "alg:hex". */
static bool entry_path(const struct rmg_cache *c, const char *digest, char *out, size_t cap,
                       char key[65])
{
    const char *colon = strchr(digest, ':');
    if (!colon || colon == digest || !colon[1] || strlen(digest) > 200)
        return false;
    for (const char *p = digest; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == ':'))
            return false;
    char buf[300];
    rmg_fmt(buf, sizeof buf, "%s\n%s", c->material, digest);
    rmg_sha256_hex(buf, strlen(buf), key);
    rmg_fmt(out, cap, "%s/layers/%.2s/%s.json", c->dir, key, key);
    return strlen(c->dir) + 90 < cap;
}

/* ---- load ------------------------------------------------------------------------------ */

static bool get_u64(const cJSON *o, const char *k, uint64_t max, uint64_t *v)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
    /* (double)UINT64_MAX rounds up to 2^64, which does not fit: hence the second bound */
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > (double)max ||
        n->valuedouble >= 18446744073709551616.0)
        return false;
    *v = (uint64_t)n->valuedouble;
    return true;
}

/* The redacted form as rmg_redact writes it: printable text, valid UTF-8 (the ellipsis). */
static bool plain_text(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        size_t k = rmg_utf8_seq_len((const unsigned char *)s + i, n - i);
        if (k == 0 || ch < 0x20 || ch == 0x7f)
            return false;
        i += k;
    }
    return true;
}

/* Digests as one string: "MD5HEX SHA1HEX SHA256HEX SIZE". */
static void digest_text(const struct rmg_content_digest *d, char out[160])
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *parts[3] = {d->md5, d->sha1, d->sha256};
    const size_t lens[3] = {sizeof d->md5, sizeof d->sha1, sizeof d->sha256};
    size_t o = 0;
    for (int p = 0; p < 3; p++) {
        for (size_t i = 0; i < lens[p]; i++) {
            out[o++] = hx[parts[p][i] >> 4];
            out[o++] = hx[parts[p][i] & 15];
        }
        out[o++] = ' ';
    }
    rmg_fmt(out + o, 160 - o, "%llu", (unsigned long long)d->size);
}

static bool parse_digest(const cJSON *j, struct rmg_content_digest *d)
{
    memset(d, 0, sizeof *d);
    if (!j)
        return true; /* not hashed */
    const char *s = cJSON_IsString(j) ? j->valuestring : NULL;
    if (!s || strlen(s) < 2 * (16 + 20 + 32) + 4 || !rmg_hex_decode(s, 32, d->md5) ||
        s[32] != ' ' || !rmg_hex_decode(s + 33, 40, d->sha1) || s[73] != ' ' ||
        !rmg_hex_decode(s + 74, 64, d->sha256) || s[138] != ' ' ||
        strspn(s + 139, "0123456789") != strlen(s + 139) || !s[139])
        return false;
    d->size = strtoull(s + 139, NULL, 10);
    d->set = true;
    return true;
}

static bool load_finding(const struct rmg_cache *c, const cJSON *j, const char *target,
                         int blob, struct rmg_finding *f)
{
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(j, "rule");
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(j, "fingerprint");
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(j, "secret");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path");
    uint64_t sev, conf, len, lines, last_nl, line, col, off;
    memset(f, 0, sizeof *f);
    if (!cJSON_IsString(rule) || !cJSON_IsString(fp) || !cJSON_IsString(sec) ||
        !cJSON_IsString(path) || strlen(fp->valuestring) != 64 ||
        strspn(fp->valuestring, "0123456789abcdef") != 64 || !plain_text(sec->valuestring) ||
        !get_u64(j, "severity", RMG_SEV_CRITICAL, &sev) ||
        !get_u64(j, "confidence", RMG_CONF_VALIDATED, &conf) ||
        !get_u64(j, "length", UINT32_MAX, &len) || !get_u64(j, "lines", UINT32_MAX, &lines) ||
        !get_u64(j, "last_newline", UINT32_MAX, &last_nl) ||
        !get_u64(j, "line", UINT64_MAX, &line) || !get_u64(j, "column", UINT64_MAX, &col) ||
        !get_u64(j, "offset", UINT64_MAX, &off) ||
        !parse_digest(cJSON_GetObjectItemCaseSensitive(j, "content"), &f->content))
        return false;
    if (!(f->rule = rmg_rules_find(c->rules, rule->valuestring)))
        return false;
    memcpy(f->fingerprint, fp->valuestring, 65);
    f->severity = (enum rmg_severity)sev;
    f->confidence = (enum rmg_confidence)conf;
    f->state = RMG_STATE_PRESENT;
    f->changed_layer = -1;
    f->redacted = true;
    f->raw_len = (size_t)len;
    f->raw_lines = (uint32_t)lines;
    f->raw_last_nl = (size_t)last_nl;
    f->secret = rmg_strdup(sec->valuestring);
    f->secret_len = f->secret ? strlen(f->secret) : 0;
    f->loc.target = rmg_strdup(target);
    f->loc.path = rmg_strdup(path->valuestring);
    f->loc.line = line;
    f->loc.column = col;
    f->loc.offset = off;
    f->loc.layer_index = blob;
    uint64_t outer = 0;
    if (cJSON_GetObjectItemCaseSensitive(j, "outer") &&
        (!get_u64(j, "outer", strlen(path->valuestring), &outer) || !outer)) {
        rmg_finding_free(f);
        return false;
    }
    f->loc.outer_len = (size_t)outer;
    if (!f->secret || !f->loc.target || !f->loc.path) {
        rmg_finding_free(f);
        return false;
    }
    return true;
}

static bool load_paths(const cJSON *arr, struct rmg_pathset *ps)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, arr) {
        if (!cJSON_IsString(p))
            return false;
        const char *s = p->valuestring;
        unsigned flags;
        if (s[0] >= '0' && s[0] <= '9')
            flags = (unsigned)(s[0] - '0');
        else if (s[0] >= 'a' && s[0] <= 'f')
            flags = (unsigned)(s[0] - 'a' + 10);
        else
            return false;
        if (s[1] != '/' || !rmg_pathset_add(ps, s + 1, strlen(s + 1), flags))
            return false;
    }
    return cJSON_IsArray(arr);
}

/* The layer's provenance facts as stored: its database files (base64), parsed again, and the
 * digests of its archives. */
static bool load_prov(const cJSON *o, struct rmg_layer_prov *p)
{
    const cJSON *dbs = cJSON_GetObjectItemCaseSensitive(o, "db");
    const cJSON *arcs = cJSON_GetObjectItemCaseSensitive(o, "archives");
    if (!cJSON_IsArray(dbs) || !cJSON_IsArray(arcs))
        return false;
    const cJSON *e;
    cJSON_ArrayForEach(e, dbs) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(e, "data");
        if (!cJSON_IsString(path) || !cJSON_IsString(data) || path->valuestring[0] != '/')
            return false;
        size_t n = strlen(data->valuestring);
        if (n % 4)
            return false;
        unsigned char *raw = malloc(n / 4 * 3 + 1);
        int len = raw ? EVP_DecodeBlock(raw, (const unsigned char *)data->valuestring, (int)n) : -1;
        /* EVP_DecodeBlock counts the padding as bytes: take them off again. */
        if (len >= 0 && n && data->valuestring[n - 1] == '=')
            len -= 1 + (n > 1 && data->valuestring[n - 2] == '=');
        char err[256];
        bool ok = len >= 0 && rmg_layer_prov_add_db(p, path->valuestring, raw, (size_t)len, err,
                                                    sizeof err) != RMG_ENOMEM;
        free(raw);
        if (!ok)
            return false;
    }
    cJSON_ArrayForEach(e, arcs) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
        struct rmg_content_digest d;
        if (!cJSON_IsString(path) || !parse_digest(cJSON_GetObjectItemCaseSensitive(e, "d"), &d) ||
            !d.set || !rmg_layer_prov_add_archive(p, path->valuestring, &d))
            return false;
    }
    return true;
}

bool rmg_cache_load(struct rmg_cache *c, const char *digest, const char *target, int blob,
                    struct rmg_results *out, struct rmg_pathset **paths,
                    struct rmg_layer_prov **prov)
{
    char path[4400], key[65], err[256];
    *paths = NULL;
    *prov = NULL;
    if (!c || !entry_path(c, digest, path, sizeof path, key))
        return false;
    char *data = NULL;
    size_t len = 0;
    if (access(path, R_OK) != 0 || !rmg_read_file(path, MAX_ENTRY, &data, &len, err, sizeof err))
        return false;
    cJSON *doc = cJSON_ParseWithLength(data, len);
    free(data);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(doc, "key");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "digest");
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    bool ok = cJSON_IsString(k) && strcmp(k->valuestring, key) == 0 && cJSON_IsString(d) &&
              strcmp(d->valuestring, digest) == 0 && cJSON_IsArray(fs);
    struct rmg_pathset *ps = ok ? rmg_pathset_new() : NULL;
    ok = ps && load_paths(cJSON_GetObjectItemCaseSensitive(doc, "paths"), ps);
    struct rmg_layer_prov *pv = ok ? calloc(1, sizeof *pv) : NULL;
    ok = pv && load_prov(cJSON_GetObjectItemCaseSensitive(doc, "provenance"), pv);
    struct rmg_results tmp;
    rmg_results_init(&tmp);
    const cJSON *j;
    cJSON_ArrayForEach(j, (ok ? fs : NULL)) {
        struct rmg_finding f;
        if (!load_finding(c, j, target, blob, &f) || rmg_results_add_finding(&tmp, &f) != RMG_OK) {
            rmg_finding_free(&f);
            ok = false;
            break;
        }
    }
    cJSON_Delete(doc);
    ok = ok && rmg_results_merge(out, &tmp) == RMG_OK;
    rmg_results_clear(&tmp); /* what the merge left: its arrays, or all on failure */
    if (!ok) {
        rmg_pathset_free(ps);
        rmg_layer_prov_clear(pv);
        free(pv);
        return false;
    }
    *paths = ps;
    *prov = pv;
    return true;
}

/* ---- store ----------------------------------------------------------------------------- */

static bool add_path(const char *path, size_t len, unsigned flags, void *ud)
{
    struct rmg_buf b = {0};
    rmg_buf_printf(&b, "%x", flags & 15);
    rmg_buf_append(&b, path, len);
    cJSON *s = b.data ? cJSON_CreateString(b.data) : NULL;
    rmg_buf_free(&b);
    return s && cJSON_AddItemToArray(ud, s);
}

static cJSON *finding_json(const struct rmg_finding *f)
{
    char red[160];
    size_t len, lines, last_nl;
    rmg_finding_span(f, &len, &lines, &last_nl);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "rule", f->rule->id);
    cJSON_AddStringToObject(j, "fingerprint", f->fingerprint);
    cJSON_AddStringToObject(j, "secret", rmg_finding_secret_text(f, false, red, sizeof red));
    cJSON_AddNumberToObject(j, "length", (double)len);
    cJSON_AddNumberToObject(j, "lines", (double)lines);
    cJSON_AddNumberToObject(j, "last_newline", (double)last_nl);
    cJSON_AddNumberToObject(j, "severity", f->severity);
    cJSON_AddNumberToObject(j, "confidence", f->confidence);
    cJSON_AddStringToObject(j, "path", f->loc.path ? f->loc.path : "");
    cJSON_AddNumberToObject(j, "line", (double)f->loc.line);
    cJSON_AddNumberToObject(j, "column", (double)f->loc.column);
    cJSON_AddNumberToObject(j, "offset", (double)f->loc.offset);
    if (f->loc.outer_len)
        cJSON_AddNumberToObject(j, "outer", (double)f->loc.outer_len);
    if (f->content.set) {
        char d[160];
        digest_text(&f->content, d);
        cJSON_AddStringToObject(j, "content", d);
    }
    return j;
}

static cJSON *prov_json(const struct rmg_layer_prov *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *dbs = cJSON_AddArrayToObject(o, "db");
    cJSON *arcs = cJSON_AddArrayToObject(o, "archives");
    bool ok = dbs && arcs;
    for (size_t i = 0; ok && p && i < p->n_files; i++) {
        const struct rmg_db_file *f = &p->files[i];
        char *b64 = f->len < (1u << 30) ? malloc((f->len + 2) / 3 * 4 + 1) : NULL;
        ok = b64 != NULL;
        if (ok)
            EVP_EncodeBlock((unsigned char *)b64, f->data, (int)f->len);
        cJSON *e = ok ? cJSON_CreateObject() : NULL;
        ok = e && cJSON_AddStringToObject(e, "path", f->path) &&
             cJSON_AddStringToObject(e, "data", b64) && cJSON_AddItemToArray(dbs, e);
        free(b64);
    }
    for (const struct rmg_archive_digest *a = p ? p->archives : NULL; ok && a; a = a->next) {
        if (!a->d.set)
            continue;
        char d[160];
        digest_text(&a->d, d);
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddStringToObject(e, "path", a->path) &&
             cJSON_AddStringToObject(e, "d", d) && cJSON_AddItemToArray(arcs, e);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

bool rmg_cache_store(struct rmg_cache *c, const char *digest, const struct rmg_results *lr,
                     int blob, const struct rmg_pathset *paths,
                     const struct rmg_layer_prov *prov)
{
    char path[4400], key[65], err[256];
    if (!c || !paths || (prov && prov->raw_incomplete) ||
        !entry_path(c, digest, path, sizeof path, key))
        return false;
    cJSON *doc = cJSON_CreateObject();
    cJSON *fs = cJSON_AddArrayToObject(doc, "findings");
    cJSON *ps = cJSON_CreateArray();
    cJSON_AddNumberToObject(doc, "rummage_layer_cache", CACHE_FORMAT);
    cJSON_AddStringToObject(doc, "key", key);
    cJSON_AddStringToObject(doc, "digest", digest);
    bool ok = fs && ps && cJSON_AddItemToObject(doc, "paths", ps);
    if (!ok)
        cJSON_Delete(ps);
    for (size_t i = 0; ok && i < lr->n_findings; i++)
        if (lr->findings[i].loc.layer_index == blob)
            ok = cJSON_AddItemToArray(fs, finding_json(&lr->findings[i]));
    ok = ok && rmg_pathset_each(paths, add_path, ps);
    cJSON *pj = ok ? prov_json(prov) : NULL;
    ok = pj && cJSON_AddItemToObject(doc, "provenance", pj);
    char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return false;
    /* DIR/layers/KK: made on first use; then a temporary file beside the entry, renamed. */
    char dir[4400], tmp[4500];
    rmg_fmt(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
    rmg_fmt(tmp, sizeof tmp, "%s/.tmp-XXXXXX", dir);
    int fd = make_dirs(dir, err, sizeof err) ? mkostemp(tmp, O_CLOEXEC) : -1;
    ok = fd >= 0 && fchmod(fd, 0600) == 0;
    for (size_t done = 0, n = strlen(text); ok && done < n;) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok && fd >= 0)
        unlink(tmp);
    free(text);
    return ok;
}
