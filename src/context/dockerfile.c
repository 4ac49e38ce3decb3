/* dockerfile.c: BuildKit-compatible Dockerfile parser (see dockerfile.h).
 *
 * DESIGN. The text is read one physical line at a time as BuildKit's parser.Parse reads it
 * (scanLines, trimNewline, left-trim of the first line only, comment and blank lines inside a
 * continuation dropped, the continuation regex `([^E])E[ \t]*$|^E[ \t]*$`), parser directives
 * are checked on every line until the first that is not one, and each logical line becomes one
 * instruction: splitCommand/extractBuilderFlags, then the per-instruction argument parser of
 * line_parsers.go (JSON array or shell form, parseWords, parseNameVal), then its heredocs.
 * Semantics follow instructions/ and dockerfile2llb in file order: FROM starts a stage (image
 * expanded against the global ARGs; a stage built FROM an earlier one inherits its variables
 * and WORKDIR), ARG resolves build arg > expanded default > global value, ENV expands all its
 * pairs against the variables before it, and the instructions BuildKit expands go through a
 * port of shell/lex.go. Where BuildKit stops with an error a warning is recorded and the
 * parse goes on with the most useful reading (raw text for a failed expansion, shell form
 * for a broken JSON array).
 *
 * Known differences, all in corners: non-ASCII letters in variable names are approximated
 * (unicode.IsLetter for the common scripts), invalid UTF-8 passes through instead of becoming
 * U+FFFD, `${v/p/r}` takes the longest match at the leftmost start, and its replacement is
 * literal (Go's ReplaceAllString would expand `$1`).
 *
 * Bounds: RMG_DF_MAX_TEXT bytes, RMG_DF_MAX_INSTRS instructions, RMG_DF_MAX_WORDS words
 * (arguments, flags, pairs: memory stays a small multiple of the text), MAX_WARNINGS
 * warnings, one expanded word at most MAX_VALUE bytes, ${...} nested at most LEX_MAX_DEPTH
 * deep, and one budget (EXPAND_BUDGET) for all variable values copied into words, variable
 * scopes copied into stages and pattern matching steps; past it, words stay unexpanded. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define MAX_PHYS_LINE 65535       /* bufio.Scanner's limit in BuildKit: longer lines warn */
#define MAX_WARNINGS 1000
#define MAX_VALUE (1u << 20)      /* bytes of one expanded word */
#define EXPAND_BUDGET (32u << 20) /* expansion work units per parse */
#define LEX_MAX_DEPTH 64
#define CLIP 64                   /* bytes of Dockerfile text quoted in a warning */

static const char *const kind_names[] = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
    "UNKNOWN"};

/* BuildKit's automatic platform args: in the global scope when given as build args. */
static const char *const auto_args[] = {
    "BUILDPLATFORM", "BUILDOS", "BUILDOSVERSION", "BUILDARCH", "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT",
    "TARGETSTAGE"};

/* ---- small helpers ----------------------------------------------------------------------- */

static int clipn(size_t n)
{
    return n > CLIP ? CLIP : (int)n;
}

/* Grows *arrp (an array of elem-sized items with *cap slots) to hold need items. */
static bool grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return false;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem)
        return false;
    void *old;
    memcpy(&old, arrp, sizeof old);
    void *p = realloc(old, nc * elem);
    if (!p)
        return false;
    memcpy(arrp, &p, sizeof p);
    *cap = nc;
    return true;
}

/* The code point at s (n > 0 bytes) and its length; an invalid byte is U+FFFD, length 1. */
static uint32_t decode(const char *s, size_t n, size_t *len)
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

/* Go's unicode.IsSpace. */
static bool is_uspace(uint32_t c)
{
    switch (c) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

/* unicode.IsSpace(rune(b)) on one byte, as extractBuilderFlags and parseHealthConfig test. */
static bool is_byte_space(unsigned char b)
{
    return b == ' ' || (b >= '\t' && b <= '\r') || b == 0x85 || b == 0xA0;
}

/* The class [\t\v\f\r ] of BuildKit's reWhitespace. */
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Go regexp's \s: [\t\n\f\r ]. */
static bool is_re_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* unicode.IsLetter: exact for ASCII, the common scripts' letter blocks otherwise. */
static bool is_letter(uint32_t c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    if (c == 0xAA || c == 0xB5 || c == 0xBA)
        return true;
    if (c >= 0xC0 && c <= 0x2AF)
        return c != 0xD7 && c != 0xF7;
    return (c >= 0x386 && c <= 0x3FF && c != 0x387) || (c >= 0x400 && c <= 0x481) ||
           (c >= 0x48A && c <= 0x52F) || (c >= 0x5D0 && c <= 0x5EA) ||
           (c >= 0x620 && c <= 0x64A) || (c >= 0x3041 && c <= 0x3096) ||
           (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0xAC00 && c <= 0xD7A3);
}

static void trim_left(const char **s, size_t *n)
{
    while (*n) {
        size_t l;
        if (!is_uspace(decode(*s, *n, &l)))
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
        uint32_t c = decode(s + k, *n - k, &l);
        if (k + l != *n || !is_uspace(c))
            return;
        *n = k;
    }
}

static void trim_space(const char **s, size_t *n)
{
    trim_left(s, n);
    trim_right(*s, n);
}

static void trim_newline(const char *s, size_t *n)
{
    while (*n && (s[*n - 1] == '\r' || s[*n - 1] == '\n'))
        (*n)--;
}

static bool has_byte(const char *s, size_t n, char c)
{
    return n && memchr(s, c, n) != NULL;
}

static bool has_pair(const char *s, size_t n, char a, char b)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == a && s[i + 1] == b)
            return true;
    return false;
}

static bool eq_fold(const char *a, size_t an, const char *b)
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

static char *ascii_case(const char *s, size_t n, bool upper)
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

/* ---- string vectors ------------------------------------------------------------------------ */

struct strv {
    char **v;
    size_t n, cap;
};

static bool strv_push(struct strv *sv, const char *s, size_t n)
{
    if (!grow(&sv->v, &sv->cap, sv->n + 1, sizeof *sv->v))
        return false;
    char *c = rmg_strndup(s, n);
    if (!c)
        return false;
    sv->v[sv->n++] = c;
    return true;
}

static void strv_clear(struct strv *sv)
{
    rmg_strv_free(sv->v, sv->n);
    *sv = (struct strv){0};
}

/* ---- variables: name -> value hash map ----------------------------------------------------- */

struct var {
    char *name; /* NULL: empty slot */
    char *value;
    size_t nlen, vlen;
    uint64_t hash;
    bool has_value; /* false only for a global `ARG NAME` without value or build arg: it reads
                       as "" in FROM lines but gives a stage's `ARG NAME` nothing */
};

struct vmap {
    struct var *slots;
    size_t cap, count;
    size_t bytes; /* what a copy costs, for the budget */
};

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct var *vmap_slot(const struct vmap *m, const char *name, size_t n, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (;;) {
        struct var *v = &m->slots[i];
        if (!v->name || (v->hash == h && v->nlen == n && memcmp(v->name, name, n) == 0))
            return v;
        i = (i + 1) & (m->cap - 1);
    }
}

static const struct var *vmap_get(const struct vmap *m, const char *name, size_t n)
{
    if (!m || !m->cap)
        return NULL;
    const struct var *v = vmap_slot(m, name, n, fnv(name, n));
    return v->name ? v : NULL;
}

static bool vmap_rehash(struct vmap *m, size_t cap)
{
    struct vmap bigger = {.cap = cap, .count = m->count, .bytes = m->bytes};
    bigger.slots = calloc(cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return false;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].name)
            *vmap_slot(&bigger, m->slots[i].name, m->slots[i].nlen, m->slots[i].hash) =
                m->slots[i];
    free(m->slots);
    *m = bigger;
    return true;
}

static bool vmap_set(struct vmap *m, const char *name, size_t nlen, const char *value,
                     size_t vlen, bool has_value)
{
    if ((m->count + 1) * 2 > m->cap && !vmap_rehash(m, m->cap ? m->cap * 2 : 16))
        return false;
    uint64_t h = fnv(name, nlen);
    struct var *v = vmap_slot(m, name, nlen, h);
    char *val = rmg_strndup(value ? value : "", value ? vlen : 0);
    if (!val)
        return false;
    if (v->name) {
        m->bytes -= v->vlen;
        free(v->value);
    } else {
        char *nm = rmg_strndup(name, nlen);
        if (!nm) {
            free(val);
            return false;
        }
        *v = (struct var){.name = nm, .nlen = nlen, .hash = h};
        m->count++;
        m->bytes += nlen + 32;
    }
    v->value = val;
    v->vlen = value ? vlen : 0;
    v->has_value = has_value;
    m->bytes += v->vlen;
    return true;
}

static void vmap_free(struct vmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].name) {
            free(m->slots[i].name);
            free(m->slots[i].value);
        }
    free(m->slots);
    *m = (struct vmap){0};
}

static bool vmap_copy(struct vmap *dst, const struct vmap *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const struct var *v = &src->slots[i];
        if (v->name && !vmap_set(dst, v->name, v->nlen, v->value, v->vlen, v->has_value))
            return false;
    }
    return true;
}

/* ---- parser state and warnings ------------------------------------------------------------- */

struct stage_state {
    struct vmap scope; /* variables expansions of this stage see: inherited, ARG, ENV */
    char *workdir;
    bool abs_workdir;  /* an absolute WORKDIR was set (for the WorkdirRelativePath lint) */
};

struct parser {
    const char *src;
    size_t len, pos;
    unsigned line; /* physical lines consumed */
    char escape;
    bool directives_done, seen_syntax, seen_escape, seen_check;
    struct rmg_dockerfile *df;
    size_t cap_instrs, cap_stages, cap_warnings, cap_states;
    struct stage_state *states; /* parallel to df->stages */
    struct vmap build_args;
    struct vmap global; /* what FROM lines see: global ARGs, automatic platform args */
    struct vmap pre;    /* the (empty) scope of instructions before the first FROM */
    size_t budget;
    size_t n_words; /* words, flags and JSON elements split off so far */
    bool budget_warned, oom, too_many, too_many_words;
};

/* Counts one more word; false (and the parse fails) past RMG_DF_MAX_WORDS. */
static bool count_word(struct parser *p)
{
    if (++p->n_words <= RMG_DF_MAX_WORDS)
        return true;
    p->too_many_words = true;
    return false;
}

static void warn(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(struct parser *p, unsigned line, const char *fmt, ...)
{
    struct rmg_dockerfile *df = p->df;
    if (p->oom || df->n_warnings >= MAX_WARNINGS)
        return;
    char msg[512];
    if (df->n_warnings == MAX_WARNINGS - 1) {
        snprintf(msg, sizeof msg, "more than %d warnings: the rest are not recorded",
                 MAX_WARNINGS - 1);
        line = 0;
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    if (!grow(&df->warnings, &p->cap_warnings, df->n_warnings + 1, sizeof *df->warnings)) {
        p->oom = true;
        return;
    }
    char *m = rmg_strdup(msg);
    if (!m) {
        p->oom = true;
        return;
    }
    df->warnings[df->n_warnings++] = (struct rmg_df_warning){line, m};
}

static bool charge(struct parser *p, size_t units)
{
    if (units > p->budget) {
        p->budget = 0;
        return false;
    }
    p->budget -= units;
    return true;
}

static void budget_warning(struct parser *p, unsigned line)
{
    if (!p->budget_warned)
        warn(p, line, "variable expansion limit reached: later values are left unexpanded");
    p->budget_warned = true;
}

static struct vmap *cur_scope(struct parser *p)
{
    return p->df->n_stages ? &p->states[p->df->n_stages - 1].scope : &p->pre;
}

/* ---- the shell lexer: port of BuildKit's shell/lex.go ------------------------------------- */

struct words {
    struct strv list;
    struct rmg_buf buf;
    bool in_word, oom;
};

static void words_raw(struct words *w, const char *s, size_t n)
{
    if (!rmg_buf_append(&w->buf, s, n))
        w->oom = true;
    w->in_word = true;
}

static void words_push(struct words *w)
{
    if (!strv_push(&w->list, w->buf.data, w->buf.len))
        w->oom = true;
    w->buf.len = 0;
    w->buf.data[0] = '\0';
}

static void words_char(struct words *w, const char *c, size_t n, bool space)
{
    if (space && w->in_word) {
        if (w->buf.len) {
            words_push(w);
            w->in_word = false;
        }
    } else if (!space) {
        words_raw(w, c, n);
    }
}

/* Text a variable expanded to: split into words at spaces. */
static void words_string(struct words *w, const char *s, size_t n)
{
    for (size_t i = 0, l; i < n; i += l) {
        uint32_t c = decode(s + i, n - i, &l);
        words_char(w, s + i, l, is_uspace(c));
    }
}

static void words_end(struct words *w)
{
    if (w->buf.len)
        words_push(w);
}

static void words_free(struct words *w)
{
    strv_clear(&w->list);
    rmg_buf_free(&w->buf);
}

struct lexer {
    struct parser *p;
    const char *s;
    size_t n, i;
    char esc;
    bool raw_quotes, raw_escapes, skip_unset;
    const struct vmap *env;
    int depth;
    bool hard;   /* the failure is a limit or out of memory, not the text's syntax */
    bool budget; /* ... and that limit is the parse's expansion budget */
    char err[200];
};

static bool lex_fail(struct lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool lex_fail(struct lexer *lx, const char *fmt, ...)
{
    if (lx->err[0])
        return false; /* keep the first (innermost) message */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err, sizeof lx->err, fmt, ap);
    va_end(ap);
    return false;
}

static bool lex_hard(struct lexer *lx, const char *msg)
{
    lx->hard = true;
    lx->err[0] = '\0';
    return lex_fail(lx, "%s", msg);
}

static bool put(struct lexer *lx, struct rmg_buf *out, const char *s, size_t n)
{
    if (!rmg_buf_append(out, s, n)) {
        lx->p->oom = true;
        return lex_hard(lx, "out of memory");
    }
    if (out->len > MAX_VALUE)
        return lex_hard(lx, "expanded value too long");
    return true;
}

static bool lex_budget(struct lexer *lx)
{
    lx->budget = true;
    return lex_hard(lx, "expansion budget exhausted");
}

/* A variable's value into a word: charged to the budget. */
static bool put_value(struct lexer *lx, struct rmg_buf *out, const char *s, size_t n)
{
    if (!charge(lx->p, n))
        return lex_budget(lx);
    return put(lx, out, s, n);
}

static size_t rune_len(const struct lexer *lx)
{
    size_t l = rmg_utf8_seq_len((const unsigned char *)lx->s + lx->i, lx->n - lx->i);
    return l ? l : 1;
}

/* The next character if ASCII, 0x100 for any other (consumed whole), -1 at the end. */
static int lex_next_ascii(struct lexer *lx)
{
    if (lx->i >= lx->n)
        return -1;
    unsigned char c = (unsigned char)lx->s[lx->i];
    if (c < 0x80) {
        lx->i++;
        return c;
    }
    lx->i += rune_len(lx);
    return 0x100;
}

static bool env_get(const struct lexer *lx, const char *name, size_t n, const char **v,
                    size_t *vl)
{
    const struct var *x = vmap_get(lx->env, name, n);
    if (!x)
        return false;
    *v = x->value;
    *vl = x->vlen;
    return true;
}

/* processName: digits, one special parameter, or letters/digits/_ . */
static void lex_name(struct lexer *lx, size_t *start, size_t *len)
{
    *start = lx->i;
    if (lx->i < lx->n && lx->s[lx->i] >= '0' && lx->s[lx->i] <= '9') {
        while (lx->i < lx->n && lx->s[lx->i] >= '0' && lx->s[lx->i] <= '9')
            lx->i++;
    } else if (lx->i < lx->n && strchr("@*#?-$!", lx->s[lx->i]) && lx->s[lx->i] != '\0') {
        lx->i++;
    } else {
        while (lx->i < lx->n) {
            size_t l;
            uint32_t c = decode(lx->s + lx->i, lx->n - lx->i, &l);
            if (!is_letter(c) && !(c >= '0' && c <= '9') && c != '_')
                break;
            lx->i += l;
        }
    }
    *len = lx->i - *start;
}

/* Shell patterns of ${v#p} ${v%p} ${v/p/r}: `*`, `?`, literals (convertShellPatternToRegex). */
struct gtok {
    unsigned char kind; /* GLIT, GANY, GSTAR */
    const char *lit;
    size_t len;
};
enum { GLIT, GANY, GSTAR };

static bool glob_compile(struct lexer *lx, const char *pat, size_t n, struct gtok **out,
                         size_t *m)
{
    struct gtok *t = NULL;
    size_t cap = 0, k = 0;
    for (size_t i = 0, l; i < n; i += l) {
        decode(pat + i, n - i, &l);
        struct gtok g = {GLIT, pat + i, l};
        if (pat[i] == '*') {
            g.kind = GSTAR;
        } else if (pat[i] == '?') {
            g.kind = GANY;
        } else if (pat[i] == '\\') {
            if (i + 1 < n && (pat[i + 1] == '}' || pat[i + 1] == '/'))
                continue; /* the escape of } and / is not part of the pattern */
            if (i + 1 >= n || !pat[i + 1] || !strchr("*?\\", pat[i + 1])) {
                free(t);
                return lex_fail(lx, "invalid pattern (%.*s) in substitution: invalid escape",
                                clipn(n), pat);
            }
            i++;
            g.lit = pat + i;
            g.len = 1;
        }
        if (!grow(&t, &cap, k + 1, sizeof *t)) {
            free(t);
            lx->p->oom = true;
            return lex_hard(lx, "out of memory");
        }
        t[k++] = g;
    }
    *out = t;
    *m = k;
    return true;
}

static void glob_closure(const struct gtok *t, size_t m, unsigned char *st)
{
    for (size_t j = 0; j < m; j++)
        if (st[j] && t[j].kind == GSTAR)
            st[j + 1] = 1;
}

/* Runs the pattern anchored at rune a of the value (runes at off[0..k]), forward or, with the
 * tokens reversed, backward. *first and *last get the first and last position where the whole
 * pattern matched (SIZE_MAX if none). False when the budget runs out. */
static bool glob_run(struct lexer *lx, const struct gtok *t, size_t m, const char *v,
                     const size_t *off, size_t k, size_t a, bool backward, unsigned char *st,
                     unsigned char *nx, size_t *first, size_t *last)
{
    memset(st, 0, m + 1);
    st[0] = 1;
    glob_closure(t, m, st);
    *first = *last = SIZE_MAX;
    for (size_t pos = a;;) {
        if (st[m]) {
            if (*first == SIZE_MAX)
                *first = pos;
            *last = pos;
        }
        bool alive = false;
        for (size_t j = 0; j < m && !alive; j++)
            alive = st[j];
        if (!alive || (backward ? pos == 0 : pos == k))
            return true;
        if (!charge(lx->p, m + 1))
            return lex_budget(lx);
        size_t r = backward ? pos - 1 : pos;
        const char *rc = v + off[r];
        size_t rl = off[r + 1] - off[r];
        memset(nx, 0, m + 1);
        for (size_t j = 0; j < m; j++) {
            if (!st[j])
                continue;
            if (t[j].kind == GSTAR)
                nx[j] = 1;
            else if (t[j].kind == GANY || (t[j].len == rl && memcmp(t[j].lit, rc, rl) == 0))
                nx[j + 1] = 1;
        }
        glob_closure(t, m, nx);
        memcpy(st, nx, m + 1);
        pos = backward ? pos - 1 : pos + 1;
    }
}

/* ${v#p} ${v##p} ${v%p} ${v%%p} (op '#' or '%') and ${v/p/r} ${v//p/r} (op '/' or 'A'). */
static bool glob_apply(struct lexer *lx, char op, bool greedy, const char *pat, size_t pn,
                       const char *v, size_t vn, const char *repl, size_t rn,
                       struct rmg_buf *out)
{
    struct gtok *t = NULL;
    size_t m = 0;
    if (!glob_compile(lx, pat, pn, &t, &m))
        return false;
    size_t k = 0, *off = malloc((vn + 1) * sizeof *off);
    unsigned char *st = malloc(2 * (m + 1));
    bool ok = off && st;
    if (!ok) {
        lx->p->oom = true;
        lex_hard(lx, "out of memory");
    }
    for (size_t i = 0, l; ok && i < vn; i += l) {
        decode(v + i, vn - i, &l);
        off[k++] = i;
    }
    if (ok)
        off[k] = vn;
    size_t first, last;
    if (ok && op == '#') {
        ok = glob_run(lx, t, m, v, off, k, 0, false, st, st + m + 1, &first, &last);
        size_t e = greedy ? last : first;
        if (ok)
            ok = e == SIZE_MAX ? put(lx, out, v, vn) : put(lx, out, v + off[e], vn - off[e]);
    } else if (ok && op == '%') {
        for (size_t i = 0; i < m / 2; i++) {
            struct gtok x = t[i];
            t[i] = t[m - 1 - i];
            t[m - 1 - i] = x;
        }
        ok = glob_run(lx, t, m, v, off, k, k, true, st, st + m + 1, &first, &last);
        size_t e = greedy ? last : first;
        if (ok)
            ok = put(lx, out, v, e == SIZE_MAX ? vn : off[e]);
    } else if (ok) {
        /* regexp.ReplaceAllString's walk: leftmost match, at least one rune forward, no
         * replacement for an empty match right after a match. */
        size_t search = 0, last_end = 0;
        while (ok && search <= k) {
            size_t a = search, e = SIZE_MAX;
            for (; a <= k; a++) {
                if (!(ok = glob_run(lx, t, m, v, off, k, a, false, st, st + m + 1, &first, &e)))
                    break;
                if (e != SIZE_MAX)
                    break;
            }
            if (!ok || e == SIZE_MAX)
                break;
            ok = put(lx, out, v + off[last_end], off[a] - off[last_end]);
            if (ok && (e > last_end || a == 0))
                ok = put(lx, out, repl, rn);
            last_end = e;
            if (op == '/')
                break;
            search = search + 1 > e ? search + 1 : e;
        }
        if (ok)
            ok = put(lx, out, v + off[last_end], vn - off[last_end]);
    }
    free(off);
    free(st);
    free(t);
    return ok;
}

static bool lex_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct rmg_buf *out,
                        struct words *w);

static bool lex_single_quote(struct lexer *lx, struct rmg_buf *out)
{
    lx->i++;
    if (lx->raw_quotes && !put(lx, out, "'", 1))
        return false;
    for (;;) {
        if (lx->i >= lx->n)
            return lex_fail(lx, "unexpected end of statement while looking for matching "
                                "single-quote");
        size_t l = rune_len(lx);
        if (lx->s[lx->i] == '\'') {
            lx->i++;
            return !lx->raw_quotes || put(lx, out, "'", 1);
        }
        if (!put(lx, out, lx->s + lx->i, l))
            return false;
        lx->i += l;
    }
}

static bool lex_dollar(struct lexer *lx, struct rmg_buf *out);

static bool lex_double_quote(struct lexer *lx, struct rmg_buf *out)
{
    lx->i++;
    if (lx->raw_quotes && !put(lx, out, "\"", 1))
        return false;
    for (;;) {
        if (lx->i >= lx->n)
            return lex_fail(lx, "unexpected end of statement while looking for matching "
                                "double-quote");
        char c = lx->s[lx->i];
        if (c == '"') {
            lx->i++;
            return !lx->raw_quotes || put(lx, out, "\"", 1);
        }
        if (c == '$') {
            if (!lex_dollar(lx, out))
                return false;
            continue;
        }
        size_t l = rune_len(lx);
        const char *ch = lx->s + lx->i;
        lx->i += l;
        if (c == lx->esc) {
            if (lx->raw_escapes && !put(lx, out, ch, 1))
                return false;
            if (lx->i >= lx->n)
                continue; /* the loop reports the missing quote */
            char nc = lx->s[lx->i];
            if (nc == '"' || nc == '$' || nc == lx->esc) {
                ch = lx->s + lx->i;
                l = 1;
                lx->i++;
            }
        }
        if (!put(lx, out, ch, l))
            return false;
    }
}

/* The text of an unset variable kept as written (SkipUnsetEnv, for heredoc names). */
static bool put_unset(struct lexer *lx, struct rmg_buf *out, const char *name, size_t nl,
                      const char *mod, const char *word, size_t wl)
{
    return put(lx, out, "${", 2) && put(lx, out, name, nl) && put(lx, out, mod, strlen(mod)) &&
           put(lx, out, word, wl) && put(lx, out, "}", 1);
}

static bool lex_dollar(struct lexer *lx, struct rmg_buf *out)
{
    lx->i++; /* '$' */
    size_t ns, nl;
    const char *v = "";
    size_t vl = 0;
    if (lx->i >= lx->n || lx->s[lx->i] != '{') {
        lex_name(lx, &ns, &nl);
        if (nl == 0)
            return put(lx, out, "$", 1);
        if (!env_get(lx, lx->s + ns, nl, &v, &vl))
            return !lx->skip_unset || (put(lx, out, "$", 1) && put(lx, out, lx->s + ns, nl));
        return put_value(lx, out, v, vl);
    }
    lx->i++; /* '{' */
    if (lx->i >= lx->n)
        return lex_fail(lx, "syntax error: missing '}'");
    char c0 = lx->s[lx->i];
    if (c0 == '{' || c0 == '}' || c0 == ':')
        return lex_fail(lx, "syntax error: bad substitution");
    lex_name(lx, &ns, &nl);
    const char *name = lx->s + ns;
    int ch = lex_next_ascii(lx);
    char mod[3] = {0};
    if (ch == '}') {
        if (!env_get(lx, name, nl, &v, &vl))
            return !lx->skip_unset || put_unset(lx, out, name, nl, "", "", 0);
        return put_value(lx, out, v, vl);
    }
    bool null_is_unset = ch == ':';
    if (null_is_unset) {
        mod[0] = ':';
        ch = lex_next_ascii(lx);
    }
    mod[null_is_unset] = ch > 0 && ch < 0x80 ? (char)ch : '?';
    if (null_is_unset || ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%') {
        bool raw = ch == '#' || ch == '%';
        if (null_is_unset && raw)
            return lex_fail(lx, "unsupported modifier (%s) in substitution", mod);
        struct rmg_buf word = {0};
        if (!lex_stop_on(lx, '}', raw, &word, NULL)) {
            rmg_buf_free(&word);
            if (!lx->hard && lx->i >= lx->n) {
                lx->err[0] = '\0';
                lex_fail(lx, "syntax error: missing '}'");
            }
            return false;
        }
        const char *wd = word.data ? word.data : "";
        size_t wl = word.len;
        bool set = env_get(lx, name, nl, &v, &vl), ok = true;
        if (lx->skip_unset && !set) {
            ok = put_unset(lx, out, name, nl, mod, wd, wl);
        } else if (ch == '-') {
            ok = !set || (null_is_unset && vl == 0) ? put(lx, out, wd, wl)
                                                     : put_value(lx, out, v, vl);
        } else if (ch == '+') {
            ok = !set || (null_is_unset && vl == 0) ? true : put(lx, out, wd, wl);
        } else if (ch == '?') {
            if (!set || (null_is_unset && vl == 0))
                ok = wl ? lex_fail(lx, "%.*s: %.*s", clipn(nl), name, clipn(wl), wd)
                        : lex_fail(lx, "%.*s: is not allowed to be %s", clipn(nl), name,
                                   set ? "empty" : "unset");
            else
                ok = put_value(lx, out, v, vl);
        } else if (ch == '#' || ch == '%') {
            bool greedy = wl > 0 && wd[0] == (char)ch;
            ok = charge(lx->p, vl) ? glob_apply(lx, (char)ch, greedy, wd + greedy, wl - greedy,
                                                v, vl, NULL, 0, out)
                                   : lex_budget(lx);
        } else {
            ok = lex_fail(lx, "unsupported modifier (%s) in substitution", mod);
        }
        rmg_buf_free(&word);
        return ok;
    }
    if (ch == '/') {
        bool all = lx->i < lx->n && lx->s[lx->i] == '/';
        if (all)
            lx->i++;
        struct rmg_buf pat = {0}, repl = {0};
        bool ok = lex_stop_on(lx, '/', true, &pat, NULL);
        if (!ok && !lx->hard && lx->i >= lx->n) {
            lx->err[0] = '\0';
            lex_fail(lx, "syntax error: missing '/' in ${}");
        }
        if (ok && !(ok = lex_stop_on(lx, '}', true, &repl, NULL)) && !lx->hard &&
            lx->i >= lx->n) {
            lx->err[0] = '\0';
            lex_fail(lx, "syntax error: missing '}'");
        }
        const char *pd = pat.data ? pat.data : "", *rd = repl.data ? repl.data : "";
        if (ok) {
            bool set = env_get(lx, name, nl, &v, &vl);
            if (lx->skip_unset && !set) {
                ok = put(lx, out, "${", 2) && put(lx, out, name, nl) && put(lx, out, "/", 1) &&
                     put(lx, out, pd, pat.len) && put(lx, out, "/", 1) &&
                     put(lx, out, rd, repl.len) && put(lx, out, "}", 1);
            } else {
                ok = charge(lx->p, vl) ? glob_apply(lx, all ? 'A' : '/', true, pd, pat.len, v,
                                                    vl, rd, repl.len, out)
                                       : lex_budget(lx);
            }
        }
        rmg_buf_free(&pat);
        rmg_buf_free(&repl);
        return ok;
    }
    return lex_fail(lx, "unsupported modifier (%s) in substitution", mod);
}

static bool lex_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct rmg_buf *out,
                        struct words *w)
{
    if (lx->depth >= LEX_MAX_DEPTH)
        return lex_hard(lx, "variable expansion nested too deeply");
    lx->depth++;
    bool saved = lx->raw_escapes, ok = true, stopped = false;
    lx->raw_escapes = raw_escapes;
    while (ok && lx->i < lx->n) {
        char c = lx->s[lx->i];
        if (stop >= 0 && (unsigned char)c == stop) {
            lx->i++;
            stopped = true;
            break;
        }
        if (c == '$' || c == '\'' || c == '"') {
            struct rmg_buf tmp = {0};
            ok = c == '$' ? lex_dollar(lx, &tmp)
                 : c == '\'' ? lex_single_quote(lx, &tmp) : lex_double_quote(lx, &tmp);
            const char *td = tmp.data ? tmp.data : "";
            if (ok)
                ok = put(lx, out, td, tmp.len);
            if (ok && w) {
                if (c == '$')
                    words_string(w, td, tmp.len);
                else
                    words_raw(w, td, tmp.len);
            }
            rmg_buf_free(&tmp);
            continue;
        }
        size_t l = rune_len(lx);
        const char *ch = lx->s + lx->i;
        lx->i += l;
        if (c == lx->esc) {
            if (lx->raw_escapes) {
                if (w)
                    words_raw(w, ch, 1);
                ok = put(lx, out, ch, 1);
            }
            if (lx->i >= lx->n)
                break;
            ch = lx->s + lx->i;
            l = rune_len(lx);
            lx->i += l;
            if (w)
                words_raw(w, ch, l);
        } else if (w) {
            size_t dl;
            words_char(w, ch, l, is_uspace(decode(ch, l, &dl)));
        }
        if (ok)
            ok = put(lx, out, ch, l);
    }
    if (ok && w && w->oom) {
        lx->p->oom = true;
        ok = lex_hard(lx, "out of memory");
    }
    if (ok && stop >= 0 && !stopped)
        ok = lex_fail(lx, "unexpected end of statement while looking for matching %c", stop);
    lx->raw_escapes = saved;
    lx->depth--;
    return ok;
}

/* Runs the lexer over s: the word (ProcessWord) into out, the words (ProcessWords) into w if
 * not NULL. False with lx->err set on an error. */
static bool lex_run(struct lexer *lx, const char *s, size_t n, struct rmg_buf *out,
                    struct words *w)
{
    lx->s = s;
    lx->n = n;
    lx->i = 0;
    lx->depth = 0;
    lx->err[0] = '\0';
    lx->hard = lx->budget = false;
    bool ok = lex_stop_on(lx, -1, lx->raw_escapes, out, w);
    if (ok && w) {
        words_end(w);
        if (w->oom) {
            lx->p->oom = true;
            ok = lex_hard(lx, "out of memory");
        }
    }
    if (ok && !rmg_buf_append(out, "", 0)) { /* a NUL-terminated result, also when empty */
        lx->p->oom = true;
        ok = lex_hard(lx, "out of memory");
    }
    return ok;
}

static void lex_init(struct lexer *lx, struct parser *p, char esc, const struct vmap *env)
{
    *lx = (struct lexer){.p = p, .esc = esc, .env = env};
}

/* The failure of an expansion as a warning (a limit: once). */
static void lex_warning(struct parser *p, unsigned line, const struct lexer *lx, const char *s,
                        size_t n)
{
    if (p->oom)
        return;
    if (lx->budget)
        budget_warning(p, line);
    else
        warn(p, line, "failed to process \"%.*s\": %s", clipn(n), s, lx->err);
}

/* ProcessWord against env with the file's escape: a new string; on an error the raw word
 * (with a warning unless quiet). NULL only when out of memory. */
static char *expand(struct parser *p, unsigned line, const char *s, size_t n,
                    const struct vmap *env, bool quiet)
{
    struct lexer lx;
    lex_init(&lx, p, p->escape, env);
    struct rmg_buf out = {0};
    char *r;
    if (lex_run(&lx, s, n, &out, NULL)) {
        r = realloc(out.data, out.len + 1); /* not the buffer's spare capacity */
        if (!r)
            rmg_buf_free(&out);
    } else {
        rmg_buf_free(&out);
        if (!quiet)
            lex_warning(p, line, &lx, s, n);
        r = rmg_strndup(s, n);
    }
    if (!r)
        p->oom = true;
    return r;
}

/* ProcessWords: the words of s after expansion, appended to out (the raw word on an error). */
static void expand_words(struct parser *p, unsigned line, const char *s, size_t n,
                         const struct vmap *env, struct strv *out)
{
    struct lexer lx;
    lex_init(&lx, p, p->escape, env);
    struct rmg_buf res = {0};
    struct words w = {0};
    if (lex_run(&lx, s, n, &res, &w)) {
        for (size_t i = 0; i < w.list.n && !p->oom && count_word(p); i++)
            if (!strv_push(out, w.list.v[i], strlen(w.list.v[i])))
                p->oom = true;
    } else {
        lex_warning(p, line, &lx, s, n);
        if (!p->oom && !strv_push(out, s, n))
            p->oom = true;
    }
    rmg_buf_free(&res);
    words_free(&w);
}

/* ---- lines ----------------------------------------------------------------------------------- */

/* The next physical line with its line ending (scanLines). */
static bool next_line(struct parser *p, const char **s, size_t *n)
{
    if (p->pos >= p->len)
        return false;
    const char *start = p->src + p->pos;
    const char *nl = memchr(start, '\n', p->len - p->pos);
    *s = start;
    *n = nl ? (size_t)(nl - start) + 1 : p->len - p->pos;
    p->pos += *n;
    return true;
}

static void check_length(struct parser *p, size_t n)
{
    if (n > MAX_PHYS_LINE)
        warn(p, p->line, "dockerfile line greater than max allowed size of %d", MAX_PHYS_LINE);
}

/* DirectiveParser.ParseLine on a line (newline and, for a first line, leading space trimmed):
 * `#key=value` with key syntax, escape or check, before anything else. */
static void directive_check(struct parser *p, const char *s, size_t n, unsigned line)
{
    if (p->directives_done)
        return;
    if (n == 0 || s[0] != '#') {
        p->directives_done = true;
        return;
    }
    s++;
    n--;
    trim_left(&s, &n);
    size_t i = 0;
    if (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
        for (i++; i < n && (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
                            (s[i] >= '0' && s[i] <= '9'));
             i++)
            ;
    size_t klen = i;
    while (i < n && is_re_space(s[i]))
        i++;
    if (klen == 0 || i >= n || s[i] != '=') {
        p->directives_done = true;
        return;
    }
    i++;
    size_t rest = i;
    while (i < n && is_re_space(s[i]))
        i++;
    size_t vs = i, ve = n;
    while (ve > vs && is_re_space(s[ve - 1]))
        ve--;
    if (vs == ve) {
        if (rest == n) { /* `(.+?)` needs one character */
            p->directives_done = true;
            return;
        }
        vs = n - 1; /* only spaces: the regexp leaves the last one to the value */
        ve = n;
    }
    bool *seen;
    if (eq_fold(s, klen, "escape"))
        seen = &p->seen_escape;
    else if (eq_fold(s, klen, "syntax"))
        seen = &p->seen_syntax;
    else if (eq_fold(s, klen, "check"))
        seen = &p->seen_check;
    else {
        p->directives_done = true;
        return;
    }
    if (*seen) {
        warn(p, line, "only one %.*s parser directive can be used", (int)klen, s);
        return;
    }
    *seen = true;
    if (seen == &p->seen_escape) {
        if (ve - vs == 1 && (s[vs] == '\\' || s[vs] == '`'))
            p->escape = p->df->escape = s[vs];
        else
            warn(p, line, "invalid escape token '%.*s' does not match ` or \\",
                 clipn(ve - vs), s + vs);
    }
}

/* trimContinuationCharacter: true (and the escape and trailing blanks removed) when the line
 * continues on the next. */
static bool trim_continuation(const struct parser *p, const char *s, size_t *n)
{
    size_t e = *n;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    if (e == 0 || s[e - 1] != p->escape)
        return false;
    if (e >= 2 && s[e - 2] == p->escape)
        return false; /* an escaped escape: `([^E])E` does not match */
    *n = e - 1;
    return true;
}

static bool is_comment_line(const char *s, size_t n)
{
    trim_left(&s, &n);
    return n > 0 && s[0] == '#';
}

/* ---- splitCommand, extractBuilderFlags, line parsers ---------------------------------------- */

struct split {
    const char *name, *args;
    size_t name_len, args_len;
    struct strv flags; /* as written, quotes and escapes processed */
};

static void extract_flags(struct parser *p, const char *s, size_t n, struct split *sc)
{
    enum { SPACES, WORD, QUOTE } phase = SPACES;
    struct rmg_buf word = {0};
    char quote = 0;
    bool blank_ok = false;
    sc->args = s + n;
    sc->args_len = 0;
    for (size_t pos = 0; pos <= n; pos++) {
        char ch = pos < n ? s[pos] : 0;
        if (phase == SPACES) {
            if (pos == n)
                break;
            if (is_byte_space((unsigned char)ch))
                continue;
            if (ch != '-' || pos + 1 == n || s[pos + 1] != '-' || !count_word(p)) {
                sc->args = s + pos;
                sc->args_len = n - pos;
                break;
            }
            phase = WORD;
        }
        if (pos == n) {
            if (!(word.len == 2 && memcmp(word.data, "--", 2) == 0) && (blank_ok || word.len))
                if (!strv_push(&sc->flags, word.data ? word.data : "", word.len))
                    p->oom = true;
            break;
        }
        if (phase == WORD) {
            if (is_byte_space((unsigned char)ch)) {
                phase = SPACES;
                if (word.len == 2 && memcmp(word.data, "--", 2) == 0) {
                    sc->args = s + pos;
                    sc->args_len = n - pos;
                    break;
                }
                if ((blank_ok || word.len) &&
                    !strv_push(&sc->flags, word.data ? word.data : "", word.len))
                    p->oom = true;
                word.len = 0;
                blank_ok = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = true;
                phase = QUOTE;
                continue;
            }
            if (ch == '\\') {
                if (pos + 1 == n)
                    continue;
                ch = s[++pos];
            }
            if (!rmg_buf_append(&word, &ch, 1))
                p->oom = true;
            continue;
        }
        if (ch == quote) {
            phase = WORD;
            continue;
        }
        if (ch == '\\') {
            if (pos + 1 == n) {
                phase = WORD;
                continue;
            }
            ch = s[++pos];
        }
        if (!rmg_buf_append(&word, &ch, 1))
            p->oom = true;
    }
    rmg_buf_free(&word);
}

/* splitCommand: the instruction word, then flags, then the trimmed rest. */
static void split_command(struct parser *p, const char *line, size_t n, struct split *sc)
{
    *sc = (struct split){0};
    trim_space(&line, &n);
    size_t i = 0;
    while (i < n && !is_ws(line[i]))
        i++;
    sc->name = line;
    sc->name_len = i;
    sc->args = line + n;
    if (i < n) {
        while (i < n && is_ws(line[i]))
            i++;
        extract_flags(p, line + i, n - i, sc);
    }
    trim_space(&sc->args, &sc->args_len);
}

static enum rmg_df_kind kind_of(const char *name, size_t n)
{
    for (int k = 0; k < RMG_DF_UNKNOWN; k++)
        if (eq_fold(name, n, kind_names[k]))
            return (enum rmg_df_kind)k;
    return RMG_DF_UNKNOWN;
}

/* reWhitespace.Split: words separated by [\t\v\f\r ]+ (s is trimmed). */
static void ws_split(struct parser *p, const char *s, size_t n, struct strv *out)
{
    size_t i = 0;
    while (i < n && !p->oom && count_word(p)) {
        size_t j = i;
        while (j < n && !is_ws(s[j]))
            j++;
        if (!strv_push(out, s + i, j - i))
            p->oom = true;
        while (j < n && is_ws(s[j]))
            j++;
        i = j;
    }
}

/* parseWords: words at Unicode spaces, quotes and escapes kept (ENV, LABEL, ARG). */
static void parse_words(struct parser *p, const char *s, size_t n, struct strv *out)
{
    enum { SPACES, WORD, QUOTE } phase = SPACES;
    struct rmg_buf word = {0};
    char quote = 0;
    bool blank_ok = false;
    uint32_t ch = 0;
    size_t w = 0;
    for (size_t pos = 0; pos <= n && !p->oom && !p->too_many_words; pos += w) {
        if (pos != n)
            ch = decode(s + pos, n - pos, &w);
        if (phase == SPACES) {
            if (pos == n)
                break;
            if (is_uspace(ch))
                continue;
            phase = WORD;
            if (!count_word(p))
                break;
        }
        if (pos == n) {
            if ((blank_ok || word.len) && !strv_push(out, word.data ? word.data : "", word.len))
                p->oom = true;
            break;
        }
        if (phase == WORD) {
            if (is_uspace(ch)) {
                phase = SPACES;
                if ((blank_ok || word.len) &&
                    !strv_push(out, word.data ? word.data : "", word.len))
                    p->oom = true;
                word.len = 0;
                blank_ok = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = (char)ch;
                blank_ok = true;
                phase = QUOTE;
            }
            if (ch == (unsigned char)p->escape) {
                if (pos + w == n)
                    continue; /* an escape at the end is dropped */
                if (!rmg_buf_append(&word, s + pos, w))
                    p->oom = true;
                pos += w;
                ch = decode(s + pos, n - pos, &w);
            }
            if (!rmg_buf_append(&word, s + pos, w))
                p->oom = true;
            continue;
        }
        if (ch == (unsigned char)quote)
            phase = WORD;
        if (ch == (unsigned char)p->escape && quote != '\'') {
            if (pos + w == n) {
                phase = WORD;
                continue;
            }
            if (!rmg_buf_append(&word, s + pos, w))
                p->oom = true;
            pos += w;
            ch = decode(s + pos, n - pos, &w);
        }
        if (!rmg_buf_append(&word, s + pos, w))
            p->oom = true;
    }
    rmg_buf_free(&word);
}

/* parseJSON: 1 when s (after leading spaces) is exactly one JSON array of strings (into out),
 * 0 when it is not JSON, -1 when it is an array holding something else (BuildKit rejects the
 * instruction). Bytes Go's decoder refuses (control characters) make it "not JSON". */
static int parse_json(struct parser *p, const char *s, size_t n, struct strv *out)
{
    trim_left(&s, &n);
    if (n == 0 || s[0] != '[')
        return 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (c < 0x20)
                return 0;
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return 0;
        }
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!j)
        return 0;
    int r = 1;
    for (const char *e = end; e && e < s + n; e++)
        if (*e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')
            r = 0;
    if (!end || !cJSON_IsArray(j))
        r = 0;
    for (cJSON *it = r == 1 ? j->child : NULL; it; it = it->next)
        if (!cJSON_IsString(it))
            r = -1;
    for (cJSON *it = r == 1 ? j->child : NULL; it && !p->oom && count_word(p); it = it->next)
        if (!strv_push(out, it->valuestring, strlen(it->valuestring)))
            p->oom = true;
    cJSON_Delete(j);
    return r;
}

/* parseMaybeJSON / parseMaybeJSONToList: JSON array, else the rest as one argument or as
 * words. Returns whether it was JSON. */
static bool parse_args(struct parser *p, unsigned line, const char *kw, const char *s, size_t n,
                       bool to_list, struct strv *out)
{
    int j = parse_json(p, s, n, out);
    if (j == 1)
        return true;
    strv_clear(out);
    if (j < 0)
        warn(p, line, "%.*s: when using JSON array syntax, arrays must be comprised of strings "
                      "only (read as shell form)", clipn(strlen(kw)), kw);
    else if (n >= 2 && s[0] == '[' && (s[1] == '"' || s[1] == '\''))
        warn(p, line, "%.*s: arguments start with '[' but are not a JSON array of strings: "
                      "read as shell form", clipn(strlen(kw)), kw);
    if (to_list)
        ws_split(p, s, n, out);
    else if (n && !strv_push(out, s, n))
        p->oom = true;
    return false;
}

/* ---- heredocs ----------------------------------------------------------------------------- */

/* ParseHeredoc on one word: 1 (name, chomp, expand set) when it is `[n]<<[-][ ]NAME`, 0 when
 * not, -1 when its name does not lex (BuildKit fails). */
static int heredoc_word(struct parser *p, const char *w, size_t n, struct rmg_buf *name,
                        bool *chomp, bool *expand)
{
    size_t i = 0;
    while (i < n && w[i] >= '0' && w[i] <= '9')
        i++;
    if (n - i < 2 || w[i] != '<' || w[i + 1] != '<')
        return 0;
    i += 2;
    *chomp = i < n && w[i] == '-';
    i += *chomp;
    while (i < n && is_re_space(w[i]))
        i++;
    if (i == n || has_byte(w + i, n - i, '<'))
        return 0;
    struct vmap none = {0};
    struct lexer lx;
    struct words plain = {0}, raw = {0};
    struct rmg_buf r1 = {0}, r2 = {0};
    lex_init(&lx, p, '\\', &none);
    lx.skip_unset = true;
    int r = 0;
    if (!lex_run(&lx, w + i, n - i, &r1, &plain)) {
        r = -1;
    } else if (plain.list.n == 1) {
        lx.raw_quotes = true;
        if (!lex_run(&lx, w + i, n - i, &r2, &raw) || raw.list.n != 1) {
            r = -1;
        } else {
            size_t q1 = 0, q2 = 0;
            for (const char *c = plain.list.v[0]; *c; c++)
                q1 += *c == '\'' || *c == '"';
            for (const char *c = raw.list.v[0]; *c; c++)
                q2 += *c == '\'' || *c == '"';
            *expand = q1 == q2;
            name->len = 0;
            if (!rmg_buf_puts(name, plain.list.v[0]))
                p->oom = true;
            r = 1;
        }
    }
    rmg_buf_free(&r1);
    rmg_buf_free(&r2);
    words_free(&plain);
    words_free(&raw);
    return r;
}

static bool push_heredoc(struct rmg_df_instr *in, size_t *cap,
                         const char *name, struct rmg_buf *body, bool chomp, bool expand)
{
    if (!grow(&in->heredocs, cap, in->n_heredocs + 1, sizeof *in->heredocs))
        return false;
    struct rmg_df_heredoc h = {rmg_strdup(name), NULL, expand};
    if (!rmg_buf_append(body, "", 0) || !h.name) {
        free(h.name);
        return false;
    }
    if (chomp) { /* ChompHeredocContent: `(?m)^\t+` */
        size_t o = 0;
        bool bol = true;
        for (size_t i = 0; i < body->len; i++) {
            char c = body->data[i];
            if (bol && c == '\t')
                continue;
            bol = c == '\n';
            body->data[o++] = c;
        }
        body->len = o;
        body->data[o] = '\0';
    }
    h.body = body->data;
    *body = (struct rmg_buf){0};
    in->heredocs[in->n_heredocs++] = h;
    return true;
}

/* heredocsFromLine, then each body up to its delimiter line. */
static void read_heredocs(struct parser *p, struct rmg_df_instr *in, const char *line, size_t n)
{
    struct vmap none = {0};
    struct lexer lx;
    struct words w = {0};
    struct rmg_buf res = {0}, name = {0};
    size_t cap = 0;
    lex_init(&lx, p, '\\', &none);
    lx.raw_quotes = lx.raw_escapes = lx.skip_unset = true;
    if (!lex_run(&lx, line, n, &res, &w)) { /* BuildKit ignores this error: no heredocs */
        words_free(&w);
        w = (struct words){0};
    }
    for (size_t i = 0; i < w.list.n && !p->oom; i++) {
        bool chomp = false, expand = true;
        int r = heredoc_word(p, w.list.v[i], strlen(w.list.v[i]), &name, &chomp, &expand);
        if (p->oom)
            break;
        if (r < 0) {
            warn(p, in->line, "invalid heredoc \"%.*s\"", clipn(strlen(w.list.v[i])),
                 w.list.v[i]);
            continue;
        }
        if (r == 0)
            continue;
        struct rmg_buf body = {0};
        bool done = false;
        const char *s;
        size_t sn;
        while (!done && next_line(p, &s, &sn)) {
            p->line++;
            size_t tn = sn;
            const char *t = s;
            trim_newline(t, &tn);
            if (chomp)
                while (tn && *t == '\t') {
                    t++;
                    tn--;
                }
            if (tn == name.len && memcmp(t, name.data, tn) == 0)
                done = true;
            else if (!rmg_buf_append(&body, s, sn))
                p->oom = true;
        }
        if (!p->oom && !push_heredoc(in, &cap, name.data, &body, chomp, expand))
            p->oom = true;
        rmg_buf_free(&body);
        if (!done) {
            warn(p, in->line, "unterminated heredoc %.*s", clipn(name.len), name.data);
            break;
        }
    }
    words_free(&w);
    rmg_buf_free(&res);
    rmg_buf_free(&name);
}

/* ---- instructions ------------------------------------------------------------------------- */

struct kvv {
    struct rmg_df_kv *v;
    size_t n, cap;
};

static void kv_push(struct parser *p, struct kvv *kv, char *key, char *value, bool has_value)
{
    if (!key || (has_value && !value) || !grow(&kv->v, &kv->cap, kv->n + 1, sizeof *kv->v)) {
        free(key);
        free(value);
        p->oom = true;
        return;
    }
    kv->v[kv->n++] = (struct rmg_df_kv){key, value, has_value};
}

static bool flag_known(enum rmg_df_kind kind, const char *name, size_t n)
{
    static const char *const from[] = {"platform", NULL};
    static const char *const run[] = {"mount", "network", "security", "device", NULL};
    static const char *const copy[] = {"from", "chown", "chmod", "link", "exclude", "parents",
                                       NULL};
    static const char *const add[] = {"chown", "chmod", "link", "exclude", "checksum",
                                      "keep-git-dir", "unpack", NULL};
    static const char *const health[] = {"interval", "timeout", "start-period",
                                         "start-interval", "retries", NULL};
    const char *const *set = kind == RMG_DF_FROM ? from : kind == RMG_DF_RUN ? run
                             : kind == RMG_DF_COPY ? copy : kind == RMG_DF_ADD ? add
                             : kind == RMG_DF_HEALTHCHECK ? health : NULL;
    for (; set && *set; set++)
        if (strlen(*set) == n && memcmp(*set, name, n) == 0)
            return true;
    return false;
}

/* A --mount value with each option's value expanded, except from= (BuildKit refuses it). */
static char *expand_mount(struct parser *p, unsigned line, const char *v, const struct vmap *env)
{
    struct rmg_buf out = {0};
    size_t n = strlen(v);
    for (size_t i = 0; i <= n && !p->oom;) {
        size_t j = i;
        bool q = false;
        while (j < n && (q || v[j] != ',')) {
            q ^= v[j] == '"';
            j++;
        }
        const char *eq = memchr(v + i, '=', j - i);
        if (i && !rmg_buf_append(&out, ",", 1))
            p->oom = true;
        if (eq && !(eq - (v + i) == 4 && eq_fold(v + i, 4, "from"))) {
            char *x = expand(p, line, eq + 1, (size_t)(v + j - eq - 1), env, false);
            if (!x || !rmg_buf_append(&out, v + i, (size_t)(eq + 1 - (v + i))) ||
                !rmg_buf_puts(&out, x))
                p->oom = true;
            free(x);
        } else {
            if (eq && has_byte(eq, (size_t)(v + j - eq), '$'))
                warn(p, line, "'from' doesn't support variable expansion, define alias stage "
                              "instead");
            if (!rmg_buf_append(&out, v + i, j - i))
                p->oom = true;
        }
        i = j + 1;
    }
    if (!p->oom && !rmg_buf_append(&out, "", 0))
        p->oom = true;
    return out.data;
}

/* The flags as stored: checked against the instruction's known flags, values expanded where
 * BuildKit expands them. */
static void set_flags(struct parser *p, struct rmg_df_instr *in, struct split *sc,
                      const struct vmap *env)
{
    for (size_t i = 0; i < sc->flags.n && !p->oom; i++) {
        char *f = sc->flags.v[i];
        const char *name = f + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        if (in->kind != RMG_DF_UNKNOWN && !flag_known(in->kind, name, nl))
            warn(p, in->line, "unknown flag: --%.*s", clipn(nl), name);
        if (!eq)
            continue;
        bool exp = false;
        if (in->kind == RMG_DF_COPY || in->kind == RMG_DF_ADD)
            exp = (nl == 5 && (!memcmp(name, "chown", 5) || !memcmp(name, "chmod", 5))) ||
                  (nl == 8 && !memcmp(name, "checksum", 8));
        if (in->kind == RMG_DF_COPY && nl == 4 && !memcmp(name, "from", 4) &&
            strchr(eq, '$'))
            warn(p, in->line, "variable expansion is not supported for --from, define a new "
                              "stage with FROM using ARG from global scope as a workaround");
        char *val = NULL;
        if (exp || (in->kind == RMG_DF_FROM && nl == 8 && !memcmp(name, "platform", 8)))
            val = expand(p, in->line, eq + 1, strlen(eq + 1), env, false);
        else if (in->kind == RMG_DF_RUN && nl == 5 && !memcmp(name, "mount", 5))
            val = expand_mount(p, in->line, eq + 1, env);
        else
            continue;
        struct rmg_buf nf = {0};
        if (!val || !rmg_buf_append(&nf, f, (size_t)(eq + 1 - f)) || !rmg_buf_puts(&nf, val))
            p->oom = true;
        free(val);
        if (p->oom) {
            rmg_buf_free(&nf);
            return;
        }
        free(sc->flags.v[i]);
        sc->flags.v[i] = nf.data;
    }
    in->flags = sc->flags.v;
    in->n_flags = sc->flags.n;
    sc->flags = (struct strv){0};
}

/* parseNameVal: ENV/LABEL pairs as written (`K=V ...`, or legacy `K rest of line`). */
static void name_vals(struct parser *p, struct rmg_df_instr *in, const char *s, size_t n,
                      struct strv *keys, struct strv *vals)
{
    struct strv words = {0};
    parse_words(p, s, n, &words);
    if (p->too_many_words) {
        /* the parse fails: nothing to expand */
    } else if (words.n == 0) {
        warn(p, in->line, "%s requires at least one argument", in->keyword);
    } else if (!strchr(words.v[0], '=')) {
        size_t i = 0;
        while (i < n && !is_ws(s[i]))
            i++;
        size_t j = i;
        while (j < n && is_ws(s[j]))
            j++;
        if (i == n) {
            warn(p, in->line, "%s must have two arguments", in->keyword);
        } else {
            warn(p, in->line, "LegacyKeyValueFormat: \"%s key=value\" should be used instead "
                              "of legacy \"%s key value\" format", in->keyword, in->keyword);
            if (!strv_push(keys, s, i) || !strv_push(vals, s + j, n - j))
                p->oom = true;
        }
    } else {
        for (size_t i = 0; i < words.n && !p->oom; i++) {
            char *eq = strchr(words.v[i], '=');
            if (!eq) {
                warn(p, in->line, "Syntax error - can't find = in \"%.*s\". Must be of the "
                                  "form: name=value", clipn(strlen(words.v[i])), words.v[i]);
                continue;
            }
            if (!strv_push(keys, words.v[i], (size_t)(eq - words.v[i])) ||
                !strv_push(vals, eq + 1, strlen(eq + 1)))
                p->oom = true;
        }
    }
    strv_clear(&words);
}

static void do_env_label(struct parser *p, struct rmg_df_instr *in, const struct split *sc)
{
    struct strv keys = {0}, vals = {0};
    struct kvv kv = {0};
    name_vals(p, in, sc->args, sc->args_len, &keys, &vals);
    struct vmap *scope = cur_scope(p);
    for (size_t i = 0; i < keys.n && !p->oom; i++) {
        if (!keys.v[i][0]) {
            warn(p, in->line, "%s names can not be blank", in->keyword);
            continue;
        }
        char *k = expand(p, in->line, keys.v[i], strlen(keys.v[i]), scope, false);
        char *v = expand(p, in->line, vals.v[i], strlen(vals.v[i]), scope, false);
        kv_push(p, &kv, k, v, true);
    }
    if (in->kind == RMG_DF_ENV) /* all values first saw the variables before the instruction */
        for (size_t i = 0; i < kv.n && !p->oom; i++)
            if (!vmap_set(scope, kv.v[i].key, strlen(kv.v[i].key), kv.v[i].value,
                          strlen(kv.v[i].value), true))
                p->oom = true;
    in->kvs = kv.v;
    in->n_kvs = kv.n;
    strv_clear(&keys);
    strv_clear(&vals);
}

/* ARG: build arg > expanded default > (in a stage) the global value; the default is
 * expanded against the variables so far, one name after the other. */
static void do_arg(struct parser *p, struct rmg_df_instr *in, const struct split *sc)
{
    struct strv words = {0};
    struct kvv kv = {0};
    parse_words(p, sc->args, sc->args_len, &words);
    if (p->too_many_words)
        strv_clear(&words);
    else if (words.n == 0)
        warn(p, in->line, "ARG requires at least one argument");
    bool global = p->df->n_stages == 0;
    struct vmap *scope = global ? &p->global : cur_scope(p);
    for (size_t i = 0; i < words.n && !p->oom; i++) {
        const char *w = words.v[i], *eq = strchr(w, '=');
        size_t kl = eq ? (size_t)(eq - w) : strlen(w);
        if (kl == 0) {
            warn(p, in->line, "ARG names can not be blank");
            continue;
        }
        const struct var *ba = vmap_get(&p->build_args, w, kl);
        char *def = eq ? expand(p, in->line, eq + 1, strlen(eq + 1), scope, ba != NULL) : NULL;
        kv_push(p, &kv, rmg_strndup(w, kl), def, eq != NULL);
        if (p->oom)
            break;
        const char *val = ba ? ba->value : def;
        size_t vl = ba ? ba->vlen : def ? strlen(def) : 0;
        if (global) {
            if (!vmap_set(scope, w, kl, val, vl, val != NULL))
                p->oom = true;
            continue;
        }
        const struct var *g = val ? NULL : vmap_get(&p->global, w, kl);
        if (g && g->has_value) {
            val = g->value;
            vl = g->vlen;
        }
        if (val && !vmap_set(scope, w, kl, val, vl, true))
            p->oom = true;
    }
    in->kvs = kv.v;
    in->n_kvs = kv.n;
    strv_clear(&words);
}

/* `^[a-z][a-z0-9-_\.]*$` */
static bool valid_stage_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("-_.", *s)))
            return false;
    return true;
}

static void do_from(struct parser *p, struct rmg_df_instr *in, struct strv *words)
{
    struct rmg_dockerfile *df = p->df;
    bool named = words->n == 3 && eq_fold(words->v[1], strlen(words->v[1]), "as");
    if (words->n != 1 && !named)
        warn(p, in->line, "FROM requires either one or three arguments");
    const char *raw = words->n ? words->v[0] : "";
    char *base = expand(p, in->line, raw, strlen(raw), &p->global, false);
    /* a name of NUL bytes only is empty as a C string: no name then */
    named = named && words->v[2][0];
    char *name = named ? ascii_case(words->v[2], strlen(words->v[2]), false) : NULL;
    char *lbase = base ? ascii_case(base, strlen(base), false) : NULL;
    if (!base || !lbase || (named && !name) ||
        !grow(&df->stages, &p->cap_stages, df->n_stages + 1, sizeof *df->stages) ||
        !grow(&p->states, &p->cap_states, df->n_stages + 1, sizeof *p->states)) {
        free(base);
        free(name);
        free(lbase);
        p->oom = true;
        return;
    }
    if (words->n && !base[0])
        warn(p, in->line, "base name (%.*s) should not be blank", clipn(strlen(raw)), raw);
    if (name && !valid_stage_name(name))
        warn(p, in->line, "invalid name for build stage: \"%.*s\", name can't start with a "
                          "number or contain symbols", clipn(strlen(name)), name);
    if (name && strcmp(name, words->v[2]) != 0)
        warn(p, in->line, "StageNameCasing: Stage name '%.*s' should be lowercase",
             clipn(strlen(words->v[2])), words->v[2]);
    int base_stage = -1; /* the latest earlier stage of that name */
    for (size_t i = df->n_stages; i-- > 0 && base_stage < 0;)
        if (df->stages[i].name && strcmp(df->stages[i].name, lbase) == 0)
            base_stage = (int)i;
    for (size_t i = 0; name && i < df->n_stages; i++)
        if (df->stages[i].name && strcmp(df->stages[i].name, name) == 0) {
            warn(p, in->line, "DuplicateStageName: Duplicate stage name \"%.*s\", stage names "
                              "should be unique", clipn(strlen(name)), name);
            break;
        }
    free(lbase);
    size_t idx = df->n_stages;
    struct stage_state *st = &p->states[idx];
    *st = (struct stage_state){0};
    const char *wd = "/";
    if (base_stage >= 0) {
        const struct stage_state *bs = &p->states[base_stage];
        if (!charge(p, bs->scope.bytes))
            budget_warning(p, in->line);
        else if (!vmap_copy(&st->scope, &bs->scope))
            p->oom = true;
        wd = bs->workdir;
        st->abs_workdir = bs->abs_workdir;
    }
    st->workdir = rmg_strdup(wd);
    if (!st->workdir)
        p->oom = true;
    df->stages[idx] = (struct rmg_df_stage){name, base, base_stage, in->line};
    df->n_stages++;
    in->stage = (int)idx;
    /* args: the image expanded, then AS name as written */
    if (words->n) {
        free(words->v[0]);
        if (!(words->v[0] = rmg_strdup(base)))
            p->oom = true;
    }
}

/* Go's path.Clean of a rooted path. */
static char *clean_path(const char *s, size_t n)
{
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t w = 1, r = 0;
    out[0] = '/';
    while (r < n) {
        if (s[r] == '/') {
            r++;
        } else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
            r++;
        } else if (s[r] == '.' && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
            r += 2;
            if (w > 1)
                for (w--; w > 1 && out[w] != '/'; w--)
                    ;
        } else {
            if (w != 1)
                out[w++] = '/';
            for (; r < n && s[r] != '/'; r++)
                out[w++] = s[r];
        }
    }
    out[w] = '\0';
    return out;
}

static bool is_abs_path(const char *s)
{
    return s[0] == '/' || (((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':' &&
                           (s[2] == '\\' || s[2] == '/'));
}

static void do_workdir(struct parser *p, struct rmg_df_instr *in)
{
    if (!p->df->n_stages || in->n_args != 1)
        return;
    struct stage_state *st = &p->states[p->df->n_stages - 1];
    const char *wd = in->args[0];
    char *nw;
    if (is_abs_path(wd)) {
        nw = rmg_strdup(wd);
        st->abs_workdir = true;
    } else {
        if (!st->abs_workdir)
            warn(p, in->line, "WorkdirRelativePath: Relative workdir \"%.*s\" can have "
                              "unexpected results if the base image changes",
                 clipn(strlen(wd)), wd);
        struct rmg_buf j = {0};
        if (!rmg_buf_puts(&j, st->workdir) || !rmg_buf_puts(&j, "/") || !rmg_buf_puts(&j, wd)) {
            rmg_buf_free(&j);
            p->oom = true;
            return;
        }
        nw = clean_path(j.data, j.len);
        rmg_buf_free(&j);
    }
    if (!nw) {
        p->oom = true;
        return;
    }
    free(st->workdir);
    st->workdir = nw;
}

static const char *suggest(const char *s, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (int k = 0; k < RMG_DF_UNKNOWN; k++) {
        const char *c = kind_names[k];
        size_t m = strlen(c), prev[16], cur[16];
        if (n > 12)
            return NULL;
        for (size_t j = 0; j <= m; j++)
            prev[j] = j;
        for (size_t i = 1; i <= n; i++) {
            cur[0] = i;
            for (size_t j = 1; j <= m; j++) {
                char a = s[i - 1];
                if (a >= 'a' && a <= 'z')
                    a = (char)(a - 'a' + 'A');
                size_t d = prev[j - 1] + (a != c[j - 1]);
                if (prev[j] + 1 < d)
                    d = prev[j] + 1;
                if (cur[j - 1] + 1 < d)
                    d = cur[j - 1] + 1;
                cur[j] = d;
            }
            memcpy(prev, cur, sizeof cur);
        }
        if (prev[m] < best_d) {
            best_d = prev[m];
            best = c;
        }
    }
    return best;
}

static struct rmg_df_instr *new_instr(struct parser *p)
{
    struct rmg_dockerfile *df = p->df;
    if (!grow(&df->instrs, &p->cap_instrs, df->n_instrs + 1, sizeof *df->instrs)) {
        p->oom = true;
        return NULL;
    }
    struct rmg_df_instr *in = &df->instrs[df->n_instrs++];
    *in = (struct rmg_df_instr){0};
    return in;
}

/* One logical line: the instruction, its heredocs (consuming their lines), its semantics. */
static void handle_instruction(struct parser *p, const char *line, size_t n, unsigned start)
{
    if (p->df->n_instrs >= RMG_DF_MAX_INSTRS) {
        p->too_many = true;
        return;
    }
    struct split sc;
    split_command(p, line, n, &sc);
    struct rmg_df_instr *in = new_instr(p);
    if (!in) {
        strv_clear(&sc.flags);
        return;
    }
    in->kind = kind_of(sc.name, sc.name_len);
    in->keyword = ascii_case(sc.name, sc.name_len, true);
    in->line = in->end_line = start;
    const char *t = line;
    size_t tn = n;
    trim_space(&t, &tn);
    in->text = rmg_strndup(t, tn);
    in->stage = (int)p->df->n_stages - 1;
    if (!in->keyword || !in->text) {
        p->oom = true;
        strv_clear(&sc.flags);
        return;
    }
    const char *kw = in->keyword;

    /* arguments as the line parsers give them */
    struct strv args = {0};
    bool heredoc_ok = false;
    switch (in->kind) {
    case RMG_DF_ADD: case RMG_DF_COPY: case RMG_DF_VOLUME:
        in->json_form = parse_args(p, start, kw, sc.args, sc.args_len, true, &args);
        heredoc_ok = in->kind != RMG_DF_VOLUME && !in->json_form;
        break;
    case RMG_DF_RUN: case RMG_DF_CMD: case RMG_DF_ENTRYPOINT: case RMG_DF_SHELL:
        in->json_form = parse_args(p, start, kw, sc.args, sc.args_len, false, &args);
        heredoc_ok = in->kind == RMG_DF_RUN && !in->json_form;
        break;
    case RMG_DF_FROM: case RMG_DF_EXPOSE:
        ws_split(p, sc.args, sc.args_len, &args);
        break;
    case RMG_DF_HEALTHCHECK: {
        size_t sep = 0;
        while (sep < sc.args_len && !is_byte_space((unsigned char)sc.args[sep]))
            sep++;
        size_t next = sep;
        while (next < sc.args_len && is_byte_space((unsigned char)sc.args[next]))
            next++;
        if (sep && !strv_push(&args, sc.args, sep))
            p->oom = true;
        struct strv cmd = {0};
        if (sep)
            in->json_form = parse_args(p, start, kw, sc.args + next, sc.args_len - next, false,
                                       &cmd);
        for (size_t i = 0; i < cmd.n && !p->oom; i++)
            if (!strv_push(&args, cmd.v[i], strlen(cmd.v[i])))
                p->oom = true;
        strv_clear(&cmd);
        break;
    }
    case RMG_DF_ENV: case RMG_DF_LABEL: case RMG_DF_ARG:
        break;
    case RMG_DF_ONBUILD: {
        struct split sub;
        split_command(p, sc.args, sc.args_len, &sub);
        enum rmg_df_kind sk = kind_of(sub.name, sub.name_len);
        if (sc.args_len == 0)
            warn(p, start, "ONBUILD requires at least one argument");
        else if (sk == RMG_DF_ONBUILD)
            warn(p, start, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        else if (sk == RMG_DF_FROM || sk == RMG_DF_MAINTAINER)
            warn(p, start, "%s isn't allowed as an ONBUILD trigger", kind_names[sk]);
        if (sk == RMG_DF_RUN || sk == RMG_DF_COPY || sk == RMG_DF_ADD) {
            struct strv tmp = {0};
            int j = parse_json(p, sub.args, sub.args_len, &tmp);
            heredoc_ok = j != 1;
            strv_clear(&tmp);
        }
        strv_clear(&sub.flags);
        if (sc.args_len && !strv_push(&args, sc.args, sc.args_len))
            p->oom = true;
        break;
    }
    default:
        if (sc.args_len && !strv_push(&args, sc.args, sc.args_len))
            p->oom = true;
        break;
    }
    if (p->too_many_words) {
        strv_clear(&args);
        strv_clear(&sc.flags);
        return;
    }
    if (heredoc_ok && !p->oom && has_pair(line, n, '<', '<'))
        read_heredocs(p, in, line, n);
    in->end_line = p->line;

    /* where it is, and what BuildKit expands */
    if (in->kind == RMG_DF_UNKNOWN) {
        const char *s = suggest(sc.name, sc.name_len);
        char *ls = s ? ascii_case(s, strlen(s), false) : NULL;
        if (ls)
            warn(p, start, "unknown instruction: %.*s (did you mean %s?)", clipn(sc.name_len),
                 sc.name, ls);
        else
            warn(p, start, "unknown instruction: %.*s", clipn(sc.name_len), sc.name);
        free(ls);
    } else if (!p->df->n_stages && in->kind != RMG_DF_ARG && in->kind != RMG_DF_FROM) {
        warn(p, start, "%s: no build stage in current context (only ARG may come before the "
                       "first FROM)", kw);
    }
    if (in->kind == RMG_DF_FROM && !p->oom)
        do_from(p, in, &args);
    struct vmap *scope = in->kind == RMG_DF_FROM ? &p->global : cur_scope(p);
    set_flags(p, in, &sc, scope);
    strv_clear(&sc.flags);
    switch (in->kind) {
    case RMG_DF_ENV: case RMG_DF_LABEL:
        do_env_label(p, in, &sc);
        break;
    case RMG_DF_ARG:
        do_arg(p, in, &sc);
        break;
    case RMG_DF_ADD: case RMG_DF_COPY:
        if (args.n < 2)
            warn(p, start, "%s requires at least two arguments, but only one was provided. "
                           "Destination could not be determined", kw);
        for (size_t i = 0; i < args.n && !p->oom; i++) {
            struct rmg_buf hn = {0};
            bool chomp, exp;
            int h = heredoc_word(p, args.v[i], strlen(args.v[i]), &hn, &chomp, &exp);
            rmg_buf_free(&hn);
            if (h == 1 && i + 1 == args.n)
                warn(p, start, "%s cannot accept a heredoc as a destination", kw);
            if (h == 1 && i + 1 < args.n)
                continue; /* heredoc sources are content, not paths */
            char *x = expand(p, start, args.v[i], strlen(args.v[i]), scope, false);
            free(args.v[i]);
            args.v[i] = x;
        }
        break;
    case RMG_DF_VOLUME: case RMG_DF_USER: case RMG_DF_WORKDIR: case RMG_DF_STOPSIGNAL:
        if (args.n == 0 || (in->kind != RMG_DF_VOLUME && args.n != 1))
            warn(p, start, "%s requires %s argument", kw,
                 in->kind == RMG_DF_VOLUME ? "at least one" : "exactly one");
        for (size_t i = 0; i < args.n && !p->oom; i++) {
            char *x = expand(p, start, args.v[i], strlen(args.v[i]), scope, false);
            free(args.v[i]);
            args.v[i] = x;
        }
        break;
    case RMG_DF_EXPOSE: {
        struct strv ports = {0};
        if (args.n == 0)
            warn(p, start, "EXPOSE requires at least one argument");
        for (size_t i = 0; i < args.n && !p->oom; i++)
            expand_words(p, start, args.v[i], strlen(args.v[i]), scope, &ports);
        strv_clear(&args);
        args = ports;
        break;
    }
    case RMG_DF_CMD: case RMG_DF_ENTRYPOINT:
        if (!in->json_form && args.n)
            warn(p, start, "JSONArgsRecommended: JSON arguments recommended for %s to prevent "
                           "unintended behavior related to OS signals", kw);
        break;
    case RMG_DF_SHELL:
        if (!in->json_form)
            warn(p, start, "SHELL requires the arguments to be in JSON form");
        break;
    case RMG_DF_MAINTAINER:
        warn(p, start, "MaintainerDeprecated: Maintainer instruction is deprecated in favor of "
                       "using label");
        break;
    case RMG_DF_HEALTHCHECK:
        if (args.n == 0)
            warn(p, start, "HEALTHCHECK requires at least one argument");
        else if (eq_fold(args.v[0], strlen(args.v[0]), "none") && args.n > 1)
            warn(p, start, "HEALTHCHECK NONE takes no arguments");
        else if (!eq_fold(args.v[0], strlen(args.v[0]), "none") &&
                 !eq_fold(args.v[0], strlen(args.v[0]), "cmd"))
            warn(p, start, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)",
                 clipn(strlen(args.v[0])), args.v[0]);
        break;
    default:
        break;
    }
    in->args = args.v;
    in->n_args = args.n;
    if (in->kind == RMG_DF_WORKDIR && !p->oom)
        do_workdir(p, in);
    if (p->df->n_stages && !p->oom) {
        in->workdir = rmg_strdup(p->states[p->df->n_stages - 1].workdir);
        if (!in->workdir)
            p->oom = true;
    }
}

/* parser.Parse's loop over physical lines. */
static void parse_lines(struct parser *p)
{
    const char *raw;
    size_t full;
    while (!p->oom && !p->too_many && !p->too_many_words && next_line(p, &raw, &full)) {
        const char *s = raw;
        size_t n = full;
        if (p->line == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
        trim_newline(s, &n);
        trim_left(&s, &n);
        directive_check(p, s, n, p->line + 1);
        p->line++;
        check_length(p, n);
        unsigned start = p->line;
        if (n && s[0] == '#')
            continue; /* a comment (or a directive) */
        bool cont = trim_continuation(p, s, &n);
        if (!cont && n == 0)
            continue;
        struct rmg_buf logical = {0};
        bool empty_cont = false;
        if (!rmg_buf_append(&logical, s, n))
            p->oom = true;
        while (cont && !p->oom && next_line(p, &raw, &full)) {
            s = raw;
            n = full;
            trim_newline(s, &n);
            directive_check(p, s, n, p->line + 1);
            p->line++;
            check_length(p, n);
            if (is_comment_line(s, n))
                continue;
            const char *b = s;
            size_t bn = n;
            trim_left(&b, &bn);
            if (bn == 0) {
                empty_cont = true;
                continue;
            }
            cont = trim_continuation(p, s, &n);
            if (!rmg_buf_append(&logical, s, n))
                p->oom = true;
        }
        if (empty_cont)
            warn(p, p->line, "NoEmptyContinuation: Empty continuation line found in: %.*s",
                 clipn(logical.len), logical.data);
        if (!p->oom)
            handle_instruction(p, logical.data, logical.len, start);
        rmg_buf_free(&logical);
    }
}

/* After the whole file: what needs every stage known. */
static void check_references(struct parser *p)
{
    struct rmg_dockerfile *df = p->df;
    if (df->n_instrs == 0)
        warn(p, 0, "the Dockerfile cannot be empty");
    else if (df->n_stages == 0)
        warn(p, 0, "dockerfile contains no stages to build");
    for (size_t i = 0; i < df->n_instrs; i++) {
        const struct rmg_df_instr *in = &df->instrs[i];
        if (in->kind != RMG_DF_COPY || in->stage < 0)
            continue;
        for (size_t f = 0; f < in->n_flags; f++) {
            const char *v = in->flags[f];
            if (strncmp(v, "--from=", 7) != 0 || !v[7] || strchr(v, '$'))
                continue;
            v += 7;
            int ref = rmg_dockerfile_stage_ref(df, v);
            const char *d = v + (*v == '+' || *v == '-');
            bool numeric = *d && strspn(d, "0123456789") == strlen(d);
            if (numeric && ref < 0)
                warn(p, in->line, "invalid stage index %.*s", clipn(strlen(v)), v);
            else if (ref >= in->stage)
                warn(p, in->line, "cannot copy from stage \"%.*s\", it needs to be defined "
                                  "before current stage", clipn(strlen(v)), v);
        }
    }
}

/* ---- public API ------------------------------------------------------------------------------ */

const char *rmg_df_kind_name(enum rmg_df_kind kind)
{
    return (unsigned)kind <= RMG_DF_UNKNOWN ? kind_names[kind] : "UNKNOWN";
}

void rmg_dockerfile_free(struct rmg_dockerfile *df)
{
    if (!df)
        return;
    for (size_t i = 0; i < df->n_instrs; i++) {
        struct rmg_df_instr *in = &df->instrs[i];
        free(in->keyword);
        free(in->text);
        rmg_strv_free(in->flags, in->n_flags);
        rmg_strv_free(in->args, in->n_args);
        for (size_t k = 0; k < in->n_kvs; k++) {
            free(in->kvs[k].key);
            free(in->kvs[k].value);
        }
        free(in->kvs);
        for (size_t h = 0; h < in->n_heredocs; h++) {
            free(in->heredocs[h].name);
            free(in->heredocs[h].body);
        }
        free(in->heredocs);
        free(in->workdir);
    }
    free(df->instrs);
    for (size_t i = 0; i < df->n_stages; i++) {
        free(df->stages[i].name);
        free(df->stages[i].base);
    }
    free(df->stages);
    for (size_t i = 0; i < df->n_warnings; i++)
        free(df->warnings[i].message);
    free(df->warnings);
    free(df);
}

int rmg_dockerfile_final_stage(const struct rmg_dockerfile *df)
{
    return df && df->n_stages ? (int)df->n_stages - 1 : -1;
}

int rmg_dockerfile_stage_ref(const struct rmg_dockerfile *df, const char *from)
{
    if (!df || !from || !*from)
        return -1;
    const char *d = from + (*from == '+' || *from == '-');
    if (*d && strspn(d, "0123456789") == strlen(d)) {
        errno = 0;
        char *end;
        long long v = strtoll(from, &end, 10);
        if (errno || *end || v < 0 || (unsigned long long)v >= df->n_stages)
            return -1;
        return (int)v;
    }
    for (size_t i = df->n_stages; i-- > 0;)
        if (df->stages[i].name && eq_fold(from, strlen(from), df->stages[i].name))
            return (int)i;
    return -1;
}

const struct rmg_df_heredoc *rmg_dockerfile_heredoc_source(const struct rmg_df_instr *in,
                                                           size_t i)
{
    if (!in || (in->kind != RMG_DF_COPY && in->kind != RMG_DF_ADD) || i + 1 >= in->n_args)
        return NULL;
    struct rmg_dockerfile df = {0};
    struct parser p = {.df = &df, .budget = EXPAND_BUDGET, .escape = '\\'};
    struct rmg_buf name = {0};
    bool chomp, expand;
    const struct rmg_df_heredoc *r = NULL;
    if (heredoc_word(&p, in->args[i], strlen(in->args[i]), &name, &chomp, &expand) == 1)
        for (size_t h = 0; h < in->n_heredocs && !r; h++)
            if (strcmp(in->heredocs[h].name, name.data) == 0)
                r = &in->heredocs[h];
    rmg_buf_free(&name);
    for (size_t w = 0; w < df.n_warnings; w++)
        free(df.warnings[w].message);
    free(df.warnings);
    return r;
}

enum rmg_status rmg_dockerfile_parse(const char *text, size_t len, const char *origin,
                                     char *const *build_args, size_t n_build_args,
                                     struct rmg_dockerfile **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!origin)
        origin = "Dockerfile";
    if (len > RMG_DF_MAX_TEXT) {
        rmg_fmt(err, errlen, "%s: Dockerfile larger than %u bytes", origin, RMG_DF_MAX_TEXT);
        return RMG_EINPUT;
    }
    struct rmg_dockerfile *df = calloc(1, sizeof *df);
    if (!df) {
        rmg_fmt(err, errlen, "%s: out of memory", origin);
        return RMG_ENOMEM;
    }
    df->escape = '\\';
    struct parser p = {.src = text ? text : "", .len = text ? len : 0, .escape = '\\',
                       .df = df, .budget = EXPAND_BUDGET};
    for (size_t i = 0; i < n_build_args && !p.oom; i++) {
        const char *a = build_args[i], *eq = a ? strchr(a, '=') : NULL;
        if (eq && !vmap_set(&p.build_args, a, (size_t)(eq - a), eq + 1, strlen(eq + 1), true))
            p.oom = true;
    }
    for (size_t i = 0; i < sizeof auto_args / sizeof *auto_args && !p.oom; i++) {
        const struct var *v = vmap_get(&p.build_args, auto_args[i], strlen(auto_args[i]));
        if (v && !vmap_set(&p.global, v->name, v->nlen, v->value, v->vlen, true))
            p.oom = true;
    }
    if (!p.oom)
        parse_lines(&p);
    if (!p.oom && !p.too_many && !p.too_many_words)
        check_references(&p);
    for (size_t i = 0; i < df->n_stages; i++) {
        vmap_free(&p.states[i].scope);
        free(p.states[i].workdir);
    }
    free(p.states);
    vmap_free(&p.build_args);
    vmap_free(&p.global);
    vmap_free(&p.pre);
    if (p.oom) {
        rmg_dockerfile_free(df);
        rmg_fmt(err, errlen, "%s: out of memory", origin);
        return RMG_ENOMEM;
    }
    if (p.too_many || p.too_many_words) {
        rmg_dockerfile_free(df);
        rmg_fmt(err, errlen, "%s: more than %d %s", origin,
                p.too_many ? RMG_DF_MAX_INSTRS : RMG_DF_MAX_WORDS,
                p.too_many ? "instructions" : "words");
        return RMG_EINPUT;
    }
    *out = df;
    return df->n_warnings ? RMG_WARN : RMG_OK;
}
