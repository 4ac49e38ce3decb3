/* fuzz_layer.c: libFuzzer target: arbitrary bytes as one image layer through the layer walker
 * (src/image/layer.c): any compression by magic bytes, whiteouts and opaque directories into the
 * path set, archives inside it (tar, tar.gz, zip, jar, single compressed files) opened two
 * levels down, with small limits so the entry, size, ratio and zip limits are hit. Tar header
 * checksums are fixed first (tarfix.h; not for sizes divisible by 7, which keep their bytes),
 * so mutations reach the walker instead of stopping at libarchive's checksum test. Checked:
 * no crash, leak or sanitizer report, and what callers rely on: every finding is in this
 * layer, at an absolute path, and rmg_layer_clean_path is idempotent and yields clean paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/layer.h"
#include "image/origin.h"
#include "tarfix.h"
#include "fuzz_rules.h"

static struct rmg_rules *rules;

/* A clean path: absolute, no empty, "." components, no trailing slash (but "/"). */
static bool clean(const char *p)
{
    if (p[0] != '/')
        return false;
    if (p[1] == '\0')
        return true;
    for (const char *c = p; *c; c++) {
        if (c[0] != '/')
            continue;
        if (c[1] == '/' || c[1] == '\0' || (c[1] == '.' && (c[2] == '/' || c[2] == '\0')))
            return false;
    }
    return true;
}

static void check_clean_path(const uint8_t *data, size_t size)
{
    char in[300], out[300], again[300];
    size_t n = size < sizeof in - 1 ? size : sizeof in - 1;
    memcpy(in, data, n);
    in[n] = '\0';
    if (!rmg_layer_clean_path(in, out, sizeof out))
        return;
    if (!clean(out) || !rmg_layer_clean_path(out, again, sizeof again) || strcmp(out, again))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules)
        rules = fuzz_builtin_rules(true, RMG_ENGINE_AUTO);
    check_clean_path(data, size);

    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (size % 7)
        tarfix(buf, size, 0);
    (void)rmg_layer_is_tar(buf, size < 65536 ? size : 65536);

    struct rmg_limits lim;
    rmg_limits_default(&lim);
    lim.max_entries = 200;
    lim.max_layer_bytes = 4u << 20;
    lim.ratio_floor = 64u << 10;
    lim.max_zip_bytes = 256u << 10;
    lim.max_path = 1024;
    struct rmg_scan_opts opts = {.chunk_size = 4096}; /* large files cross chunk borders */
    struct rmg_results out;
    rmg_results_init(&out);
    struct rmg_pool *pool = rmg_pool_new(rules, &opts, 1);
    struct rmg_scanner *sc = rmg_scanner_new(rules, &opts);
    struct rmg_pathset *paths = rmg_pathset_new();
    struct archive *a = rmg_layer_reader_new(false);
    if (!pool || !sc || !paths || !a)
        abort();
    struct rmg_walker w = {&lim, pool, sc, &out, "fuzz"};
    struct rmg_layer_prov prov = {0}; /* package databases in the layer are parsed too */
    if (archive_read_open_memory(a, buf, size) == ARCHIVE_OK)
        rmg_layer_walk(&w, a, "layer", 3, size, paths, &prov);
    archive_read_free(a);
    rmg_pool_finish(pool, &out);
    for (size_t i = 0; i < out.n_findings; i++) {
        const struct rmg_finding *f = &out.findings[i];
        if (f->loc.layer_index != 3 || !f->loc.path || f->loc.path[0] != '/' ||
            strcmp(f->loc.target, "fuzz") != 0 || !f->secret || f->secret_len == 0)
            abort();
    }
    for (size_t i = 0; i < out.n_errors; i++)
        if (!out.errors[i].message || out.errors[i].status == RMG_OK)
            abort();
    (void)rmg_pathset_get(paths, "/", 1);
    /* What provenance makes of the layer's own databases and archives must be sane too. */
    const struct rmg_layer_prov *chain[1] = {&prov};
    for (size_t i = 0; i < out.n_findings; i++) {
        rmg_origin_settle(chain, 1, &out.findings[i]);
        if (out.findings[i].prov.origin != RMG_ORIGIN_OWN && !out.findings[i].prov.package)
            abort();
    }
    rmg_origin_settle_compiled(out.findings, out.n_findings);
    rmg_layer_prov_clear(&prov);
    rmg_pathset_free(paths);
    rmg_scanner_free(sc);
    rmg_results_clear(&out);
    free(buf);
    return 0;
}
