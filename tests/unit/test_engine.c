/* test_engine.c: the engine's guarantees: every prefilter path and every chunk size gives the
 * findings of the reference (PCRE2 over the whole buffer), also on rule examples mutated
 * around their keywords, where the candidate filters (keyword reach, lead, follow) decide;
 * plus filters, positions, binary handling, overlap resolution, the built-in and run-time
 * Vectorscan databases together, and rules made ready by concurrent first use. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "engine/rules.h"
#include "rummage.h"
#include "support.h"
#include "common/util.h"

static struct rmg_rules *builtin(enum rmg_engine_kind e)
{
    char err[512] = "";
    struct rmg_rules *r = rmg_rules_new();
    assert_non_null(r);
    assert_int_equal(rmg_rules_add_builtin(r, err, sizeof err), RMG_OK);
    if (rmg_rules_compile(r, e, err, sizeof err) != RMG_OK)
        fail_msg("compile: %s", err);
    return r;
}

static struct rmg_rules *custom(const char *json)
{
    struct rmg_rules *r = support_rules(json, RMG_ENGINE_AUTO);
    if (!r)
        fail_msg("rules do not load (see stderr)");
    return r;
}

/* A finding reduced to what must agree between engines, as one line of text. */
static void describe(const struct rmg_results *res, struct rmg_buf *out)
{
    for (size_t i = 0; i < res->n_findings; i++) {
        const struct rmg_finding *f = &res->findings[i];
        rmg_buf_printf(out, "%s@%llu+%zu L%llu C%llu %s %s\n", f->rule->id,
                       (unsigned long long)f->loc.offset, f->secret_len,
                       (unsigned long long)f->loc.line, (unsigned long long)f->loc.column,
                       rmg_confidence_name(f->confidence), f->fingerprint);
    }
}

static char *scan_describe(const struct rmg_rules *rules, const char *data, size_t len,
                           size_t chunk, bool reference, size_t feed_step)
{
    struct rmg_scan_opts o = {.chunk_size = chunk, .no_prefilter = reference};
    struct rmg_scanner *sc = rmg_scanner_new(rules, &o);
    assert_non_null(sc);
    struct rmg_results res;
    rmg_results_init(&res);
    struct rmg_location loc = {.target = (char *)"t", .path = (char *)"p", .layer_index = -1};
    assert_int_equal(rmg_scanner_begin(sc, &loc, &res), RMG_OK);
    for (size_t off = 0; off < len; off += feed_step) {
        size_t n = len - off < feed_step ? len - off : feed_step;
        rmg_scanner_feed(sc, data + off, n);
    }
    rmg_scanner_end(sc);
    rmg_results_sort(&res);
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "");
    describe(&res, &b);
    rmg_results_clear(&res);
    rmg_scanner_free(sc);
    return b.data;
}

/* Every rule example, and a corpus mixing them with filler, under every engine. */
static void build_corpus(const struct rmg_rules *rules, struct rmg_buf *c, unsigned seed,
                         size_t filler_lines)
{
    static const char *const filler[] = {
        "the quick brown fox jumps over the lazy dog\n",
        "    if (x == NULL) return -1; /* password is checked elsewhere */\n",
        "export PATH=/usr/local/bin:$PATH\n",
        "key: value\nlist:\n  - item\n",
        "{\"name\": \"app\", \"version\": \"1.2.3\", \"token\": null}\n",
        "SELECT * FROM users WHERE id = 42;\n",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n",
        "\x01\x02\x03 binary-ish \xff\xfe bytes\n",
    };
    srand(seed);
    for (size_t i = 0; i < rules->n; i++) {
        const cJSON *ex = rules->rules[i]->examples;
        const cJSON *sets[2] = {ex ? cJSON_GetObjectItemCaseSensitive(ex, "positive") : NULL,
                                ex ? cJSON_GetObjectItemCaseSensitive(ex, "negative") : NULL};
        for (int s = 0; s < 2; s++) {
            const cJSON *it;
            cJSON_ArrayForEach(it, sets[s])
            {
                const char *text = cJSON_IsString(it) ? it->valuestring : NULL;
                if (cJSON_IsObject(it)) {
                    const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "text");
                    text = cJSON_IsString(t) ? t->valuestring : NULL;
                }
                if (!text)
                    continue;
                size_t k = (size_t)rand() % (filler_lines + 1);
                for (size_t j = 0; j < k; j++)
                    rmg_buf_puts(c, filler[(size_t)rand() % 8]);
                rmg_buf_puts(c, text);
                rmg_buf_puts(c, rand() % 2 ? "\n" : " ");
            }
        }
    }
}

static void differential(void **state)
{
    (void)state;
    struct rmg_rules *vs = builtin(RMG_ENGINE_AUTO);
    struct rmg_rules *pc = builtin(RMG_ENGINE_PCRE2);
    struct rmg_buf corpus = {0};
    build_corpus(vs, &corpus, 7, 6);
    char *ref = scan_describe(vs, corpus.data, corpus.len, 0, true, corpus.len);
    char *a = scan_describe(vs, corpus.data, corpus.len, 0, false, corpus.len);
    char *b = scan_describe(pc, corpus.data, corpus.len, 0, false, corpus.len);
    char *c = scan_describe(pc, corpus.data, corpus.len, 0, true, 4096);
    assert_true(strlen(ref) > 100); /* the corpus does produce findings */
    assert_string_equal(a, ref);
    assert_string_equal(b, ref);
    assert_string_equal(c, ref);
    free(ref);
    free(a);
    free(b);
    free(c);
    rmg_buf_free(&corpus);
    rmg_rules_free(vs);
    rmg_rules_free(pc);
}

static void chunk_sizes(void **state)
{
    (void)state;
    struct rmg_rules *vs = builtin(RMG_ENGINE_AUTO);
    struct rmg_rules *pc = builtin(RMG_ENGINE_PCRE2);
    struct rmg_buf corpus = {0};
    build_corpus(vs, &corpus, 11, 1);
    if (corpus.len > 300000)
        corpus.len = 300000, corpus.data[corpus.len] = '\0';
    char *ref = scan_describe(vs, corpus.data, corpus.len, 0, false, corpus.len);
    assert_true(strlen(ref) > 100);
    static const size_t chunks[] = {65536, 9973, 4096, 1000};
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        char *a = scan_describe(vs, corpus.data, corpus.len, chunks[i], false, 777);
        char *b = scan_describe(pc, corpus.data, corpus.len, chunks[i], false, 65536);
        if (strcmp(a, ref) != 0 || strcmp(b, ref) != 0)
            fail_msg("chunk size %zu changes the findings", chunks[i]);
        free(a);
        free(b);
    }
    free(ref);
    rmg_buf_free(&corpus);
    rmg_rules_free(vs);
    rmg_rules_free(pc);
}

static struct rmg_results scan_text(const struct rmg_rules *rules, const char *text, size_t len);

/* Rule examples mutated around their keywords (bytes inserted, deleted or replaced near a
 * keyword; a byte of every value put before an example): the texts where a candidate filter
 * would drop a real match if it were wrong. Deterministic. */
static void build_mutations(const struct rmg_rules *rules, struct rmg_buf *c, unsigned seed)
{
    static const char *const near[] = {" ", "\t", "\"", "'", "=", ":", ":=", "=>", "\n", "\r\n",
                                       "_", "-", ".", "a", "Z", "9", "]", "\\", "`", "#", ";",
                                       "$", "{", "@", "/", "  ", "=="};
    srand(seed);
    for (size_t i = 0; i < rules->n; i++) {
        const struct rmg_rule_impl *ri = rules->rules[i];
        const cJSON *ex = ri->examples;
        const cJSON *sets[2] = {ex ? cJSON_GetObjectItemCaseSensitive(ex, "positive") : NULL,
                                ex ? cJSON_GetObjectItemCaseSensitive(ex, "negative") : NULL};
        for (int st = 0; st < 2; st++) {
            const cJSON *it;
            cJSON_ArrayForEach(it, sets[st])
            {
                const char *text = cJSON_IsString(it) ? it->valuestring : NULL;
                if (cJSON_IsObject(it)) {
                    const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "text");
                    text = cJSON_IsString(t) ? t->valuestring : NULL;
                }
                if (!text)
                    continue;
                size_t len = strlen(text);
                /* where the first keyword ends, or anywhere */
                size_t at = len ? (size_t)rand() % len : 0;
                for (size_t k = 0; k < ri->pub.n_keywords; k++) {
                    const char *hit = strcasestr(text, ri->pub.keywords[k]);
                    if (hit) {
                        at = (size_t)(hit - text) + strlen(ri->pub.keywords[k]);
                        break;
                    }
                }
                for (int v = 0; v < 6; v++) {
                    char pre = (char)(rand() % 255 + 1);
                    size_t p = at + (size_t)(rand() % 34);
                    p = p >= 8 ? p - 8 : 0;
                    if (p > len)
                        p = len;
                    const char *ins = near[(size_t)rand() % (sizeof near / sizeof *near)];
                    size_t cut = (size_t)rand() % 3;
                    if (v % 3 == 0)
                        rmg_buf_append(c, &pre, 1);
                    rmg_buf_append(c, text, p);
                    if (v % 3 != 2)
                        rmg_buf_puts(c, ins);
                    if (v % 3 != 1)
                        p = p + cut <= len ? p + cut : len;
                    rmg_buf_append(c, text + p, len - p);
                    rmg_buf_puts(c, rand() % 2 ? "\n" : " ");
                }
            }
        }
    }
}

static void mutations_differential(void **state)
{
    (void)state;
    struct rmg_rules *vs = builtin(RMG_ENGINE_AUTO);
    struct rmg_rules *pc = builtin(RMG_ENGINE_PCRE2);
    struct rmg_buf corpus = {0};
    build_mutations(vs, &corpus, 5);
    char *ref = scan_describe(vs, corpus.data, corpus.len, 0, true, corpus.len);
    char *a = scan_describe(vs, corpus.data, corpus.len, 0, false, corpus.len);
    char *b = scan_describe(pc, corpus.data, corpus.len, 8191, false, 3000);
    assert_true(strlen(ref) > 1000); /* the mutations do produce findings */
    assert_string_equal(a, ref);
    assert_string_equal(b, ref);
    free(ref);
    free(a);
    free(b);
    rmg_buf_free(&corpus);
    rmg_rules_free(vs);
    rmg_rules_free(pc);
}

static bool bit_in(const unsigned char set[32], unsigned char c)
{
    return (set[c >> 3] >> (c & 7)) & 1u;
}

/* Every match of every built-in rule, in its examples and their mutations, passes the
 * candidate filters the engine applies (engine/scanner.c, candidate): some keyword inside the match
 * ends at e with the match starting in [e - reach, e - kw_min], not after a lead byte, with
 * its tail's bytes right after e and a follow byte in [e - follow_back, e + follow_dist). Checked on the matches themselves, so a
 * wrong filter shows even where later filters (entropy, allow-lists) would drop the match. */
static void filters_keep_every_match(void **state)
{
    (void)state;
    struct rmg_rules *rules = builtin(RMG_ENGINE_AUTO);
    struct rmg_buf corpus = {0};
    build_corpus(rules, &corpus, 3, 0);
    build_mutations(rules, &corpus, 9);
    const unsigned char *buf = (const unsigned char *)corpus.data;
    size_t len = corpus.len;
    pcre2_match_data *md = pcre2_match_data_create(rules->max_groups, NULL);
    size_t matches = 0, narrowed = 0, filtered = 0, tailed = 0;
    for (size_t i = 0; i < rules->n; i++) {
        struct rmg_rule_impl *ri = rules->rules[i];
        if (!ri->pub.n_keywords || ri->in_vectorscan)
            continue;
        narrowed += ri->reach < ri->pub.max_span;
        filtered += ri->has_lead || ri->follow_dist;
        tailed += ri->tail_len > 0;
        rmg_rule_ready(rules, ri);
        size_t start = 0;
        while (start <= len) {
            int rc = pcre2_match(ri->code, buf, len, start, 0, md, NULL);
            if (rc < 0)
                break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t s = ov[0], t = ov[1];
            matches++;
            bool kept = false;
            for (size_t k = 0; !kept && k < ri->pub.n_keywords; k++) {
                size_t kl = strlen(ri->pub.keywords[k]);
                for (size_t p = s; !kept && p + kl <= t; p++) {
                    if (strncasecmp((const char *)buf + p, ri->pub.keywords[k], kl) != 0)
                        continue;
                    size_t e = p + kl, last = e - ri->kw_min;
                    if (s + ri->reach < e || s > last)
                        continue;
                    if (ri->has_lead && last > 0 && bit_in(ri->lead, buf[last - 1]))
                        continue;
                    size_t j = 0;
                    while (e + ri->tail_len <= len && j < ri->tail_len &&
                           bit_in(ri->tail[j], buf[e + j]))
                        j++;
                    if (e + ri->tail_len <= len && j < ri->tail_len)
                        continue;
                    if (ri->follow_dist && e >= ri->follow_back &&
                        e + ri->follow_dist <= len) {
                        size_t q = 0, n = ri->follow_back + ri->follow_dist;
                        while (q < n && !bit_in(ri->follow, buf[e - ri->follow_back + q]))
                            q++;
                        if (q == n)
                            continue;
                    }
                    kept = true;
                }
            }
            if (!kept)
                fail_msg("rule %s: the match at %zu (\"%.*s\") opens no window", ri->pub.id, s,
                         (int)(t - s < 120 ? t - s : 120), buf + s);
            start = t > s ? t : s + 1;
        }
    }
    pcre2_match_data_free(md);
    assert_true(matches > 1000);
#ifdef RMG_HAVE_VECTORSCAN
    /* The analysis does narrow most rules (it needs Vectorscan's width analysis). */
    assert_true(narrowed > rules->n / 2);
    assert_true(filtered > rules->n / 3);
    assert_true(tailed > rules->n / 2);
#else
    (void)narrowed;
    (void)filtered;
    (void)tailed;
#endif
    rmg_buf_free(&corpus);
    rmg_rules_free(rules);
}

/* The built-in rules' database from the build and a run-time one for added rules, together
 * (without Vectorscan: the keyword automaton over both). */
static void builtin_and_added_rules(void **state)
{
    (void)state;
    char err[512] = "";
    struct rmg_rules *r = rmg_rules_new();
    assert_non_null(r);
    assert_int_equal(rmg_rules_add_builtin(r, err, sizeof err), RMG_OK);
    static const char extra[] =
        "{\"rules\": [{\"id\": \"acme\", \"title\": \"Acme\", \"severity\": \"high\","
        " \"keywords\": [\"acme_\"], \"regex\": \"(?<secret>acme_[a-z0-9]{16})\"}]}";
    assert_int_equal(rmg_rules_add_json(r, extra, strlen(extra), "extra", err, sizeof err),
                     RMG_OK);
    assert_int_equal(rmg_rules_compile(r, RMG_ENGINE_AUTO, err, sizeof err), RMG_OK);
    if (rmg_rules_have_vectorscan()) {
        assert_non_null(r->hs_builtin); /* from the build, not compiled at start-up */
        assert_non_null(r->hs_db);      /* the added rule's */
    }
    char text[] = "aws_access_key_id = AKIAQ3EG|RTZ5LK7M|N2PX\n" /* in pieces (support.h) */
                  "x = acme_q8z3k1m9x2v7b4n6\n";
    support_join(text);
    struct rmg_results res = scan_text(r, text, strlen(text));
    bool aws = false, acme = false;
    for (size_t i = 0; i < res.n_findings; i++) {
        aws = aws || strcmp(res.findings[i].rule->id, "aws-access-key-id") == 0;
        acme = acme || strcmp(res.findings[i].rule->id, "acme") == 0;
    }
    assert_true(aws && acme);
    rmg_results_clear(&res);
    rmg_rules_free(r);
}

struct worker {
    const struct rmg_rules *rules;
    const struct rmg_buf *corpus;
    char *out;
};

static void *scan_worker(void *arg)
{
    struct worker *w = arg;
    w->out = scan_describe(w->rules, w->corpus->data, w->corpus->len, 0, false, 65536);
    return NULL;
}

/* Rules are made ready (JIT) on first use: threads racing to first use agree with one. */
static void concurrent_first_use(void **state)
{
    (void)state;
    struct rmg_buf corpus = {0};
    struct rmg_rules *once = builtin(RMG_ENGINE_AUTO);
    build_corpus(once, &corpus, 13, 1);
    char *want = scan_describe(once, corpus.data, corpus.len, 0, false, 65536);
    struct rmg_rules *shared = builtin(RMG_ENGINE_AUTO);
    struct worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){shared, &corpus, NULL};
        assert_int_equal(pthread_create(&t[i], NULL, scan_worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_string_equal(w[i].out, want);
        free(w[i].out);
    }
    free(want);
    rmg_buf_free(&corpus);
    rmg_rules_free(once);
    rmg_rules_free(shared);
}

static const char tiny_rules[] =
    "{\"rules\": ["
    "{\"id\": \"tok\", \"title\": \"Tok token\", \"severity\": \"high\", \"keywords\": [\"tok_\"],"
    " \"regex\": \"\\\\b(?<secret>tok_[a-z0-9]{12})\\\\b\","
    " \"allow\": {\"values\": [\"tok_allowed0000\"], \"regexes\": [\"^tok_zz\"]}},"
    "{\"id\": \"gen\", \"title\": \"Generic\", \"severity\": \"low\", \"generic\": true,"
    " \"keywords\": [\"secret\"], \"min_entropy\": 3.0,"
    " \"regex\": \"secret=(?<secret>[A-Za-z0-9_]{8,40})\"},"
    "{\"id\": \"multi\", \"title\": \"Block\", \"severity\": \"critical\", \"keywords\": [\"begin blk\"],"
    " \"regex\": \"(?s)BEGIN BLK\\\\n(?<secret>[a-z0-9\\\\n]{4,200})END BLK\"}"
    "]}";

static struct rmg_results scan_text(const struct rmg_rules *rules, const char *text, size_t len)
{
    struct rmg_scanner *sc = rmg_scanner_new(rules, NULL);
    struct rmg_results res;
    rmg_results_init(&res);
    struct rmg_location loc = {.target = (char *)"t", .path = (char *)"p", .layer_index = -1};
    rmg_scan_buffer(sc, text, len, &loc, &res);
    rmg_scanner_free(sc);
    rmg_results_sort(&res);
    return res;
}

static void positions_and_filters(void **state)
{
    (void)state;
    struct rmg_rules *r = custom(tiny_rules);
    const char *text = "line one\n"
                       "  x = tok_a1b2c3d4e5f6 and tok_allowed0000 and tok_zz3456789012\n"
                       "secret=aaaaaaaaaaaa secret=Q7fk29XbLmP3 # rummage:allow\n"
                       "secret=Zq81LmNb47Xc\n"
                       "BEGIN BLK\nab12\ncd34\nEND BLK\n";
    struct rmg_results res = scan_text(r, text, strlen(text));
    assert_int_equal(res.n_findings, 3);
    assert_string_equal(res.findings[0].rule->id, "tok");
    assert_string_equal(res.findings[0].secret, "tok_a1b2c3d4e5f6");
    assert_int_equal(res.findings[0].loc.line, 2);
    assert_int_equal(res.findings[0].loc.column, 7);
    assert_string_equal(res.findings[1].rule->id, "gen"); /* low entropy and inline allow dropped */
    assert_string_equal(res.findings[1].secret, "Zq81LmNb47Xc");
    assert_int_equal(res.findings[1].loc.line, 4);
    assert_int_equal(res.findings[1].loc.column, 8);
    assert_string_equal(res.findings[2].rule->id, "multi");
    assert_string_equal(res.findings[2].secret, "ab12\ncd34\n");
    assert_int_equal(res.findings[2].loc.line, 6);
    assert_int_equal(res.findings[2].loc.column, 1);
    /* fingerprint: sha256 of id, NUL, secret; never the secret itself */
    char fp[65];
    rmg_sha256_hex("tok\0tok_a1b2c3d4e5f6", 20, fp);
    assert_string_equal(res.findings[0].fingerprint, fp);
    rmg_results_clear(&res);
    rmg_rules_free(r);
}

static void binary_skips_generic(void **state)
{
    (void)state;
    struct rmg_rules *r = custom(tiny_rules);
    char text[] = "\0\0bin secret=Zq81LmNb47Xc tok_a1b2c3d4e5f6\0";
    struct rmg_results res = scan_text(r, text, sizeof text);
    assert_int_equal(res.n_findings, 1);
    assert_string_equal(res.findings[0].rule->id, "tok");
    rmg_results_clear(&res);
    rmg_rules_free(r);
}

static void generic_yields_to_specific(void **state)
{
    (void)state;
    struct rmg_rules *r = custom(
        "{\"rules\": ["
        "{\"id\": \"gen\", \"title\": \"G\", \"severity\": \"low\", \"generic\": true, \"keywords\": [\"key=\"],"
        " \"regex\": \"key=(?<secret>[A-Za-z0-9_]{8,40})\"},"
        "{\"id\": \"spec\", \"title\": \"S\", \"severity\": \"high\", \"keywords\": [\"sk_\"],"
        " \"regex\": \"(?<secret>sk_[A-Za-z0-9]{10})\"}]}");
    const char *text = "key=sk_Ab3De6Gh9K\n";
    struct rmg_results res = scan_text(r, text, strlen(text));
    assert_int_equal(res.n_findings, 1);
    assert_string_equal(res.findings[0].rule->id, "spec");
    rmg_results_clear(&res);
    rmg_rules_free(r);
}

static void long_lines_and_columns_across_chunks(void **state)
{
    (void)state;
    struct rmg_rules *r = custom(tiny_rules);
    struct rmg_buf b = {0};
    for (int i = 0; i < 5000; i++)
        rmg_buf_puts(&b, "filler ");
    rmg_buf_puts(&b, "tok_q1w2e3r4t5y6\n\nxx tok_z9x8c7v6b5n4");
    size_t col1 = 5000 * 7 + 1;
    static const size_t chunks[] = {0, 100, 4096};
    for (size_t k = 0; k < 3; k++) {
        struct rmg_scan_opts o = {.chunk_size = chunks[k]};
        struct rmg_scanner *sc = rmg_scanner_new(r, &o);
        struct rmg_results res;
        rmg_results_init(&res);
        struct rmg_location loc = {.target = (char *)"t", .path = (char *)"p", .layer_index = -1};
        rmg_scan_buffer(sc, b.data, b.len, &loc, &res);
        rmg_results_sort(&res);
        assert_int_equal(res.n_findings, 2);
        assert_int_equal(res.findings[0].loc.line, 1);
        assert_int_equal(res.findings[0].loc.column, col1);
        assert_int_equal(res.findings[1].loc.line, 3);
        assert_int_equal(res.findings[1].loc.column, 4);
        rmg_results_clear(&res);
        rmg_scanner_free(sc);
    }
    rmg_buf_free(&b);
    rmg_rules_free(r);
}

static void redaction(void **state)
{
    (void)state;
    char out[64];
    rmg_redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789", 40, out, sizeof out);
    assert_string_equal(out, "ghp_…(40)");
    rmg_redact("hunter2!", 8, out, sizeof out);
    assert_string_equal(out, "…(8)");
    rmg_redact("abcdefghijkl", 12, out, sizeof out);
    assert_string_equal(out, "ab…(12)");
    static const char pem[] = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBv3\n-----END EC PRIVATE KEY-----";
    rmg_redact(pem, sizeof pem - 1, out, sizeof out);
    assert_string_equal(out, "-----BEGIN EC PRIVATE KEY-----…(72)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(differential),
        cmocka_unit_test(chunk_sizes),
        cmocka_unit_test(mutations_differential),
        cmocka_unit_test(filters_keep_every_match),
        cmocka_unit_test(builtin_and_added_rules),
        cmocka_unit_test(concurrent_first_use),
        cmocka_unit_test(positions_and_filters),
        cmocka_unit_test(binary_skips_generic),
        cmocka_unit_test(generic_yields_to_specific),
        cmocka_unit_test(long_lines_and_columns_across_chunks),
        cmocka_unit_test(redaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
