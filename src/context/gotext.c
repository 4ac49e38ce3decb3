/* gotext.c: Go's UTF-8 decoding, strings.TrimSpace and filepath.Clean, byte for byte as the
 * Go code that reads .dockerignore files behaves (gotext.h). */
#include "context/gotext.h"

#include <stdbool.h>

/* ---- UTF-8 and whitespace, as Go's unicode/utf8 and strings.TrimSpace see them ---------- */

/* Go's utf8.DecodeRune: an invalid or truncated sequence is RMG_RUNE_ERROR of width 1. */
uint32_t rmg_gotext_decode_rune(const unsigned char *s, size_t n, size_t *w)
{
    unsigned char b0 = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t r;
    if (b0 < 0x80) {
        *w = 1;
        return b0;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        r = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        r = b0 & 0x0Fu;
        if (b0 == 0xE0)
            lo = 0xA0;
        else if (b0 == 0xED)
            hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        r = b0 & 0x07u;
        if (b0 == 0xF0)
            lo = 0x90;
        else if (b0 == 0xF4)
            hi = 0x8F;
    } else {
        *w = 1;
        return RMG_RUNE_ERROR;
    }
    if (n < need + 1) {
        *w = 1;
        return RMG_RUNE_ERROR;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char c = s[i];
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) {
            *w = 1;
            return RMG_RUNE_ERROR;
        }
        r = r << 6 | (c & 0x3Fu);
    }
    *w = need + 1;
    return r;
}

/* Go's utf8.DecodeLastRune (n > 0). */
static uint32_t decode_last_rune(const unsigned char *s, size_t n, size_t *w)
{
    size_t start = n - 1;
    if (s[start] < 0x80) {
        *w = 1;
        return s[start];
    }
    size_t lim = n >= 4 ? n - 4 : 0;
    while (start > lim && (s[start] & 0xC0) == 0x80)
        start--;
    size_t rw;
    uint32_t r = rmg_gotext_decode_rune(s + start, n - start, &rw);
    if (start + rw != n) {
        *w = 1;
        return RMG_RUNE_ERROR;
    }
    *w = rw;
    return r;
}

size_t rmg_gotext_encode_rune(uint32_t r, char *out)
{
    if (r > RMG_MAX_RUNE || (r >= 0xD800 && r <= 0xDFFF))
        r = RMG_RUNE_ERROR;
    if (r < 0x80) {
        out[0] = (char)r;
        return 1;
    }
    if (r < 0x800) {
        out[0] = (char)(0xC0 | r >> 6);
        out[1] = (char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        out[0] = (char)(0xE0 | r >> 12);
        out[1] = (char)(0x80 | (r >> 6 & 0x3F));
        out[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | r >> 18);
    out[1] = (char)(0x80 | (r >> 12 & 0x3F));
    out[2] = (char)(0x80 | (r >> 6 & 0x3F));
    out[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

/* unicode.IsSpace */
static bool is_space(uint32_t r)
{
    if (r <= 0xFF)
        return r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == ' ' ||
               r == 0x85 || r == 0xA0;
    return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 ||
           r == 0x202F || r == 0x205F || r == 0x3000;
}

/* strings.TrimSpace on s[*a, *b). */
void rmg_gotext_trim_space(const char *s, size_t *a, size_t *b)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t w;
    while (*a < *b && is_space(rmg_gotext_decode_rune(u + *a, *b - *a, &w)))
        *a += w;
    while (*b > *a && is_space(decode_last_rune(u + *a, *b - *a, &w)))
        *b -= w;
}

/* filepath.Clean (Unix) of p[0, n) into out, which holds at least n + 2 bytes. Returns the
 * length (the result is not NUL-terminated). */
size_t rmg_gotext_clean_path(const char *p, size_t n, char *out)
{
    if (n == 0) {
        out[0] = '.';
        return 1;
    }
    bool rooted = p[0] == '/';
    size_t w = 0, r = 0, dotdot = 0;
    if (rooted) {
        out[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (p[r] == '/') {
            r++;
        } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
            r++;
        } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                w--;
                while (w > dotdot && out[w] != '/')
                    w--;
            } else if (!rooted) {
                if (w > 0)
                    out[w++] = '/';
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                out[w++] = '/';
            for (; r < n && p[r] != '/'; r++)
                out[w++] = p[r];
        }
    }
    if (w == 0)
        out[w++] = '.';
    return w;
}
