/* fuzz_rules.h: the built-in rule set for fuzz targets, loaded and (with `compile`) compiled
 * for engine `e`; aborts if it cannot be (a fuzz run without rules would test nothing). */
#ifndef RMG_FUZZ_RULES_H
#define RMG_FUZZ_RULES_H

#include <stdbool.h>
#include <stdlib.h>

#include "rummage.h"

static struct rmg_rules *fuzz_builtin_rules(bool compile, enum rmg_engine_kind e)
{
    char err[512];
    struct rmg_rules *r = rmg_rules_new();
    if (!r || rmg_rules_add_builtin(r, err, sizeof err) != RMG_OK ||
        (compile && rmg_rules_compile(r, e, err, sizeof err) != RMG_OK))
        abort();
    return r;
}

#endif
