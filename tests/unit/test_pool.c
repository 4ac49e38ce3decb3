/* test_pool.c: walking a directory into the worker pool: the same sorted findings with one
 * job or four, relative paths, symlinks never followed, special files skipped without blocking. */
#define _GNU_SOURCE
#include <fcntl.h>
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

#include "engine/pool.h"
#include "rummage.h"
#include "support.h"
#include "source/file.h"
#include "common/util.h"

#define N_FILES 300

static const char rules_json[] =
    "{\"rules\": ["
    "{\"id\": \"tok\", \"title\": \"Tok token\", \"severity\": \"high\", \"keywords\": [\"tok_\"],"
    " \"regex\": \"\\\\b(?<secret>tok_[a-z0-9]{12})\\\\b\"}"
    "]}";

struct fixture {
    char base[64];    /* holds tree/ and outside.txt */
    char tree[96];
    struct rmg_rules *rules;
    size_t n_secret_files;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void mkdir_p(const char *path)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

/* File i's place in the tree: some at the top, the rest nested one to three levels down. */
static void rel_path(int i, char *out, size_t cap)
{
    switch (i % 4) {
    case 0: snprintf(out, cap, "top%03d.txt", i); break;
    case 1: snprintf(out, cap, "d%d/f%03d.txt", i % 5, i); break;
    case 2: snprintf(out, cap, "d%d/s%d/f%03d.cfg", i % 5, i % 3, i); break;
    default: snprintf(out, cap, "d%d/s%d/deep/f%03d.env", i % 5, i % 3, i); break;
    }
}

static bool has_secret(int i)
{
    return i % 7 == 3;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    snprintf(fx->base, sizeof fx->base, "/tmp/rmg_test_pool_XXXXXX");
    if (!mkdtemp(fx->base))
        return -1;
    snprintf(fx->tree, sizeof fx->tree, "%s/tree", fx->base);
    mkdir(fx->tree, 0755);
    for (int i = 0; i < N_FILES; i++) {
        char rel[64], path[256], text[256];
        rel_path(i, rel, sizeof rel);
        snprintf(path, sizeof path, "%s/%s", fx->tree, rel);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        mkdir_p(path);
        *slash = '/';
        if (has_secret(i)) {
            char idx[16], hex[65];
            snprintf(idx, sizeof idx, "%d", i);
            rmg_sha256_hex(idx, strlen(idx), hex);
            snprintf(text, sizeof text, "line one\nkey = tok_%.12s\n", hex);
            fx->n_secret_files++;
        } else {
            snprintf(text, sizeof text, "nothing here %d\n", i);
        }
        write_file(path, text);
    }
    char path[256], out[256];
    snprintf(out, sizeof out, "%s/outside.txt", fx->base);
    write_file(out, "tok_outs1de9q7x2\n");
    snprintf(path, sizeof path, "%s/d1/link.txt", fx->tree);
    if (symlink(out, path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/d2/dirlink", fx->tree);
    if (symlink(fx->base, path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/d0/s0/pipe", fx->tree);
    if (mkfifo(path, 0644) != 0)
        return -1;

    fx->rules = support_rules(rules_json, RMG_ENGINE_AUTO);
    if (!fx->rules)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fx->base);
    rmg_rules_free(fx->rules);
    free(fx);
    return 0;
}

/* Walks root with a pool of `jobs`; a FIFO that blocked would hang, so an alarm ends it. */
static void walk(const struct fixture *fx, const char *root, int jobs, struct rmg_results *res)
{
    rmg_results_init(res);
    struct rmg_scan_opts opts = {0};
    struct rmg_pool *pool = rmg_pool_new(fx->rules, &opts, jobs);
    assert_non_null(pool);
    alarm(30);
    enum rmg_status st = rmg_source_dir_walk(root, "tree", pool, res);
    assert_int_equal(rmg_pool_finish(pool, res), RMG_OK);
    alarm(0);
    assert_true(st <= RMG_SKIP);
    rmg_results_sort(res);
}

static char *describe(const struct rmg_results *res)
{
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "");
    for (size_t i = 0; i < res->n_findings; i++) {
        const struct rmg_finding *f = &res->findings[i];
        rmg_buf_printf(&b, "%s|%s|%llu|%llu:%llu|%s|%s\n", f->loc.target, f->loc.path,
                       (unsigned long long)f->loc.offset, (unsigned long long)f->loc.line,
                       (unsigned long long)f->loc.column, f->rule->id, f->fingerprint);
    }
    return b.data;
}

static void one_and_four_jobs_agree(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results one, four;
    walk(fx, fx->tree, 1, &one);
    walk(fx, fx->tree, 4, &four);
    assert_int_equal(one.n_findings, fx->n_secret_files);
    assert_int_equal(four.n_findings, fx->n_secret_files);
    assert_int_equal(one.n_errors, 0);
    assert_int_equal(four.n_errors, 0);
    assert_int_equal(one.stats.files, N_FILES);
    assert_int_equal(four.stats.files, N_FILES);
    assert_int_equal(one.stats.bytes, four.stats.bytes);
    assert_int_equal(one.stats.skipped, four.stats.skipped);
    char *a = describe(&one), *b = describe(&four);
    assert_string_equal(a, b);
    free(a);
    free(b);
    rmg_results_clear(&one);
    rmg_results_clear(&four);
}

static void findings_match_the_tree(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    walk(fx, fx->tree, 4, &res);
    /* Every secret file is found, at its relative path, and nothing else. */
    size_t k = 0;
    char want[N_FILES][64];
    for (int i = 0; i < N_FILES; i++)
        if (has_secret(i))
            rel_path(i, want[k++], sizeof want[0]);
    assert_int_equal(res.n_findings, k);
    for (size_t i = 0; i < k; i++) {
        bool found = false;
        for (size_t j = 0; j < res.n_findings && !found; j++)
            found = strcmp(res.findings[j].loc.path, want[i]) == 0;
        if (!found)
            fail_msg("no finding at %s", want[i]);
    }
    for (size_t j = 0; j < res.n_findings; j++) {
        const struct rmg_finding *f = &res.findings[j];
        assert_string_equal(f->loc.target, "tree");
        assert_int_equal(f->loc.line, 2);
        assert_int_equal(f->loc.column, 7);
        assert_true(f->loc.path[0] != '/');
        assert_false(strncmp(f->loc.path, "./", 2) == 0);
        assert_null(strstr(f->loc.path, "//"));
        assert_null(strstr(f->secret, "outs1de"));
    }
    /* Sorted by path. */
    for (size_t j = 1; j < res.n_findings; j++)
        assert_true(strcmp(res.findings[j - 1].loc.path, res.findings[j].loc.path) < 0);
    rmg_results_clear(&res);
}

static void symlinks_not_followed_fifo_skipped(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    walk(fx, fx->tree, 4, &res);
    for (size_t j = 0; j < res.n_findings; j++) {
        assert_null(strstr(res.findings[j].loc.path, "link"));
        assert_null(strstr(res.findings[j].loc.path, "pipe"));
    }
    assert_int_equal(res.stats.files, N_FILES); /* neither the FIFO nor a link was scanned */
    assert_true(res.stats.skipped >= 1);
    rmg_results_clear(&res);

    /* The link's target does hold a secret the rule finds: only not following hides it. */
    char link[160];
    snprintf(link, sizeof link, "%s/d1/link.txt", fx->tree);
    struct rmg_scanner *sc = rmg_scanner_new(fx->rules, NULL);
    struct rmg_location loc = {.target = link, .path = link, .layer_index = -1};
    rmg_results_init(&res);
    assert_int_equal(rmg_source_scan_path(sc, link, false, &loc, &res), RMG_SKIP);
    assert_int_equal(res.n_findings, 0);
    assert_int_equal(rmg_source_scan_path(sc, link, true, &loc, &res), RMG_OK);
    assert_int_equal(res.n_findings, 1);
    rmg_results_clear(&res);
    rmg_scanner_free(sc);
}

static void fifo_alone_counted_as_skipped(void **state)
{
    struct fixture *fx = *state;
    char dir[160], path[200];
    snprintf(dir, sizeof dir, "%s/fifo-only", fx->base);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/p", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    for (int jobs = 1; jobs <= 4; jobs += 3) {
        struct rmg_results res;
        walk(fx, dir, jobs, &res);
        assert_int_equal(res.stats.skipped, 1);
        assert_int_equal(res.stats.files, 0);
        assert_int_equal(res.n_findings, 0);
        assert_int_equal(res.n_errors, 0);
        rmg_results_clear(&res);
    }
    /* Opened by path too (a file target naming a FIFO): skipped, not a blocked read. */
    struct rmg_scanner *sc = rmg_scanner_new(fx->rules, NULL);
    struct rmg_results res;
    rmg_results_init(&res);
    struct rmg_location loc = {.target = path, .path = path, .layer_index = -1};
    alarm(30);
    assert_int_equal(rmg_source_scan_path(sc, path, true, &loc, &res), RMG_SKIP);
    alarm(0);
    assert_int_equal(res.stats.skipped, 1);
    rmg_results_clear(&res);
    rmg_scanner_free(sc);
}

static void root_spellings_give_same_paths(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results plain, slash, dot;
    walk(fx, fx->tree, 2, &plain);
    char with_slash[128];
    snprintf(with_slash, sizeof with_slash, "%s//", fx->tree);
    walk(fx, with_slash, 2, &slash);
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->tree), 0);
    walk(fx, ".", 2, &dot);
    assert_int_equal(chdir(cwd), 0);
    char *a = describe(&plain), *b = describe(&slash), *c = describe(&dot);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    for (size_t j = 0; j < dot.n_findings; j++)
        assert_false(strncmp(dot.findings[j].loc.path, "./", 2) == 0);
    free(a);
    free(b);
    free(c);
    rmg_results_clear(&plain);
    rmg_results_clear(&slash);
    rmg_results_clear(&dot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_and_four_jobs_agree),
        cmocka_unit_test(findings_match_the_tree),
        cmocka_unit_test(symlinks_not_followed_fifo_skipped),
        cmocka_unit_test(fifo_alone_counted_as_skipped),
        cmocka_unit_test(root_spellings_give_same_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
