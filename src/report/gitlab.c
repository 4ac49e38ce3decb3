/* gitlab.c: GitLab's secret-detection report (gl-secret-detection-report.json).
 *
 * DESIGN. The document follows GitLab's security-report-schemas, secret detection, version
 * GITLAB_SCHEMA_VERSION (vendored in tests/schemas/ and validated by tests/cli/
 * test_formats.py). That version has no per-vulnerability category, confidence or scanner
 * (they were dropped in 15.0), and requires location.commit: rummage scans files and images,
 * not git history, so the commit is $CI_COMMIT_SHA when GitLab CI sets it, else "0000000" (the
 * placeholder GitLab's own analyzer writes outside a git history).
 *
 * What a vulnerability carries: a UUID made from a hash of the finding's fingerprint and
 * location (stable across runs, distinct per location); the rule's title as name and its
 * remedy as solution; the rule id as the one identifier; location.file as a person reads it
 * (for an image: `TARGET [IMAGE PLATFORM] layer N /path`, so the same path in two layers
 * stays two vulnerabilities); the layer, state and confidence in the description and in
 * details. The secret is redacted everywhere, even with show_secrets (the report is uploaded
 * and shown to everyone with access to the project, as docs/output.md says), and
 * raw_source_code_extract is never written: it would hold the secret.
 *
 * scan.start_time and end_time are now (end) and now minus the scan's wall time (start),
 * both in UTC; with SOURCE_DATE_EPOCH set both are that instant, so the report of a given
 * input is byte-for-byte reproducible. scan.status is "failure" when an input error made the
 * scan incomplete (exit code 2); errors and warnings are scan.messages.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report.h"
#include "common/util.h"

#define GITLAB_SCHEMA_VERSION "15.2.4"
#define NO_COMMIT "0000000"
/* The schema's maxLength of each field, in characters (we count bytes: never more). */
#define MAX_NAME 255
#define MAX_SOLUTION 7000
#define MAX_DESCRIPTION 1048576

static const char *gitlab_severity(enum rmg_severity s)
{
    switch (s) {
    case RMG_SEV_CRITICAL: return "Critical";
    case RMG_SEV_HIGH: return "High";
    case RMG_SEV_MEDIUM: return "Medium";
    case RMG_SEV_LOW: break;
    }
    return "Low";
}

/* Appends untrusted text with control bytes and invalid UTF-8 escaped (\xHH). */
static void put_safe(struct rmg_buf *b, const char *s)
{
    if (s)
        rmg_buf_put_safe(b, s, strlen(s));
}

/* Cuts b to at most max bytes on a UTF-8 boundary, ending with an ellipsis when cut. */
static void clip(struct rmg_buf *b, size_t max)
{
    static const char ell[] = "…";
    if (!b->data || b->len <= max)
        return;
    size_t cut = max - (sizeof ell - 1);
    while (cut > 0 && ((unsigned char)b->data[cut] & 0xc0) == 0x80)
        cut--;
    b->len = cut;
    b->data[cut] = '\0';
    rmg_buf_puts(b, ell);
}

/* Markdown inline code holding any text: a backtick fence longer than any run inside, and
 * spaces inside it when the text starts or ends with a backtick (CommonMark). */
static void md_code(struct rmg_buf *b, const char *s)
{
    struct rmg_buf t = {0};
    put_safe(&t, s ? s : "");
    const char *text = t.data ? t.data : "";
    size_t longest = 0, run = 0;
    for (const char *p = text; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    size_t n = strlen(text);
    bool pad = n && (text[0] == '`' || text[n - 1] == '`');
    for (size_t i = 0; i <= longest; i++)
        rmg_buf_puts(b, "`");
    rmg_buf_puts(b, pad ? " " : "");
    rmg_buf_puts(b, text);
    rmg_buf_puts(b, pad ? " " : "");
    for (size_t i = 0; i <= longest; i++)
        rmg_buf_puts(b, "`");
    rmg_buf_free(&t);
}

/* Markdown text: the punctuation that would start markup is backslash-escaped. */
static void md_text(struct rmg_buf *b, const char *s)
{
    struct rmg_buf t = {0};
    put_safe(&t, s);
    for (const char *p = t.data ? t.data : ""; *p; p++) {
        if (strchr("\\`*_[]<>|~&#", *p))
            rmg_buf_puts(b, "\\");
        rmg_buf_append(b, p, 1);
    }
    rmg_buf_free(&t);
}

static bool from_image(const struct rmg_finding *f)
{
    return f->loc.layer_index >= 0 || f->state == RMG_STATE_CONFIG;
}

/* location.file: where to look, as the text report says it. Raw bytes (JSON-escaped later). */
static void file_label(struct rmg_buf *b, const struct rmg_finding *f)
{
    const struct rmg_location *l = &f->loc;
    const char *target = l->target ? l->target : "";
    if (from_image(f)) {
        rmg_buf_printf(b, "%s ", target);
        rmg_buf_image_label(b, f);
        rmg_buf_puts(b, l->path ? l->path : "");
        return;
    }
    const char *path = l->path ? l->path : target;
    bool inner = l->path && strcmp(l->path, target) != 0 && strcmp(target, "-") != 0 &&
                 *target;
    if (inner && path[0] == '/') { /* a file inside an archive */
        rmg_buf_puts(b, target);
        rmg_buf_puts(b, "!");
    } else if (inner && strcmp(target, ".") != 0 && strcmp(target, "./") != 0) {
        rmg_buf_puts(b, target); /* a file below a directory */
        rmg_buf_puts(b, target[strlen(target) - 1] == '/' ? "" : "/");
    }
    rmg_buf_puts(b, path);
}

/* A UUID (version 5 layout) from a SHA-256 over the finding's identity: stable across runs,
 * distinct for each place the same secret is found. */
static void vuln_id(const struct rmg_finding *f, const char *file, char out[37])
{
    char pos[64];
    rmg_fmt(pos, sizeof pos, "%llu:%llu", (unsigned long long)f->loc.line,
            (unsigned long long)f->loc.column);
    const char *part[] = {"rummage-gitlab", f->fingerprint, f->rule->id, file, pos,
                          rmg_state_name(f->state)};
    struct rmg_buf b = {0};
    for (size_t i = 0; i < sizeof part / sizeof *part; i++)
        rmg_buf_append(&b, part[i], strlen(part[i]) + 1); /* NUL-separated */
    char hex[65];
    rmg_sha256_hex(b.data ? b.data : "", b.len, hex);
    rmg_buf_free(&b);
    static const char digits[] = "0123456789abcdef";
    hex[12] = '5';                                              /* version 5 */
    hex[16] = digits[8 + (strchr(digits, hex[16]) - digits) % 4]; /* variant 10xx */
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* A human-readable instant, UTC, in the schema's yyyy-mm-ddThh:mm:ss form. */
static void utc_time(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm))
        snprintf(out, 32, "1970-01-01T00:00:00");
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org): seconds since the epoch, or false. */
static bool source_date_epoch(time_t *out)
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return false;
    *out = (time_t)v;
    return true;
}

/* A named field: "text" for strings, "value" for numbers (the schema's detail types). */
static void detail(cJSON *items, const char *key, const char *name, cJSON *value)
{
    cJSON *d = cJSON_AddObjectToObject(items, key);
    cJSON_AddStringToObject(d, "type", cJSON_IsNumber(value) ? "value" : "text");
    cJSON_AddStringToObject(d, "name", name);
    cJSON_AddItemToObject(d, "value", value);
}

static void detail_str(cJSON *items, const char *key, const char *name, const char *value)
{
    if (value)
        detail(items, key, name, rmg_json_string(value));
}

/* details: the finding's facts, named fields GitLab shows on the vulnerability's page (the
 * schema's details is the items object of a named list). */
static cJSON *details_json(const struct rmg_finding *f)
{
    const struct rmg_location *l = &f->loc;
    cJSON *items = cJSON_CreateObject();
    char buf[160];
    detail_str(items, "rule", "Rule", f->rule->id);
    detail_str(items, "confidence", "Confidence", rmg_confidence_name(f->confidence));
    if (f->secret_len)
        detail_str(items, "secret", "Secret (redacted)",
                   rmg_finding_secret_text(f, false, buf, sizeof buf));
    detail_str(items, "fingerprint", "Fingerprint", f->fingerprint);
    detail_str(items, "state", "State", rmg_state_name(f->state));
    detail_str(items, "target", "Target", l->target);
    detail_str(items, "image", "Image", l->image);
    detail_str(items, "platform", "Platform", l->platform);
    detail_str(items, "path", "Path", l->path);
    if (l->line) {
        rmg_fmt(buf, sizeof buf, "%llu:%llu", (unsigned long long)l->line,
                (unsigned long long)l->column);
        detail_str(items, "line_column", "Line:column", buf);
    }
    if (l->layer_index >= 0) {
        detail(items, "layer", "Layer", cJSON_CreateNumber(l->layer_index));
        detail_str(items, "layer_digest", "Layer digest", l->layer_digest);
        detail_str(items, "layer_diff_id", "Layer diff ID", l->layer_diff_id);
        detail_str(items, "layer_created_by", "Layer created by", l->created_by);
    }
    if (f->changed_layer >= 0) {
        detail(items, "changed_in_layer",
               f->state == RMG_STATE_DELETED ? "Deleted in layer" : "Replaced in layer",
               cJSON_CreateNumber(f->changed_layer));
        detail_str(items, "changed_by", "Changed by", f->changed_by);
    }
    if (f->prov.origin != RMG_ORIGIN_OWN) {
        char origin[512];
        rmg_report_origin_text(f, origin, sizeof origin);
        detail_str(items, "origin", "Origin", origin);
    }
    detail_str(items, "note", "Note", f->note);
    if (f->ignored)
        detail_str(items, "ignored", "Ignored", "kept out of the build context by .dockerignore");
    return items;
}

/* description: what was found where, in GitLab-flavoured Markdown; every piece of scanned
 * text in a code span, the secret redacted. Valid UTF-8. */
static void description(struct rmg_buf *b, const struct rmg_finding *f, const char *file)
{
    const struct rmg_location *l = &f->loc;
    char red[160];
    md_text(b, f->rule->title);
    rmg_buf_puts(b, " (rule ");
    md_code(b, f->rule->id);
    rmg_buf_printf(b, ", %s confidence) in ", rmg_confidence_name(f->confidence));
    md_code(b, file);
    if (l->line)
        rmg_buf_printf(b, " at line %llu, column %llu", (unsigned long long)l->line,
                       (unsigned long long)l->column);
    rmg_buf_puts(b, ".");
    if (f->secret_len) {
        rmg_finding_secret_text(f, false, red, sizeof red);
        rmg_buf_puts(b, "\n\nSecret ");
        md_code(b, red);
        rmg_buf_puts(b, ", fingerprint ");
        md_code(b, f->fingerprint);
        rmg_buf_puts(b, ".");
    }
    if (from_image(f)) {
        rmg_buf_puts(b, "\n\nImage ");
        md_code(b, l->target);
        if (l->image) {
            rmg_buf_puts(b, ", ");
            md_code(b, l->image);
        }
        if (l->platform) {
            rmg_buf_puts(b, " (");
            md_code(b, l->platform);
            rmg_buf_puts(b, ")");
        }
        if (f->state == RMG_STATE_CONFIG) {
            rmg_buf_puts(b, ": in the image metadata at ");
            md_code(b, l->path);
            rmg_buf_puts(b, " (state **config**), readable by anyone who pulls the image.");
        } else {
            rmg_buf_printf(b, ": file ");
            md_code(b, l->path);
            rmg_buf_printf(b, " in layer %d", l->layer_index);
            if (l->layer_digest) {
                rmg_buf_puts(b, " ");
                md_code(b, l->layer_digest);
            }
            if (l->created_by) {
                rmg_buf_puts(b, ", created by ");
                md_code(b, l->created_by);
            }
            rmg_buf_printf(b, ". State **%s**", rmg_state_name(f->state));
            if (f->changed_layer >= 0) {
                rmg_buf_printf(b, " in layer %d", f->changed_layer);
                if (f->changed_by) {
                    rmg_buf_puts(b, " (");
                    md_code(b, f->changed_by);
                    rmg_buf_puts(b, ")");
                }
                rmg_buf_printf(b, ", still extractable from layer %d.", l->layer_index);
            } else {
                rmg_buf_puts(b, ": in the final image.");
            }
        }
    } else if (f->state != RMG_STATE_PRESENT) {
        rmg_buf_printf(b, "\n\nState **%s**.", rmg_state_name(f->state));
    }
    if (f->note) {
        rmg_buf_puts(b, "\n\n");
        md_text(b, f->note);
    }
    clip(b, MAX_DESCRIPTION); /* what to do is in solution */
}

static cJSON *vulnerability(const struct rmg_finding *f, const char *commit, bool upstream)
{
    cJSON *v = cJSON_CreateObject();
    struct rmg_buf file = {0}, text = {0};
    file_label(&file, f);
    const char *fl = file.data ? file.data : "";
    char id[37];
    vuln_id(f, fl, id);
    cJSON_AddStringToObject(v, "id", id);

    put_safe(&text, f->rule->title);
    clip(&text, MAX_NAME);
    cJSON_AddStringToObject(v, "name", text.data ? text.data : "");
    rmg_buf_free(&text);

    description(&text, f, fl);
    if (upstream) { /* a package's own content: shown, not counted */
        char origin[512];
        rmg_report_origin_text(f, origin, sizeof origin);
        rmg_buf_puts(&text, "\n\nUpstream content, not counted: ");
        md_text(&text, origin);
        rmg_buf_puts(&text, ".");
        clip(&text, MAX_DESCRIPTION);
    }
    cJSON_AddStringToObject(v, "description", text.data ? text.data : "");
    rmg_buf_free(&text);

    cJSON_AddStringToObject(v, "severity", upstream ? "Info" : gitlab_severity(f->severity));

    put_safe(&text, f->rule->remedy);
    const char *where = rmg_state_remedy(f);
    if (where) {
        rmg_buf_puts(&text, text.len ? " " : "");
        rmg_buf_puts(&text, where);
    }
    clip(&text, MAX_SOLUTION);
    if (text.len)
        cJSON_AddStringToObject(v, "solution", text.data);
    rmg_buf_free(&text);

    cJSON *ids = cJSON_AddArrayToObject(v, "identifiers");
    cJSON *ident = cJSON_CreateObject();
    cJSON_AddStringToObject(ident, "type", "rummage_rule_id");
    rmg_buf_puts(&text, "rummage rule ");
    put_safe(&text, f->rule->id);
    cJSON_AddStringToObject(ident, "name", text.data);
    rmg_buf_free(&text);
    cJSON_AddItemToObject(ident, "value", rmg_json_string(f->rule->id));
    cJSON_AddItemToArray(ids, ident);

    cJSON *loc = cJSON_AddObjectToObject(v, "location");
    cJSON_AddItemToObject(loc, "file", rmg_json_string(fl));
    if (f->loc.line) {
        cJSON_AddNumberToObject(loc, "start_line", (double)f->loc.line);
        cJSON_AddNumberToObject(loc, "end_line", (double)f->loc.line);
    }
    cJSON *c = cJSON_AddObjectToObject(loc, "commit");
    cJSON_AddItemToObject(c, "sha", rmg_json_string(commit));

    cJSON_AddItemToObject(v, "details", details_json(f));
    rmg_buf_free(&file);
    return v;
}

static cJSON *tool_json(void)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "id", "rummage");
    cJSON_AddStringToObject(t, "name", "rummage");
    cJSON_AddStringToObject(t, "version", RMG_VERSION);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(t, "vendor"), "name", "rummage");
    return t;
}

bool rmg_report_gitlab(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o)
{
    /* Only the gate policy applies: never a raw secret, whatever show_secrets says. */
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return false;
    cJSON_AddStringToObject(root, "version", GITLAB_SCHEMA_VERSION);

    const char *commit = getenv("CI_COMMIT_SHA");
    if (!commit || !*commit)
        commit = NO_COMMIT;
    cJSON *vs = cJSON_AddArrayToObject(root, "vulnerabilities");
    for (size_t i = 0; i < r->n_findings; i++)
        cJSON_AddItemToArray(vs, vulnerability(&r->findings[i], commit,
                                                 !r->findings[i].ignored &&
                                                     !rmg_report_counts(&r->findings[i], o)));

    cJSON *scan = cJSON_AddObjectToObject(root, "scan");
    cJSON_AddItemToObject(scan, "analyzer", tool_json());
    cJSON_AddItemToObject(scan, "scanner", tool_json());
    cJSON_AddStringToObject(scan, "type", "secret_detection");
    time_t end, start;
    if (source_date_epoch(&end)) {
        start = end;
    } else {
        end = time(NULL);
        start = end - (time_t)r->stats.seconds;
    }
    char ts[32];
    utc_time(start, ts);
    cJSON_AddStringToObject(scan, "start_time", ts);
    utc_time(end, ts);
    cJSON_AddStringToObject(scan, "end_time", ts);
    bool failed = false;
    if (r->n_errors) {
        cJSON *ms = cJSON_AddArrayToObject(scan, "messages");
        for (size_t i = 0; i < r->n_errors; i++) {
            const struct rmg_error *e = &r->errors[i];
            bool warning = rmg_error_is_warning(e);
            failed = failed || !warning;
            struct rmg_buf m = {0};
            rmg_buf_puts(&m, warning ? "warning: " : "error: ");
            put_safe(&m, e->target);
            if (e->path) {
                rmg_buf_puts(&m, ": ");
                put_safe(&m, e->path);
            }
            rmg_buf_puts(&m, ": ");
            put_safe(&m, e->message);
            cJSON *j = cJSON_CreateObject();
            /* "fatal": the scan did not read everything (exit code 2); the rest was scanned. */
            cJSON_AddStringToObject(j, "level", warning ? "warn" : "fatal");
            cJSON_AddStringToObject(j, "value", m.data);
            cJSON_AddItemToArray(ms, j);
            rmg_buf_free(&m);
        }
    }
    cJSON_AddStringToObject(scan, "status", failed ? "failure" : "success");

    return rmg_json_put(out, root, true);
}
