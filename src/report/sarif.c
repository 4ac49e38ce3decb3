/* sarif.c: the SARIF 2.1.0 report, for code-scanning services (docs/output.md).
 *
 * DESIGN. One run. tool.driver lists one reportingDescriptor per rule id the findings use
 * (sorted by id); each finding is one result naming its rule by id and index, with its
 * fingerprint as partialFingerprints["rummage/v1"] (the JSON report's, unchanged) and the JSON
 * report's fields (state, image, platform, layer, changed_in, dockerfile, note) as properties.
 * Secrets are always redacted, even with --show-secrets: a SARIF file is made to be uploaded to
 * a code-scanning service and outlives the terminal. The output holds no timestamp, duration or
 * host name, so the same scan of the same bytes gives the same report.
 *
 * Locations. Code-scanning services want a physical location with a URI on every result:
 *   - a file below a directory target: target and path joined, relative to the directory
 *     rummage ran in (uriBaseId SRCROOT: the repository root in CI); absolute ones become
 *     file: URIs. A file target is the file as given; a file in a tar that is no image is
 *     TAR!/PATH; standard input is "stdin";
 *   - a file in an image layer: its path in the image without the leading slash (uriBaseId
 *     IMAGEROOT), archives inside it joined with "!" as everywhere; the layer is a logical
 *     location (manifest.layers[N]);
 *   - image metadata: config.json or manifest.json (uriBaseId IMAGEMETADATA) at line 1 (the
 *     blobs are one-line JSON), with the JSON path (config.Env[3]) as the logical location.
 * URIs are percent-encoded from the raw bytes, so every path gives a valid URI. Columns count
 * bytes, as everywhere in rummage; on ASCII lines that is the unicodeCodePoints column the run
 * declares, and byteOffset/byteLength are exact in any case.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "common/util.h"

#define SARIF_SCHEMA \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#define STEP_MAX 80 /* bytes of a layer's created_by quoted in a message */

static const char *level_of(enum rmg_severity s)
{
    return s >= RMG_SEV_HIGH ? "error" : s == RMG_SEV_MEDIUM ? "warning" : "note";
}

/* GitHub code scanning reads this (a CVSS-like score as a string) to rank security alerts:
 * 9.0+ critical, 7.0+ high, 4.0+ medium, below that low. */
static const char *security_severity(enum rmg_severity s)
{
    switch (s) {
    case RMG_SEV_CRITICAL: return "9.5";
    case RMG_SEV_HIGH: return "8.0";
    case RMG_SEV_MEDIUM: return "5.5";
    case RMG_SEV_LOW: break;
    }
    return "3.0";
}

/* ---- text from scanned data ------------------------------------------------------------ */

/* Untrusted text into a SARIF plain-text message: control bytes and invalid UTF-8 become
 * \xHH (rmg_buf_put_safe), and square brackets are escaped, since "[text](n)" in a message is
 * a link to a related location. At most max bytes of s (cut on a character boundary, with an
 * ellipsis); max 0 means all of it. */
static void put_text(struct rmg_buf *b, const char *s, size_t max)
{
    if (!s)
        return;
    size_t n = strlen(s);
    bool cut = false;
    if (max && n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    struct rmg_buf t = {0};
    rmg_buf_put_safe(&t, s, n);
    for (size_t i = 0; i < t.len; i++) {
        if (t.data[i] == '[' || t.data[i] == ']')
            rmg_buf_append(b, "\\", 1);
        rmg_buf_append(b, t.data + i, 1);
    }
    rmg_buf_free(&t);
    if (cut)
        rmg_buf_puts(b, "…");
}

/* Text into Markdown, read literally: characters that open a construct anywhere (emphasis,
 * code, a link, HTML, an entity, a table cell, a strike-through) are backslash-escaped, which
 * CommonMark allows for any punctuation, and so are those that open one at the start of a
 * line (a heading, a quote, a list item). */
static void put_markdown(struct rmg_buf *b, const char *s)
{
    static const char anywhere[] = "\\`*_[]<&|~";
    struct rmg_buf t = {0};
    rmg_buf_put_safe(&t, s, strlen(s));
    bool line_start = true;
    for (size_t i = 0; i < t.len; i++) {
        char c = t.data[i];
        bool esc = strchr(anywhere, c) != NULL;
        if (line_start) {
            size_t k = i;
            while (k < t.len && t.data[k] >= '0' && t.data[k] <= '9')
                k++;
            if (k > i && k < t.len && (t.data[k] == '.' || t.data[k] == ')')) {
                rmg_buf_append(b, t.data + i, k - i); /* "1." would start a list */
                rmg_buf_append(b, "\\", 1);
                rmg_buf_append(b, t.data + k, 1);
                i = k;
                line_start = false;
                continue;
            }
            esc = esc || strchr("#>-+=", c) != NULL;
        }
        if (esc)
            rmg_buf_append(b, "\\", 1);
        rmg_buf_append(b, &c, 1);
        line_start = c == '\n';
    }
    rmg_buf_free(&t);
}

/* RFC 3986 path characters stay (unreserved, sub-delims, "@", "/"); every other byte is
 * percent-encoded, ":" too, so a relative reference never reads as a scheme. */
static void put_uri(struct rmg_buf *b, const char *s, size_t n)
{
    static const char keep[] = "-._~!$&'()*+,;=@/";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c && strchr(keep, c)))
            rmg_buf_append(b, s + i, 1);
        else
            rmg_buf_printf(b, "%%%02X", c);
    }
}

static cJSON *message(const char *text)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddItemToObject(m, "text", rmg_json_string(text ? text : ""));
    return m;
}

/* ---- where a finding is ---------------------------------------------------------------- */

static bool in_image(const struct rmg_finding *f)
{
    return f->loc.layer_index >= 0 || f->state == RMG_STATE_CONFIG;
}

/* A finding outside images, as a path from where rummage ran (the text report's reading of
 * target and path): a file below a directory target, a file in a tar, or the file as given. */
static void plain_path(const struct rmg_finding *f, struct rmg_buf *out)
{
    const char *t = f->loc.target ? f->loc.target : "";
    const char *p = f->loc.path ? f->loc.path : t;
    if (strcmp(t, "-") == 0) {
        rmg_buf_puts(out, "stdin");
        if (strcmp(p, "-") != 0) {
            rmg_buf_puts(out, p[0] == '/' ? "!" : "!/");
            rmg_buf_puts(out, p);
        }
        return;
    }
    if (strcmp(p, t) == 0) {
        rmg_buf_puts(out, p);
        return;
    }
    if (p[0] == '/') { /* a file inside a tar target that is no image */
        rmg_buf_puts(out, t);
        rmg_buf_puts(out, "!");
        rmg_buf_puts(out, p);
        return;
    }
    /* below a directory: "./app/" and "app" give "app/PATH", "." gives "PATH" */
    while (t[0] == '.' && t[1] == '/') {
        t += 2;
        while (*t == '/')
            t++;
    }
    size_t n = strlen(t);
    while (n > 1 && t[n - 1] == '/')
        n--;
    if (n == 1 && t[0] == '.')
        n = 0;
    if (n) {
        rmg_buf_append(out, t, n);
        if (t[n - 1] != '/')
            rmg_buf_puts(out, "/");
    }
    rmg_buf_puts(out, p);
}

/* The artifact location of a finding: its URI and the uriBaseId it is relative to (NULL for
 * an absolute URI or standard input). */
static cJSON *artifact_location(const struct rmg_finding *f, const char **base)
{
    struct rmg_buf uri = {0};
    const char *b = NULL;
    if (f->state == RMG_STATE_CONFIG) {
        bool manifest = f->loc.path && strncmp(f->loc.path, "manifest.", 9) == 0;
        rmg_buf_puts(&uri, manifest ? "manifest.json" : "config.json");
        b = "IMAGEMETADATA";
    } else if (f->loc.layer_index >= 0) {
        const char *p = f->loc.path ? f->loc.path : "";
        while (*p == '/')
            p++;
        put_uri(&uri, p, strlen(p));
        b = "IMAGEROOT";
    } else {
        struct rmg_buf raw = {0};
        plain_path(f, &raw);
        const char *p = raw.data ? raw.data : "";
        if (p[0] == '/') {
            rmg_buf_puts(&uri, "file://");
        } else if (strcmp(f->loc.target ? f->loc.target : "", "-") != 0) {
            b = "SRCROOT";
        }
        put_uri(&uri, p, strlen(p));
        rmg_buf_free(&raw);
    }
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToObject(a, "uri", rmg_json_string(uri.data ? uri.data : ""));
    if (b)
        cJSON_AddStringToObject(a, "uriBaseId", b);
    else if (strcmp(f->loc.target ? f->loc.target : "", "-") == 0)
        cJSON_AddItemToObject(a, "description", message("standard input"));
    rmg_buf_free(&uri);
    *base = b;
    return a;
}

/* The text region of the secret: where it starts, where it ends (exclusive), and its bytes. */
static cJSON *region(const struct rmg_finding *f)
{
    cJSON *r = cJSON_CreateObject();
    if (f->state == RMG_STATE_CONFIG) {
        cJSON_AddNumberToObject(r, "startLine", 1);
        return r;
    }
    if (f->loc.line < 1)
        return r;
    cJSON_AddNumberToObject(r, "startLine", (double)f->loc.line);
    if (f->loc.column < 1)
        return r;
    cJSON_AddNumberToObject(r, "startColumn", (double)f->loc.column);
    if (f->secret_len == 0 || !f->secret)
        return r;
    size_t len, lines, last_nl;
    rmg_finding_span(f, &len, &lines, &last_nl);
    cJSON_AddNumberToObject(r, "endLine", (double)(f->loc.line + lines));
    cJSON_AddNumberToObject(r, "endColumn", lines ? (double)(len - last_nl)
                                                  : (double)(f->loc.column + len));
    cJSON_AddNumberToObject(r, "byteOffset", (double)f->loc.offset);
    cJSON_AddNumberToObject(r, "byteLength", (double)len);
    return r;
}

/* The logical location: the JSON path of image metadata, the layer of an image file. */
static cJSON *logical_location(const struct rmg_finding *f)
{
    cJSON *l = cJSON_CreateObject();
    if (f->state == RMG_STATE_CONFIG) {
        const char *p = f->loc.path ? f->loc.path : "";
        size_t n = strlen(p);
        /* the last member; a label or annotation key may hold dots, so there the key */
        const char *name = strrchr(p, '.') ? strrchr(p, '.') + 1 : p;
        if (strncmp(p, "manifest.annotations.", 21) == 0)
            name = p + 21;
        else if (strncmp(p, "config.Labels.", 14) == 0)
            name = p + 14;
        cJSON_AddItemToObject(l, "name", rmg_json_string(name));
        cJSON_AddItemToObject(l, "fullyQualifiedName", rmg_json_string(p));
        cJSON_AddStringToObject(l, "kind", n && p[n - 1] == ']' ? "value" : "property");
    } else {
        char name[32], fqn[48];
        rmg_fmt(name, sizeof name, "layer %d", f->loc.layer_index);
        rmg_fmt(fqn, sizeof fqn, "manifest.layers[%d]", f->loc.layer_index);
        cJSON_AddStringToObject(l, "name", name);
        cJSON_AddStringToObject(l, "fullyQualifiedName", fqn);
        cJSON_AddStringToObject(l, "kind", "module");
    }
    return l;
}

static void put_image(struct rmg_buf *b, const struct rmg_finding *f)
{
    put_text(b, f->loc.image ? f->loc.image : f->loc.target, 0);
    if (f->loc.platform) {
        rmg_buf_puts(b, " (");
        put_text(b, f->loc.platform, 0);
        rmg_buf_puts(b, ")");
    }
}

static void put_step(struct rmg_buf *b, const char *created_by)
{
    if (!created_by || !*created_by)
        return;
    rmg_buf_puts(b, " (");
    put_text(b, created_by, STEP_MAX);
    rmg_buf_puts(b, ")");
}

/* The result's message: the rule's title, the redacted secret, where, and what its state
 * means. */
static char *result_text(const struct rmg_finding *f)
{
    struct rmg_buf b = {0};
    put_text(&b, f->rule->title, 0);
    if (f->secret_len) {
        char red[128];
        rmg_finding_secret_text(f, false, red, sizeof red);
        rmg_buf_puts(&b, ": ");
        put_text(&b, red, 0);
    }
    if (f->state == RMG_STATE_CONFIG) {
        rmg_buf_puts(&b, " at ");
        put_text(&b, f->loc.path, 0);
        rmg_buf_puts(&b, " in the metadata of ");
        put_image(&b, f);
        rmg_buf_puts(&b, f->loc.path && strncmp(f->loc.path, "history[", 8) == 0
                             ? "; `docker history` shows it to anyone who pulls the image."
                             : "; readable by anyone who pulls the image.");
    } else if (f->loc.layer_index >= 0) {
        rmg_buf_puts(&b, " at ");
        put_text(&b, f->loc.path, 0);
        rmg_buf_printf(&b, ":%llu:%llu in layer %d", (unsigned long long)f->loc.line,
                       (unsigned long long)f->loc.column, f->loc.layer_index);
        put_step(&b, f->loc.created_by);
        rmg_buf_puts(&b, " of ");
        put_image(&b, f);
        if (f->state == RMG_STATE_DELETED || f->state == RMG_STATE_OVERWRITTEN) {
            rmg_buf_printf(&b, "; %s in layer %d",
                           f->state == RMG_STATE_DELETED ? "deleted" : "overwritten",
                           f->changed_layer);
            put_step(&b, f->changed_by);
            rmg_buf_printf(&b, ", still extractable from layer %d.", f->loc.layer_index);
        } else {
            rmg_buf_puts(&b, "; present in the final image.");
        }
    } else {
        struct rmg_buf where = {0};
        plain_path(f, &where);
        rmg_buf_puts(&b, " at ");
        put_text(&b, where.data, 0);
        rmg_buf_free(&where);
        if (f->loc.line)
            rmg_buf_printf(&b, ":%llu", (unsigned long long)f->loc.line);
        if (f->loc.line && f->loc.column)
            rmg_buf_printf(&b, ":%llu", (unsigned long long)f->loc.column);
        if (f->state == RMG_STATE_CONTEXT) {
            rmg_buf_puts(&b, " in the build context");
            if (f->note) {
                rmg_buf_puts(&b, ": ");
                put_text(&b, f->note, 0);
            }
        }
        if (b.data && b.len && b.data[b.len - 1] != '.')
            rmg_buf_puts(&b, ".");
    }
    return b.data;
}

/* ---- rules ------------------------------------------------------------------------------ */

static int by_id(const void *a, const void *b)
{
    const struct rmg_rule *x = *(const struct rmg_rule *const *)a;
    const struct rmg_rule *y = *(const struct rmg_rule *const *)b;
    return strcmp(x->id, y->id);
}

/* The distinct rules of the findings, sorted by id (a rule id used by two rule objects, which
 * a rule set does not allow, would count once). Caller frees. */
static const struct rmg_rule **used_rules(const struct rmg_results *r, size_t *n_out)
{
    const struct rmg_rule **v = malloc((r->n_findings ? r->n_findings : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < r->n_findings; i++)
        v[i] = r->findings[i].rule;
    if (r->n_findings)
        qsort(v, r->n_findings, sizeof *v, by_id);
    size_t n = 0;
    for (size_t i = 0; i < r->n_findings; i++)
        if (n == 0 || strcmp(v[n - 1]->id, v[i]->id) != 0)
            v[n++] = v[i];
    *n_out = n;
    return v;
}

static size_t rule_index(const struct rmg_rule **rules, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rules[mid]->id, id);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0; /* not reached: every finding's rule is in the list */
}

/* "github-pat-classic" -> "GithubPatClassic": SARIF's rule name is an identifier-like word. */
static void pascal_name(struct rmg_buf *b, const char *id)
{
    bool up = true;
    size_t start = b->len;
    for (const char *p = id; *p; p++) {
        char c = *p;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum) {
            up = true;
            continue;
        }
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        rmg_buf_append(b, &c, 1);
        up = false;
    }
    if (b->len == start)
        rmg_buf_puts(b, id);
}

static cJSON *rule_descriptor(const struct rmg_rule *rule)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "id", rmg_json_string(rule->id));
    struct rmg_buf b = {0};
    pascal_name(&b, rule->id);
    cJSON_AddItemToObject(d, "name", rmg_json_string(b.data ? b.data : rule->id));
    rmg_buf_free(&b);
    cJSON_AddItemToObject(d, "shortDescription", message(rule->title));

    rmg_buf_printf(&b, "%s (rule %s, %s severity). ", rule->title, rule->id,
                   rmg_severity_name(rule->severity));
    if (rule->validator)
        rmg_buf_printf(&b, "A match is reported only if it passes the %s format check "
                           "(a checksum or a structure check).", rule->validator);
    else if (rule->confidence == RMG_CONF_ENTROPY)
        rmg_buf_puts(&b, "A match is reported when its value passes an entropy threshold.");
    else
        rmg_buf_puts(&b, "A match of the rule's pattern is reported.");
    cJSON_AddItemToObject(d, "fullDescription", message(b.data));
    rmg_buf_free(&b);

    cJSON *cfg = cJSON_AddObjectToObject(d, "defaultConfiguration");
    cJSON_AddStringToObject(cfg, "level", level_of(rule->severity));

    cJSON *help = cJSON_AddObjectToObject(d, "help");
    cJSON_AddItemToObject(help, "text", rmg_json_string(rule->remedy ? rule->remedy : ""));
    rmg_buf_puts(&b, "**");
    put_markdown(&b, rule->title);
    rmg_buf_puts(&b, "**\n\n");
    put_markdown(&b, rule->remedy ? rule->remedy : "");
    rmg_buf_printf(&b, "\n\nSeverity: %s. Rule: ", rmg_severity_name(rule->severity));
    put_markdown(&b, rule->id);
    rmg_buf_puts(&b, ".");
    cJSON_AddItemToObject(help, "markdown", rmg_json_string(b.data));
    rmg_buf_free(&b);

    cJSON *props = cJSON_AddObjectToObject(d, "properties");
    cJSON *tags = cJSON_AddArrayToObject(props, "tags");
    cJSON_AddItemToArray(tags, cJSON_CreateString("security"));
    cJSON_AddItemToArray(tags, cJSON_CreateString("secret"));
    for (size_t i = 0; i < rule->n_tags; i++) {
        if (strcmp(rule->tags[i], "security") == 0 || strcmp(rule->tags[i], "secret") == 0)
            continue;
        cJSON_AddItemToArray(tags, rmg_json_string(rule->tags[i]));
    }
    cJSON_AddStringToObject(props, "security-severity", security_severity(rule->severity));
    cJSON_AddStringToObject(props, "precision", rule->validator ? "very-high"
                                                : rule->confidence == RMG_CONF_ENTROPY ? "medium"
                                                                                       : "high");
    cJSON_AddStringToObject(props, "severity", rmg_severity_name(rule->severity));
    return d;
}

/* ---- results ---------------------------------------------------------------------------- */

static void move_item(cJSON *to, const char *to_name, cJSON *from, const char *name)
{
    cJSON *x = from ? cJSON_DetachItemFromObjectCaseSensitive(from, name) : NULL;
    if (x)
        cJSON_AddItemToObject(to, to_name, x);
}

/* A location-sensitive identity, so that the same secret at two places is two alerts: the
 * fingerprint and where it is (the artifact's URI and base; for images the image, platform,
 * layer and path), never the target as spelled, which may hold a checkout's absolute path. */
static void location_hash(const struct rmg_finding *f, const cJSON *artifact, char out[65])
{
    struct rmg_buf b = {0};
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(artifact, "uri");
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(artifact, "uriBaseId");
    const char *parts[] = {f->fingerprint, cJSON_GetStringValue(uri), cJSON_GetStringValue(base),
                           in_image(f) ? f->loc.image : NULL, in_image(f) ? f->loc.platform : NULL,
                           in_image(f) ? f->loc.path : NULL};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        rmg_buf_puts(&b, parts[i] ? parts[i] : "");
        rmg_buf_append(&b, "", 1); /* NUL separator */
    }
    rmg_buf_printf(&b, "%d", in_image(f) ? f->loc.layer_index : -1);
    rmg_sha256_hex(b.data ? b.data : "", b.len, out);
    rmg_buf_free(&b);
}

static cJSON *result(const struct rmg_finding *f, size_t rule_idx,
                     const struct rmg_report_opts *redacted, bool used_base[3])
{
    cJSON *res = cJSON_CreateObject();
    cJSON_AddItemToObject(res, "ruleId", rmg_json_string(f->rule->id));
    cJSON_AddNumberToObject(res, "ruleIndex", (double)rule_idx);
    /* Upstream content (a package's own file) is reported, not counted: a note. */
    bool upstream = !f->ignored && !rmg_report_counts(f, redacted);
    cJSON_AddStringToObject(res, "level", upstream ? "note" : level_of(f->severity));
    char *text = result_text(f);
    cJSON_AddItemToObject(res, "message", message(text));
    free(text);

    cJSON *locs = cJSON_AddArrayToObject(res, "locations");
    cJSON *loc = cJSON_CreateObject();
    cJSON_AddItemToArray(locs, loc);
    cJSON *phys = cJSON_AddObjectToObject(loc, "physicalLocation");
    const char *base = NULL;
    cJSON *artifact = artifact_location(f, &base);
    cJSON_AddItemToObject(phys, "artifactLocation", artifact);
    cJSON *reg = region(f);
    if (cJSON_GetArraySize(reg))
        cJSON_AddItemToObject(phys, "region", reg);
    else
        cJSON_Delete(reg);
    if (in_image(f)) {
        cJSON *ll = cJSON_AddArrayToObject(loc, "logicalLocations");
        cJSON_AddItemToArray(ll, logical_location(f));
    }
    if (base)
        used_base[strcmp(base, "SRCROOT") == 0 ? 0 : strcmp(base, "IMAGEROOT") == 0 ? 1 : 2] = true;

    cJSON *fp = cJSON_AddObjectToObject(res, "partialFingerprints");
    cJSON_AddStringToObject(fp, "rummage/v1", f->fingerprint);
    char lh[65];
    location_hash(f, artifact, lh);
    cJSON_AddStringToObject(fp, "rummage/location/v1", lh);

    if (f->ignored) {
        cJSON *sup = cJSON_AddArrayToObject(res, "suppressions");
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "kind", "external");
        cJSON_AddStringToObject(s, "justification", "kept out of the build context by .dockerignore");
        cJSON_AddItemToArray(sup, s);
    } else if (upstream) {
        char why[512], just[600];
        rmg_report_origin_text(f, why, sizeof why);
        rmg_fmt(just, sizeof just, "upstream content: %s", why);
        cJSON *sup = cJSON_AddArrayToObject(res, "suppressions");
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "kind", "external");
        cJSON_AddStringToObject(s, "justification", just);
        cJSON_AddItemToArray(sup, s);
    }

    /* The JSON report's fields, from the JSON report's own code (redacted), so both agree. */
    cJSON *j = rmg_report_finding_json(f, redacted);
    cJSON *jl = j ? cJSON_GetObjectItemCaseSensitive(j, "location") : NULL;
    cJSON *props = cJSON_AddObjectToObject(res, "properties");
    move_item(props, "severity", j, "severity");
    move_item(props, "confidence", j, "confidence");
    move_item(props, "state", j, "state");
    move_item(props, "secret", j, "secret");
    move_item(props, "target", jl, "target");
    move_item(props, "image", jl, "image");
    move_item(props, "path", jl, "path");
    move_item(props, "platform", jl, "platform");
    move_item(props, "layer", jl, "layer");
    move_item(props, "changed_in", j, "changed_in");
    move_item(props, "dockerfile", j, "dockerfile");
    move_item(props, "note", j, "note");
    move_item(props, "ignored", j, "ignored");
    move_item(props, "remedy_context", j, "remedy_context");
    move_item(props, "origin", j, "origin");
    move_item(props, "counted", j, "counted");
    cJSON_Delete(j);
    return res;
}

/* ---- the log ---------------------------------------------------------------------------- */

static cJSON *invocation(const struct rmg_results *r, const struct rmg_report_opts *o)
{
    cJSON *inv = cJSON_CreateObject();
    bool ok = true;
    cJSON *notes = cJSON_CreateArray();
    for (size_t i = 0; i < r->n_errors; i++) {
        const struct rmg_error *e = &r->errors[i];
        bool error = !rmg_error_is_warning(e);
        ok = ok && !error;
        struct rmg_buf b = {0};
        put_text(&b, e->target, 0);
        if (e->path) {
            rmg_buf_puts(&b, ": ");
            put_text(&b, e->path, 0);
        }
        rmg_buf_puts(&b, ": ");
        put_text(&b, e->message, 0);
        cJSON *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "level", error ? "error" : "warning");
        cJSON_AddItemToObject(n, "message", message(b.data));
        rmg_buf_free(&b);
        cJSON *p = cJSON_AddObjectToObject(n, "properties");
        cJSON_AddItemToObject(p, "target", rmg_json_string(e->target));
        cJSON_AddItemToObject(p, "path", rmg_json_string(e->path));
        cJSON_AddItemToArray(notes, n);
    }
    cJSON_AddBoolToObject(inv, "executionSuccessful", ok);
    if (cJSON_GetArraySize(notes))
        cJSON_AddItemToObject(inv, "toolExecutionNotifications", notes);
    else
        cJSON_Delete(notes);
    cJSON *p = cJSON_AddObjectToObject(inv, "properties");
    if (o->command)
        cJSON_AddStringToObject(p, "command", o->command);
    cJSON *ts = cJSON_AddArrayToObject(p, "targets");
    for (size_t i = 0; i < o->n_targets; i++)
        cJSON_AddItemToArray(ts, rmg_json_string(o->targets[i]));
    cJSON_AddNumberToObject(p, "files", (double)r->stats.files);
    cJSON_AddNumberToObject(p, "bytes", (double)r->stats.bytes);
    cJSON_AddNumberToObject(p, "skipped", (double)r->stats.skipped);
    cJSON_AddNumberToObject(p, "layers", (double)r->stats.layers);
    cJSON_AddNumberToObject(p, "layersCached", (double)r->stats.layers_cached);
    cJSON_AddNumberToObject(p, "suppressed", (double)o->suppressed);
    cJSON_AddNumberToObject(p, "baselined", (double)o->baselined);
    return inv;
}

static cJSON *driver(const struct rmg_report_opts *o, const struct rmg_rule **rules, size_t n)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", "rummage");
    cJSON_AddStringToObject(d, "version", RMG_VERSION);
    cJSON_AddStringToObject(d, "semanticVersion", RMG_VERSION);
    cJSON_AddItemToObject(d, "shortDescription",
                          message("A secret scanner for container images, build contexts and "
                                  "files."));
    cJSON_AddItemToObject(
        d, "fullDescription",
        message("rummage finds secrets in container images (every layer, including files a "
                "later layer deleted or replaced, and the image config and history), in build "
                "contexts and in files. In this report every secret is redacted (a short "
                "prefix and its length), even with --show-secrets; partialFingerprints "
                "rummage/v1 (the SHA-256 of the rule id and the secret) identifies it."));
    cJSON *rs = cJSON_AddArrayToObject(d, "rules");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(rs, rule_descriptor(rules[i]));
    if (o->rules) {
        cJSON *p = cJSON_AddObjectToObject(d, "properties");
        cJSON_AddStringToObject(p, "rules", rmg_rules_hash(o->rules));
    }
    return d;
}

bool rmg_report_sarif(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o)
{
    size_t n_rules = 0;
    const struct rmg_rule **rules = used_rules(r, &n_rules);
    cJSON *root = rules ? cJSON_CreateObject() : NULL;
    if (!root) {
        free(rules);
        return false;
    }
    cJSON_AddStringToObject(root, "$schema", SARIF_SCHEMA);
    cJSON_AddStringToObject(root, "version", "2.1.0");
    cJSON *run = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "runs"), run);
    cJSON *tool = cJSON_AddObjectToObject(run, "tool");
    cJSON_AddItemToObject(tool, "driver", driver(o, rules, n_rules));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(run, "invocations"), invocation(r, o));

    struct rmg_report_opts redacted = *o;
    redacted.show_secrets = false; /* SARIF is for uploading: never a raw secret */
    bool used_base[3] = {false, false, false};
    cJSON *results = cJSON_CreateArray();
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_finding *f = &r->findings[i];
        cJSON_AddItemToArray(results, result(f, rule_index(rules, n_rules, f->rule->id),
                                             &redacted, used_base));
    }
    static const char *const base_name[3] = {"SRCROOT", "IMAGEROOT", "IMAGEMETADATA"};
    static const char *const base_text[3] = {
        "The directory rummage ran in: paths of files below a directory target are relative "
        "to it.",
        "The root of the scanned image's filesystem: the result's logical location names the "
        "layer.",
        "The scanned image's metadata: config.json is its config (Env, Labels, Cmd, history), "
        "manifest.json its manifest; the logical location is the JSON path."};
    if (used_base[0] || used_base[1] || used_base[2]) {
        cJSON *ub = cJSON_AddObjectToObject(run, "originalUriBaseIds");
        for (int i = 0; i < 3; i++) {
            if (!used_base[i])
                continue;
            cJSON *a = cJSON_AddObjectToObject(ub, base_name[i]);
            cJSON_AddItemToObject(a, "description", message(base_text[i]));
        }
    }
    cJSON_AddItemToObject(run, "results", results);
    cJSON_AddStringToObject(run, "columnKind", "unicodeCodePoints");
    free(rules);

    return rmg_json_put(out, root, true);
}
