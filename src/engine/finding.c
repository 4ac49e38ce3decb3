/* finding.c: findings, errors and results: ownership, merging, ordering, redaction. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rummage.h"
#include "common/util.h"
#include "engine/validate.h"

void rmg_results_init(struct rmg_results *r)
{
    memset(r, 0, sizeof *r);
}

void rmg_location_free(struct rmg_location *l)
{
    if (!l)
        return;
    free(l->target);
    free(l->image);
    free(l->path);
    free(l->layer_digest);
    free(l->layer_diff_id);
    free(l->created_by);
    free(l->platform);
    memset(l, 0, sizeof *l);
}

/* Replaces each of n string fields (pointing at the source's strings) by its own copy. False
 * if one could not be copied (the copies made are left in place for the caller to free). */
static bool dup_fields(char **const *fields, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const char *s = *fields[i];
        *fields[i] = rmg_strdup(s);
        ok = ok && (!s || *fields[i]);
    }
    return ok;
}

bool rmg_location_copy(struct rmg_location *dst, const struct rmg_location *src)
{
    *dst = *src;
    char **const fields[] = {&dst->target, &dst->image, &dst->path, &dst->layer_digest,
                             &dst->layer_diff_id, &dst->created_by, &dst->platform};
    bool ok = dup_fields(fields, sizeof fields / sizeof *fields);
    if (!ok)
        rmg_location_free(dst);
    return ok;
}

void rmg_copy_free(struct rmg_copy *c)
{
    free(c->dockerfile);
    free(c->instruction);
    free(c->stage);
    free(c->dest);
    memset(c, 0, sizeof *c);
}

static bool copy_dup(struct rmg_copy *dst, const struct rmg_copy *src)
{
    *dst = *src;
    dst->dockerfile = rmg_strdup(src->dockerfile);
    dst->instruction = rmg_strdup(src->instruction);
    dst->stage = rmg_strdup(src->stage);
    dst->dest = rmg_strdup(src->dest);
    if ((src->dockerfile && !dst->dockerfile) || (src->instruction && !dst->instruction) ||
        (src->stage && !dst->stage) || (src->dest && !dst->dest)) {
        rmg_copy_free(dst);
        return false;
    }
    return true;
}

bool rmg_finding_add_copy(struct rmg_finding *f, const struct rmg_copy *c)
{
    struct rmg_copy *v = realloc(f->copies, (f->n_copies + 1) * sizeof *v);
    if (!v)
        return false;
    f->copies = v;
    if (!copy_dup(&v[f->n_copies], c))
        return false;
    f->n_copies++;
    return true;
}

void rmg_finding_free(struct rmg_finding *f)
{
    if (!f)
        return;
    if (f->secret)
        memset(f->secret, 0, f->secret_len);
    free(f->secret);
    free(f->changed_by);
    for (size_t i = 0; i < f->n_copies; i++)
        rmg_copy_free(&f->copies[i]);
    free(f->copies);
    free(f->note);
    rmg_provenance_free(&f->prov);
    rmg_location_free(&f->loc);
    memset(f, 0, sizeof *f);
}

void rmg_provenance_free(struct rmg_provenance *p)
{
    free(p->manager);
    free(p->package);
    free(p->version);
    free(p->why);
    memset(p, 0, sizeof *p);
}

void rmg_provenance_set(struct rmg_provenance *p, enum rmg_origin o, const char *manager,
                        const char *package, const char *version, const char *why)
{
    rmg_provenance_free(p);
    *p = (struct rmg_provenance){o, rmg_strdup(manager), rmg_strdup(package),
                                 rmg_strdup(version), rmg_strdup(why)};
    if ((manager && !p->manager) || (package && !p->package) || (version && !p->version) ||
        (why && !p->why))
        rmg_provenance_free(p);
}

static bool provenance_copy(struct rmg_provenance *dst, const struct rmg_provenance *src)
{
    *dst = *src;
    char **const fields[] = {&dst->manager, &dst->package, &dst->version, &dst->why};
    bool ok = dup_fields(fields, sizeof fields / sizeof *fields);
    if (!ok)
        rmg_provenance_free(dst);
    return ok;
}

const char *rmg_origin_name(enum rmg_origin o)
{
    switch (o) {
    case RMG_ORIGIN_OWN: return "own";
    case RMG_ORIGIN_MODIFIED: return "modified";
    case RMG_ORIGIN_PACKAGE: return "package";
    case RMG_ORIGIN_ATTRIBUTED: return "attributed";
    case RMG_ORIGIN_BASE: return "base";
    }
    return "?";
}

bool rmg_finding_gates(const struct rmg_finding *f, bool all_origins)
{
    return all_origins || f->prov.origin == RMG_ORIGIN_OWN ||
           f->prov.origin == RMG_ORIGIN_MODIFIED || f->prov.origin == RMG_ORIGIN_BASE ||
           (f->confidence == RMG_CONF_VALIDATED && f->rule &&
            rmg_validate_is_live(f->rule->validator));
}

bool rmg_finding_copy(struct rmg_finding *dst, const struct rmg_finding *src)
{
    *dst = *src;
    dst->secret = NULL;
    dst->changed_by = NULL;
    dst->copies = NULL;
    dst->n_copies = 0;
    dst->note = NULL;
    if (!provenance_copy(&dst->prov, &src->prov)) {
        memset(dst, 0, sizeof *dst);
        return false;
    }
    if (!rmg_location_copy(&dst->loc, &src->loc)) {
        rmg_provenance_free(&dst->prov);
        memset(dst, 0, sizeof *dst);
        return false;
    }
    dst->secret = malloc(src->secret_len + 1);
    dst->changed_by = rmg_strdup(src->changed_by);
    dst->note = rmg_strdup(src->note);
    bool ok = dst->secret && (!src->changed_by || dst->changed_by) && (!src->note || dst->note);
    for (size_t i = 0; ok && i < src->n_copies; i++)
        ok = rmg_finding_add_copy(dst, &src->copies[i]);
    if (!ok) {
        if (dst->secret)
            memset(dst->secret, 0, src->secret_len);
        dst->secret_len = 0;
        rmg_finding_free(dst);
        return false;
    }
    memcpy(dst->secret, src->secret, src->secret_len);
    dst->secret[src->secret_len] = '\0';
    return true;
}

static void error_free(struct rmg_error *e)
{
    free(e->target);
    free(e->path);
    free(e->message);
}

void rmg_results_clear(struct rmg_results *r)
{
    for (size_t i = 0; i < r->n_findings; i++)
        rmg_finding_free(&r->findings[i]);
    for (size_t i = 0; i < r->n_errors; i++)
        error_free(&r->errors[i]);
    free(r->findings);
    free(r->errors);
    struct rmg_stats keep = r->stats;
    memset(r, 0, sizeof *r);
    r->stats = keep;
}

static bool reserve(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = realloc(*v, c * size);
    if (!p)
        return false;
    *v = p;
    *cap = c;
    return true;
}

enum rmg_status rmg_results_merge(struct rmg_results *into, struct rmg_results *from)
{
    if (!reserve((void **)&into->findings, &into->cap_findings,
                 into->n_findings + from->n_findings, sizeof *into->findings) ||
        !reserve((void **)&into->errors, &into->cap_errors, into->n_errors + from->n_errors,
                 sizeof *into->errors))
        return RMG_ENOMEM;
    if (from->n_findings)
        memcpy(into->findings + into->n_findings, from->findings,
               from->n_findings * sizeof *from->findings);
    if (from->n_errors)
        memcpy(into->errors + into->n_errors, from->errors, from->n_errors * sizeof *from->errors);
    into->n_findings += from->n_findings;
    into->n_errors += from->n_errors;
    into->stats.files += from->stats.files;
    into->stats.bytes += from->stats.bytes;
    into->stats.skipped += from->stats.skipped;
    into->stats.layers += from->stats.layers;
    into->stats.layers_cached += from->stats.layers_cached;
    from->n_findings = from->n_errors = 0;
    memset(&from->stats, 0, sizeof from->stats);
    return RMG_OK;
}

enum rmg_status rmg_results_add_finding(struct rmg_results *r, struct rmg_finding *f)
{
    if (!reserve((void **)&r->findings, &r->cap_findings, r->n_findings + 1,
                 sizeof *r->findings))
        return RMG_ENOMEM;
    r->findings[r->n_findings++] = *f;
    memset(f, 0, sizeof *f);
    return RMG_OK;
}

enum rmg_status rmg_results_add_errorv(struct rmg_results *r, enum rmg_status status,
                                       const char *target, const char *path, const char *fmt,
                                       va_list ap)
{
    if (!reserve((void **)&r->errors, &r->cap_errors, r->n_errors + 1, sizeof *r->errors))
        return RMG_ENOMEM;
    char small[1024];
    vsnprintf(small, sizeof small, fmt, ap);
    struct rmg_error *e = &r->errors[r->n_errors];
    e->status = status;
    e->target = rmg_strdup(target ? target : "");
    e->path = rmg_strdup(path);
    e->message = rmg_strdup(small);
    if (!e->target || !e->message || (path && !e->path)) {
        error_free(e);
        return RMG_ENOMEM;
    }
    r->n_errors++;
    return RMG_OK;
}

enum rmg_status rmg_results_add_error(struct rmg_results *r, enum rmg_status status,
                                      const char *target, const char *path, const char *fmt,
                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum rmg_status st = rmg_results_add_errorv(r, status, target, path, fmt, ap);
    va_end(ap);
    return st;
}

static int cmp_nullable(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_finding(const void *pa, const void *pb)
{
    const struct rmg_finding *a = pa, *b = pb;
    int c = cmp_nullable(a->loc.target, b->loc.target);
    if (c)
        return c;
    if ((c = cmp_nullable(a->loc.image, b->loc.image)))
        return c;
    if ((c = cmp_nullable(a->loc.platform, b->loc.platform)))
        return c;
    if (a->loc.layer_index != b->loc.layer_index)
        return a->loc.layer_index < b->loc.layer_index ? -1 : 1;
    if ((c = cmp_nullable(a->loc.path, b->loc.path)))
        return c;
    if (a->loc.offset != b->loc.offset)
        return a->loc.offset < b->loc.offset ? -1 : 1;
    return strcmp(a->rule->id, b->rule->id);
}

static int cmp_error(const void *pa, const void *pb)
{
    const struct rmg_error *a = pa, *b = pb;
    int c = cmp_nullable(a->target, b->target);
    if (c)
        return c;
    if ((c = cmp_nullable(a->path, b->path)))
        return c;
    return strcmp(a->message, b->message);
}

void rmg_results_sort(struct rmg_results *r)
{
    if (r->n_findings > 1)
        qsort(r->findings, r->n_findings, sizeof *r->findings, cmp_finding);
    if (r->n_errors > 1)
        qsort(r->errors, r->n_errors, sizeof *r->errors, cmp_error);
}

const char *rmg_state_remedy(const struct rmg_finding *f)
{
    switch (f->state) {
    case RMG_STATE_DELETED:
        return "Deleting the file in a later layer does not remove it from the image: every "
               "layer ships, and anyone who pulls the image can extract it. Rotate the secret, "
               "rebuild without it (RUN --mount=type=secret, or a multi-stage build that copies "
               "only what the final image needs) and delete the old image from registries.";
    case RMG_STATE_OVERWRITTEN:
        return "Replacing the file in a later layer does not remove the old bytes: they still "
               "ship in the earlier layer. Rotate the secret and rebuild so that it never enters "
               "a layer (RUN --mount=type=secret, multi-stage build).";
    case RMG_STATE_CONFIG:
        return "The image config (ENV, ARG in history, LABEL, CMD) is readable by anyone who can "
               "pull the image, and `docker history` shows build arguments. Rotate the secret; "
               "pass it at run time (environment, mounted secret) or at build time with RUN "
               "--mount=type=secret.";
    case RMG_STATE_CONTEXT:
        /* A context file (not the Dockerfile, whose note says what to do; not a check; not
         * one .dockerignore already keeps out). */
        if (f->ignored || (f->n_copies && !f->copies[0].dest) ||
            (f->rule->origin && strcmp(f->rule->origin, "builtin:dockerfile checks") == 0))
            return NULL;
        return "Keep it out of the build context (.dockerignore) so no COPY or ADD can put it "
               "in an image.";
    case RMG_STATE_PRESENT:
        break;
    }
    if (f->loc.layer_index >= 0)
        return "The file is in the image's filesystem. Rotate the secret and keep it out of "
               "the build (.dockerignore, multi-stage build, RUN --mount=type=secret); provide "
               "it at run time instead.";
    return NULL;
}

void rmg_redact(const char *secret, size_t len, char *out, size_t outlen)
{
    /* A PEM block's armour line says what it is and is no secret: show it. */
    static const char begin[] = "-----BEGIN ";
    if (len > sizeof begin && memcmp(secret, begin, sizeof begin - 1) == 0) {
        size_t end = sizeof begin - 1;
        while (end < len && end < 64 && secret[end] >= 0x20 && secret[end] < 0x7f &&
               secret[end] != '-')
            end++;
        if (end + 5 <= len && memcmp(secret + end, "-----", 5) == 0) {
            rmg_fmt(out, outlen, "%.*s…(%zu)", (int)(end + 5), secret, len);
            return;
        }
    }
    /* Show a recognisable prefix (the token kind, e.g. "ghp_") but never enough to matter:
     * at most 4 characters and at most a quarter of the secret; none for short ones. */
    size_t show = len >= 16 ? 4 : len >= 12 ? 2 : 0;
    if (show > len / 4)
        show = len / 4;
    for (size_t i = 0; i < show; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (c < 0x21 || c > 0x7e) {
            show = i;
            break;
        }
    }
    rmg_fmt(out, outlen, "%.*s…(%zu)", (int)show, secret, len);
}

const char *rmg_finding_secret_text(const struct rmg_finding *f, bool show, char *buf,
                                    size_t cap)
{
    if (f->redacted) {
        rmg_fmt(buf, cap, "%s", f->secret ? f->secret : "");
        return buf;
    }
    if (show)
        return f->secret;
    rmg_redact(f->secret, f->secret_len, buf, cap);
    return buf;
}

void rmg_finding_span(const struct rmg_finding *f, size_t *len, size_t *lines, size_t *last_nl)
{
    if (f->redacted) {
        *len = f->raw_len;
        *lines = f->raw_lines;
        *last_nl = f->raw_last_nl;
        return;
    }
    *len = f->secret_len;
    *lines = *last_nl = 0;
    for (size_t i = 0; f->secret && i < f->secret_len; i++) {
        if (f->secret[i] == '\n') {
            (*lines)++;
            *last_nl = i;
        }
    }
}

void rmg_redact_in(char **s, const struct rmg_finding *f)
{
    if (!*s || f->redacted || f->secret_len == 0 || !memmem(*s, strlen(*s), f->secret, f->secret_len))
        return;
    char red[128];
    rmg_redact(f->secret, f->secret_len, red, sizeof red);
    struct rmg_buf b = {0};
    const char *p = *s, *hit;
    while ((hit = memmem(p, strlen(p), f->secret, f->secret_len))) {
        rmg_buf_append(&b, p, (size_t)(hit - p));
        rmg_buf_puts(&b, red);
        p = hit + f->secret_len;
    }
    rmg_buf_puts(&b, p);
    if (b.data) {
        free(*s);
        *s = b.data;
    }
}
