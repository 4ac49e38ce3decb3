/* apk.c: Alpine's installed database (see apk.h).
 *
 * DESIGN. A record (one package) is read twice: first for its P and V, so the package exists
 * before its files whatever the line order, then for F, R and Z. An R line waits for its Z
 * until the next R or F or the record's end (other lines, such as the a: owner and mode line,
 * may come between); a file that never gets one is claimed by attribution. */
#include "provenance/apk.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "provenance/store.h"

struct record {
    struct rmg_pkgdb *db;
    struct rmg_pkgwarn *w;
    uint32_t pkg;
    char dir[RMG_PKG_MAX_PATH + 1];
    size_t dir_n;
    bool dir_ok;
    char file[RMG_PKG_MAX_PATH + 1];
    size_t file_n; /* 0: no R waiting for its Z */
    bool stop;
};

/* A "K:value" line: key and value, or false. */
static bool kv(const char *l, size_t n, char *key, const char **v, size_t *vn)
{
    if (n < 2 || l[1] != ':')
        return false;
    *key = l[0];
    *v = l + 2;
    *vn = n - 2;
    return true;
}

static enum rmg_status put(struct record *r, enum rmg_digest_alg alg, const unsigned char *d,
                           unsigned long lineno)
{
    if (!r->file_n)
        return RMG_OK;
    enum rmg_status st = rmg_store_file(r->db, r->pkg, r->file, r->file_n, alg, d, false);
    r->file_n = 0;
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(r->w, "installed line %lu: entry limit reached, the rest is not read",
                        lineno);
        r->stop = true;
        return RMG_OK;
    }
    return st;
}

/* Z: the digest of the waiting R. */
static enum rmg_status digest(struct record *r, const char *v, size_t vn, unsigned long lineno)
{
    char q[RMG_PKG_QUOTE_CAP];
    if (!r->file_n) {
        rmg_pkgwarn_add(r->w, "installed line %lu: Z: without an R: before it", lineno);
        return RMG_OK;
    }
    unsigned char d[32];
    size_t dn = 0;
    enum rmg_digest_alg alg = RMG_DIGEST_NONE;
    if (vn > 2 && v[0] == 'Q' && v[1] == '1' && rmg_b64_decode(v + 2, vn - 2, d, 32, &dn) &&
        dn == 20)
        alg = RMG_DIGEST_SHA1;
    else if (vn > 2 && v[0] == 'Q' && v[1] == '2' &&
             rmg_b64_decode(v + 2, vn - 2, d, 32, &dn) && dn == 32)
        alg = RMG_DIGEST_SHA256;
    else if (vn == 32 && rmg_hex_decode(v, 32, d))
        alg = RMG_DIGEST_MD5;
    if (alg == RMG_DIGEST_NONE) {
        /* an unreadable digest is no claim at all: the file stays unverified */
        rmg_pkgwarn_add(r->w, "installed line %lu: Z: is not a Q1/Q2 or md5 digest: \"%s\"",
                        lineno, rmg_pkg_quote(q, v, vn));
        r->file_n = 0;
        return RMG_OK;
    }
    return put(r, alg, d, lineno);
}

static enum rmg_status files(struct record *r, const char *data, size_t len,
                             unsigned long line0)
{
    char q[RMG_PKG_QUOTE_CAP];
    struct rmg_lines it;
    rmg_lines_init(&it, data, len);
    const char *l, *v;
    size_t n, vn;
    char key;
    enum rmg_status st = RMG_OK;
    r->dir_n = 0;
    r->dir_ok = true;
    r->file_n = 0;
    while (!r->stop && st == RMG_OK && rmg_lines_next(&it, &l, &n)) {
        unsigned long lineno = line0 + it.lineno - 1;
        if (!kv(l, n, &key, &v, &vn) || (key != 'F' && key != 'R' && key != 'Z'))
            continue;
        if (key == 'Z') {
            st = digest(r, v, vn, lineno);
            continue;
        }
        if ((st = put(r, RMG_DIGEST_NONE, NULL, lineno)) != RMG_OK || r->stop)
            break;
        if (key == 'F') {
            r->dir_n = rmg_pkgpath_join("", 0, v, vn, r->dir, sizeof r->dir);
            r->dir_ok = r->dir_n != 0;
            if (!r->dir_ok)
                rmg_pkgwarn_add(r->w, "installed line %lu: directory rejected: \"%s\"",
                                lineno, rmg_pkg_quote(q, v, vn));
            continue;
        }
        if (!r->dir_ok)
            continue;
        r->file_n = rmg_pkgpath_file(r->dir, r->dir_n, v, vn, r->file, sizeof r->file);
        if (!r->file_n)
            rmg_pkgwarn_add(r->w, "installed line %lu: file rejected: \"%s\"", lineno,
                            rmg_pkg_quote(q, v, vn));
    }
    if (st == RMG_OK && !r->stop)
        st = put(r, RMG_DIGEST_NONE, NULL, line0 + it.lineno);
    return st;
}

/* One record, data[0..len) starting at line line0. */
static enum rmg_status record(struct record *r, const char *data, size_t len,
                              unsigned long line0)
{
    char q[RMG_PKG_QUOTE_CAP];
    struct rmg_lines it;
    rmg_lines_init(&it, data, len);
    const char *l, *v, *name = NULL, *ver = NULL;
    size_t n, vn, name_n = 0, ver_n = 0;
    bool has_files = false, bad_line = false;
    char key;
    while (rmg_lines_next(&it, &l, &n)) {
        if (!kv(l, n, &key, &v, &vn)) {
            if (!bad_line)
                rmg_pkgwarn_add(r->w, "installed line %lu: not a \"K:value\" line: \"%s\"",
                                line0 + it.lineno - 1, rmg_pkg_quote(q, l, n));
            bad_line = true;
        } else if (key == 'P' && !name) {
            name = v;
            name_n = vn;
        } else if (key == 'V' && !ver) {
            ver = v;
            ver_n = vn;
        } else if (key == 'R') {
            has_files = true;
        }
    }
    if (!name) {
        if (has_files)
            rmg_pkgwarn_add(r->w, "installed line %lu: record with files but no P:", line0);
        return RMG_OK;
    }
    if (!rmg_pkg_text_ok(name, name_n, RMG_PKG_MAX_NAME)) {
        rmg_pkgwarn_add(r->w, "installed line %lu: bad package name \"%s\"", line0,
                        rmg_pkg_quote(q, name, name_n));
        return RMG_OK;
    }
    if (ver && !rmg_pkg_text_ok(ver, ver_n, RMG_PKG_MAX_VERSION)) {
        rmg_pkgwarn_add(r->w, "installed line %lu: bad version \"%s\"", line0,
                        rmg_pkg_quote(q, ver, ver_n));
        ver = NULL;
    }
    enum rmg_status st =
        rmg_store_package(r->db, RMG_PKG_APK, name, name_n, ver, ver ? ver_n : 0, &r->pkg);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(r->w, "installed line %lu: package limit reached, the rest is not read",
                        line0);
        r->stop = true;
        return RMG_OK;
    }
    if (st != RMG_OK || !has_files)
        return st;
    return files(r, data, len, line0);
}

enum rmg_status rmg_apk_parse_installed(struct rmg_pkgdb *db, const char *data, size_t len,
                                        struct rmg_pkgwarn *w)
{
    struct record *r = calloc(1, sizeof *r); /* two path buffers: not on the stack */
    if (!r)
        return RMG_ENOMEM;
    r->db = db;
    r->w = w;
    struct rmg_lines it;
    rmg_lines_init(&it, data, len);
    const char *l;
    size_t n, start = 0;
    unsigned long line0 = 1;
    enum rmg_status st = RMG_OK;
    while (st == RMG_OK && !r->stop) {
        size_t before = it.pos;
        bool more = rmg_lines_next(&it, &l, &n);
        if (!more || n == 0) {
            size_t end = more ? before : it.pos;
            if (end > start)
                st = record(r, data + start, end - start, line0);
            if (!more)
                break;
            start = it.pos;
            line0 = it.lineno + 1;
        }
    }
    free(r);
    return st;
}
