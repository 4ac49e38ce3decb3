/* text.c: lines, digests, paths and warnings for the package-database parsers (see text.h). */
#include "provenance/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "provenance/store.h"

void rmg_pkgwarn_init(struct rmg_pkgwarn *w, char *err, size_t errlen)
{
    w->err = errlen ? err : NULL;
    w->errlen = err ? errlen : 0;
    w->count = 0;
    if (w->errlen)
        w->err[0] = '\0';
}

void rmg_pkgwarn_add(struct rmg_pkgwarn *w, const char *fmt, ...)
{
    if (w->count++ == 0 && w->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, w->errlen, fmt, ap);
        va_end(ap);
    }
}

void rmg_pkgwarn_finish(struct rmg_pkgwarn *w)
{
    if (w->count > 1 && w->errlen) {
        size_t n = strlen(w->err);
        snprintf(w->err + n, w->errlen - n, " (and %u more problem%s)", w->count - 1,
                 w->count == 2 ? "" : "s");
    }
}

const char *rmg_pkg_quote(char out[RMG_PKG_QUOTE_CAP], const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, k = n < RMG_PKG_QUOTE_BYTES ? n : RMG_PKG_QUOTE_BYTES;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (k < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

void rmg_lines_init(struct rmg_lines *it, const void *data, size_t len)
{
    it->data = data;
    it->len = data ? len : 0;
    it->pos = 0;
    it->lineno = 0;
}

bool rmg_lines_next(struct rmg_lines *it, const char **line, size_t *n)
{
    if (it->pos >= it->len)
        return false;
    const char *p = it->data + it->pos;
    size_t left = it->len - it->pos;
    const char *nl = memchr(p, '\n', left);
    size_t k = nl ? (size_t)(nl - p) : left;
    it->pos += nl ? k + 1 : k;
    it->lineno++;
    if (k && p[k - 1] == '\r')
        k--;
    *line = p;
    *n = k;
    return true;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

bool rmg_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    while (n && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return false;
    size_t o = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return false;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* the bits left over must be zero (a canonical encoding) */
    if (acc & ((1u << bits) - 1))
        return false;
    *outlen = o;
    return true;
}

/* Appends one component to out (length *o), resolving "." and "..". False when ".." would
 * climb above "/" or the result would not fit. */
static bool push_component(char *out, size_t *o, size_t cap, const char *c, size_t n)
{
    if (n == 0 || (n == 1 && c[0] == '.'))
        return true;
    if (n == 2 && c[0] == '.' && c[1] == '.') {
        if (*o == 0)
            return false;
        while (*o > 0 && out[*o - 1] != '/')
            (*o)--;
        if (*o > 0)
            (*o)--; /* the '/' before the component */
        return true;
    }
    if (*o + 1 + n >= cap || *o + 1 + n > RMG_PKG_MAX_PATH)
        return false;
    out[(*o)++] = '/';
    memcpy(out + *o, c, n);
    *o += n;
    return true;
}

static bool push_path(char *out, size_t *o, size_t cap, const char *p, size_t n)
{
    if (memchr(p, '\0', n))
        return false;
    size_t i = 0;
    while (i < n) {
        const char *slash = memchr(p + i, '/', n - i);
        size_t end = slash ? (size_t)(slash - p) : n;
        if (!push_component(out, o, cap, p + i, end - i))
            return false;
        i = end + 1;
    }
    return true;
}

size_t rmg_pkgpath_join(const char *base, size_t blen, const char *rel, size_t rlen, char *out,
                        size_t cap)
{
    size_t o = 0;
    if (cap < 2 || !push_path(out, &o, cap, base, blen) || !push_path(out, &o, cap, rel, rlen))
        return 0;
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return o;
}

size_t rmg_pkgpath_file(const char *base, size_t blen, const char *rel, size_t rlen, char *out,
                        size_t cap)
{
    size_t n = rmg_pkgpath_join(base, blen, rel, rlen, out, cap);
    return n > 1 ? n : 0;
}

bool rmg_pkg_text_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}
