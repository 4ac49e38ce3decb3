/* regex_width.h: what can be known of a rule regex before scanning, shared by the build-time
 * embed tool and the rule compiler so both compute the same figures: its longest match
 * (Vectorscan's analysis), how the prefilter database is made of the rules (keywords
 * deduplicated), and where a keyword must sit in a match. Header-only because the embed tool
 * is built without the library.
 *
 * DESIGN (keywords in a match). A keyword is found at its end e. The span (the longest match)
 * always bounds where a match holding it starts, but most keywords sit near the start of a
 * match: `[A-Za-z0-9_.-]{0,40}?(?:secret|token|api[_.-]?key)...` holds "secret", "token" or
 * "key" within its first 54 bytes, against a span of 323. rmg_keyword_reach proves such a
 * bound from the pattern's text: it walks each top-level alternative, following for every
 * possible path the literal bytes matched so far (literals, small classes, groups, optional
 * parts), to the first item by whose end every path holds a keyword; Vectorscan then measures
 * the longest match of the regex's text up to that item (a group cut to its alternatives'
 * prefixes). rmg_keyword_follow goes on from that item, through items of bounded width, to one
 * that must begin with a byte of a small set (an assignment's `=` or `:`): a keyword with no
 * such byte after it cannot be in a match. rmg_keyword_lead reads the one-byte negative
 * lookbehinds a regex opens with: for a rule whose keywords are where its matches start, a
 * keyword after such a byte cannot start a match. rmg_keyword_tail walks on past the keyword
 * (with the same steps up to it, so it speaks of the same keyword in a match): the set of each
 * byte a match must have right after it, and a near set of punctuation further on (the `>` of
 * `<password>`). Each gives up (no claim, the engine uses the
 * span and no filter) on anything it does not follow: \Q..\E, recursion, verbs, extended
 * mode, conditionals, backreferences before the keyword. scanner.c (candidate) applies them;
 * tests/unit/test_engine.c checks every built-in rule's matches against them. */
#ifndef RMG_REGEX_WIDTH_H
#define RMG_REGEX_WIDTH_H

#include <ctype.h>
#include <hs.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Rules without keywords whose regex is at most this wide are found by their regex, compiled
 * in prefilter mode; wider ones are slow to compile there and are scanned in full. */
#define RMG_PREFILTER_MAX_WIDTH 4096u

/* UINT_MAX: unbounded; 0: Vectorscan cannot analyse the regex. Thread-safe. */
static inline unsigned rmg_regex_width(const char *regex)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    if (hs_expression_info(regex, HS_FLAG_PREFILTER, &info, &ce) != HS_SUCCESS) {
        hs_free_compile_error(ce);
        return 0;
    }
    unsigned width = info->max_width;
    free(info);
    return width;
}

/* ---- the prefilter database ----------------------------------------------------------- */

/* The platform the built-in database is compiled for at build time: this machine's, AVX2 at
 * most, so that it also loads under valgrind (which has no AVX-512) and on any AVX2 machine;
 * a database for features the running CPU lacks is refused at load (rules.c compiles one at
 * start-up then). Measured: no slower than a database for AVX-512 on an AVX-512 machine. */
static inline void rmg_hs_platform(hs_platform_info_t *p)
{
    if (hs_populate_platform(p) != HS_SUCCESS)
        memset(p, 0, sizeof *p);
    p->cpu_features &= HS_CPU_FEATURES_AVX2;
    p->tune = HS_TUNE_FAMILY_GENERIC;
}

/* A rule as the prefilter database sees it. */
struct rmg_hs_rule {
    const char *regex;
    char *const *keywords; /* lower-case */
    size_t n_keywords;
    bool regex_mode;       /* its regex in prefilter mode, not its keywords */
    bool skip;             /* not in this database */
};

/* Ids from here on are rules found by their regex (rule id - RMG_HS_REGEX_ID); below, a
 * keyword, selecting the rules kw_rules[kw_start[id] .. kw_start[id + 1]). */
#define RMG_HS_REGEX_ID 0x40000000u

/* The expressions of a prefilter database, for hs_compile_multi. A keyword shared by several
 * rules (the generic rules share "key", "secret", "token", "pass") is one expression: each
 * report costs Vectorscan a few hundred instructions. */
struct rmg_hs_plan {
    const char **exprs;
    char **owned;
    unsigned *flags, *ids;
    size_t n;
    unsigned *kw_start, *kw_rules; /* n_kw + 1 offsets; the rules, in order */
    size_t n_kw, n_kw_rules;
};

static inline void rmg_hs_plan_free(struct rmg_hs_plan *p)
{
    for (size_t i = 0; p->owned && i < p->n; i++)
        free(p->owned[i]);
    free(p->owned);
    free(p->exprs);
    free(p->flags);
    free(p->ids);
    free(p->kw_start);
    free(p->kw_rules);
    memset(p, 0, sizeof *p);
}

/* Plans the database of rules[0, n) (ids relative to rules). False on out of memory. */
static inline bool rmg_hs_plan_make(struct rmg_hs_plan *p, const struct rmg_hs_rule *rules,
                                    size_t n)
{
    memset(p, 0, sizeof *p);
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++)
        pairs += rules[i].skip ? 0 : rules[i].regex_mode ? 1 : rules[i].n_keywords;
    size_t cap = pairs ? pairs : 1;
    unsigned *pair_kw = (unsigned *)calloc(cap, sizeof *pair_kw);
    unsigned *pair_rule = (unsigned *)calloc(cap, sizeof *pair_rule);
    const char **kw_text = (const char **)calloc(cap, sizeof *kw_text);
    p->exprs = (const char **)calloc(cap, sizeof *p->exprs);
    p->owned = (char **)calloc(cap, sizeof *p->owned);
    p->flags = (unsigned *)calloc(cap, sizeof *p->flags);
    p->ids = (unsigned *)calloc(cap, sizeof *p->ids);
    bool ok = pair_kw && pair_rule && kw_text && p->exprs && p->owned && p->flags && p->ids;
    size_t n_pairs = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (rules[i].skip)
            continue;
        if (rules[i].regex_mode) {
            p->exprs[p->n] = rules[i].regex;
            p->flags[p->n] = HS_FLAG_PREFILTER;
            p->ids[p->n++] = RMG_HS_REGEX_ID + (unsigned)i;
            continue;
        }
        for (size_t k = 0; k < rules[i].n_keywords; k++) {
            const char *kw = rules[i].keywords[k];
            size_t id = 0;
            while (id < p->n_kw && strcmp(kw_text[id], kw) != 0)
                id++;
            if (id == p->n_kw)
                kw_text[p->n_kw++] = kw;
            bool dup = false; /* the same keyword twice in one rule */
            for (size_t q = n_pairs; !dup && q-- > 0 && pair_rule[q] == (unsigned)i;)
                dup = pair_kw[q] == (unsigned)id;
            if (!dup) {
                pair_kw[n_pairs] = (unsigned)id;
                pair_rule[n_pairs++] = (unsigned)i;
            }
        }
    }
    p->kw_start = (unsigned *)calloc(p->n_kw + 1, sizeof *p->kw_start);
    p->kw_rules = (unsigned *)calloc(n_pairs ? n_pairs : 1, sizeof *p->kw_rules);
    ok = ok && p->kw_start && p->kw_rules;
    for (size_t q = 0; ok && q < n_pairs; q++)
        p->kw_start[pair_kw[q] + 1]++;
    for (size_t k = 0; ok && k < p->n_kw; k++)
        p->kw_start[k + 1] += p->kw_start[k];
    unsigned *fill = ok ? (unsigned *)calloc(p->n_kw + 1, sizeof *fill) : NULL;
    ok = ok && fill;
    for (size_t q = 0; ok && q < n_pairs; q++) /* rules in order within a keyword */
        p->kw_rules[p->kw_start[pair_kw[q]] + fill[pair_kw[q]]++] = pair_rule[q];
    p->n_kw_rules = n_pairs;
    /* A keyword as a literal: every byte hex-escaped, matched case-insensitively. */
    for (size_t k = 0; ok && k < p->n_kw; k++) {
        size_t l = strlen(kw_text[k]);
        char *e = (char *)malloc(l * 4 + 1);
        if (!e) {
            ok = false;
            break;
        }
        for (size_t j = 0; j < l; j++) {
            static const char hex[] = "0123456789abcdef";
            unsigned char c = (unsigned char)kw_text[k][j];
            e[4 * j] = '\\';
            e[4 * j + 1] = 'x';
            e[4 * j + 2] = hex[c >> 4];
            e[4 * j + 3] = hex[c & 15];
        }
        e[l * 4] = '\0';
        p->owned[p->n] = e;
        p->exprs[p->n] = e;
        p->flags[p->n] = HS_FLAG_CASELESS;
        p->ids[p->n++] = (unsigned)k;
    }
    free(fill);
    free(pair_kw);
    free(pair_rule);
    free(kw_text);
    if (!ok)
        rmg_hs_plan_free(p);
    return ok;
}

/* ---- keyword reach -------------------------------------------------------------------- */

enum rmg_rx_kind {
    RMG_RX_BAD = 0, /* not understood: the analysis gives up */
    RMG_RX_CHARS,   /* one byte of a small known set (a literal, or a class like [a-f]) */
    RMG_RX_OTHER,   /* consumes text that is not one byte of a small known set */
    RMG_RX_GROUP,   /* a group whose text is part of the match: body [body, body_end) */
    RMG_RX_ZERO     /* consumes nothing: assertion, lookaround, option setting, comment;
                       conditionals too (treated as unknown text) */
};

#define RMG_RX_MAX_SET 16 /* bytes a class may hold to be followed byte by byte */

struct rmg_rx_atom {
    enum rmg_rx_kind kind;
    unsigned char set[RMG_RX_MAX_SET]; /* RMG_RX_CHARS: the bytes, lower-cased, distinct */
    unsigned n_set;
    size_t end;            /* just past the atom, before its quantifier */
    size_t body, body_end; /* RMG_RX_GROUP */
    size_t qend;           /* just past the quantifier (== end without one) */
    unsigned long qmin;    /* repetitions: at least qmin (1 without a quantifier), */
    bool qmax1;            /* and at most one; */
    unsigned long qmax;    /* at most qmax (ULONG_MAX: unbounded) */
};

static inline struct rmg_rx_atom rmg_rx_bad(void)
{
    struct rmg_rx_atom a;
    memset(&a, 0, sizeof a);
    return a;
}

static inline int rmg_rx_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static inline void rmg_rx_set_add(struct rmg_rx_atom *a, unsigned c)
{
    c = (unsigned)tolower((int)c);
    if (a->n_set > RMG_RX_MAX_SET)
        return; /* too many to follow already */
    for (unsigned k = 0; k < a->n_set; k++)
        if (a->set[k] == c)
            return;
    if (a->n_set < RMG_RX_MAX_SET)
        a->set[a->n_set] = (unsigned char)c;
    a->n_set++; /* past RMG_RX_MAX_SET: too many to follow */
}

/* Decodes the escape at re[i] == '\\' to one literal byte. Returns the index past it, or 0
 * if it is not a literal byte (a class such as \d, an assertion, a backreference...). */
static inline size_t rmg_rx_escape_byte(const char *re, size_t n, size_t i, unsigned *byte)
{
    if (i + 1 >= n)
        return 0;
    char e = re[i + 1];
    if (e == 'x') {
        unsigned v = 0;
        size_t j = i + 2;
        if (j < n && re[j] == '{') {
            for (j++; j < n && rmg_rx_hex(re[j]) >= 0 && v < 256; j++)
                v = v * 16 + (unsigned)rmg_rx_hex(re[j]);
            if (j >= n || re[j] != '}' || v > 255)
                return 0;
            j++;
        } else {
            for (; j < n && j < i + 4 && rmg_rx_hex(re[j]) >= 0; j++)
                v = v * 16 + (unsigned)rmg_rx_hex(re[j]);
        }
        *byte = v;
        return j;
    }
    static const char named[] = "tnrfea";
    static const unsigned char value[] = {'\t', '\n', '\r', '\f', 27, 7};
    const char *at = e ? strchr(named, e) : NULL;
    if (at) {
        *byte = value[at - named];
        return i + 2;
    }
    if (!isalnum((unsigned char)e) && (unsigned char)e < 0x80) {
        *byte = (unsigned char)e; /* an escaped punctuation character */
        return i + 2;
    }
    return 0;
}

/* Skips a backreference or subroutine call at re[i] == '\\' (\1, \k<name>, \g{-1}...).
 * Returns the index past it, or 0. */
static inline size_t rmg_rx_backref(const char *re, size_t n, size_t i)
{
    size_t j = i + 2;
    if (i + 1 >= n)
        return 0;
    char e = re[i + 1];
    if (e >= '1' && e <= '9') {
        while (j < n && isdigit((unsigned char)re[j]))
            j++;
        return j;
    }
    if (e != 'k' && e != 'g')
        return 0;
    if (j >= n)
        return 0;
    char open = re[j], close = open == '<' ? '>' : open == '{' ? '}' : open == '\'' ? '\'' : 0;
    if (!close) {
        if (e != 'g')
            return 0;
        if (re[j] == '-' || re[j] == '+')
            j++;
        size_t d = j;
        while (j < n && isdigit((unsigned char)re[j]))
            j++;
        return j > d ? j : 0;
    }
    const char *c = (const char *)memchr(re + j + 1, close, n - j - 1);
    return c ? (size_t)(c - re) + 1 : 0;
}

/* Parses the class at re[i] == '['. A small set of bytes (no negation, no named class) comes
 * back as RMG_RX_CHARS, any other valid class as RMG_RX_OTHER. */
static inline struct rmg_rx_atom rmg_rx_class(const char *re, size_t n, size_t i)
{
    struct rmg_rx_atom a = rmg_rx_bad();
    size_t j = i + 1;
    bool known = true;
    if (j < n && re[j] == '^') {
        known = false;
        j++;
    }
    bool first = true;
    int prev = -1; /* the last single byte, for a range */
    while (j < n && (re[j] != ']' || first)) {
        first = false;
        unsigned c;
        size_t next;
        if (re[j] == '[' && j + 1 < n && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
            char t = re[j + 1];
            size_t k = j + 2;
            while (k + 1 < n && !(re[k] == t && re[k + 1] == ']'))
                k++;
            if (k + 1 >= n)
                return rmg_rx_bad();
            known = false;
            prev = -1;
            j = k + 2;
            continue;
        }
        if (re[j] == '\\') {
            if (j + 1 < n && (re[j + 1] == 'Q' || re[j + 1] == 'E'))
                return rmg_rx_bad();
            next = rmg_rx_escape_byte(re, n, j, &c);
            if (!next) { /* \d, \s, \w, \p{..}...: some set */
                known = false;
                prev = -1;
                if (j + 2 < n && (re[j + 1] == 'p' || re[j + 1] == 'P') && re[j + 2] == '{') {
                    const char *close = (const char *)memchr(re + j + 2, '}', n - j - 2);
                    if (!close)
                        return rmg_rx_bad();
                    j = (size_t)(close - re) + 1;
                } else {
                    j += 2;
                }
                continue;
            }
        } else {
            c = (unsigned char)re[j];
            next = j + 1;
        }
        if (c == '-' && prev >= 0 && next < n && re[next] != ']' && re[j] == '-') {
            /* a range prev-hi */
            unsigned hi;
            size_t after;
            if (re[next] == '\\') {
                after = rmg_rx_escape_byte(re, n, next, &hi);
                if (!after)
                    return rmg_rx_bad();
            } else if (re[next] == '[') {
                return rmg_rx_bad();
            } else {
                hi = (unsigned char)re[next];
                after = next + 1;
            }
            if (hi < (unsigned)prev)
                return rmg_rx_bad();
            for (unsigned v = (unsigned)prev + 1; v <= hi && a.n_set <= RMG_RX_MAX_SET; v++) {
                rmg_rx_set_add(&a, v);
                if (isalpha((int)v))
                    rmg_rx_set_add(&a, (unsigned)(islower((int)v) ? toupper((int)v) : tolower((int)v)));
            }
            if (hi - (unsigned)prev > RMG_RX_MAX_SET)
                a.n_set = RMG_RX_MAX_SET + 1;
            prev = -1;
            j = after;
            continue;
        }
        rmg_rx_set_add(&a, c);
        prev = (int)c;
        j = next;
    }
    if (j >= n)
        return rmg_rx_bad();
    a.end = j + 1;
    a.kind = known && a.n_set >= 1 && a.n_set <= RMG_RX_MAX_SET ? RMG_RX_CHARS : RMG_RX_OTHER;
    return a;
}

static inline size_t rmg_rx_group_end(const char *re, size_t n, size_t i, int depth);

/* Reads the quantifier (if any) after the atom ending at a->end. */
static inline void rmg_rx_quantifier(const char *re, size_t n, struct rmg_rx_atom *a)
{
    a->qend = a->end;
    a->qmin = 1;
    a->qmax1 = true;
    a->qmax = 1;
    if (a->end >= n)
        return;
    size_t j = a->end;
    char q = re[j];
    if (q == '*' || q == '+' || q == '?') {
        a->qmin = q == '+';
        a->qmax1 = q == '?';
        a->qmax = q == '?' ? 1 : ULONG_MAX;
        j++;
    } else if (q == '{' && j + 1 < n && isdigit((unsigned char)re[j + 1])) {
        unsigned long m = 0, mx = 0;
        size_t k = j + 1;
        while (k < n && isdigit((unsigned char)re[k]) && m < 1000000)
            m = m * 10 + (unsigned long)(re[k++] - '0');
        bool bounded = true;
        mx = m;
        if (k < n && re[k] == ',') {
            k++;
            if (k < n && isdigit((unsigned char)re[k])) {
                mx = 0;
                while (k < n && isdigit((unsigned char)re[k]) && mx < 1000000)
                    mx = mx * 10 + (unsigned long)(re[k++] - '0');
            } else {
                bounded = false;
            }
        }
        if (k >= n || re[k] != '}')
            return; /* not a quantifier: PCRE2 takes the brace literally */
        a->qmin = m;
        a->qmax1 = bounded && mx <= 1;
        a->qmax = bounded ? mx : ULONG_MAX;
        j = k + 1;
    } else {
        return;
    }
    if (j < n && (re[j] == '?' || re[j] == '+'))
        j++;
    a->qend = j;
}

/* Parses the atom at re[i] (i < n, re[i] neither '|' nor ')') and its quantifier. */
static inline struct rmg_rx_atom rmg_rx_atom_at(const char *re, size_t n, size_t i, int depth)
{
    struct rmg_rx_atom a = rmg_rx_bad();
    char c = re[i];
    if (depth > 64)
        return a;
    if (c == '\\') {
        unsigned byte;
        size_t next = rmg_rx_escape_byte(re, n, i, &byte);
        if (next) {
            a.kind = RMG_RX_CHARS;
            rmg_rx_set_add(&a, byte);
            a.end = next;
        } else if (i + 1 < n && re[i + 1] && strchr("bBAzZG", re[i + 1])) {
            a.kind = RMG_RX_ZERO;
            a.end = i + 2;
        } else if (i + 1 < n && re[i + 1] == 'N' && i + 2 < n && re[i + 2] == '{') {
            return rmg_rx_bad();
        } else if (i + 1 < n && re[i + 1] && strchr("dDsSwWhHvVNRXC", re[i + 1])) {
            a.kind = RMG_RX_OTHER;
            a.end = i + 2;
        } else if (i + 2 < n && (re[i + 1] == 'p' || re[i + 1] == 'P')) {
            a.kind = RMG_RX_OTHER;
            a.end = i + 3;
            if (re[i + 2] == '{') {
                const char *close = (const char *)memchr(re + i + 2, '}', n - i - 2);
                if (!close)
                    return rmg_rx_bad();
                a.end = (size_t)(close - re) + 1;
            }
        } else if ((next = rmg_rx_backref(re, n, i)) != 0) {
            a.kind = RMG_RX_OTHER;
            a.end = next;
        } else {
            return rmg_rx_bad(); /* \Q..\E, \K, \c, \o{}, octal... */
        }
    } else if (c == '[') {
        a = rmg_rx_class(re, n, i);
        if (a.kind == RMG_RX_BAD)
            return a;
    } else if (c == '(') {
        size_t j = i + 1;
        if (j < n && re[j] == '*')
            return a; /* verbs and start-of-pattern options */
        a.kind = RMG_RX_GROUP;
        if (j < n && re[j] == '?') {
            j++;
            if (j >= n)
                return rmg_rx_bad();
            char g = re[j];
            if (g == '#') { /* a comment */
                const char *close = (const char *)memchr(re + j, ')', n - j);
                if (!close)
                    return rmg_rx_bad();
                a.kind = RMG_RX_ZERO;
                a.end = (size_t)(close - re) + 1;
                rmg_rx_quantifier(re, n, &a);
                return a;
            }
            if (g == ':' || g == '>' || g == '|') {
                j++;
            } else if (g == '=' || g == '!') {
                a.kind = RMG_RX_ZERO;
                j++;
            } else if (g == '<' && j + 1 < n && (re[j + 1] == '=' || re[j + 1] == '!')) {
                a.kind = RMG_RX_ZERO;
                j += 2;
            } else if (g == '<' || g == '\'' || (g == 'P' && j + 1 < n && re[j + 1] == '<')) {
                char close = g == '\'' ? '\'' : '>';
                j += g == 'P' ? 2 : 1;
                while (j < n && (isalnum((unsigned char)re[j]) || re[j] == '_'))
                    j++;
                if (j >= n || re[j] != close)
                    return rmg_rx_bad();
                j++;
            } else if (g == '(') {
                /* a conditional: the condition is its own group; the branches are text
                 * the analysis does not follow */
                struct rmg_rx_atom cond = rmg_rx_atom_at(re, n, j, depth + 1);
                if (cond.kind == RMG_RX_BAD || cond.qend != cond.end)
                    return rmg_rx_bad();
                a.kind = RMG_RX_OTHER;
                j = cond.end;
            } else {
                /* option letters: (?i) sets them, (?i: opens a group with them; (?x), (?n)
                 * and the rest ((?R), (?1), (?C), (?&name), (?P=name)...) are not followed */
                while (j < n && re[j] && strchr("imsJU-^", re[j]))
                    j++;
                if (j >= n)
                    return rmg_rx_bad();
                if (re[j] == ')') {
                    a.kind = RMG_RX_ZERO;
                    a.end = j + 1;
                    a.qend = a.end; /* an option setting takes no quantifier */
                    a.qmin = 1;
                    a.qmax1 = true;
                    a.qmax = 1;
                    return a;
                }
                if (re[j] != ':')
                    return rmg_rx_bad();
                j++;
            }
        }
        a.body = j;
        a.body_end = rmg_rx_group_end(re, n, j, depth + 1);
        if (a.body_end == 0)
            return rmg_rx_bad();
        a.end = a.body_end + 1;
    } else if (c == '.') {
        a.kind = RMG_RX_OTHER;
        a.end = i + 1;
    } else if (c == '^' || c == '$') {
        a.kind = RMG_RX_ZERO;
        a.end = i + 1;
    } else if (c == '*' || c == '+' || c == '?' || c == ')' || c == '|') {
        return a; /* nothing to repeat, or a stray parenthesis */
    } else {
        a.kind = RMG_RX_CHARS; /* including a brace that does not start a quantifier */
        rmg_rx_set_add(&a, (unsigned char)c);
        a.end = i + 1;
    }
    rmg_rx_quantifier(re, n, &a);
    return a;
}

/* The index of the ')' closing a group whose body starts at i, or 0. */
static inline size_t rmg_rx_group_end(const char *re, size_t n, size_t i, int depth)
{
    while (i < n && re[i] != ')') {
        if (re[i] == '|') {
            i++;
            continue;
        }
        struct rmg_rx_atom a = rmg_rx_atom_at(re, n, i, depth);
        if (a.kind == RMG_RX_BAD)
            return 0;
        i = a.qend;
    }
    return i < n ? i : 0;
}

/* The texts a match may have at a point of the walk, as far as the walk can tell: per path,
 * the literal bytes just before the point (the last RMG_RX_TAIL of them), or "holds a keyword
 * already". The set only grows by what is known; anything else resets a path's tail. */
#define RMG_RX_TAIL 63
#define RMG_RX_MAX_PATHS 512

struct rmg_rx_path {
    bool held;
    unsigned char len;
    char tail[RMG_RX_TAIL];
};

struct rmg_rx_paths {
    struct rmg_rx_path *v;
    size_t n;
    bool overflow; /* the set grew too big: the walk gives up */
};

struct rmg_rx_kw {
    char *const *v; /* lower-case */
    size_t n;
};

static inline bool rmg_rx_paths_add(struct rmg_rx_paths *ps, const struct rmg_rx_path *p)
{
    for (size_t k = 0; k < ps->n; k++) {
        const struct rmg_rx_path *q = &ps->v[k];
        if (q->held == p->held && (p->held || (q->len == p->len &&
                                               memcmp(q->tail, p->tail, p->len) == 0)))
            return true;
    }
    if (ps->n == RMG_RX_MAX_PATHS) {
        ps->overflow = true;
        return false;
    }
    ps->v[ps->n++] = *p;
    return true;
}

static inline bool rmg_rx_all_held(const struct rmg_rx_paths *ps)
{
    for (size_t k = 0; k < ps->n; k++)
        if (!ps->v[k].held)
            return false;
    return ps->n > 0;
}

/* Every path goes on with one byte of `set`; a path whose tail then ends with a keyword
 * holds one. */
static inline bool rmg_rx_paths_extend(struct rmg_rx_paths *ps, const struct rmg_rx_atom *a,
                                       const struct rmg_rx_kw *kw, struct rmg_rx_paths *tmp)
{
    tmp->n = 0;
    for (size_t k = 0; k < ps->n; k++) {
        const struct rmg_rx_path *p = &ps->v[k];
        if (p->held) {
            if (!rmg_rx_paths_add(tmp, p))
                return false;
            continue;
        }
        for (unsigned s = 0; s < a->n_set; s++) {
            struct rmg_rx_path q = *p;
            if (q.len == RMG_RX_TAIL)
                memmove(q.tail, q.tail + 1, --q.len);
            q.tail[q.len++] = (char)a->set[s];
            for (size_t w = 0; w < kw->n && !q.held; w++) {
                size_t kl = strlen(kw->v[w]);
                q.held = kl && kl <= q.len && memcmp(q.tail + q.len - kl, kw->v[w], kl) == 0;
            }
            if (q.held)
                q.len = 0;
            if (!rmg_rx_paths_add(tmp, &q))
                return false;
        }
    }
    memcpy(ps->v, tmp->v, tmp->n * sizeof *tmp->v);
    ps->n = tmp->n;
    return true;
}

/* Every path that holds no keyword yet forgets its tail (text the walk cannot follow). */
static inline void rmg_rx_paths_reset(struct rmg_rx_paths *ps)
{
    size_t kept = 0;
    bool open = false;
    for (size_t k = 0; k < ps->n; k++) {
        if (ps->v[k].held) {
            ps->v[kept++] = ps->v[k];
        } else if (!open) {
            ps->v[kept] = ps->v[k];
            ps->v[kept++].len = 0;
            open = true;
        }
    }
    ps->n = kept;
}

struct rmg_rx_buf {
    char *s;
    size_t len, cap;
    bool failed;
};

static inline void rmg_rx_buf_put(struct rmg_rx_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > 65536) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = (char *)realloc(b->s, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

enum rmg_rx_result { RMG_RX_GIVE_UP = -1, RMG_RX_OPEN = 0, RMG_RX_HELD = 1 };

static inline enum rmg_rx_result rmg_rx_walk_alts(const char *re, size_t from, size_t to,
                                                  const struct rmg_rx_kw *kw,
                                                  struct rmg_rx_paths *ps, int depth,
                                                  struct rmg_rx_buf *prefix);

/* The alternatives of group atom a walked from a copy of ps into *out (a new array of
 * RMG_RX_MAX_PATHS, freed by the caller; out->v NULL on out of memory, nothing walked). */
static inline enum rmg_rx_result rmg_rx_walk_group(const char *re, const struct rmg_rx_atom *a,
                                                   const struct rmg_rx_kw *kw,
                                                   const struct rmg_rx_paths *ps, int depth,
                                                   struct rmg_rx_paths *out,
                                                   struct rmg_rx_buf *alt_prefix)
{
    *out = (struct rmg_rx_paths){(struct rmg_rx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *out->v),
                                 0, false};
    if (!out->v)
        return RMG_RX_GIVE_UP;
    memcpy(out->v, ps->v, ps->n * sizeof *ps->v);
    out->n = ps->n;
    return rmg_rx_walk_alts(re, a->body, a->body_end, kw, out, depth + 1, alt_prefix);
}

/* Walks the sequence re[from, to) (no '|' at its level) from the paths in ps. HELD: every
 * path holds a keyword by the end of some item; `prefix` gets a regex matching the texts of
 * the sequence up to that point (the sequence's own text up to that item; for a group that
 * completed it, a group of its alternatives' prefixes instead). OPEN: ps is the set at the
 * end of the sequence. */
static inline enum rmg_rx_result rmg_rx_walk_seq(const char *re, size_t from, size_t to,
                                                 const struct rmg_rx_kw *kw,
                                                 struct rmg_rx_paths *ps, int depth,
                                                 struct rmg_rx_buf *prefix, size_t *held_at,
                                                 size_t *held_end, size_t *first_held_at)
{
    struct rmg_rx_path *tmpv = (struct rmg_rx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *tmpv);
    if (!tmpv || depth > 32) {
        free(tmpv);
        return RMG_RX_GIVE_UP;
    }
    struct rmg_rx_paths tmp = {tmpv, 0, false};
    enum rmg_rx_result res = RMG_RX_OPEN;
    size_t i = from;
    *first_held_at = SIZE_MAX;
    while (i < to) {
        for (size_t k = 0; *first_held_at == SIZE_MAX && k < ps->n; k++)
            if (ps->v[k].held)
                *first_held_at = i; /* held before this item: from the carry-in */
        struct rmg_rx_atom a = rmg_rx_atom_at(re, to, i, depth);
        if (a.kind == RMG_RX_BAD) {
            res = RMG_RX_GIVE_UP;
            break;
        }
        bool once = a.qmin == 1 && a.qmax1;    /* exactly one repetition */
        bool maybe = a.qmin == 0 && a.qmax1;   /* zero or one */
        if (a.kind == RMG_RX_CHARS && a.qmin >= 1 && !once) {
            /* Repeated: the first repetition is followed, then the text is not. */
            if (!rmg_rx_paths_extend(ps, &a, kw, &tmp)) {
                res = RMG_RX_GIVE_UP;
                break;
            }
            if (rmg_rx_all_held(ps)) {
                rmg_rx_buf_put(prefix, re + from, a.end - from); /* one repetition */
                res = prefix->failed ? RMG_RX_GIVE_UP : RMG_RX_HELD;
                *held_at = i;
                *held_end = a.qend;
                if (*first_held_at == SIZE_MAX)
                    *first_held_at = i;
                break;
            }
            /* What follows comes right after the last repetition, one byte of the set. */
            rmg_rx_paths_reset(ps);
            if (!rmg_rx_paths_extend(ps, &a, kw, &tmp)) {
                res = RMG_RX_GIVE_UP;
                break;
            }
        } else if (a.kind == RMG_RX_CHARS && (once || maybe)) {
            /* zero or one: the paths that skip it, plus those that take it */
            size_t before = ps->n;
            struct rmg_rx_path *keep = NULL;
            if (maybe) {
                keep = (struct rmg_rx_path *)malloc(before * sizeof *keep + 1);
                if (!keep) {
                    res = RMG_RX_GIVE_UP;
                    break;
                }
                memcpy(keep, ps->v, before * sizeof *keep);
            }
            bool ok = rmg_rx_paths_extend(ps, &a, kw, &tmp);
            for (size_t k = 0; ok && maybe && k < before; k++)
                ok = rmg_rx_paths_add(ps, &keep[k]);
            free(keep);
            if (!ok) {
                res = RMG_RX_GIVE_UP;
                break;
            }
        } else if (a.kind == RMG_RX_GROUP && maybe) {
            /* Zero or one: the paths that skip it, plus each alternative's. */
            struct rmg_rx_buf alt_prefix = {NULL, 0, 0, false};
            struct rmg_rx_paths out;
            enum rmg_rx_result r = rmg_rx_walk_group(re, &a, kw, ps, depth, &out, &alt_prefix);
            if (!out.v) {
                res = RMG_RX_GIVE_UP;
                break;
            }
            free(alt_prefix.s);
            bool ok = r != RMG_RX_GIVE_UP;
            if (r == RMG_RX_HELD) {
                struct rmg_rx_path h = {true, 0, {0}};
                ok = rmg_rx_paths_add(ps, &h);
            } else {
                for (size_t k = 0; ok && k < out.n; k++)
                    ok = rmg_rx_paths_add(ps, &out.v[k]);
            }
            free(out.v);
            if (!ok) {
                res = RMG_RX_GIVE_UP;
                break;
            }
        } else if (a.kind == RMG_RX_GROUP && a.qmin >= 1) {
            /* Each alternative from the paths here (the first repetition when repeated);
             * the paths after are the union of the alternatives' ends. */
            struct rmg_rx_buf alt_prefix = {NULL, 0, 0, false};
            struct rmg_rx_paths out;
            enum rmg_rx_result r = rmg_rx_walk_group(re, &a, kw, ps, depth, &out, &alt_prefix);
            if (!out.v) {
                res = RMG_RX_GIVE_UP;
                break;
            }
            if (r == RMG_RX_HELD) {
                /* Every alternative holds a keyword: the prefix is the sequence so far and
                 * one repetition of the group cut to its alternatives' prefixes. */
                rmg_rx_buf_put(prefix, re + from, i - from);
                rmg_rx_buf_put(prefix, "(?:", 3);
                rmg_rx_buf_put(prefix, alt_prefix.s ? alt_prefix.s : "", alt_prefix.len);
                rmg_rx_buf_put(prefix, ")", 1);
                free(alt_prefix.s);
                free(out.v);
                res = prefix->failed ? RMG_RX_GIVE_UP : RMG_RX_HELD;
                *held_at = i;
                *held_end = a.qend;
                if (*first_held_at == SIZE_MAX)
                    *first_held_at = i;
                break;
            }
            free(alt_prefix.s);
            if (r == RMG_RX_GIVE_UP) {
                free(out.v);
                res = RMG_RX_GIVE_UP;
                break;
            }
            if (once) {
                memcpy(ps->v, out.v, out.n * sizeof *out.v);
                ps->n = out.n;
            } else {
                rmg_rx_paths_reset(ps); /* further repetitions: not followed */
            }
            free(out.v);
        } else if (a.kind == RMG_RX_ZERO && once) {
            /* Consumes nothing, but the walk does not follow text across it. */
            rmg_rx_paths_reset(ps);
        } else {
            rmg_rx_paths_reset(ps);
        }
        for (size_t k = 0; *first_held_at == SIZE_MAX && k < ps->n; k++)
            if (ps->v[k].held)
                *first_held_at = i;
        if (rmg_rx_all_held(ps)) {
            rmg_rx_buf_put(prefix, re + from, a.qend - from);
            res = prefix->failed ? RMG_RX_GIVE_UP : RMG_RX_HELD;
            *held_at = i;
            *held_end = a.qend;
            break;
        }
        i = a.qend;
    }
    free(tmpv);
    return res;
}

/* Walks each alternative of re[from, to) from the paths in ps. HELD when every alternative
 * holds a keyword (prefix: their prefixes joined by '|'); OPEN with ps the union of their
 * end sets otherwise. */
static inline enum rmg_rx_result rmg_rx_walk_alts(const char *re, size_t from, size_t to,
                                                  const struct rmg_rx_kw *kw,
                                                  struct rmg_rx_paths *ps, int depth,
                                                  struct rmg_rx_buf *prefix)
{
    struct rmg_rx_path *in = (struct rmg_rx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *in);
    struct rmg_rx_path *alt = (struct rmg_rx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *alt);
    struct rmg_rx_path *uni = (struct rmg_rx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *uni);
    enum rmg_rx_result res = RMG_RX_HELD;
    struct rmg_rx_paths all = {uni, 0, false};
    size_t n_in = ps->n;
    if (!in || !alt || !uni) {
        res = RMG_RX_GIVE_UP;
        goto out;
    }
    memcpy(in, ps->v, n_in * sizeof *in);
    size_t start = from, i = from;
    bool first = true;
    while (i <= to) {
        if (i == to || re[i] == '|') {
            struct rmg_rx_paths p = {alt, n_in, false};
            memcpy(alt, in, n_in * sizeof *in);
            struct rmg_rx_buf part = {NULL, 0, 0, false};
            size_t held_at, held_end, first_held_at;
            enum rmg_rx_result r = rmg_rx_walk_seq(re, start, i, kw, &p, depth, &part, &held_at,
                                                   &held_end, &first_held_at);
            if (r == RMG_RX_GIVE_UP || p.overflow) {
                free(part.s);
                res = RMG_RX_GIVE_UP;
                goto out;
            }
            if (r == RMG_RX_HELD) {
                if (!first)
                    rmg_rx_buf_put(prefix, "|", 1);
                rmg_rx_buf_put(prefix, part.s ? part.s : "", part.len);
                struct rmg_rx_path h = {true, 0, {0}};
                if (!rmg_rx_paths_add(&all, &h)) {
                    free(part.s);
                    res = RMG_RX_GIVE_UP;
                    goto out;
                }
            } else {
                res = RMG_RX_OPEN;
                for (size_t k = 0; k < p.n; k++)
                    if (!rmg_rx_paths_add(&all, &p.v[k])) {
                        free(part.s);
                        res = RMG_RX_GIVE_UP;
                        goto out;
                    }
            }
            free(part.s);
            first = false;
            start = i + 1;
            i++;
            continue;
        }
        struct rmg_rx_atom a = rmg_rx_atom_at(re, to, i, depth);
        if (a.kind == RMG_RX_BAD) {
            res = RMG_RX_GIVE_UP;
            goto out;
        }
        i = a.qend;
    }
    if (prefix->failed)
        res = RMG_RX_GIVE_UP;
    if (res == RMG_RX_OPEN) {
        memcpy(ps->v, all.v, all.n * sizeof *all.v);
        ps->n = all.n;
    }
out:
    free(in);
    free(alt);
    free(uni);
    return res;
}

/* The keyword reach of a rule (DESIGN above): every match of `regex` holds one of the
 * (lower-case) keywords ending at most this many bytes after the match's start. 0 when that
 * cannot be shown. Thread-safe. */
static inline unsigned rmg_keyword_reach(const char *regex, char *const *keywords,
                                         size_t n_keywords)
{
    size_t n = strlen(regex);
    if (n_keywords == 0 || n >= 65536)
        return 0;
    for (size_t k = 0; k < n_keywords; k++)
        if (!keywords[k][0] || strlen(keywords[k]) > RMG_RX_TAIL)
            return 0;
    struct rmg_rx_kw kw = {keywords, n_keywords};
    struct rmg_rx_path *v = (struct rmg_rx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *v);
    if (!v)
        return 0;
    struct rmg_rx_paths ps = {v, 1, false};
    memset(&v[0], 0, sizeof v[0]);
    struct rmg_rx_buf prefix = {NULL, 0, 0, false};
    struct rmg_rx_buf alts = {NULL, 0, 0, false};
    enum rmg_rx_result r = rmg_rx_walk_alts(regex, 0, n, &kw, &ps, 0, &alts);
    free(v);
    unsigned reach = 0;
    if (r == RMG_RX_HELD) {
        rmg_rx_buf_put(&prefix, "(?:", 3);
        rmg_rx_buf_put(&prefix, alts.s ? alts.s : "", alts.len);
        rmg_rx_buf_put(&prefix, ")", 1);
        unsigned w = prefix.failed ? 0 : rmg_regex_width(prefix.s);
        unsigned full = rmg_regex_width(regex);
        if (w != 0 && w != UINT_MAX && full != 0 && full != UINT_MAX && w <= full)
            reach = w;
    }
    free(prefix.s);
    free(alts.s);
    return reach;
}

/* A keyword's follow set is checked over at most this many bytes (a longer stretch would
 * rarely miss the set, and costs more to look at than the window it saves). */
#define RMG_FOLLOW_MAX 64

/* The width of re[from, to) as a regex of its own (an item of a rule regex), 0 if unknown. */
static inline unsigned rmg_rx_item_width(const char *re, size_t from, size_t to)
{
    struct rmg_rx_buf b = {NULL, 0, 0, false};
    rmg_rx_buf_put(&b, "(?:", 3);
    rmg_rx_buf_put(&b, re + from, to - from);
    rmg_rx_buf_put(&b, ")", 1);
    unsigned w = b.failed ? 0 : rmg_regex_width(b.s);
    free(b.s);
    return w == UINT_MAX ? 0 : w;
}

/* What must follow a keyword (DESIGN above): after the item that holds it, a match goes on
 * through items of bounded width to one that must begin with a byte of a small set (the
 * assignment operator of `password = "..."`, say). So a byte of that set lies near the
 * keyword's end e: in [e - back, e + dist). `follow` gets the set (both cases of letters).
 * back is 1 when that byte may be the keyword's own last one (`(?:SECRET|_PAT)=` with the
 * keyword "_pat="). False when no such item is found in every top-level alternative.
 * Thread-safe. */
static inline bool rmg_keyword_follow(const char *regex, char *const *keywords,
                                      size_t n_keywords, unsigned char follow[256],
                                      unsigned *dist, unsigned *back)
{
    size_t n = strlen(regex);
    memset(follow, 0, 256);
    *dist = 0;
    *back = 0;
    if (n_keywords == 0 || n >= 65536)
        return false;
    for (size_t k = 0; k < n_keywords; k++)
        if (!keywords[k][0] || strlen(keywords[k]) > RMG_RX_TAIL)
            return false;
    struct rmg_rx_kw kw = {keywords, n_keywords};
    struct rmg_rx_path *v = (struct rmg_rx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *v);
    if (!v)
        return false;
    bool ok = true;
    size_t start = 0, i = 0;
    while (ok && i <= n) {
        if (i < n && regex[i] != '|') {
            struct rmg_rx_atom a = rmg_rx_atom_at(regex, n, i, 0);
            ok = a.kind != RMG_RX_BAD;
            i = a.qend;
            continue;
        }
        /* One top-level alternative, [start, i): the item holding the keyword... */
        struct rmg_rx_paths ps = {v, 1, false};
        memset(&v[0], 0, sizeof v[0]);
        struct rmg_rx_buf prefix = {NULL, 0, 0, false};
        size_t held_at = 0, held_end = 0, first_held_at = SIZE_MAX;
        enum rmg_rx_result r = rmg_rx_walk_seq(regex, start, i, &kw, &ps, 0, &prefix, &held_at,
                                               &held_end, &first_held_at);
        free(prefix.s);
        if (r != RMG_RX_HELD) {
            ok = false;
            break;
        }
        /* Bytes that may lie between a keyword's end and the set byte: a path holds its
         * keyword from the item where it came to (first_held_at for the earliest), so what
         * is left of the text through the holding item is at most those items' width; none
         * when that is the one literal byte that completed every keyword. */
        struct rmg_rx_atom x = rmg_rx_atom_at(regex, i, held_at, 0);
        unsigned d = 0;
        if (first_held_at > held_at) {
            ok = false; /* cannot happen */
        } else if (!(first_held_at == held_at && x.kind == RMG_RX_CHARS && x.qend == x.end)) {
            d = rmg_rx_item_width(regex, first_held_at, held_end);
            ok = d > 0;
        }
        /* ...then items of bounded width up to one that must begin with a byte of a set. */
        bool found = false;
        size_t j = held_end;
        while (ok && !found && j < i) {
            struct rmg_rx_atom a = rmg_rx_atom_at(regex, i, j, 0);
            if (a.kind == RMG_RX_BAD) {
                ok = false;
                break;
            }
            if (a.kind == RMG_RX_ZERO && a.qmin >= 1) {
                j = a.qend;
                continue;
            }
            if (a.qmin >= 1 && a.kind == RMG_RX_CHARS) {
                for (unsigned k = 0; k < a.n_set; k++)
                    follow[a.set[k]] = 1;
                found = true;
                break;
            }
            if (a.qmin >= 1 && a.kind == RMG_RX_GROUP) {
                /* each alternative must begin with a byte of a set */
                bool all = true;
                size_t k = a.body;
                unsigned char set[256] = {0};
                bool at_start = true;
                while (all && k <= a.body_end) {
                    if (k == a.body_end || regex[k] == '|') {
                        if (at_start)
                            all = false; /* an empty alternative */
                        at_start = true;
                        k++;
                        continue;
                    }
                    struct rmg_rx_atom b = rmg_rx_atom_at(regex, a.body_end, k, 1);
                    if (b.kind == RMG_RX_BAD) {
                        all = false;
                        break;
                    }
                    if (at_start) {
                        if (b.kind != RMG_RX_CHARS || b.qmin < 1)
                            all = false;
                        for (unsigned m = 0; all && m < b.n_set; m++)
                            set[b.set[m]] = 1;
                        at_start = false;
                    }
                    k = b.qend;
                }
                if (all) {
                    for (unsigned m = 0; m < 256; m++)
                        follow[m] |= set[m];
                    found = true;
                    break;
                }
            }
            unsigned w = rmg_rx_item_width(regex, j, a.qend);
            if (w == 0 && a.kind != RMG_RX_ZERO) {
                ok = false;
                break;
            }
            d += w;
            j = a.qend;
        }
        if (ok && !found && first_held_at < held_at && x.kind == RMG_RX_CHARS &&
            x.qend == x.end) {
            /* The literal byte that completed the last keywords: for those it is the
             * keyword's last byte, for the keywords held before it comes after them. */
            d = rmg_rx_item_width(regex, first_held_at, held_at);
            ok = d > 0;
            for (unsigned k = 0; k < x.n_set; k++)
                follow[x.set[k]] = 1;
            found = true;
            *back = 1;
            d = d ? d - 1 : 0; /* the byte is at most d - 1 past a keyword's end */
        }
        ok = ok && found && d < RMG_FOLLOW_MAX;
        if (ok && d + 1 > *dist)
            *dist = d + 1;
        start = i + 1;
        i++;
    }
    free(v);
    if (!ok) {
        memset(follow, 0, 256);
        *dist = 0;
        return false;
    }
    for (unsigned c = 0; c < 256; c++)
        if (follow[c] && isalpha((int)c))
            follow[toupper((int)c)] = follow[tolower((int)c)] = 1;
    return true;
}

/* The bytes a class at re[i] == '[' surely matches (a subset when unsure: letters of the
 * other case under (?i) are left out). False for a class not understood or negated. */
static inline bool rmg_rx_class_bits(const char *re, size_t n, size_t i, unsigned char bits[256],
                                     size_t *end)
{
    memset(bits, 0, 256);
    size_t j = i + 1;
    if (j < n && re[j] == '^')
        return false;
    bool first = true;
    while (j < n && (re[j] != ']' || first)) {
        first = false;
        unsigned lo;
        size_t next;
        if (re[j] == '[')
            return false; /* POSIX classes, or a literal '[' the walk need not follow */
        if (re[j] == '\\') {
            char e = j + 1 < n ? re[j + 1] : 0;
            if (e == 'd' || e == 'w' || e == 's') {
                for (unsigned c = 0; c < 256; c++) {
                    bool in = e == 'd'   ? (c >= '0' && c <= '9')
                              : e == 'w' ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                            (c >= 'A' && c <= 'Z') || c == '_')
                                         : (c == ' ' || c == '\t' || c == '\n' || c == '\f' ||
                                            c == '\r');
                    if (in)
                        bits[c] = 1;
                }
                j += 2;
                continue;
            }
            next = rmg_rx_escape_byte(re, n, j, &lo);
            if (!next)
                return false;
        } else {
            lo = (unsigned char)re[j];
            next = j + 1;
        }
        if (next + 1 < n && re[next] == '-' && re[next + 1] != ']') {
            unsigned hi;
            size_t after;
            if (re[next + 1] == '\\') {
                after = rmg_rx_escape_byte(re, n, next + 1, &hi);
                if (!after)
                    return false;
            } else if (re[next + 1] == '[') {
                return false;
            } else {
                hi = (unsigned char)re[next + 1];
                after = next + 2;
            }
            if (hi < lo)
                return false;
            for (unsigned c = lo; c <= hi; c++)
                bits[c] = 1;
            j = after;
            continue;
        }
        bits[lo] = 1;
        j = next;
    }
    if (j >= n)
        return false;
    *end = j + 1;
    return true;
}

/* What must not precede a match (DESIGN above): when the regex opens, before anything that
 * consumes text, with negative lookbehinds of one byte (`(?<![A-Za-z0-9])`), a match cannot
 * start right after a byte they match. `excl` gets those bytes (a subset when unsure). False
 * when there are none, or the regex has top-level alternatives. Thread-safe. */
static inline bool rmg_keyword_lead(const char *regex, unsigned char excl[256])
{
    size_t n = strlen(regex);
    memset(excl, 0, 256);
    bool any = false;
    size_t i = 0;
    /* no top-level alternatives */
    for (size_t k = 0; k < n;) {
        if (regex[k] == '|')
            return false;
        struct rmg_rx_atom a = rmg_rx_atom_at(regex, n, k, 0);
        if (a.kind == RMG_RX_BAD)
            return false;
        k = a.qend;
    }
    while (i < n) {
        struct rmg_rx_atom a = rmg_rx_atom_at(regex, n, i, 0);
        if (a.kind != RMG_RX_ZERO || a.qmin < 1)
            break;
        if (a.qend == a.end && i + 4 < n && regex[i + 1] == '?' && regex[i + 2] == '<' &&
            regex[i + 3] == '!') {
            /* (?<! one byte ) */
            size_t b = i + 4, e = a.end - 1; /* body [b, e) */
            unsigned char bits[256];
            size_t cend = 0;
            unsigned byte;
            if (regex[b] == '[' && rmg_rx_class_bits(regex, e, b, bits, &cend) && cend == e) {
                for (unsigned c = 0; c < 256; c++)
                    if (bits[c]) {
                        excl[c] = 1;
                        any = true;
                    }
            } else if (regex[b] == '\\' && rmg_rx_escape_byte(regex, e, b, &byte) == e) {
                excl[byte] = 1;
                any = true;
            } else if (b + 1 == e && !strchr("\\[().^$|*+?{", regex[b])) {
                excl[(unsigned char)regex[b]] = 1;
                any = true;
            }
        }
        i = a.qend;
    }
    return any;
}

/* ---- keyword tail --------------------------------------------------------------------- */

/* What must come right after a keyword (DESIGN above): the bytes that follow the keyword a
 * match holds, position by position, as far as the regex fixes them (`sk_` then 8 bytes of
 * [a-z0-9] for `sk_(?:[a-z2-7]{26}[a-z2-7*#$=]|[0-9a-f]{8}-...)`), at most RMG_TAIL_MAX of
 * them. The keyword is the one rmg_keyword_reach and rmg_keyword_follow speak of: the walk
 * below makes the same steps as theirs (rmg_rx_walk_seq) on the text before a keyword and
 * only adds, on a path that holds one, the sets of the bytes after it. */
#ifndef RMG_TAIL_MAX
#define RMG_TAIL_MAX 12
#endif
/* How far after a keyword the walk goes on looking for a near set (rmg_keyword_tail). */
#define RMG_NEAR_MAX 32

struct rmg_tx_path {
    struct rmg_rx_path kw; /* as the keyword walk has it */
    bool closed;           /* held: the bytes past the n_after followed are not */
    unsigned char n_after; /* bytes followed after the keyword, at most RMG_NEAR_MAX */
    unsigned char after[RMG_TAIL_MAX][32]; /* the first ones' sets: bits, c at [c / 8] bit c % 8 */
    unsigned char near_at; /* the first byte whose set is a near set (0xff: none yet)... */
    unsigned char near[32]; /* ...and that set */
};

struct rmg_tx_paths {
    struct rmg_tx_path *v;
    size_t n;
    bool overflow;
};

static inline void rmg_tx_bit(unsigned char set[32], unsigned c)
{
    set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static inline bool rmg_tx_has(const unsigned char set[32], unsigned c)
{
    return (set[c >> 3] >> (c & 7)) & 1u;
}

/* Adds a path. Held paths with the same state are one path, their sets joined (a superset
 * of each); so are all closed ones, cut to the shortest. */
static inline bool rmg_tx_add(struct rmg_tx_paths *ps, const struct rmg_tx_path *p)
{
    for (size_t k = 0; k < ps->n; k++) {
        struct rmg_tx_path *q = &ps->v[k];
        if (q->kw.held != p->kw.held)
            continue;
        if (!p->kw.held) {
            if (q->kw.len == p->kw.len && memcmp(q->kw.tail, p->kw.tail, p->kw.len) == 0)
                return true;
            continue;
        }
        if (q->closed != p->closed || (!p->closed && q->n_after != p->n_after))
            continue;
        if (p->n_after < q->n_after)
            q->n_after = p->n_after;
        for (unsigned j = 0; j < q->n_after && j < RMG_TAIL_MAX; j++)
            for (unsigned b = 0; b < 32; b++)
                q->after[j][b] |= p->after[j][b];
        if (p->near_at == 0xff || q->near_at == 0xff) {
            q->near_at = 0xff; /* what comes next holds for both */
        } else {
            if (p->near_at > q->near_at)
                q->near_at = p->near_at;
            for (unsigned b = 0; b < 32; b++)
                q->near[b] |= p->near[b];
        }
        return true;
    }
    if (ps->n == RMG_RX_MAX_PATHS) {
        ps->overflow = true;
        return false;
    }
    ps->v[ps->n++] = *p;
    return true;
}

/* The path after one more literal byte c (lower-case), as rmg_rx_paths_extend makes it. */
static inline struct rmg_tx_path rmg_tx_step(const struct rmg_tx_path *p, unsigned char c,
                                             const struct rmg_rx_kw *kw)
{
    struct rmg_tx_path q = *p;
    if (q.kw.len == RMG_RX_TAIL)
        memmove(q.kw.tail, q.kw.tail + 1, --q.kw.len);
    q.kw.tail[q.kw.len++] = (char)c;
    for (size_t w = 0; w < kw->n && !q.kw.held; w++) {
        size_t kl = strlen(kw->v[w]);
        q.kw.held = kl && kl <= q.kw.len && memcmp(q.kw.tail + q.kw.len - kl, kw->v[w], kl) == 0;
    }
    if (q.kw.held) {
        q.kw.len = 0;
        q.closed = false;
        q.n_after = 0;
        q.near_at = 0xff;
    }
    return q;
}

/* A held path goes on with `count` bytes of set, then with unknown text if `more`; known is
 * false when the item is not one byte of a known set (the text is not followed). */
static inline void rmg_tx_append(struct rmg_tx_path *p, bool known, const unsigned char set[32],
                                 unsigned long count, bool more)
{
    if (!known) {
        p->closed = true;
        return;
    }
    /* a near set: a few bytes, none of them a letter, digit, space or [_.-] */
    unsigned members = 0;
    bool rare = true;
    for (unsigned c = 0; c < 256; c++) {
        if (!rmg_tx_has(set, c))
            continue;
        members++;
        rare = rare && c > ' ' && c < 0x7f && !isalnum((int)c) && !strchr("_.-", (int)c);
    }
    rare = rare && members <= 8;
    for (unsigned long k = 0; !p->closed && k < count; k++) {
        if (p->n_after == RMG_NEAR_MAX) {
            p->closed = true;
            break;
        }
        if (p->n_after < RMG_TAIL_MAX)
            memcpy(p->after[p->n_after], set, 32);
        if (rare && p->near_at == 0xff) {
            p->near_at = p->n_after;
            memcpy(p->near, set, 32);
        }
        p->n_after++;
    }
    if (more)
        p->closed = true;
}

/* ASCII's \d, \w, \s, \h or \v (e is the letter, lower-case), exactly. */
static inline void rmg_tx_escape_set(char e, unsigned char in[256])
{
    for (unsigned c = 0; c < 256; c++) {
        bool m = e == 'd'   ? (c >= '0' && c <= '9')
                 : e == 'w' ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                               (c >= 'A' && c <= 'Z') || c == '_')
                 : e == 's' ? ((c >= 9 && c <= 13) || c == ' ')
                 : e == 'h' ? (c == 9 || c == ' ' || c == 0xa0)
                            : ((c >= 10 && c <= 13) || c == 0x85);
        if (m)
            in[c] = 1;
    }
}

/* A superset of the bytes the class at re[i] == '[' matches, and the index past it; false
 * when it is not understood. */
static inline bool rmg_tx_class(const char *re, size_t n, size_t i, unsigned char bits[256],
                                size_t *end)
{
    unsigned char in[256];
    memset(in, 0, sizeof in);
    size_t j = i + 1;
    bool neg = j < n && re[j] == '^';
    if (neg)
        j++;
    bool first = true;
    while (j < n && (re[j] != ']' || first)) {
        first = false;
        if (re[j] == '[' && j + 1 < n && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
            char t = re[j + 1];
            size_t k = j + 2;
            while (k + 1 < n && !(re[k] == t && re[k + 1] == ']'))
                k++;
            if (k + 1 >= n || neg)
                return false; /* a named class: any byte, unless it must be left out */
            memset(in, 1, sizeof in);
            j = k + 2;
            continue;
        }
        unsigned lo = 0, hi = 0;
        size_t next;
        if (re[j] == '\\') {
            char e = j + 1 < n ? re[j + 1] : 0;
            if (e && strchr("dswhv", e)) {
                rmg_tx_escape_set(e, in);
                j += 2;
                continue;
            }
            if (e && strchr("DSWHVpP", e)) {
                if (neg)
                    return false;
                memset(in, 1, sizeof in);
                j += 2;
                if ((e == 'p' || e == 'P') && j < n && re[j] == '{') {
                    const char *close = (const char *)memchr(re + j, '}', n - j);
                    if (!close)
                        return false;
                    j = (size_t)(close - re) + 1;
                } else if (e == 'p' || e == 'P') {
                    j++;
                }
                continue;
            }
            if (e == 'b') {
                lo = 8;
                next = j + 2;
            } else if ((next = rmg_rx_escape_byte(re, n, j, &lo)) == 0) {
                return false;
            }
        } else {
            lo = (unsigned char)re[j];
            next = j + 1;
        }
        if (next + 1 < n && re[next] == '-' && re[next + 1] != ']') {
            size_t after;
            if (re[next + 1] == '\\') {
                if (next + 2 < n && re[next + 2] == 'b') {
                    hi = 8;
                    after = next + 3;
                } else if ((after = rmg_rx_escape_byte(re, n, next + 1, &hi)) == 0) {
                    return false;
                }
            } else if (re[next + 1] == '[') {
                return false;
            } else {
                hi = (unsigned char)re[next + 1];
                after = next + 2;
            }
            if (hi < lo || hi > 255)
                return false;
            for (unsigned c = lo; c <= hi; c++)
                in[c] = 1;
            j = after;
            continue;
        }
        if (lo > 255)
            return false;
        in[lo] = 1;
        j = next;
    }
    if (j >= n)
        return false;
    *end = j + 1;
    for (unsigned c = 0; c < 256; c++)
        bits[c] = neg ? !in[c] : in[c];
    return true;
}

/* A superset of the bytes the item at re[i] (parsed as a) matches, when it matches exactly
 * one byte: both cases of a letter (the walk does not follow (?i)), every byte from 0x80
 * when one of them. False for anything else. */
static inline bool rmg_tx_item_bytes(const char *re, const struct rmg_rx_atom *a, size_t i,
                                     unsigned char set[32])
{
    unsigned char in[256];
    memset(in, 0, sizeof in);
    if (a->kind == RMG_RX_GROUP || a->kind == RMG_RX_ZERO || a->kind == RMG_RX_BAD)
        return false;
    char c = re[i];
    if (c == '[') {
        size_t end = 0;
        if (!rmg_tx_class(re, a->end, i, in, &end) || end != a->end)
            return false;
    } else if (c == '.') {
        memset(in, 1, sizeof in);
    } else if (c == '\\') {
        unsigned byte;
        char e = re[i + 1];
        if (rmg_rx_escape_byte(re, a->end, i, &byte) == a->end && byte < 256) {
            in[byte] = 1;
        } else if (e && strchr("dswhv", e) && a->end == i + 2) {
            rmg_tx_escape_set(e, in);
        } else if (e && strchr("DSWHVNCpP", e)) {
            memset(in, 1, sizeof in); /* one byte, any (no UTF mode) */
        } else {
            return false;
        }
    } else if (a->kind == RMG_RX_CHARS && a->end == i + 1) {
        in[(unsigned char)c] = 1;
    } else {
        return false;
    }
    memset(set, 0, 32);
    bool high = false;
    for (unsigned b = 0; b < 256; b++) {
        if (!in[b])
            continue;
        rmg_tx_bit(set, b);
        if (isalpha((int)b) && b < 128) {
            rmg_tx_bit(set, (unsigned)tolower((int)b));
            rmg_tx_bit(set, (unsigned)toupper((int)b));
        }
        high = high || b >= 128;
    }
    for (unsigned b = 128; high && b < 256; b++)
        rmg_tx_bit(set, b);
    return true;
}

/* Every path that holds no keyword yet forgets its text, as rmg_rx_paths_reset; held paths
 * are closed when `close`. */
static inline bool rmg_tx_reset(const struct rmg_tx_paths *in, struct rmg_tx_paths *out,
                                bool close)
{
    bool open = false;
    out->n = 0;
    for (size_t k = 0; k < in->n; k++) {
        struct rmg_tx_path p = in->v[k];
        if (p.kw.held) {
            p.closed = p.closed || close;
        } else {
            if (open)
                continue;
            open = true;
            p.kw.len = 0;
        }
        if (!rmg_tx_add(out, &p))
            return false;
    }
    return true;
}

static inline bool rmg_tx_walk_alts(const char *re, size_t from, size_t to,
                                    const struct rmg_rx_kw *kw, struct rmg_tx_paths *ps,
                                    int depth);

/* The tail walk over the sequence re[from, to), from the paths in ps: the steps of
 * rmg_rx_walk_seq for the paths that hold no keyword, and for those that do, the bytes
 * after it. Goes on to the end of the sequence. False: give up. */
static inline bool rmg_tx_walk_seq(const char *re, size_t from, size_t to,
                                   const struct rmg_rx_kw *kw, struct rmg_tx_paths *ps,
                                   int depth)
{
    if (depth > 32)
        return false;
    struct rmg_tx_paths out = {(struct rmg_tx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *out.v), 0,
                               false};
    struct rmg_tx_paths sub = {(struct rmg_tx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *sub.v), 0,
                               false};
    bool ok = out.v && sub.v;
    size_t i = from;
    while (ok && i < to) {
        struct rmg_rx_atom a = rmg_rx_atom_at(re, to, i, depth);
        if (a.kind == RMG_RX_BAD) {
            ok = false;
            break;
        }
        bool once = a.qmin == 1 && a.qmax1;
        bool maybe = a.qmin == 0 && a.qmax1;
        unsigned char set[32];
        bool single = rmg_tx_item_bytes(re, &a, i, set);
        bool more = a.qmax != a.qmin; /* a held path: repetitions past qmin are not followed */
        out.n = 0;
        if (a.kind == RMG_RX_CHARS && a.qmin >= 1 && !once) {
            /* the first repetition is followed; unless that holds every path, the text is
             * then forgotten and the last repetition followed */
            bool all = true;
            for (size_t k = 0; ok && k < ps->n; k++) {
                const struct rmg_tx_path *p = &ps->v[k];
                if (p->kw.held) {
                    struct rmg_tx_path q = *p;
                    rmg_tx_append(&q, single, set, a.qmin, more);
                    ok = rmg_tx_add(&out, &q);
                    continue;
                }
                for (unsigned s = 0; ok && s < a.n_set; s++) {
                    struct rmg_tx_path q = rmg_tx_step(p, a.set[s], kw);
                    if (q.kw.held)
                        rmg_tx_append(&q, single, set, a.qmin - 1, more);
                    else
                        all = false;
                    ok = rmg_tx_add(&out, &q);
                }
            }
            if (ok && !all) {
                ok = rmg_tx_reset(&out, &sub, false);
                out.n = 0;
                for (size_t k = 0; ok && k < sub.n; k++) {
                    const struct rmg_tx_path *p = &sub.v[k];
                    if (p->kw.held) {
                        ok = rmg_tx_add(&out, p);
                        continue;
                    }
                    for (unsigned s = 0; ok && s < a.n_set; s++) {
                        struct rmg_tx_path q = rmg_tx_step(p, a.set[s], kw);
                        ok = rmg_tx_add(&out, &q);
                    }
                }
            }
        } else if (a.kind == RMG_RX_CHARS && (once || maybe)) {
            for (size_t k = 0; ok && k < ps->n; k++) {
                const struct rmg_tx_path *p = &ps->v[k];
                if (maybe)
                    ok = rmg_tx_add(&out, p);
                if (p->kw.held) {
                    struct rmg_tx_path q = *p;
                    rmg_tx_append(&q, single, set, 1, false);
                    ok = ok && rmg_tx_add(&out, &q);
                    continue;
                }
                for (unsigned s = 0; ok && s < a.n_set; s++) {
                    struct rmg_tx_path q = rmg_tx_step(p, a.set[s], kw);
                    ok = rmg_tx_add(&out, &q);
                }
            }
        } else if (a.kind == RMG_RX_GROUP && (maybe || a.qmin >= 1)) {
            memcpy(sub.v, ps->v, ps->n * sizeof *ps->v);
            sub.n = ps->n;
            sub.overflow = false;
            ok = rmg_tx_walk_alts(re, a.body, a.body_end, kw, &sub, depth + 1);
            bool all = sub.n > 0;
            for (size_t k = 0; ok && k < sub.n; k++)
                all = all && sub.v[k].kw.held;
            if (!ok) {
                break;
            } else if (maybe) { /* skipped, or taken once */
                for (size_t k = 0; ok && k < ps->n; k++)
                    ok = rmg_tx_add(&out, &ps->v[k]);
                for (size_t k = 0; ok && k < sub.n; k++)
                    ok = rmg_tx_add(&out, &sub.v[k]);
            } else if (once) {
                for (size_t k = 0; ok && k < sub.n; k++)
                    ok = rmg_tx_add(&out, &sub.v[k]);
            } else if (all) { /* repeated: the first repetition, then text not followed */
                ok = rmg_tx_reset(&sub, &out, true);
            } else { /* as the keyword walk: what the group held is not counted */
                ok = rmg_tx_reset(ps, &out, true);
            }
        } else if (a.kind == RMG_RX_ZERO && once) {
            ok = rmg_tx_reset(ps, &out, false); /* held paths: nothing consumed */
        } else {
            /* Text the keyword walk does not follow: paths holding no keyword forget theirs;
             * a held path goes on with the item's bytes when it is one byte repeated. */
            ok = rmg_tx_reset(ps, &sub, false);
            for (size_t k = 0; ok && k < sub.n; k++) {
                struct rmg_tx_path q = sub.v[k];
                if (q.kw.held && a.kind != RMG_RX_ZERO) {
                    if (single && maybe) {
                        ok = rmg_tx_add(&out, &q);
                        rmg_tx_append(&q, true, set, 1, false);
                    } else if (single) {
                        rmg_tx_append(&q, true, set, a.qmin, more);
                    } else {
                        q.closed = true;
                    }
                }
                ok = ok && rmg_tx_add(&out, &q);
            }
        }
        if (!ok || out.overflow) {
            ok = false;
            break;
        }
        memcpy(ps->v, out.v, out.n * sizeof *out.v);
        ps->n = out.n;
        i = a.qend;
    }
    free(out.v);
    free(sub.v);
    return ok;
}

/* Each alternative of re[from, to) from the paths in ps; ps becomes the union of their ends. */
static inline bool rmg_tx_walk_alts(const char *re, size_t from, size_t to,
                                    const struct rmg_rx_kw *kw, struct rmg_tx_paths *ps,
                                    int depth)
{
    struct rmg_tx_paths in = {(struct rmg_tx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *in.v), 0,
                              false};
    struct rmg_tx_paths alt = {(struct rmg_tx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *alt.v), 0,
                               false};
    bool ok = in.v && alt.v;
    if (ok) {
        memcpy(in.v, ps->v, ps->n * sizeof *ps->v);
        in.n = ps->n;
        ps->n = 0;
    }
    size_t start = from, i = from;
    while (ok && i <= to) {
        if (i == to || re[i] == '|') {
            memcpy(alt.v, in.v, in.n * sizeof *in.v);
            alt.n = in.n;
            alt.overflow = false;
            ok = rmg_tx_walk_seq(re, start, i, kw, &alt, depth);
            for (size_t k = 0; ok && k < alt.n; k++)
                ok = rmg_tx_add(ps, &alt.v[k]);
            start = i + 1;
            i++;
            continue;
        }
        struct rmg_rx_atom a = rmg_rx_atom_at(re, to, i, depth);
        if (a.kind == RMG_RX_BAD)
            ok = false;
        i = a.qend;
    }
    free(in.v);
    free(alt.v);
    return ok && !ps->overflow;
}

/* The keyword tail of a rule (above): tail[0, n) get, as bit sets, the bytes that follow in
 * every match the keyword rmg_keyword_reach speaks of: byte j after its end is in tail[j].
 * Returns n, 0 when nothing is shown. And further on: when every path of the walk comes, within
 * RMG_NEAR_MAX bytes after the keyword, to a byte of a near set (a few punctuation bytes, as
 * the `>` of `<password>`), *near_dist gets d and near the union of those sets: a byte of it
 * lies in [e, e + d) after a keyword ending at e (0: nothing shown). Thread-safe. */
static inline unsigned rmg_keyword_tail(const char *regex, char *const *keywords,
                                        size_t n_keywords, unsigned char tail[][32],
                                        unsigned char near[32], unsigned *near_dist)
{
    memset(near, 0, 32);
    *near_dist = 0;
    size_t n = strlen(regex);
    if (n_keywords == 0 || n >= 65536)
        return 0;
    for (size_t k = 0; k < n_keywords; k++)
        if (!keywords[k][0] || strlen(keywords[k]) > RMG_RX_TAIL)
            return 0;
    struct rmg_rx_kw kw = {keywords, n_keywords};
    struct rmg_tx_paths ps = {(struct rmg_tx_path *)malloc(RMG_RX_MAX_PATHS * sizeof *ps.v), 1,
                              false};
    if (!ps.v)
        return 0;
    memset(&ps.v[0], 0, sizeof ps.v[0]);
    unsigned len = 0;
    if (rmg_tx_walk_alts(regex, 0, n, &kw, &ps, 0) && ps.n > 0) {
        len = RMG_TAIL_MAX;
        unsigned d = 1;
        for (size_t k = 0; k < ps.n; k++) {
            const struct rmg_tx_path *p = &ps.v[k];
            if (!p->kw.held)
                len = 0; /* a match may hold no keyword the walk can see */
            else if (p->n_after < len)
                len = p->n_after;
            if (!p->kw.held || p->near_at == 0xff)
                d = 0;
            else if (d && p->near_at + 1u > d)
                d = p->near_at + 1u;
            for (unsigned b = 0; d && b < 32; b++)
                near[b] |= p->near[b];
        }
        *near_dist = d;
        if (!d)
            memset(near, 0, 32);
        for (unsigned j = 0; j < len; j++) {
            memset(tail[j], 0, 32);
            for (size_t k = 0; k < ps.n; k++)
                for (unsigned b = 0; b < 32; b++)
                    tail[j][b] |= ps.v[k].after[j][b];
        }
        /* sets of every byte at the end tell nothing */
        while (len > 0) {
            unsigned b = 0;
            while (b < 32 && tail[len - 1][b] == 0xff)
                b++;
            if (b < 32)
                break;
            len--;
        }
    }
    free(ps.v);
    return len;
}

#endif
