/* test_report.c: the text and JSON reports: the JSON contract of docs/output.md, redaction,
 * escaping of untrusted paths, grouping by fingerprint, and colour only when asked. */
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

#include "report/report.h"
#include "rummage.h"
#include "support.h"
#include "common/util.h"

static const char rules_json[] =
    "{\"rules\": ["
    "{\"id\": \"tok\", \"title\": \"Tok token\", \"severity\": \"high\", \"keywords\": [\"tok_\"],"
    " \"remedy\": \"Revoke the tok.\","
    " \"regex\": \"\\\\b(?<secret>tok_[A-Za-z0-9]{12})\\\\b\"},"
    "{\"id\": \"pw\", \"title\": \"Password\", \"severity\": \"critical\", \"keywords\": [\"pw=\"],"
    " \"regex\": \"pw=(?<secret>[A-Za-z0-9]{10})\\\\b\"}"
    "]}";

#define TOK "tok_Q7fk29XbLmP3"
#define TOK_RAW "Q7fk29XbLmP3" /* the part of TOK a redacted form must never show */
#define PW "Zq81LmNb47"

/* Paths from an untrusted tree: an ANSI escape, invalid UTF-8 (a stray 0xff, an overlong
 * slash, a surrogate). */
#define PATH_ESC "a\x1b[31mred/x.env"
#define PATH_BAD "b\xff\xc0\xaf\xed\xa0\x80/y.env"

struct fixture {
    struct rmg_rules *rules;
    struct rmg_results res;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->rules = support_rules(rules_json, RMG_ENGINE_AUTO);
    if (!fx->rules)
        return -1;
    rmg_results_init(&fx->res);
    struct rmg_scanner *sc = rmg_scanner_new(fx->rules, NULL);
    if (!sc)
        return -1;
    static const char a[] = "# config\nkey = " TOK "\n";
    static const char b[] = "x\npw=" PW " and " TOK "\n";
    struct rmg_location la = {.target = (char *)"dir", .path = (char *)PATH_ESC,
                              .layer_index = -1};
    struct rmg_location lb = {.target = (char *)"dir", .path = (char *)PATH_BAD,
                              .layer_index = -1};
    rmg_scan_buffer(sc, a, sizeof a - 1, &la, &fx->res);
    rmg_scan_buffer(sc, b, sizeof b - 1, &lb, &fx->res);
    rmg_scanner_free(sc);
    rmg_results_add_error(&fx->res, RMG_EINPUT, "dir", "bad\x1b]0;title\x07name",
                          "Permission denied");
    rmg_results_add_error(&fx->res, RMG_WARN, "dir", NULL, "match limit hit");
    rmg_results_sort(&fx->res);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    rmg_results_clear(&fx->res);
    rmg_rules_free(fx->rules);
    free(fx);
    return 0;
}

static char *json_report(const struct fixture *fx, bool show)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    assert_non_null(f);
    struct rmg_report_opts o = {.show_secrets = show, .rules = fx->rules, .suppressed = 3};
    assert_true(rmg_report_json(f, &fx->res, &o));
    fclose(f);
    return mem;
}

static char *text_report(const struct fixture *fx, bool show, bool color)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    assert_non_null(f);
    struct rmg_report_opts o = {.show_secrets = show, .color = color, .rules = fx->rules};
    rmg_report_text(f, &fx->res, &o);
    fclose(f);
    return mem;
}

/* Strict UTF-8 check (no overlongs, surrogates or values above U+10FFFF). */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t need;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (i + need > n)
            return false;
        for (size_t k = 1; k < need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += need;
    }
    return true;
}

static void scan_found_three(void **state)
{
    struct fixture *fx = *state;
    /* The reports below rest on this: the tok secret twice, the pw secret once. */
    assert_int_equal(fx->res.n_findings, 3);
    assert_int_equal(fx->res.n_errors, 2);
    assert_int_equal(fx->res.stats.files, 2);
}

static void json_has_contract_fields(void **state)
{
    struct fixture *fx = *state;
    char *text = json_report(fx, false);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);

    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(root, "tool");
    assert_true(cJSON_IsObject(tool));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tool, "name")->valuestring, "rummage");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tool, "version")->valuestring,
                        RMG_VERSION);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tool, "rules")->valuestring,
                        rmg_rules_hash(fx->rules));

    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(root, "findings");
    assert_true(cJSON_IsArray(fs));
    assert_int_equal(cJSON_GetArraySize(fs), 3);
    const cJSON *f;
    cJSON_ArrayForEach(f, fs)
    {
        static const char *const keys[] = {"rule", "title", "severity", "confidence", "secret",
                                           "fingerprint", "state", "remedy"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, keys[k])));
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(f, "location");
        assert_true(cJSON_IsObject(loc));
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(loc, "target")->valuestring, "dir");
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(loc, "path")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(loc, "line")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(loc, "column")));
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(f, "state")->valuestring,
                            "present");
    }
    const cJSON *first = cJSON_GetArrayItem(fs, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "rule")->valuestring, "tok");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "severity")->valuestring, "high");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "confidence")->valuestring,
                        "pattern");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "remedy")->valuestring,
                        "Revoke the tok.");
    const cJSON *floc = cJSON_GetObjectItemCaseSensitive(first, "location");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(floc, "line")->valuedouble, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(floc, "column")->valuedouble, 7);

    const cJSON *es = cJSON_GetObjectItemCaseSensitive(root, "errors");
    assert_true(cJSON_IsArray(es));
    assert_int_equal(cJSON_GetArraySize(es), 2);
    int errors = 0, warnings = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, es)
    {
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "target")->valuestring, "dir");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "path");
        assert_true(cJSON_IsString(p) || cJSON_IsNull(p));
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
        const char *level = cJSON_GetObjectItemCaseSensitive(e, "level")->valuestring;
        if (strcmp(level, "error") == 0) {
            errors++;
            assert_string_equal(p->valuestring, "bad\x1b]0;title\x07name");
        } else {
            assert_string_equal(level, "warning");
            assert_true(cJSON_IsNull(p));
            warnings++;
        }
    }
    assert_int_equal(errors, 1);
    assert_int_equal(warnings, 1);

    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "stats");
    assert_true(cJSON_IsObject(st));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "files")->valuedouble, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "bytes")->valuedouble,
                     fx->res.stats.bytes);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "skipped")->valuedouble, 0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "suppressed")->valuedouble, 3);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(st, "seconds")));
    cJSON_Delete(root);
    free(text);
}

static void json_redacts_secrets(void **state)
{
    struct fixture *fx = *state;
    char *text = json_report(fx, false);
    assert_null(strstr(text, TOK_RAW));
    assert_null(strstr(text, PW));
    assert_null(strstr(text, "Zq81")); /* short secret: no prefix at all */
    cJSON *root = cJSON_Parse(text);
    const cJSON *f;
    bool saw_tok = false;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(root, "findings"))
    {
        const char *rule = cJSON_GetObjectItemCaseSensitive(f, "rule")->valuestring;
        const char *secret = cJSON_GetObjectItemCaseSensitive(f, "secret")->valuestring;
        if (strcmp(rule, "tok") == 0) {
            assert_string_equal(secret, "tok_…(16)");
            saw_tok = true;
        }
    }
    assert_true(saw_tok);
    cJSON_Delete(root);
    free(text);

    text = json_report(fx, true);
    assert_non_null(strstr(text, TOK));
    assert_non_null(strstr(text, PW));
    free(text);
}

static void json_escapes_invalid_utf8(void **state)
{
    struct fixture *fx = *state;
    char *text = json_report(fx, false);
    /* Checks are collected and asserted after freeing, so a failure leaks nothing. */
    char why[512] = "";
    /* The whole document is valid UTF-8, whatever the paths held. */
    if (!valid_utf8((const unsigned char *)text, strlen(text)))
        snprintf(why, sizeof why, "the JSON report is not valid UTF-8");
    if (strchr(text, '\x1b'))
        snprintf(why, sizeof why, "a raw ESC byte in the JSON report");
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    int saw_bad = 0, saw_esc = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(root, "findings"))
    {
        const char *path = cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(f, "location"), "path")
                               ->valuestring;
        if (path[0] == 'b') {
            saw_bad++;
            if (strcmp(path, "b\\xff\\xc0\\xaf\\xed\\xa0\\x80/y.env") != 0) {
                struct rmg_buf shown = {0};
                rmg_buf_put_safe(&shown, path, strlen(path));
                snprintf(why, sizeof why, "invalid UTF-8 path in JSON as \"%s\"", shown.data);
                rmg_buf_free(&shown);
            }
        } else {
            /* Valid UTF-8 with a control byte: JSON escapes it (\u001b); the value survives. */
            saw_esc++;
            if (strcmp(path, PATH_ESC) != 0)
                snprintf(why, sizeof why, "the escape path did not survive JSON");
        }
    }
    cJSON_Delete(root);
    free(text);
    assert_int_equal(saw_bad, 2);
    assert_int_equal(saw_esc, 1);
    if (why[0])
        fail_msg("%s", why);
}

static void json_same_secret_same_fingerprint(void **state)
{
    struct fixture *fx = *state;
    char *text = json_report(fx, false);
    cJSON *root = cJSON_Parse(text);
    const char *tok_fp[2] = {NULL, NULL};
    const char *pw_fp = NULL;
    size_t n_tok = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(root, "findings"))
    {
        const char *rule = cJSON_GetObjectItemCaseSensitive(f, "rule")->valuestring;
        const char *fp = cJSON_GetObjectItemCaseSensitive(f, "fingerprint")->valuestring;
        assert_int_equal(strlen(fp), 64);
        if (strcmp(rule, "tok") == 0 && n_tok < 2)
            tok_fp[n_tok++] = fp;
        else
            pw_fp = fp;
    }
    assert_int_equal(n_tok, 2);
    assert_non_null(pw_fp);
    assert_string_equal(tok_fp[0], tok_fp[1]);
    assert_string_not_equal(tok_fp[0], pw_fp);
    /* docs/output.md: sha256 of rule id, a NUL byte and the secret. */
    char want[65];
    static const char in[] = "tok\0" TOK;
    rmg_sha256_hex(in, sizeof in - 1, want);
    assert_string_equal(tok_fp[0], want);
    cJSON_Delete(root);
    free(text);
}

static void text_plain_has_no_escape_bytes(void **state)
{
    struct fixture *fx = *state;
    char *text = text_report(fx, false, false);
    assert_null(strchr(text, '\x1b'));
    assert_non_null(strstr(text, "a\\x1b[31mred/x.env"));
    assert_non_null(strstr(text, "b\\xff\\xc0\\xaf\\xed\\xa0\\x80/y.env"));
    free(text);
}

static void text_redacts_and_groups(void **state)
{
    struct fixture *fx = *state;
    char *text = text_report(fx, false, false);
    assert_null(strstr(text, TOK_RAW));
    assert_null(strstr(text, PW));
    assert_non_null(strstr(text, "tok_…(16)"));
    /* Summary first: two distinct secrets in three findings, by severity. */
    assert_memory_equal(text, "2 secrets in 3 findings (1 critical, 1 high)",
                        strlen("2 secrets in 3 findings (1 critical, 1 high)"));
    const char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_non_null(strstr(text, "2 files"));
    assert_true(strstr(text, "2 files") < nl);
    /* One input error and one warning, counted apart. */
    const char *probs = strstr(text, "1 error, 1 warning (on stderr)");
    assert_true(probs != NULL && probs < nl);
    /* The tok secret is one block with both locations. */
    const char *block = strstr(text, "HIGH");
    assert_non_null(block);
    assert_null(strstr(block + 1, "HIGH"));
    assert_non_null(strstr(block, "2 locations"));
    const char *l1 = strstr(block, "dir/a\\x1b[31mred/x.env:2:7");
    const char *l2 = strstr(block, "dir/b\\xff\\xc0\\xaf\\xed\\xa0\\x80/y.env:2:");
    assert_non_null(l1);
    assert_non_null(l2);
    assert_non_null(strstr(block, "Revoke the tok."));
    /* Most severe first: CRITICAL before HIGH; one location, no count. */
    const char *crit = strstr(text, "CRITICAL");
    assert_non_null(crit);
    assert_true(crit < block);
    char crit_block[512];
    size_t n = (size_t)(block - crit) < sizeof crit_block - 1 ? (size_t)(block - crit)
                                                              : sizeof crit_block - 1;
    memcpy(crit_block, crit, n);
    crit_block[n] = '\0';
    assert_null(strstr(crit_block, "locations"));
    free(text);

    text = text_report(fx, true, false);
    assert_non_null(strstr(text, TOK));
    assert_non_null(strstr(text, PW));
    free(text);
}

/* Many secrets, their findings interleaved (line i holds secret i % 500): every secret is one
 * block, with its three locations in order, however many groups there are. */
static void text_groups_many_secrets(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    rmg_results_init(&res);
    struct rmg_scanner *sc = rmg_scanner_new(fx->rules, NULL);
    assert_non_null(sc);
    struct rmg_buf in = {0};
    static const char al[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    for (int i = 0; i < 1500; i++) {
        char v[13];
        unsigned x = 2654435761u * (unsigned)(i % 500 + 1);
        for (int j = 0; j < 12; j++, x = x * 1103515245u + 12345u)
            v[j] = al[(x >> 16) % (sizeof al - 1)];
        v[12] = '\0';
        rmg_buf_printf(&in, "k = tok_%s\n", v);
    }
    struct rmg_location loc = {.target = (char *)"t", .path = (char *)"f.env", .layer_index = -1};
    rmg_scan_buffer(sc, in.data, in.len, &loc, &res);
    rmg_scanner_free(sc);
    rmg_buf_free(&in);
    rmg_results_sort(&res);
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    assert_non_null(f);
    struct rmg_report_opts o = {.rules = fx->rules};
    rmg_report_text(f, &res, &o);
    fclose(f);
    assert_memory_equal(mem, "500 secrets in 1500 findings", strlen("500 secrets in 1500 findings"));
    size_t blocks = 0;
    for (const char *p = mem; (p = strstr(p, "3 locations")); p++)
        blocks++;
    assert_int_equal(blocks, 500);
    /* Secret 7 (fingerprints differ, so find its block by its first line): lines 8, 508, 1008. */
    const char *at = strstr(mem, "f.env:8:5\n");
    assert_non_null(at);
    const char *second = strstr(at, "f.env:");
    second = strstr(second + 1, "f.env:");
    assert_non_null(second);
    assert_memory_equal(second, "f.env:508:5\n", strlen("f.env:508:5\n"));
    free(mem);
    rmg_results_clear(&res);
}

static void text_color_marks_severity(void **state)
{
    struct fixture *fx = *state;
    char *text = text_report(fx, false, true);
    assert_non_null(strstr(text, "\x1b[1;31mCRITICAL"));
    assert_non_null(strstr(text, "\x1b[31mHIGH"));
    /* Colour never lets the path's own escape through. */
    assert_null(strstr(text, "\x1b[31mred"));
    assert_non_null(strstr(text, "a\\x1b[31mred"));
    free(text);
}

static void text_no_findings(void **state)
{
    (void)state;
    struct rmg_results empty;
    rmg_results_init(&empty);
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    struct rmg_report_opts o = {0};
    rmg_report_text(f, &empty, &o);
    fclose(f);
    assert_memory_equal(mem, "No secrets found", strlen("No secrets found"));
    assert_non_null(strstr(mem, "0 files"));
    free(mem);
}

static void errors_are_escaped(void **state)
{
    struct fixture *fx = *state;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    rmg_report_errors(f, &fx->res);
    fclose(f);
    assert_null(strchr(mem, '\x1b'));
    assert_null(strchr(mem, '\x07'));
    assert_non_null(
        strstr(mem, "rummage: error: dir: bad\\x1b]0;title\\x07name: Permission denied\n"));
    assert_non_null(strstr(mem, "rummage: warning: dir: match limit hit\n"));
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_found_three),
        cmocka_unit_test(json_has_contract_fields),
        cmocka_unit_test(json_redacts_secrets),
        cmocka_unit_test(json_escapes_invalid_utf8),
        cmocka_unit_test(json_same_secret_same_fingerprint),
        cmocka_unit_test(text_plain_has_no_escape_bytes),
        cmocka_unit_test(text_redacts_and_groups),
        cmocka_unit_test(text_groups_many_secrets),
        cmocka_unit_test(text_color_marks_severity),
        cmocka_unit_test(text_no_findings),
        cmocka_unit_test(errors_are_escaped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
