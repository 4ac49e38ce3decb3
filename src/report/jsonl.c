/* jsonl.c: the JSON Lines report, one JSON object per line (docs/output.md).
 *
 * DESIGN. Each line is a complete JSON object with a "type" key first:
 *   {"type":"finding", ...}  one per finding, in report order: the object of the JSON
 *                            report's "findings" (rmg_report_finding_json) plus "type";
 *   {"type":"error", ...}    one per error or warning: the JSON report's "errors" objects;
 *   {"type":"summary", ...}  exactly one, last: the tool, counts and the stats.
 * A reader can act on each line as it arrives (`jq -c 'select(.type=="finding")'`), and a
 * stream that lacks its summary line was cut short. `rummage scan --format jsonl` writes each
 * target's lines as soon as that target is done (rmg_report_jsonl_lines), and the summary of
 * them all at the end. Secrets are redacted unless
 * o->show_secrets, exactly as in the JSON report.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "report/report.h"

/* Prepends "type": kind to obj (a reader sees the kind first). False on out of memory. */
static bool tag(cJSON *obj, const char *kind)
{
    cJSON *t = cJSON_CreateString(kind);
    if (!t)
        return false;
    cJSON_AddItemToObject(obj, "type", t); /* sets the key... */
    cJSON_DetachItemViaPointer(obj, t);    /* ...then moves the item to the front */
    return cJSON_InsertItemInArray(obj, 0, t);
}

/* Prints obj on one line and frees it. False on out of memory (obj is freed all the same). */
static bool put_line(FILE *out, cJSON *obj, const char *kind)
{
    if (obj && !tag(obj, kind)) {
        cJSON_Delete(obj);
        return false;
    }
    return rmg_json_put(out, obj, false);
}

bool rmg_report_jsonl(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o)
{
    return rmg_report_jsonl_lines(out, r, o) && rmg_report_jsonl_summary(out, r, o);
}

bool rmg_report_jsonl_lines(FILE *out, const struct rmg_results *r,
                            const struct rmg_report_opts *o)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (!put_line(out, rmg_report_finding_json(&r->findings[i], o), "finding"))
            return false;

    for (size_t i = 0; i < r->n_errors; i++)
        if (!put_line(out, rmg_report_error_json(&r->errors[i]), "error"))
            return false;
    return true;
}

bool rmg_report_jsonl_summary(FILE *out, const struct rmg_results *r,
                              const struct rmg_report_opts *o)
{
    size_t n_warnings = 0;
    for (size_t i = 0; i < r->n_errors; i++)
        n_warnings += rmg_error_is_warning(&r->errors[i]);
    cJSON *s = cJSON_CreateObject();
    if (!s)
        return false;
    cJSON_AddItemToObject(s, "tool", rmg_report_tool_json(o));
    cJSON_AddNumberToObject(s, "findings", (double)r->n_findings);
    cJSON_AddNumberToObject(s, "errors", (double)(r->n_errors - n_warnings));
    cJSON_AddNumberToObject(s, "warnings", (double)n_warnings);
    cJSON_AddItemToObject(s, "stats", rmg_report_stats_json(r, o));
    return put_line(out, s, "summary");
}
