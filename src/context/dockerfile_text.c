/* dockerfile_text.c: the byte and rune helpers of the Dockerfile parser (see
 * dockerfile_text.h): Go's unicode and regexp character classes, trimming, ASCII case, and
 * growable arrays and string vectors. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define CLIP 64 /* bytes of Dockerfile text quoted in a warning */

int rmg_df_clipn(size_t n)
{
    return n > CLIP ? CLIP : (int)n;
}

uint32_t rmg_df_decode(const char *s, size_t n, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t l = rmg_utf8_seq_len(u, n);
    *len = l ? l : 1;
    switch (l) {
    case 1: return u[0];
    case 2: return (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
    case 3: return (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
    case 4:
        return (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 |
               (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
    default: return 0xFFFD;
    }
}

bool rmg_df_is_uspace(uint32_t c)
{
    switch (c) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

bool rmg_df_is_byte_space(unsigned char b)
{
    return b == ' ' || (b >= '\t' && b <= '\r') || b == 0x85 || b == 0xA0;
}

bool rmg_df_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

bool rmg_df_is_re_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

void rmg_df_trim_left(const char **s, size_t *n)
{
    while (*n) {
        size_t l;
        if (!rmg_df_is_uspace(rmg_df_decode(*s, *n, &l)))
            return;
        *s += l;
        *n -= l;
    }
}

static void trim_right(const char *s, size_t *n)
{
    while (*n) {
        size_t k = *n - 1;
        for (int back = 0; k > 0 && back < 3 && ((unsigned char)s[k] & 0xC0) == 0x80; back++)
            k--;
        size_t l;
        uint32_t c = rmg_df_decode(s + k, *n - k, &l);
        if (k + l != *n || !rmg_df_is_uspace(c))
            return;
        *n = k;
    }
}

void rmg_df_trim_space(const char **s, size_t *n)
{
    rmg_df_trim_left(s, n);
    trim_right(*s, n);
}

void rmg_df_trim_newline(const char *s, size_t *n)
{
    while (*n && (s[*n - 1] == '\r' || s[*n - 1] == '\n'))
        (*n)--;
}

bool rmg_df_has_byte(const char *s, size_t n, char c)
{
    return n && memchr(s, c, n) != NULL;
}

bool rmg_df_has_pair(const char *s, size_t n, char a, char b)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == a && s[i + 1] == b)
            return true;
    return false;
}

bool rmg_df_eq_fold(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

char *rmg_df_ascii_case(const char *s, size_t n, bool upper)
{
    char *r = rmg_strndup(s, n);
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (upper && r[i] >= 'a' && r[i] <= 'z')
            r[i] = (char)(r[i] - 'a' + 'A');
        else if (!upper && r[i] >= 'A' && r[i] <= 'Z')
            r[i] = (char)(r[i] - 'A' + 'a');
    }
    return r;
}

bool rmg_df_strv_push(struct rmg_df_strv *sv, const char *s, size_t n)
{
    if (!rmg_grow(&sv->v, &sv->cap, sv->n + 1, sizeof *sv->v))
        return false;
    char *c = rmg_strndup(s, n);
    if (!c)
        return false;
    sv->v[sv->n++] = c;
    return true;
}

void rmg_df_strv_clear(struct rmg_df_strv *sv)
{
    rmg_strv_free(sv->v, sv->n);
    *sv = (struct rmg_df_strv){0};
}
