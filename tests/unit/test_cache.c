/* test_cache.c: the layer cache: a stored layer loads back as the same findings (rule,
 * fingerprint, place, severity, confidence, the secret's redacted form and shape) and the same
 * path set; the raw secret is never in the entry; another digest, another rule set or other
 * limits miss; a damaged, truncated or tampered entry is a miss, never a crash; entries are
 * 0600 and no temporary file is left behind. */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/cache.h"
#include "image/layer.h"
#include "image/pathset.h"
#include "rummage.h"
#include "support.h"
#include "common/util.h"


static void prov_free(struct rmg_layer_prov *p)
{
    rmg_layer_prov_clear(p);
    free(p);
}
static const char rules_json[] =
    "{\"rules\": ["
    "{\"id\": \"test-secret\", \"title\": \"Test secret\", \"severity\": \"high\","
    " \"keywords\": [\"secret_\"], \"regex\": \"\\\\b(?<secret>SECRET_[A-Z0-9]{16})\\\\b\"}"
    "]}";
static const char other_rules_json[] =
    "{\"rules\": ["
    "{\"id\": \"test-secret\", \"title\": \"Test secret\", \"severity\": \"high\","
    " \"keywords\": [\"secret_\"], \"regex\": \"\\\\b(?<secret>SECRET_[A-Z0-9]{17})\\\\b\"}"
    "]}";

#define SECRET "SECRET_UJZDE8GXD6NCF10E"
#define ODD "/odd \x01\xff" " name" /* a control byte and invalid UTF-8 in a path */
#define DIGEST "sha256:1111111111111111111111111111111111111111111111111111111111111111"

struct fx {
    char dir[256];
    struct rmg_rules *rules;
    struct rmg_scan_opts opts;
    struct rmg_limits limits;
    struct rmg_cache *cache;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->rules = support_rules(rules_json, RMG_ENGINE_AUTO)))
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rmg-cache-test-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    strcat(fx->dir, "/sub/cache"); /* made by rmg_cache_open */
    rmg_limits_default(&fx->limits);
    char err[256];
    fx->cache = rmg_cache_open(fx->dir, fx->rules, &fx->opts, &fx->limits, err, sizeof err);
    if (!fx->cache) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    rmg_cache_free(fx->cache);
    rmg_rules_free(fx->rules);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(fx->dir) - strlen("/sub/cache")),
             fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* The walker's results for a layer (blob 3): one finding of blob 3 (a two-line secret, to test
 * the shape), one of blob 5 (not this layer's). */
static void layer_results(const struct fx *fx, struct rmg_results *r)
{
    rmg_results_init(r);
    for (int blob = 3; blob <= 5; blob += 2) {
        struct rmg_finding f = {0};
        f.rule = rmg_rules_find(fx->rules, "test-secret");
        f.secret = strdup(blob == 3 ? SECRET "\nX" : "SECRET_OTHER0000000000");
        f.secret_len = strlen(f.secret);
        rmg_sha256_hex(f.secret, f.secret_len, f.fingerprint);
        f.severity = RMG_SEV_HIGH;
        f.confidence = RMG_CONF_VALIDATED;
        f.loc.target = strdup("t");
        f.loc.path = strdup(blob == 3 ? "/app/.env" : "/other");
        f.loc.line = 7;
        f.loc.column = 3;
        f.loc.offset = 99;
        f.loc.layer_index = blob;
        assert_int_equal(rmg_results_add_finding(r, &f), RMG_OK);
    }
}

static struct rmg_pathset *layer_paths(void)
{
    struct rmg_pathset *ps = rmg_pathset_new();
    assert_non_null(ps);
    assert_true(rmg_pathset_add(ps, "/app", 4, RMG_PATH_DIR));
    assert_true(rmg_pathset_add(ps, "/app/.env", 9, RMG_PATH_FILE));
    assert_true(rmg_pathset_add(ps, "/app/gone", 9, RMG_PATH_WHITEOUT));
    assert_true(rmg_pathset_add(ps, "/app/cache", 10, RMG_PATH_DIR | RMG_PATH_OPAQUE));
    assert_true(rmg_pathset_add(ps, ODD, sizeof ODD - 1, RMG_PATH_FILE));
    return ps;
}

/* The one entry file under dir (the test stores one), its path into out. */
static bool entry_file(const char *dir, char *out, size_t cap)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "find '%s/layers' -type f", dir);
    FILE *p = popen(cmd, "r");
    bool ok = p && fgets(out, (int)cap, p) != NULL;
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    char extra[512];
    ok = ok && fgets(extra, sizeof extra, p) == NULL; /* exactly one file: no temporary left */
    if (p)
        pclose(p);
    return ok;
}

static void test_round_trip(void **state)
{
    struct fx *fx = *state;
    struct rmg_results lr;
    layer_results(fx, &lr);
    struct rmg_pathset *ps = layer_paths();
    assert_true(rmg_cache_store(fx->cache, DIGEST, &lr, 3, ps, NULL));

    char path[512];
    assert_true(entry_file(fx->dir, path, sizeof path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *data;
    size_t len;
    char err[128];
    assert_true(rmg_read_file(path, 1 << 20, &data, &len, err, sizeof err));
    assert_null(memmem(data, len, "UJZDE8GX", 8)); /* never the secret */
    assert_null(memmem(data, len, "OTHER", 5));    /* only blob 3's findings */
    free(data);

    struct rmg_results out;
    rmg_results_init(&out);
    struct rmg_pathset *got = NULL;
    struct rmg_layer_prov *gp = NULL;
    assert_true(rmg_cache_load(fx->cache, DIGEST, "image.tar", 8, &out, &got, &gp));
    assert_int_equal(out.n_findings, 1);
    const struct rmg_finding *f = &out.findings[0], *want = &lr.findings[0];
    assert_ptr_equal(f->rule, want->rule);
    assert_string_equal(f->fingerprint, want->fingerprint);
    assert_true(f->redacted);
    char red[128], red2[128];
    rmg_redact(want->secret, want->secret_len, red, sizeof red);
    assert_string_equal(rmg_finding_secret_text(f, true, red2, sizeof red2), red);
    size_t l1, n1, nl1, l2, n2, nl2;
    rmg_finding_span(f, &l1, &n1, &nl1);
    rmg_finding_span(want, &l2, &n2, &nl2);
    assert_int_equal(l1, l2);
    assert_int_equal(n1, 1);
    assert_int_equal(n1, n2);
    assert_int_equal(nl1, nl2);
    assert_string_equal(f->loc.path, "/app/.env");
    assert_string_equal(f->loc.target, "image.tar");
    assert_int_equal(f->loc.layer_index, 8);
    assert_int_equal(f->loc.line, 7);
    assert_int_equal(f->loc.column, 3);
    assert_int_equal(f->loc.offset, 99);
    assert_int_equal(f->severity, RMG_SEV_HIGH);
    assert_int_equal(f->confidence, RMG_CONF_VALIDATED);
    assert_int_equal(f->state, RMG_STATE_PRESENT);
    assert_int_equal(rmg_pathset_count(got), 5);
    assert_int_equal(rmg_pathset_get(got, "/app/cache", 10), RMG_PATH_DIR | RMG_PATH_OPAQUE);
    assert_int_equal(rmg_pathset_get(got, "/app/gone", 9), RMG_PATH_WHITEOUT);
    assert_int_equal(rmg_pathset_get(got, ODD, sizeof ODD - 1), RMG_PATH_FILE);
    rmg_pathset_free(got);
    prov_free(gp);
    rmg_results_clear(&out);

    /* Another digest misses. */
    assert_false(rmg_cache_load(fx->cache, "sha256:22", "t", 0, &out, &got, &gp));
    assert_false(rmg_cache_load(fx->cache, "not a digest/../x", "t", 0, &out, &got, &gp));
    assert_int_equal(out.n_findings, 0);
    assert_null(got);

    /* Other rules, other limits: the same digest misses. */
    struct rmg_rules *other = support_rules(other_rules_json, RMG_ENGINE_AUTO);
    assert_non_null(other);
    struct rmg_cache *c2 = rmg_cache_open(fx->dir, other, &fx->opts, &fx->limits, err, sizeof err);
    assert_non_null(c2);
    assert_false(rmg_cache_load(c2, DIGEST, "t", 0, &out, &got, &gp));
    rmg_cache_free(c2);
    rmg_rules_free(other);
    struct rmg_limits deeper = fx->limits;
    deeper.max_depth++;
    c2 = rmg_cache_open(fx->dir, fx->rules, &fx->opts, &deeper, err, sizeof err);
    assert_non_null(c2);
    assert_false(rmg_cache_load(c2, DIGEST, "t", 0, &out, &got, &gp));
    rmg_cache_free(c2);

    rmg_results_clear(&lr);
    rmg_pathset_free(ps);
}

/* Writes text over the entry file. */
static void overwrite(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void test_damaged_entries_miss(void **state)
{
    struct fx *fx = *state;
    struct rmg_results lr;
    layer_results(fx, &lr);
    struct rmg_pathset *ps = layer_paths();
    assert_true(rmg_cache_store(fx->cache, DIGEST, &lr, 3, ps, NULL));
    char path[512];
    assert_true(entry_file(fx->dir, path, sizeof path));
    char *good;
    size_t len;
    char err[128];
    assert_true(rmg_read_file(path, 1 << 20, &good, &len, err, sizeof err));

    struct {
        const char *from, *to; /* a replacement in the good entry; from NULL: truncate */
    } damage[] = {
        {NULL, NULL},
        {"\"test-secret\"", "\"no-such-rule\""},
        {"\"severity\":2", "\"severity\":9"},
        {"\"line\":7", "\"line\":-7"},
        {"\"line\":7", "\"line\":18446744073709551616"}, /* 2^64 (was cast: UB) */
        {"\"secret\":\"", "\"secret\":\"\\u001b[31m"},
        {"\"paths\":[\"", "\"paths\":[\"z"},
        {"\"digest\":\"sha256:1", "\"digest\":\"sha256:2"},
        {"\"key\":\"", "\"key\":\"0"},
        {"\"findings\":[", "\"findings\":{\"a\":[]}, \"x\":["},
    };
    for (size_t i = 0; i < sizeof damage / sizeof *damage; i++) {
        struct rmg_buf b = {0};
        if (!damage[i].from) {
            rmg_buf_append(&b, good, len / 2);
        } else {
            const char *at = strstr(good, damage[i].from);
            assert_non_null(at);
            rmg_buf_append(&b, good, (size_t)(at - good));
            rmg_buf_puts(&b, damage[i].to);
            rmg_buf_puts(&b, at + strlen(damage[i].from));
        }
        overwrite(path, b.data, b.len);
        rmg_buf_free(&b);
        struct rmg_results out;
        rmg_results_init(&out);
        struct rmg_pathset *got = (struct rmg_pathset *)1;
        struct rmg_layer_prov *gp = NULL;
        assert_false(rmg_cache_load(fx->cache, DIGEST, "t", 0, &out, &got, &gp));
        assert_null(got);
        assert_int_equal(out.n_findings, 0);
    }
    /* Storing again repairs it. */
    assert_true(rmg_cache_store(fx->cache, DIGEST, &lr, 3, ps, NULL));
    struct rmg_results out;
    rmg_results_init(&out);
    struct rmg_pathset *got = NULL;
    struct rmg_layer_prov *gp = NULL;
    assert_true(rmg_cache_load(fx->cache, DIGEST, "t", 0, &out, &got, &gp));
    rmg_pathset_free(got);
    prov_free(gp);
    rmg_results_clear(&out);
    free(good);
    rmg_results_clear(&lr);
    rmg_pathset_free(ps);
}

static void test_unusable_dir(void **state)
{
    struct fx *fx = *state;
    char err[256] = "", file[300];
    snprintf(file, sizeof file, "%s/plain-file", fx->dir);
    overwrite(file, "x", 1);
    assert_null(rmg_cache_open(file, fx->rules, &fx->opts, &fx->limits, err, sizeof err));
    assert_non_null(strstr(err, "plain-file"));
    char out[512];
    setenv("XDG_CACHE_HOME", "/x/y", 1);
    assert_true(rmg_cache_default_dir(out, sizeof out));
    assert_string_equal(out, "/x/y/rummage");
    setenv("XDG_CACHE_HOME", "relative", 1);
    setenv("HOME", "/home/u", 1);
    assert_true(rmg_cache_default_dir(out, sizeof out));
    assert_string_equal(out, "/home/u/.cache/rummage");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    assert_false(rmg_cache_default_dir(out, sizeof out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_entries_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
