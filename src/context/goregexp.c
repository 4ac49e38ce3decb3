/* goregexp.c: Go regular expressions, with Go's regexp/syntax rules, compiled to an NFA
 * program (goregexp.h).
 *
 * DESIGN. The expression is the one Pattern.compile builds for a .dockerignore pattern
 * (ignore_pattern.c), interpreted the way Go's regexp/syntax does with its Perl flags ('.'
 * does not match a newline, negated classes do, '^' and '$' anchor the whole text,
 * MatchString finds a match starting anywhere) and compiled to a small NFA that
 * ignore_match.c simulates Thompson-style, so no program can make matching exponential.
 * Go's errors are reproduced (Docker fails the build on them); what rummage does not
 * implement (Go's \p Unicode classes, and the group shapes a translated pattern cannot
 * produce: nested or flagged groups, '|' inside a group) is refused as unsupported rather
 * than half-matched. Runs of identical stars collapse into one (the same language, fewer
 * states), and a pattern that expands past a million instructions is refused, which no
 * real ignore file does. Nothing recurses. */
#include "context/goregexp.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "context/gotext.h"

/* ---- Go regexp (Perl flags) to NFA ------------------------------------------------------- */

struct rx {
    const char *s; /* the regular expression, valid UTF-8 */
    size_t n, i;
    struct rmg_nfa_inst *prog;
    size_t nprog, capprog;
    uint32_t *rng; /* lo, hi pairs: nrng counts values, not pairs */
    size_t nrng, caprng;
    const char *why; /* set on a syntax error */
    bool unsupported;
    bool nomem;
    size_t *alt_start, *alt_jmp; /* where each alternative starts, its jump to the end */
    size_t n_alts, cap_alts, cap_jmps;
};

static bool emit(struct rx *x, uint32_t op, uint32_t a, uint32_t b)
{
    if (x->nprog >= RMG_GOREGEXP_MAX_INSTS) {
        x->why = "it expands to more than 1000000 regexp instructions";
        x->unsupported = true;
        return false;
    }
    if (!rmg_grow(&x->prog, &x->capprog, x->nprog + 1, sizeof *x->prog)) {
        x->nomem = true;
        return false;
    }
    x->prog[x->nprog++] = (struct rmg_nfa_inst){op, a, b};
    return true;
}

static bool add_range(struct rx *x, uint32_t lo, uint32_t hi)
{
    if (!rmg_grow(&x->rng, &x->caprng, x->nrng + 2, sizeof *x->rng)) {
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
    return next > RMG_MAX_RUNE || add_range(x, next, RMG_MAX_RUNE);
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
    return emit(x, RMG_NFA_CLASS, (uint32_t)(from / 2), (uint32_t)((x->nrng - from) / 2));
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
    uint32_t r = rmg_gotext_decode_rune((const unsigned char *)x->s + x->i, x->n - x->i, &w);
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
                if (r > RMG_MAX_RUNE)
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
    if (!emit(x, RMG_NFA_MATCH, 0, 0))
        return false;
    memmove(x->prog + at + 1, x->prog + at, (x->nprog - 1 - at) * sizeof *x->prog);
    for (size_t k = at + 1; k < x->nprog; k++) {
        struct rmg_nfa_inst *in = &x->prog[k];
        if (in->op == RMG_NFA_JMP || in->op == RMG_NFA_SPLIT) {
            if (in->a >= at)
                in->a++;
            if (in->op == RMG_NFA_SPLIT && in->b >= at)
                in->b++;
        }
    }
    return true;
}

/* What the last item is, so that a run of identical "[^/]" stars, or of the optional
 * dot-star-slash groups (which "***" and "**" "/" "**" produce), collapses into one item:
 * the same language with fewer states. */
enum sig { SIG_NONE, SIG_CLASS_STAR, SIG_ANY_SLASH_OPT };

static bool same_class(const struct rx *x, const struct rmg_nfa_inst *a,
                       const struct rmg_nfa_inst *b)
{
    return a->b == b->b &&
           memcmp(x->rng + 2 * a->a, x->rng + 2 * b->a, 2 * a->b * sizeof(uint32_t)) == 0;
}

/* Where a jump chain starting at pc ends (jumps only go back to a SPLIT, but stay safe). */
static uint32_t jump_end(const struct rx *x, uint32_t pc)
{
    for (size_t hops = 0; x->prog[pc].op == RMG_NFA_JMP && hops < x->nprog; hops++)
        pc = x->prog[pc].a;
    return pc;
}

/* Fewer steps per character: a SPLIT never targets a JMP, and a JMP to a SPLIT becomes a
 * copy of it. */
static void thread_jumps(struct rx *x)
{
    for (size_t pc = 0; pc < x->nprog; pc++) {
        struct rmg_nfa_inst *in = &x->prog[pc];
        if (in->op == RMG_NFA_SPLIT) {
            in->a = jump_end(x, in->a);
            in->b = jump_end(x, in->b);
        }
    }
    for (size_t pc = 0; pc < x->nprog; pc++) {
        struct rmg_nfa_inst *in = &x->prog[pc];
        if (in->op == RMG_NFA_JMP) {
            uint32_t t = jump_end(x, in->a);
            if (x->prog[t].op == RMG_NFA_SPLIT)
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
static bool copy_block(struct rx *x, const struct rmg_nfa_inst *blk, size_t len, size_t from)
{
    size_t base = x->nprog;
    for (size_t k = 0; k < len; k++) {
        struct rmg_nfa_inst in = blk[k];
        if (in.op == RMG_NFA_JMP || in.op == RMG_NFA_SPLIT) {
            in.a = (uint32_t)(in.a - from + base);
            if (in.op == RMG_NFA_SPLIT)
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
    if (atom + total > RMG_GOREGEXP_MAX_INSTS) {
        x->why = "it expands to more than 1000000 regexp instructions";
        x->unsupported = true;
        return false;
    }
    struct rmg_nfa_inst *blk = malloc(len * sizeof *blk + 1);
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
        ok = emit(x, RMG_NFA_SPLIT, (uint32_t)loop + 1, 0) && copy_block(x, blk, len, atom) &&
             emit(x, RMG_NFA_JMP, (uint32_t)loop, 0);
        if (ok)
            x->prog[loop].b = (uint32_t)x->nprog;
    }
    for (int k = min; ok && k < max; k++) { /* x{n,m}: then m - n times x? */
        size_t sp = x->nprog;
        ok = emit(x, RMG_NFA_SPLIT, (uint32_t)sp + 1, 0) && copy_block(x, blk, len, atom);
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
        if (!emit(x, RMG_NFA_MATCH, 0, 0))
            return false;
    memmove(x->prog + k, x->prog, (x->nprog - k) * sizeof *x->prog);
    for (size_t pc = k; pc < x->nprog; pc++) {
        struct rmg_nfa_inst *in = &x->prog[pc];
        if (in->op == RMG_NFA_JMP || in->op == RMG_NFA_SPLIT) {
            in->a += (uint32_t)k;
            if (in->op == RMG_NFA_SPLIT)
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
    if (!emit(x, RMG_NFA_MATCH, 0, 0))
        return false;
    if (k == 1 && x->prog[0].op == RMG_NFA_BEGIN)
        return true; /* anchored */
    size_t match = x->nprog - 1;
    for (size_t a = 0; a + 1 < k; a++)
        x->prog[x->alt_jmp[a]].a = (uint32_t)match;
    size_t pro = 3 + (k - 1);
    size_t from = x->nrng;
    if (!add_range(x, 0, RMG_MAX_RUNE) || !prepend(x, pro))
        return false;
    x->prog[0] = (struct rmg_nfa_inst){RMG_NFA_SPLIT, 3, 1};
    x->prog[1] = (struct rmg_nfa_inst){RMG_NFA_CLASS, (uint32_t)(from / 2), 1};
    x->prog[2] = (struct rmg_nfa_inst){RMG_NFA_JMP, 0, 0};
    for (size_t a = 0; a + 1 < k; a++) {
        uint32_t next = a + 2 < k ? (uint32_t)(3 + a + 1) : (uint32_t)(x->alt_start[k - 1] + pro);
        x->prog[3 + a] =
            (struct rmg_nfa_inst){RMG_NFA_SPLIT, (uint32_t)(x->alt_start[a] + pro), next};
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

    if (!rmg_grow(&x->alt_start, &x->cap_alts, 1, sizeof *x->alt_start)) {
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
            if (!rmg_grow(&x->alt_start, &x->cap_alts, k + 1, sizeof *x->alt_start) ||
                !rmg_grow(&x->alt_jmp, &x->cap_jmps, k, sizeof *x->alt_jmp)) {
                x->nomem = true;
                return false;
            }
            if (!emit(x, RMG_NFA_JMP, 0, 0)) /* to the final MATCH, patched at the end */
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
            if (!emit(x, c == '^' ? RMG_NFA_BEGIN : RMG_NFA_END, 0, 0))
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
            bool class_star = c == '*' && end == atom + 1 && x->prog[atom].op == RMG_NFA_CLASS;
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
                if (!emit(x, RMG_NFA_SPLIT, (uint32_t)atom, (uint32_t)end + 1))
                    return false;
            } else {
                if (!insert_at(x, atom))
                    return false;
                end++;
                if (c == '*') {
                    x->prog[atom] = (struct rmg_nfa_inst){RMG_NFA_SPLIT, (uint32_t)atom + 1,
                                                          (uint32_t)end + 1};
                    if (!emit(x, RMG_NFA_JMP, (uint32_t)atom, 0))
                        return false;
                } else {
                    x->prog[atom] =
                        (struct rmg_nfa_inst){RMG_NFA_SPLIT, (uint32_t)atom + 1, (uint32_t)end};
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
                uint32_t op = e == 'A' ? RMG_NFA_BEGIN : e == 'z' ? RMG_NFA_END
                            : e == 'b' ? RMG_NFA_WORDB : e == 'B' ? RMG_NFA_NWORDB
                            : RMG_NFA_MATCH;
                if (op != RMG_NFA_MATCH) {
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

enum rmg_status rmg_goregexp_compile(const char *re, size_t n, struct rmg_nfa_inst **prog,
                                     size_t *nprog, uint32_t **ranges, const char **why,
                                     bool *unsupported)
{
    struct rx x = {.s = re, .n = n};
    bool parsed = parse_regex(&x);
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
    *prog = x.prog;
    *nprog = x.nprog;
    *ranges = x.rng;
    return RMG_OK;
}
