/* report.h: writing results for people (text) and programs (json). */
#ifndef RMG_REPORT_H
#define RMG_REPORT_H

#include <stdio.h>

#include "rummage.h"

struct rmg_report_opts {
    bool show_secrets; /* print raw secrets (the user asked with --show-secrets) */
    bool color;        /* ANSI colours (a terminal, NO_COLOR unset) */
    const struct rmg_rules *rules; /* for the rule set's hash; may be NULL */
    size_t suppressed; /* findings dropped by allow-lists, for the summary */
};

/* Both take sorted results (rmg_results_sort). Untrusted text (paths, targets, rule titles
 * from user rule files) is escaped; secrets are redacted unless show_secrets. */
void rmg_report_text(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o);
/* The text report of a build context: findings grouped by the Dockerfile instruction that
 * would copy them (or that holds them), then those no instruction copies, then what
 * .dockerignore kept out. */
void rmg_report_context_text(FILE *out, const struct rmg_results *r,
                             const struct rmg_report_opts *o);
/* The JSON report (docs/output.md). Returns false on out of memory. */
bool rmg_report_json(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o);
/* Errors as `rummage: TARGET: PATH: message` lines, escaped. */
void rmg_report_errors(FILE *out, const struct rmg_results *r);

#endif
