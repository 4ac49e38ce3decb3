/* rpm.c: rpm's SQLite database, rpmdb.sqlite, read from memory (see rpm.h).
 *
 * DESIGN. The file's bytes are copied into SQLite's own memory and opened with
 * sqlite3_deserialize as a read-only in-memory database: no file, no journal, no shared
 * memory. rpm writes the database in WAL mode (header bytes 18 and 19 are 2), which an
 * in-memory database cannot open; the copy is marked as a rollback-journal database instead,
 * whose pages read the same (a -wal file beside it in the layer, empty once rpm has
 * checkpointed at close, is not read). The connection is defensive (no writable schema),
 * trusts no schema (no function with side effects from a view or trigger, and views and
 * triggers are off anyway), has small bounds on lengths and depths, and a progress handler
 * interrupts a statement past a budget of virtual-machine steps proportional to the file's
 * size. One statement runs, "SELECT blob FROM Packages", and only if Packages is a table.
 *
 * Each blob is an rpm header as rpm's headerExport wrote it (the immutable region, then any
 * dribble entries). librpm's headerImport with HEADERIMPORT_COPY copies and verifies it, as
 * rpm's own database iterator does but without HEADERIMPORT_FAST: every entry's tag, type,
 * offset and length is checked against the blob's size before anything is read. Tags are
 * read with HEADERGET_RAW (no i18n lookup, no extension tags), and each one's type and count
 * is checked here before use. librpm ends the process when malloc fails (its xmalloc); what
 * it allocates is bounded by the header, at most the file. */
#include "provenance/rpm.h"

#include <rpm/header.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "provenance/store.h"

#define MAX_DB (256u << 20)     /* bytes of database taken (the layer walker reads <= 64 MiB) */
#define MIN_HEADER 24           /* il, dl and one index entry */
#define PROGRESS_EVERY 1000     /* virtual-machine steps between progress calls */
#define STEPS_BASE 1000000u     /* the step budget: a base ... */
#define STEPS_PER_BYTE 16u      /* ... and this many per byte of database */

/* FILEDIGESTALGO's values (rpm's PGPHASHALGO_*). */
enum { PGP_MD5 = 1, PGP_SHA1 = 2, PGP_SHA256 = 8 };

struct rpmread {
    struct rmg_pkgdb *db;
    struct rmg_pkgwarn *w;
    unsigned long row;
    bool stop;
    uint64_t steps, budget;
    char dir[RMG_PKG_MAX_PATH + 1];
    char path[RMG_PKG_MAX_PATH + 1];
};

static int progress(void *arg)
{
    struct rpmread *r = arg;
    r->steps += PROGRESS_EVERY;
    return r->steps > r->budget;
}

/* h's tag into td when it has that type and, if count is nonzero, that many entries. */
static bool get(Header h, rpmTagVal tag, rpmTagType type, rpm_count_t count, rpmtd td)
{
    if (!headerGet(h, tag, td, HEADERGET_MINMEM | HEADERGET_RAW))
        return false;
    if (rpmtdType(td) != type || rpmtdCount(td) == 0 || (count && rpmtdCount(td) != count)) {
        rpmtdFreeData(td);
        return false;
    }
    return true;
}

static const char *string_at(rpmtd td, rpm_count_t i)
{
    return rpmtdSetIndex(td, (int)i) < 0 ? NULL : rpmtdGetString(td);
}

static bool u32_at(rpmtd td, rpm_count_t i, uint32_t *v)
{
    const uint32_t *p = rpmtdSetIndex(td, (int)i) < 0 ? NULL : rpmtdGetUint32(td);
    if (p)
        *v = *p;
    return p != NULL;
}

/* "[EPOCH:]VERSION-RELEASE" into out; its length, or 0 when h has none the store takes. */
static size_t evr(Header h, char *out, size_t cap)
{
    struct rpmtd_s v, rel, e;
    size_t n = 0;
    if (!get(h, RPMTAG_VERSION, RPM_STRING_TYPE, 1, &v))
        return 0;
    bool has_rel = get(h, RPMTAG_RELEASE, RPM_STRING_TYPE, 1, &rel);
    bool has_epoch = headerIsEntry(h, RPMTAG_EPOCH);
    uint32_t epoch = 0;
    bool ok = !has_epoch || (get(h, RPMTAG_EPOCH, RPM_INT32_TYPE, 1, &e) &&
                             u32_at(&e, 0, &epoch));
    if (ok) {
        int k = has_epoch ? snprintf(out, cap, "%u:%s%s%s", (unsigned)epoch, rpmtdGetString(&v),
                                     has_rel ? "-" : "", has_rel ? rpmtdGetString(&rel) : "")
                          : snprintf(out, cap, "%s%s%s", rpmtdGetString(&v),
                                     has_rel ? "-" : "", has_rel ? rpmtdGetString(&rel) : "");
        if (k > 0 && (size_t)k < cap && rmg_pkg_text_ok(out, (size_t)k, RMG_PKG_MAX_VERSION))
            n = (size_t)k;
    }
    rpmtdFreeData(&v);
    if (has_rel)
        rpmtdFreeData(&rel);
    if (has_epoch)
        rpmtdFreeData(&e);
    return n;
}

/* The digest algorithm of h's files; RMG_DIGEST_NONE when it is one the store lacks. */
static enum rmg_digest_alg file_alg(Header h, uint32_t *raw)
{
    struct rpmtd_s td;
    *raw = PGP_MD5; /* rpm before 4.6 wrote no FILEDIGESTALGO: md5 */
    if (headerIsEntry(h, RPMTAG_FILEDIGESTALGO)) {
        if (!get(h, RPMTAG_FILEDIGESTALGO, RPM_INT32_TYPE, 1, &td))
            return RMG_DIGEST_NONE;
        bool ok = u32_at(&td, 0, raw);
        rpmtdFreeData(&td);
        if (!ok)
            return RMG_DIGEST_NONE;
    }
    switch (*raw) {
    case 0:
    case PGP_MD5: return RMG_DIGEST_MD5;
    case PGP_SHA1: return RMG_DIGEST_SHA1;
    case PGP_SHA256: return RMG_DIGEST_SHA256;
    }
    return RMG_DIGEST_NONE;
}

/* The file arrays of one header, each with one entry per file (but dirs: one per directory);
 * flags and states are optional. */
struct file_tags {
    struct rpmtd_s base, dirs, idx, digests, modes, flags, states;
    bool has_flags, has_states;
};

static void file_tags_free(struct file_tags *t)
{
    rpmtdFreeData(&t->base);
    rpmtdFreeData(&t->dirs);
    rpmtdFreeData(&t->idx);
    rpmtdFreeData(&t->digests);
    rpmtdFreeData(&t->modes);
    rpmtdFreeData(&t->flags);
    rpmtdFreeData(&t->states);
}

static bool file_tags_get(Header h, struct file_tags *t)
{
    memset(t, 0, sizeof *t);
    if (!get(h, RPMTAG_BASENAMES, RPM_STRING_ARRAY_TYPE, 0, &t->base))
        return false;
    rpm_count_t n = rpmtdCount(&t->base);
    bool ok = get(h, RPMTAG_DIRNAMES, RPM_STRING_ARRAY_TYPE, 0, &t->dirs) &&
              get(h, RPMTAG_DIRINDEXES, RPM_INT32_TYPE, n, &t->idx) &&
              get(h, RPMTAG_FILEDIGESTS, RPM_STRING_ARRAY_TYPE, n, &t->digests) &&
              get(h, RPMTAG_FILEMODES, RPM_INT16_TYPE, n, &t->modes);
    t->has_flags = ok && headerIsEntry(h, RPMTAG_FILEFLAGS);
    if (t->has_flags)
        ok = get(h, RPMTAG_FILEFLAGS, RPM_INT32_TYPE, n, &t->flags);
    t->has_states = ok && headerIsEntry(h, RPMTAG_FILESTATES);
    if (t->has_states)
        ok = get(h, RPMTAG_FILESTATES, RPM_CHAR_TYPE, n, &t->states);
    return ok;
}

static enum rmg_status put(struct rpmread *r, uint32_t pkg, size_t plen, enum rmg_digest_alg alg,
                           const unsigned char *d, bool conffile)
{
    enum rmg_status st = rmg_store_file(r->db, pkg, r->path, plen, alg, d, conffile);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(r->w, "Packages row %lu: entry limit reached, the rest is not read",
                        r->row);
        r->stop = true;
        return RMG_OK;
    }
    return st;
}

/* File i of the header: its entry, or a reason it has none (NULL: skipped, no warning). */
static const char *file(struct rpmread *r, struct file_tags *t, rpm_count_t i, uint32_t pkg,
                        enum rmg_digest_alg alg, uint32_t *last_dir, size_t *dn,
                        enum rmg_status *st)
{
    uint16_t *mode = rpmtdSetIndex(&t->modes, (int)i) < 0 ? NULL : rpmtdGetUint16(&t->modes);
    if (!mode || !S_ISREG(*mode))
        return NULL; /* directories, symlinks, devices: no bytes, no digest */
    uint32_t flags = 0, di = 0;
    if (t->has_flags && !u32_at(&t->flags, i, &flags))
        return "bad FILEFLAGS";
    if (flags & RPMFILE_GHOST)
        return NULL; /* rpm did not install it: whatever lies there is not the package's */
    if (t->has_states) {
        char *s = rpmtdSetIndex(&t->states, (int)i) < 0 ? NULL : rpmtdGetChar(&t->states);
        if (!s)
            return "bad FILESTATES";
        if (!RPMFILE_IS_INSTALLED(*s))
            return NULL; /* not installed (--nodocs), replaced by another package's */
    }
    if (!u32_at(&t->idx, i, &di) || di >= rpmtdCount(&t->dirs))
        return "directory index out of range";
    if (di != *last_dir) {
        const char *dir = string_at(&t->dirs, di);
        *last_dir = UINT32_MAX;
        if (!dir || dir[0] != '/' ||
            !(*dn = rmg_pkgpath_join("", 0, dir, strlen(dir), r->dir, sizeof r->dir)))
            return "directory rejected";
        *last_dir = di;
    }
    const char *base = string_at(&t->base, i);
    if (!base || !base[0] || strchr(base, '/'))
        return "file name rejected";
    size_t plen = rmg_pkgpath_file(r->dir, *dn, base, strlen(base), r->path, sizeof r->path);
    if (!plen)
        return "path rejected";
    const char *hex = string_at(&t->digests, i);
    if (!hex)
        return "bad FILEDIGESTS";
    size_t hn = strlen(hex);
    unsigned char d[32];
    if (hn == 0) {
        *st = put(r, pkg, plen, RMG_DIGEST_NONE, NULL, false); /* no digest: attribution */
        return NULL;
    }
    if (alg == RMG_DIGEST_NONE)
        return NULL; /* an algorithm the store lacks: no claim (said once per package) */
    if (hn != 2 * rmg_digest_len(alg) || !rmg_hex_decode(hex, hn, d))
        return "digest is not hex of its algorithm's length";
    *st = put(r, pkg, plen, alg, d, (flags & RPMFILE_CONFIG) != 0);
    return NULL;
}

static enum rmg_status files(struct rpmread *r, Header h, uint32_t pkg, const char *name)
{
    char q[RMG_PKG_QUOTE_CAP];
    if (!headerIsEntry(h, RPMTAG_BASENAMES))
        return RMG_OK; /* no files (or rpm 3's OLDFILENAMES, which rpm's databases convert) */
    struct file_tags t;
    if (!file_tags_get(h, &t)) {
        rmg_pkgwarn_add(r->w, "Packages row %lu: package \"%s\": file tags missing or of the "
                        "wrong type or count: its files are not claimed", r->row,
                        rmg_pkg_quote(q, name, strlen(name)));
        file_tags_free(&t);
        return RMG_OK;
    }
    uint32_t raw;
    enum rmg_digest_alg alg = file_alg(h, &raw);
    if (alg == RMG_DIGEST_NONE)
        rmg_pkgwarn_add(r->w, "Packages row %lu: package \"%s\": file digest algorithm %u is "
                        "not md5, sha1 or sha256: its files are not claimed", r->row,
                        rmg_pkg_quote(q, name, strlen(name)), (unsigned)raw);
    enum rmg_status st = RMG_OK;
    uint32_t last_dir = UINT32_MAX;
    size_t dn = 0;
    unsigned bad = 0;
    const char *first_bad = NULL;
    for (rpm_count_t i = 0, n = rpmtdCount(&t.base); i < n && !r->stop && st == RMG_OK; i++) {
        const char *why = file(r, &t, i, pkg, alg, &last_dir, &dn, &st);
        if (why && !bad++)
            first_bad = why;
    }
    if (bad)
        rmg_pkgwarn_add(r->w, "Packages row %lu: package \"%s\": %u file%s skipped (%s)",
                        r->row, rmg_pkg_quote(q, name, strlen(name)), bad, bad == 1 ? "" : "s",
                        first_bad);
    file_tags_free(&t);
    return st;
}

static enum rmg_status package(struct rpmread *r, Header h)
{
    char q[RMG_PKG_QUOTE_CAP];
    struct rpmtd_s nt;
    if (!get(h, RPMTAG_NAME, RPM_STRING_TYPE, 1, &nt)) {
        rmg_pkgwarn_add(r->w, "Packages row %lu: header without a package name", r->row);
        return RMG_OK;
    }
    const char *name = rpmtdGetString(&nt);
    size_t nlen = name ? strlen(name) : 0;
    enum rmg_status st = RMG_OK;
    if (!rmg_pkg_text_ok(name, nlen, RMG_PKG_MAX_NAME)) {
        rmg_pkgwarn_add(r->w, "Packages row %lu: bad package name \"%s\"", r->row,
                        rmg_pkg_quote(q, name ? name : "", nlen));
        goto out;
    }
    char ver[RMG_PKG_MAX_VERSION + 1];
    size_t vlen = evr(h, ver, sizeof ver);
    if (!vlen)
        rmg_pkgwarn_add(r->w, "Packages row %lu: package \"%s\": version missing or bad",
                        r->row, rmg_pkg_quote(q, name, nlen));
    uint32_t pkg;
    st = rmg_store_package(r->db, RMG_PKG_RPM, name, nlen, vlen ? ver : NULL, vlen, &pkg);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(r->w, "Packages row %lu: package limit reached, the rest is not read",
                        r->row);
        r->stop = true;
        st = RMG_OK;
    } else if (st == RMG_OK) {
        st = files(r, h, pkg, name);
    }
out:
    rpmtdFreeData(&nt);
    return st;
}

/* A connection that reads only data's copy, within bounds; NULL (and a warning, or *st
 * RMG_ENOMEM) when SQLite refuses it. */
static sqlite3 *open_db(struct rpmread *r, const char *data, size_t len, enum rmg_status *st)
{
    sqlite3 *s = NULL;
    int rc = sqlite3_open_v2(":memory:", &s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOMEM)
            *st = RMG_ENOMEM;
        else
            rmg_pkgwarn_add(r->w, "rpmdb: SQLite cannot open a connection: %s",
                            sqlite3_errstr(rc));
        sqlite3_close(s);
        return NULL;
    }
    sqlite3_db_config(s, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(s, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    sqlite3_db_config(s, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
    sqlite3_db_config(s, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
    sqlite3_db_config(s, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    sqlite3_limit(s, SQLITE_LIMIT_LENGTH, (int)MAX_DB);
    sqlite3_limit(s, SQLITE_LIMIT_SQL_LENGTH, 1 << 16);
    sqlite3_limit(s, SQLITE_LIMIT_COLUMN, 100);
    sqlite3_limit(s, SQLITE_LIMIT_EXPR_DEPTH, 100);
    sqlite3_limit(s, SQLITE_LIMIT_COMPOUND_SELECT, 4);
    sqlite3_limit(s, SQLITE_LIMIT_VDBE_OP, 25000);
    sqlite3_limit(s, SQLITE_LIMIT_FUNCTION_ARG, 8);
    sqlite3_limit(s, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(s, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 100);
    sqlite3_limit(s, SQLITE_LIMIT_VARIABLE_NUMBER, 10);
    sqlite3_limit(s, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
    sqlite3_limit(s, SQLITE_LIMIT_WORKER_THREADS, 0);
    r->budget = STEPS_BASE + (uint64_t)STEPS_PER_BYTE * len;
    sqlite3_progress_handler(s, PROGRESS_EVERY, progress, r);
    unsigned char *copy = sqlite3_malloc64(len);
    if (!copy) {
        sqlite3_close(s);
        *st = RMG_ENOMEM;
        return NULL;
    }
    memcpy(copy, data, len);
    if (copy[18] == 2 && copy[19] == 2) /* WAL: read as a rollback-journal database */
        copy[18] = copy[19] = 1;
    /* on failure sqlite3_deserialize frees copy itself (FREEONCLOSE) */
    rc = sqlite3_deserialize(s, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
                             SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOMEM)
            *st = RMG_ENOMEM;
        else
            rmg_pkgwarn_add(r->w, "rpmdb: SQLite cannot read the database: %s",
                            sqlite3_errstr(rc));
        sqlite3_close(s);
        return NULL;
    }
    return s;
}

/* Is Packages a table of s? (A view or a missing table: no.) *rc gets SQLite's result. */
static bool has_packages_table(sqlite3 *s, int *rc)
{
    sqlite3_stmt *q = NULL;
    *rc = sqlite3_prepare_v2(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'Packages'", -1, &q, NULL);
    bool yes = false;
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_step(q);
        yes = *rc == SQLITE_ROW;
        if (*rc == SQLITE_ROW || *rc == SQLITE_DONE)
            *rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return yes;
}

static enum rmg_status rows(struct rpmread *r, sqlite3 *s)
{
    int rc;
    if (!has_packages_table(s, &rc)) {
        if (rc == SQLITE_NOMEM)
            return RMG_ENOMEM;
        if (rc == SQLITE_OK)
            rmg_pkgwarn_add(r->w, "rpmdb: no Packages table");
        else
            rmg_pkgwarn_add(r->w, "rpmdb: SQLite cannot read the schema: %s",
                            rc == SQLITE_INTERRUPT ? "work bound reached" : sqlite3_errstr(rc));
        return RMG_OK;
    }
    sqlite3_stmt *q = NULL;
    rc = sqlite3_prepare_v2(s, "SELECT blob FROM Packages", -1, &q, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(q);
        if (rc == SQLITE_NOMEM)
            return RMG_ENOMEM;
        rmg_pkgwarn_add(r->w, "rpmdb: cannot read the Packages table: %s", sqlite3_errstr(rc));
        return RMG_OK;
    }
    enum rmg_status st = RMG_OK;
    while (st == RMG_OK && !r->stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        r->row++;
        const void *b = sqlite3_column_blob(q, 0);
        int bn = sqlite3_column_bytes(q, 0);
        if (sqlite3_column_type(q, 0) != SQLITE_BLOB || !b || bn < MIN_HEADER) {
            rmg_pkgwarn_add(r->w, "Packages row %lu: not an rpm header, skipped", r->row);
            continue;
        }
        /* headerImport copies the blob before it reads it (HEADERIMPORT_COPY): the cast
         * drops a const that it keeps */
        Header h = headerImport((void *)(uintptr_t)b, (unsigned)bn, HEADERIMPORT_COPY);
        if (!h) {
            rmg_pkgwarn_add(r->w, "Packages row %lu: damaged rpm header (librpm rejects it), "
                            "skipped", r->row);
            continue;
        }
        st = package(r, h);
        headerFree(h);
    }
    if (st == RMG_OK && !r->stop && rc != SQLITE_DONE) {
        if (rc == SQLITE_NOMEM)
            st = RMG_ENOMEM;
        else
            rmg_pkgwarn_add(r->w, "rpmdb: Packages read stopped after %lu rows: %s", r->row,
                            rc == SQLITE_INTERRUPT ? "work bound reached" : sqlite3_errstr(rc));
    }
    sqlite3_finalize(q);
    return st;
}

enum rmg_status rmg_rpm_parse_sqlite(struct rmg_pkgdb *db, const char *data, size_t len,
                                     struct rmg_pkgwarn *w)
{
    if (len < 100 || memcmp(data, "SQLite format 3", 16) != 0) {
        rmg_pkgwarn_add(w, "rpmdb: not a SQLite database");
        return RMG_OK;
    }
    if (len > MAX_DB) {
        rmg_pkgwarn_add(w, "rpmdb: larger than %u MiB: not read", MAX_DB >> 20);
        return RMG_OK;
    }
    struct rpmread *r = calloc(1, sizeof *r); /* two path buffers: not on the stack */
    if (!r)
        return RMG_ENOMEM;
    r->db = db;
    r->w = w;
    enum rmg_status st = RMG_OK;
    sqlite3 *s = open_db(r, data, len, &st);
    if (s)
        st = rows(r, s);
    sqlite3_close(s);
    free(r);
    return st;
}
