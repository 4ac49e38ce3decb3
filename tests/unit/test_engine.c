/* test_engine.c: the engine's guarantees: every prefilter path and every chunk size gives the
 * findings of the reference (PCRE2 over the whole buffer), plus filters, positions, binary
 * handling and overlap resolution. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "rules_internal.h"
#include "rummage.h"
#include "support.h"
#include "util.h"

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
        cmocka_unit_test(positions_and_filters),
        cmocka_unit_test(binary_skips_generic),
        cmocka_unit_test(generic_yields_to_specific),
        cmocka_unit_test(long_lines_and_columns_across_chunks),
        cmocka_unit_test(redaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
