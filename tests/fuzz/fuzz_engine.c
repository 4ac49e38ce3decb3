/* fuzz_engine.c: libFuzzer target: arbitrary bytes through the engine with every built-in
 * rule, at a chunk size chosen by the first input byte, and with both prefilters; the two
 * must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rummage.h"
#include "fuzz_rules.h"

static struct rmg_rules *vs_rules, *pc_rules;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vs_rules = fuzz_builtin_rules(true, RMG_ENGINE_AUTO);
    pc_rules = fuzz_builtin_rules(true, RMG_ENGINE_PCRE2);
    return 0;
}

static size_t scan(struct rmg_rules *rules, const uint8_t *data, size_t size, size_t chunk,
                   uint64_t *sum)
{
    struct rmg_scan_opts o = {.chunk_size = chunk};
    struct rmg_scanner *sc = rmg_scanner_new(rules, &o);
    struct rmg_results res;
    rmg_results_init(&res);
    struct rmg_location loc = {.target = (char *)"fuzz", .path = (char *)"fuzz", .layer_index = -1};
    rmg_scanner_begin(sc, &loc, &res);
    size_t step = chunk / 3 + 1;
    for (size_t off = 0; off < size; off += step)
        rmg_scanner_feed(sc, data + off, size - off < step ? size - off : step);
    rmg_scanner_end(sc);
    size_t n = res.n_findings;
    for (size_t i = 0; i < n; i++)
        *sum += res.findings[i].loc.offset * 31 + res.findings[i].secret_len +
                res.findings[i].rule->index;
    rmg_results_clear(&res);
    rmg_scanner_free(sc);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 64 + (size_t)data[0] * 97;
    uint64_t a = 0, b = 0;
    size_t na = scan(vs_rules, data + 1, size - 1, chunk, &a);
    size_t nb = scan(pc_rules, data + 1, size - 1, 1u << 20, &b);
    if (na != nb || a != b)
        abort(); /* the engines or chunk sizes disagree */
    return 0;
}
