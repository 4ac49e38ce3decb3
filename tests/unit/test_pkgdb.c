/* test_pkgdb.c: the package-database parsers and store (src/provenance/): which layer files
 * are databases; dpkg status, conffiles, md5sums (with :arch, distroless status.d and merged
 * /usr aliasing); apk's installed db; Python RECORD (../ paths, quoted CSV, attribution rows);
 * npm package dirs (nearest package, node_modules boundary, scopes); gems; Maven
 * pom.properties in jars; verify against real digests; several claims on one path; malformed
 * and hostile input (truncated, huge fields, NULs, no final newline, duplicates) giving
 * RMG_WARN with escaped messages; the entry and package limits; the memory per entry. The
 * inputs are written here, shaped like the real files. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "provenance/pkgdb.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static char errbuf[1024];

static enum rmg_status add(struct rmg_pkgdb *db, const char *path, const char *text)
{
    return rmg_pkgdb_add_file(db, path, text, strlen(text), errbuf, sizeof errbuf);
}

static enum rmg_status add_n(struct rmg_pkgdb *db, const char *path, const void *data, size_t n)
{
    return rmg_pkgdb_add_file(db, path, data, n, errbuf, sizeof errbuf);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Hex md5 of s (33 bytes). */
static const char *md5hex(const char *s, char out[33])
{
    unsigned char d[32];
    assert_true(rmg_digest_compute(RMG_DIGEST_MD5, s, strlen(s), d));
    hex(d, 16, out);
    return out;
}

/* Base64 of alg's digest of s: standard alphabet with padding, or URL-safe without. */
static const char *b64digest(enum rmg_digest_alg alg, const char *s, bool url, char *out)
{
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char web[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *a = url ? web : std;
    unsigned char d[32];
    assert_true(rmg_digest_compute(alg, s, strlen(s), d));
    size_t n = rmg_digest_len(alg), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    if (url)
        while (o && out[o - 1] == '=')
            o--;
    out[o] = '\0';
    return out;
}

/* The verdict for path holding content. */
static enum rmg_pkg_verdict verdict(const struct rmg_pkgdb *db, const char *path,
                                    const char *content, struct rmg_pkg_claim *c)
{
    return rmg_pkgdb_verify(db, path, content, strlen(content), c);
}

/* err says something, quoting no raw control byte and nothing past its bound. */
static void assert_clean_err(void)
{
    assert_true(errbuf[0] != '\0');
    for (const char *p = errbuf; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    assert_true(strlen(errbuf) < 400);
}

/* ---- which files ------------------------------------------------------------------------ */

static void wants_the_database_files(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/info/libc6:amd64.md5sums",
        "/var/lib/dpkg/info/bash.md5sums",
        "/var/lib/dpkg/status.d/libssl3",
        "/var/lib/dpkg/status.d/libssl3.md5sums",
        "/lib/apk/db/installed",
        "/usr/lib/apk/db/installed",
        "/usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/RECORD",
        "/app/node_modules/lodash/package.json",
        "/app/node_modules/@babel/core/package.json",
        "/app/node_modules/a/node_modules/b/package.json",
        "/usr/local/bundle/specifications/rack-3.0.8.gemspec",
        "/app/lib/app.jar!/META-INF/maven/org.example/app/pom.properties",
        "/a.war!/WEB-INF/lib/b.jar!/META-INF/maven/g/b/pom.properties",
    };
    static const char *const no[] = {
        "", "/", "var/lib/dpkg/status", "/var/lib/dpkg/status-old", "/x/var/lib/dpkg/status",
        "/var/lib/dpkg/info/bash.list", "/var/lib/dpkg/info/.md5sums",
        "/var/lib/dpkg/status.d/.hidden", "/lib/apk/db/installed.bak", "/apk/db/installed",
        "/usr/lib/python3/site-packages/RECORD", "/x/.dist-info/RECORD",
        "/x/foo.dist-info/RECORD/", "/x.tar!/site-packages/foo-1.dist-info/RECORD",
        "/app/package.json", "/app/node_modules/package.json",
        "/app/node_modules/.bin/package.json", "/app/node_modules/@scope/package.json",
        "/app/node_modules/a/test/package.json", "/x.tgz!/node_modules/a/package.json",
        "/usr/local/bundle/specifications/default/json-2.6.gemspec", "/specs/x-1.gemspec",
        "/app/META-INF/maven/g/a/pom.properties", "/a.jar!/META-INF/maven/g/pom.properties",
        "/a.jar!/x/META-INF/maven/g/a/pom.properties", "/etc/passwd",
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!rmg_pkgdb_wants(yes[i]))
            fail_msg("should want %s", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        if (rmg_pkgdb_wants(no[i]))
            fail_msg("should not want %s", no[i]);
    }
    assert_false(rmg_pkgdb_wants(NULL));
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/etc/passwd", "root:x:0:0::/root:/bin/sh\n"), RMG_SKIP);
    size_t entries = 1;
    rmg_pkgdb_stats(db, &entries, NULL, NULL);
    assert_int_equal(entries, 0);
    rmg_pkgdb_free(db);
    rmg_pkgdb_free(NULL);
}

static void names_of_enums(void **state)
{
    (void)state;
    static const char *const m[] = {"dpkg", "apk", "python", "npm", "gem", "maven", "go", "rpm"};
    for (int i = RMG_PKG_DPKG; i <= RMG_PKG_RPM; i++)
        assert_string_equal(rmg_pkg_manager_name((enum rmg_pkg_manager)i), m[i]);
    assert_string_equal(rmg_digest_alg_name(RMG_DIGEST_SHA1), "sha1");
    assert_int_equal(rmg_digest_len(RMG_DIGEST_NONE), 0);
    assert_int_equal(rmg_digest_len(RMG_DIGEST_SHA256), 32);
    assert_string_equal(rmg_pkg_verdict_name(RMG_PKG_MODIFIED), "modified");
}

/* ---- dpkg ------------------------------------------------------------------------------- */

static const char *status_text(void)
{
    static char buf[4096];
    char a[33], b[33], c[33], d[33];
    snprintf(buf, sizeof buf,
             "Package: bash\n"
             "Essential: yes\n"
             "Status: install ok installed\n"
             "Priority: required\n"
             "Architecture: amd64\n"
             "Version: 5.2.15-2+b8\n"
             "Conffiles:\n"
             " /etc/bash.bashrc %s\n"
             " /etc/skel/.bashrc %s obsolete\n"
             " /etc/with space.conf %s remove-on-upgrade\n"
             " /etc/new.conf newconffile\n"
             "Description: GNU Bourne Again SHell\n"
             " Bash is an sh-compatible command language interpreter.\n"
             " .\n"
             " Conffiles: not a field, a description line\n"
             "\n"
             "Package: oldpkg\n"
             "Status: deinstall ok config-files\n"
             "Version: 1.0\n"
             "Conffiles:\n"
             " /etc/oldpkg.conf %s\n"
             "\n"
             "Package: libc6\n"
             "Status: install ok installed\n"
             "Architecture: amd64\n"
             "Multi-Arch: same\n"
             "Version: 2.36-9+deb12u4\n"
             "\n"
             "Package: libc6\n"
             "Status: purge ok not-installed\n"
             "Architecture: i386\n"
             "\n"
             "Package: held\n"
             "Status: hold ok installed\n"
             "Version: 3\n",
             md5hex("bashrc\n", a), md5hex("skel\n", b), md5hex("space\n", c),
             md5hex("old\n", d));
    return buf;
}

static void dpkg_status_and_md5sums(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    char line[512], a[33];
    char b[33];
    snprintf(line, sizeof line, "%s  usr/bin/bash\n%s  usr/share/doc/bash/README\n",
             md5hex("#!bash\n", a), md5hex("readme\n", b));
    assert_int_equal(add(db, "/var/lib/dpkg/info/bash.md5sums", line), RMG_OK);
    assert_int_equal(add(db, "/var/lib/dpkg/status", status_text()), RMG_OK);
    snprintf(line, sizeof line, "%s  usr/lib/x86_64-linux-gnu/libc.so.6\n",
             md5hex("libc\n", a));
    assert_int_equal(add(db, "/var/lib/dpkg/info/libc6:amd64.md5sums", line), RMG_OK);

    struct rmg_pkg_claim c;
    assert_true(rmg_pkgdb_lookup(db, "/usr/bin/bash", &c));
    assert_int_equal(c.manager, RMG_PKG_DPKG);
    assert_string_equal(c.name, "bash");
    assert_string_equal(c.version, "5.2.15-2+b8");
    assert_int_equal(c.alg, RMG_DIGEST_MD5);
    assert_false(c.conffile);
    assert_int_equal(verdict(db, "/usr/bin/bash", "#!bash\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(verdict(db, "/usr/bin/bash", "#!bash\nexport TOKEN=x\n", &c),
                     RMG_PKG_MODIFIED);
    assert_string_equal(c.name, "bash");
    /* libc6: the md5sums file carries the arch; the installed amd64 stanza gives the version */
    assert_int_equal(verdict(db, "/usr/lib/x86_64-linux-gnu/libc.so.6", "libc\n", &c),
                     RMG_PKG_VERIFIED);
    assert_string_equal(c.name, "libc6");
    assert_string_equal(c.version, "2.36-9+deb12u4");
    assert_string_equal(rmg_pkgdb_dpkg_version(db, "libc6"), "2.36-9+deb12u4");
    assert_string_equal(rmg_pkgdb_dpkg_version(db, "held"), "3");
    assert_null(rmg_pkgdb_dpkg_version(db, "oldpkg"));
    assert_null(rmg_pkgdb_dpkg_version(db, "nosuch"));
    assert_int_equal(rmg_pkgdb_dpkg_state(db, "bash"), RMG_PKG_STATE_INSTALLED);
    assert_int_equal(rmg_pkgdb_dpkg_state(db, "oldpkg"), RMG_PKG_STATE_NOT_INSTALLED);
    assert_int_equal(rmg_pkgdb_dpkg_state(db, "nosuch"), RMG_PKG_STATE_UNKNOWN);
    /* a path nobody lists; a directory of a listed file */
    assert_false(rmg_pkgdb_lookup(db, "/usr/bin/secret.sh", &c));
    assert_null(c.name);
    assert_false(rmg_pkgdb_lookup(db, "/usr/bin", &c));
    assert_false(rmg_pkgdb_lookup(db, "usr/bin/bash", &c));
    assert_int_equal(verdict(db, "/usr/bin/secret.sh", "x", &c), RMG_PKG_UNCLAIMED);
    rmg_pkgdb_free(db);
}

static void dpkg_conffiles(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/var/lib/dpkg/status", status_text()), RMG_OK);
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/etc/bash.bashrc", "bashrc\n", &c), RMG_PKG_VERIFIED);
    assert_true(c.conffile);
    assert_string_equal(c.name, "bash");
    /* a changed conffile is the image's own */
    assert_int_equal(verdict(db, "/etc/bash.bashrc", "bashrc\nexport PW=1\n", &c),
                     RMG_PKG_MODIFIED);
    assert_true(c.conffile);
    assert_int_equal(verdict(db, "/etc/skel/.bashrc", "skel\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(verdict(db, "/etc/with space.conf", "space\n", &c), RMG_PKG_VERIFIED);
    /* not yet unpacked: no digest, no claim; a removed package's leftover conffile: none */
    assert_false(rmg_pkgdb_lookup(db, "/etc/new.conf", &c));
    assert_false(rmg_pkgdb_lookup(db, "/etc/oldpkg.conf", &c));
    /* a description line that looks like a field is no conffile list */
    assert_false(rmg_pkgdb_lookup(db, "/etc/bash.bashrc.dpkg-old", &c));
    rmg_pkgdb_free(db);
}

static void dpkg_conffile_also_in_md5sums(void **state)
{
    (void)state;
    /* an older package lists its conffile in md5sums too: the status makes it a conffile,
     * whichever file is read first */
    for (int order = 0; order < 2; order++) {
        struct rmg_pkgdb *db = rmg_pkgdb_new();
        char md5s[128], a[33];
        snprintf(md5s, sizeof md5s, "%s  etc/bash.bashrc\n", md5hex("bashrc\n", a));
        if (order == 0)
            assert_int_equal(add(db, "/var/lib/dpkg/info/bash.md5sums", md5s), RMG_OK);
        assert_int_equal(add(db, "/var/lib/dpkg/status", status_text()), RMG_OK);
        if (order == 1)
            assert_int_equal(add(db, "/var/lib/dpkg/info/bash.md5sums", md5s), RMG_OK);
        struct rmg_pkg_claim c[4];
        assert_int_equal(rmg_pkgdb_claims(db, "/etc/bash.bashrc", c, 4), 1);
        assert_true(c[0].conffile);
        rmg_pkgdb_free(db);
    }
}

static void dpkg_not_installed_files_are_no_claim(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    char md5s[128], a[33];
    snprintf(md5s, sizeof md5s, "%s  usr/bin/old\n", md5hex("old\n", a));
    assert_int_equal(add(db, "/var/lib/dpkg/info/oldpkg.md5sums", md5s), RMG_OK);
    struct rmg_pkg_claim c;
    /* no status in this db (another layer has it): the md5sums claim stands, no version */
    assert_true(rmg_pkgdb_lookup(db, "/usr/bin/old", &c));
    assert_null(c.version);
    assert_int_equal(add(db, "/var/lib/dpkg/status", status_text()), RMG_OK);
    assert_false(rmg_pkgdb_lookup(db, "/usr/bin/old", &c));
    rmg_pkgdb_free(db);
}

static void dpkg_merged_usr_aliases(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    char md5s[512], a[33], b[33], d[33], e[33];
    snprintf(md5s, sizeof md5s,
             "%s  lib/x86_64-linux-gnu/libz.so.1\n%s  usr/bin/gzip\n%s  sbin/ldconfig\n"
             "%s  libexec/tool\n",
             md5hex("z\n", a), md5hex("gzip\n", b), md5hex("ldc\n", d), md5hex("t\n", e));
    assert_int_equal(add(db, "/var/lib/dpkg/info/zlib1g:amd64.md5sums", md5s), RMG_OK);
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/usr/lib/x86_64-linux-gnu/libz.so.1", "z\n", &c),
                     RMG_PKG_VERIFIED);
    assert_int_equal(verdict(db, "/lib/x86_64-linux-gnu/libz.so.1", "z\n", &c),
                     RMG_PKG_VERIFIED);
    assert_int_equal(verdict(db, "/bin/gzip", "gzip\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(verdict(db, "/usr/sbin/ldconfig", "ldc\n", &c), RMG_PKG_VERIFIED);
    assert_true(rmg_pkgdb_lookup(db, "/lib64/../lib/x86_64-linux-gnu/libz.so.1", &c) == false);
    /* only the merged directories alias */
    assert_true(rmg_pkgdb_lookup(db, "/libexec/tool", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/libexec/tool", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/usr/bin/gzip", &c));
    assert_false(rmg_pkgdb_lookup(db, "/share/gzip", &c));
    rmg_pkgdb_free(db);
}

static void dpkg_several_claims_on_one_path(void **state)
{
    (void)state;
    /* a diversion (postgresql-common diverts libpq-dev's /usr/bin/pg_config), or /lib/x and
     * /usr/lib/x from two packages: every claim is kept, verify takes the matching one */
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    char m1[128], m2[128], a[33];
    snprintf(m1, sizeof m1, "%s  usr/bin/pg_config\n", md5hex("libpq\n", a));
    snprintf(m2, sizeof m2, "%s  bin/pg_config\n", md5hex("common\n", a));
    assert_int_equal(add(db, "/var/lib/dpkg/info/libpq-dev:amd64.md5sums", m1), RMG_OK);
    assert_int_equal(add(db, "/var/lib/dpkg/info/postgresql-common.md5sums", m2), RMG_OK);
    struct rmg_pkg_claim c[4];
    assert_int_equal(rmg_pkgdb_claims(db, "/usr/bin/pg_config", c, 4), 2);
    assert_string_equal(c[0].name, "libpq-dev");
    assert_string_equal(c[1].name, "postgresql-common");
    assert_int_equal(verdict(db, "/usr/bin/pg_config", "common\n", c), RMG_PKG_VERIFIED);
    assert_string_equal(c[0].name, "postgresql-common");
    assert_int_equal(verdict(db, "/usr/bin/pg_config", "other\n", c), RMG_PKG_MODIFIED);
    assert_string_equal(c[0].name, "libpq-dev");
    /* at most 8 packages per path */
    for (int i = 0; i < 20; i++) {
        char path[64];
        snprintf(path, sizeof path, "/var/lib/dpkg/info/p%d.md5sums", i);
        assert_int_equal(add(db, path, m1), RMG_OK);
    }
    assert_int_equal(rmg_pkgdb_claims(db, "/usr/bin/pg_config", c, 0), 8);
    rmg_pkgdb_free(db);
}

static void dpkg_claim_order_survives_growth(void **state)
{
    (void)state;
    /* the first claim stays first while the table grows around it */
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    char a[33], b[33];
    char first[128], second[128];
    snprintf(first, sizeof first, "%s  usr/bin/dup\n", md5hex("1\n", a));
    snprintf(second, sizeof second, "%s  usr/bin/dup\n", md5hex("2\n", b));
    assert_int_equal(add(db, "/var/lib/dpkg/info/first.md5sums", first), RMG_OK);
    assert_int_equal(add(db, "/var/lib/dpkg/info/second.md5sums", second), RMG_OK);
    struct rmg_buf big = {0};
    for (int i = 0; i < 50000; i++)
        assert_true(rmg_buf_printf(&big, "%s  usr/share/f/%d\n", a, i));
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/big.md5sums", big.data, big.len), RMG_OK);
    rmg_buf_free(&big);
    struct rmg_pkg_claim c[2];
    assert_int_equal(rmg_pkgdb_claims(db, "/usr/bin/dup", c, 2), 2);
    assert_string_equal(c[0].name, "first");
    assert_string_equal(c[1].name, "second");
    assert_true(rmg_pkgdb_lookup(db, "/usr/share/f/49999", c));
    assert_string_equal(c[0].name, "big");
    rmg_pkgdb_free(db);
}

static void dpkg_distroless_status_d(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/var/lib/dpkg/status.d/libssl3",
                         "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"
                         "Maintainer: Debian OpenSSL Team\n"),
                     RMG_OK);
    char md5s[128], a[33];
    snprintf(md5s, sizeof md5s, "%s  usr/lib/x86_64-linux-gnu/libssl.so.3\n",
             md5hex("ssl\n", a));
    assert_int_equal(add(db, "/var/lib/dpkg/status.d/libssl3.md5sums", md5s), RMG_OK);
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/usr/lib/x86_64-linux-gnu/libssl.so.3", "ssl\n", &c),
                     RMG_PKG_VERIFIED);
    assert_string_equal(c.name, "libssl3");
    assert_string_equal(c.version, "3.0.11-1~deb12u2");
    assert_string_equal(rmg_pkgdb_dpkg_version(db, "libssl3"), "3.0.11-1~deb12u2");
    rmg_pkgdb_free(db);
}

static void dpkg_malformed(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    char a[33];
    md5hex("ok\n", a);
    /* a truncated line, a non-hex digest, an escaping path, a NUL in a path, and the last
     * line without its newline, which is still read */
    char md5s[512];
    int n = snprintf(md5s, sizeof md5s,
                     "%.20s\n"
                     "zz%s  usr/bin/bad\n"
                     "%s  ../../etc/shadow\n"
                     "%s  usr/bin/n\x01ul\n"
                     "%s  usr/bin/ok",
                     a, a + 2, a, a, a);
    md5s[strstr(md5s, "n\x01ul") - md5s + 1] = '\0';
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/x.md5sums", md5s, (size_t)n), RMG_WARN);
    assert_clean_err();
    assert_non_null(strstr(errbuf, "more problems"));
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/usr/bin/ok", "ok\n", &c), RMG_PKG_VERIFIED);
    assert_false(rmg_pkgdb_lookup(db, "/etc/shadow", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/bin/bad", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/bin/n", &c));

    /* status: a stanza without Package, a line that is no field, a bad Status, a bad
     * conffile line; the good stanza after them still counts */
    assert_int_equal(add(db, "/var/lib/dpkg/status",
                         "Version: 1\n\njunk line\x1b[31m\nPackage: p\nStatus: broken\n\n"
                         "Package: q\nStatus: install ok installed\nConffiles:\n /etc/q\n"
                         " /etc/q2 nothex\n\n"
                         "Package: good\nStatus: install ok installed\nVersion: 2\n"),
                     RMG_WARN);
    assert_clean_err();
    assert_null(strstr(errbuf, "\x1b"));
    assert_string_equal(rmg_pkgdb_dpkg_version(db, "good"), "2");
    assert_int_equal(rmg_pkgdb_dpkg_state(db, "p"), RMG_PKG_STATE_NOT_INSTALLED);
    /* a bad package name in a md5sums file name */
    assert_int_equal(add(db, "/var/lib/dpkg/info/a b.md5sums", md5s), RMG_WARN);
    rmg_pkgdb_free(db);
}

static void dpkg_huge_fields(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "Package: ");
    for (int i = 0; i < 100000; i++)
        rmg_buf_puts(&b, "a");
    rmg_buf_puts(&b, "\nStatus: install ok installed\n\nPackage: small\nVersion: ");
    for (int i = 0; i < 5000; i++)
        rmg_buf_puts(&b, "9");
    rmg_buf_puts(&b, "\nStatus: install ok installed\nDescription: ");
    for (int i = 0; i < 1000000; i++) /* a long field nobody reads is no problem */
        rmg_buf_puts(&b, "d");
    rmg_buf_puts(&b, "\n");
    assert_int_equal(add_n(db, "/var/lib/dpkg/status", b.data, b.len), RMG_WARN);
    assert_clean_err();
    assert_int_equal(rmg_pkgdb_dpkg_state(db, "small"), RMG_PKG_STATE_INSTALLED);
    assert_null(rmg_pkgdb_dpkg_version(db, "small"));
    rmg_buf_free(&b);
    /* a md5sums line longer than any path */
    rmg_buf_puts(&b, "d41d8cd98f00b204e9800998ecf8427e  ");
    for (int i = 0; i < 10000; i++)
        rmg_buf_puts(&b, "x/");
    rmg_buf_puts(&b, "\n");
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/long.md5sums", b.data, b.len), RMG_WARN);
    assert_clean_err();
    rmg_buf_free(&b);
    rmg_pkgdb_free(db);
}

static void dpkg_duplicates_and_nuls(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    char a[33], line[128];
    snprintf(line, sizeof line, "%s  usr/bin/x\n", md5hex("x\n", a));
    struct rmg_buf b = {0};
    for (int i = 0; i < 100; i++)
        rmg_buf_puts(&b, line);
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/x.md5sums", b.data, b.len), RMG_OK);
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/x.md5sums", b.data, b.len), RMG_OK);
    size_t entries, packages;
    rmg_pkgdb_stats(db, &entries, &packages, NULL);
    assert_int_equal(entries, 1);
    assert_int_equal(packages, 1);
    rmg_buf_free(&b);
    /* NUL bytes anywhere: in a status stanza, as the whole file */
    static const char nul_status[] = "Package: a\0b\nStatus: install ok installed\n\n\0\0\0";
    assert_int_equal(add_n(db, "/var/lib/dpkg/status", nul_status, sizeof nul_status - 1),
                     RMG_WARN);
    assert_clean_err();
    assert_int_equal(rmg_pkgdb_dpkg_state(db, "a"), RMG_PKG_STATE_UNKNOWN);
    char zeros[4096] = {0};
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/z.md5sums", zeros, sizeof zeros), RMG_WARN);
    /* empty and NULL data */
    assert_int_equal(add_n(db, "/var/lib/dpkg/status", "", 0), RMG_OK);
    assert_int_equal(rmg_pkgdb_add_file(db, "/var/lib/dpkg/status", NULL, 100, NULL, 0),
                     RMG_OK);
    rmg_pkgdb_free(db);
}

/* ---- apk -------------------------------------------------------------------------------- */

static void apk_installed(void **state)
{
    (void)state;
    char z1[64], z2[64], text[2048];
    b64digest(RMG_DIGEST_SHA1, "busybox\n", false, z1);
    b64digest(RMG_DIGEST_SHA1, "motd\n", false, z2);
    snprintf(text, sizeof text,
             "C:Q1abcdefabcdefabcdefabcdefabcde=\n"
             "P:busybox\n"
             "V:1.36.1-r15\n"
             "A:x86_64\n"
             "S:507000\n"
             "T:Size optimized toolbox\n"
             "F:bin\n"
             "R:busybox\n"
             "a:0:0:755\n"
             "Z:Q1%s\n"
             "R:nolink\n"
             "F:etc\n"
             "R:motd\n"
             "Z:Q1%s\n"
             "\n"
             "P:alpine-baselayout\n"
             "V:3.4.3-r2\n"
             "F:etc/apk\n"
             "R:world\n"
             "Z:Q1AAAA\n"
             "F:../../..\n"
             "R:escape\n"
             "\n"
             "R:orphan\n",
             z1, z2);
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/lib/apk/db/installed", text), RMG_WARN);
    assert_clean_err();
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/bin/busybox", "busybox\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(c.manager, RMG_PKG_APK);
    assert_int_equal(c.alg, RMG_DIGEST_SHA1);
    assert_string_equal(c.name, "busybox");
    assert_string_equal(c.version, "1.36.1-r15");
    /* apk on a merged-/usr system: the same aliasing */
    assert_int_equal(verdict(db, "/usr/bin/busybox", "busybox\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(verdict(db, "/etc/motd", "motd\nkey=1\n", &c), RMG_PKG_MODIFIED);
    /* an R without Z: attribution; a bad Z: no claim */
    assert_int_equal(verdict(db, "/bin/nolink", "x", &c), RMG_PKG_ATTRIBUTED);
    assert_false(rmg_pkgdb_lookup(db, "/etc/apk/world", &c));
    assert_false(rmg_pkgdb_lookup(db, "/escape", &c));
    assert_false(rmg_pkgdb_lookup(db, "/orphan", &c));
    rmg_pkgdb_free(db);
}

static void apk_digest_forms(void **state)
{
    (void)state;
    char z256[64], md5[33], text[1024];
    b64digest(RMG_DIGEST_SHA256, "two\n", false, z256);
    snprintf(text, sizeof text, "P:p\nV:1\nR:two\nZ:Q2%s\nR:old\nZ:%s", z256,
             md5hex("old\n", md5));
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/usr/lib/apk/db/installed", text), RMG_OK);
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/two", "two\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(c.alg, RMG_DIGEST_SHA256);
    assert_int_equal(verdict(db, "/old", "old\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(c.alg, RMG_DIGEST_MD5);
    rmg_pkgdb_free(db);
}

/* ---- python ----------------------------------------------------------------------------- */

static void python_record(void **state)
{
    (void)state;
    char h1[64], h2[64], h3[64], text[2048];
    b64digest(RMG_DIGEST_SHA256, "import x\n", true, h1);
    b64digest(RMG_DIGEST_SHA256, "#!/usr/bin/python\n", true, h2);
    b64digest(RMG_DIGEST_SHA256, "odd\n", true, h3);
    snprintf(text, sizeof text,
             "requests/__init__.py,sha256=%s,9\r\n"
             "requests/__pycache__/__init__.cpython-311.pyc,,\r\n"
             "../../../bin/requests-cli,sha256=%s,18\r\n"
             "\"requests/we,ird \"\"name\"\".txt\",sha256=%s,4\r\n"
             "\"requests/multi\nline\",,\r\n"
             "requests-2.31.0.dist-info/RECORD,,\r\n"
             "requests/big.bin,sha512=AAAA,1\r\n",
             h1, h2, h3);
    const char *rec = "/usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/RECORD";
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, rec, text), RMG_OK);
    struct rmg_pkg_claim c;
    const char *sp = "/usr/local/lib/python3.11/site-packages/";
    char p[256];
    snprintf(p, sizeof p, "%srequests/__init__.py", sp);
    assert_int_equal(verdict(db, p, "import x\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(c.manager, RMG_PKG_PYTHON);
    assert_string_equal(c.name, "requests");
    assert_string_equal(c.version, "2.31.0");
    assert_int_equal(c.alg, RMG_DIGEST_SHA256);
    assert_int_equal(verdict(db, p, "import x\nKEY='s3cr3t'\n", &c), RMG_PKG_MODIFIED);
    assert_int_equal(verdict(db, "/usr/local/bin/requests-cli", "#!/usr/bin/python\n", &c),
                     RMG_PKG_VERIFIED);
    snprintf(p, sizeof p, "%srequests/we,ird \"name\".txt", sp);
    assert_int_equal(verdict(db, p, "odd\n", &c), RMG_PKG_VERIFIED);
    snprintf(p, sizeof p, "%srequests/multi\nline", sp);
    assert_int_equal(verdict(db, p, "", &c), RMG_PKG_ATTRIBUTED);
    snprintf(p, sizeof p, "%srequests/__pycache__/__init__.cpython-311.pyc", sp);
    assert_int_equal(verdict(db, p, "\x42\x0d\x0d\x0a", &c), RMG_PKG_ATTRIBUTED);
    assert_int_equal(c.alg, RMG_DIGEST_NONE);
    assert_true(rmg_pkgdb_lookup(db, rec, &c));
    snprintf(p, sizeof p, "%srequests/big.bin", sp);
    assert_int_equal(verdict(db, p, "x", &c), RMG_PKG_ATTRIBUTED);
    snprintf(p, sizeof p, "%srequests/other.py", sp);
    assert_false(rmg_pkgdb_lookup(db, p, &c));
    rmg_pkgdb_free(db);
}

/* Some Debian packages' RECORD files carry the sha256 in hex (seen in bookworm's python3-*
 * packages), not PEP 376's urlsafe base64: both verify. */
static void python_record_hex_digest(void **state)
{
    (void)state;
    unsigned char d[32];
    assert_true(rmg_digest_compute(RMG_DIGEST_SHA256, "import y\n", 9, d));
    char hex[65], text[256];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    snprintf(text, sizeof text, "y/__init__.py,sha256=%s,9\n", hex);
    const char *rec = "/usr/lib/python3/dist-packages/Y-1.0.dist-info/RECORD";
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, rec, text), RMG_OK);
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/usr/lib/python3/dist-packages/y/__init__.py", "import y\n", &c),
                     RMG_PKG_VERIFIED);
    assert_int_equal(verdict(db, "/usr/lib/python3/dist-packages/y/__init__.py", "import z\n", &c),
                     RMG_PKG_MODIFIED);
    rmg_pkgdb_free(db);
}

static void python_record_hostile(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    /* escaping above "/", an absolute path, a bad hash, an over-long field, an unterminated
     * quote at the end (no newline) */
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "../../../../../../../../../../etc/passwd,,\n"
                     "/etc/shadow,,\n"
                     "pkg/a.py,sha256=not*base64,1\n"
                     "pkg/b.py,sha256=AAAA,1\n"
                     "pkg/ok.py,,\n");
    for (int i = 0; i < 6000; i++)
        rmg_buf_puts(&b, "x");
    rmg_buf_puts(&b, ",,\n\"pkg/unterminated,,");
    const char *rec = "/opt/venv/lib/python3.11/site-packages/pkg-1.0.dist-info/RECORD";
    assert_int_equal(add_n(db, rec, b.data, b.len), RMG_WARN);
    assert_clean_err();
    rmg_buf_free(&b);
    struct rmg_pkg_claim c;
    assert_false(rmg_pkgdb_lookup(db, "/etc/passwd", &c));
    assert_false(rmg_pkgdb_lookup(db, "/etc/shadow", &c));
    assert_false(rmg_pkgdb_lookup(db, "/opt/venv/lib/python3.11/site-packages/pkg/a.py", &c));
    assert_true(rmg_pkgdb_lookup(db, "/opt/venv/lib/python3.11/site-packages/pkg/ok.py", &c));
    /* climbing to "/" exactly is fine */
    assert_int_equal(add(db, "/a/b-2.dist-info/RECORD", "../etc/b.conf,,\n"), RMG_OK);
    assert_true(rmg_pkgdb_lookup(db, "/etc/b.conf", &c));
    assert_string_equal(c.name, "b");
    assert_string_equal(c.version, "2");
    /* a name without a version */
    assert_int_equal(add(db, "/x/noversion.dist-info/RECORD", "f,,"), RMG_OK);
    assert_true(rmg_pkgdb_lookup(db, "/x/f", &c));
    assert_string_equal(c.name, "noversion");
    assert_null(c.version);
    rmg_pkgdb_free(db);
}

/* ---- npm -------------------------------------------------------------------------------- */

static void npm_packages(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/app/node_modules/express/package.json",
                         "{\"name\":\"express\",\"version\":\"4.18.2\",\"main\":\"index.js\"}"),
                     RMG_OK);
    assert_int_equal(add(db, "/app/node_modules/express/node_modules/debug/package.json",
                         "{\"name\": \"debug\", \"version\": \"2.6.9\"}"),
                     RMG_OK);
    assert_int_equal(add(db, "/app/node_modules/@babel/core/package.json",
                         "{\"version\": \"7.23.0\"}"),
                     RMG_OK);
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/app/node_modules/express/lib/router/index.js", "x", &c),
                     RMG_PKG_ATTRIBUTED);
    assert_int_equal(c.manager, RMG_PKG_NPM);
    assert_string_equal(c.name, "express");
    assert_string_equal(c.version, "4.18.2");
    /* the nearest package wins */
    assert_true(rmg_pkgdb_lookup(db, "/app/node_modules/express/node_modules/debug/src/a.js",
                                 &c));
    assert_string_equal(c.name, "debug");
    assert_string_equal(c.version, "2.6.9");
    /* under a node_modules below express, but no package.json read: not express's */
    assert_false(rmg_pkgdb_lookup(db, "/app/node_modules/express/node_modules/qs/index.js",
                                  &c));
    assert_false(rmg_pkgdb_lookup(db, "/app/node_modules/express/node_modules/.bin/x", &c));
    /* the scoped package, its name from the directory */
    assert_true(rmg_pkgdb_lookup(db, "/app/node_modules/@babel/core/lib/index.js", &c));
    assert_string_equal(c.name, "@babel/core");
    assert_true(rmg_pkgdb_lookup(db, "/app/node_modules/express/package.json", &c));
    /* the directory itself, its siblings, the app */
    assert_false(rmg_pkgdb_lookup(db, "/app/node_modules/express", &c));
    assert_false(rmg_pkgdb_lookup(db, "/app/node_modules/expressx/index.js", &c));
    assert_false(rmg_pkgdb_lookup(db, "/app/server.js", &c));
    assert_false(rmg_pkgdb_lookup(db, "/app/node_modules/@babel/other/x.js", &c));
    /* inside an archive inside the package: still the package's */
    assert_true(rmg_pkgdb_lookup(db, "/app/node_modules/express/x.tgz!/package/y", &c));
    assert_string_equal(c.name, "express");
    rmg_pkgdb_free(db);
}

static void npm_malformed(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/n/node_modules/a/package.json", "{\"name\": \"a\", "),
                     RMG_WARN);
    assert_clean_err();
    assert_int_equal(add(db, "/n/node_modules/b/package.json", "[1,2]"), RMG_WARN);
    assert_int_equal(add(db, "/n/node_modules/c/package.json", "{\"name\": \"c\x01\x1b\"}"),
                     RMG_WARN);
    assert_clean_err();
    assert_int_equal(add(db, "/n/node_modules/d/package.json",
                         "{\"name\": 5, \"version\": [\"1\"]}"),
                     RMG_OK);
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "{\"name\":\"");
    for (int i = 0; i < 100000; i++)
        rmg_buf_puts(&b, "n");
    rmg_buf_puts(&b, "\",\"version\":\"1\"}");
    assert_int_equal(add_n(db, "/n/node_modules/e/package.json", b.data, b.len), RMG_WARN);
    rmg_buf_free(&b);
    /* deep nesting: cJSON's own depth limit */
    for (int i = 0; i < 5000; i++)
        rmg_buf_puts(&b, "[");
    assert_int_equal(add_n(db, "/n/node_modules/f/package.json", b.data, b.len), RMG_WARN);
    rmg_buf_free(&b);
    static const char nul[] = "{\"name\":\"g\"}\0garbage";
    assert_int_equal(add_n(db, "/n/node_modules/g/package.json", nul, sizeof nul - 1),
                     RMG_WARN);
    struct rmg_pkg_claim c;
    assert_false(rmg_pkgdb_lookup(db, "/n/node_modules/a/x.js", &c));
    assert_false(rmg_pkgdb_lookup(db, "/n/node_modules/c/x.js", &c));
    assert_true(rmg_pkgdb_lookup(db, "/n/node_modules/d/x.js", &c));
    assert_string_equal(c.name, "d");
    assert_null(c.version);
    rmg_pkgdb_free(db);
}

/* ---- gem, maven ------------------------------------------------------------------------- */

static void gem_specifications(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/usr/local/bundle/specifications/rack-3.0.8.gemspec",
                         "Gem::Specification.new do |s|\nend\n"),
                     RMG_OK);
    assert_int_equal(
        add(db, "/usr/local/bundle/specifications/nokogiri-1.15.4-x86_64-linux.gemspec", ""),
        RMG_OK);
    assert_int_equal(add(db, "/var/lib/gems/3.1.0/specifications/aws-sdk-s3-1.136.0.gemspec",
                         ""),
                     RMG_OK);
    struct rmg_pkg_claim c;
    assert_true(rmg_pkgdb_lookup(db, "/usr/local/bundle/gems/rack-3.0.8/lib/rack.rb", &c));
    assert_int_equal(c.manager, RMG_PKG_GEM);
    assert_string_equal(c.name, "rack");
    assert_string_equal(c.version, "3.0.8");
    assert_true(rmg_pkgdb_lookup(
        db, "/usr/local/bundle/gems/nokogiri-1.15.4-x86_64-linux/lib/nokogiri.rb", &c));
    assert_string_equal(c.name, "nokogiri");
    assert_string_equal(c.version, "1.15.4-x86_64-linux");
    assert_true(rmg_pkgdb_lookup(db, "/var/lib/gems/3.1.0/gems/aws-sdk-s3-1.136.0/a.rb", &c));
    assert_string_equal(c.name, "aws-sdk-s3");
    assert_false(rmg_pkgdb_lookup(db, "/usr/local/bundle/gems/rack-3.0.9/lib/rack.rb", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/local/bundle/config", &c));
    rmg_pkgdb_free(db);
}

static void maven_pom_properties(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add(db, "/app/lib/app.jar!/META-INF/maven/org.example/app/pom.properties",
                         "#Generated by Maven\r\n#Tue Oct 10 10:00:00 UTC 2023\r\n"
                         "artifactId=app\r\ngroupId=org.example\r\nversion=1.2.\\\r\n   3\r\n"),
                     RMG_OK);
    assert_int_equal(
        add(db, "/app/lib/app.jar!/BOOT-INF/lib/jackson.jar!/META-INF/maven/"
                "com.fasterxml.jackson.core/jackson-core/pom.properties",
            "version = 2.15.2\ngroupId : com.fasterxml.jackson.core\n"
            "artifactId jackson\\u002dcore\n"),
        RMG_OK);
    /* a shaded dependency's pom.properties in the same jar: the first keeps the jar */
    assert_int_equal(add(db, "/app/lib/app.jar!/META-INF/maven/com.google/guava/pom.properties",
                         "version=32\n"),
                     RMG_OK);
    struct rmg_pkg_claim c;
    assert_true(rmg_pkgdb_lookup(db, "/app/lib/app.jar!/BOOT-INF/classes/application.yml", &c));
    assert_int_equal(c.manager, RMG_PKG_MAVEN);
    assert_string_equal(c.name, "org.example:app");
    assert_string_equal(c.version, "1.2.3");
    assert_true(rmg_pkgdb_lookup(
        db, "/app/lib/app.jar!/BOOT-INF/lib/jackson.jar!/com/fasterxml/X.class", &c));
    assert_string_equal(c.name, "com.fasterxml.jackson.core:jackson-core");
    assert_string_equal(c.version, "2.15.2");
    /* the jar file itself, and a sibling jar */
    assert_false(rmg_pkgdb_lookup(db, "/app/lib/app.jar", &c));
    assert_false(rmg_pkgdb_lookup(db, "/app/lib/other.jar!/x", &c));
    /* keys missing: the path's group and artifact, no version */
    assert_int_equal(add(db, "/b.jar!/META-INF/maven/g/a/pom.properties", "\\"), RMG_OK);
    assert_true(rmg_pkgdb_lookup(db, "/b.jar!/x", &c));
    assert_string_equal(c.name, "g:a");
    assert_null(c.version);
    /* a line longer than the bound */
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "version=");
    for (int i = 0; i < 5000; i++)
        rmg_buf_puts(&b, "1");
    assert_int_equal(add_n(db, "/c.jar!/META-INF/maven/g/c/pom.properties", b.data, b.len),
                     RMG_WARN);
    rmg_buf_free(&b);
    rmg_pkgdb_free(db);
}

/* ---- limits and memory ------------------------------------------------------------------ */

static void limits(void **state)
{
    (void)state;
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    rmg_pkgdb_set_limits(db, 10, 3);
    struct rmg_buf b = {0};
    char a[33];
    md5hex("x", a);
    for (int i = 0; i < 20; i++)
        rmg_buf_printf(&b, "%s  usr/share/f%d\n", a, i);
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/a.md5sums", b.data, b.len), RMG_WARN);
    assert_non_null(strstr(errbuf, "limit"));
    size_t entries, packages;
    rmg_pkgdb_stats(db, &entries, &packages, NULL);
    assert_int_equal(entries, 10);
    struct rmg_pkg_claim c;
    assert_true(rmg_pkgdb_lookup(db, "/usr/share/f9", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/share/f10", &c));
    rmg_buf_free(&b);
    assert_int_equal(add(db, "/var/lib/dpkg/status",
                         "Package: p1\n\nPackage: p2\n\nPackage: p3\n\nPackage: p4\n"),
                     RMG_WARN);
    rmg_pkgdb_stats(db, &entries, &packages, NULL);
    assert_int_equal(packages, 3);
    /* a limit above the default is capped, 0 keeps */
    rmg_pkgdb_set_limits(db, 0, 0);
    rmg_pkgdb_set_limits(db, SIZE_MAX, SIZE_MAX);
    assert_int_equal(add(db, "/n/node_modules/z/package.json", "{}"), RMG_WARN);
    rmg_pkgdb_free(db);
}

static void memory_per_entry(void **state)
{
    (void)state;
    /* docs/provenance.md: about 50 bytes a dpkg file entry (16-byte slot at a load of 3/8 to
     * 3/4, 16 bytes of md5) */
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    struct rmg_buf b = {0};
    char a[33];
    md5hex("x", a);
    for (int i = 0; i < 100000; i++)
        rmg_buf_printf(&b, "%s  usr/lib/python3/dist-packages/pkg/module_%d.py\n", a, i);
    assert_int_equal(add_n(db, "/var/lib/dpkg/info/big.md5sums", b.data, b.len), RMG_OK);
    rmg_buf_free(&b);
    size_t entries, packages, bytes;
    rmg_pkgdb_stats(db, &entries, &packages, &bytes);
    assert_int_equal(entries, 100000);
    assert_int_equal(packages, 1);
    assert_true(bytes / entries <= 64);
    assert_true(bytes / entries >= 16);
    rmg_pkgdb_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wants_the_database_files),
        cmocka_unit_test(names_of_enums),
        cmocka_unit_test(dpkg_status_and_md5sums),
        cmocka_unit_test(dpkg_conffiles),
        cmocka_unit_test(dpkg_conffile_also_in_md5sums),
        cmocka_unit_test(dpkg_not_installed_files_are_no_claim),
        cmocka_unit_test(dpkg_merged_usr_aliases),
        cmocka_unit_test(dpkg_several_claims_on_one_path),
        cmocka_unit_test(dpkg_claim_order_survives_growth),
        cmocka_unit_test(dpkg_distroless_status_d),
        cmocka_unit_test(dpkg_malformed),
        cmocka_unit_test(dpkg_huge_fields),
        cmocka_unit_test(dpkg_duplicates_and_nuls),
        cmocka_unit_test(apk_installed),
        cmocka_unit_test(apk_digest_forms),
        cmocka_unit_test(python_record),
        cmocka_unit_test(python_record_hex_digest),
        cmocka_unit_test(python_record_hostile),
        cmocka_unit_test(npm_packages),
        cmocka_unit_test(npm_malformed),
        cmocka_unit_test(gem_specifications),
        cmocka_unit_test(maven_pom_properties),
        cmocka_unit_test(limits),
        cmocka_unit_test(memory_per_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
