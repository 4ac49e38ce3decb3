/* json.c: the JSON report, the contract other tools build on (docs/output.md). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "common/util.h"

/* A string from an image or a file system may hold any bytes; JSON strings must be UTF-8.
 * Valid UTF-8 passes through (cJSON escapes control characters); each invalid byte becomes
 * the text \xHH. */
cJSON *rmg_json_string(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    const unsigned char *u = (const unsigned char *)s;
    bool clean = true;
    for (const unsigned char *p = u; *p && clean; p++)
        clean = *p < 0x80;
    if (clean)
        return cJSON_CreateString(s);
    struct rmg_buf b = {0};
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t need = rmg_utf8_seq_len(u + i, n - i);
        if (need) {
            rmg_buf_append(&b, s + i, need);
            i += need;
        } else {
            rmg_buf_printf(&b, "\\x%02x", u[i]);
            i++;
        }
    }
    cJSON *j = cJSON_CreateString(b.data ? b.data : "");
    rmg_buf_free(&b);
    return j;
}

bool rmg_json_put(FILE *out, cJSON *doc, bool pretty)
{
    char *text = doc ? (pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc)) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return false;
    bool ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    free(text);
    return ok;
}

void rmg_buf_image_label(struct rmg_buf *b, const struct rmg_finding *f)
{
    const struct rmg_location *l = &f->loc;
    if (l->layer_index < 0 && f->state != RMG_STATE_CONFIG)
        return;
    if (l->image || l->platform)
        rmg_buf_printf(b, "[%s%s%s] ", l->image ? l->image : "",
                       l->image && l->platform ? " " : "", l->platform ? l->platform : "");
    if (l->layer_index >= 0)
        rmg_buf_printf(b, "layer %d ", l->layer_index);
}

cJSON *rmg_report_finding_json(const struct rmg_finding *f, const struct rmg_report_opts *o)
{
    cJSON *j = cJSON_CreateObject();
    char red[128];
    cJSON_AddItemToObject(j, "rule", rmg_json_string(f->rule->id));
    cJSON_AddItemToObject(j, "title", rmg_json_string(f->rule->title));
    cJSON_AddStringToObject(j, "severity", rmg_severity_name(f->severity));
    cJSON_AddStringToObject(j, "confidence", rmg_confidence_name(f->confidence));
    if (f->secret_len == 0) {
        cJSON_AddNullToObject(j, "secret"); /* a Dockerfile check: no secret value */
    } else {
        cJSON_AddItemToObject(j, "secret", rmg_json_string(
            rmg_finding_secret_text(f, o->show_secrets, red, sizeof red)));
    }
    cJSON_AddStringToObject(j, "fingerprint", f->fingerprint);
    cJSON_AddStringToObject(j, "state", rmg_state_name(f->state));
    if (f->changed_layer >= 0) {
        cJSON *ch = cJSON_AddObjectToObject(j, "changed_in");
        cJSON_AddNumberToObject(ch, "layer", f->changed_layer);
        cJSON_AddItemToObject(ch, "created_by", rmg_json_string(f->changed_by));
    }
    cJSON *loc = cJSON_AddObjectToObject(j, "location");
    cJSON_AddItemToObject(loc, "target", rmg_json_string(f->loc.target));
    if (f->loc.image)
        cJSON_AddItemToObject(loc, "image", rmg_json_string(f->loc.image));
    cJSON_AddItemToObject(loc, "path", rmg_json_string(f->loc.path));
    cJSON_AddNumberToObject(loc, "line", (double)f->loc.line);
    cJSON_AddNumberToObject(loc, "column", (double)f->loc.column);
    if (f->loc.platform)
        cJSON_AddItemToObject(loc, "platform", rmg_json_string(f->loc.platform));
    if (f->loc.layer_index >= 0) {
        cJSON *l = cJSON_AddObjectToObject(loc, "layer");
        cJSON_AddNumberToObject(l, "index", f->loc.layer_index);
        cJSON_AddItemToObject(l, "digest", rmg_json_string(f->loc.layer_digest));
        cJSON_AddItemToObject(l, "diff_id", rmg_json_string(f->loc.layer_diff_id));
        cJSON_AddItemToObject(l, "created_by", rmg_json_string(f->loc.created_by));
    }
    if (f->n_copies) {
        cJSON *cs = cJSON_AddArrayToObject(j, "dockerfile");
        for (size_t i = 0; i < f->n_copies; i++) {
            const struct rmg_copy *c = &f->copies[i];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToObject(x, "file", rmg_json_string(c->dockerfile));
            cJSON_AddNumberToObject(x, "line", c->line);
            cJSON_AddItemToObject(x, "instruction", rmg_json_string(c->instruction));
            cJSON_AddItemToObject(x, "stage", rmg_json_string(c->stage));
            cJSON_AddNumberToObject(x, "stage_index", c->stage_index);
            cJSON_AddBoolToObject(x, "final", c->final);
            if (c->dest)
                cJSON_AddItemToObject(x, "dest", rmg_json_string(c->dest));
            cJSON_AddItemToArray(cs, x);
        }
    }
    if (f->note)
        cJSON_AddItemToObject(j, "note", rmg_json_string(f->note));
    if (f->ignored)
        cJSON_AddTrueToObject(j, "ignored");
    cJSON *org = cJSON_AddObjectToObject(j, "origin");
    cJSON_AddStringToObject(org, "kind", rmg_origin_name(f->prov.origin));
    if (f->prov.origin != RMG_ORIGIN_OWN) {
        if (f->prov.origin == RMG_ORIGIN_PACKAGE || f->prov.origin == RMG_ORIGIN_ATTRIBUTED)
            cJSON_AddBoolToObject(org, "verified", f->prov.origin == RMG_ORIGIN_PACKAGE);
        cJSON_AddItemToObject(org, "manager", rmg_json_string(f->prov.manager));
        cJSON_AddItemToObject(org, "package", rmg_json_string(f->prov.package));
        cJSON_AddItemToObject(org, "version", rmg_json_string(f->prov.version));
    }
    if (f->prov.why)
        cJSON_AddItemToObject(org, "why", rmg_json_string(f->prov.why));
    cJSON_AddBoolToObject(j, "counted", rmg_report_counts(f, o));
    cJSON_AddItemToObject(j, "remedy", rmg_json_string(f->rule->remedy));
    const char *where = rmg_state_remedy(f);
    if (where)
        cJSON_AddStringToObject(j, "remedy_context", where);
    return j;
}

cJSON *rmg_report_tool_json(const struct rmg_report_opts *o)
{
    cJSON *tool = cJSON_CreateObject();
    cJSON_AddStringToObject(tool, "name", "rummage");
    cJSON_AddStringToObject(tool, "version", RMG_VERSION);
    if (o->rules)
        cJSON_AddStringToObject(tool, "rules", rmg_rules_hash(o->rules));
    return tool;
}

cJSON *rmg_report_error_json(const struct rmg_error *e)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "target", rmg_json_string(e->target));
    cJSON_AddItemToObject(j, "path", rmg_json_string(e->path));
    cJSON_AddItemToObject(j, "message", rmg_json_string(e->message));
    cJSON_AddStringToObject(j, "level", rmg_error_is_warning(e) ? "warning" : "error");
    return j;
}

cJSON *rmg_report_stats_json(const struct rmg_results *r, const struct rmg_report_opts *o)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddNumberToObject(st, "files", (double)r->stats.files);
    cJSON_AddNumberToObject(st, "bytes", (double)r->stats.bytes);
    cJSON_AddNumberToObject(st, "skipped", (double)r->stats.skipped);
    cJSON_AddNumberToObject(st, "layers", (double)r->stats.layers);
    cJSON_AddNumberToObject(st, "layers_cached", (double)r->stats.layers_cached);
    cJSON_AddNumberToObject(st, "suppressed", (double)o->suppressed);
    cJSON_AddNumberToObject(st, "baselined", (double)o->baselined);
    size_t upstream = 0;
    for (size_t i = 0; i < r->n_findings; i++)
        upstream += !r->findings[i].ignored && !rmg_report_counts(&r->findings[i], o);
    cJSON_AddNumberToObject(st, "upstream", (double)upstream);
    cJSON_AddNumberToObject(st, "seconds", (double)(long long)(r->stats.seconds * 1000) / 1000.0);
    return st;
}

bool rmg_report_json(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return false;
    cJSON_AddItemToObject(root, "tool", rmg_report_tool_json(o));
    cJSON *fs = cJSON_AddArrayToObject(root, "findings");
    for (size_t i = 0; i < r->n_findings; i++)
        cJSON_AddItemToArray(fs, rmg_report_finding_json(&r->findings[i], o));
    cJSON *es = cJSON_AddArrayToObject(root, "errors");
    for (size_t i = 0; i < r->n_errors; i++)
        cJSON_AddItemToArray(es, rmg_report_error_json(&r->errors[i]));
    cJSON_AddItemToObject(root, "stats", rmg_report_stats_json(r, o));
    return rmg_json_put(out, root, true);
}
