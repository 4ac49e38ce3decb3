/* test_keywords.c: the keyword prefilter (Aho-Corasick, case-insensitive) against a naive
 * search: every (rule, end) pair where one of the rule's keywords ends, each exactly once. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules_internal.h"
#include "rummage.h"
#include "support.h"

/* Overlapping keywords (the classic he/she/his/hers), one given in mixed case, a rule with two
 * keywords where one is a suffix of the other, and a keyword with bytes above 0x7f. */
static const char rules_json[] =
    "{\"rules\": ["
    "{\"id\": \"r-he\", \"title\": \"he\", \"severity\": \"low\", \"keywords\": [\"he\"],"
    " \"regex\": \"(?i)he\"},"
    "{\"id\": \"r-she\", \"title\": \"she\", \"severity\": \"low\", \"keywords\": [\"she\"],"
    " \"regex\": \"(?i)she\"},"
    "{\"id\": \"r-his\", \"title\": \"his\", \"severity\": \"low\", \"keywords\": [\"his\"],"
    " \"regex\": \"(?i)his\"},"
    "{\"id\": \"r-hers\", \"title\": \"hers\", \"severity\": \"low\", \"keywords\": [\"hers\"],"
    " \"regex\": \"(?i)hers\"},"
    "{\"id\": \"r-abc\", \"title\": \"abc\", \"severity\": \"low\", \"keywords\": [\"AbC\"],"
    " \"regex\": \"(?i)abc\"},"
    "{\"id\": \"r-two\", \"title\": \"two\", \"severity\": \"low\", \"keywords\": [\"rs\", \"hers\", \"ss\"],"
    " \"regex\": \"(?i)(rs|ss)\"},"
    "{\"id\": \"r-caf\", \"title\": \"caf\", \"severity\": \"low\", \"keywords\": [\"caf\\u00e9\"],"
    " \"regex\": \"caf\\u00e9\"}"
    "]}";

struct pair {
    size_t end, rule;
};

struct pairs {
    struct pair *p;
    size_t n, cap;
};

static void pairs_add(struct pairs *ps, size_t rule, size_t end)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        ps->p = realloc(ps->p, ps->cap * sizeof *ps->p);
        assert_non_null(ps->p);
    }
    ps->p[ps->n++] = (struct pair){end, rule};
}

static void collect(size_t rule, size_t end, void *ctx)
{
    pairs_add(ctx, rule, end);
}

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Every (rule, end) where some keyword of the rule ends at `end`, once, in (end, rule) order. */
static void naive(const struct rmg_rules *rules, const unsigned char *buf, size_t len,
                  struct pairs *out)
{
    for (size_t end = 1; end <= len; end++)
        for (size_t r = 0; r < rules->n; r++) {
            const struct rmg_rule *rule = &rules->rules[r]->pub;
            for (size_t k = 0; k < rule->n_keywords; k++) {
                const unsigned char *kw = (const unsigned char *)rule->keywords[k];
                size_t kl = strlen(rule->keywords[k]);
                if (kl == 0 || kl > end)
                    continue;
                size_t i;
                for (i = 0; i < kl; i++)
                    if (lower(buf[end - kl + i]) != lower(kw[i]))
                        break;
                if (i == kl) {
                    pairs_add(out, r, end);
                    break;
                }
            }
        }
}

static struct rmg_rules *load(void)
{
    struct rmg_rules *r = support_rules(rules_json, RMG_ENGINE_PCRE2);
    if (!r)
        fail_msg("rules do not load (see stderr)");
    assert_int_equal(rmg_rules_engine(r), RMG_ENGINE_PCRE2);
    assert_non_null(r->ac);
    return r;
}

static void compare(const struct rmg_rules *rules, const struct rmg_ac *ac,
                    const unsigned char *buf, size_t len, const char *what)
{
    struct pairs got = {0}, want = {0};
    rmg_ac_scan(ac, buf, len, collect, &got);
    naive(rules, buf, len, &want);
    if (got.n > 1)
        qsort(got.p, got.n, sizeof *got.p, cmp_pair);
    size_t n = got.n < want.n ? got.n : want.n;
    for (size_t i = 0; i < n; i++)
        if (got.p[i].end != want.p[i].end || got.p[i].rule != want.p[i].rule)
            fail_msg("%s: pair %zu: got (rule %zu, end %zu), want (rule %zu, end %zu)", what, i,
                     got.p[i].rule, got.p[i].end, want.p[i].rule, want.p[i].end);
    if (got.n != want.n)
        fail_msg("%s: %zu pairs, want %zu", what, got.n, want.n);
    free(got.p);
    free(want.p);
}

static void keywords_lower_cased(void **state)
{
    (void)state;
    struct rmg_rules *r = load();
    const struct rmg_rule *abc = rmg_rules_find(r, "r-abc");
    assert_non_null(abc);
    assert_int_equal(abc->n_keywords, 1);
    assert_string_equal(abc->keywords[0], "abc");
    rmg_rules_free(r);
}

static void classic_text(void **state)
{
    (void)state;
    struct rmg_rules *r = load();
    static const char text[] = "ushers and HIS aBc; SHE said hers, abcABC caf\xc3\xa9 CAF\xc3\x89 Caf\xc3\xa9";
    struct pairs got = {0};
    rmg_ac_scan(r->ac, (const unsigned char *)text, sizeof text - 1, collect, &got);
    /* "ushers": she ends at 4, he at 4, hers at 6 (two rules: r-hers and r-two, once each). */
    size_t she = 1, he = 0, hers = 3, two = 5, caf = 6;
    bool saw_she4 = false, saw_he4 = false, saw_hers6 = false;
    size_t two6 = 0, caf_hits = 0;
    for (size_t i = 0; i < got.n; i++) {
        saw_she4 |= got.p[i].rule == she && got.p[i].end == 4;
        saw_he4 |= got.p[i].rule == he && got.p[i].end == 4;
        saw_hers6 |= got.p[i].rule == hers && got.p[i].end == 6;
        two6 += got.p[i].rule == two && got.p[i].end == 6;
        caf_hits += got.p[i].rule == caf;
    }
    assert_true(saw_she4 && saw_he4 && saw_hers6);
    assert_int_equal(two6, 1);  /* "rs" and "hers" both end there: one report */
    assert_int_equal(caf_hits, 2); /* ASCII folds; bytes above 0x7f (É, C3 89) do not */
    free(got.p);
    compare(r, r->ac, (const unsigned char *)text, sizeof text - 1, "classic");
    rmg_rules_free(r);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void random_buffers(void **state)
{
    (void)state;
    struct rmg_rules *r = load();
    /* A second automaton built directly must agree as well. */
    struct rmg_ac *ac = rmg_ac_build(r);
    assert_non_null(ac);
    static const char alphabet[] = "hersiabcHERSIABCx \n";
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 400; round++) {
        size_t len = (size_t)(rng() % 600);
        unsigned char *buf = malloc(len ? len : 1);
        assert_non_null(buf);
        for (size_t i = 0; i < len; i++) {
            uint64_t v = rng();
            switch (v % 8) {
            case 0: buf[i] = (unsigned char)(0x80 + (v >> 8) % 0x80); break; /* high bytes */
            case 1: buf[i] = (unsigned char)((v >> 8) & 0xff); break;          /* any byte */
            case 2: buf[i] = (v >> 8) % 2 ? 0xc3 : 0xa9; break;               /* é pieces */
            default: buf[i] = (unsigned char)alphabet[(v >> 8) % (sizeof alphabet - 1)];
            }
        }
        char what[32];
        snprintf(what, sizeof what, "round %d", round);
        compare(r, r->ac, buf, len, what);
        compare(r, ac, buf, len, what);
        free(buf);
    }
    rmg_ac_free(ac);
    rmg_rules_free(r);
}

static void every_high_byte_alone(void **state)
{
    (void)state;
    struct rmg_rules *r = load();
    unsigned char buf[3 * 256];
    for (int c = 0; c < 256; c++) {
        buf[3 * c] = (unsigned char)c;
        buf[3 * c + 1] = 'h';
        buf[3 * c + 2] = 'e';
    }
    compare(r, r->ac, buf, sizeof buf, "all bytes");
    rmg_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keywords_lower_cased),
        cmocka_unit_test(classic_text),
        cmocka_unit_test(random_buffers),
        cmocka_unit_test(every_high_byte_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
