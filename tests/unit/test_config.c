/* test_config.c: unit tests of src/cli/config.h: loading `.rummage.json` files and the
 * allow-list filter (paths, rule ids, fingerprints, secret regexes) over real findings made
 * by scanning buffers with a tiny rule set through the public API. */

#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/config.h"
#include "rummage.h"
#include "support.h"

/* ------------------------------------------------------------------------ fixture */

struct fx {
    char dir[64];
    char path[128]; /* dir/.rummage.json */
    struct rmg_rules *rules;
    struct rmg_results res;
    struct rmg_config cfg;
};

/* Made-up tokens for the two test rules; not secrets of any service. */
#define ACME_1 "acme_q8w3e7r1t5y9u2i4o6p0"
#define ACME_2 "acme_m3n8b1v6c4x9z2l7k5j0"
#define BETA_1 "beta_Zq8rT2mVx9Lp4Kw7Yh3N"

static const char RULES[] =
    "{\"rules\": ["
    " {\"id\": \"test-acme\", \"title\": \"Acme\", \"severity\": \"high\","
    "  \"keywords\": [\"acme_\"], \"regex\": \"acme_[a-z0-9]{20}\"},"
    " {\"id\": \"test-beta\", \"title\": \"Beta\", \"severity\": \"low\","
    "  \"keywords\": [\"beta_\"], \"regex\": \"beta_[A-Za-z0-9]{20}\"}"
    "]}";

static void scan_into(struct fx *f, struct rmg_scanner *sc, const char *path, const char *text)
{
    struct rmg_location loc = {.target = (char *)"tree", .path = (char *)path,
                               .layer_index = -1};
    assert_int_equal(rmg_scan_buffer(sc, text, strlen(text), &loc, &f->res), RMG_OK);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/rmg-test-config-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/.rummage.json", f->dir);
    f->rules = support_rules(RULES, RMG_ENGINE_PCRE2);
    if (!f->rules)
        return -1;
    rmg_results_init(&f->res);
    rmg_config_init(&f->cfg);
    struct rmg_scanner *sc = rmg_scanner_new(f->rules, NULL);
    if (!sc)
        return -1;
    /* Five findings: acme_1 in two files, acme_2, beta_1 in two files. */
    scan_into(f, sc, "src/app.env", "A=" ACME_1 "\nB=" BETA_1 "\n");
    scan_into(f, sc, "vendor/lib/x.env", "A=" ACME_1 "\n");
    scan_into(f, sc, "docs/notes.example", "A=" ACME_2 "\n");
    scan_into(f, sc, "Dockerfile", "ENV B=" BETA_1 "\n");
    rmg_scanner_free(sc);
    if (f->res.n_findings != 5)
        return -1;
    rmg_results_sort(&f->res);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rmg_results_clear(&f->res);
    rmg_config_free(&f->cfg);
    rmg_rules_free(f->rules);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_config(const struct fx *f, const char *text)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static enum rmg_status load(struct fx *f, const char *text, char *err, size_t errlen)
{
    write_config(f, text);
    err[0] = '\0';
    return rmg_config_load(&f->cfg, f->path, err, errlen);
}

static bool has_finding(const struct rmg_results *r, const char *path, const char *secret)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (strcmp(r->findings[i].loc.path, path) == 0 &&
            strcmp(r->findings[i].secret, secret) == 0)
            return true;
    return false;
}

/* --------------------------------------------------------------------------- loading */

static void test_load_good(void **state)
{
    struct fx *f = *state;
    char err[512];
    assert_int_equal(load(f,
                          "{\"rules\": [\"extra/rules.json\"],"
                          " \"allow\": {\"paths\": [\"vendor/*\", \"*.example\"],"
                          "  \"rules\": [\"test-beta\"],"
                          "  \"fingerprints\": [\"0123abcd\"],"
                          "  \"regexes\": [\"^acme_m\", \"x{2,}\"]}}",
                          err, sizeof err),
                     RMG_OK);
    assert_int_equal(f->cfg.n_rules_paths, 1);
    assert_string_equal(f->cfg.rules_paths[0], "extra/rules.json");
    assert_int_equal(f->cfg.n_allow_paths, 2);
    assert_string_equal(f->cfg.allow_paths[1], "*.example");
    assert_int_equal(f->cfg.n_allow_rules, 1);
    assert_string_equal(f->cfg.allow_rules[0], "test-beta");
    assert_int_equal(f->cfg.n_allow_fingerprints, 1);
    assert_int_equal(f->cfg.n_allow_regexes, 2);
    /* Keys are all optional; an empty object is a valid config. */
    rmg_config_free(&f->cfg);
    rmg_config_init(&f->cfg);
    assert_int_equal(load(f, "{}", err, sizeof err), RMG_OK);
    assert_int_equal(load(f, "{\"allow\": {}}", err, sizeof err), RMG_OK);
    assert_int_equal(f->cfg.n_allow_paths + f->cfg.n_allow_rules + f->cfg.n_rules_paths, 0);
}

struct bad_config {
    const char *text;
    const char *key; /* what the message must name besides the file */
};

static void test_load_bad(void **state)
{
    struct fx *f = *state;
    static const struct bad_config cases[] = {
        {"{ not json", NULL},
        {"", NULL},
        {"[\"allow\"]", NULL},
        {"{\"allowed\": {\"paths\": []}}", "allowed"},
        {"{\"allow\": {\"path\": [\"x\"]}}", "path"},
        {"{\"allow\": []}", "allow"},
        {"{\"allow\": {\"paths\": \"vendor/*\"}}", "allow.paths"},
        {"{\"allow\": {\"paths\": [\"\"]}}", "allow.paths"},
        {"{\"allow\": {\"rules\": [1]}}", "allow.rules"},
        {"{\"allow\": {\"fingerprints\": {}}}", "allow.fingerprints"},
        {"{\"allow\": {\"regexes\": [\"(unclosed\"]}}", "allow.regexes"},
        {"{\"rules\": \"x.json\"}", "rules"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512];
        rmg_config_free(&f->cfg);
        rmg_config_init(&f->cfg);
        enum rmg_status st = load(f, cases[i].text, err, sizeof err);
        if (st != RMG_EINPUT)
            fail_msg("config %s: status %s, want input error", cases[i].text,
                     rmg_status_name(st));
        if (!strstr(err, f->path))
            fail_msg("config %s: message \"%s\" does not name the file", cases[i].text, err);
        if (cases[i].key && !strstr(err, cases[i].key))
            fail_msg("config %s: message \"%s\" does not name \"%s\"", cases[i].text, err,
                     cases[i].key);
    }
    /* The PCRE2 error is part of a bad regex's message. */
    char err[512];
    rmg_config_free(&f->cfg);
    rmg_config_init(&f->cfg);
    assert_int_equal(load(f, "{\"allow\": {\"regexes\": [\"(unclosed\"]}}", err, sizeof err),
                     RMG_EINPUT);
    assert_non_null(strstr(err, "missing closing parenthesis"));
    /* A missing file. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope.json", f->dir);
    assert_int_equal(rmg_config_load(&f->cfg, missing, err, sizeof err), RMG_EINPUT);
    assert_non_null(strstr(err, missing));
}

/* --------------------------------------------------------------------------- filter */

static void test_filter_nothing_configured(void **state)
{
    struct fx *f = *state;
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 0);
    assert_int_equal(f->res.n_findings, 5);
}

static void test_filter_paths(void **state)
{
    struct fx *f = *state;
    char err[512];
    assert_int_equal(load(f, "{\"allow\": {\"paths\": [\"vendor/*\", \"*.example\"]}}", err,
                          sizeof err),
                     RMG_OK);
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 2);
    assert_int_equal(f->res.n_findings, 3);
    assert_false(has_finding(&f->res, "vendor/lib/x.env", ACME_1));
    assert_false(has_finding(&f->res, "docs/notes.example", ACME_2));
    assert_true(has_finding(&f->res, "src/app.env", ACME_1));
    assert_true(has_finding(&f->res, "src/app.env", BETA_1));
    assert_true(has_finding(&f->res, "Dockerfile", BETA_1));
}

static void test_filter_path_glob_exact(void **state)
{
    struct fx *f = *state;
    char err[512];
    /* A glob that matches neither the whole path nor the base name drops nothing. */
    assert_int_equal(load(f, "{\"allow\": {\"paths\": [\"vendor\", \"src/*.txt\", \"Docker\"]}}",
                          err, sizeof err),
                     RMG_OK);
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 0);
    assert_int_equal(f->res.n_findings, 5);
    assert_int_equal(load(f, "{\"allow\": {\"paths\": [\"Dockerfile\", \"src/app.e?v\"]}}", err,
                          sizeof err),
                     RMG_OK);
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 3);
    assert_int_equal(f->res.n_findings, 2);
}

static void test_filter_rules(void **state)
{
    struct fx *f = *state;
    char err[512];
    assert_int_equal(load(f, "{\"allow\": {\"rules\": [\"test-beta\", \"no-such-rule\"]}}", err,
                          sizeof err),
                     RMG_OK);
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 2);
    assert_int_equal(f->res.n_findings, 3);
    for (size_t i = 0; i < f->res.n_findings; i++)
        assert_string_equal(f->res.findings[i].rule->id, "test-acme");
}

static void test_filter_fingerprints(void **state)
{
    struct fx *f = *state;
    const char *fp = NULL;
    for (size_t i = 0; i < f->res.n_findings; i++)
        if (strcmp(f->res.findings[i].secret, ACME_1) == 0)
            fp = f->res.findings[i].fingerprint;
    assert_non_null(fp);
    assert_int_equal(strlen(fp), 64);
    char text[256], err[512];
    snprintf(text, sizeof text, "{\"allow\": {\"fingerprints\": [\"%s\"]}}", fp);
    assert_int_equal(load(f, text, err, sizeof err), RMG_OK);
    /* The same secret in two files has one fingerprint: both go. */
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 2);
    assert_int_equal(f->res.n_findings, 3);
    assert_false(has_finding(&f->res, "src/app.env", ACME_1));
    assert_false(has_finding(&f->res, "vendor/lib/x.env", ACME_1));
    assert_true(has_finding(&f->res, "docs/notes.example", ACME_2));
}

static void test_filter_regexes(void **state)
{
    struct fx *f = *state;
    char err[512];
    /* Matched against the secret, not the line or the path. */
    assert_int_equal(load(f, "{\"allow\": {\"regexes\": [\"^acme_m3n8\", \"^A=\", \"env\"]}}",
                          err, sizeof err),
                     RMG_OK);
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 1);
    assert_int_equal(f->res.n_findings, 4);
    assert_false(has_finding(&f->res, "docs/notes.example", ACME_2));
    assert_int_equal(load(f, "{\"allow\": {\"regexes\": [\"Zq8rT2mV\"]}}", err, sizeof err),
                     RMG_OK);
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 2);
    assert_int_equal(f->res.n_findings, 2);
}

static void test_filter_keeps_order_and_results_usable(void **state)
{
    struct fx *f = *state;
    char err[512];
    assert_int_equal(load(f, "{\"allow\": {\"paths\": [\"src/*\"]}}", err, sizeof err), RMG_OK);
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 2);
    /* Survivors stay in report order: Dockerfile, docs/..., vendor/... */
    assert_int_equal(f->res.n_findings, 3);
    assert_string_equal(f->res.findings[0].loc.path, "Dockerfile");
    assert_string_equal(f->res.findings[1].loc.path, "docs/notes.example");
    assert_string_equal(f->res.findings[2].loc.path, "vendor/lib/x.env");
    /* Filtering again changes nothing. */
    assert_int_equal(rmg_config_filter(&f->cfg, &f->res), 0);
    assert_int_equal(f->res.n_findings, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_nothing_configured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_path_glob_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_fingerprints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_regexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_keeps_order_and_results_usable, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
