/* fuzz_config.c: libFuzzer target: arbitrary bytes as a `.rummage.json` (rmg_config_load:
 * allow-lists, extra rules, severity overrides, options) and as a baseline file
 * (rmg_baseline_load), each then applied to a few findings (rmg_config_filter,
 * rmg_baseline_filter). Checked: no crash, leak or sanitizer report; a failed load says why;
 * filters only drop findings, and what they keep is intact. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report/baseline.h"
#include "cli/config.h"
#include "common/util.h"
#include "fuzz_rules.h"

static struct rmg_rules *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rules = fuzz_builtin_rules(false, RMG_ENGINE_AUTO);
    return 0;
}

/* Findings to filter: a few rules, paths and made-up secrets. */
static void add_findings(struct rmg_results *r)
{
    static const char *const paths[] = {"/app/.env", "config.yml", "/a/b/c.json", "notes.txt",
                                        "history[0].created_by"};
    static const char *const secrets[] = {"tok_abcdefgh", "s3cr3t-value", "", "x",
                                          "ZXhhbXBsZQ=="};
    size_t n = rmg_rules_count(rules);
    for (size_t i = 0; i < 5; i++) {
        struct rmg_finding f;
        memset(&f, 0, sizeof f);
        f.rule = rmg_rules_get(rules, (i * 37) % n);
        f.secret = rmg_strdup(secrets[i]);
        f.secret_len = strlen(secrets[i]);
        rmg_sha256_hex(secrets[i], f.secret_len, f.fingerprint);
        if (i == 0) /* a fingerprint a fuzzer can copy: all 'a' */
            memset(f.fingerprint, 'a', 64);
        f.severity = f.rule->severity;
        f.loc.target = rmg_strdup("fuzz");
        f.loc.path = rmg_strdup(paths[i]);
        f.loc.layer_index = -1;
        f.changed_layer = -1;
        if (!f.secret || !f.loc.target || !f.loc.path ||
            rmg_results_add_finding(r, &f) != RMG_OK)
            abort();
    }
}

static void check_kept(const struct rmg_results *r, size_t before, size_t dropped)
{
    if (r->n_findings + dropped != before)
        abort();
    for (size_t i = 0; i < r->n_findings; i++)
        if (!r->findings[i].rule || !r->findings[i].secret || !r->findings[i].loc.target ||
            r->findings[i].severity > RMG_SEV_CRITICAL)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    struct rmg_config c;
    rmg_config_init(&c);
    err[0] = '\0';
    enum rmg_status st = rmg_config_load(&c, path, err, sizeof err);
    if (st != RMG_OK && !err[0])
        abort();
    if (st == RMG_OK) {
        struct rmg_results r;
        rmg_results_init(&r);
        add_findings(&r);
        size_t before = r.n_findings;
        check_kept(&r, before, rmg_config_filter(&c, &r));
        rmg_results_clear(&r);
    }
    rmg_config_free(&c);

    struct rmg_baseline *b = NULL;
    err[0] = '\0';
    st = rmg_baseline_load(path, &b, err, sizeof err);
    if ((st == RMG_OK) != (b != NULL) || (st != RMG_OK && !err[0]))
        abort();
    if (b) {
        struct rmg_results r;
        rmg_results_init(&r);
        add_findings(&r);
        size_t before = r.n_findings;
        check_kept(&r, before, rmg_baseline_filter(b, &r));
        /* a baseline written from what is left loads again and drops all of it */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        rmg_results_sort(&r);
        if (!f || !rmg_baseline_write(f, &r, rules))
            abort();
        fclose(f);
        rmg_baseline_free(b);
        b = NULL;
        int fd2 = memfd_create("again", 0);
        if (fd2 < 0 || write(fd2, text, len) != (ssize_t)len)
            abort();
        char path2[64];
        snprintf(path2, sizeof path2, "/proc/self/fd/%d", fd2);
        if (rmg_baseline_load(path2, &b, err, sizeof err) != RMG_OK)
            abort();
        size_t left = r.n_findings;
        if (rmg_baseline_filter(b, &r) != left || r.n_findings != 0)
            abort();
        close(fd2);
        free(text);
        rmg_results_clear(&r);
    }
    rmg_baseline_free(b);
    close(fd);
    return 0;
}
