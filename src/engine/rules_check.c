/* rules_check.c: `rummage rules check`: runs every rule's positive and negative examples
 * through the real engine and reports each failure precisely. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "engine/rules_check.h"
#include "engine/rules.h"
#include "common/util.h"

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* Scans text and returns how many findings rule `ri` produced; the first one's secret is
 * copied to first (if not NULL). */
static size_t run_example(struct rmg_scanner *sc, const struct rmg_rule_impl *ri,
                          const char *text, char **first)
{
    struct rmg_results res;
    rmg_results_init(&res);
    struct rmg_location loc = {.target = (char *)"example", .path = (char *)"example",
                               .layer_index = -1};
    rmg_scan_buffer(sc, text, strlen(text), &loc, &res);
    size_t n = 0;
    for (size_t i = 0; i < res.n_findings; i++) {
        if (res.findings[i].rule != &ri->pub)
            continue;
        if (n == 0 && first)
            *first = rmg_strdup(res.findings[i].secret);
        n++;
    }
    rmg_results_clear(&res);
    return n;
}

static void fail(FILE *out, size_t *failed, const struct rmg_rule *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(FILE *out, size_t *failed, const struct rmg_rule *r, const char *fmt, ...)
{
    va_list ap;
    fprintf(out, "FAIL %s (%s): ", r->id, r->origin);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    (*failed)++;
}

enum rmg_status rmg_rules_check(const struct rmg_rules *rules, FILE *out, size_t *n_passed,
                                size_t *n_failed)
{
    struct rmg_scan_opts opts = {.keep_overlaps = true};
    struct rmg_scanner *sc = rmg_scanner_new(rules, &opts);
    if (!sc)
        return RMG_ENOMEM;
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < rules->n; i++) {
        const struct rmg_rule_impl *ri = rules->rules[i];
        const struct rmg_rule *r = &ri->pub;
        const cJSON *pos = ri->examples ? cJSON_GetObjectItemCaseSensitive(ri->examples, "positive") : NULL;
        const cJSON *neg = ri->examples ? cJSON_GetObjectItemCaseSensitive(ri->examples, "negative") : NULL;
        if (!cJSON_IsArray(pos) || cJSON_GetArraySize(pos) < 1) {
            fail(out, &failed, r, "has no positive example");
            continue;
        }
        if (!cJSON_IsArray(neg) || cJSON_GetArraySize(neg) < 1) {
            fail(out, &failed, r, "has no negative example");
            continue;
        }
        size_t k = 0;
        const cJSON *ex;
        cJSON_ArrayForEach(ex, pos)
        {
            const char *text = NULL, *want = NULL;
            if (cJSON_IsString(ex)) {
                text = ex->valuestring;
            } else if (cJSON_IsObject(ex)) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(ex, "text");
                const cJSON *s = cJSON_GetObjectItemCaseSensitive(ex, "secret");
                text = cJSON_IsString(t) ? t->valuestring : NULL;
                want = cJSON_IsString(s) ? s->valuestring : NULL;
            }
            if (!text) {
                fail(out, &failed, r,
                     "positive example %zu is neither a string, a fragment array nor {text, secret}",
                     k);
                k++;
                continue;
            }
            bool has_kw = r->n_keywords == 0;
            for (size_t j = 0; j < r->n_keywords && !has_kw; j++)
                has_kw = contains_ci(text, r->keywords[j]);
            char *got = NULL;
            size_t n = run_example(sc, ri, text, &got);
            if (!has_kw)
                fail(out, &failed, r, "positive example %zu contains none of the keywords", k);
            else if (n == 0)
                fail(out, &failed, r, "positive example %zu was not reported", k);
            else if (want && (!got || strcmp(got, want) != 0))
                fail(out, &failed, r, "positive example %zu: the secret extracted differs from \"secret\"", k);
            else
                passed++;
            free(got);
            k++;
        }
        k = 0;
        cJSON_ArrayForEach(ex, neg)
        {
            if (!cJSON_IsString(ex)) {
                fail(out, &failed, r, "negative example %zu is neither a string nor a fragment array", k);
            } else if (run_example(sc, ri, ex->valuestring, NULL) != 0) {
                fail(out, &failed, r, "negative example %zu was reported", k);
            } else {
                passed++;
            }
            k++;
        }
    }
    rmg_scanner_free(sc);
    *n_passed = passed;
    *n_failed = failed;
    return RMG_OK;
}
