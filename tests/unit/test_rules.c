/* test_rules.c: unit tests of the rule loader and compiler through the public API
 * (include/rummage.h): valid and invalid rule documents, the built-in rule set with both
 * engines, and the rule set's hash. */

#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rummage.h"
#include "support.h"

/* The test documents are written with single quotes for readability; jq() turns them into
 * JSON. None of them contains a real secret: the "acme_" tokens are made up for a test rule. */
static char *jq(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

static enum rmg_status add_doc(struct rmg_rules *rules, const char *single_quoted,
                               const char *origin, char *err, size_t errlen)
{
    char *json = jq(single_quoted);
    err[0] = '\0';
    enum rmg_status st = rmg_rules_add_json(rules, json, strlen(json), origin, err, errlen);
    free(json);
    return st;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* ----------------------------------------------------------------- a valid document */

static const char VALID[] =
    "{'rules': ["
    " {'id': 'test-one', 'title': 'Test token one', 'severity': 'High',"
    "  'keywords': ['ACME_'], 'regex': '(?<![a-z0-9_])(?<secret>acme_[a-z0-9]{20})(?![a-z0-9])',"
    "  'tags': ['test', 'acme'], 'max_span': 100,"
    "  'examples': {'positive': ['k=acme_q8w3e7r1t5y9u2i4o6p0'], 'negative': ['acme_x']}},"
    " {'id': 'test-two', 'title': 'Test password', 'severity': 'low', 'keywords': ['pw='],"
    "  'regex': 'pw=(?<secret>[A-Za-z0-9]{12,32})', 'generic': true, 'min_entropy': 2.5,"
    "  'confidence': 'entropy', 'remedy': 'Rotate it.', 'description': 'free text',"
    "  'allow': {'values': ['Zq8rT2mVx9Lp4Kw7Allowed'], 'regexes': ['^Known']},"
    "  'examples': {'positive': ['pw=Zq8rT2mVx9Lp4Kw7'], 'negative': ['pw=short']}}"
    "]}";

static void test_valid_document_loads(void **state)
{
    (void)state;
    char err[512];
    struct rmg_rules *rules = rmg_rules_new();
    assert_non_null(rules);
    assert_int_equal(add_doc(rules, VALID, "valid.json", err, sizeof err), RMG_OK);
    assert_int_equal(rmg_rules_count(rules), 2);

    const struct rmg_rule *one = rmg_rules_find(rules, "test-one");
    assert_non_null(one);
    assert_ptr_equal(one, rmg_rules_get(rules, 0));
    assert_int_equal(one->index, 0);
    assert_string_equal(one->title, "Test token one");
    assert_string_equal(one->origin, "valid.json");
    assert_int_equal(one->severity, RMG_SEV_HIGH); /* severity names are case-insensitive */
    assert_int_equal(one->confidence, RMG_CONF_PATTERN);
    assert_false(one->generic);
    assert_null(one->validator);
    assert_int_equal(one->n_keywords, 1);
    assert_string_equal(one->keywords[0], "acme_"); /* lower-cased */
    assert_int_equal(one->n_tags, 2);
    assert_string_equal(one->tags[1], "acme");
    assert_non_null(one->remedy);
    assert_true(strlen(one->remedy) > 10); /* the default remedy */

    const struct rmg_rule *two = rmg_rules_find(rules, "test-two");
    assert_non_null(two);
    assert_int_equal(two->index, 1);
    assert_true(two->generic);
    assert_int_equal(two->confidence, RMG_CONF_ENTROPY);
    assert_int_equal(two->severity, RMG_SEV_LOW);
    assert_string_equal(two->remedy, "Rotate it.");
    assert_true(two->min_entropy > 2.4 && two->min_entropy < 2.6);
    assert_int_equal(two->n_allow_values, 1);
    assert_null(rmg_rules_find(rules, "test-three"));
    assert_null(rmg_rules_get(rules, 2));

    assert_int_equal(rmg_rules_compile(rules, RMG_ENGINE_PCRE2, err, sizeof err), RMG_OK);
    assert_int_equal(rmg_rules_engine(rules), RMG_ENGINE_PCRE2);
    assert_true(one->max_span >= 25 && one->max_span <= 100);

    /* The loaded rules work: a scan finds the token, at the right place. */
    struct rmg_scanner *sc = rmg_scanner_new(rules, NULL);
    assert_non_null(sc);
    struct rmg_results res;
    rmg_results_init(&res);
    char text[] = "first\n  key=acme_q8w|3e7r1t5y9u2i4o6p0\npw=Known0123456789xyz\n"
                  "pw=Zq8rT2mVx9Lp4Kw7Allowed\n";
    support_join(text); /* a test secret in pieces (support.h) */
    struct rmg_location loc = {.target = (char *)"t", .path = (char *)"t", .layer_index = -1};
    assert_int_equal(rmg_scan_buffer(sc, text, strlen(text), &loc, &res), RMG_OK);
    assert_int_equal(res.n_findings, 1); /* the two passwords are allowed by the rule */
    assert_ptr_equal(res.findings[0].rule, one);
    assert_string_equal(res.findings[0].secret, "acme_q8w3e7r1t5y9u2i4o6p0");
    assert_int_equal(res.findings[0].loc.line, 2);
    assert_int_equal(res.findings[0].loc.column, 7);
    rmg_results_clear(&res);
    rmg_scanner_free(sc);
    rmg_rules_free(rules);
    rmg_rules_free(NULL);
}

/* ------------------------------------------------------------------ bad documents */

/* A good rule first, so a test can see that nothing of a bad document stays. */
#define FIRST "{'id': 'first-ok', 'title': 'T', 'severity': 'low', 'keywords': ['acme_'], " \
              "'regex': 'acme_[a-z0-9]{20}'}, "
#define RULE(id, rest) "{'id': '" id "', 'title': 'T', 'severity': 'low', " rest "}"
#define KW_RE "'keywords': ['acme_'], 'regex': 'acme_[a-z0-9]{20}'"
#define DOC(rules) "{'rules': [" FIRST rules "]}"

struct bad_case {
    const char *name;
    const char *doc;
    const char *want[4]; /* substrings of the message besides the origin */
};

static const struct bad_case bad_cases[] = {
    {"bad_unknown_key", DOC(RULE("bad-key", KW_RE ", 'colour': 'red'")), {"bad-key", "colour"}},
    {"bad_missing_title",
     DOC("{'id': 'bad-title', 'severity': 'low', " KW_RE "}"), {"bad-title", "title"}},
    {"bad_empty_title",
     DOC("{'id': 'bad-title', 'title': '', 'severity': 'low', " KW_RE "}"),
     {"bad-title", "title"}},
    {"bad_missing_regex", DOC(RULE("bad-regex", "'keywords': ['acme_']")),
     {"bad-regex", "regex"}},
    {"bad_missing_severity",
     DOC("{'id': 'bad-sev', 'title': 'T', " KW_RE "}"), {"bad-sev", "severity"}},
    {"bad_severity_value",
     DOC("{'id': 'bad-sev', 'title': 'T', 'severity': 'urgent', " KW_RE "}"),
     {"bad-sev", "severity"}},
    {"bad_missing_keywords", DOC(RULE("bad-kw", "'regex': 'acme_[a-z0-9]{20}'")),
     {"bad-kw", "keywords"}},
    {"bad_keywords_type", DOC(RULE("bad-kw", "'keywords': 'acme_', 'regex': 'acme_[a-z]{9}'")),
     {"bad-kw", "keywords"}},
    {"bad_missing_id", DOC("{'title': 'T', 'severity': 'low', " KW_RE "}"), {"id"}},
    {"bad_id_chars", DOC(RULE("Bad Id!", KW_RE)), {"id"}},
    /* The regex is bad: the PCRE2 error must be in the message. */
    {"bad_regex_syntax",
     DOC(RULE("bad-re", "'keywords': ['acme_'], 'regex': 'acme_([a-z0-9]{20}'")),
     {"bad-re", "regex", "missing closing parenthesis"}},
    {"bad_duplicate_in_document", DOC(RULE("dup-id", KW_RE) ", " RULE("dup-id", KW_RE)),
     {"dup-id", "duplicate"}},
    {"bad_duplicate_of_loaded", DOC(RULE("test-one", KW_RE)), {"test-one", "duplicate"}},
    {"bad_unknown_validator", DOC(RULE("bad-val", KW_RE ", 'validator': 'nosuch'")),
     {"bad-val", "validator", "nosuch"}},
    {"bad_max_span_zero", DOC(RULE("bad-span", KW_RE ", 'max_span': 0")),
     {"bad-span", "max_span"}},
    {"bad_max_span_huge", DOC(RULE("bad-span", KW_RE ", 'max_span': 1000000")),
     {"bad-span", "max_span"}},
    {"bad_max_span_type", DOC(RULE("bad-span", KW_RE ", 'max_span': 'long'")),
     {"bad-span", "max_span"}},
    {"bad_min_entropy", DOC(RULE("bad-ent", KW_RE ", 'min_entropy': 9")),
     {"bad-ent", "min_entropy"}},
    {"bad_generic_type", DOC(RULE("bad-gen", KW_RE ", 'generic': 'yes'")),
     {"bad-gen", "generic"}},
    {"bad_confidence", DOC(RULE("bad-conf", KW_RE ", 'confidence': 'high'")),
     {"bad-conf", "confidence"}},
    {"bad_allow_regex", DOC(RULE("bad-allow", KW_RE ", 'allow': {'regexes': ['(x']}")),
     {"bad-allow", "allow.regexes"}},
    {"bad_examples_type", DOC(RULE("bad-ex", KW_RE ", 'examples': ['x']")),
     {"bad-ex", "examples"}},
    {"bad_rule_not_object", "{'rules': [" FIRST "'just a string']}", {"object"}},
    {"bad_no_rules_key", "{'rule': [" FIRST "]}", {"rules"}},
    {"bad_rules_not_array", "{'rules': {'a': 1}}", {"rules"}},
    {"bad_top_level_array", "[" FIRST "]", {"rules"}},
    {"bad_invalid_json", "{'rules': [" FIRST, {"JSON"}},
    {"bad_empty_input", "", {"JSON"}},
};

static void run_bad_case(void **state)
{
    const struct bad_case *c = *state;
    char err[1024], err2[512];
    static const char origin[] = "dir/bad-rules.json";
    struct rmg_rules *rules = rmg_rules_new();
    struct rmg_rules *control = rmg_rules_new();
    assert_non_null(rules);
    assert_non_null(control);
    assert_int_equal(add_doc(rules, VALID, "valid.json", err2, sizeof err2), RMG_OK);
    assert_int_equal(add_doc(control, VALID, "valid.json", err2, sizeof err2), RMG_OK);
    size_t before = rmg_rules_count(rules);

    enum rmg_status st = add_doc(rules, c->doc, origin, err, sizeof err);
    if (st != RMG_EINPUT)
        fail_msg("%s: rmg_rules_add_json returned %s (%d), want RMG_EINPUT; message \"%s\"",
                 c->name, rmg_status_name(st), (int)st, err);
    assert_contains(err, origin);
    for (int i = 0; i < 4 && c->want[i]; i++)
        assert_contains(err, c->want[i]);
    /* Nothing of the bad document was added, not even its good first rule. */
    assert_int_equal(rmg_rules_count(rules), before);
    assert_null(rmg_rules_find(rules, "first-ok"));
    /* The set is still whole and usable, with the same identity as without the bad file. */
    assert_int_equal(rmg_rules_compile(rules, RMG_ENGINE_PCRE2, err2, sizeof err2), RMG_OK);
    assert_int_equal(rmg_rules_compile(control, RMG_ENGINE_PCRE2, err2, sizeof err2), RMG_OK);
    assert_string_equal(rmg_rules_hash(rules), rmg_rules_hash(control));
    rmg_rules_free(rules);
    rmg_rules_free(control);
}

/* A regex PCRE2 rejects is reported when compiling too, naming the rule (the contract of
 * rmg_rules_compile), for a loader that lets such a rule through. */
static void test_bad_regex_compile_names_rule(void **state)
{
    (void)state;
    char err[1024];
    struct rmg_rules *rules = rmg_rules_new();
    assert_non_null(rules);
    enum rmg_status st =
        add_doc(rules, "{'rules': [" RULE("bad-re", "'keywords': ['x'], 'regex': 'a(?<n>b'") "]}",
                "late.json", err, sizeof err);
    if (st == RMG_OK) {
        st = rmg_rules_compile(rules, RMG_ENGINE_PCRE2, err, sizeof err);
        assert_int_equal(st, RMG_EINPUT);
    }
    assert_int_equal(st, RMG_EINPUT);
    assert_contains(err, "late.json");
    assert_contains(err, "bad-re");
    assert_contains(err, "regex");
    rmg_rules_free(rules);
}

/* ------------------------------------------------------------------------ builtins */

static struct rmg_rules *load_builtin(enum rmg_engine_kind engine)
{
    char err[1024];
    struct rmg_rules *rules = rmg_rules_new();
    assert_non_null(rules);
    enum rmg_status st = rmg_rules_add_builtin(rules, err, sizeof err);
    if (st != RMG_OK)
        fail_msg("builtin rules do not load: %s", err);
    st = rmg_rules_compile(rules, engine, err, sizeof err);
    if (st != RMG_OK)
        fail_msg("builtin rules do not compile: %s", err);
    return rules;
}

static void check_builtin(enum rmg_engine_kind engine)
{
    struct rmg_rules *rules = load_builtin(engine);
    assert_int_equal(rmg_rules_engine(rules), engine);
    size_t n = rmg_rules_count(rules);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const struct rmg_rule *r = rmg_rules_get(rules, i);
        assert_non_null(r);
        assert_int_equal(r->index, i);
        if (strncmp(r->origin, "builtin:", 8) != 0)
            fail_msg("rule %s: origin \"%s\"", r->id, r->origin);
        assert_true(r->title[0] && r->regex[0] && r->remedy && r->remedy[0]);
        assert_true(r->max_span > 0);
        assert_ptr_equal(rmg_rules_find(rules, r->id), r);
    }
    /* The compiled set finds a secret through this engine's prefilter. Synthetic key id. */
    struct rmg_scanner *sc = rmg_scanner_new(rules, NULL);
    assert_non_null(sc);
    struct rmg_results res;
    rmg_results_init(&res);
    char key_id[] = "AKIAQ3EG|RTZ5LK7M|N2PX"; /* in pieces (support.h) */
    char text[64];
    snprintf(text, sizeof text, "aws_access_key_id = %s\n", support_join(key_id));
    struct rmg_location loc = {.target = (char *)"t", .path = (char *)"t", .layer_index = -1};
    assert_int_equal(rmg_scan_buffer(sc, text, strlen(text), &loc, &res), RMG_OK);
    bool found = false;
    for (size_t i = 0; i < res.n_findings; i++)
        found = found || strcmp(res.findings[i].secret, key_id) == 0;
    assert_true(found);
    rmg_results_clear(&res);
    rmg_scanner_free(sc);
    rmg_rules_free(rules);
}

static void test_builtin_pcre2(void **state)
{
    (void)state;
    check_builtin(RMG_ENGINE_PCRE2);
}

static void test_builtin_vectorscan(void **state)
{
    (void)state;
    if (!rmg_rules_have_vectorscan()) {
        char err[256];
        struct rmg_rules *rules = rmg_rules_new();
        assert_int_equal(rmg_rules_compile(rules, RMG_ENGINE_VECTORSCAN, err, sizeof err),
                         RMG_EINPUT);
        rmg_rules_free(rules);
        skip();
    }
    check_builtin(RMG_ENGINE_VECTORSCAN);
}

/* The rule set the design promises. Fails until the rule files are complete. */
static void test_builtin_at_least_150_rules(void **state)
{
    (void)state;
    struct rmg_rules *rules = load_builtin(RMG_ENGINE_PCRE2);
    size_t n = rmg_rules_count(rules);
    rmg_rules_free(rules);
    if (n < 150)
        fail_msg("%zu built-in rules, want at least 150", n);
}

/* ---------------------------------------------------------------------------- hash */

static const char HASH_A[] =
    "{'rules': [" RULE("hash-a", "'keywords': ['acme_'], 'regex': 'acme_[a-z0-9]{20}'") "]}";
static const char HASH_A_RETITLED[] =
    "{'rules': [{'id': 'hash-a', 'title': 'U', 'severity': 'low', 'keywords': ['acme_'], "
    "'regex': 'acme_[a-z0-9]{20}'}]}";
static const char HASH_B[] =
    "{'rules': [" RULE("hash-b", "'keywords': ['beta_'], 'regex': 'beta_[a-z0-9]{20}'") "]}";

static void hash_of(const char *d1, const char *d2, char out[65])
{
    char err[512];
    struct rmg_rules *rules = rmg_rules_new();
    assert_non_null(rules);
    assert_int_equal(add_doc(rules, d1, "one.json", err, sizeof err), RMG_OK);
    if (d2)
        assert_int_equal(add_doc(rules, d2, "two.json", err, sizeof err), RMG_OK);
    assert_int_equal(rmg_rules_compile(rules, RMG_ENGINE_PCRE2, err, sizeof err), RMG_OK);
    const char *h = rmg_rules_hash(rules);
    assert_non_null(h);
    assert_int_equal(strlen(h), 64);
    for (const char *p = h; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            fail_msg("hash \"%s\" is not lower-case hex", h);
    memcpy(out, h, 65);
    rmg_rules_free(rules);
}

static void test_hash(void **state)
{
    (void)state;
    char a[65], a2[65], a_re[65], ab[65], ba[65], builtin[65];
    hash_of(HASH_A, NULL, a);
    hash_of(HASH_A, NULL, a2);
    assert_string_equal(a, a2); /* deterministic */
    hash_of(HASH_A_RETITLED, NULL, a_re);
    assert_string_not_equal(a, a_re); /* a changed rule changes it */
    hash_of(HASH_A, HASH_B, ab);
    hash_of(HASH_B, HASH_A, ba);
    assert_string_not_equal(a, ab);
    assert_string_not_equal(ab, ba); /* load order is part of the identity */
    struct rmg_rules *rules = load_builtin(RMG_ENGINE_PCRE2);
    memcpy(builtin, rmg_rules_hash(rules), 65);
    assert_int_equal(strlen(builtin), 64);
    assert_string_not_equal(builtin, a);
    rmg_rules_free(rules);
}

/* -------------------------------------------------------------------- files, dirs */

static void write_file(const char *path, const char *single_quoted)
{
    char *json = jq(single_quoted);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    free(json);
}

static void test_add_path(void **state)
{
    (void)state;
    char dir[] = "/tmp/rmg-test-rules-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p1[128], p2[128], p3[128], sub[128], err[1024];
    snprintf(p1, sizeof p1, "%s/b.json", dir);
    snprintf(p2, sizeof p2, "%s/a.json", dir);
    snprintf(p3, sizeof p3, "%s/notes.txt", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    write_file(p1, HASH_B);
    write_file(p2, HASH_A);
    write_file(p3, "not json at all");
    assert_int_equal(mkdir(sub, 0755), 0);

    struct rmg_rules *rules = rmg_rules_new();
    assert_int_equal(rmg_rules_add_path(rules, dir, err, sizeof err), RMG_OK);
    assert_int_equal(rmg_rules_count(rules), 2);
    assert_string_equal(rmg_rules_get(rules, 0)->id, "hash-a"); /* sorted by file name */
    assert_string_equal(rmg_rules_get(rules, 1)->origin, p1);
    rmg_rules_free(rules);

    rules = rmg_rules_new();
    assert_int_equal(rmg_rules_add_path(rules, p2, err, sizeof err), RMG_OK);
    assert_int_equal(rmg_rules_count(rules), 1);
    assert_int_equal(rmg_rules_add_path(rules, p3, err, sizeof err), RMG_EINPUT);
    assert_contains(err, p3);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.json", dir);
    assert_int_equal(rmg_rules_add_path(rules, missing, err, sizeof err), RMG_EINPUT);
    assert_contains(err, missing);
    assert_int_equal(rmg_rules_count(rules), 1);
    rmg_rules_free(rules);

    unlink(p1);
    unlink(p2);
    unlink(p3);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    enum { N_BAD = sizeof bad_cases / sizeof bad_cases[0] };
    struct CMUnitTest tests[N_BAD + 8];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_valid_document_loads);
    for (size_t i = 0; i < N_BAD; i++)
        tests[n++] = (struct CMUnitTest){.name = bad_cases[i].name, .test_func = run_bad_case,
                                         .initial_state = (void *)&bad_cases[i]};
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bad_regex_compile_names_rule);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_builtin_pcre2);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_builtin_vectorscan);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_builtin_at_least_150_rules);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_hash);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_add_path);
    return _cmocka_run_group_tests("rules", tests, n, NULL, NULL);
}
