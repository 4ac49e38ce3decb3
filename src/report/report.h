/* report.h: writing results for people (text) and programs (json). */
#ifndef RMG_REPORT_H
#define RMG_REPORT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "rummage.h"
#include "common/util.h"

struct rmg_report_opts {
    bool show_secrets; /* print raw secrets (the user asked with --show-secrets) */
    bool color;        /* ANSI colours (a terminal, NO_COLOR unset) */
    const struct rmg_rules *rules; /* for the rule set's hash; may be NULL */
    size_t suppressed; /* findings dropped by allow-lists, for the summary */
    size_t baselined;  /* findings dropped by --baseline, for the summary */
    char *const *targets; /* the targets as given (JUnit: one test case each) */
    size_t n_targets;
    const char *command;  /* "scan" or "context" */
    unsigned width;       /* text: wrap prose at this many columns (a terminal's); 0: no wrap */
    bool all_origins;     /* --fail-on-origin any: upstream findings count toward the gate */
    bool show_upstream;   /* text: list upstream findings one by one instead of per package */
};

/* Does f count toward the gate under o's policy (rmg_finding_gates)? Every report marks the
 * findings that do not (upstream content) the same way. */
bool rmg_report_counts(const struct rmg_finding *f, const struct rmg_report_opts *o);
/* Where an upstream finding came from, for people: "libgnutls30 3.7.9 (dpkg package,
 * unmodified)", "lodash 4.17.21 (npm package, by its package.json)", or for the builder's own
 * content "own file" / "modified file of dpkg package base-files 12.4". Untrusted names are
 * escaped (control bytes as \xHH). Written into out (NUL-terminated). */
void rmg_report_origin_text(const struct rmg_finding *f, char *out, size_t cap);

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
/* Is this error only a warning (the scan went on, the exit code is not 2)? Every report
 * and the exit code decide it the same way. */
static inline bool rmg_error_is_warning(const struct rmg_error *e)
{
    return e->status <= RMG_SKIP;
}

/* The JSON report's pieces, shared by the JSON Lines report: {"name","version","rules"},
 * one error object, and the stats object. NULL on out of memory. */
cJSON *rmg_report_tool_json(const struct rmg_report_opts *o);
cJSON *rmg_report_error_json(const struct rmg_error *e);
cJSON *rmg_report_stats_json(const struct rmg_results *r, const struct rmg_report_opts *o);

/* A JSON string from untrusted text: valid UTF-8 passes, each invalid byte becomes the text
 * \xHH; NULL gives JSON null. For every JSON-based report. */
cJSON *rmg_json_string(const char *s);
/* Writes doc (pretty-printed, or on one line) and a newline, and frees doc. False on out of
 * memory or a write error. */
bool rmg_json_put(FILE *out, cJSON *doc, bool pretty);
/* "[IMAGE PLATFORM] layer N " for a finding from an image (nothing for others): how the
 * GitLab and JUnit reports name where it is. */
void rmg_buf_image_label(struct rmg_buf *b, const struct rmg_finding *f);
/* One finding as the JSON report writes it (secret redacted unless o->show_secrets). */
cJSON *rmg_report_finding_json(const struct rmg_finding *f, const struct rmg_report_opts *o);

/* SARIF 2.1.0 (docs/output.md): one run, a rule per rule id used, a result per finding with
 * partial fingerprints. Returns false on out of memory. */
bool rmg_report_sarif(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o);
/* GitLab's secret-detection report (gl-secret-detection-report.json). */
bool rmg_report_gitlab(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o);
/* JUnit XML: a test suite per target, a failing test case per finding, a passing one for a
 * clean target. */
bool rmg_report_junit(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o);
/* JSON Lines: one finding object per line (the objects of the JSON report's "findings"). */
bool rmg_report_jsonl(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o);
/* The same in two steps, for streaming: the finding and error lines of some results (one
 * target's), and the summary line of all of them. */
bool rmg_report_jsonl_lines(FILE *out, const struct rmg_results *r,
                            const struct rmg_report_opts *o);
bool rmg_report_jsonl_summary(FILE *out, const struct rmg_results *r,
                              const struct rmg_report_opts *o);

/* Errors as `rummage: TARGET: PATH: message` lines, escaped. */
void rmg_report_errors(FILE *out, const struct rmg_results *r);

#endif
