/* support.h: helpers shared by the unit tests. */
#ifndef RMG_TEST_SUPPORT_H
#define RMG_TEST_SUPPORT_H

#include <stdio.h>
#include <string.h>

#include "rummage.h"

/* A rule set loaded from one JSON document and compiled for `engine`; NULL, with the loader's
 * message on stderr, if either step fails. Caller frees with rmg_rules_free. */
static inline struct rmg_rules *support_rules(const char *json, enum rmg_engine_kind engine)
{
    char err[512] = "";
    struct rmg_rules *r = rmg_rules_new();
    if (!r)
        return NULL;
    if (rmg_rules_add_json(r, json, strlen(json), "test", err, sizeof err) != RMG_OK ||
        rmg_rules_compile(r, engine, err, sizeof err) != RMG_OK) {
        fprintf(stderr, "rules: %s\n", err);
        rmg_rules_free(r);
        return NULL;
    }
    return r;
}

#endif
