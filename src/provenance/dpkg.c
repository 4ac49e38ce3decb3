/* dpkg.c: dpkg's status file, status.d stanzas and md5sums files (see dpkg.h).
 *
 * DESIGN. The status file is deb822: stanzas separated by blank lines, "Field: value" lines
 * and continuation lines that begin with a space or tab. Only Package, Version, Status and
 * Conffiles are read; other fields are skipped whatever their length. A stanza is read whole
 * before it is stored, so its fields may come in any order. Status is "want flag status"; the
 * files are the package's on disk when the third word is installed, unpacked,
 * half-configured, triggers-awaiting or triggers-pending. A conffile line is
 * " /path md5 [obsolete] [remove-on-upgrade]", read from its end, since a path may hold
 * spaces; "newconffile" (not unpacked yet) is no claim. */
#define _DEFAULT_SOURCE
#include "provenance/dpkg.h"

#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "provenance/store.h"

#define MAX_CONFFILE_LINE (RMG_PKG_MAX_PATH + 128)
#define MAX_STATUS 128

struct stanza {
    const char *pkg, *ver, *status;
    size_t pkg_n, ver_n, status_n;
    size_t conf_pos, conf_end; /* the Conffiles continuation lines */
    unsigned long conf_line, first_line;
    bool any, has_conf;
};

static bool blank(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t')
            return false;
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Is the third word of a Status value a state in which the package's files are on disk? */
static bool status_installed(const char *s, size_t n, bool *wellformed)
{
    const char *w[3] = {0};
    size_t wn[3] = {0}, k = 0, i = 0;
    while (i < n && k < 3) {
        while (i < n && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && s[i] != ' ')
            i++;
        if (i > start) {
            w[k] = s + start;
            wn[k++] = i - start;
        }
    }
    *wellformed = k == 3;
    if (k < 3)
        return false;
    static const char *const on_disk[] = {"installed", "unpacked", "half-configured",
                                          "triggers-awaiting", "triggers-pending"};
    for (size_t j = 0; j < sizeof on_disk / sizeof on_disk[0]; j++)
        if (word_is(w[2], wn[2], on_disk[j]))
            return true;
    return false;
}

/* One conffile line of an installed package. */
static enum rmg_status conffile(struct rmg_pkgdb *db, uint32_t pkg, const char *l, size_t n,
                                unsigned long lineno, struct rmg_pkgwarn *w, bool *stop)
{
    char q[RMG_PKG_QUOTE_CAP];
    if (n > MAX_CONFFILE_LINE) {
        rmg_pkgwarn_add(w, "status line %lu: conffile line longer than %u bytes", lineno,
                        MAX_CONFFILE_LINE);
        return RMG_OK;
    }
    trim(&l, &n);
    if (n == 0)
        return RMG_OK;
    /* flags, then the md5, from the end */
    const char *md5 = NULL;
    size_t md5_n = 0;
    for (int k = 0; k < 3; k++) {
        const char *sp = NULL;
        for (size_t i = n; i > 0; i--)
            if (l[i - 1] == ' ' || l[i - 1] == '\t') {
                sp = l + i - 1;
                break;
            }
        if (!sp)
            break;
        const char *t = sp + 1;
        size_t tn = (size_t)(l + n - t);
        n = (size_t)(sp - l);
        trim(&l, &n);
        if (k < 2 && (word_is(t, tn, "obsolete") || word_is(t, tn, "remove-on-upgrade")))
            continue;
        md5 = t;
        md5_n = tn;
        break;
    }
    if (!md5 || n == 0 || l[0] != '/') {
        rmg_pkgwarn_add(w, "status line %lu: conffile line is not \"/path md5\": \"%s\"",
                        lineno, rmg_pkg_quote(q, l, n));
        return RMG_OK;
    }
    if (word_is(md5, md5_n, "newconffile"))
        return RMG_OK;
    unsigned char digest[16];
    if (md5_n != 32 || !rmg_hex_decode(md5, 32, digest)) {
        rmg_pkgwarn_add(w, "status line %lu: conffile md5 is not 32 hex digits: \"%s\"",
                        lineno, rmg_pkg_quote(q, md5, md5_n));
        return RMG_OK;
    }
    char path[RMG_PKG_MAX_PATH + 1];
    size_t pn = rmg_pkgpath_file("", 0, l, n, path, sizeof path);
    if (!pn) {
        rmg_pkgwarn_add(w, "status line %lu: conffile path rejected: \"%s\"", lineno,
                        rmg_pkg_quote(q, l, n));
        return RMG_OK;
    }
    enum rmg_status st = rmg_store_file(db, pkg, path, pn, RMG_DIGEST_MD5, digest, true);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(w, "status line %lu: entry limit reached, the rest is not read",
                        lineno);
        *stop = true;
        return RMG_OK;
    }
    return st;
}

/* Stores one stanza; *stop when a limit ends the file. */
static enum rmg_status stanza_end(struct rmg_pkgdb *db, const struct stanza *s,
                                  const char *data, bool status_d, struct rmg_pkgwarn *w,
                                  bool *stop)
{
    char q[RMG_PKG_QUOTE_CAP], q2[RMG_PKG_QUOTE_CAP];
    if (!s->any)
        return RMG_OK;
    if (!s->pkg) {
        rmg_pkgwarn_add(w, "status line %lu: stanza without a Package field", s->first_line);
        return RMG_OK;
    }
    if (!rmg_pkg_text_ok(s->pkg, s->pkg_n, RMG_PKG_MAX_NAME) || memchr(s->pkg, '/', s->pkg_n) ||
        memchr(s->pkg, ' ', s->pkg_n)) {
        rmg_pkgwarn_add(w, "status line %lu: bad package name \"%s\"", s->first_line,
                        rmg_pkg_quote(q, s->pkg, s->pkg_n));
        return RMG_OK;
    }
    const char *ver = s->ver;
    if (ver && !rmg_pkg_text_ok(ver, s->ver_n, RMG_PKG_MAX_VERSION)) {
        rmg_pkgwarn_add(w, "status line %lu: bad version of %s: \"%s\"", s->first_line,
                        rmg_pkg_quote(q, s->pkg, s->pkg_n), rmg_pkg_quote(q2, ver, s->ver_n));
        ver = NULL;
    }
    bool installed = status_d, wellformed = true;
    if (s->status) {
        installed = s->status_n <= MAX_STATUS &&
                    status_installed(s->status, s->status_n, &wellformed);
        if (s->status_n > MAX_STATUS || !wellformed)
            rmg_pkgwarn_add(w, "status line %lu: Status of %s is not \"want flag status\"",
                            s->first_line, rmg_pkg_quote(q, s->pkg, s->pkg_n));
    }
    uint32_t idx;
    enum rmg_status st = rmg_store_package(db, RMG_PKG_DPKG, s->pkg, s->pkg_n, NULL, 0, &idx);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(w, "status line %lu: package limit reached, the rest is not read",
                        s->first_line);
        *stop = true;
        return RMG_OK;
    }
    if (st != RMG_OK)
        return st;
    if ((st = rmg_store_dpkg_status(db, idx, installed, ver, ver ? s->ver_n : 0)) != RMG_OK)
        return st;
    if (!installed || !s->has_conf)
        return RMG_OK;
    struct rmg_lines it;
    rmg_lines_init(&it, data + s->conf_pos, s->conf_end - s->conf_pos);
    const char *l;
    size_t n;
    while (!*stop && rmg_lines_next(&it, &l, &n))
        if ((st = conffile(db, idx, l, n, s->conf_line + it.lineno - 1, w, stop)) != RMG_OK)
            return st;
    return RMG_OK;
}

enum rmg_status rmg_dpkg_parse_status(struct rmg_pkgdb *db, const char *data, size_t len,
                                      bool status_d, struct rmg_pkgwarn *w)
{
    struct rmg_lines it;
    rmg_lines_init(&it, data, len);
    struct stanza s = {0};
    bool in_conf = false, stop = false, warned_field = false;
    const char *l;
    size_t n;
    enum rmg_status st = RMG_OK;
    while (!stop && rmg_lines_next(&it, &l, &n)) {
        if (blank(l, n)) {
            if ((st = stanza_end(db, &s, data, status_d, w, &stop)) != RMG_OK)
                return st;
            memset(&s, 0, sizeof s);
            in_conf = false;
            continue;
        }
        if (!s.any) {
            s.any = true;
            s.first_line = it.lineno;
        }
        if (l[0] == ' ' || l[0] == '\t') {
            if (in_conf)
                s.conf_end = it.pos;
            continue;
        }
        in_conf = false;
        if (l[0] == '#')
            continue;
        const char *colon = memchr(l, ':', n);
        if (!colon) {
            if (!warned_field) {
                char q[RMG_PKG_QUOTE_CAP];
                rmg_pkgwarn_add(w, "status line %lu: not a \"Field: value\" line: \"%s\"",
                                it.lineno, rmg_pkg_quote(q, l, n));
                warned_field = true;
            }
            continue;
        }
        size_t fn = (size_t)(colon - l);
        const char *v = colon + 1;
        size_t vn = n - fn - 1;
        trim(&v, &vn);
        const char **dst = NULL;
        size_t *dst_n = NULL;
        if (fn == 7 && strncasecmp(l, "Package", 7) == 0) {
            dst = &s.pkg;
            dst_n = &s.pkg_n;
        } else if (fn == 7 && strncasecmp(l, "Version", 7) == 0) {
            dst = &s.ver;
            dst_n = &s.ver_n;
        } else if (fn == 6 && strncasecmp(l, "Status", 6) == 0) {
            dst = &s.status;
            dst_n = &s.status_n;
        } else if (fn == 9 && strncasecmp(l, "Conffiles", 9) == 0 && !s.has_conf) {
            s.has_conf = in_conf = true;
            s.conf_pos = s.conf_end = it.pos;
            s.conf_line = it.lineno + 1;
        }
        if (dst && !*dst) {
            *dst = v;
            *dst_n = vn;
        }
    }
    if (!stop)
        st = stanza_end(db, &s, data, status_d, w, &stop);
    return st;
}

enum rmg_status rmg_dpkg_parse_md5sums(struct rmg_pkgdb *db, const char *file, size_t flen,
                                       const char *data, size_t len, struct rmg_pkgwarn *w)
{
    char q[RMG_PKG_QUOTE_CAP];
    size_t nlen = flen >= 8 ? flen - 8 : 0; /* ".md5sums" */
    const char *colon = memchr(file, ':', nlen);
    if (colon)
        nlen = (size_t)(colon - file);
    if (!rmg_pkg_text_ok(file, nlen, RMG_PKG_MAX_NAME) || memchr(file, ' ', nlen)) {
        rmg_pkgwarn_add(w, "md5sums: bad package name \"%s\"", rmg_pkg_quote(q, file, nlen));
        return RMG_OK;
    }
    uint32_t idx;
    enum rmg_status st = rmg_store_package(db, RMG_PKG_DPKG, file, nlen, NULL, 0, &idx);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(w, "md5sums: package limit reached, the file is not read");
        return RMG_OK;
    }
    if (st != RMG_OK)
        return st;
    struct rmg_lines it;
    rmg_lines_init(&it, data, len);
    const char *l;
    size_t n;
    while (rmg_lines_next(&it, &l, &n)) {
        if (n == 0)
            continue;
        if (n > 34 + RMG_PKG_MAX_PATH) {
            rmg_pkgwarn_add(w, "md5sums line %lu: longer than %u bytes", it.lineno,
                            34 + RMG_PKG_MAX_PATH);
            continue;
        }
        unsigned char digest[16];
        if (n < 35 || !rmg_hex_decode(l, 32, digest) || l[32] != ' ') {
            rmg_pkgwarn_add(w, "md5sums line %lu: not \"md5  path\": \"%s\"", it.lineno,
                            rmg_pkg_quote(q, l, n));
            continue;
        }
        size_t p0 = l[33] == ' ' || l[33] == '*' ? 34 : 33;
        char path[RMG_PKG_MAX_PATH + 1];
        size_t pn = rmg_pkgpath_file("", 0, l + p0, n - p0, path, sizeof path);
        if (!pn) {
            rmg_pkgwarn_add(w, "md5sums line %lu: path rejected: \"%s\"", it.lineno,
                            rmg_pkg_quote(q, l + p0, n - p0));
            continue;
        }
        st = rmg_store_file(db, idx, path, pn, RMG_DIGEST_MD5, digest, false);
        if (st == RMG_SKIP) {
            rmg_pkgwarn_add(w, "md5sums line %lu: entry limit reached, the rest is not read",
                            it.lineno);
            return RMG_OK;
        }
        if (st != RMG_OK)
            return st;
    }
    return RMG_OK;
}
