/* fuzz_image.c: libFuzzer target: arbitrary bytes as an image archive stream (docker save,
 * OCI archive, compressed or not), read end to end: outer tar, layers, nested archives,
 * manifest.json / index.json / configs, resolve. Also as a single layer. Small limits keep
 * each input fast; a crash, leak or sanitizer report is a bug. Tar header checksums are fixed
 * first, outer and inner (tarfix.h; not for sizes divisible by 7), so that mutations get past
 * libarchive's checksum test to the image reader. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/layer.h"
#include "source/target.h"
#include "source/image.h"
#include "tarfix.h"
#include "fuzz_rules.h"

static struct rmg_rules *rules;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules)
        rules = fuzz_builtin_rules(true, RMG_ENGINE_AUTO);
    struct rmg_scan_ctx ctx = {.rules = rules, .jobs = 1};
    rmg_limits_default(&ctx.limits);
    ctx.limits.max_layer_bytes = 8u << 20;
    ctx.limits.ratio_floor = 1u << 20;
    ctx.limits.max_zip_bytes = 1u << 20;
    ctx.limits.max_entries = 1000;
    ctx.limits.max_blobs = 1000;
    ctx.limits.max_json = 1u << 20;
    ctx.all_platforms = size & 1;

    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    if (size % 7)
        tarfix(buf, size, 0);
    data = buf;
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    lseek(fd, 0, SEEK_SET);
    struct rmg_results out;
    rmg_results_init(&out);
    rmg_source_image_stream(&ctx, "fuzz", fd, NULL, 0, NULL, NULL, &out);
    rmg_results_clear(&out);
    close(fd);

    /* The same bytes as one layer. */
    struct rmg_pool *pool = rmg_pool_new(rules, &ctx.opts, 1);
    struct rmg_scanner *sc = rmg_scanner_new(rules, &ctx.opts);
    struct rmg_pathset *paths = rmg_pathset_new();
    struct archive *a = rmg_layer_reader_new(false);
    if (!pool || !sc || !paths || !a)
        abort();
    struct rmg_walker w = {&ctx.limits, pool, sc, &out, "fuzz"};
    if (archive_read_open_memory(a, data, size) == ARCHIVE_OK)
        rmg_layer_walk(&w, a, "layer", 0, size, paths, NULL);
    archive_read_free(a);
    rmg_pool_finish(pool, &out);
    rmg_pathset_free(paths);
    rmg_scanner_free(sc);
    rmg_results_clear(&out);
    free(buf);
    return 0;
}
