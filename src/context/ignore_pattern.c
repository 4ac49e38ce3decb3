/* ignore_pattern.c: one .dockerignore pattern checked and compiled as moby/patternmatcher
 * does (ignore_pattern.h).
 *
 * DESIGN. Docker does not match .dockerignore patterns with filepath.Match: patternmatcher.New
 * runs filepath.Match(p, ".") only for its syntax errors, and Pattern.compile turns the
 * pattern into a Go regular expression: '*' becomes [^/]*, '?' becomes [^/], a double star
 * followed by a slash becomes an optional "any text ending in a slash" group, a trailing
 * double star becomes .* (dot-star), a backslash keeps the next character with its regexp
 * meaning (backslash-d is a digit), and '[' classes pass through. Only . + ( ) $ are escaped:
 * shouldEscape's bitmap loses the bits of '|', '{' and '}', so a pattern's '|' is a regexp
 * alternation and "{2}" a counted repetition. Three fast paths skip the regexp: a pattern
 * without wildcards is compared as a string, "literal then double star" as a prefix, "double
 * star first" as a suffix. This file does the same; goregexp.c compiles the expression. */
#include "context/ignore_pattern.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "context/goregexp.h"
#include "context/gotext.h"

/* ---- filepath.Match syntax check ------------------------------------------------------- */

/* getEsc of Go's path/filepath: one class character, possibly escaped. */
static bool glob_class_char(const unsigned char **c, size_t *n)
{
    if (*n == 0 || **c == '-' || **c == ']')
        return false;
    if (**c == '\\') {
        (*c)++, (*n)--;
        if (*n == 0)
            return false;
    }
    size_t w;
    if (rmg_gotext_decode_rune(*c, *n, &w) == RMG_RUNE_ERROR && w == 1)
        return false;
    *c += w, *n -= w;
    return *n > 0;
}

/* matchChunk's syntax checks (the part that does not depend on the name). */
static bool glob_chunk_ok(const unsigned char *c, size_t n)
{
    while (n > 0) {
        switch (*c) {
        case '[': {
            c++, n--;
            if (n > 0 && *c == '^')
                c++, n--;
            for (unsigned nrange = 0;; nrange++) {
                if (n > 0 && *c == ']' && nrange > 0) {
                    c++, n--;
                    break;
                }
                if (!glob_class_char(&c, &n))
                    return false;
                if (*c == '-') {
                    c++, n--;
                    if (!glob_class_char(&c, &n))
                        return false;
                }
            }
            break;
        }
        case '\\':
            c++, n--;
            if (n == 0)
                return false;
            c++, n--;
            break;
        default:
            c++, n--;
        }
    }
    return true;
}

/* Whether filepath.Match(p, ".") reports ErrBadPattern: Go checks every chunk of the pattern
 * (scanChunk splits at '*' outside classes) whatever the name. */
bool rmg_ignore_pattern_syntax_ok(const char *pat, size_t n)
{
    const unsigned char *p = (const unsigned char *)pat;
    size_t i = 0;
    while (i < n) {
        while (i < n && p[i] == '*')
            i++;
        size_t start = i;
        bool inrange = false;
        for (; i < n; i++) {
            if (p[i] == '\\') {
                if (i + 1 < n)
                    i++;
            } else if (p[i] == '[') {
                inrange = true;
            } else if (p[i] == ']') {
                inrange = false;
            } else if (p[i] == '*' && !inrange) {
                break;
            }
        }
        if (!glob_chunk_ok(p + start, i - start))
            return false;
    }
    return true;
}

/* ---- patternmatcher's Pattern.compile ---------------------------------------------------- */

static bool buf_rune(struct rmg_buf *b, uint32_t r)
{
    char enc[4];
    return rmg_buf_append(b, enc, rmg_gotext_encode_rune(r, enc));
}

/* Builds the regular expression Docker builds for pt->text and decides the match kind, then
 * compiles the expression when the kind is RMG_IGNORE_REGEX. Returns RMG_OK, RMG_ENOMEM, or
 * RMG_EINPUT with *why set. */
enum rmg_status rmg_ignore_pattern_compile(struct rmg_ignore_pattern *pt, const char **why,
                                           bool *unsupported)
{
    const unsigned char *s = (const unsigned char *)pt->text;
    size_t n = pt->len, i = 0, w;
    struct rmg_buf re = {0};
    enum rmg_ignore_kind kind = RMG_IGNORE_EXACT;
    bool ok = rmg_buf_puts(&re, "^");

    /* text/scanner skips a byte order mark at the start */
    if (n >= 3 && rmg_gotext_decode_rune(s, n, &w) == 0xFEFF)
        i = 3;
    for (unsigned tok = 0; ok && i < n; tok++) {
        uint32_t ch = rmg_gotext_decode_rune(s + i, n - i, &w);
        i += w;
        if (ch == '*') {
            if (i < n && s[i] == '*') {
                i++;
                if (i < n && s[i] == '/')
                    i++; /* "**" "/" is "**" */
                if (i >= n) {
                    if (kind == RMG_IGNORE_EXACT) {
                        kind = RMG_IGNORE_PREFIX;
                    } else {
                        ok = rmg_buf_puts(&re, ".*");
                        kind = RMG_IGNORE_REGEX;
                    }
                } else {
                    ok = rmg_buf_puts(&re, "(.*/)?");
                    kind = RMG_IGNORE_REGEX;
                }
                if (tok == 0)
                    kind = RMG_IGNORE_SUFFIX;
            } else {
                ok = rmg_buf_puts(&re, "[^/]*");
                kind = RMG_IGNORE_REGEX;
            }
        } else if (ch == '?') {
            ok = rmg_buf_puts(&re, "[^/]");
            kind = RMG_IGNORE_REGEX;
        } else if (ch != 0 && ch < 0x80 && strchr(".+()$", (int)ch)) {
            /* shouldEscape's table is meant to hold .+()|{}$, but its bits for characters
               from 64 up shift out of a byte: '|', '{' and '}' reach the regexp raw */
            ok = rmg_buf_puts(&re, "\\") && buf_rune(&re, ch);
        } else if (ch == '\\') {
            if (i < n) {
                uint32_t next = rmg_gotext_decode_rune(s + i, n - i, &w);
                i += w;
                ok = rmg_buf_puts(&re, "\\") && buf_rune(&re, next);
                kind = RMG_IGNORE_REGEX;
            } else {
                ok = rmg_buf_puts(&re, "\\");
            }
        } else if (ch == '[' || ch == ']') {
            ok = buf_rune(&re, ch);
            kind = RMG_IGNORE_REGEX;
        } else {
            ok = buf_rune(&re, ch);
        }
    }
    if (ok && kind == RMG_IGNORE_REGEX)
        ok = rmg_buf_puts(&re, "$");
    if (!ok) {
        rmg_buf_free(&re);
        return RMG_ENOMEM;
    }
    pt->kind = kind;
    if (kind != RMG_IGNORE_REGEX) {
        rmg_buf_free(&re);
        return RMG_OK;
    }
    enum rmg_status st = rmg_goregexp_compile(re.data, re.len, &pt->prog, &pt->nprog,
                                              &pt->ranges, why, unsupported);
    rmg_buf_free(&re);
    return st;
}
