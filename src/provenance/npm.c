/* npm.c: an installed npm package's package.json (see npm.h). cJSON parses it; only the top
 * object's "name" and "version" are read. A package.json larger than MAX_JSON is not parsed
 * (no real one comes near it), so the work per file stays bounded. */
#include "provenance/npm.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "provenance/store.h"

#define MAX_JSON (8u << 20)

/* The top object's string member key, or NULL. */
static const char *member(const cJSON *root, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum rmg_status rmg_npm_parse_package_json(struct rmg_pkgdb *db, const char *path, size_t plen,
                                           const char *data, size_t len,
                                           struct rmg_pkgwarn *w)
{
    char q[RMG_PKG_QUOTE_CAP];
    size_t dir_n = plen - 13; /* "/package.json" */
    /* the directory's own name, "@scope/name" for a scoped package */
    size_t s = dir_n;
    while (s > 0 && path[s - 1] != '/')
        s--;
    if (s >= 2 && path[s - 2] != '/') {
        size_t s2 = s - 1;
        while (s2 > 0 && path[s2 - 1] != '/')
            s2--;
        if (path[s2] == '@')
            s = s2;
    }
    const char *dname = path + s;
    size_t dname_n = dir_n - s;
    if (len > MAX_JSON) {
        rmg_pkgwarn_add(w, "package.json: larger than %u bytes, not read", MAX_JSON);
        return RMG_OK;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data ? data : "", len, &end, false);
    if (root && end) { /* only white space may follow the value */
        const char *stop = (data ? data : "") + len;
        while (end < stop && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end < stop) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root) {
        /* cJSON returns NULL for invalid JSON and on out of memory alike: invalid JSON is
         * by far the likelier, and a warning fails closed (no claim) either way */
        rmg_pkgwarn_add(w, "package.json: not valid JSON");
        return RMG_OK;
    }
    enum rmg_status st = RMG_OK;
    if (!cJSON_IsObject(root)) {
        rmg_pkgwarn_add(w, "package.json: not a JSON object");
        goto out;
    }
    const char *name = member(root, "name"), *ver = member(root, "version");
    size_t name_n = name ? strlen(name) : 0, ver_n = ver ? strlen(ver) : 0;
    if (!name) {
        name = dname;
        name_n = dname_n;
    }
    if (!rmg_pkg_text_ok(name, name_n, RMG_PKG_MAX_NAME)) {
        rmg_pkgwarn_add(w, "package.json: bad package name \"%s\"",
                        rmg_pkg_quote(q, name, name_n));
        goto out;
    }
    if (ver && !rmg_pkg_text_ok(ver, ver_n, RMG_PKG_MAX_VERSION)) {
        rmg_pkgwarn_add(w, "package.json: bad version \"%s\"", rmg_pkg_quote(q, ver, ver_n));
        ver = NULL;
    }
    uint32_t idx;
    st = rmg_store_package(db, RMG_PKG_NPM, name, name_n, ver, ver ? ver_n : 0, &idx);
    if (st == RMG_OK)
        st = rmg_store_dir(db, idx, path, dir_n);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(w, "package.json: package or entry limit reached, not read");
        st = RMG_OK;
    }
out:
    cJSON_Delete(root);
    return st;
}
