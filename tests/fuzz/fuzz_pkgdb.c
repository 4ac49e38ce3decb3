/* fuzz_pkgdb.c: libFuzzer target: arbitrary bytes as one package-database file. The first byte
 * picks the file (its value mod 8: dpkg status, status.d stanza, md5sums, apk installed,
 * Python RECORD, npm package.json, gemspec, Maven pom.properties; but 0x40-0x5e: rpm's
 * rpmdb.sqlite, 0x5f: its Berkeley DB Packages; bit 0x80 sets small entry and package
 * limits), the rest is its content. Then paths made from the content's lines are
 * looked up. Checked: no crash, leak or sanitizer report; a wanted path is never skipped; a
 * warning says why in printable text; reading the same file again adds nothing; lookups are
 * repeatable, agree with rmg_pkgdb_claims and rmg_pkgdb_verify, and return whole claims;
 * the limits hold. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provenance/pkgdb.h"

#define MAX_LINES 24
#define MAX_PATH_LEN 600

static const char *const files[10] = {
    "/var/lib/dpkg/status",
    "/var/lib/dpkg/status.d/pkg",
    "/var/lib/dpkg/info/pkg:amd64.md5sums",
    "/lib/apk/db/installed",
    "/usr/lib/python3/site-packages/pkg-1.0.dist-info/RECORD",
    "/app/node_modules/@s/pkg/package.json",
    "/usr/local/bundle/specifications/pkg-1.0.gemspec",
    "/app/x.jar!/META-INF/maven/g/a/pom.properties",
    "/var/lib/rpm/rpmdb.sqlite",
    "/var/lib/rpm/Packages",
};

/* The file data[0] picks (see above). */
static unsigned kind_of(uint8_t b)
{
    unsigned k = b & 0x7fu;
    return k >= 0x40 && k < 0x5f ? 8 : k == 0x5f ? 9 : k % 8;
}

/* Where a line's path would land for each format. */
static const char *const bases[] = {
    "", "/usr", "/usr/lib/python3/site-packages", "/app/node_modules/@s/pkg",
    "/usr/local/bundle/gems/pkg-1.0", "/app/x.jar!",
};

static void check_claim(const struct rmg_pkg_claim *c)
{
    if (!c->name || !c->name[0] || (unsigned)c->manager > RMG_PKG_RPM ||
        (unsigned)c->alg > RMG_DIGEST_SHA256)
        abort();
    if (c->conffile && !(c->manager == RMG_PKG_DPKG && c->alg == RMG_DIGEST_MD5) &&
        !(c->manager == RMG_PKG_RPM && c->alg != RMG_DIGEST_NONE))
        abort();
    (void)strlen(c->name);
    if (c->version)
        (void)strlen(c->version);
}

static void check_path(const struct rmg_pkgdb *db, const char *path)
{
    struct rmg_pkg_claim a, b, all[8];
    bool hit = rmg_pkgdb_lookup(db, path, &a);
    if (rmg_pkgdb_lookup(db, path, &b) != hit || memcmp(&a, &b, sizeof a) != 0)
        abort(); /* not repeatable */
    size_t n = rmg_pkgdb_claims(db, path, all, 8);
    if ((n > 0) != hit || n > 8)
        abort();
    if (hit && memcmp(&all[0], &a, sizeof a) != 0)
        abort(); /* lookup is the first claim */
    for (size_t i = 0; i < n; i++)
        check_claim(&all[i]);
    /* the bytes a verified claim wants are unknown here: any bytes are modified or
     * attributed, never verified unless a digest really matches */
    struct rmg_pkg_claim v;
    enum rmg_pkg_verdict verdict = rmg_pkgdb_verify(db, path, path, strlen(path), &v);
    if ((verdict == RMG_PKG_UNCLAIMED) != !hit)
        abort();
    if (verdict == RMG_PKG_VERIFIED && !rmg_pkg_claim_matches(&v, path, strlen(path)))
        abort();
    if (verdict == RMG_PKG_ATTRIBUTED && v.alg != RMG_DIGEST_NONE)
        abort();
}

static void check_err(const char *err)
{
    if (!err[0])
        abort(); /* a warning says why */
    for (const char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            abort(); /* quoted input is escaped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned kind = kind_of(data[0]);
    const char *path = files[kind];
    bool small = data[0] & 0x80;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (!rmg_pkgdb_wants(path))
        abort();
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    if (!db)
        return 0;
    if (small)
        rmg_pkgdb_set_limits(db, 40, 4);
    char err[512];
    enum rmg_status st = rmg_pkgdb_add_file(db, path, text, len, err, sizeof err);
    if (st == RMG_ENOMEM) {
        rmg_pkgdb_free(db);
        return 0;
    }
    if (st != RMG_OK && st != RMG_WARN)
        abort();
    if (st == RMG_WARN)
        check_err(err);
    size_t entries, packages, bytes;
    rmg_pkgdb_stats(db, &entries, &packages, &bytes);
    if (small && (entries > 40 || packages > 4))
        abort(); /* the limits hold */
    /* the same file again adds nothing */
    st = rmg_pkgdb_add_file(db, path, text, len, err, sizeof err);
    size_t entries2, packages2;
    rmg_pkgdb_stats(db, &entries2, &packages2, NULL);
    if (st != RMG_ENOMEM && (entries2 != entries || packages2 != packages))
        abort();

    /* lookups: each line as a path below each base, and as it stands */
    const char *p = text, *end = text + len;
    char buf[MAX_PATH_LEN + 64];
    for (int k = 0; k < MAX_LINES && p < end; k++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p), m = 0;
        char line[MAX_PATH_LEN + 1];
        /* md5sums and RECORD put the path after the digest or before the comma */
        size_t skip = n > 34 && p[32] == ' ' ? 34 : 0;
        for (size_t i = skip; i < n && m < MAX_PATH_LEN; i++) {
            if (p[i] == '\0' || (p[i] == ',' && kind == 4))
                break;
            line[m++] = p[i];
        }
        line[m] = '\0';
        for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            snprintf(buf, sizeof buf, "%s/%s", bases[b], line);
            check_path(db, buf);
        }
        check_path(db, line);
        p = nl ? nl + 1 : end;
    }
    static const char *const fixed[] = {
        "/", "", "/etc/passwd", "/usr/bin/bash", "/bin/bash", "/app/node_modules/@s/pkg/x.js",
        "/app/node_modules/@s/pkg/node_modules/y/z.js", "/app/x.jar!/a/b.class",
        "/usr/local/bundle/gems/pkg-1.0/lib/x.rb", "/usr/lib/python3/site-packages/pkg/x.py",
        "/etc/rmg.conf", "/opt/rmg/example.txt",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_path(db, fixed[i]);
    (void)rmg_pkgdb_dpkg_version(db, "pkg");
    (void)rmg_pkgdb_dpkg_state(db, "pkg");
    rmg_pkgdb_free(db);
    return 0;
}
