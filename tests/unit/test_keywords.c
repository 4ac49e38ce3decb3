/* test_keywords.c: the keyword prefilter (Aho-Corasick, case-insensitive) against a naive
 * search: every (rule, end) pair where one of the rule's keywords ends, each exactly once; and
 * what regex_width.h proves about where a keyword sits in a match (reach, follow, lead), on
 * patterns where the answer is known. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/rules.h"
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

#ifdef RMG_HAVE_VECTORSCAN
#include "engine/regex_width.h"

/* Up to four keywords, lower-case. */
struct kw_case {
    const char *regex;
    const char *kw[4];
    unsigned want;
};

static size_t kw_count(const char *const kw[4])
{
    size_t n = 0;
    while (n < 4 && kw[n])
        n++;
    return n;
}

/* The reach is the longest stretch from a match's start to the end of a keyword it must hold;
 * 0 when a match may hold none where the walk can see it. */
static void keyword_reach(void **state)
{
    (void)state;
    static const struct kw_case cases[] = {
        {"(?<![a-z])(?<secret>sk_[a-z]{10})", {"sk_"}, 3},
        {"[A-Za-z0-9_.-]{0,40}?(?:secret|token)=", {"secret", "token"}, 46},
        {"(?i)aws_?(?:secret|key)", {"secret", "key"}, 10},
        {"AC[0-9a-f]{32}", {"ac0", "ac1", "ac2", "ac3"}, 0}, /* ac4..acf missing */
        {"AC[0-3]{32}", {"ac0", "ac1", "ac2", "ac3"}, 3},
        {"x(?:ab)?cd", {"abcd"}, 0},                 /* "xcd" holds no keyword */
        {"x(?:ab)?cd", {"abcd", "xcd"}, 5},
        {"pass(?:word)?", {"password"}, 0},
        {"(?:foo|bar)baz", {"foobaz", "barbaz"}, 6},
        {"(?:foo|bar)baz", {"foobaz"}, 0},
        {"abc|xyz.{0,9}", {"abc", "xyz"}, 3},
        {"abc|xyz.{0,9}", {"abc"}, 0},
        {"(?<=key)=\\w+", {"key"}, 0},              /* looked at, not part of the match */
        {"(?=.*key)\\w{1,9}", {"key"}, 0},
        {"(?<u>a{1,3})key(?!\\k<u>)", {"key"}, 6},   /* a backreference after the keyword */
        {"(?<u>a{1,3})key\\k<u>", {"key"}, 0},        /* no width for the whole regex */
        {"\\Qkey\\E", {"key"}, 0},                    /* not understood: no claim */
        {"(?x) k e y", {"key"}, 0},
        {"(?i:KEY)", {"key"}, 3},
        {"-{1,2}auth", {"-auth"}, 6},
        {"k[e]y\\.x", {"key."}, 4},
        {"k\\x65y", {"key"}, 3},
        {"(?:ke|k[e])(?:y|Y)", {"key"}, 3},
        {"ke(?:y){1,5}", {"key"}, 3},
        {"ke(?:y){0,5}", {"key"}, 0},
        {"(?:(?:a|b)c)key", {"key"}, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned got = rmg_keyword_reach(cases[i].regex, (char *const *)cases[i].kw,
                                         kw_count(cases[i].kw));
        if (got != cases[i].want)
            fail_msg("%s: reach %u, want %u", cases[i].regex, got, cases[i].want);
    }
}

/* What must come close after a keyword: the set, and the stretch [e - back, e + dist). */
static void keyword_follow(void **state)
{
    (void)state;
    static const struct {
        const char *regex;
        const char *kw[4];
        bool ok;
        unsigned back, dist;
        const char *set;
    } cases[] = {
        {"(?:secret|token)[ \\t]{0,3}[:=]", {"secret", "token"}, true, 0, 10, ":="},
        {"(?:secret|token)[ \\t]{0,3}(?:=>|:=|=|:)", {"secret", "token"}, true, 0, 10, ":="},
        {"(?:PASSWORD|_PAT)=", {"pass", "_pat="}, true, 1, 8, "="},
        {"key:[0-9]", {"key"}, true, 0, 1, ":"},
        {"(?i)basic[ \\t]{1,4}x", {"basic"}, true, 0, 1, " \t"},
        {"(?i)key=", {"key"}, true, 0, 1, "="},
        {"sk_[a-z]{10}", {"sk_"}, false, 0, 0, ""},   /* 26 letters: no small set */
        {"key(?=:)", {"key"}, false, 0, 0, ""},       /* a lookahead is not a match's text */
        {"key:?x", {"key"}, true, 0, 2, "xX"},
        {"key.{0,100}=", {"key"}, false, 0, 0, ""},   /* too far to be worth a look */
        {"key|pass=", {"key", "pass"}, false, 0, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned char set[256];
        unsigned back = 99, dist = 99;
        bool ok = rmg_keyword_follow(cases[i].regex, (char *const *)cases[i].kw,
                                     kw_count(cases[i].kw), set, &dist, &back);
        if (ok != cases[i].ok)
            fail_msg("%s: follow %d, want %d", cases[i].regex, ok, cases[i].ok);
        if (!ok) {
            for (int c = 0; c < 256; c++)
                assert_int_equal(set[c], 0);
            continue;
        }
        if (back != cases[i].back || dist != cases[i].dist)
            fail_msg("%s: back %u dist %u, want %u %u", cases[i].regex, back, dist,
                     cases[i].back, cases[i].dist);
        for (int c = 0; c < 256; c++)
            if (set[c] != (strchr(cases[i].set, c) != NULL && c != 0))
                fail_msg("%s: byte 0x%02x %s the set", cases[i].regex, c,
                         set[c] ? "wrongly in" : "missing from");
    }
}

/* The bytes after which no match may start. */
static void keyword_lead(void **state)
{
    (void)state;
    static const struct {
        const char *regex;
        bool ok;
        const char *set; /* NULL: [A-Za-z0-9] */
    } cases[] = {
        {"(?<![A-Za-z0-9])sk_", true, NULL},
        {"(?i)(?<![a-z])x", true, "abcdefghijklmnopqrstuvwxyz"}, /* (?i): a subset is fine */
        {"(?<!-)x", true, "-"},
        {"(?<!\\.)(?<![_])x", true, "._"},
        {"(?<=[a-z])x", false, ""},
        {"a|(?<![0-9])b", false, ""},
        {"(?<![^a])x", false, ""},
        {"x(?<![a])y", false, ""},
        {"(?<![[:alpha:]])x", false, ""},
        {"(?<!ab)x", false, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned char set[256];
        bool ok = rmg_keyword_lead(cases[i].regex, set);
        if (ok != cases[i].ok)
            fail_msg("%s: lead %d, want %d", cases[i].regex, ok, cases[i].ok);
        for (int c = 1; c < 256; c++) {
            bool want = !ok ? false
                        : cases[i].set ? strchr(cases[i].set, c) != NULL
                                       : (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                             (c >= '0' && c <= '9');
            if (set[c] != want)
                fail_msg("%s: byte 0x%02x %s the set", cases[i].regex, c,
                         set[c] ? "wrongly in" : "missing from");
        }
    }
}
/* The bytes right after a keyword (position by position), and the near set further on. */
static void keyword_tail(void **state)
{
    (void)state;
    static const struct {
        const char *regex;
        const char *kw[4];
        const char *tail[RMG_TAIL_MAX + 1]; /* each position's bytes; NULL ends */
        unsigned near_dist;
        const char *near;
    } cases[] = {
        {"(?<![A-Za-z0-9])(?<secret>sk_[a-z]{2}x)", {"sk_"},
         {"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "xX"}, 0, ""},
        {"sk_(?:[0-9]{2}|ab)", {"sk_"}, {"0123456789aA", "0123456789bB"}, 0, ""},
        {"key[a-z]{1,5}=", {"key"}, {"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}, 0, ""},
        {"(?:AKIA|ASIA)[A-Z2-7]{16}", {"akia", "asia"},
#define B32 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz234567"
         {B32, B32, B32, B32, B32, B32, B32, B32, B32, B32, B32, B32}, 0, ""},
        {"pass(?:word)?=x", {"pass"}, {"wW=", "oOxX"}, 5, "="},
        {"key(?=[0-9])[0-9a]", {"key"}, {"0123456789aA"}, 0, ""},
        {"(?i)key_[A-F]", {"key"}, {"_", "abcdefABCDEF"}, 0, ""},
        {"key.{0,3}z", {"key"}, {NULL}, 0, ""},              /* variable right away */
        {"(?:key|x)y", {"key"}, {NULL}, 0, ""},              /* a match may hold none */
        {"\\Qkey\\E", {"key"}, {NULL}, 0, ""},               /* not understood */
        {"key\\1", {"key"}, {NULL}, 0, ""},                  /* a backreference */
        {"<(?:password|secret)>[ \\t]*x", {"pass", "secret"}, {">wW"}, 5, ">"},
        {"key[ \\t]*=", {"key"}, {NULL}, 0, ""},             /* no near set before the text
                                                                 is lost */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned char tail[RMG_TAIL_MAX][32], near[32];
        unsigned near_dist = 99;
        unsigned n = rmg_keyword_tail(cases[i].regex, (char *const *)cases[i].kw,
                                      kw_count(cases[i].kw), tail, near, &near_dist);
        unsigned want = 0;
        while (want < RMG_TAIL_MAX && cases[i].tail[want])
            want++;
        if (n != want)
            fail_msg("%s: tail of %u, want %u", cases[i].regex, n, want);
        for (unsigned j = 0; j < n; j++)
            for (int c = 0; c < 256; c++)
                if (rmg_tx_has(tail[j], (unsigned)c) != (c && strchr(cases[i].tail[j], c)))
                    fail_msg("%s: byte 0x%02x %s the set %u", cases[i].regex, c,
                             rmg_tx_has(tail[j], (unsigned)c) ? "wrongly in" : "missing from",
                             j);
        if (near_dist != cases[i].near_dist)
            fail_msg("%s: near %u, want %u", cases[i].regex, near_dist, cases[i].near_dist);
        for (int c = 0; c < 256; c++)
            if (rmg_tx_has(near, (unsigned)c) != (c && strchr(cases[i].near, c)))
                fail_msg("%s: byte 0x%02x %s the near set", cases[i].regex, c,
                         rmg_tx_has(near, (unsigned)c) ? "wrongly in" : "missing from");
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keywords_lower_cased),
        cmocka_unit_test(classic_text),
        cmocka_unit_test(random_buffers),
        cmocka_unit_test(every_high_byte_alone),
#ifdef RMG_HAVE_VECTORSCAN
        cmocka_unit_test(keyword_reach),
        cmocka_unit_test(keyword_follow),
        cmocka_unit_test(keyword_lead),
        cmocka_unit_test(keyword_tail),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
