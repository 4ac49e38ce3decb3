/* fuzz_cache.c: libFuzzer target: arbitrary bytes as an entry of the layer cache (src/image/cache.c),
 * loaded as a scan would load it, and what loads put through every report, with and without
 * --show-secrets (a cached finding has only its redacted secret). A cache entry is checked
 * against its key and digest, which depend on the rule set, so the input says "@KEY@" and
 * "@DIGEST@" where they go and they are filled in here. Checked: no crash, leak or sanitizer
 * report; a failed load adds nothing; a loaded finding is in the layer asked for, with a
 * redacted secret that no report shows raw. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/cache.h"
#include "report/report.h"
#include "common/util.h"
#include "fuzz_rules.h"

#define DIGEST "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct rmg_rules *rules;
static struct rmg_scan_opts opts;
static struct rmg_limits limits;
static struct rmg_cache *cache;
static char dir[] = "/tmp/rmg-fuzz-cache-XXXXXX", entry[4400], key[65];

static void remove_dir(void)
{
    unlink(entry);
    char *slash = strrchr(entry, '/');
    *slash = '\0';
    rmdir(entry); /* layers/KK */
    *(slash = strrchr(entry, '/')) = '\0';
    rmdir(entry); /* layers */
    rmdir(dir);
}

/* The one entry file in dir/layers/KK/KEY.json, made by storing an empty result. */
static void find_entry(void)
{
    char layers[4200];
    snprintf(layers, sizeof layers, "%s/layers", dir);
    DIR *d = opendir(layers);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            char sub[4300];
            snprintf(sub, sizeof sub, "%s/%s", layers, e->d_name);
            DIR *d2 = opendir(sub);
            struct dirent *f;
            while (d2 && (f = readdir(d2)))
                if (strlen(f->d_name) == 69 && strcmp(f->d_name + 64, ".json") == 0) {
                    snprintf(entry, sizeof entry, "%s/%s", sub, f->d_name);
                    memcpy(key, f->d_name, 64);
                }
            if (d2)
                closedir(d2);
        }
    if (d)
        closedir(d);
    if (!entry[0])
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    rules = fuzz_builtin_rules(true, RMG_ENGINE_AUTO);
    rmg_limits_default(&limits);
    if (!mkdtemp(dir) || !(cache = rmg_cache_open(dir, rules, &opts, &limits, err, sizeof err)))
        abort();
    struct rmg_results none;
    rmg_results_init(&none);
    struct rmg_pathset *ps = rmg_pathset_new();
    if (!ps || !rmg_cache_store(cache, DIGEST, &none, 0, ps, NULL))
        abort();
    rmg_pathset_free(ps);
    find_entry();
    atexit(remove_dir);
    return 0;
}

/* The input with @KEY@ and @DIGEST@ filled in. */
static struct rmg_buf fill(const uint8_t *data, size_t size)
{
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "");
    for (size_t i = 0; i < size;) {
        if (size - i >= 5 && memcmp(data + i, "@KEY@", 5) == 0) {
            rmg_buf_puts(&b, key);
            i += 5;
        } else if (size - i >= 8 && memcmp(data + i, "@DIGEST@", 8) == 0) {
            rmg_buf_puts(&b, DIGEST);
            i += 8;
        } else {
            rmg_buf_append(&b, data + i, 1);
            i++;
        }
    }
    return b;
}

static void reports(const struct rmg_results *r)
{
    char *targets[] = {(char *)"fuzz"};
    for (int show = 0; show < 2; show++) {
        struct rmg_report_opts o = {.show_secrets = show, .rules = rules, .targets = targets,
                                    .n_targets = 1, .command = "scan", .width = 60};
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
            abort();
        rmg_report_text(f, r, &o);
        rmg_report_json(f, r, &o);
        rmg_report_sarif(f, r, &o);
        rmg_report_gitlab(f, r, &o);
        rmg_report_junit(f, r, &o);
        rmg_report_jsonl(f, r, &o);
        rmg_report_errors(f, r);
        fclose(f);
        free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct rmg_buf b = fill(data, size);
    FILE *f = fopen(entry, "w");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0)
        abort();
    rmg_buf_free(&b);
    struct rmg_results r;
    rmg_results_init(&r);
    struct rmg_pathset *ps = NULL;
    struct rmg_layer_prov *prov = NULL;
    bool ok = rmg_cache_load(cache, DIGEST, "fuzz", 5, &r, &ps, &prov);
    if (ok != (ps != NULL) || (!ok && r.n_findings))
        abort();
    for (size_t i = 0; i < r.n_findings; i++)
        if (r.findings[i].loc.layer_index != 5 || !r.findings[i].redacted)
            abort();
    rmg_results_sort(&r);
    reports(&r);
    rmg_pathset_free(ps);
    rmg_layer_prov_clear(prov);
    free(prov);
    rmg_results_clear(&r);
    return 0;
}
