/* python.c: a Python distribution's RECORD file (see python.h).
 *
 * DESIGN. The CSV reader follows what Python's csv module writes and reads: a field may be
 * double-quoted, "" inside quotes is one quote, a quoted field may hold commas and newlines,
 * and rows end with "\n" or "\r\n". Fields are copied into fixed buffers (a path of at most
 * RMG_PKG_MAX_PATH bytes, a hash of at most 128); a longer field makes its row a warning but
 * is still consumed, so one bad row never shifts the rows after it. */
#include "provenance/python.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "provenance/store.h"

#define MAX_HASH 128

struct field {
    char *buf;
    size_t cap, n;
    bool too_long;
};

struct csv {
    const char *d;
    size_t len, pos;
    unsigned long line; /* the line the current row starts on */
    unsigned long lines; /* newlines consumed so far */
};

static void field_put(struct field *f, char c)
{
    if (!f)
        return;
    if (f->n + 1 < f->cap)
        f->buf[f->n++] = c;
    else
        f->too_long = true;
}

/* Reads one row into f[0..3) (later fields are consumed and dropped). False at the end of
 * the data; *unterminated when the data ends inside quotes. */
static bool csv_row(struct csv *c, struct field *f, size_t *nfields, bool *unterminated)
{
    *nfields = 0;
    *unterminated = false;
    for (int i = 0; i < 3; i++) {
        f[i].n = 0;
        f[i].too_long = false;
    }
    if (c->pos >= c->len)
        return false;
    c->line = c->lines + 1;
    for (;;) {
        struct field *cur = *nfields < 3 ? &f[*nfields] : NULL;
        (*nfields)++;
        bool quoted = false;
        if (c->pos < c->len && c->d[c->pos] == '"') {
            quoted = true;
            c->pos++;
        }
        while (c->pos < c->len) {
            char ch = c->d[c->pos];
            if (quoted) {
                if (ch == '"') {
                    if (c->pos + 1 < c->len && c->d[c->pos + 1] == '"') {
                        field_put(cur, '"');
                        c->pos += 2;
                        continue;
                    }
                    quoted = false;
                    c->pos++;
                    continue;
                }
                if (ch == '\n')
                    c->lines++;
                field_put(cur, ch);
                c->pos++;
                continue;
            }
            if (ch == ',' || ch == '\n')
                break;
            if (ch == '\r' && (c->pos + 1 == c->len || c->d[c->pos + 1] == '\n')) {
                c->pos++;
                continue;
            }
            field_put(cur, ch);
            c->pos++;
        }
        if (quoted) {
            *unterminated = true;
            return true;
        }
        if (c->pos < c->len && c->d[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len) { /* '\n' */
            c->pos++;
            c->lines++;
        }
        return true;
    }
}

/* The hash field: *alg and d, or false when it is malformed. */
static bool parse_hash(const char *h, size_t n, enum rmg_digest_alg *alg, unsigned char *d)
{
    *alg = RMG_DIGEST_NONE;
    if (n == 0)
        return true;
    const char *eq = memchr(h, '=', n);
    if (!eq || eq == h)
        return false;
    size_t an = (size_t)(eq - h), dn = 0;
    if (an == 6 && memcmp(h, "sha256", 6) == 0) {
        /* PEP 376 says urlsafe base64; some Debian packages' RECORD files (rewritten at build
         * time) hold the digest in hex: 64 hex digits are never 43 base64 ones. */
        if (n - an - 1 == 64 && rmg_hex_decode(eq + 1, 64, d)) {
            *alg = RMG_DIGEST_SHA256;
            return true;
        }
        if (!rmg_b64_decode(eq + 1, n - an - 1, d, 32, &dn) || dn != 32)
            return false;
        *alg = RMG_DIGEST_SHA256;
        return true;
    }
    /* another algorithm (sha384, sha512, ...): the row still claims the file */
    for (size_t i = 0; i < an; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= '0' && h[i] <= '9') || h[i] == '_'))
            return false;
    return true;
}

struct rec {
    struct rmg_pkgdb *db;
    struct rmg_pkgwarn *w;
    uint32_t pkg;
    const char *base;
    size_t base_n;
    char path[RMG_PKG_MAX_PATH + 1], hash[MAX_HASH + 1], size[32];
    char out[RMG_PKG_MAX_PATH + 1];
};

/* One row; RMG_SKIP when the entry limit stops the file. */
static enum rmg_status row(struct rec *r, const struct field *f, size_t nf, unsigned long line)
{
    char q[RMG_PKG_QUOTE_CAP];
    if (nf == 1 && f[0].n == 0 && !f[0].too_long)
        return RMG_OK; /* an empty line */
    if (f[0].too_long || f[1].too_long) {
        rmg_pkgwarn_add(r->w, "RECORD line %lu: field longer than %u bytes", line,
                        f[0].too_long ? RMG_PKG_MAX_PATH : MAX_HASH);
        return RMG_OK;
    }
    if (f[0].n == 0) {
        rmg_pkgwarn_add(r->w, "RECORD line %lu: empty path", line);
        return RMG_OK;
    }
    if (f[0].buf[0] == '/') {
        rmg_pkgwarn_add(r->w, "RECORD line %lu: absolute path not taken: \"%s\"", line,
                        rmg_pkg_quote(q, f[0].buf, f[0].n));
        return RMG_OK;
    }
    enum rmg_digest_alg alg;
    unsigned char d[32];
    if (!parse_hash(f[1].buf, nf > 1 ? f[1].n : 0, &alg, d)) {
        rmg_pkgwarn_add(r->w, "RECORD line %lu: hash is not \"sha256=<base64>\": \"%s\"", line,
                        rmg_pkg_quote(q, f[1].buf, f[1].n));
        return RMG_OK;
    }
    size_t pn = rmg_pkgpath_file(r->base, r->base_n, f[0].buf, f[0].n, r->out, sizeof r->out);
    if (!pn) {
        rmg_pkgwarn_add(r->w, "RECORD line %lu: path rejected: \"%s\"", line,
                        rmg_pkg_quote(q, f[0].buf, f[0].n));
        return RMG_OK;
    }
    enum rmg_status st = rmg_store_file(r->db, r->pkg, r->out, pn, alg, d, false);
    if (st == RMG_SKIP)
        rmg_pkgwarn_add(r->w, "RECORD line %lu: entry limit reached, the rest is not read",
                        line);
    return st;
}

enum rmg_status rmg_python_parse_record(struct rmg_pkgdb *db, const char *path, size_t plen,
                                        const char *data, size_t len, struct rmg_pkgwarn *w)
{
    char q[RMG_PKG_QUOTE_CAP];
    /* ".../NAME-VERSION.dist-info/RECORD" */
    size_t end = plen - 7; /* "/RECORD" */
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    const char *stem = path + start;
    size_t stem_n = end - start - 10; /* ".dist-info" */
    const char *dash = NULL;
    for (size_t i = stem_n; i > 0; i--)
        if (stem[i - 1] == '-') {
            dash = stem + i - 1;
            break;
        }
    size_t name_n = dash ? (size_t)(dash - stem) : stem_n;
    const char *ver = dash ? dash + 1 : NULL;
    size_t ver_n = dash ? stem_n - name_n - 1 : 0;
    if (!rmg_pkg_text_ok(stem, name_n, RMG_PKG_MAX_NAME)) {
        rmg_pkgwarn_add(w, "RECORD: bad distribution name \"%s\"",
                        rmg_pkg_quote(q, stem, name_n));
        return RMG_OK;
    }
    if (ver && !rmg_pkg_text_ok(ver, ver_n, RMG_PKG_MAX_VERSION))
        ver = NULL;
    struct rec *r = calloc(1, sizeof *r); /* the field buffers: not on the stack */
    if (!r)
        return RMG_ENOMEM;
    r->db = db;
    r->w = w;
    r->base = path;
    r->base_n = start ? start - 1 : 0;
    enum rmg_status st =
        rmg_store_package(db, RMG_PKG_PYTHON, stem, name_n, ver, ver ? ver_n : 0, &r->pkg);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(w, "RECORD: package limit reached, the file is not read");
        st = RMG_OK;
    } else if (st == RMG_OK) {
        struct field f[3] = {{r->path, sizeof r->path, 0, false},
                             {r->hash, sizeof r->hash, 0, false},
                             {r->size, sizeof r->size, 0, false}};
        struct csv c = {data, data ? len : 0, 0, 0, 0};
        size_t nf;
        bool unterminated;
        while (st == RMG_OK && csv_row(&c, f, &nf, &unterminated)) {
            for (int i = 0; i < 3; i++)
                f[i].buf[f[i].n] = '\0';
            if (unterminated) {
                rmg_pkgwarn_add(w, "RECORD line %lu: quoted field not closed", c.line);
                break;
            }
            if (memchr(f[0].buf, '\0', f[0].n) || memchr(f[1].buf, '\0', f[1].n)) {
                rmg_pkgwarn_add(w, "RECORD line %lu: NUL byte in a field", c.line);
                continue;
            }
            st = row(r, f, nf, c.line);
        }
        if (st == RMG_SKIP)
            st = RMG_OK;
    }
    free(r);
    return st;
}
