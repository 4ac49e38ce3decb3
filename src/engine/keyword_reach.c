/* keyword_reach.c: where a keyword must sit in a match of a rule regex, shown from the
 * regex's text: how far into a match it ends (reach), a byte of a small set that must come
 * soon after it (follow), and the bytes a match cannot start after (lead). DESIGN and
 * contracts: regex_width.h. */
#ifdef RMG_HAVE_VECTORSCAN
#include "engine/keyword_reach.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/regex_syntax.h"
#include "engine/regex_width.h"

/* ---- the keyword walk ----------------------------------------------------------------- */

struct rmg_rx_paths {
    struct rmg_rx_path *v;
    size_t n;
    bool overflow; /* the set grew too big: the walk gives up */
};

static bool rmg_rx_paths_add(struct rmg_rx_paths *ps, const struct rmg_rx_path *p)
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

static bool rmg_rx_all_held(const struct rmg_rx_paths *ps)
{
    for (size_t k = 0; k < ps->n; k++)
        if (!ps->v[k].held)
            return false;
    return ps->n > 0;
}

/* Every path goes on with one byte of `set`; a path whose tail then ends with a keyword
 * holds one. */
static bool rmg_rx_paths_extend(struct rmg_rx_paths *ps, const struct rmg_rx_atom *a,
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
static void rmg_rx_paths_reset(struct rmg_rx_paths *ps)
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

static void rmg_rx_buf_put(struct rmg_rx_buf *b, const char *s, size_t n)
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

static enum rmg_rx_result rmg_rx_walk_alts(const char *re, size_t from, size_t to,
                                           const struct rmg_rx_kw *kw, struct rmg_rx_paths *ps,
                                           int depth, struct rmg_rx_buf *prefix);

/* The alternatives of group atom a walked from a copy of ps into *out (a new array of
 * RMG_RX_MAX_PATHS, freed by the caller; out->v NULL on out of memory, nothing walked). */
static enum rmg_rx_result rmg_rx_walk_group(const char *re, const struct rmg_rx_atom *a,
                                            const struct rmg_rx_kw *kw,
                                            const struct rmg_rx_paths *ps, int depth,
                                            struct rmg_rx_paths *out, struct rmg_rx_buf *alt_prefix)
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
static enum rmg_rx_result rmg_rx_walk_seq(const char *re, size_t from, size_t to,
                                          const struct rmg_rx_kw *kw, struct rmg_rx_paths *ps,
                                          int depth, struct rmg_rx_buf *prefix, size_t *held_at,
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
static enum rmg_rx_result rmg_rx_walk_alts(const char *re, size_t from, size_t to,
                                           const struct rmg_rx_kw *kw, struct rmg_rx_paths *ps,
                                           int depth, struct rmg_rx_buf *prefix)
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

/* ---- keyword reach -------------------------------------------------------------------- */

unsigned rmg_keyword_reach(const char *regex, char *const *keywords, size_t n_keywords)
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

/* ---- keyword follow ------------------------------------------------------------------- */

/* A keyword's follow set is checked over at most this many bytes (a longer stretch would
 * rarely miss the set, and costs more to look at than the window it saves). */
#define RMG_FOLLOW_MAX 64

/* The width of re[from, to) as a regex of its own (an item of a rule regex), 0 if unknown. */
static unsigned rmg_rx_item_width(const char *re, size_t from, size_t to)
{
    struct rmg_rx_buf b = {NULL, 0, 0, false};
    rmg_rx_buf_put(&b, "(?:", 3);
    rmg_rx_buf_put(&b, re + from, to - from);
    rmg_rx_buf_put(&b, ")", 1);
    unsigned w = b.failed ? 0 : rmg_regex_width(b.s);
    free(b.s);
    return w == UINT_MAX ? 0 : w;
}

bool rmg_keyword_follow(const char *regex, char *const *keywords, size_t n_keywords,
                        unsigned char follow[256], unsigned *dist, unsigned *back)
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

/* ---- keyword lead --------------------------------------------------------------------- */

/* The bytes a class at re[i] == '[' surely matches (a subset when unsure: letters of the
 * other case under (?i) are left out). False for a class not understood or negated. */
static bool rmg_rx_class_bits(const char *re, size_t n, size_t i, unsigned char bits[256],
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

bool rmg_keyword_lead(const char *regex, unsigned char excl[256])
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

#endif /* RMG_HAVE_VECTORSCAN */
