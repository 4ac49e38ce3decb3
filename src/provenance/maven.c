/* maven.c: a jar's META-INF/maven/GROUP/ARTIFACT/pom.properties (see maven.h).
 *
 * DESIGN. pom.properties is a java.util.Properties file: "key=value", "key: value" or
 * "key value" lines, '#' and '!' comments, a line ending in an odd number of backslashes
 * continued on the next, and backslash escapes (\t \n \r \f \uXXXX, else the character
 * itself). A logical line is decoded into a fixed buffer (MAX_LINE bytes); a longer one is a
 * warning. Only groupId, artifactId and version are kept. */
#include "provenance/maven.h"

#include <string.h>

#include "common/util.h"
#include "provenance/store.h"

#define MAX_LINE 1024

struct props {
    char group[RMG_PKG_MAX_NAME + 1], artifact[RMG_PKG_MAX_NAME + 1];
    char version[RMG_PKG_MAX_VERSION + 1];
    size_t group_n, artifact_n, version_n;
    bool has_group, has_artifact, has_version;
};

/* Appends code point cp as UTF-8 (a lone surrogate becomes U+FFFD). */
static size_t put_utf8(char *out, size_t o, unsigned cp)
{
    if (cp >= 0xd800 && cp <= 0xdfff)
        cp = 0xfffd;
    if (cp < 0x80) {
        out[o++] = (char)cp;
    } else if (cp < 0x800) {
        out[o++] = (char)(0xc0 | cp >> 6);
        out[o++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[o++] = (char)(0xe0 | cp >> 12);
        out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[o++] = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Reads the next logical line, decoded, into out (MAX_LINE + 4 bytes): key in
 * out[0..*key_n), value in out[*val_at..*out_n). False at the end of the data; *too_long when
 * the line did not fit (it is consumed all the same). */
static bool next_prop(const char *d, size_t len, size_t *pos, char *out, size_t *key_n,
                      size_t *val_at, size_t *out_n, bool *too_long)
{
    for (;;) {
        if (*pos >= len)
            return false;
        size_t i = *pos;
        while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\f'))
            i++;
        if (i >= len)
            return false;
        if (d[i] == '\n' || d[i] == '\r' || d[i] == '#' || d[i] == '!') {
            if (d[i] == '#' || d[i] == '!')
                while (i < len && d[i] != '\n' && d[i] != '\r')
                    i++;
            *pos = i + 1;
            continue;
        }
        size_t o = 0;
        bool in_key = true, sep_seen = false, skip_ws = false;
        *key_n = 0;
        *val_at = 0;
        *too_long = false;
        while (i < len && d[i] != '\n' && d[i] != '\r') {
            char c = d[i++];
            bool escaped = false;
            if (c == '\\') {
                if (i >= len)
                    break;
                c = d[i++];
                if (c == '\n' || c == '\r') { /* continued: skip the newline and indent */
                    if (c == '\r' && i < len && d[i] == '\n')
                        i++;
                    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\f'))
                        i++;
                    continue;
                }
                escaped = true;
                if (c == 't')
                    c = '\t';
                else if (c == 'n')
                    c = '\n';
                else if (c == 'r')
                    c = '\r';
                else if (c == 'f')
                    c = '\f';
                else if (c == 'u') {
                    unsigned cp = 0;
                    int k = 0;
                    for (; k < 4 && i < len && rmg_hex_value(d[i]) >= 0; k++, i++)
                        cp = cp << 4 | (unsigned)rmg_hex_value(d[i]);
                    if (o + 3 > MAX_LINE)
                        *too_long = true;
                    else
                        o = put_utf8(out, o, k == 4 ? cp : 0xfffd);
                    skip_ws = false;
                    continue;
                }
            }
            if (in_key && !escaped && (c == '=' || c == ':' || c == ' ' || c == '\t')) {
                in_key = false;
                *key_n = o;
                *val_at = o;
                sep_seen = c == '=' || c == ':';
                skip_ws = true;
                continue;
            }
            if (skip_ws && !escaped && (c == ' ' || c == '\t' || c == '\f'))
                continue;
            if (skip_ws && !escaped && !sep_seen && (c == '=' || c == ':')) {
                sep_seen = true;
                continue;
            }
            skip_ws = false;
            if (o + 1 > MAX_LINE)
                *too_long = true;
            else
                out[o++] = c;
        }
        if (in_key) {
            *key_n = o;
            *val_at = o;
        }
        *out_n = o;
        *pos = i + 1;
        return true;
    }
}

static void keep(const char *v, size_t n, char *dst, size_t cap, size_t *dst_n, bool *has)
{
    if (*has || n >= cap)
        return;
    memcpy(dst, v, n);
    dst[n] = '\0';
    *dst_n = n;
    *has = true;
}

static void read_props(struct props *p, const char *data, size_t len, struct rmg_pkgwarn *w)
{
    char line[MAX_LINE + 4];
    size_t pos = 0, key_n, val_at, n;
    bool too_long, warned = false;
    while (next_prop(data, len, &pos, line, &key_n, &val_at, &n, &too_long)) {
        if (too_long) {
            if (!warned)
                rmg_pkgwarn_add(w, "pom.properties: line longer than %u bytes", MAX_LINE);
            warned = true;
            continue;
        }
        const char *v = line + val_at;
        size_t vn = n - val_at;
        if (key_n == 7 && memcmp(line, "groupId", 7) == 0)
            keep(v, vn, p->group, sizeof p->group, &p->group_n, &p->has_group);
        else if (key_n == 10 && memcmp(line, "artifactId", 10) == 0)
            keep(v, vn, p->artifact, sizeof p->artifact, &p->artifact_n, &p->has_artifact);
        else if (key_n == 7 && memcmp(line, "version", 7) == 0)
            keep(v, vn, p->version, sizeof p->version, &p->version_n, &p->has_version);
    }
}

enum rmg_status rmg_maven_parse_pom_properties(struct rmg_pkgdb *db, const char *path,
                                               size_t plen, const char *data, size_t len,
                                               struct rmg_pkgwarn *w)
{
    char q[RMG_PKG_QUOTE_CAP];
    /* "<jar>!/META-INF/maven/<G>/<A>/pom.properties" */
    size_t a_end = plen - 15, a = a_end;
    while (a > 0 && path[a - 1] != '/')
        a--;
    size_t g_end = a - 1, g = g_end;
    while (g > 0 && path[g - 1] != '/')
        g--;
    size_t jar_n = g - 1 - 15; /* "/META-INF/maven" */
    if (jar_n > RMG_PKG_MAX_PATH) {
        rmg_pkgwarn_add(w, "pom.properties: archive path longer than %u bytes",
                        RMG_PKG_MAX_PATH);
        return RMG_OK;
    }
    struct props p;
    memset(&p, 0, sizeof p);
    read_props(&p, data ? data : "", data ? len : 0, w);
    const char *group = p.has_group ? p.group : path + g;
    size_t group_n = p.has_group ? p.group_n : g_end - g;
    const char *art = p.has_artifact ? p.artifact : path + a;
    size_t art_n = p.has_artifact ? p.artifact_n : a_end - a;
    char name[RMG_PKG_MAX_NAME + 1];
    if (group_n + 1 + art_n > RMG_PKG_MAX_NAME || !rmg_pkg_text_ok(group, group_n, group_n) ||
        !rmg_pkg_text_ok(art, art_n, art_n)) {
        rmg_pkgwarn_add(w, "pom.properties: bad groupId or artifactId \"%s\"",
                        rmg_pkg_quote(q, group, group_n));
        return RMG_OK;
    }
    memcpy(name, group, group_n);
    name[group_n] = ':';
    memcpy(name + group_n + 1, art, art_n);
    const char *ver = p.has_version ? p.version : NULL;
    if (ver && !rmg_pkg_text_ok(ver, p.version_n, RMG_PKG_MAX_VERSION)) {
        rmg_pkgwarn_add(w, "pom.properties: bad version \"%s\"",
                        rmg_pkg_quote(q, ver, p.version_n));
        ver = NULL;
    }
    uint32_t idx;
    enum rmg_status st = rmg_store_package(db, RMG_PKG_MAVEN, name, group_n + 1 + art_n, ver,
                                           ver ? p.version_n : 0, &idx);
    if (st == RMG_OK)
        st = rmg_store_dir(db, idx, path, jar_n);
    if (st == RMG_SKIP) {
        rmg_pkgwarn_add(w, "pom.properties: package or entry limit reached, not read");
        st = RMG_OK;
    }
    return st;
}
