/* junit.c: the JUnit XML report, for CI systems that show test results.
 *
 * DESIGN. <testsuites> holds one <testsuite> per target, in the order the targets were given
 * (then any target a finding or error names that was not given, in report order). In a
 * suite, each finding is a <testcase> with a <failure> (type = the rule id, the details in
 * its text, the secret redacted unless show_secrets); each input error a <testcase> with an
 * <error>; each warning, each finding .dockerignore keeps out (`context
 * --show-ignored`) and each upstream finding that does not count toward the gate (a
 * package's unmodified file: docs/provenance.md), a <testcase> with <skipped>; a target with
 * no finding and no error a passing <testcase name="no secrets">. Counts (tests, failures,
 * errors, skipped) are on every suite and on <testsuites>.
 *
 * The output is a pure function of the results: no time, host or duration, except a
 * timestamp on each suite when SOURCE_DATE_EPOCH is set (that instant, UTC).
 *
 * Everything from the scanned data is untrusted. Markup characters are escaped (&amp; &lt;
 * &gt; &quot;, and tab, LF and CR in attributes as character references); what XML 1.0
 * cannot carry or a reader should not get raw — control characters other than tab, LF and
 * CR, DEL, C1 controls, U+FFFE/U+FFFF and bytes that are not valid UTF-8 — becomes the text
 * \xHH, one per byte, as in the JSON report.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report.h"
#include "common/util.h"

/* Appends s to b escaped for XML text (attr false) or a double-quoted attribute. */
static void xml_escape(struct rmg_buf *b, const char *s, bool attr)
{
    if (!s)
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        const char *rep = NULL;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break; /* also keeps "]]>" out */
        case '"': rep = attr ? "&quot;" : NULL; break;
        case '\t': rep = attr ? "&#9;" : NULL; break;
        case '\n': rep = attr ? "&#10;" : NULL; break;
        case '\r': rep = "&#13;"; break; /* a raw CR would be read as LF */
        default: break;
        }
        if (rep) {
            rmg_buf_puts(b, rep);
            i++;
            continue;
        }
        size_t len = 1;
        bool ok;
        if (c < 0x80) {
            ok = c >= 0x20 ? c != 0x7f : c == '\t' || c == '\n';
        } else {
            len = rmg_utf8_seq_len(u + i, n - i);
            ok = len != 0;
            if (ok) {
                unsigned cp = len == 2 ? (c & 0x1fu) << 6 | (u[i + 1] & 0x3fu)
                            : len == 3 ? (c & 0x0fu) << 12 | (u[i + 1] & 0x3fu) << 6 |
                                         (u[i + 2] & 0x3fu)
                                       : 0x10000; /* 4 bytes: a plane above the BMP, allowed */
                ok = !(cp >= 0x80 && cp <= 0x9f) && cp != 0xfffe && cp != 0xffff;
            } else {
                len = 1;
            }
        }
        if (ok)
            rmg_buf_append(b, s + i, len);
        else
            for (size_t k = 0; k < len; k++)
                rmg_buf_printf(b, "\\x%02x", u[i + k]);
        i += len;
    }
}

static void put_attr(struct rmg_buf *b, const char *name, const char *value)
{
    rmg_buf_printf(b, " %s=\"", name);
    xml_escape(b, value, true);
    rmg_buf_puts(b, "\"");
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org) as yyyy-mm-ddThh:mm:ss UTC, or false. */
static bool source_date(char out[32])
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    struct tm tm;
    time_t t = (time_t)v;
    return !errno && !*end && v >= 0 && gmtime_r(&t, &tm) &&
           strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
}

static bool from_image(const struct rmg_finding *f)
{
    return f->loc.layer_index >= 0 || f->state == RMG_STATE_CONFIG;
}

/* Where in the target (the suite names the target): "[IMAGE PLATFORM] layer N /path:L:C" in
 * an image, "path:L:C" otherwise. Raw bytes: escaped when written. */
static void where(struct rmg_buf *b, const struct rmg_finding *f)
{
    const struct rmg_location *l = &f->loc;
    if (from_image(f))
        rmg_buf_image_label(b, f);
    rmg_buf_puts(b, l->path ? l->path : l->target ? l->target : "");
    if (l->line)
        rmg_buf_printf(b, ":%llu:%llu", (unsigned long long)l->line,
                       (unsigned long long)l->column);
}

/* The file as a path a CI system can open: a directory target joined with the path below
 * it, a file target as given. NULL for image findings, stdin and files inside archives. */
static bool file_path(struct rmg_buf *b, const struct rmg_finding *f)
{
    const struct rmg_location *l = &f->loc;
    const char *t = l->target;
    if (from_image(f) || !t || !l->path || strcmp(t, "-") == 0 || l->path[0] == '/')
        return false;
    if (strcmp(l->path, t) != 0 && strcmp(t, ".") != 0 && strcmp(t, "./") != 0) {
        rmg_buf_puts(b, t);
        rmg_buf_puts(b, t[strlen(t) - 1] == '/' ? "" : "/");
    }
    rmg_buf_puts(b, l->path);
    return true;
}

/* One "label: value" line of a failure's text. */
static void field(struct rmg_buf *b, const char *label, const char *value)
{
    if (!value)
        return;
    rmg_buf_printf(b, "%-12s ", label);
    xml_escape(b, value, false);
    rmg_buf_puts(b, "\n");
}

static void finding_case(struct rmg_buf *b, const struct rmg_finding *f,
                         const struct rmg_report_opts *o, const char *suite)
{
    const struct rmg_location *l = &f->loc;
    struct rmg_buf t = {0};
    char red[160], num[96];
    const char *secret = NULL; /* as the details show it */
    if (f->secret_len) {
        secret = rmg_finding_secret_text(f, o->show_secrets, red, sizeof red);
    }

    rmg_buf_puts(b, "    <testcase");
    rmg_buf_puts(&t, f->rule->id);
    rmg_buf_puts(&t, " in ");
    where(&t, f);
    if (f->state != RMG_STATE_PRESENT && f->state != RMG_STATE_CONTEXT) {
        rmg_buf_puts(&t, " (");
        rmg_buf_puts(&t, rmg_state_name(f->state));
        rmg_buf_puts(&t, ")");
    }
    put_attr(b, "name", t.data);
    put_attr(b, "classname", suite);
    rmg_buf_free(&t);
    if (file_path(&t, f))
        put_attr(b, "file", t.data);
    rmg_buf_free(&t);
    rmg_buf_puts(b, ">\n");

    rmg_buf_printf(&t, "%s: %s", rmg_severity_name(f->severity), f->rule->title);
    if (secret) { /* the message is a one-line summary: always the redacted form */
        rmg_buf_puts(&t, ": ");
        rmg_buf_puts(&t, red);
    }
    /* Not counted (kept out by .dockerignore, or upstream content): skipped, saying why. */
    bool skipped = !rmg_report_counts(f, o);
    char origin[512], why[600];
    rmg_report_origin_text(f, origin, sizeof origin);
    rmg_fmt(why, sizeof why, "upstream content, not counted: %s", origin);
    rmg_buf_puts(b, skipped ? "      <skipped" : "      <failure");
    put_attr(b, "message", f->ignored ? "kept out of the build context by .dockerignore"
                           : skipped  ? why
                                      : t.data);
    if (!skipped)
        put_attr(b, "type", f->rule->id);
    rmg_buf_free(&t);
    rmg_buf_puts(b, ">");

    rmg_buf_printf(&t, "%s (%s)", f->rule->id, f->rule->title);
    field(b, "rule:", t.data);
    rmg_buf_free(&t);
    field(b, "severity:", rmg_severity_name(f->severity));
    field(b, "confidence:", rmg_confidence_name(f->confidence));
    field(b, "secret:", secret);
    field(b, "fingerprint:", f->fingerprint);
    field(b, "target:", l->target);
    if (file_path(&t, f))
        field(b, "file:", t.data);
    else
        field(b, "path:", l->path);
    rmg_buf_free(&t);
    if (l->line) {
        rmg_fmt(num, sizeof num, "%llu:%llu", (unsigned long long)l->line,
                (unsigned long long)l->column);
        field(b, "line:col:", num);
    }
    field(b, "state:", rmg_state_name(f->state));
    if (f->prov.origin != RMG_ORIGIN_OWN)
        field(b, "origin:", origin);
    if (l->image || l->platform) {
        rmg_buf_puts(&t, l->image ? l->image : "");
        rmg_buf_puts(&t, l->image && l->platform ? " " : "");
        rmg_buf_puts(&t, l->platform ? l->platform : "");
        field(b, "image:", t.data);
        rmg_buf_free(&t);
    }
    if (l->layer_index >= 0) {
        rmg_buf_printf(&t, "%d", l->layer_index);
        if (l->layer_digest)
            rmg_buf_printf(&t, " %s", l->layer_digest);
        field(b, "layer:", t.data);
        rmg_buf_free(&t);
        field(b, "created by:", l->created_by);
    }
    if (f->changed_layer >= 0) {
        rmg_buf_printf(&t, "%s in layer %d", f->state == RMG_STATE_DELETED ? "deleted"
                                                                           : "replaced",
                       f->changed_layer);
        if (f->changed_by)
            rmg_buf_printf(&t, " (%s)", f->changed_by);
        rmg_buf_printf(&t, "; still extractable from layer %d", l->layer_index);
        field(b, "changed:", t.data);
        rmg_buf_free(&t);
    }
    for (size_t i = 0; i < f->n_copies; i++) {
        const struct rmg_copy *c = &f->copies[i];
        rmg_buf_printf(&t, "%s:%u %s", c->dockerfile ? c->dockerfile : "Dockerfile", c->line,
                       c->instruction ? c->instruction : "");
        field(b, "dockerfile:", t.data);
        rmg_buf_free(&t);
    }
    field(b, "note:", f->note);
    field(b, "remedy:", f->rule->remedy);
    field(b, "", rmg_state_remedy(f));
    rmg_buf_puts(b, skipped ? "</skipped>\n" : "</failure>\n");
    rmg_buf_puts(b, "    </testcase>\n");
}

static void error_case(struct rmg_buf *b, const struct rmg_error *e, const char *suite)
{
    bool warning = rmg_error_is_warning(e);
    struct rmg_buf t = {0};
    rmg_buf_puts(&t, warning ? "warning: " : "error: ");
    rmg_buf_puts(&t, e->path ? e->path : e->target ? e->target : "");
    rmg_buf_puts(b, "    <testcase");
    put_attr(b, "name", t.data);
    put_attr(b, "classname", suite);
    rmg_buf_free(&t);
    rmg_buf_puts(b, ">\n      <");
    rmg_buf_puts(b, warning ? "skipped" : "error");
    put_attr(b, "message", e->message);
    if (!warning)
        put_attr(b, "type", rmg_status_name(e->status));
    rmg_buf_puts(b, ">");
    field(b, "target:", e->target);
    field(b, "path:", e->path);
    field(b, "message:", e->message);
    rmg_buf_puts(b, warning ? "</skipped>\n" : "</error>\n");
    rmg_buf_puts(b, "    </testcase>\n");
}

/* Writes out what b holds and empties it. */
static void flush(struct rmg_buf *b, FILE *out)
{
    if (b->data && b->len) {
        fwrite(b->data, 1, b->len, out);
        b->len = 0;
        b->data[0] = '\0';
    }
}

struct suite {
    const char *name;
    size_t findings, failures, errors, skipped;
    size_t n_errs; /* error entries (errors and warnings) */
};

/* The index of the suite named `name`, adding one if there is none. SIZE_MAX on OOM. */
static size_t suite_of(struct suite **s, size_t *n, size_t *cap, const char *name)
{
    const char *key = name ? name : "";
    for (size_t i = *n; i-- > 0;)
        if (strcmp((*s)[i].name, key) == 0)
            return i;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct suite *ns = realloc(*s, nc * sizeof *ns);
        if (!ns)
            return SIZE_MAX;
        *s = ns;
        *cap = nc;
    }
    (*s)[*n] = (struct suite){.name = key};
    return (*n)++;
}

/* Groups item indices by suite (a stable counting sort): order[start[s] .. start[s+1]). */
static bool group(const size_t *idx, size_t n_items, size_t n_suites, size_t **order,
                  size_t **start)
{
    *order = malloc((n_items ? n_items : 1) * sizeof **order);
    *start = calloc(n_suites + 1, sizeof **start);
    size_t *fill = calloc(n_suites + 1, sizeof *fill);
    bool ok = *order && *start && fill;
    if (ok) {
        for (size_t i = 0; i < n_items; i++)
            (*start)[idx[i] + 1]++;
        for (size_t s = 0; s < n_suites; s++)
            (*start)[s + 1] += (*start)[s];
        for (size_t i = 0; i < n_items; i++)
            (*order)[(*start)[idx[i]] + fill[idx[i]]++] = i;
    }
    free(fill);
    return ok;
}

bool rmg_report_junit(FILE *out, const struct rmg_results *r, const struct rmg_report_opts *o)
{
    struct suite *s = NULL;
    size_t n = 0, cap = 0;
    size_t *fidx = malloc((r->n_findings ? r->n_findings : 1) * sizeof *fidx);
    size_t *eidx = malloc((r->n_errors ? r->n_errors : 1) * sizeof *eidx);
    size_t *forder = NULL, *fstart = NULL, *eorder = NULL, *estart = NULL;
    struct rmg_buf b = {0};
    bool ok = fidx && eidx;

    for (size_t i = 0; ok && i < o->n_targets; i++)
        ok = suite_of(&s, &n, &cap, o->targets[i]) != SIZE_MAX;
    size_t last = SIZE_MAX; /* findings come sorted by target: look up each run once */
    for (size_t i = 0; ok && i < r->n_findings; i++) {
        const struct rmg_finding *f = &r->findings[i];
        if (last == SIZE_MAX || strcmp(s[last].name, f->loc.target ? f->loc.target : "") != 0)
            last = suite_of(&s, &n, &cap, f->loc.target);
        ok = last != SIZE_MAX;
        if (ok) {
            fidx[i] = last;
            s[last].findings++;
            if (!rmg_report_counts(f, o))
                s[last].skipped++;
            else
                s[last].failures++;
        }
    }
    for (size_t i = 0; ok && i < r->n_errors; i++) {
        size_t k = suite_of(&s, &n, &cap, r->errors[i].target);
        ok = k != SIZE_MAX;
        if (ok) {
            eidx[i] = k;
            s[k].n_errs++;
            if (rmg_error_is_warning(&r->errors[i]))
                s[k].skipped++;
            else
                s[k].errors++;
        }
    }
    if (ok && n == 0) /* nothing named at all: still one suite, so the report says "clean" */
        ok = suite_of(&s, &n, &cap, "rummage") != SIZE_MAX;
    ok = ok && group(fidx, r->n_findings, n, &forder, &fstart) &&
         group(eidx, r->n_errors, n, &eorder, &estart);

    if (ok) {
        size_t tests = 0, failures = 0, errors = 0, skipped = 0;
        for (size_t i = 0; i < n; i++) {
            tests += s[i].findings + s[i].n_errs + (s[i].findings + s[i].errors == 0);
            failures += s[i].failures;
            errors += s[i].errors;
            skipped += s[i].skipped;
        }
        char stamp[32];
        bool stamped = source_date(stamp);
        rmg_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
        put_attr(&b, "name", o->command && strcmp(o->command, "context") == 0
                                 ? "rummage context" : "rummage scan");
        rmg_buf_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n",
                       tests, failures, errors, skipped);
        for (size_t i = 0; i < n; i++) {
            const struct suite *x = &s[i];
            bool clean = x->findings + x->errors == 0;
            rmg_buf_puts(&b, "  <testsuite");
            put_attr(&b, "name", x->name);
            rmg_buf_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
                           x->findings + x->n_errs + clean, x->failures, x->errors, x->skipped);
            if (stamped)
                put_attr(&b, "timestamp", stamp);
            rmg_buf_puts(&b, ">\n    <properties>\n      <property name=\"rummage.version\"");
            put_attr(&b, "value", RMG_VERSION);
            rmg_buf_puts(&b, "/>\n");
            if (o->rules) {
                rmg_buf_puts(&b, "      <property name=\"rummage.rules\"");
                put_attr(&b, "value", rmg_rules_hash(o->rules));
                rmg_buf_puts(&b, "/>\n");
            }
            rmg_buf_puts(&b, "    </properties>\n");
            for (size_t k = fstart[i]; k < fstart[i + 1]; k++) {
                finding_case(&b, &r->findings[forder[k]], o, x->name);
                flush(&b, out); /* a report of many findings is never held in memory */
            }
            for (size_t k = estart[i]; k < estart[i + 1]; k++)
                error_case(&b, &r->errors[eorder[k]], x->name);
            if (clean) {
                rmg_buf_puts(&b, "    <testcase name=\"no secrets\"");
                put_attr(&b, "classname", x->name);
                rmg_buf_puts(&b, "/>\n");
            }
            rmg_buf_puts(&b, "  </testsuite>\n");
            flush(&b, out);
        }
        rmg_buf_puts(&b, "</testsuites>\n");
        flush(&b, out);
    }
    rmg_buf_free(&b);
    free(s);
    free(fidx);
    free(eidx);
    free(forder);
    free(fstart);
    free(eorder);
    free(estart);
    return ok;
}
