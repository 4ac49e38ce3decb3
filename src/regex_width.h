/* regex_width.h: the longest match Vectorscan's analysis allows for a rule regex, shared by
 * the build-time embed tool and the rule compiler so both compute spans the same way.
 * Header-only because the embed tool is built without the library. */
#ifndef RMG_REGEX_WIDTH_H
#define RMG_REGEX_WIDTH_H

#include <hs.h>
#include <stdlib.h>

/* UINT_MAX: unbounded; 0: Vectorscan cannot analyse the regex. Thread-safe. */
static inline unsigned rmg_regex_width(const char *regex)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    if (hs_expression_info(regex, HS_FLAG_PREFILTER, &info, &ce) != HS_SUCCESS) {
        hs_free_compile_error(ce);
        return 0;
    }
    unsigned width = info->max_width;
    free(info);
    return width;
}

#endif
