/* rules_check.h: running the rules' own examples as tests. */
#ifndef RMG_RULES_CHECK_H
#define RMG_RULES_CHECK_H

#include <stdio.h>

#include "rummage.h"

/* Runs every example of every rule in a compiled set; writes one line per failure to out.
 * Counts examples passed and failed (a rule missing examples counts as one failure). */
enum rmg_status rmg_rules_check(const struct rmg_rules *rules, FILE *out, size_t *n_passed,
                                size_t *n_failed);

#endif
