/* scanner.c: the scanner: prefilter candidates, PCRE2 confirmation in windows, filters.
 *
 * DESIGN. A file is streamed through a buffer of chunk + overlap bytes. For each buffer the
 * prefilter (Vectorscan, or the keyword automaton) reports candidates per rule: where one of
 * its keywords ends, or where a match of its regex in prefilter mode ends. A match holding a
 * keyword that ends at e starts in [e - reach, e - kw_min] (reach: how far into a match its
 * keyword must end, proven from the pattern, else the span; kw_min: the shortest keyword), and
 * a keyword whose neighbouring bytes no match can have (a lead byte before, no follow byte
 * after: regex_width.h) opens no window at all; a match ending at e and at most `span` long
 * starts in [e - span, e]. Those start ranges (windows, merged per rule) are all PCRE2 has to
 * try, using an offset limit so a search never starts past its window; a short window is
 * searched with a compile that skips PCRE2's start-up scan for a required byte, which would
 * otherwise read to the end of the buffer each time. Per rule, matches are taken in order and
 * never overlap (the next search starts at the end of the previous match), exactly as one
 * PCRE2 pass over the whole file would: the windows only skip start positions where no match
 * can begin, so every engine, and every chunk size, gives the same matches. A buffer reports
 * only matches that start before its last `overlap` bytes (unless it is the last), then keeps
 * those bytes plus the longest lookbehind as the next buffer's head. A confirmed match goes
 * through the rule's filters (span, entropy, placeholders, allow-lists, validator, inline
 * `rummage:allow`); at the end of the file, findings whose secrets overlap are reduced to the
 * most specific one.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#ifdef RMG_HAVE_VECTORSCAN
#include <hs.h>

#include "engine/regex_width.h"
#endif

#include "engine/entropy.h"
#include "engine/rules.h"
#include "common/util.h"

#define DEFAULT_CHUNK (1u << 20)
#define LOOKAHEAD_SLACK 256
#define BINARY_SNIFF 8192
#define MATCH_LIMIT 2000000
#define DEPTH_LIMIT 100000
/* Windows with fewer start positions are searched without PCRE2's start-up optimizations
 * (rules.c, wants_window_code). */
#define WINDOW_CODE_MAX 256

struct window {
    size_t a, b; /* start positions a..b (inclusive), buffer coordinates */
};

struct rule_windows {
    struct window *v;
    size_t n, cap;
};

struct rmg_scanner {
    const struct rmg_rules *rules;
    struct rmg_scan_opts opts;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
#ifdef RMG_HAVE_VECTORSCAN
    hs_scratch_t *hs_scratch;
#endif
    struct rule_windows *win; /* per rule */
    uint64_t *pos;            /* per rule: absolute offset where its next match may start */
    size_t overlap, ctx;
    unsigned char *buf;
    size_t len, cap;
    size_t from;  /* first start position this buffer may report */
    size_t limit; /* start positions < limit are this buffer's to report */
    uint64_t base;
    uint64_t line_at_base, col_at_base; /* 1-based line of buf[0]; bytes before it on its line */
    size_t nl_cache_p;                  /* newline count cache for positions */
    uint64_t nl_cache_n;
    size_t nl_cache_last;               /* position of the last newline before nl_cache_p+1, or SIZE_MAX */
    bool binary, decided, active, limit_warned;
    enum rmg_status status;
    struct rmg_location loc;
    struct rmg_results *out;
    struct rmg_results pending;
    uint64_t total;
};

struct rmg_scanner *rmg_scanner_new(const struct rmg_rules *rules,
                                    const struct rmg_scan_opts *opts)
{
    if (!rules || !rules->compiled)
        return NULL;
    struct rmg_scanner *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->rules = rules;
    if (opts)
        sc->opts = *opts;
    if (!sc->opts.chunk_size)
        sc->opts.chunk_size = DEFAULT_CHUNK;
    sc->overlap = rules->max_span + LOOKAHEAD_SLACK;
    sc->ctx = rules->max_lookbehind + 1;
    sc->cap = sc->opts.chunk_size + sc->overlap + sc->ctx;
    sc->buf = malloc(sc->cap + 1);
    sc->md = pcre2_match_data_create(rules->max_groups, NULL);
    sc->mctx = pcre2_match_context_create(NULL);
    sc->win = calloc(rules->n ? rules->n : 1, sizeof *sc->win);
    sc->pos = calloc(rules->n ? rules->n : 1, sizeof *sc->pos);
    if (!sc->buf || !sc->md || !sc->mctx || !sc->win || !sc->pos)
        goto fail;
    pcre2_set_match_limit(sc->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(sc->mctx, DEPTH_LIMIT);
#ifdef RMG_HAVE_VECTORSCAN
    /* One scratch serves both databases (grown to fit each; one scan at a time). */
    if (rules->hs_db && hs_alloc_scratch(rules->hs_db, &sc->hs_scratch) != HS_SUCCESS)
        goto fail;
    if (rules->hs_builtin && hs_alloc_scratch(rules->hs_builtin, &sc->hs_scratch) != HS_SUCCESS)
        goto fail;
#endif
    rmg_results_init(&sc->pending);
    return sc;
fail:
    rmg_scanner_free(sc);
    return NULL;
}

void rmg_scanner_free(struct rmg_scanner *sc)
{
    if (!sc)
        return;
    free(sc->buf);
    pcre2_match_data_free(sc->md);
    pcre2_match_context_free(sc->mctx);
#ifdef RMG_HAVE_VECTORSCAN
    if (sc->hs_scratch)
        hs_free_scratch(sc->hs_scratch);
#endif
    for (size_t i = 0; sc->win && i < sc->rules->n; i++)
        free(sc->win[i].v);
    free(sc->win);
    free(sc->pos);
    rmg_location_free(&sc->loc);
    rmg_results_clear(&sc->pending);
    free(sc);
}

enum rmg_status rmg_scanner_begin(struct rmg_scanner *sc, const struct rmg_location *loc,
                                  struct rmg_results *out)
{
    rmg_location_free(&sc->loc);
    if (!rmg_location_copy(&sc->loc, loc))
        return RMG_ENOMEM;
    sc->out = out;
    sc->len = 0;
    sc->from = 0;
    sc->base = 0;
    sc->line_at_base = 1;
    sc->col_at_base = 0;
    sc->decided = sc->binary = sc->limit_warned = false;
    sc->active = true;
    sc->status = RMG_OK;
    sc->total = 0;
    memset(sc->pos, 0, sc->rules->n * sizeof *sc->pos);
    rmg_results_clear(&sc->pending);
    return RMG_OK;
}

/* ---- positions ------------------------------------------------------------------------ */

/* The newlines in p[0, n), 16 bytes at a time (every byte of every file goes through here:
 * one memchr per line cost more than the scan of many rules). */
static size_t count_newlines(const unsigned char *p, size_t n)
{
    typedef unsigned char bytes16 __attribute__((vector_size(16)));
    const bytes16 newline = {'\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
                             '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n'};
    size_t count = 0, i = 0;
    while (n - i >= 16) {
        bytes16 sum = {0};
        size_t blocks = (n - i) / 16;
        if (blocks > 255) /* each byte of sum counts to 255 at most */
            blocks = 255;
        for (size_t b = 0; b < blocks; b++, i += 16) {
            bytes16 v;
            memcpy(&v, p + i, sizeof v);
            sum -= (bytes16)(v == newline); /* -1 where equal */
        }
        for (int k = 0; k < 16; k++)
            count += sum[k];
    }
    for (; i < n; i++)
        count += p[i] == '\n';
    return count;
}

static void line_col(struct rmg_scanner *sc, size_t p, uint64_t *line, uint64_t *col)
{
    size_t from = 0;
    uint64_t n = 0;
    size_t last = SIZE_MAX;
    if (sc->nl_cache_p <= p) {
        from = sc->nl_cache_p;
        n = sc->nl_cache_n;
        last = sc->nl_cache_last;
    }
    size_t more = count_newlines(sc->buf + from, p - from);
    if (more) {
        n += more;
        last = (size_t)((const unsigned char *)memrchr(sc->buf + from, '\n', p - from) - sc->buf);
    }
    sc->nl_cache_p = p;
    sc->nl_cache_n = n;
    sc->nl_cache_last = last;
    if (n == 0) {
        *line = sc->line_at_base;
        *col = sc->col_at_base + p + 1;
    } else {
        *line = sc->line_at_base + n;
        *col = p - last;
    }
}

/* True when the line(s) holding buf[a..b) carry the inline allow marker. */
static bool inline_allowed(const struct rmg_scanner *sc, size_t a, size_t b)
{
    static const char marker[] = "rummage:allow";
    size_t ls = a, le = b;
    size_t lo = a > 4096 ? a - 4096 : 0;
    while (ls > lo && sc->buf[ls - 1] != '\n')
        ls--;
    size_t hi = b + 4096 < sc->len ? b + 4096 : sc->len;
    while (le < hi && sc->buf[le] != '\n')
        le++;
    return memmem(sc->buf + ls, le - ls, marker, sizeof marker - 1) != NULL;
}

/* ---- confirming ----------------------------------------------------------------------- */

static bool allowed_by_rule(const struct rmg_rule_impl *ri, const char *s, size_t n,
                            pcre2_match_data *md)
{
    for (size_t i = 0; i < ri->pub.n_allow_values; i++)
        if (strlen(ri->pub.allow_values[i]) == n && memcmp(ri->pub.allow_values[i], s, n) == 0)
            return true;
    for (size_t i = 0; i < ri->n_allow_re; i++)
        if (pcre2_match(ri->allow_re[i], (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0)
            return true;
    return false;
}

static void add_finding(struct rmg_scanner *sc, const struct rmg_rule_impl *ri, size_t ss,
                        size_t se, enum rmg_confidence conf)
{
    struct rmg_results *r = &sc->pending;
    if (r->n_findings == r->cap_findings) {
        size_t cap = r->cap_findings ? r->cap_findings * 2 : 16;
        struct rmg_finding *p = realloc(r->findings, cap * sizeof *p);
        if (!p) {
            sc->status = RMG_ENOMEM;
            return;
        }
        r->findings = p;
        r->cap_findings = cap;
    }
    struct rmg_finding *f = &r->findings[r->n_findings];
    memset(f, 0, sizeof *f);
    f->rule = &ri->pub;
    f->secret_len = se - ss;
    f->secret = rmg_strndup((const char *)sc->buf + ss, se - ss);
    if (!f->secret || !rmg_location_copy(&f->loc, &sc->loc)) {
        free(f->secret);
        sc->status = RMG_ENOMEM;
        return;
    }
    struct rmg_buf fp = {0};
    if (!rmg_buf_puts(&fp, ri->pub.id) || !rmg_buf_append(&fp, "", 1) ||
        !rmg_buf_append(&fp, f->secret, f->secret_len)) {
        rmg_buf_free(&fp);
        rmg_finding_free(f);
        sc->status = RMG_ENOMEM;
        return;
    }
    rmg_sha256_hex(fp.data, fp.len, f->fingerprint);
    rmg_buf_free(&fp);
    f->severity = ri->pub.severity;
    f->confidence = conf;
    f->state = RMG_STATE_PRESENT;
    f->changed_layer = -1;
    f->loc.offset = sc->base + ss;
    line_col(sc, ss, &f->loc.line, &f->loc.column);
    r->n_findings++;
}

static void confirmed(struct rmg_scanner *sc, const struct rmg_rule_impl *ri, size_t ms,
                      size_t me)
{
    if (me - ms > ri->pub.max_span)
        return;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
    size_t ss = ms, se = me;
    if (ri->secret_group) {
        if (ov[2 * ri->secret_group] == PCRE2_UNSET)
            return;
        ss = ov[2 * ri->secret_group];
        se = ov[2 * ri->secret_group + 1];
    }
    if (se <= ss)
        return;
    const char *s = (const char *)sc->buf + ss;
    size_t n = se - ss;
    if (ri->pub.min_entropy > 0 && rmg_entropy_shannon(s, n) < ri->pub.min_entropy)
        return;
    if (rmg_validate_is_placeholder(s, n))
        return;
    enum rmg_confidence conf = ri->pub.confidence;
    if (ri->validator) {
        enum rmg_validity v = ri->validator(s, n, (const char *)sc->buf + ms, me - ms);
        if (v == RMG_VALIDITY_INVALID)
            return;
        if (v == RMG_VALIDITY_VALID)
            conf = RMG_CONF_VALIDATED;
    }
    if (inline_allowed(sc, ms, me))
        return;
    /* The allow regexes reuse the match data: the ovector is not needed past this point. */
    if (allowed_by_rule(ri, s, n, sc->md))
        return;
    add_finding(sc, ri, ss, se, conf);
}

static void match_limit_hit(struct rmg_scanner *sc, const struct rmg_rule_impl *ri, int rc)
{
    if (sc->limit_warned || !sc->out)
        return;
    sc->limit_warned = true;
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(rc, msg, sizeof msg);
    rmg_results_add_error(sc->out, RMG_WARN, sc->loc.target, sc->loc.path,
                          "rule %s: %s; part of this file was not searched by it", ri->pub.id,
                          (char *)msg);
}

static void confirm_window(struct rmg_scanner *sc, const struct rmg_rule_impl *ri, size_t a,
                           size_t b)
{
    uint64_t *pos = &sc->pos[ri->pub.index];
    size_t rel = *pos > sc->base ? (size_t)(*pos - sc->base) : 0;
    size_t start = a > rel ? a : rel;
    const pcre2_code *code =
        ri->code_window && b - start < WINDOW_CODE_MAX ? ri->code_window : ri->code;
    while (start <= b && start <= sc->len) {
        pcre2_set_offset_limit(sc->mctx, b);
        int rc = pcre2_match(code, sc->buf, sc->len, start, 0, sc->md, sc->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return;
        if (rc < 0) {
            match_limit_hit(sc, ri, rc);
            return;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
        size_t ms = ov[0], me = ov[1];
        if (ms > b)
            return;
        size_t next = me > ms ? me : ms + 1;
        *pos = sc->base + next;
        confirmed(sc, ri, ms, me);
        start = next;
    }
}

static void add_window(struct rmg_scanner *sc, size_t rule, size_t a, size_t b)
{
    if (sc->limit == 0)
        return;
    if (a < sc->from)
        a = sc->from;
    if (b >= sc->limit)
        b = sc->limit - 1;
    if (a > b)
        return;
    struct rule_windows *w = &sc->win[rule];
    if (w->n && a <= w->v[w->n - 1].b + 1 && b + 1 >= w->v[w->n - 1].a) {
        struct window *last = &w->v[w->n - 1];
        if (a < last->a)
            last->a = a;
        if (b > last->b)
            last->b = b;
        return;
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        struct window *p = realloc(w->v, cap * sizeof *p);
        if (!p) {
            sc->status = RMG_ENOMEM;
            return;
        }
        w->v = p;
        w->cap = cap;
    }
    w->v[w->n++] = (struct window){a, b};
}

static inline bool bit_set(const unsigned char set[32], unsigned char c)
{
    return (set[c >> 3] >> (c & 7)) & 1u;
}

/* A prefilter candidate for a rule: the end of one of its keywords, or of a match of its
 * regex in prefilter mode. Opens a window of start positions (rules.c, set_reach), unless
 * the bytes around a keyword show that no match can hold it (regex_width.h: lead, follow). */
static void candidate(size_t rule, size_t end, void *ctx)
{
    struct rmg_scanner *sc = ctx;
    const struct rmg_rule_impl *ri = sc->rules->rules[rule];
    if (sc->binary && ri->pub.generic)
        return;
    size_t reach = ri->reach;
    if (ri->in_vectorscan) { /* the end of a match of the regex in prefilter mode */
        add_window(sc, rule, end > reach ? end - reach : 0, end);
        return;
    }
    /* The end of a keyword. A match holding it starts at least kw_min bytes before... */
    size_t last = end - ri->kw_min;
    /* ...exactly there for some rules, and not after a byte of the lead set... */
    if (ri->has_lead && last > 0 && bit_set(ri->lead, sc->buf[last - 1]))
        return;
    /* ...is followed by the bytes its regex fixes right after the keyword... */
    if (ri->tail_len && end + ri->tail_len <= sc->len) {
        const unsigned char *p = sc->buf + end;
        for (unsigned k = 0; k < ri->tail_len; k++)
            if (!bit_set(ri->tail[k], p[k]))
                return;
    }
    /* ...and has a byte of the follow set close to the keyword. */
    if (ri->follow_dist && end >= ri->follow_back && end + ri->follow_dist <= sc->len) {
        const unsigned char *p = sc->buf + end - ri->follow_back;
        size_t n = ri->follow_back + ri->follow_dist, k = 0;
        while (k < n && !bit_set(ri->follow, p[k]))
            k++;
        if (k == n)
            return;
    }
    add_window(sc, rule, end > reach ? end - reach : 0, last);
}

#ifdef RMG_HAVE_VECTORSCAN
/* A database's match: a keyword, for the rules that have it, or a rule's regex. Rule numbers
 * are relative to `first`. */
static inline void hs_candidates(struct rmg_scanner *sc, unsigned id, size_t end,
                                 const unsigned *kw_start, const unsigned *kw_rules, size_t first)
{
    if (id >= RMG_HS_REGEX_ID) {
        candidate(first + (id - RMG_HS_REGEX_ID), end, sc);
        return;
    }
    for (unsigned k = kw_start[id]; k < kw_start[id + 1]; k++)
        candidate(first + kw_rules[k], end, sc);
}

static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to,
                       unsigned flags, void *ctx)
{
    (void)from;
    (void)flags;
    struct rmg_scanner *sc = ctx;
    hs_candidates(sc, id, (size_t)to, sc->rules->hs_kw_start, sc->rules->hs_kw_rules, 0);
    return 0;
}

static int on_hs_builtin_match(unsigned id, unsigned long long from, unsigned long long to,
                               unsigned flags, void *ctx)
{
    (void)from;
    (void)flags;
    struct rmg_scanner *sc = ctx;
    hs_candidates(sc, id, (size_t)to, sc->rules->hsb_kw_start, sc->rules->hsb_kw_rules,
                  sc->rules->builtin_first);
    return 0;
}

static void hs_scan_db(struct rmg_scanner *sc, const void *db, match_event_handler on_match)
{
    hs_error_t e = hs_scan(db, (const char *)sc->buf, (unsigned)sc->len, 0, sc->hs_scratch,
                           on_match, sc);
    if (e != HS_SUCCESS && sc->out)
        rmg_results_add_error(sc->out, RMG_WARN, sc->loc.target, sc->loc.path,
                              "vectorscan scan failed (%d)", (int)e);
}
#endif

static void scan_buffer(struct rmg_scanner *sc, bool final)
{
    const struct rmg_rules *rules = sc->rules;
    if (!sc->decided) {
        size_t n = sc->len < BINARY_SNIFF ? sc->len : BINARY_SNIFF;
        sc->binary = memchr(sc->buf, 0, n) != NULL;
        sc->decided = true;
    }
    sc->limit = final ? sc->len + 1 : sc->len - sc->overlap;
    if (sc->limit <= sc->from)
        return;
    sc->nl_cache_p = 0;
    sc->nl_cache_n = 0;
    sc->nl_cache_last = SIZE_MAX;
    for (size_t i = 0; i < rules->n; i++)
        sc->win[i].n = 0;
    if (sc->opts.no_prefilter) {
        for (size_t i = 0; i < rules->n; i++)
            if (!(sc->binary && rules->rules[i]->pub.generic))
                add_window(sc, i, sc->from, sc->limit - 1);
    } else {
        for (size_t k = 0; k < rules->n_always; k++) {
            size_t i = rules->always[k];
            if (!(sc->binary && rules->rules[i]->pub.generic))
                add_window(sc, i, sc->from, sc->limit - 1);
        }
#ifdef RMG_HAVE_VECTORSCAN
        if (rules->hs_builtin)
            hs_scan_db(sc, rules->hs_builtin, on_hs_builtin_match);
        if (rules->hs_db)
            hs_scan_db(sc, rules->hs_db, on_hs_match);
#endif
        if (rules->ac)
            rmg_ac_scan(rules->ac, sc->buf, sc->len, candidate, sc);
    }
    for (size_t i = 0; i < rules->n; i++) {
        const struct rule_windows *w = &sc->win[i];
        if (w->n)
            rmg_rule_ready(rules, rules->rules[i]);
        for (size_t k = 0; k < w->n; k++)
            confirm_window(sc, rules->rules[i], w->v[k].a, w->v[k].b);
    }
}

/* Drops the buffer's head up to where the next buffer starts, keeping lookbehind context. */
static void shift(struct rmg_scanner *sc)
{
    size_t keep_from = sc->limit > sc->ctx ? sc->limit - sc->ctx : 0;
    size_t lines = count_newlines(sc->buf, keep_from);
    if (lines) {
        const unsigned char *last = memrchr(sc->buf, '\n', keep_from);
        sc->line_at_base += lines;
        sc->col_at_base = (uint64_t)(sc->buf + keep_from - last - 1);
    } else {
        sc->col_at_base += keep_from;
    }
    memmove(sc->buf, sc->buf + keep_from, sc->len - keep_from);
    sc->len -= keep_from;
    sc->base += keep_from;
    sc->from = sc->limit - keep_from;
}

enum rmg_status rmg_scanner_feed(struct rmg_scanner *sc, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (!sc->active)
        return RMG_EFATAL;
    sc->total += len;
    while (len > 0) {
        size_t take = sc->cap - sc->len;
        if (take > len)
            take = len;
        memcpy(sc->buf + sc->len, p, take);
        sc->len += take;
        p += take;
        len -= take;
        if (sc->len == sc->cap) {
            scan_buffer(sc, false);
            shift(sc);
        }
    }
    return sc->status;
}

static bool better(const struct rmg_finding *f, const struct rmg_finding *g)
{
    if (f->rule->generic != g->rule->generic)
        return !f->rule->generic;
    if (f->confidence != g->confidence)
        return f->confidence > g->confidence;
    if (f->severity != g->severity)
        return f->severity > g->severity;
    if (f->secret_len != g->secret_len)
        return f->secret_len > g->secret_len;
    return f->rule->index < g->rule->index;
}

static int cmp_offset(const void *a, const void *b)
{
    const struct rmg_finding *f = a, *g = b;
    if (f->loc.offset != g->loc.offset)
        return f->loc.offset < g->loc.offset ? -1 : 1;
    return f->rule->index < g->rule->index ? -1 : f->rule->index > g->rule->index;
}

/* Reduces findings whose secrets overlap to the best of them, then hands them to out. */
static void flush_pending(struct rmg_scanner *sc)
{
    struct rmg_results *p = &sc->pending;
    if (p->n_findings > 1)
        qsort(p->findings, p->n_findings, sizeof *p->findings, cmp_offset);
    size_t kept = 0;
    for (size_t i = 0; i < p->n_findings; i++) {
        struct rmg_finding *f = &p->findings[i];
        if (kept && !sc->opts.keep_overlaps) {
            struct rmg_finding *last = &p->findings[kept - 1];
            if (f->loc.offset < last->loc.offset + last->secret_len) {
                if (better(f, last)) {
                    rmg_finding_free(last);
                    *last = *f;
                } else {
                    rmg_finding_free(f);
                }
                continue;
            }
        }
        p->findings[kept++] = *f;
    }
    p->n_findings = kept;
    if (sc->out)
        rmg_results_merge(sc->out, p);
    else
        rmg_results_clear(p);
}

enum rmg_status rmg_scanner_end(struct rmg_scanner *sc)
{
    if (!sc->active)
        return RMG_EFATAL;
    scan_buffer(sc, true);
    flush_pending(sc);
    if (sc->out) {
        sc->out->stats.files++;
        sc->out->stats.bytes += sc->total;
    }
    sc->active = false;
    sc->len = 0;
    return sc->status;
}

enum rmg_status rmg_scan_buffer(struct rmg_scanner *sc, const void *data, size_t len,
                                const struct rmg_location *loc, struct rmg_results *out)
{
    enum rmg_status st = rmg_scanner_begin(sc, loc, out);
    if (st != RMG_OK)
        return st;
    st = rmg_scanner_feed(sc, data, len);
    enum rmg_status st2 = rmg_scanner_end(sc);
    return st > st2 ? st : st2;
}
