/* pkgdb.c: the package-database API (see pkgdb.h): which layer files are databases, handing
 * each to its format's parser, and the lookups answered from the store (store.c).
 *
 * DESIGN. rmg_pkgdb_wants runs for every file of every layer, so it looks only at the last
 * few path components, from the end, with no allocation; rmg_pkgdb_add_file classifies the
 * path the same way and so reads exactly what wants accepts. Only Maven's pom.properties is
 * taken from inside an archive: the other formats describe installed files, which a nested
 * copy is not. */
#include "provenance/pkgdb.h"

#include <stdio.h>
#include <string.h>

#include "provenance/apk.h"
#include "provenance/dpkg.h"
#include "provenance/gem.h"
#include "provenance/maven.h"
#include "provenance/npm.h"
#include "provenance/python.h"
#include "provenance/rpm.h"
#include "provenance/store.h"
#include "provenance/text.h"

enum kind {
    K_NONE,
    K_DPKG_STATUS,
    K_DPKG_STATUS_D,
    K_DPKG_MD5SUMS,
    K_APK,
    K_PYTHON,
    K_NPM,
    K_GEM,
    K_MAVEN,
    K_RPM_SQLITE,
    K_RPM_OLD
};

/* A path component, [s, s + n). */
struct comp {
    const char *s;
    size_t n;
};

static bool is(struct comp c, const char *w)
{
    size_t n = strlen(w);
    return c.n == n && memcmp(c.s, w, n) == 0;
}

static bool ends_with(struct comp c, const char *w)
{
    size_t n = strlen(w);
    return c.n >= n && memcmp(c.s + c.n - n, w, n) == 0;
}

/* Up to `max` components of path[0..len), last first; returns how many were found. c[k]
 * for k < result is the k-th component from the end. */
static size_t last_components(const char *path, size_t len, struct comp *c, size_t max)
{
    size_t k = 0, end = len;
    while (k < max && end > 0) {
        size_t start = end;
        while (start > 0 && path[start - 1] != '/')
            start--;
        c[k].s = path + start;
        c[k].n = end - start;
        k++;
        if (start == 0)
            break;
        end = start - 1;
    }
    return k;
}

/* Is path[0..len) dir + "/" + base for one of rpm's two database directories? */
static bool in_rpm_dir(const char *path, size_t len, const char *base)
{
    static const char *const dirs[] = {"/var/lib/rpm/", "/usr/lib/sysimage/rpm/"};
    size_t bn = strlen(base);
    for (size_t i = 0; i < 2; i++) {
        size_t dn = strlen(dirs[i]);
        if (len == dn + bn && memcmp(path, dirs[i], dn) == 0 &&
            memcmp(path + dn, base, bn) == 0)
            return true;
    }
    return false;
}

static bool nested(const char *path)
{
    return strstr(path, "!/") != NULL;
}

static enum kind classify(const char *path, size_t len)
{
    if (len < 2 || path[0] != '/' || path[len - 1] == '/')
        return K_NONE;
    struct comp c[6];
    size_t k = last_components(path, len, c, 6);
    if (k < 2 || c[0].n == 0)
        return K_NONE;
    size_t dir_n = (size_t)(c[0].s - path) - 1; /* the dirname's length */
    if (is(c[0], "status"))
        return len == 20 && memcmp(path, "/var/lib/dpkg/status", 20) == 0 ? K_DPKG_STATUS
                                                                           : K_NONE;
    if (is(c[0], "installed"))
        return (len == 21 && memcmp(path, "/lib/apk/db/installed", 21) == 0) ||
                       (len == 25 && memcmp(path, "/usr/lib/apk/db/installed", 25) == 0)
                   ? K_APK
                   : K_NONE;
    if (is(c[0], "rpmdb.sqlite"))
        return in_rpm_dir(path, len, "rpmdb.sqlite") ? K_RPM_SQLITE : K_NONE;
    if (is(c[0], "Packages") || is(c[0], "Packages.db")) /* Berkeley DB, NDB */
        return in_rpm_dir(path, len, c[0].n == 8 ? "Packages" : "Packages.db") ? K_RPM_OLD
                                                                                : K_NONE;
    if (dir_n == 18 && memcmp(path, "/var/lib/dpkg/info", 18) == 0)
        return c[0].n > 8 && ends_with(c[0], ".md5sums") ? K_DPKG_MD5SUMS : K_NONE;
    if (dir_n == 22 && memcmp(path, "/var/lib/dpkg/status.d", 22) == 0) {
        if (c[0].s[0] == '.')
            return K_NONE;
        return ends_with(c[0], ".md5sums") ? (c[0].n > 8 ? K_DPKG_MD5SUMS : K_NONE)
                                           : K_DPKG_STATUS_D;
    }
    if (is(c[0], "RECORD"))
        return c[1].n > 10 && ends_with(c[1], ".dist-info") && !nested(path) ? K_PYTHON
                                                                            : K_NONE;
    if (is(c[0], "package.json")) {
        if (k >= 3 && is(c[2], "node_modules") && c[1].s[0] != '.' && c[1].s[0] != '@')
            return nested(path) ? K_NONE : K_NPM;
        if (k >= 4 && is(c[3], "node_modules") && c[2].n > 1 && c[2].s[0] == '@' &&
            c[1].s[0] != '.' && c[1].n > 0)
            return nested(path) ? K_NONE : K_NPM;
        return K_NONE;
    }
    if (c[0].n > 8 && ends_with(c[0], ".gemspec"))
        return is(c[1], "specifications") && !nested(path) ? K_GEM : K_NONE;
    if (is(c[0], "pom.properties"))
        return k == 6 && c[1].n && c[2].n && is(c[3], "maven") && is(c[4], "META-INF") &&
                       c[5].n > 1 && c[5].s[c[5].n - 1] == '!'
                   ? K_MAVEN
                   : K_NONE;
    return K_NONE;
}

struct rmg_pkgdb *rmg_pkgdb_new(void)
{
    return rmg_store_new(RMG_PKGDB_MAX_ENTRIES, RMG_PKGDB_MAX_PACKAGES);
}

void rmg_pkgdb_free(struct rmg_pkgdb *db)
{
    rmg_store_free(db);
}

void rmg_pkgdb_set_limits(struct rmg_pkgdb *db, size_t max_entries, size_t max_packages)
{
    if (db)
        rmg_store_set_limits(db, max_entries, max_packages);
}

bool rmg_pkgdb_wants(const char *path)
{
    return path && classify(path, strlen(path)) != K_NONE;
}

enum rmg_status rmg_pkgdb_add_file(struct rmg_pkgdb *db, const char *path, const void *data,
                                   size_t len, char *err, size_t errlen)
{
    struct rmg_pkgwarn w;
    rmg_pkgwarn_init(&w, err, errlen);
    size_t plen = path ? strlen(path) : 0;
    enum kind kind = path && db ? classify(path, plen) : K_NONE;
    if (kind == K_NONE) {
        if (w.errlen)
            snprintf(w.err, w.errlen, "not a package database file");
        return RMG_SKIP;
    }
    if (!data)
        len = 0;
    const char *d = data ? data : "";
    const char *base = strrchr(path, '/') + 1;
    enum rmg_status st = RMG_OK;
    switch (kind) {
    case K_DPKG_STATUS:
    case K_DPKG_STATUS_D:
        st = rmg_dpkg_parse_status(db, d, len, kind == K_DPKG_STATUS_D, &w);
        break;
    case K_DPKG_MD5SUMS:
        st = rmg_dpkg_parse_md5sums(db, base, strlen(base), d, len, &w);
        break;
    case K_APK: st = rmg_apk_parse_installed(db, d, len, &w); break;
    case K_PYTHON: st = rmg_python_parse_record(db, path, plen, d, len, &w); break;
    case K_NPM: st = rmg_npm_parse_package_json(db, path, plen, d, len, &w); break;
    case K_GEM: st = rmg_gem_parse_spec(db, path, plen, &w); break;
    case K_MAVEN: st = rmg_maven_parse_pom_properties(db, path, plen, d, len, &w); break;
    case K_RPM_SQLITE: st = rmg_rpm_parse_sqlite(db, d, len, &w); break;
    case K_RPM_OLD:
        /* librpm reads these only from a database directory on disk (its bdb_ro and ndb
         * backends open files by path): nothing to hand it the bytes. Fail closed. */
        rmg_pkgwarn_add(&w, "rpm database in Berkeley DB/NDB format: not read");
        break;
    case K_NONE: break;
    }
    if (st == RMG_ENOMEM) {
        if (w.errlen)
            snprintf(w.err, w.errlen, "out of memory reading the package database");
        return st;
    }
    rmg_pkgwarn_finish(&w);
    return w.count ? RMG_WARN : RMG_OK;
}

bool rmg_pkgdb_lookup(const struct rmg_pkgdb *db, const char *path, struct rmg_pkg_claim *out)
{
    memset(out, 0, sizeof *out);
    return db && path && rmg_store_claims(db, path, out, 1) > 0;
}

size_t rmg_pkgdb_claims(const struct rmg_pkgdb *db, const char *path,
                        struct rmg_pkg_claim *out, size_t max)
{
    return db && path ? rmg_store_claims(db, path, out, max) : 0;
}

enum rmg_pkg_verdict rmg_pkgdb_verify(const struct rmg_pkgdb *db, const char *path,
                                      const void *data, size_t len, struct rmg_pkg_claim *out)
{
    struct rmg_pkg_claim c[RMG_STORE_MAX_CLAIMS], none;
    if (!out)
        out = &none;
    memset(out, 0, sizeof *out);
    size_t n = rmg_pkgdb_claims(db, path, c, RMG_STORE_MAX_CLAIMS);
    if (n > RMG_STORE_MAX_CLAIMS)
        n = RMG_STORE_MAX_CLAIMS;
    if (n == 0)
        return RMG_PKG_UNCLAIMED;
    /* one digest per algorithm, computed on first need */
    unsigned char d[4][32];
    int have[4] = {0}; /* 0 not yet, 1 computed, -1 failed */
    const struct rmg_pkg_claim *first_digest = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned a = (unsigned)c[i].alg;
        if (c[i].alg == RMG_DIGEST_NONE || a > 3)
            continue;
        if (!first_digest)
            first_digest = &c[i];
        if (!have[a])
            have[a] = rmg_digest_compute(c[i].alg, data, len, d[a]) ? 1 : -1;
        if (have[a] == 1 && memcmp(d[a], c[i].digest, rmg_digest_len(c[i].alg)) == 0) {
            *out = c[i];
            return RMG_PKG_VERIFIED;
        }
    }
    *out = first_digest ? *first_digest : c[0];
    return first_digest ? RMG_PKG_MODIFIED : RMG_PKG_ATTRIBUTED;
}

const char *rmg_pkgdb_dpkg_version(const struct rmg_pkgdb *db, const char *name)
{
    if (!db || !name)
        return NULL;
    uint32_t idx = rmg_store_dpkg_find(db, name, strlen(name));
    if (idx == RMG_STORE_NO_PKG || rmg_store_pkg_state(db, idx) != RMG_PKG_STATE_INSTALLED)
        return NULL;
    return rmg_store_pkg_version(db, idx);
}

enum rmg_pkg_state rmg_pkgdb_dpkg_state(const struct rmg_pkgdb *db, const char *name)
{
    if (!db || !name)
        return RMG_PKG_STATE_UNKNOWN;
    uint32_t idx = rmg_store_dpkg_find(db, name, strlen(name));
    return idx == RMG_STORE_NO_PKG ? RMG_PKG_STATE_UNKNOWN
                                   : rmg_store_pkg_state(db, idx);
}

void rmg_pkgdb_stats(const struct rmg_pkgdb *db, size_t *entries, size_t *packages,
                     size_t *bytes)
{
    if (db) {
        rmg_store_stats(db, entries, packages, bytes);
        return;
    }
    if (entries)
        *entries = 0;
    if (packages)
        *packages = 0;
    if (bytes)
        *bytes = 0;
}
