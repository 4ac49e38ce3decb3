/* fuzz_rules.c: libFuzzer target: arbitrary bytes as a rules file: load, compile, scan. */
#include <stdint.h>
#include <stdlib.h>

#include "rummage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct rmg_rules *r = rmg_rules_new();
    if (!r)
        return 0;
    if (rmg_rules_add_json(r, (const char *)data, size, "fuzz", err, sizeof err) == RMG_OK &&
        rmg_rules_compile(r, RMG_ENGINE_AUTO, err, sizeof err) == RMG_OK) {
        struct rmg_scanner *sc = rmg_scanner_new(r, NULL);
        struct rmg_results res;
        rmg_results_init(&res);
        struct rmg_location loc = {.target = (char *)"f", .path = (char *)"f", .layer_index = -1};
        if (sc)
            rmg_scan_buffer(sc, data, size, &loc, &res);
        rmg_results_clear(&res);
        rmg_scanner_free(sc);
    }
    rmg_rules_free(r);
    return 0;
}
