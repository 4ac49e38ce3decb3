/* keyword_tail.c: what must come right after a keyword in a match of a rule regex
 * (rmg_keyword_tail): the set of each byte that follows it, and a near set further on.
 *
 * DESIGN (with regex_width.h's): the bytes that follow the keyword a match holds, position by
 * position, as far as the regex fixes them (`sk_` then 8 bytes of [a-z0-9] for
 * `sk_(?:[a-z2-7]{26}[a-z2-7*#$=]|[0-9a-f]{8}-...)`), at most RMG_TAIL_MAX of them. The
 * keyword is the one rmg_keyword_reach and rmg_keyword_follow speak of: the walk below makes
 * the same steps as theirs (rmg_rx_walk_seq in keyword_reach.c) on the text before a keyword
 * and only adds, on a path that holds one, the sets of the bytes after it. */
#ifdef RMG_HAVE_VECTORSCAN
#include "engine/regex_width.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/keyword_reach.h"
#include "engine/regex_syntax.h"

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

static void rmg_tx_bit(unsigned char set[32], unsigned c)
{
    set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

bool rmg_tx_has(const unsigned char set[32], unsigned c)
{
    return (set[c >> 3] >> (c & 7)) & 1u;
}

/* Adds a path. Held paths with the same state are one path, their sets joined (a superset
 * of each); so are all closed ones, cut to the shortest. */
static bool rmg_tx_add(struct rmg_tx_paths *ps, const struct rmg_tx_path *p)
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
static struct rmg_tx_path rmg_tx_step(const struct rmg_tx_path *p, unsigned char c,
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
static void rmg_tx_append(struct rmg_tx_path *p, bool known, const unsigned char set[32],
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
static void rmg_tx_escape_set(char e, unsigned char in[256])
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
static bool rmg_tx_class(const char *re, size_t n, size_t i, unsigned char bits[256], size_t *end)
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
static bool rmg_tx_item_bytes(const char *re, const struct rmg_rx_atom *a, size_t i,
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
static bool rmg_tx_reset(const struct rmg_tx_paths *in, struct rmg_tx_paths *out, bool close)
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

static bool rmg_tx_walk_alts(const char *re, size_t from, size_t to, const struct rmg_rx_kw *kw,
                             struct rmg_tx_paths *ps, int depth);

/* The tail walk over the sequence re[from, to), from the paths in ps: the steps of
 * rmg_rx_walk_seq for the paths that hold no keyword, and for those that do, the bytes
 * after it. Goes on to the end of the sequence. False: give up. */
static bool rmg_tx_walk_seq(const char *re, size_t from, size_t to, const struct rmg_rx_kw *kw,
                            struct rmg_tx_paths *ps, int depth)
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
static bool rmg_tx_walk_alts(const char *re, size_t from, size_t to, const struct rmg_rx_kw *kw,
                             struct rmg_tx_paths *ps, int depth)
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

unsigned rmg_keyword_tail(const char *regex, char *const *keywords, size_t n_keywords,
                          unsigned char tail[][32], unsigned char near[32], unsigned *near_dist)
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

#endif /* RMG_HAVE_VECTORSCAN */
