/* dockerfile_lex.c: the shell lexer, a port of BuildKit's shell/lex.go (see
 * dockerfile_lex.h): quotes, escapes, $VAR and ${VAR...} expansion.
 *
 * DESIGN. One walk over a word gives both ProcessWord (the expanded text) and ProcessWords
 * (the same split into words where unquoted spaces and expanded values split). The shell
 * patterns of ${v#p} ${v%p} ${v/p/r} run as a small automaton over the value's runes instead
 * of a translated regexp. Every variable value copied into a word and every pattern step is
 * charged to the parse's budget, one expanded word is at most MAX_VALUE bytes and ${...} nests
 * at most LEX_MAX_DEPTH deep; past a limit the lexer fails "hard" and the caller keeps the
 * word as written.
 *
 * Known differences, all in corners: non-ASCII letters in variable names are approximated
 * (unicode.IsLetter for the common scripts), invalid UTF-8 passes through instead of becoming
 * U+FFFD, `${v/p/r}` takes the longest match at the leftmost start, and its replacement is
 * literal (Go's ReplaceAllString would expand `$1`). */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile_lex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_text.h"
#include "common/util.h"

#define MAX_VALUE (1u << 20) /* bytes of one expanded word */
#define LEX_MAX_DEPTH 64

static void words_raw(struct rmg_df_words *w, const char *s, size_t n)
{
    if (!rmg_buf_append(&w->buf, s, n))
        w->oom = true;
    w->in_word = true;
}

static void words_push(struct rmg_df_words *w)
{
    if (!rmg_df_strv_push(&w->list, w->buf.data, w->buf.len))
        w->oom = true;
    w->buf.len = 0;
    w->buf.data[0] = '\0';
}

static void words_char(struct rmg_df_words *w, const char *c, size_t n, bool space)
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
static void words_string(struct rmg_df_words *w, const char *s, size_t n)
{
    for (size_t i = 0, l; i < n; i += l) {
        uint32_t c = rmg_df_decode(s + i, n - i, &l);
        words_char(w, s + i, l, rmg_df_is_uspace(c));
    }
}

static void words_end(struct rmg_df_words *w)
{
    if (w->buf.len)
        words_push(w);
}

void rmg_df_words_free(struct rmg_df_words *w)
{
    rmg_df_strv_clear(&w->list);
    rmg_buf_free(&w->buf);
}

static bool lex_fail(struct rmg_df_lexer *lx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool lex_fail(struct rmg_df_lexer *lx, const char *fmt, ...)
{
    if (lx->err[0])
        return false; /* keep the first (innermost) message */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err, sizeof lx->err, fmt, ap);
    va_end(ap);
    return false;
}

static bool lex_hard(struct rmg_df_lexer *lx, const char *msg)
{
    lx->hard = true;
    lx->err[0] = '\0';
    return lex_fail(lx, "%s", msg);
}

static bool put(struct rmg_df_lexer *lx, struct rmg_buf *out, const char *s, size_t n)
{
    if (!rmg_buf_append(out, s, n)) {
        lx->p->oom = true;
        return lex_hard(lx, "out of memory");
    }
    if (out->len > MAX_VALUE)
        return lex_hard(lx, "expanded value too long");
    return true;
}

static bool lex_budget(struct rmg_df_lexer *lx)
{
    lx->budget = true;
    return lex_hard(lx, "expansion budget exhausted");
}

/* A variable's value into a word: charged to the budget. */
static bool put_value(struct rmg_df_lexer *lx, struct rmg_buf *out, const char *s, size_t n)
{
    if (!rmg_df_charge(lx->p, n))
        return lex_budget(lx);
    return put(lx, out, s, n);
}

static size_t rune_len(const struct rmg_df_lexer *lx)
{
    size_t l = rmg_utf8_seq_len((const unsigned char *)lx->s + lx->i, lx->n - lx->i);
    return l ? l : 1;
}

/* The next character if ASCII, 0x100 for any other (consumed whole), -1 at the end. */
static int lex_next_ascii(struct rmg_df_lexer *lx)
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

static bool env_get(const struct rmg_df_lexer *lx, const char *name, size_t n, const char **v,
                    size_t *vl)
{
    const struct rmg_df_var *x = rmg_df_vmap_get(lx->env, name, n);
    if (!x)
        return false;
    *v = x->value;
    *vl = x->vlen;
    return true;
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

/* processName: digits, one special parameter, or letters/digits/_ . */
static void lex_name(struct rmg_df_lexer *lx, size_t *start, size_t *len)
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
            uint32_t c = rmg_df_decode(lx->s + lx->i, lx->n - lx->i, &l);
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

static bool glob_compile(struct rmg_df_lexer *lx, const char *pat, size_t n, struct gtok **out,
                         size_t *m)
{
    struct gtok *t = NULL;
    size_t cap = 0, k = 0;
    for (size_t i = 0, l; i < n; i += l) {
        rmg_df_decode(pat + i, n - i, &l);
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
                                rmg_df_clipn(n), pat);
            }
            i++;
            g.lit = pat + i;
            g.len = 1;
        }
        if (!rmg_grow(&t, &cap, k + 1, sizeof *t)) {
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
static bool glob_run(struct rmg_df_lexer *lx, const struct gtok *t, size_t m, const char *v,
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
        if (!rmg_df_charge(lx->p, m + 1))
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
static bool glob_apply(struct rmg_df_lexer *lx, char op, bool greedy, const char *pat, size_t pn,
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
        rmg_df_decode(v + i, vn - i, &l);
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

static bool lex_stop_on(struct rmg_df_lexer *lx, int stop, bool raw_escapes, struct rmg_buf *out,
                        struct rmg_df_words *w);

static bool lex_single_quote(struct rmg_df_lexer *lx, struct rmg_buf *out)
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

static bool lex_dollar(struct rmg_df_lexer *lx, struct rmg_buf *out);

static bool lex_double_quote(struct rmg_df_lexer *lx, struct rmg_buf *out)
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
static bool put_unset(struct rmg_df_lexer *lx, struct rmg_buf *out, const char *name, size_t nl,
                      const char *mod, const char *word, size_t wl)
{
    return put(lx, out, "${", 2) && put(lx, out, name, nl) && put(lx, out, mod, strlen(mod)) &&
           put(lx, out, word, wl) && put(lx, out, "}", 1);
}

static bool lex_dollar(struct rmg_df_lexer *lx, struct rmg_buf *out)
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
                ok = wl ? lex_fail(lx, "%.*s: %.*s", rmg_df_clipn(nl), name, rmg_df_clipn(wl), wd)
                        : lex_fail(lx, "%.*s: is not allowed to be %s", rmg_df_clipn(nl), name,
                                   set ? "empty" : "unset");
            else
                ok = put_value(lx, out, v, vl);
        } else if (ch == '#' || ch == '%') {
            bool greedy = wl > 0 && wd[0] == (char)ch;
            ok = rmg_df_charge(lx->p, vl) ? glob_apply(lx, (char)ch, greedy, wd + greedy,
                                                       wl - greedy, v, vl, NULL, 0, out)
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
                ok = rmg_df_charge(lx->p, vl) ? glob_apply(lx, all ? 'A' : '/', true, pd,
                                                           pat.len, v, vl, rd, repl.len, out)
                                              : lex_budget(lx);
            }
        }
        rmg_buf_free(&pat);
        rmg_buf_free(&repl);
        return ok;
    }
    return lex_fail(lx, "unsupported modifier (%s) in substitution", mod);
}

static bool lex_stop_on(struct rmg_df_lexer *lx, int stop, bool raw_escapes, struct rmg_buf *out,
                        struct rmg_df_words *w)
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
            words_char(w, ch, l, rmg_df_is_uspace(rmg_df_decode(ch, l, &dl)));
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

bool rmg_df_lex_run(struct rmg_df_lexer *lx, const char *s, size_t n, struct rmg_buf *out,
                    struct rmg_df_words *w)
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

void rmg_df_lex_init(struct rmg_df_lexer *lx, struct rmg_df_parser *p, char esc,
                     const struct rmg_df_vmap *env)
{
    *lx = (struct rmg_df_lexer){.p = p, .esc = esc, .env = env};
}

/* The failure of an expansion as a warning (a limit: once). */
static void lex_warning(struct rmg_df_parser *p, unsigned line, const struct rmg_df_lexer *lx,
                        const char *s, size_t n)
{
    if (p->oom)
        return;
    if (lx->budget)
        rmg_df_budget_warning(p, line);
    else
        rmg_df_warn(p, line, "failed to process \"%.*s\": %s", rmg_df_clipn(n), s, lx->err);
}

char *rmg_df_expand(struct rmg_df_parser *p, unsigned line, const char *s, size_t n,
                    const struct rmg_df_vmap *env, bool quiet)
{
    struct rmg_df_lexer lx;
    rmg_df_lex_init(&lx, p, p->escape, env);
    struct rmg_buf out = {0};
    char *r;
    if (rmg_df_lex_run(&lx, s, n, &out, NULL)) {
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

void rmg_df_expand_words(struct rmg_df_parser *p, unsigned line, const char *s, size_t n,
                         const struct rmg_df_vmap *env, struct rmg_df_strv *out)
{
    struct rmg_df_lexer lx;
    rmg_df_lex_init(&lx, p, p->escape, env);
    struct rmg_buf res = {0};
    struct rmg_df_words w = {0};
    if (rmg_df_lex_run(&lx, s, n, &res, &w)) {
        for (size_t i = 0; i < w.list.n && !p->oom && rmg_df_count_word(p); i++)
            if (!rmg_df_strv_push(out, w.list.v[i], strlen(w.list.v[i])))
                p->oom = true;
    } else {
        lex_warning(p, line, &lx, s, n);
        if (!p->oom && !rmg_df_strv_push(out, s, n))
            p->oom = true;
    }
    rmg_buf_free(&res);
    rmg_df_words_free(&w);
}
