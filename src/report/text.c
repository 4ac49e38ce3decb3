/* text.c: the report for people: a summary, then one block per secret with all the
 * places it was found and what to do about it. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "common/util.h"

#define RESET "\033[0m"
#define BOLD "\033[1m"
#define DIM "\033[2m"

static const char *sev_color(enum rmg_severity s)
{
    switch (s) {
    case RMG_SEV_CRITICAL: return "\033[1;31m";
    case RMG_SEV_HIGH: return "\033[31m";
    case RMG_SEV_MEDIUM: return "\033[33m";
    case RMG_SEV_LOW: return "\033[36m";
    }
    return "";
}

static const char *upper_sev(enum rmg_severity s)
{
    static const char *const n[] = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};
    return (unsigned)s < 4 ? n[s] : "?";
}

/* Index of findings grouped by fingerprint, in report order. */
struct group {
    size_t first, last; /* indices of its first and last findings */
    size_t count;
    enum rmg_severity sev;
};

#define NO_NEXT SIZE_MAX

/* The findings grouped by fingerprint (a hash table, so a million findings take no longer
 * than the report): g[0, *ng) in order of first appearance; next[i] is the next finding of
 * i's group (NO_NEXT after its last). False on out of memory. */
static bool group_findings(const struct rmg_results *r, struct group *g, size_t *next, size_t *ng)
{
    size_t cap = 16;
    while (cap < 2 * r->n_findings)
        cap *= 2;
    size_t *slot = calloc(cap, sizeof *slot); /* group index + 1, 0: empty */
    if (!slot)
        return false;
    *ng = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_finding *f = &r->findings[i];
        uint64_t h = 1469598103934665603u; /* FNV-1a */
        for (const char *c = f->fingerprint; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211u;
        size_t at = (size_t)h & (cap - 1);
        while (slot[at] && strcmp(r->findings[g[slot[at] - 1].first].fingerprint,
                                  f->fingerprint) != 0)
            at = (at + 1) & (cap - 1);
        next[i] = NO_NEXT;
        if (!slot[at]) {
            g[*ng] = (struct group){i, i, 0, f->severity};
            slot[at] = ++*ng;
        } else {
            struct group *k = &g[slot[at] - 1];
            next[k->last] = i;
            k->last = i;
        }
        struct group *k = &g[slot[at] - 1];
        k->count++;
        if (f->severity > k->sev)
            k->sev = f->severity;
    }
    free(slot);
    return true;
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->sev != y->sev)
        return x->sev > y->sev ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static void human_bytes(uint64_t n, char *out, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        rmg_fmt(out, cap, "%llu B", (unsigned long long)n);
    else
        rmg_fmt(out, cap, "%.1f %s", v, u[i]);
}

static void put_safe(FILE *out, const char *s)
{
    if (s)
        rmg_fputs_safe(out, s, strlen(s));
}

/* "1 critical, 2 high)": the non-zero counts, most severe first, and the closing parenthesis. */
static void put_severity_counts(FILE *out, const size_t by_sev[4])
{
    bool first = true;
    for (int s = 3; s >= 0; s--) {
        if (!by_sev[s])
            continue;
        fprintf(out, "%s%zu %s", first ? "" : ", ", by_sev[s],
                rmg_severity_name((enum rmg_severity)s));
        first = false;
    }
    fputc(')', out);
}

/* " · 1 error, 2 warnings (on stderr)" when there are any. */
static void put_problem_counts(FILE *out, const struct rmg_results *r)
{
    size_t errors = 0;
    for (size_t i = 0; i < r->n_errors; i++)
        errors += !rmg_error_is_warning(&r->errors[i]);
    size_t warnings = r->n_errors - errors;
    if (!r->n_errors)
        return;
    fputs(" · ", out);
    if (errors)
        fprintf(out, "%zu error%s", errors, errors == 1 ? "" : "s");
    if (errors && warnings)
        fputs(", ", out);
    if (warnings)
        fprintf(out, "%zu warning%s", warnings, warnings == 1 ? "" : "s");
    fputs(" (on stderr)", out);
}

/* Prose (a remedy, advice) wrapped at width columns, continuation lines indented; the first
 * line starts where the cursor is, `col` columns in. width 0: one line. */
static void put_wrapped(FILE *out, const char *s, unsigned col, unsigned indent, unsigned width)
{
    if (!s)
        return;
    if (!width || width < indent + 20) {
        put_safe(out, s);
        return;
    }
    const char *p = s;
    while (*p) {
        size_t word = strcspn(p, " ");
        unsigned wcols = 0; /* display columns: count UTF-8 lead bytes */
        for (size_t i = 0; i < word; i++)
            wcols += ((unsigned char)p[i] & 0xc0) != 0x80;
        if (col > indent && col + 1 + wcols > width) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        rmg_fputs_safe(out, p, word);
        col += wcols;
        p += word;
        while (*p == ' ')
            p++;
    }
}

/* A history step as a person reads it: the Dockerfile instruction, cut to a line. */
static void put_step(FILE *out, const char *created_by)
{
    static const char nop[] = "/bin/sh -c #(nop) ", sh[] = "/bin/sh -c ";
    const char *s = created_by;
    while (*s == ' ')
        s++;
    bool run = false;
    if (strncmp(s, nop, sizeof nop - 1) == 0) {
        s += sizeof nop - 1;
    } else if (s[0] == '|' && strstr(s, sh)) {
        s = strstr(s, sh) + sizeof sh - 1; /* "|1 ARG=v /bin/sh -c cmd": build args */
        run = true;
    } else if (strncmp(s, sh, sizeof sh - 1) == 0) {
        s += sizeof sh - 1;
        run = true;
    }
    while (*s == ' ')
        s++;
    /* Long digests ("COPY dir:f61f32d5…") say nothing to a reader: keep 12 hex digits. */
    struct rmg_buf b = {0};
    for (const char *p = s; *p;) {
        size_t hex = strspn(p, "0123456789abcdef");
        if (hex >= 32) {
            rmg_buf_append(&b, p, 12);
            rmg_buf_puts(&b, "…");
            p += hex;
        } else {
            rmg_buf_append(&b, p, hex ? hex : 1);
            p += hex ? hex : 1;
        }
    }
    s = b.data ? b.data : "";
    size_t n = strlen(s);
    const size_t max = 72;
    if (run)
        fputs("RUN ", out);
    if (n > max) {
        /* Cut on a UTF-8 boundary. */
        size_t cut = max;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
            cut--;
        rmg_fputs_safe(out, s, cut);
        fputs("…", out);
    } else {
        rmg_fputs_safe(out, s, n);
    }
    rmg_buf_free(&b);
}

/* "origin  libgnutls30 3.7.9 (dpkg package, unmodified), not counted": said for every finding
 * provenance settled, counted or not. */
static void origin_line(FILE *out, const struct rmg_finding *f, const struct rmg_report_opts *o)
{
    if (f->prov.origin == RMG_ORIGIN_OWN)
        return;
    char label[512];
    rmg_report_origin_text(f, label, sizeof label);
    fprintf(out, "            %sorigin%s ", o->color ? DIM : "", o->color ? RESET : "");
    put_safe(out, label);
    /* Upstream content that counts all the same: an audit, or a validated credential. */
    bool upstream = f->prov.origin == RMG_ORIGIN_PACKAGE || f->prov.origin == RMG_ORIGIN_ATTRIBUTED;
    fputs(!rmg_report_counts(f, o)                         ? ", not counted"
          : upstream && f->confidence == RMG_CONF_VALIDATED ? ", counted: a live credential format"
                                                             : "",
          out);
    fputc('\n', out);
}

static void location_line(FILE *out, const struct rmg_finding *f, const struct rmg_report_opts *o)
{
    bool color = o->color;
    fprintf(out, "    %sat%s      ", color ? DIM : "", color ? RESET : "");
    const struct rmg_location *l = &f->loc;
    bool image = l->layer_index >= 0 || f->state == RMG_STATE_CONFIG;
    if (image) {
        put_safe(out, l->target);
        if (l->image || l->platform) {
            fputs(" [", out);
            put_safe(out, l->image);
            fputs(l->image && l->platform ? " " : "", out);
            put_safe(out, l->platform);
            fputs("]", out);
        }
        fputs("  ", out);
        put_safe(out, l->path);
        if (l->layer_index >= 0)
            fprintf(out, ":%llu:%llu", (unsigned long long)l->line, (unsigned long long)l->column);
        fputc('\n', out);
        fputs("            ", out);
        if (f->state == RMG_STATE_CONFIG && strncmp(l->path, "history[", 8) == 0) {
            fputs("in the build history: `docker history` shows it to anyone who pulls the image",
                  out);
        } else if (f->state == RMG_STATE_CONFIG) {
            fputs("in the image config, readable by anyone who pulls the image", out);
        } else {
            fprintf(out, "layer %d", l->layer_index);
            if (l->created_by) {
                fputs(" (", out);
                put_step(out, l->created_by);
                fputs(")", out);
            }
            if (f->state == RMG_STATE_DELETED || f->state == RMG_STATE_OVERWRITTEN) {
                fprintf(out, "; %s%s in layer %d%s", color ? BOLD : "",
                        f->state == RMG_STATE_DELETED ? "deleted" : "overwritten",
                        f->changed_layer, color ? RESET : "");
                if (f->changed_by) {
                    fputs(" (", out);
                    put_step(out, f->changed_by);
                    fputs(")", out);
                }
                fprintf(out, ", still extractable from layer %d", l->layer_index);
            } else {
                fputs("; present in the final image", out);
            }
        }
        fputc('\n', out);
        origin_line(out, f, o);
        return;
    }
    bool inner = l->path && l->target && strcmp(l->path, l->target) != 0 &&
                 strcmp(l->target, "-") != 0;
    if (inner && l->path[0] == '/') {
        put_safe(out, l->target); /* a file inside an archive */
        fputs("!", out);
    } else if (inner) {
        put_safe(out, l->target); /* a file below a directory */
        fputs(l->target[strlen(l->target) - 1] == '/' ? "" : "/", out);
    }
    put_safe(out, l->path ? l->path : l->target);
    fprintf(out, ":%llu:%llu", (unsigned long long)l->line, (unsigned long long)l->column);
    if (f->state != RMG_STATE_PRESENT)
        fprintf(out, "  (%s)", rmg_state_name(f->state));
    fputc('\n', out);
}

/* One line per package for the upstream findings (not counted, not listed one by one):
 * "10 in libgnutls30 3.7.9 (dpkg package, unmodified)". Findings come sorted by path, so the
 * packages are gathered in a small table first. */
struct pkg_fold {
    char label[512];
    size_t count;
};

static int cmp_fold(const void *a, const void *b)
{
    const struct pkg_fold *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->label, y->label);
}

static int cmp_str(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL);
}

/* Upstream findings by what the label is made of: the package's runs come together. */
static int cmp_package(const void *a, const void *b)
{
    const struct rmg_provenance *x = &((const struct rmg_finding *)a)->prov;
    const struct rmg_provenance *y = &((const struct rmg_finding *)b)->prov;
    int c = (int)x->origin - (int)y->origin;
    if (!c)
        c = cmp_str(x->manager, y->manager);
    if (!c)
        c = cmp_str(x->package, y->package);
    return c ? c : cmp_str(x->version, y->version);
}

/* up: the upstream findings (a view the caller owns; reordered here). */
static void put_upstream(FILE *out, struct rmg_results *up, const struct rmg_report_opts *o)
{
    qsort(up->findings, up->n_findings, sizeof *up->findings, cmp_package);
    size_t n = 0;
    for (size_t i = 0; i < up->n_findings; i++)
        n += i == 0 || cmp_package(&up->findings[i - 1], &up->findings[i]) != 0;
    struct pkg_fold *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        fprintf(out, "\n%zu upstream findings not counted\n", up->n_findings);
        return;
    }
    n = 0;
    for (size_t i = 0; i < up->n_findings; i++) {
        if (i == 0 || cmp_package(&up->findings[i - 1], &up->findings[i]) != 0)
            rmg_report_origin_text(&up->findings[i], v[n++].label, sizeof v->label);
        v[n - 1].count++;
    }
    qsort(v, n, sizeof *v, cmp_fold);
    fprintf(out, "\n%sUpstream%s  %zu finding%s in files that packages installed, not counted "
                 "(--show-upstream lists them, --fail-on-origin any counts them):\n",
            o->color ? BOLD : "", o->color ? RESET : "", up->n_findings,
            up->n_findings == 1 ? "" : "s");
    for (size_t k = 0; k < n; k++) {
        if (k == 20) {
            fprintf(out, "    ... and %zu more packages (all in --format json)\n", n - 20);
            break;
        }
        fprintf(out, "    %zu in ", v[k].count);
        put_safe(out, v[k].label);
        fputc('\n', out);
    }
    free(v);
}

void rmg_report_text(FILE *out, const struct rmg_results *all, const struct rmg_report_opts *o)
{
    /* What counts is listed secret by secret; upstream content is folded per package unless
     * --show-upstream. Both views borrow the findings of `all`. */
    struct rmg_results view = *all, up = *all;
    view.findings = up.findings = NULL;
    view.n_findings = up.n_findings = 0;
    if (!o->show_upstream) {
        view.findings = malloc((all->n_findings ? all->n_findings : 1) * sizeof *view.findings);
        up.findings = malloc((all->n_findings ? all->n_findings : 1) * sizeof *up.findings);
        if (!view.findings || !up.findings) {
            free(view.findings);
            free(up.findings);
            fputs("rummage: out of memory while writing the report\n", out);
            return;
        }
        for (size_t i = 0; i < all->n_findings; i++) {
            const struct rmg_finding *f = &all->findings[i];
            if (f->ignored || rmg_report_counts(f, o))
                view.findings[view.n_findings++] = *f;
            else
                up.findings[up.n_findings++] = *f;
        }
    }
    const struct rmg_results *r = o->show_upstream ? all : &view;
    struct group *g = calloc(r->n_findings ? r->n_findings : 1, sizeof *g);
    size_t *next = calloc(r->n_findings ? r->n_findings : 1, sizeof *next);
    size_t ng = 0;
    if (!g || !next || !group_findings(r, g, next, &ng)) {
        free(g);
        free(next);
        free(view.findings);
        free(up.findings);
        fputs("rummage: out of memory while writing the report\n", out);
        return;
    }
    size_t by_sev[4] = {0};
    for (size_t k = 0; k < ng; k++)
        by_sev[r->findings[g[k].first].severity]++;
    if (ng > 1)
        qsort(g, ng, sizeof *g, cmp_group);

    char bytes[32];
    human_bytes(r->stats.bytes, bytes, sizeof bytes);
    if (ng == 0) {
        fprintf(out, "%sNo secrets found%s%s", o->color ? BOLD : "", up.n_findings ? " outside upstream packages" : "", o->color ? RESET : "");
    } else {
        fprintf(out, "%s%zu secret%s%s in %zu finding%s (", o->color ? BOLD : "", ng,
                ng == 1 ? "" : "s", o->color ? RESET : "", r->n_findings,
                r->n_findings == 1 ? "" : "s");
        put_severity_counts(out, by_sev);
        /* Where they are, when it is not all plain files: image states. */
        size_t by_state[RMG_STATE_CONTEXT + 1] = {0};
        for (size_t i = 0; i < r->n_findings; i++)
            by_state[r->findings[i].state]++;
        if (by_state[RMG_STATE_PRESENT] != r->n_findings) {
            bool first = true;
            fputs(" · ", out);
            for (int st = 0; st <= RMG_STATE_CONTEXT; st++) {
                if (!by_state[st])
                    continue;
                fprintf(out, "%s%zu %s", first ? "" : ", ", by_state[st],
                        rmg_state_name((enum rmg_state)st));
                first = false;
            }
        }
    }
    fprintf(out, " · %llu file%s, %s scanned in %.2f s",
            (unsigned long long)r->stats.files, r->stats.files == 1 ? "" : "s", bytes,
            r->stats.seconds);
    if (r->stats.layers_cached)
        fprintf(out, " · %llu of %llu layer%s from the cache",
                (unsigned long long)r->stats.layers_cached, (unsigned long long)r->stats.layers,
                r->stats.layers == 1 ? "" : "s");
    if (o->suppressed)
        fprintf(out, " · %zu allowed by config", o->suppressed);
    if (o->baselined)
        fprintf(out, " · %zu in the baseline", o->baselined);
    if (up.n_findings)
        fprintf(out, " · %zu upstream, not counted", up.n_findings);
    put_problem_counts(out, r);
    fputs("\n", out);

    for (size_t k = 0; k < ng; k++) {
        const struct rmg_finding *f = &r->findings[g[k].first];
        char red[128];
        fputc('\n', out);
        fprintf(out, "%s%-8s%s  %s", o->color ? sev_color(g[k].sev) : "", upper_sev(g[k].sev),
                o->color ? RESET : "", o->color ? BOLD : "");
        put_safe(out, f->rule->title);
        fprintf(out, "%s  %s[", o->color ? RESET : "", o->color ? DIM : "");
        put_safe(out, f->rule->id);
        fprintf(out, ", %s]%s\n", rmg_confidence_name(f->confidence), o->color ? RESET : "");
        fprintf(out, "    %ssecret%s  ", o->color ? DIM : "", o->color ? RESET : "");
        if (o->show_secrets && !f->redacted)
            rmg_fputs_safe(out, f->secret, f->secret_len);
        else
            fputs(rmg_finding_secret_text(f, false, red, sizeof red), out);
        fprintf(out, "   fingerprint %.12s", f->fingerprint);
        if (g[k].count > 1)
            fprintf(out, "   %zu locations", g[k].count);
        fputc('\n', out);
        size_t shown = 0;
        for (size_t i = g[k].first; i != NO_NEXT; i = next[i]) {
            if (shown == 20) {
                fprintf(out, "    ...     and %zu more (all in --format json)\n", g[k].count - 20);
                break;
            }
            location_line(out, &r->findings[i], o);
            shown++;
        }
        fprintf(out, "    %sfix%s     ", o->color ? DIM : "", o->color ? RESET : "");
        put_wrapped(out, f->rule->remedy, 12, 12, o->width);
        fputc('\n', out);
        /* Advice for each kind of place this secret was found, once. */
        const char *said[8];
        size_t n_said = 0;
        for (size_t i = g[k].first; i != NO_NEXT && n_said < 8; i = next[i]) {
            const char *adv = rmg_state_remedy(&r->findings[i]);
            bool dup = !adv;
            for (size_t j = 0; j < n_said && !dup; j++)
                dup = said[j] == adv;
            if (dup)
                continue;
            said[n_said++] = adv;
            fputs("            ", out);
            put_wrapped(out, adv, 12, 12, o->width);
            fputc('\n', out);
        }
    }
    if (up.n_findings)
        put_upstream(out, &up, o);
    free(g);
    free(next);
    free(view.findings);
    free(up.findings);
}

void rmg_report_errors(FILE *out, const struct rmg_results *r)
{
    for (size_t i = 0; i < r->n_errors; i++) {
        const struct rmg_error *e = &r->errors[i];
        fputs(rmg_error_is_warning(e) ? "rummage: warning: " : "rummage: error: ", out);
        put_safe(out, e->target);
        if (e->path) {
            fputs(": ", out);
            put_safe(out, e->path);
        }
        fputs(": ", out);
        put_safe(out, e->message);
        fputc('\n', out);
    }
}

/* ---- build contexts ------------------------------------------------------------------- */

/* The instruction a context finding is shown under: the first that reaches the final image,
 * else the first; NULL when none copies it. */
static const struct rmg_copy *main_copy(const struct rmg_finding *f)
{
    for (size_t i = 0; i < f->n_copies; i++)
        if (f->copies[i].final)
            return &f->copies[i];
    return f->n_copies ? &f->copies[0] : NULL;
}

static int cmp_context(const void *a, const void *b)
{
    const struct rmg_finding *x = *(const struct rmg_finding *const *)a;
    const struct rmg_finding *y = *(const struct rmg_finding *const *)b;
    /* Copied first (by instruction line), then not copied, then ignored. */
    int gx = x->ignored ? 2 : main_copy(x) ? 0 : 1, gy = y->ignored ? 2 : main_copy(y) ? 0 : 1;
    if (gx != gy)
        return gx - gy;
    const struct rmg_copy *cx = main_copy(x), *cy = main_copy(y);
    if (cx && cy && cx->line != cy->line)
        return cx->line < cy->line ? -1 : 1;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int c = strcmp(x->loc.path ? x->loc.path : "", y->loc.path ? y->loc.path : "");
    if (c)
        return c;
    return x->loc.line < y->loc.line ? -1 : x->loc.line > y->loc.line;
}

static void context_finding(FILE *out, const struct rmg_finding *f, const struct rmg_report_opts *o)
{
    char red[128];
    fprintf(out, "    %s%-8s%s  ", o->color ? sev_color(f->severity) : "", upper_sev(f->severity),
            o->color ? RESET : "");
    put_safe(out, f->rule->title);
    fprintf(out, "  %s[", o->color ? DIM : "");
    put_safe(out, f->rule->id);
    fprintf(out, "]%s\n", o->color ? RESET : "");
    fputs("              ", out);
    put_safe(out, f->loc.path);
    fprintf(out, ":%llu:%llu", (unsigned long long)f->loc.line, (unsigned long long)f->loc.column);
    if (f->secret_len) {
        fputs("  ", out);
        if (o->show_secrets && !f->redacted)
            rmg_fputs_safe(out, f->secret, f->secret_len);
        else
            fputs(rmg_finding_secret_text(f, false, red, sizeof red), out);
    }
    fprintf(out, "  %.12s\n", f->fingerprint);
    const struct rmg_copy *mc = main_copy(f);
    if (mc && mc->dest) {
        fputs("              lands at ", out);
        put_safe(out, mc->dest);
        fputc('\n', out);
    }
    if (f->note) {
        fputs("              ", out);
        put_safe(out, f->note);
        fputc('\n', out);
    }
}

void rmg_report_context_text(FILE *out, const struct rmg_results *r,
                             const struct rmg_report_opts *o)
{
    const struct rmg_finding **v = calloc(r->n_findings ? r->n_findings : 1, sizeof *v);
    if (!v) {
        fputs("rummage: out of memory while writing the report\n", out);
        return;
    }
    size_t by_sev[4] = {0}, ignored = 0, counted = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        v[i] = &r->findings[i];
        if (v[i]->ignored) {
            ignored++;
        } else {
            by_sev[v[i]->severity]++;
            counted++;
        }
    }
    if (r->n_findings > 1)
        qsort(v, r->n_findings, sizeof *v, cmp_context);
    char bytes[32];
    human_bytes(r->stats.bytes, bytes, sizeof bytes);
    if (counted == 0)
        fprintf(out, "%sNo secrets in the build context%s", o->color ? BOLD : "",
                o->color ? RESET : "");
    else {
        fprintf(out, "%s%zu finding%s in the build context%s (", o->color ? BOLD : "", counted,
                counted == 1 ? "" : "s", o->color ? RESET : "");
        put_severity_counts(out, by_sev);
    }
    fprintf(out, " · %llu file%s, %s scanned in %.2f s", (unsigned long long)r->stats.files,
            r->stats.files == 1 ? "" : "s", bytes, r->stats.seconds);
    if (ignored)
        fprintf(out, " · %zu kept out by .dockerignore", ignored);
    if (o->suppressed)
        fprintf(out, " · %zu allowed by config", o->suppressed);
    if (o->baselined)
        fprintf(out, " · %zu in the baseline", o->baselined);
    put_problem_counts(out, r);
    fputc('\n', out);

    int group = -1;
    unsigned line = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_finding *f = v[i];
        const struct rmg_copy *mc = main_copy(f);
        int g = f->ignored ? 2 : mc ? 0 : 1;
        if (g != group || (g == 0 && mc->line != line)) {
            fputc('\n', out);
            if (g == 0) {
                fputs(o->color ? BOLD : "", out);
                put_safe(out, mc->instruction);
                fprintf(out, "%s  %s(", o->color ? RESET : "", o->color ? DIM : "");
                put_safe(out, mc->dockerfile);
                fprintf(out, ":%u, ", mc->line);
                if (mc->final)
                    fputs("final image", out);
                else if (mc->stage) {
                    fputs("build stage '", out);
                    put_safe(out, mc->stage);
                    fputs("'", out);
                } else
                    fprintf(out, "build stage %d", mc->stage_index);
                fprintf(out, ")%s\n", o->color ? RESET : "");
                line = mc->line;
            } else if (g == 1) {
                fprintf(out, "%sNot copied by the Dockerfile%s (still sent to the builder)\n",
                        o->color ? BOLD : "", o->color ? RESET : "");
            } else {
                fprintf(out, "%sKept out by .dockerignore%s (not sent, not copied: good)\n",
                        o->color ? BOLD : "", o->color ? RESET : "");
            }
            group = g;
        }
        context_finding(out, f, o);
    }
    /* The remedy of each rule once, at the end. */
    bool header = false;
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_rule *rule = v[i]->rule;
        bool seen = v[i]->ignored;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !v[j]->ignored && v[j]->rule == rule;
        if (seen)
            continue;
        if (!header) {
            fprintf(out, "\n%sHow to fix%s\n", o->color ? BOLD : "", o->color ? RESET : "");
            header = true;
        }
        fputs("    ", out);
        put_safe(out, rule->id);
        fputs(": ", out);
        put_safe(out, rule->remedy);
        fputc('\n', out);
    }
    free(v);
}
