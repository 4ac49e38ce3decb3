/* test_rpmdb.c: rpm's SQLite database (src/provenance/rpm.c) from memory. Each database is
 * made here with the real libraries: headers built with librpm (headerPut*, headerReload into
 * the immutable region, headerExport as rpm's database writes them), stored as rows of a
 * Packages table in an in-memory SQLite database, serialised to bytes. Checked: name and
 * [epoch:]version-release, paths from dirnames, file digests (sha256, sha1, md5 when
 * FILEDIGESTALGO is absent), %config as conffile, what gets no claim (directories, symlinks,
 * %ghost, files not installed, an unknown digest algorithm), attribution for an empty digest;
 * WAL-mode databases; and hostile input: damaged, truncated and non-header rows, a view
 * instead of the table, truncated databases, the package limit, Berkeley DB and NDB files.
 * Every problem is RMG_WARN with a printable message; what was read stays. The real
 * rpmbuild + rpm -i database is tested by tests/cli/test_provenance.py. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rpm/header.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmtag.h>
#include <sqlite3.h>

#include "provenance/pkgdb.h"

#define DB_PATH "/var/lib/rpm/rpmdb.sqlite"

static char errbuf[1024];

/* ---- making databases ------------------------------------------------------------------- */

struct file {
    const char *dir, *base, *content; /* content NULL: an empty digest */
    uint16_t mode;
    uint32_t flags;
    char state;
};

struct pkg {
    const char *name, *version, *release;
    int epoch;         /* < 0: no EPOCH tag */
    int algo;          /* FILEDIGESTALGO; 0: no tag (md5) */
    const struct file *files;
    size_t nfiles;
};

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static enum rmg_digest_alg alg_of(int algo)
{
    return algo == 0 || algo == 1 ? RMG_DIGEST_MD5 : algo == 2 ? RMG_DIGEST_SHA1
                                                               : RMG_DIGEST_SHA256;
}

/* The header blob of p as rpm's database stores it; caller frees. */
static void *header_blob(const struct pkg *p, unsigned *len)
{
    Header h = headerNew();
    assert_non_null(h);
    assert_true(headerPutString(h, RPMTAG_NAME, p->name));
    assert_true(headerPutString(h, RPMTAG_VERSION, p->version));
    assert_true(headerPutString(h, RPMTAG_RELEASE, p->release));
    if (p->epoch >= 0) {
        uint32_t e = (uint32_t)p->epoch;
        assert_true(headerPutUint32(h, RPMTAG_EPOCH, &e, 1));
    }
    if (p->algo) {
        uint32_t a = (uint32_t)p->algo;
        assert_true(headerPutUint32(h, RPMTAG_FILEDIGESTALGO, &a, 1));
    }
    if (p->nfiles) {
        const char *base[16], *dirs[16], *dig[16];
        char digbuf[16][65];
        uint32_t idx[16], flags[16];
        uint16_t modes[16];
        char states[16];
        size_t nd = 0;
        assert_true(p->nfiles <= 16);
        for (size_t i = 0; i < p->nfiles; i++) {
            const struct file *f = &p->files[i];
            size_t d = 0;
            while (d < nd && strcmp(dirs[d], f->dir) != 0)
                d++;
            if (d == nd)
                dirs[nd++] = f->dir;
            idx[i] = (uint32_t)d;
            base[i] = f->base;
            modes[i] = f->mode;
            flags[i] = f->flags;
            states[i] = f->state;
            digbuf[i][0] = '\0';
            if (f->content) {
                unsigned char md[32];
                enum rmg_digest_alg a = alg_of(p->algo);
                assert_true(rmg_digest_compute(a, f->content, strlen(f->content), md));
                hex(md, rmg_digest_len(a), digbuf[i]);
            }
            dig[i] = digbuf[i];
        }
        rpm_count_t n = (rpm_count_t)p->nfiles;
        assert_true(headerPutStringArray(h, RPMTAG_BASENAMES, base, n));
        assert_true(headerPutStringArray(h, RPMTAG_DIRNAMES, dirs, (rpm_count_t)nd));
        assert_true(headerPutUint32(h, RPMTAG_DIRINDEXES, idx, n));
        assert_true(headerPutStringArray(h, RPMTAG_FILEDIGESTS, dig, n));
        assert_true(headerPutUint16(h, RPMTAG_FILEMODES, modes, n));
        assert_true(headerPutUint32(h, RPMTAG_FILEFLAGS, flags, n));
        assert_true(headerPutChar(h, RPMTAG_FILESTATES, states, n));
    }
    h = headerReload(h, RPMTAG_HEADERIMMUTABLE); /* the immutable region, as rpm -i makes */
    assert_non_null(h);
    void *blob = headerExport(h, len);
    assert_non_null(blob);
    headerFree(h);
    return blob;
}

/* A SQLite database of rows[0..n) (blobs, or SQL text when len is 0) in a Packages table
 * as rpm creates it, serialised; *len its size. Caller frees with sqlite3_free. */
struct row {
    const void *data;
    size_t len;
};

static unsigned char *database(const struct row *rows, size_t n, const char *schema,
                               size_t *len)
{
    sqlite3 *s;
    assert_int_equal(sqlite3_open(":memory:", &s), SQLITE_OK);
    if (!schema)
        schema = "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, "
                 "blob BLOB NOT NULL)";
    assert_int_equal(sqlite3_exec(s, schema, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    if (n) {
        assert_int_equal(sqlite3_prepare_v2(s, "INSERT INTO Packages (blob) VALUES (?)", -1, &q,
                                            NULL),
                         SQLITE_OK);
        for (size_t i = 0; i < n; i++) {
            if (rows[i].len)
                sqlite3_bind_blob(q, 1, rows[i].data, (int)rows[i].len, SQLITE_TRANSIENT);
            else
                sqlite3_bind_text(q, 1, rows[i].data, -1, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(q), SQLITE_DONE);
            sqlite3_reset(q);
        }
        sqlite3_finalize(q);
    }
    sqlite3_int64 size = 0;
    unsigned char *out = sqlite3_serialize(s, "main", &size, 0);
    assert_non_null(out);
    sqlite3_close(s);
    *len = (size_t)size;
    return out;
}

static enum rmg_status add_db(struct rmg_pkgdb *db, const void *data, size_t len)
{
    return rmg_pkgdb_add_file(db, DB_PATH, data, len, errbuf, sizeof errbuf);
}

static void assert_clean_err(void)
{
    assert_true(errbuf[0] != '\0');
    for (const char *p = errbuf; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static enum rmg_pkg_verdict verdict(const struct rmg_pkgdb *db, const char *path,
                                    const char *content, struct rmg_pkg_claim *c)
{
    return rmg_pkgdb_verify(db, path, content, strlen(content), c);
}

#define REG 0100644
#define DIR 0040755
#define LNK 0120777

static const struct file acme_files[] = {
    {"/usr/share/acme/", "a.txt", "alpha\n", REG, RPMFILE_DOC, 0},
    {"/etc/", "acme.conf", "key = 1\n", REG, RPMFILE_CONFIG | RPMFILE_NOREPLACE, 0},
    {"/usr/share/", "acme", NULL, DIR, 0, 0},
    {"/usr/share/acme/", "link", NULL, LNK, 0, 0},
    {"/var/log/", "acme.log", NULL, REG, RPMFILE_GHOST, 0},
    {"/usr/share/acme/", "nodigest", NULL, REG, 0, 0},
    {"/usr/share/acme/", "skipped.txt", "docs\n", REG, RPMFILE_DOC, RPMFILE_STATE_NOTINSTALLED},
    {"/lib/", "libacme.so.1", "ELF\n", REG, 0, 0},
};

/* ---- tests ------------------------------------------------------------------------------ */

static void rpm_paths_wanted(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        "/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db",
        "/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db",
    };
    static const char *const no[] = {
        "/var/lib/rpm/rpmdb.sqlite-wal", "/var/lib/rpm/rpmdb.sqlite-shm", "/rpmdb.sqlite",
        "/x/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Name", "/var/lib/rpm/Index.db",
        "/srv/Packages", "/var/lib/rpm/x/Packages", "/a.jar!/var/lib/rpm/rpmdb.sqlite",
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!rmg_pkgdb_wants(yes[i]))
            fail_msg("should want %s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (rmg_pkgdb_wants(no[i]))
            fail_msg("should not want %s", no[i]);
    assert_string_equal(rmg_pkg_manager_name(RMG_PKG_RPM), "rpm");
}

static void rpm_sqlite_files(void **state)
{
    (void)state;
    struct pkg p = {"acme", "1.0", "2.fc39", 3, 8, acme_files,
                    sizeof acme_files / sizeof *acme_files};
    unsigned bl;
    void *blob = header_blob(&p, &bl);
    struct row r = {blob, bl};
    size_t len;
    unsigned char *bytes = database(&r, 1, NULL, &len);
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add_db(db, bytes, len), RMG_OK);
    struct rmg_pkg_claim c;
    assert_int_equal(verdict(db, "/usr/share/acme/a.txt", "alpha\n", &c), RMG_PKG_VERIFIED);
    assert_int_equal(c.manager, RMG_PKG_RPM);
    assert_string_equal(c.name, "acme");
    assert_string_equal(c.version, "3:1.0-2.fc39");
    assert_int_equal(c.alg, RMG_DIGEST_SHA256);
    assert_false(c.conffile);
    assert_int_equal(verdict(db, "/usr/share/acme/a.txt", "alpha\nAKIA...\n", &c),
                     RMG_PKG_MODIFIED);
    assert_int_equal(verdict(db, "/etc/acme.conf", "key = 1\n", &c), RMG_PKG_VERIFIED);
    assert_true(c.conffile);
    assert_int_equal(verdict(db, "/etc/acme.conf", "key = 2\n", &c), RMG_PKG_MODIFIED);
    assert_true(c.conffile);
    /* no bytes, not installed by rpm, or not installed at all: no claim */
    assert_false(rmg_pkgdb_lookup(db, "/usr/share/acme", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/share/acme/link", &c));
    assert_false(rmg_pkgdb_lookup(db, "/var/log/acme.log", &c));
    assert_false(rmg_pkgdb_lookup(db, "/usr/share/acme/skipped.txt", &c));
    assert_int_equal(verdict(db, "/usr/share/acme/nodigest", "x", &c), RMG_PKG_ATTRIBUTED);
    /* merged /usr, as for dpkg */
    assert_int_equal(verdict(db, "/usr/lib/libacme.so.1", "ELF\n", &c), RMG_PKG_VERIFIED);
    size_t entries = 0, packages = 0;
    rmg_pkgdb_stats(db, &entries, &packages, NULL);
    assert_int_equal(packages, 1);
    assert_int_equal(entries, 4);
    /* WAL mode (rpm's own): header bytes 18 and 19 are 2; the same is read */
    bytes[18] = bytes[19] = 2;
    struct rmg_pkgdb *db2 = rmg_pkgdb_new();
    assert_int_equal(add_db(db2, bytes, len), RMG_OK);
    assert_int_equal(verdict(db2, "/usr/share/acme/a.txt", "alpha\n", &c), RMG_PKG_VERIFIED);
    rmg_pkgdb_free(db2);
    rmg_pkgdb_free(db);
    sqlite3_free(bytes);
    free(blob);
}

static void rpm_sqlite_digest_algorithms(void **state)
{
    (void)state;
    static const struct file f[] = {{"/opt/", "f", "same\n", REG, 0, 0}};
    struct pkg md5 = {"old", "1", "1.el7", -1, 0, f, 1}, sha1 = {"mid", "2", "1", -1, 2, f, 1},
               sha512 = {"new", "3", "1", 0, 10, f, 1};
    unsigned l1, l2, l3;
    void *b1 = header_blob(&md5, &l1), *b2 = header_blob(&sha1, &l2),
         *b3 = header_blob(&sha512, &l3);
    struct row rows[] = {{b1, l1}, {b2, l2}, {b3, l3}};
    size_t len;
    unsigned char *bytes = database(rows, 3, NULL, &len);
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add_db(db, bytes, len), RMG_WARN); /* sha512: not claimed */
    assert_clean_err();
    assert_non_null(strstr(errbuf, "digest algorithm 10"));
    struct rmg_pkg_claim cs[8];
    size_t n = rmg_pkgdb_claims(db, "/opt/f", cs, 8);
    assert_int_equal(n, 2);
    assert_string_equal(cs[0].name, "old");
    assert_string_equal(cs[0].version, "1-1.el7");
    assert_int_equal(cs[0].alg, RMG_DIGEST_MD5);
    assert_int_equal(cs[1].alg, RMG_DIGEST_SHA1);
    assert_string_equal(cs[1].version, "2-1");
    assert_int_equal(verdict(db, "/opt/f", "same\n", NULL), RMG_PKG_VERIFIED);
    rmg_pkgdb_free(db);
    sqlite3_free(bytes);
    free(b1);
    free(b2);
    free(b3);
}

static void rpm_sqlite_hostile_rows(void **state)
{
    (void)state;
    static const struct file f[] = {{"/opt/", "good", "good\n", REG, 0, 0}};
    struct pkg good = {"good", "1", "1", -1, 8, f, 1};
    unsigned gl;
    unsigned char *g = header_blob(&good, &gl);
    unsigned char *cut = malloc(gl), *flip = malloc(gl), *big = malloc(gl);
    memcpy(cut, g, gl);
    memcpy(flip, g, gl);
    memcpy(big, g, gl);
    for (unsigned i = 8; i < gl; i += 7)
        flip[i] ^= 0x5a;
    big[0] = 0x7f; /* il: an index far past the blob */
    static const unsigned char tiny[] = {0, 0, 0, 1, 0, 0, 0, 0};
    struct row rows[] = {
        {"\xff\xfetext, not a blob", 0}, {tiny, sizeof tiny}, {cut, gl - 9}, {flip, gl},
        {big, gl}, {g, gl},
    };
    size_t len;
    unsigned char *bytes = database(rows, sizeof rows / sizeof *rows, NULL, &len);
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add_db(db, bytes, len), RMG_WARN);
    assert_clean_err();
    assert_non_null(strstr(errbuf, "more problem"));
    assert_int_equal(verdict(db, "/opt/good", "good\n", NULL), RMG_PKG_VERIFIED);
    rmg_pkgdb_free(db);
    /* truncated databases, and garbage after the magic: warnings, never a crash */
    for (size_t cutlen = 100; cutlen < len; cutlen += len / 7) {
        db = rmg_pkgdb_new();
        assert_int_equal(add_db(db, bytes, cutlen), RMG_WARN);
        assert_clean_err();
        rmg_pkgdb_free(db);
    }
    unsigned char junk[8192];
    memcpy(junk, "SQLite format 3", 16);
    for (size_t i = 16; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131u + 7u);
    db = rmg_pkgdb_new();
    assert_int_equal(add_db(db, junk, sizeof junk), RMG_WARN);
    assert_clean_err();
    assert_int_equal(add_db(db, "not sqlite", 10), RMG_WARN);
    assert_int_equal(add_db(db, NULL, 0), RMG_WARN);
    rmg_pkgdb_free(db);
    sqlite3_free(bytes);
    free(g);
    free(cut);
    free(flip);
    free(big);
}

static void rpm_sqlite_schema_and_limits(void **state)
{
    (void)state;
    size_t len;
    /* a view named Packages that would compute forever: never run */
    unsigned char *bytes = database(NULL, 0,
                                    "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 "
                                    "UNION ALL SELECT x + 1 FROM c) SELECT x AS blob FROM c",
                                    &len);
    struct rmg_pkgdb *db = rmg_pkgdb_new();
    assert_int_equal(add_db(db, bytes, len), RMG_WARN);
    assert_non_null(strstr(errbuf, "no Packages table"));
    rmg_pkgdb_free(db);
    sqlite3_free(bytes);
    /* no blob column */
    bytes = database(NULL, 0, "CREATE TABLE Packages (hnum INTEGER)", &len);
    db = rmg_pkgdb_new();
    assert_int_equal(add_db(db, bytes, len), RMG_WARN);
    assert_clean_err();
    rmg_pkgdb_free(db);
    sqlite3_free(bytes);
    /* the package limit */
    static const struct file f[] = {{"/opt/", "f", "f\n", REG, 0, 0}};
    struct pkg a = {"a", "1", "1", -1, 8, f, 1}, b = {"b", "1", "1", -1, 8, f, 1},
               c = {"c", "1", "1", -1, 8, f, 1};
    unsigned la, lb, lc;
    void *ba = header_blob(&a, &la), *bb = header_blob(&b, &lb), *bc = header_blob(&c, &lc);
    struct row rows[] = {{ba, la}, {bb, lb}, {bc, lc}};
    bytes = database(rows, 3, NULL, &len);
    db = rmg_pkgdb_new();
    rmg_pkgdb_set_limits(db, 0, 2);
    assert_int_equal(add_db(db, bytes, len), RMG_WARN);
    assert_non_null(strstr(errbuf, "package limit"));
    size_t packages = 0;
    rmg_pkgdb_stats(db, NULL, &packages, NULL);
    assert_int_equal(packages, 2);
    rmg_pkgdb_free(db);
    sqlite3_free(bytes);
    free(ba);
    free(bb);
    free(bc);
}

static void rpm_old_formats_fail_closed(void **state)
{
    (void)state;
    static const char *const paths[] = {"/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db",
                                        "/usr/lib/sysimage/rpm/Packages.db"};
    static const unsigned char bdb[16] = {0, 0, 0, 0, 0x61, 0x15, 0x06, 0};
    for (size_t i = 0; i < 3; i++) {
        struct rmg_pkgdb *db = rmg_pkgdb_new();
        assert_int_equal(rmg_pkgdb_add_file(db, paths[i], bdb, sizeof bdb, errbuf, sizeof errbuf),
                         RMG_WARN);
        assert_string_equal(errbuf, "rpm database in Berkeley DB/NDB format: not read");
        size_t entries = 1;
        rmg_pkgdb_stats(db, &entries, NULL, NULL);
        assert_int_equal(entries, 0);
        rmg_pkgdb_free(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rpm_paths_wanted),
        cmocka_unit_test(rpm_sqlite_files),
        cmocka_unit_test(rpm_sqlite_digest_algorithms),
        cmocka_unit_test(rpm_sqlite_hostile_rows),
        cmocka_unit_test(rpm_sqlite_schema_and_limits),
        cmocka_unit_test(rpm_old_formats_fail_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
