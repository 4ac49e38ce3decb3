/* gem.c: a gem's specification file names the directory its gem was installed to (see
 * gem.h). Only the path is read: a .gemspec is Ruby code, and its name says all we need. */
#include "provenance/gem.h"

#include <string.h>

#include "provenance/store.h"

enum rmg_status rmg_gem_parse_spec(struct rmg_pkgdb *db, const char *path, size_t plen,
                                   struct rmg_pkgwarn *w)
{
    char q[RMG_PKG_QUOTE_CAP];
    size_t s = plen;
    while (s > 0 && path[s - 1] != '/')
        s--;
    const char *stem = path + s;
    size_t stem_n = plen - s - 8; /* ".gemspec" */
    size_t home_n = s - 16;       /* "/specifications/" */
    size_t name_n = stem_n;
    const char *ver = NULL;
    for (size_t i = stem_n; i > 1; i--)
        if (stem[i - 2] == '-' && stem[i - 1] >= '0' && stem[i - 1] <= '9') {
            name_n = i - 2;
            ver = stem + i - 1;
            break;
        }
    size_t ver_n = ver ? stem_n - name_n - 1 : 0;
    if (!rmg_pkg_text_ok(stem, name_n, RMG_PKG_MAX_NAME) ||
        (ver && !rmg_pkg_text_ok(ver, ver_n, RMG_PKG_MAX_VERSION))) {
        rmg_pkgwarn_add(w, "gemspec: bad gem name \"%s\"", rmg_pkg_quote(q, stem, stem_n));
        return RMG_OK;
    }
    char dir[RMG_PKG_MAX_PATH + 1];
    if (home_n + 6 + stem_n > RMG_PKG_MAX_PATH) {
        rmg_pkgwarn_add(w, "gemspec: gem directory longer than %u bytes", RMG_PKG_MAX_PATH);
        return RMG_OK;
    }
    memcpy(dir, path, home_n);
    memcpy(dir + home_n, "/gems/", 6);
    memcpy(dir + home_n + 6, stem, stem_n);
    uint32_t idx;
    enum rmg_status st = rmg_store_package(db, RMG_PKG_GEM, stem, name_n, ver, ver_n, &idx);
    if (st == RMG_OK)
        st = rmg_store_dir(db, idx, dir, home_n + 6 + stem_n);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(w, "gemspec: package or entry limit reached, not read");
        st = RMG_OK;
    }
    return st;
}
