/* ignore_match.c: which paths a parsed .dockerignore excludes, walked as BuildKit walks the
 * build context (rmg_ignore_excluded, rmg_ignore_may_reinclude, rmg_ignore_count of
 * dockerignore.h).
 *
 * DESIGN. Which paths are excluded follows BuildKit's context walk (tonistiigi/fsutil
 * filterFS.Walk): for each directory on the way down, MatchesUsingParentResults with the
 * parent's per-pattern results (a pattern is tested only where it could flip the verdict; a
 * pattern that matched a directory matches everything below it), and an excluded directory
 * is skipped whole when no exception could reach into it. This differs from
 * MatchesOrParentMatches in corner cases: with the lines "**" "/" "*.pem" and "!certs",
 * BuildKit still leaves out certs/a.pem.
 *
 * A pattern's regular expression (goregexp.h) is simulated Thompson-style: each step visits
 * an instruction at most once, so a pattern of thousands of stars costs time linear in its
 * length, never exponential, and nothing recurses. One query gives up after a fixed amount
 * of work (answering on the side of scanning); that does not happen with real ignore files.
 *
 * A parsed matcher is read-only; matching allocates its own scratch, so threads may share
 * it. */
#include "context/dockerignore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context/goregexp.h"
#include "context/gotext.h"
#include "context/ignore_pattern.h"

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
        const struct rmg_ignore_pattern *pt = &ig->pats[i];
        if (pt->kind != RMG_IGNORE_REGEX)
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

static bool in_class(const struct rmg_ignore_pattern *pt, const struct rmg_nfa_inst *in, uint32_t r)
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
static size_t closure(const struct rmg_ignore_pattern *pt, struct scratch *sc,
                      const uint32_t *kernel, size_t nk, const struct at *at, bool *hit)
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
            const struct rmg_nfa_inst *in = &pt->prog[pc];
            switch (in->op) {
            case RMG_NFA_JMP: next[nn++] = in->a; break;
            case RMG_NFA_SPLIT: next[nn++] = in->b; next[nn++] = in->a; break;
            case RMG_NFA_BEGIN: if (at->begin) next[nn++] = pc + 1; break;
            case RMG_NFA_END: if (at->end) next[nn++] = pc + 1; break;
            case RMG_NFA_WORDB: if (at->word_before != at->word_after) next[nn++] = pc + 1; break;
            case RMG_NFA_NWORDB: if (at->word_before == at->word_after) next[nn++] = pc + 1; break;
            case RMG_NFA_MATCH: *hit = true; break;
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
static bool nfa_match(const struct rmg_ignore_pattern *pt, struct nfa *st, const char *path,
                      size_t len, struct scratch *sc)
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
        uint32_t r = rmg_gotext_decode_rune(p + c, len - c, &w);
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
    const struct rmg_ignore_pattern *pt = &ig->pats[i];
    switch (pt->kind) {
    case RMG_IGNORE_EXACT:
        return len == pt->len && memcmp(path, pt->text, len) == 0;
    case RMG_IGNORE_PREFIX:
        return len >= pt->len - 2 && memcmp(path, pt->text, pt->len - 2) == 0;
    case RMG_IGNORE_SUFFIX: {
        const char *suf = pt->text + 2;
        size_t sl = pt->len - 2;
        if (len >= sl && memcmp(path + len - sl, suf, sl) == 0)
            return true;
        /* "**" "/foo" also matches "foo" */
        return suf[0] == '/' && len == sl - 1 && memcmp(path, suf + 1, sl - 1) == 0;
    }
    case RMG_IGNORE_REGEX:
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
        const struct rmg_ignore_pattern *pt = &ig->pats[i];
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
        const struct rmg_ignore_pattern *pt = &ig->pats[i];
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
    size_t len = rmg_gotext_clean_path(path, n, sc->path);
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
