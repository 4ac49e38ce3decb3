/* support.h: helpers shared by the unit tests. */
#ifndef RMG_TEST_SUPPORT_H
#define RMG_TEST_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
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

/* Test secrets are written in pieces that the test joins at run time: the source holds
 * "ghp_7TQU|oGbwsFRK|..." and the test the token itself, each '|' removed. So neither the test
 * sources nor the test binaries spell a whole secret, and rummage finds none when it scans its
 * own tree or a build of it (tests/cli/test_ecosystem.py, "self-scan"). support_join removes
 * the '|' of s in place (s is a char array initialised with the pieces) and returns s;
 * support_joined copies the joined pieces into out (cap bytes; a longer secret is a test bug
 * and aborts) and returns out. */
static inline char *support_join(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++)
        if (*r != '|')
            *w++ = *r;
    *w = '\0';
    return s;
}

static inline char *support_joined(char *out, size_t cap, const char *pieces)
{
    if (strlen(pieces) >= cap) {
        fprintf(stderr, "support_joined: %zu bytes do not fit in %zu\n", strlen(pieces), cap);
        abort();
    }
    memcpy(out, pieces, strlen(pieces) + 1);
    return support_join(out);
}

#endif
