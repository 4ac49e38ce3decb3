/* dockerignore.c: .dockerignore parsing and matching with Docker's semantics (dockerignore.h).
 *
 * DESIGN. Docker does not match .dockerignore patterns with filepath.Match. Each pattern is
 * (1) read by ignorefile.ReadAll (BOM, '#' comments, TrimSpace, '!', filepath.Clean, leading
 * '/' dropped), (2) taken by patternmatcher.New (TrimSpace and Clean again, '!' split off,
 * "!" alone refused, filepath.Match(p, ".") run only for its syntax errors), and (3) turned
 * by Pattern.compile into a Go regular expression: '*' becomes [^/]*, '?' becomes [^/], a
 * double star followed by a slash becomes an optional "any text ending in a slash" group,
 * a trailing double star becomes .* (dot-star), a backslash keeps the next character with
 * its regexp meaning (backslash-d is a digit), and '[' classes pass through. Only . + ( ) $
 * are escaped: shouldEscape's bitmap loses the bits of '|', '{' and '}', so a pattern's '|'
 * is a regexp alternation and "{2}" a counted repetition. Three fast paths skip the regexp:
 * a pattern without wildcards is compared as a string, "literal then double star" as a
 * prefix, "double star first" as a suffix. This file does the same three steps, then
 * interprets the expression the way Go's regexp/syntax does with its Perl flags ('.' does
 * not match a newline, negated classes do, '^' and '$' anchor the whole text, MatchString
 * finds a match starting anywhere), compiled to a small NFA simulated Thompson-style: each
 * step visits an instruction at most once, so a pattern of thousands of stars costs time
 * linear in its length, never exponential, and nothing recurses. Patterns that expand past
 * a million instructions are refused, and one query gives up after a fixed amount of work
 * (answering on the side of scanning); neither happens with real ignore files.
 *
 * Which paths are excluded follows BuildKit's context walk (tonistiigi/fsutil filterFS.Walk):
 * for each directory on the way down, MatchesUsingParentResults with the parent's
 * per-pattern results (a pattern is tested only where it could flip the verdict; a pattern
 * that matched a directory matches everything below it), and an excluded directory is
 * skipped whole when no exception could reach into it. This differs from
 * MatchesOrParentMatches in corner cases: with the lines "**" "/" "*.pem" and "!certs",
 * BuildKit still leaves out certs/a.pem.
 *
 * A parsed matcher is read-only; matching allocates its own scratch, so threads may share
 * it. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerignore.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

#define RUNE_ERROR 0xFFFDu
#define MAX_RUNE 0x10FFFFu
#define MAX_LINE 65536u /* bufio.MaxScanTokenSize: longer lines make ReadAll fail */

/* ---- UTF-8 and whitespace, as Go's unicode/utf8 and strings.TrimSpace see them ---------- */

/* Go's utf8.DecodeRune: an invalid or truncated sequence is RUNE_ERROR of width 1. */
static uint32_t decode_rune(const unsigned char *s, size_t n, size_t *w)
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
        return RUNE_ERROR;
    }
    if (n < need + 1) {
        *w = 1;
        return RUNE_ERROR;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char c = s[i];
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) {
            *w = 1;
            return RUNE_ERROR;
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
    uint32_t r = decode_rune(s + start, n - start, &rw);
    if (start + rw != n) {
        *w = 1;
        return RUNE_ERROR;
    }
    *w = rw;
    return r;
}

static size_t encode_rune(uint32_t r, char *out)
{
    if (r > MAX_RUNE || (r >= 0xD800 && r <= 0xDFFF))
        r = RUNE_ERROR;
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
static void trim_space(const char *s, size_t *a, size_t *b)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t w;
    while (*a < *b && is_space(decode_rune(u + *a, *b - *a, &w)))
        *a += w;
    while (*b > *a && is_space(decode_last_rune(u + *a, *b - *a, &w)))
        *b -= w;
}

/* filepath.Clean (Unix) of p[0, n) into out, which holds at least n + 2 bytes. Returns the
 * length (the result is not NUL-terminated). */
static size_t go_clean(const char *p, size_t n, char *out)
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
    if (decode_rune(*c, *n, &w) == RUNE_ERROR && w == 1)
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
static bool glob_syntax_ok(const char *pat, size_t n)
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

/* ---- compiled patterns ----------------------------------------------------------------- */

enum kind { K_EXACT, K_PREFIX, K_SUFFIX, K_REGEX };
enum op { OP_CLASS, OP_SPLIT, OP_JMP, OP_BEGIN, OP_END, OP_WORDB, OP_NWORDB, OP_MATCH };

struct inst {
    uint32_t op;
    uint32_t a, b; /* CLASS: first range pair and pair count; SPLIT: targets; JMP: a */
};

struct pattern {
    char *text;      /* the cleaned pattern without its '!' (NUL-terminated, may hold NULs) */
    size_t len;
    unsigned line;
    bool exclusion;  /* a '!' exception */
    enum kind kind;
    struct inst *prog;
    size_t nprog;
    uint32_t *ranges; /* lo, hi pairs */
    size_t prefix_len; /* exceptions: length without a trailing slash-star(s) */
};

struct rmg_ignore {
    struct pattern *pats;
    size_t n;
    bool has_exceptions;
    bool only_prefix_exceptions; /* fsutil's onlyPrefixExcludeExceptions */
    size_t max_prog;   /* the longest program */
    size_t total_prog; /* all programs together */
};

/* ---- Go regexp (Perl flags) to NFA ------------------------------------------------------- */

struct rx {
    const char *s; /* the regular expression, valid UTF-8 */
    size_t n, i;
    struct inst *prog;
    size_t nprog, capprog;
    uint32_t *rng; /* lo, hi pairs: nrng counts values, not pairs */
    size_t nrng, caprng;
    const char *why; /* set on a syntax error */
    bool unsupported;
    bool nomem;
    size_t *alt_start, *alt_jmp; /* where each alternative starts, its jump to the end */
    size_t n_alts, cap_alts, cap_jmps;
};

/* rummage's own bound on compiled patterns (Go refuses far smaller counts of nested
 * repetition; this only stops "?{1000}" repeated over a 64 KiB line from costing GBs). */
#define MAX_INSTS 1000000u /* per pattern, and for a whole file */

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static bool emit(struct rx *x, uint32_t op, uint32_t a, uint32_t b)
{
    if (x->nprog >= MAX_INSTS) {
        x->why = "it expands to more than 1000000 regexp instructions";
        x->unsupported = true;
        return false;
    }
    if (!grow((void **)&x->prog, &x->capprog, x->nprog + 1, sizeof *x->prog)) {
        x->nomem = true;
        return false;
    }
    x->prog[x->nprog++] = (struct inst){op, a, b};
    return true;
}

static bool add_range(struct rx *x, uint32_t lo, uint32_t hi)
{
    if (!grow((void **)&x->rng, &x->caprng, x->nrng + 2, sizeof *x->rng)) {
        x->nomem = true;
        return false;
    }
    x->rng[x->nrng++] = lo;
    x->rng[x->nrng++] = hi;
    return true;
}

static bool add_ranges(struct rx *x, const uint32_t *r, size_t npairs, bool negate)
{
    if (!negate) {
        for (size_t i = 0; i < npairs; i++)
            if (!add_range(x, r[2 * i], r[2 * i + 1]))
                return false;
        return true;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < npairs; i++) {
        if (r[2 * i] > next && !add_range(x, next, r[2 * i] - 1))
            return false;
        next = r[2 * i + 1] + 1;
    }
    return next > MAX_RUNE || add_range(x, next, MAX_RUNE);
}

static int cmp_pair(const void *a, const void *b)
{
    const uint32_t *p = a, *q = b;
    if (p[0] != q[0])
        return p[0] < q[0] ? -1 : 1;
    return p[1] > q[1] ? -1 : p[1] < q[1];
}

/* Sorts and merges the pairs from value index `from` on (Go's cleanClass), negating them if
 * asked; emits the class. */
static bool finish_class(struct rx *x, size_t from, bool negate)
{
    size_t npairs = (x->nrng - from) / 2;
    uint32_t *r = x->rng + from;
    qsort(r, npairs, 2 * sizeof *r, cmp_pair);
    size_t w = 0;
    for (size_t i = 0; i < npairs; i++) {
        if (w > 0 && r[2 * i] <= r[2 * w - 1] + 1) {
            if (r[2 * i + 1] > r[2 * w - 1])
                r[2 * w - 1] = r[2 * i + 1];
            continue;
        }
        r[2 * w] = r[2 * i];
        r[2 * w + 1] = r[2 * i + 1];
        w++;
    }
    x->nrng = from + 2 * w;
    if (negate) {
        uint32_t *copy = malloc((2 * w + 1) * sizeof *copy);
        if (!copy) {
            x->nomem = true;
            return false;
        }
        memcpy(copy, x->rng + from, 2 * w * sizeof *copy);
        x->nrng = from;
        bool ok = add_ranges(x, copy, w, true);
        free(copy);
        if (!ok)
            return false;
    }
    return emit(x, OP_CLASS, (uint32_t)(from / 2), (uint32_t)((x->nrng - from) / 2));
}

static const uint32_t g_digit[] = {'0', '9'};
static const uint32_t g_space[] = {'\t', '\n', '\f', '\f', '\r', '\r', ' ', ' '};
static const uint32_t g_word[] = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};

struct group {
    const char *name;
    const uint32_t *r;
    size_t npairs;
};

static const uint32_t p_alnum[] = {'0', '9', 'A', 'Z', 'a', 'z'};
static const uint32_t p_alpha[] = {'A', 'Z', 'a', 'z'};
static const uint32_t p_ascii[] = {0, 0x7F};
static const uint32_t p_blank[] = {'\t', '\t', ' ', ' '};
static const uint32_t p_cntrl[] = {0, 0x1F, 0x7F, 0x7F};
static const uint32_t p_graph[] = {'!', '~'};
static const uint32_t p_lower[] = {'a', 'z'};
static const uint32_t p_print[] = {' ', '~'};
static const uint32_t p_punct[] = {'!', '/', ':', '@', '[', '`', '{', '~'};
static const uint32_t p_space[] = {'\t', '\r', ' ', ' '};
static const uint32_t p_upper[] = {'A', 'Z'};
static const uint32_t p_xdigit[] = {'0', '9', 'A', 'F', 'a', 'f'};

#define GROUP(n, a) {n, a, sizeof a / sizeof a[0] / 2}
static const struct group posix_groups[] = {
    GROUP("alnum", p_alnum), GROUP("alpha", p_alpha), GROUP("ascii", p_ascii),
    GROUP("blank", p_blank), GROUP("cntrl", p_cntrl), GROUP("digit", g_digit),
    GROUP("graph", p_graph), GROUP("lower", p_lower), GROUP("print", p_print),
    GROUP("punct", p_punct), GROUP("space", p_space), GROUP("upper", p_upper),
    GROUP("word", g_word),   GROUP("xdigit", p_xdigit),
};

/* \d \D \s \S \w \W at x->i: adds the class's ranges. Returns false if not one. */
static bool perl_group(struct rx *x, bool *ok)
{
    if (x->i + 1 >= x->n || x->s[x->i] != '\\')
        return false;
    const uint32_t *r;
    size_t np;
    switch (x->s[x->i + 1] | 0x20) {
    case 'd': r = g_digit, np = 1; break;
    case 's': r = g_space, np = 4; break;
    case 'w': r = g_word, np = 4; break;
    default: return false;
    }
    bool neg = x->s[x->i + 1] >= 'A' && x->s[x->i + 1] <= 'Z';
    x->i += 2;
    *ok = add_ranges(x, r, np, neg);
    return true;
}

static int unhex(uint32_t c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

static uint32_t next_rune(struct rx *x)
{
    size_t w;
    uint32_t r = decode_rune((const unsigned char *)x->s + x->i, x->n - x->i, &w);
    x->i += w;
    return r;
}

/* Go's parseEscape at x->i (a backslash): the escaped rune, or false with x->why set. */
static bool parse_escape(struct rx *x, uint32_t *out)
{
    x->i++;
    if (x->i >= x->n) {
        x->why = "trailing backslash at end of expression";
        return false;
    }
    uint32_t c = next_rune(x);
    if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        *out = c;
        return true;
    }
    switch (c) {
    case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        if (x->i >= x->n || x->s[x->i] < '0' || x->s[x->i] > '7')
            break; /* a backreference: not supported by Go */
        /* fall through */
    case '0': {
        uint32_t r = c - '0';
        for (int k = 1; k < 3 && x->i < x->n && x->s[x->i] >= '0' && x->s[x->i] <= '7'; k++)
            r = r * 8 + (uint32_t)(x->s[x->i++] - '0');
        *out = r;
        return true;
    }
    case 'x': {
        if (x->i >= x->n)
            break;
        c = next_rune(x);
        if (c == '{') {
            uint32_t r = 0;
            int nhex = 0;
            for (;;) {
                if (x->i >= x->n)
                    goto bad;
                c = next_rune(x);
                if (c == '}')
                    break;
                int v = unhex(c);
                if (v < 0)
                    goto bad;
                r = r * 16 + (uint32_t)v;
                if (r > MAX_RUNE)
                    goto bad;
                nhex++;
            }
            if (nhex == 0)
                break;
            *out = r;
            return true;
        }
        int hx = unhex(c);
        if (x->i >= x->n)
            break;
        int lx = unhex(next_rune(x));
        if (hx < 0 || lx < 0)
            break;
        *out = (uint32_t)(hx * 16 + lx);
        return true;
    }
    case 'a': *out = '\a'; return true;
    case 'f': *out = '\f'; return true;
    case 'n': *out = '\n'; return true;
    case 'r': *out = '\r'; return true;
    case 't': *out = '\t'; return true;
    case 'v': *out = '\v'; return true;
    }
bad:
    x->why = "invalid escape sequence";
    return false;
}

/* Go's parseClass at x->i ('['). */
static bool parse_class(struct rx *x)
{
    size_t from = x->nrng;
    bool negate = false, ok = true;
    x->i++;
    if (x->i < x->n && x->s[x->i] == '^') {
        negate = true;
        x->i++;
    }
    for (bool first = true; x->i >= x->n || x->s[x->i] != ']' || first; first = false) {
        if (x->i >= x->n) {
            x->why = "missing closing ]";
            return false;
        }
        const char *t = x->s + x->i;
        size_t left = x->n - x->i;
        if (left > 2 && t[0] == '[' && t[1] == ':') {
            const char *end = NULL;
            for (size_t k = 2; k + 1 < left; k++)
                if (t[k] == ':' && t[k + 1] == ']') {
                    end = t + k;
                    break;
                }
            if (end) {
                const char *name = t + 2;
                size_t nlen = (size_t)(end - name);
                bool neg = nlen > 0 && name[0] == '^';
                if (neg)
                    name++, nlen--;
                const struct group *g = NULL;
                for (size_t k = 0; k < sizeof posix_groups / sizeof posix_groups[0]; k++)
                    if (strlen(posix_groups[k].name) == nlen &&
                        memcmp(posix_groups[k].name, name, nlen) == 0)
                        g = &posix_groups[k];
                if (!g) {
                    x->why = "invalid character class range";
                    return false;
                }
                if (!add_ranges(x, g->r, g->npairs, neg))
                    return false;
                x->i = (size_t)(end - x->s) + 2;
                continue;
            }
        }
        if (left >= 2 && t[0] == '\\' && (t[1] == 'p' || t[1] == 'P')) {
            x->why = "Go regexp Unicode classes \\p, \\P are not implemented";
            x->unsupported = true;
            return false;
        }
        if (perl_group(x, &ok)) {
            if (!ok)
                return false;
            continue;
        }
        uint32_t lo, hi;
        if (x->s[x->i] == '\\') {
            if (!parse_escape(x, &lo))
                return false;
        } else {
            lo = next_rune(x);
        }
        hi = lo;
        if (x->n - x->i >= 2 && x->s[x->i] == '-' && x->s[x->i + 1] != ']') {
            x->i++;
            if (x->s[x->i] == '\\') {
                if (!parse_escape(x, &hi))
                    return false;
            } else {
                hi = next_rune(x);
            }
            if (hi < lo) {
                x->why = "invalid character class range";
                return false;
            }
        }
        if (!add_range(x, lo, hi))
            return false;
    }
    x->i++; /* ] */
    return finish_class(x, from, negate);
}

/* Inserts a free slot at pc `at`, shifting the instructions after it; jumps into the moved
 * block move with it. */
static bool insert_at(struct rx *x, size_t at)
{
    if (!emit(x, OP_MATCH, 0, 0))
        return false;
    memmove(x->prog + at + 1, x->prog + at, (x->nprog - 1 - at) * sizeof *x->prog);
    for (size_t k = at + 1; k < x->nprog; k++) {
        struct inst *in = &x->prog[k];
        if (in->op == OP_JMP || in->op == OP_SPLIT) {
            if (in->a >= at)
                in->a++;
            if (in->op == OP_SPLIT && in->b >= at)
                in->b++;
        }
    }
    return true;
}

/* What the last item is, so that a run of identical "[^/]" stars, or of the optional
 * dot-star-slash groups (which "***" and "**" "/" "**" produce), collapses into one item:
 * the same language with fewer states. */
enum sig { SIG_NONE, SIG_CLASS_STAR, SIG_ANY_SLASH_OPT };

static bool same_class(const struct rx *x, const struct inst *a, const struct inst *b)
{
    return a->b == b->b &&
           memcmp(x->rng + 2 * a->a, x->rng + 2 * b->a, 2 * a->b * sizeof(uint32_t)) == 0;
}

/* Where a jump chain starting at pc ends (jumps only go back to a SPLIT, but stay safe). */
static uint32_t jump_end(const struct rx *x, uint32_t pc)
{
    for (size_t hops = 0; x->prog[pc].op == OP_JMP && hops < x->nprog; hops++)
        pc = x->prog[pc].a;
    return pc;
}

/* Fewer steps per character: a SPLIT never targets a JMP, and a JMP to a SPLIT becomes a
 * copy of it. */
static void thread_jumps(struct rx *x)
{
    for (size_t pc = 0; pc < x->nprog; pc++) {
        struct inst *in = &x->prog[pc];
        if (in->op == OP_SPLIT) {
            in->a = jump_end(x, in->a);
            in->b = jump_end(x, in->b);
        }
    }
    for (size_t pc = 0; pc < x->nprog; pc++) {
        struct inst *in = &x->prog[pc];
        if (in->op == OP_JMP) {
            uint32_t t = jump_end(x, in->a);
            if (x->prog[t].op == OP_SPLIT)
                *in = x->prog[t];
            else
                in->a = t;
        }
    }
}

/* Go's parseRepeat and parseInt: "{n}", "{n,}" or "{n,m}" at s; max is -1 for no upper
 * bound, min -1 for a number too big. False when s is no repetition (then '{' is literal). */
static bool parse_repeat(const char *s, size_t n, int *min, int *max, size_t *len)
{
    size_t i = 1;
    int *out[2] = {min, max};
    for (int k = 0; k < 2; k++) {
        if (k == 1) {
            if (i >= n)
                return false;
            if (s[i] != ',') {
                *max = *min;
                break;
            }
            if (++i >= n)
                return false;
            if (s[i] == '}') {
                *max = -1;
                break;
            }
        }
        if (i >= n || s[i] < '0' || s[i] > '9')
            return false;
        if (i + 1 < n && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
            return false; /* no leading zeros */
        long v = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (v >= 0)
                v = v >= 100000000 ? -1 : v * 10 + (s[i] - '0');
        *out[k] = (int)v;
        if (k == 1 && v < 0)
            *min = -1;
    }
    if (i >= n || s[i] != '}')
        return false;
    *len = i + 1;
    return true;
}

/* Appends a copy of the instructions blk[0, len) that were at pc `from`, their jumps moved
 * along. */
static bool copy_block(struct rx *x, const struct inst *blk, size_t len, size_t from)
{
    size_t base = x->nprog;
    for (size_t k = 0; k < len; k++) {
        struct inst in = blk[k];
        if (in.op == OP_JMP || in.op == OP_SPLIT) {
            in.a = (uint32_t)(in.a - from + base);
            if (in.op == OP_SPLIT)
                in.b = (uint32_t)(in.b - from + base);
        }
        if (!emit(x, in.op, in.a, in.b))
            return false;
    }
    return true;
}

/* Applies {min,max} to the atom [atom, nprog): min copies, then either a starred copy (no
 * max) or max - min optional ones. */
static bool repeat_count(struct rx *x, size_t atom, int min, int max)
{
    size_t len = x->nprog - atom;
    size_t total = (size_t)min * len + (max < 0 ? len + 2 : (size_t)(max - min) * (len + 1));
    if (atom + total > MAX_INSTS) {
        x->why = "it expands to more than 1000000 regexp instructions";
        x->unsupported = true;
        return false;
    }
    struct inst *blk = malloc(len * sizeof *blk + 1);
    if (!blk) {
        x->nomem = true;
        return false;
    }
    memcpy(blk, x->prog + atom, len * sizeof *blk);
    x->nprog = atom;
    bool ok = true;
    for (int k = 0; ok && k < min; k++)
        ok = copy_block(x, blk, len, atom);
    if (ok && max < 0) { /* x{n,}: then x* */
        size_t loop = x->nprog;
        ok = emit(x, OP_SPLIT, (uint32_t)loop + 1, 0) && copy_block(x, blk, len, atom) &&
             emit(x, OP_JMP, (uint32_t)loop, 0);
        if (ok)
            x->prog[loop].b = (uint32_t)x->nprog;
    }
    for (int k = min; ok && k < max; k++) { /* x{n,m}: then m - n times x? */
        size_t sp = x->nprog;
        ok = emit(x, OP_SPLIT, (uint32_t)sp + 1, 0) && copy_block(x, blk, len, atom);
        if (ok)
            x->prog[sp].b = (uint32_t)x->nprog;
    }
    free(blk);
    return ok;
}

/* Puts k free instructions in front of the program, every jump moved along. */
static bool prepend(struct rx *x, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (!emit(x, OP_MATCH, 0, 0))
            return false;
    memmove(x->prog + k, x->prog, (x->nprog - k) * sizeof *x->prog);
    for (size_t pc = k; pc < x->nprog; pc++) {
        struct inst *in = &x->prog[pc];
        if (in->op == OP_JMP || in->op == OP_SPLIT) {
            in->a += (uint32_t)k;
            if (in->op == OP_SPLIT)
                in->b += (uint32_t)k;
        }
    }
    return true;
}

/* Go's MatchString looks for a match starting anywhere; the leading '^' normally pins it
 * to the start. When it does not - a top-level '|' (the pattern's own, which reaches the
 * regexp raw) leaves the other alternatives without it, and "{0,1}" at the start of a pattern
 * makes the '^' itself optional - the program gets a prologue that may start a match at any
 * position, then a chain of SPLITs into the alternatives, each ending in a jump to the
 * final MATCH. */
static bool finish_program(struct rx *x)
{
    size_t k = x->n_alts;
    if (!emit(x, OP_MATCH, 0, 0))
        return false;
    if (k == 1 && x->prog[0].op == OP_BEGIN)
        return true; /* anchored */
    size_t match = x->nprog - 1;
    for (size_t a = 0; a + 1 < k; a++)
        x->prog[x->alt_jmp[a]].a = (uint32_t)match;
    size_t pro = 3 + (k - 1);
    size_t from = x->nrng;
    if (!add_range(x, 0, MAX_RUNE) || !prepend(x, pro))
        return false;
    x->prog[0] = (struct inst){OP_SPLIT, 3, 1};
    x->prog[1] = (struct inst){OP_CLASS, (uint32_t)(from / 2), 1};
    x->prog[2] = (struct inst){OP_JMP, 0, 0};
    for (size_t a = 0; a + 1 < k; a++) {
        uint32_t next = a + 2 < k ? (uint32_t)(3 + a + 1) : (uint32_t)(x->alt_start[k - 1] + pro);
        x->prog[3 + a] = (struct inst){OP_SPLIT, (uint32_t)(x->alt_start[a] + pro), next};
    }
    return true;
}

/* Parses the whole expression. Groups never nest: a pattern cannot produce an unescaped
 * '(' of its own; the only group is the translation's optional "dot-star slash" group. */
static bool parse_regex(struct rx *x)
{
    size_t atom = SIZE_MAX; /* first pc of the last atom, SIZE_MAX if none */
    bool atom_any_slash = false; /* the last atom is the dot-star-slash group */
    bool last_repeat = false;
    size_t group_start = SIZE_MAX;
    bool group_any_slash = false;
    /* the item before the current one: where it ends, what it is, its class pc */
    size_t prev_end = SIZE_MAX, prev_class = 0, cur_class = 0;
    enum sig prev_sig = SIG_NONE, cur_sig = SIG_NONE;
    size_t saved_end = SIZE_MAX, saved_class = 0; /* prev_* outside the open group */
    enum sig saved_sig = SIG_NONE;

    if (!grow((void **)&x->alt_start, &x->cap_alts, 1, sizeof *x->alt_start)) {
        x->nomem = true;
        return false;
    }
    x->alt_start[0] = 0;
    x->n_alts = 1;
    while (x->i < x->n) {
        char c = x->s[x->i];
        bool repeat = false;
        if (c != '*' && c != '+' && c != '?' && c != '{') {
            prev_sig = cur_sig; /* a new item starts */
            prev_class = cur_class;
            prev_end = x->nprog;
            cur_sig = SIG_NONE;
        }
        size_t start = x->nprog;
        switch (c) {
        case '(':
            if (group_start != SIZE_MAX || (x->i + 1 < x->n && x->s[x->i + 1] == '?')) {
                x->why = "nested or flagged group";
                x->unsupported = true;
                return false;
            }
            group_any_slash = x->n - x->i >= 5 && memcmp(x->s + x->i, "(.*/)", 5) == 0;
            group_start = start;
            saved_sig = prev_sig, saved_end = prev_end, saved_class = prev_class;
            x->i++;
            atom = SIZE_MAX;
            last_repeat = false;
            continue;
        case ')':
            if (group_start == SIZE_MAX) {
                x->why = "unexpected )";
                return false;
            }
            atom = group_start;
            atom_any_slash = group_any_slash;
            group_start = SIZE_MAX;
            prev_sig = saved_sig, prev_end = saved_end, prev_class = saved_class;
            x->i++;
            last_repeat = false;
            continue;
        case '|': {
            if (group_start != SIZE_MAX) {
                x->why = "alternation inside a group";
                x->unsupported = true;
                return false;
            }
            size_t k = x->n_alts;
            if (!grow((void **)&x->alt_start, &x->cap_alts, k + 1, sizeof *x->alt_start) ||
                !grow((void **)&x->alt_jmp, &x->cap_jmps, k, sizeof *x->alt_jmp)) {
                x->nomem = true;
                return false;
            }
            if (!emit(x, OP_JMP, 0, 0)) /* to the final MATCH, patched at the end */
                return false;
            x->alt_jmp[k - 1] = x->nprog - 1;
            x->alt_start[k] = x->nprog;
            x->n_alts++;
            x->i++;
            atom = SIZE_MAX;
            last_repeat = false;
            cur_sig = prev_sig = SIG_NONE;
            continue;
        }
        case '^':
        case '$':
            if (!emit(x, c == '^' ? OP_BEGIN : OP_END, 0, 0))
                return false;
            x->i++;
            break;
        case '.': {
            static const uint32_t nl[] = {'\n', '\n'};
            size_t from = x->nrng;
            if (!add_ranges(x, nl, 1, true) || !finish_class(x, from, false))
                return false;
            x->i++;
            break;
        }
        case '[':
            if (!parse_class(x))
                return false;
            break;
        case '{': {
            int min, max;
            size_t len;
            if (!parse_repeat(x->s + x->i, x->n - x->i, &min, &max, &len)) {
                /* no repetition: '{' is a literal, and starts an item */
                prev_sig = cur_sig, prev_class = cur_class, prev_end = x->nprog;
                cur_sig = SIG_NONE;
                goto literal;
            }
            if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max)) {
                x->why = "invalid repeat count";
                return false;
            }
            x->i += len;
            if (x->i < x->n && x->s[x->i] == '?')
                x->i++;
            if (last_repeat) {
                x->why = "invalid nested repetition operator";
                return false;
            }
            if (atom == SIZE_MAX) {
                x->why = "missing argument to repetition operator";
                return false;
            }
            if (!repeat_count(x, atom, min, max))
                return false;
            cur_sig = SIG_NONE;
            repeat = true;
            break;
        }
        case '*':
        case '+':
        case '?': {
            x->i++;
            if (x->i < x->n && x->s[x->i] == '?')
                x->i++; /* non-greedy: the same language */
            if (last_repeat) {
                x->why = "invalid nested repetition operator";
                return false;
            }
            if (atom == SIZE_MAX) {
                x->why = "missing argument to repetition operator";
                return false;
            }
            repeat = true;
            size_t end = x->nprog;
            bool class_star = c == '*' && end == atom + 1 && x->prog[atom].op == OP_CLASS;
            bool any_slash_opt = c == '?' && atom_any_slash;
            if (class_star && prev_sig == SIG_CLASS_STAR && prev_end == atom &&
                same_class(x, &x->prog[atom], &x->prog[prev_class])) {
                x->nprog = atom; /* X*X* is X* */
                cur_sig = prev_sig, cur_class = prev_class, prev_sig = SIG_NONE;
                break;
            }
            if (any_slash_opt && prev_sig == SIG_ANY_SLASH_OPT && prev_end == atom) {
                x->nprog = atom; /* (.*\/)?(.*\/)? is (.*\/)? */
                cur_sig = prev_sig, prev_sig = SIG_NONE;
                break;
            }
            if (c == '+') {
                if (!emit(x, OP_SPLIT, (uint32_t)atom, (uint32_t)end + 1))
                    return false;
            } else {
                if (!insert_at(x, atom))
                    return false;
                end++;
                if (c == '*') {
                    x->prog[atom] = (struct inst){OP_SPLIT, (uint32_t)atom + 1, (uint32_t)end + 1};
                    if (!emit(x, OP_JMP, (uint32_t)atom, 0))
                        return false;
                } else {
                    x->prog[atom] = (struct inst){OP_SPLIT, (uint32_t)atom + 1, (uint32_t)end};
                }
            }
            if (class_star)
                cur_sig = SIG_CLASS_STAR, cur_class = atom + 1;
            else if (any_slash_opt)
                cur_sig = SIG_ANY_SLASH_OPT;
            break;
        }
        case '\\': {
            if (x->i + 1 < x->n) {
                char e = x->s[x->i + 1];
                uint32_t op = e == 'A' ? OP_BEGIN : e == 'z' ? OP_END : e == 'b' ? OP_WORDB
                            : e == 'B' ? OP_NWORDB : OP_MATCH;
                if (op != OP_MATCH) {
                    if (!emit(x, op, 0, 0))
                        return false;
                    x->i += 2;
                    break;
                }
                if (e == 'C') {
                    x->why = "invalid escape sequence \\C";
                    return false;
                }
                if (e == 'Q') {
                    /* \Q...\E: literal text up to \E or the end */
                    x->i += 2;
                    size_t stop = x->n, resume = x->n;
                    for (size_t k = x->i; k + 1 < x->n; k++)
                        if (x->s[k] == '\\' && x->s[k + 1] == 'E') {
                            stop = k;
                            resume = k + 2;
                            break;
                        }
                    bool any = false;
                    while (x->i < stop) {
                        uint32_t r = next_rune(x);
                        size_t from = x->nrng;
                        start = x->nprog;
                        if (!add_range(x, r, r) || !finish_class(x, from, false))
                            return false;
                        any = true;
                    }
                    x->i = resume;
                    if (!any) { /* empty: a following repetition applies to the atom before */
                        last_repeat = false;
                        continue;
                    }
                    break;
                }
                if (e == 'p' || e == 'P') {
                    x->why = "Go regexp Unicode classes \\p, \\P are not implemented";
                    x->unsupported = true;
                    return false;
                }
            }
            size_t from = x->nrng;
            bool ok = true;
            if (perl_group(x, &ok)) {
                if (!ok || !finish_class(x, from, false))
                    return false;
                break;
            }
            uint32_t r;
            if (!parse_escape(x, &r) || !add_range(x, r, r) || !finish_class(x, from, false))
                return false;
            break;
        }
        default:
        literal: {
            uint32_t r = next_rune(x);
            size_t from = x->nrng;
            if (!add_range(x, r, r) || !finish_class(x, from, false))
                return false;
        }
        }
        if (!repeat) {
            atom = start;
            atom_any_slash = false;
        }
        last_repeat = repeat;
    }
    if (group_start != SIZE_MAX) {
        x->why = "missing closing )";
        return false;
    }
    if (!finish_program(x))
        return false;
    thread_jumps(x);
    return true;
}

/* ---- patternmatcher's Pattern.compile ---------------------------------------------------- */

static bool buf_rune(struct rmg_buf *b, uint32_t r)
{
    char enc[4];
    return rmg_buf_append(b, enc, encode_rune(r, enc));
}

/* Builds the regular expression Docker builds for pt->text and decides the match kind, then
 * compiles the expression when the kind is K_REGEX. Returns RMG_OK, RMG_ENOMEM, or
 * RMG_EINPUT with *why set. */
static enum rmg_status compile_pattern(struct pattern *pt, const char **why, bool *unsupported)
{
    const unsigned char *s = (const unsigned char *)pt->text;
    size_t n = pt->len, i = 0, w;
    struct rmg_buf re = {0};
    enum kind kind = K_EXACT;
    bool ok = rmg_buf_puts(&re, "^");

    /* text/scanner skips a byte order mark at the start */
    if (n >= 3 && decode_rune(s, n, &w) == 0xFEFF)
        i = 3;
    for (unsigned tok = 0; ok && i < n; tok++) {
        uint32_t ch = decode_rune(s + i, n - i, &w);
        i += w;
        if (ch == '*') {
            if (i < n && s[i] == '*') {
                i++;
                if (i < n && s[i] == '/')
                    i++; /* "**" "/" is "**" */
                if (i >= n) {
                    if (kind == K_EXACT) {
                        kind = K_PREFIX;
                    } else {
                        ok = rmg_buf_puts(&re, ".*");
                        kind = K_REGEX;
                    }
                } else {
                    ok = rmg_buf_puts(&re, "(.*/)?");
                    kind = K_REGEX;
                }
                if (tok == 0)
                    kind = K_SUFFIX;
            } else {
                ok = rmg_buf_puts(&re, "[^/]*");
                kind = K_REGEX;
            }
        } else if (ch == '?') {
            ok = rmg_buf_puts(&re, "[^/]");
            kind = K_REGEX;
        } else if (ch != 0 && ch < 0x80 && strchr(".+()$", (int)ch)) {
            /* shouldEscape's table is meant to hold .+()|{}$, but its bits for characters
               from 64 up shift out of a byte: '|', '{' and '}' reach the regexp raw */
            ok = rmg_buf_puts(&re, "\\") && buf_rune(&re, ch);
        } else if (ch == '\\') {
            if (i < n) {
                uint32_t next = decode_rune(s + i, n - i, &w);
                i += w;
                ok = rmg_buf_puts(&re, "\\") && buf_rune(&re, next);
                kind = K_REGEX;
            } else {
                ok = rmg_buf_puts(&re, "\\");
            }
        } else if (ch == '[' || ch == ']') {
            ok = buf_rune(&re, ch);
            kind = K_REGEX;
        } else {
            ok = buf_rune(&re, ch);
        }
    }
    if (ok && kind == K_REGEX)
        ok = rmg_buf_puts(&re, "$");
    if (!ok) {
        rmg_buf_free(&re);
        return RMG_ENOMEM;
    }
    pt->kind = kind;
    if (kind != K_REGEX) {
        rmg_buf_free(&re);
        return RMG_OK;
    }
    struct rx x = {.s = re.data, .n = re.len};
    bool parsed = parse_regex(&x);
    rmg_buf_free(&re);
    free(x.alt_start);
    free(x.alt_jmp);
    if (!parsed) {
        free(x.prog);
        free(x.rng);
        if (x.nomem)
            return RMG_ENOMEM;
        *why = x.why;
        *unsupported = x.unsupported;
        return RMG_EINPUT;
    }
    pt->prog = x.prog;
    pt->nprog = x.nprog;
    pt->ranges = x.rng;
    return RMG_OK;
}

/* ---- matching ------------------------------------------------------------------------- */

/* The NFA of one pattern part-way through the walk: the instructions reached by consuming
 * path[0, consumed), before their empty-width closure (which depends on what follows). The
 * walk matches ever longer prefixes of one path (a, a/b, a/b/c), so each level continues
 * where the previous one stopped: a whole walk costs O(path x pattern) per pattern, however
 * deep the path. */
struct nfa {
    uint32_t *kernel;
    uint32_t nk;
    size_t consumed;
    bool sticky; /* matched before the end of a prefix: every longer one matches too */
};

/* Instruction visits one query may spend. Real patterns use thousands at most; only
 * pathological ones (huge counted repetitions, tens of thousands of stars on very deep
 * paths) get near it, and then the query gives up on the side of scanning. */
#define WORK_BUDGET 20000000u

struct scratch {
    uint32_t *clist, *klist, *stack, *mark;
    uint32_t gen;
    uint64_t work;
    bool exhausted;
    struct nfa *nfa;       /* per pattern (regex patterns only) */
    bool *info_a, *info_b; /* per-pattern results of the current and the parent directory */
    char *path;            /* the cleaned path */
    void *block;
};

static bool scratch_init(struct scratch *sc, const struct rmg_ignore *ig, size_t pathlen)
{
    size_t m = ig->max_prog ? ig->max_prog : 1;
    size_t bytes = (4 * m + ig->total_prog) * sizeof(uint32_t) + ig->n * sizeof(struct nfa) +
                   2 * ig->n * sizeof(bool) + pathlen + 2;
    sc->block = calloc(1, bytes);
    if (!sc->block)
        return false;
    sc->nfa = sc->block; /* struct nfa first: the strictest alignment */
    uint32_t *u = (uint32_t *)(sc->nfa + ig->n);
    sc->clist = u;
    sc->klist = u + m;
    sc->stack = u + 2 * m;
    sc->mark = u + 3 * m;
    sc->gen = 0;
    sc->work = 0;
    sc->exhausted = false;
    u += 4 * m;
    for (size_t i = 0; i < ig->n; i++) {
        const struct pattern *pt = &ig->pats[i];
        if (pt->kind != K_REGEX)
            continue;
        sc->nfa[i].kernel = u;
        sc->nfa[i].kernel[0] = 0; /* the start, nothing consumed */
        sc->nfa[i].nk = 1;
        u += pt->nprog;
    }
    sc->info_a = (bool *)u;
    sc->info_b = sc->info_a + ig->n;
    sc->path = (char *)(sc->info_b + ig->n);
    return true;
}

static bool is_word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool in_class(const struct pattern *pt, const struct inst *in, uint32_t r)
{
    const uint32_t *rg = pt->ranges + 2 * (size_t)in->a;
    size_t lo = 0, hi = in->b;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r < rg[2 * mid])
            hi = mid;
        else if (r > rg[2 * mid + 1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* Where the simulation stands, for the empty-width assertions. */
struct at {
    bool begin, end, word_before, word_after;
};

static struct at at_pos(const unsigned char *p, size_t c, size_t len)
{
    /* \b is ASCII-only in Go: a byte >= 0x80 is never part of a word */
    return (struct at){c == 0, c == len, c > 0 && is_word_byte(p[c - 1]),
                       c < len && is_word_byte(p[c])};
}

/* Adds the closure of the kernel pcs (everything reachable without consuming input) to
 * sc->clist; returns its size. An explicit stack, and each pc enters at most once. */
static size_t closure(const struct pattern *pt, struct scratch *sc, const uint32_t *kernel,
                      size_t nk, const struct at *at, bool *hit)
{
    size_t n = 0, sp = 0;
    *hit = false;
    sc->gen++;
    for (size_t k = 0; k < nk; k++) {
        if (sc->mark[kernel[k]] == sc->gen)
            continue;
        sc->mark[kernel[k]] = sc->gen;
        sc->stack[sp++] = kernel[k];
        while (sp > 0) {
            uint32_t pc = sc->stack[--sp], next[2];
            sc->work++;
            int nn = 0;
            const struct inst *in = &pt->prog[pc];
            switch (in->op) {
            case OP_JMP: next[nn++] = in->a; break;
            case OP_SPLIT: next[nn++] = in->b; next[nn++] = in->a; break;
            case OP_BEGIN: if (at->begin) next[nn++] = pc + 1; break;
            case OP_END: if (at->end) next[nn++] = pc + 1; break;
            case OP_WORDB: if (at->word_before != at->word_after) next[nn++] = pc + 1; break;
            case OP_NWORDB: if (at->word_before == at->word_after) next[nn++] = pc + 1; break;
            case OP_MATCH: *hit = true; break;
            default: sc->clist[n++] = pc; /* CLASS */
            }
            for (int j = 0; j < nn; j++)
                if (sc->mark[next[j]] != sc->gen) {
                    sc->mark[next[j]] = sc->gen;
                    sc->stack[sp++] = next[j];
                }
        }
    }
    return n;
}

/* Go's Regexp.MatchString(path[0, len)) (anchored at the start by the leading '^'),
 * continuing the pattern's NFA from where the previous, shorter prefix left it. */
static bool nfa_match(const struct pattern *pt, struct nfa *st, const char *path, size_t len,
                      struct scratch *sc)
{
    const unsigned char *p = (const unsigned char *)path;
    if (st->sticky)
        return true;
    size_t c = st->consumed;
    uint32_t *kernel = st->kernel, nk = st->nk;
    for (;;) {
        struct at at = at_pos(p, c, len);
        bool hit;
        size_t nc = closure(pt, sc, kernel, nk, &at, &hit);
        if (hit) {
            if (c < len) { /* unanchored end (a \Q ate the '$'): holds for longer paths */
                st->sticky = true;
            } else {
                if (kernel != st->kernel)
                    memcpy(st->kernel, kernel, nk * sizeof *kernel);
                st->nk = nk;
                st->consumed = c;
            }
            return true;
        }
        if (c == len || nc == 0) {
            /* an empty set stays empty: park it at len */
            if (kernel != st->kernel)
                memcpy(st->kernel, kernel, nk * sizeof *kernel);
            st->nk = nc == 0 ? 0 : nk;
            st->consumed = len;
            return false;
        }
        sc->work += nc;
        if (sc->work > WORK_BUDGET) {
            sc->exhausted = true;
            return false;
        }
        size_t w;
        uint32_t r = decode_rune(p + c, len - c, &w);
        c += w;
        uint32_t *next = kernel == sc->klist ? st->kernel : sc->klist;
        uint32_t n = 0;
        for (size_t k = 0; k < nc; k++)
            if (in_class(pt, &pt->prog[sc->clist[k]], r))
                next[n++] = sc->clist[k] + 1;
        kernel = next;
        nk = n;
    }
}

/* Pattern.match on the prefix path[0, len) of the walked path. */
static bool pattern_match(const struct rmg_ignore *ig, size_t i, const char *path, size_t len,
                          struct scratch *sc)
{
    const struct pattern *pt = &ig->pats[i];
    switch (pt->kind) {
    case K_EXACT:
        return len == pt->len && memcmp(path, pt->text, len) == 0;
    case K_PREFIX:
        return len >= pt->len - 2 && memcmp(path, pt->text, pt->len - 2) == 0;
    case K_SUFFIX: {
        const char *suf = pt->text + 2;
        size_t sl = pt->len - 2;
        if (len >= sl && memcmp(path + len - sl, suf, sl) == 0)
            return true;
        /* "**" "/foo" also matches "foo" */
        return suf[0] == '/' && len == sl - 1 && memcmp(path, suf + 1, sl - 1) == 0;
    }
    case K_REGEX:
        return nfa_match(pt, &sc->nfa[i], path, len, sc);
    }
    return false;
}

/* MatchesUsingParentResults for path[0, plen): parent is the parent directory's per-pattern
 * results, NULL at the top level (where Docker's fallback to the parent directories finds
 * none: the parent is "."). Fills info; *dec gets the deciding pattern or -1. */
static bool match_level(const struct rmg_ignore *ig, struct scratch *sc, const char *path,
                        size_t plen, const bool *parent, bool *info, long *dec)
{
    bool matched = false;
    *dec = -1;
    for (size_t i = 0; i < ig->n; i++) {
        const struct pattern *pt = &ig->pats[i];
        bool m = parent && parent[i];
        if (!m) {
            /* an inclusion cannot change a match, an exception cannot change a non-match */
            if (pt->exclusion != matched) {
                info[i] = false;
                continue;
            }
            m = pattern_match(ig, i, path, plen, sc);
            if (sc->exhausted)
                return false;
        }
        info[i] = m;
        if (m) {
            matched = !pt->exclusion;
            *dec = (long)i;
        }
    }
    return matched;
}

/* fsutil's SkipDir decision for an excluded directory dir[0, dlen). */
static bool prune_dir(const struct rmg_ignore *ig, const char *dir, size_t dlen)
{
    if (!ig->only_prefix_exceptions)
        return false;
    if (!ig->has_exceptions)
        return true;
    for (size_t i = 0; i < ig->n; i++) {
        const struct pattern *pt = &ig->pats[i];
        /* HasPrefix(prefix + "/", dir + "/") */
        if (pt->exclusion && pt->prefix_len >= dlen && memcmp(pt->text, dir, dlen) == 0 &&
            (pt->prefix_len == dlen || pt->text[dlen] == '/'))
            return false;
    }
    return true;
}

enum verdict { V_INCLUDED, V_EXCLUDED, V_PRUNED, V_UNKNOWN /* out of work budget */ };

/* BuildKit's walk from the context root down to `path` (cleaned into sc->path): each
 * directory on the way is matched with its parent's results, and an excluded directory
 * that fsutil would skip ends the walk. With as_dir, `path` itself counts as a directory. */
static enum verdict walk(const struct rmg_ignore *ig, struct scratch *sc, const char *path,
                         bool as_dir, long *dec)
{
    size_t n = strlen(path);
    size_t len = go_clean(path, n, sc->path);
    char *p = sc->path;
    if (p[0] == '/') /* tolerate an absolute-looking path: the root is the context */
        p++, len--;
    *dec = -1;
    if (len == 0 || (len == 1 && p[0] == '.'))
        return V_INCLUDED;
    const bool *parent = NULL;
    bool *cur = sc->info_a;
    for (size_t e = 0;;) {
        const char *slash = memchr(p + e, '/', len - e);
        e = slash ? (size_t)(slash - p) : len;
        bool last = e == len;
        bool m = match_level(ig, sc, p, e, parent, cur, dec);
        if (sc->exhausted)
            return V_UNKNOWN;
        if (m && (!last || as_dir) && prune_dir(ig, p, e))
            return V_PRUNED;
        if (last)
            return m ? V_EXCLUDED : V_INCLUDED;
        parent = cur;
        cur = cur == sc->info_a ? sc->info_b : sc->info_a;
        e++;
    }
}

bool rmg_ignore_excluded(const struct rmg_ignore *ig, const char *path, unsigned *line)
{
    if (line)
        *line = 0;
    if (!ig || !path || ig->n == 0)
        return false;
    struct scratch sc;
    if (!scratch_init(&sc, ig, strlen(path)))
        return false;
    long dec;
    enum verdict v = walk(ig, &sc, path, false, &dec);
    free(sc.block);
    if (v == V_UNKNOWN)
        return false;
    if (line && dec >= 0)
        *line = ig->pats[dec].line;
    return v != V_INCLUDED;
}

bool rmg_ignore_may_reinclude(const struct rmg_ignore *ig, const char *dir)
{
    if (!ig || !dir || ig->n == 0)
        return true;
    struct scratch sc;
    if (!scratch_init(&sc, ig, strlen(dir)))
        return true;
    long dec;
    enum verdict v = walk(ig, &sc, dir, true, &dec);
    free(sc.block);
    return v != V_PRUNED;
}

size_t rmg_ignore_count(const struct rmg_ignore *ig)
{
    return ig ? ig->n : 0;
}

/* ---- parsing ---------------------------------------------------------------------------- */

void rmg_ignore_free(struct rmg_ignore *ig)
{
    if (!ig)
        return;
    for (size_t i = 0; i < ig->n; i++) {
        free(ig->pats[i].text);
        free(ig->pats[i].prog);
        free(ig->pats[i].ranges);
    }
    free(ig->pats);
    free(ig);
}

static void set_err(char *err, size_t errlen, const char *origin, unsigned line,
                    const char *what, const char *pat, size_t patlen)
{
    if (!err || errlen == 0)
        return;
    struct rmg_buf b = {0};
    bool ok = rmg_buf_printf(&b, "%s:%u: %s", origin ? origin : ".dockerignore", line, what);
    if (ok && pat) {
        ok = rmg_buf_puts(&b, " \"") && rmg_buf_put_safe(&b, pat, patlen > 200 ? 200 : patlen) &&
             rmg_buf_puts(&b, patlen > 200 ? "...\"" : "\"");
    }
    rmg_fmt(err, errlen, "%s", ok && b.data ? b.data : "invalid .dockerignore");
    rmg_buf_free(&b);
}

/* One line after ReadAll's cleaning, through patternmatcher.New: appended to ig unless it
 * trims to nothing. */
static enum rmg_status add_pattern(struct rmg_ignore *ig, size_t *cap, const char *p, size_t n,
                                   unsigned line, const char *origin, char *err, size_t errlen)
{
    size_t a = 0, b = n;
    trim_space(p, &a, &b);
    if (a == b)
        return RMG_OK;
    char *text = malloc(b - a + 2);
    if (!text)
        return RMG_ENOMEM;
    size_t len = go_clean(p + a, b - a, text);
    bool exclusion = false;
    if (text[0] == '!') {
        if (len == 1) {
            free(text);
            set_err(err, errlen, origin, line, "illegal exclusion pattern: \"!\"", NULL, 0);
            return RMG_EINPUT;
        }
        exclusion = true;
        memmove(text, text + 1, --len);
    }
    text[len] = '\0';
    if (!glob_syntax_ok(text, len)) {
        set_err(err, errlen, origin, line, "syntax error in pattern", text, len);
        free(text);
        return RMG_EINPUT;
    }
    if (!grow((void **)&ig->pats, cap, ig->n + 1, sizeof *ig->pats)) {
        free(text);
        return RMG_ENOMEM;
    }
    struct pattern *pt = &ig->pats[ig->n];
    *pt = (struct pattern){.text = text, .len = len, .line = line, .exclusion = exclusion};
    const char *why = NULL;
    bool unsupported = false;
    enum rmg_status st = compile_pattern(pt, &why, &unsupported);
    if (st != RMG_OK) {
        if (st == RMG_EINPUT) {
            char what[160];
            rmg_fmt(what, sizeof what,
                    unsupported ? "rummage cannot match this pattern (%s):"
                                : "Go's regexp rejects the pattern's translation (%s), "
                                  "so Docker's build fails:",
                    why);
            set_err(err, errlen, origin, line, what, text, len);
        }
        free(text);
        return st;
    }
    if (ig->total_prog + pt->nprog > MAX_INSTS) {
        set_err(err, errlen, origin, line,
                "rummage cannot match this pattern (the file's patterns expand to more than "
                "1000000 regexp instructions):",
                text, len);
        free(pt->prog);
        free(pt->ranges);
        free(text);
        return RMG_EINPUT;
    }
    ig->n++;
    if (pt->nprog > ig->max_prog)
        ig->max_prog = pt->nprog;
    ig->total_prog += pt->nprog;
    if (exclusion) {
        /* fsutil's patternWithoutTrailingGlob */
        size_t pl = len;
        if (pl >= 3 && memcmp(text + pl - 3, "/**", 3) == 0)
            pl -= 3;
        if (pl >= 2 && memcmp(text + pl - 2, "/*", 2) == 0)
            pl -= 2;
        pt->prefix_len = pl;
        ig->has_exceptions = true;
        for (size_t k = 0; k < pl; k++)
            if (text[k] != '\0' && strchr("*[]?^\\", text[k]))
                ig->only_prefix_exceptions = false;
    }
    return RMG_OK;
}

enum rmg_status rmg_ignore_parse(const char *text, size_t len, const char *origin,
                                 struct rmg_ignore **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    struct rmg_ignore *ig = calloc(1, sizeof *ig);
    if (!ig)
        return RMG_ENOMEM;
    ig->only_prefix_exceptions = true;
    size_t cap = 0, pos = 0;
    char *buf = NULL; /* the line after ReadAll: "!" + cleaned pattern */
    enum rmg_status st = RMG_OK;
    if (!text)
        len = 0;
    for (unsigned line = 1; st == RMG_OK && pos < len; line++) {
        /* bufio.ScanLines: split at '\n', drop one '\r' before it */
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, b = end;
        pos = nl ? end + 1 : len;
        if (b - a >= MAX_LINE) {
            set_err(err, errlen, origin, line, "line too long (Docker's reader stops at 64 KiB)",
                    NULL, 0);
            st = RMG_EINPUT;
            break;
        }
        if (b > a && text[b - 1] == '\r')
            b--;
        if (line == 1 && b - a >= 3 && memcmp(text + a, "\xEF\xBB\xBF", 3) == 0)
            a += 3;
        if (a < b && text[a] == '#')
            continue;
        trim_space(text, &a, &b);
        if (a == b)
            continue;
        bool invert = text[a] == '!';
        if (invert) {
            a++;
            trim_space(text, &a, &b);
        }
        free(buf);
        buf = malloc(b - a + 3);
        if (!buf) {
            st = RMG_ENOMEM;
            break;
        }
        size_t n = 0;
        if (invert)
            buf[n++] = '!';
        if (b > a) {
            size_t c = go_clean(text + a, b - a, buf + n);
            if (c > 1 && buf[n] == '/') {
                memmove(buf + n, buf + n + 1, c - 1);
                c--;
            }
            n += c;
        }
        st = add_pattern(ig, &cap, buf, n, line, origin, err, errlen);
    }
    free(buf);
    if (st != RMG_OK) {
        rmg_ignore_free(ig);
        return st;
    }
    *out = ig;
    return RMG_OK;
}

/* ---- finding the file ----------------------------------------------------------------- */

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool try_candidate(struct rmg_buf *b, char *out, size_t cap, bool *found)
{
    *found = b->data && is_regular(b->data);
    if (!*found)
        return false;
    if (b->len + 1 > cap)
        return false;
    memcpy(out, b->data, b->len + 1);
    return true;
}

bool rmg_ignore_find(const char *context_dir, const char *dockerfile_path, char *out,
                     size_t cap)
{
    if (!context_dir || !*context_dir)
        context_dir = ".";
    size_t cl = strlen(context_dir);
    const char *sep = cl > 0 && context_dir[cl - 1] == '/' ? "" : "/";
    struct rmg_buf b = {0};
    bool found = false, fits = false;
    if (!dockerfile_path || !*dockerfile_path) {
        /* BuildKit reads "<Dockerfile name>.dockerignore" next to the Dockerfile, which by
           default is <context>/Dockerfile */
        if (rmg_buf_printf(&b, "%s%sDockerfile.dockerignore", context_dir, sep))
            fits = try_candidate(&b, out, cap, &found);
    } else if (strcmp(dockerfile_path, "-") != 0) {
        if (rmg_buf_printf(&b, "%s.dockerignore", dockerfile_path))
            fits = try_candidate(&b, out, cap, &found);
    }
    rmg_buf_free(&b);
    if (found)
        return fits;
    b = (struct rmg_buf){0};
    if (rmg_buf_printf(&b, "%s%s.dockerignore", context_dir, sep))
        fits = try_candidate(&b, out, cap, &found);
    rmg_buf_free(&b);
    return found && fits;
}
