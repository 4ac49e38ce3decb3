/* walk.c: build contexts (see walk.h).
 *
 * DESIGN. The context is walked as `docker build` sends it: the .dockerignore that BuildKit
 * would pick (Dockerfile.dockerignore first) decides what is left out, with Docker's matcher
 * (src/context/ignore_match.c); excluded directories are not entered unless an exception
 * could bring something back. Files are scanned by the worker pool like any directory. Then
 * each finding is tied to the Dockerfile (src/context/dockerfile.h): the COPY/ADD instructions
 * whose sources match
 * its path (a source matches the file or one of its parent directories, as BuildKit copies
 * directories whole), the stage each is in and whether that stage ends up in the final image
 * (the final stage and the stages it is built FROM; a stage the final one only copies from
 * with COPY --from counts as a build stage, with a lower severity and an explanation). A
 * finding in the Dockerfile itself is tied to the instruction holding it. The Dockerfile
 * checks add findings of their own rules (static, listed by `rules list`).
 */
#define _GNU_SOURCE
#include "context/walk.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "context/dockerfile.h"
#include "context/dockerignore.h"
#include "engine/pool.h"
#include "source/file.h"
#include "common/util.h"
#include "engine/validate.h"

#define MAX_DOCKERFILE (10u << 20)

/* ---- the check rules ------------------------------------------------------------------ */

#define CHECK(ID, TITLE, SEV, REMEDY)                                                       \
    {.id = (char *)(ID), .title = (char *)(TITLE), .remedy = (char *)(REMEDY),             \
     .regex = (char *)"", .origin = (char *)"builtin:dockerfile checks", .severity = (SEV), \
     .confidence = RMG_CONF_PATTERN}

enum {
    CK_ROOT,
    CK_ARG,
    CK_ENV,
    CK_LABEL,
    CK_ADD_URL,
    CK_COPY_ALL,
    CK_NO_IGNORE,
    CK_REMOVED_LATER,
    CK_COUNT
};

static const struct rmg_rule checks[CK_COUNT] = {
    [CK_ROOT] = CHECK("dockerfile-runs-as-root",
                      "The image runs as root (no USER, or USER root last in the final stage)",
                      RMG_SEV_LOW,
                      "Create an unprivileged user and end the final stage with USER "
                      "(e.g. USER 10001:10001), so a compromised process is not root."),
    [CK_ARG] = CHECK("dockerfile-arg-secret", "Secret-looking ARG with a default value",
                     RMG_SEV_HIGH,
                     "Build arguments are recorded in the image history (docker history shows "
                     "them). Pass secrets with RUN --mount=type=secret,id=NAME and "
                     "docker build --secret with id=NAME,src=FILE instead of ARG."),
    [CK_ENV] = CHECK("dockerfile-env-secret", "Secret-looking ENV with a literal value",
                     RMG_SEV_HIGH,
                     "ENV is part of the image config, readable by anyone who can pull the "
                     "image. Provide it at run time (docker run -e, an orchestrator secret) "
                     "and use RUN --mount=type=secret for build steps."),
    [CK_LABEL] = CHECK("dockerfile-label-secret", "Secret-looking LABEL value", RMG_SEV_MEDIUM,
                       "Labels are public image metadata: never put credentials in them."),
    [CK_ADD_URL] = CHECK("dockerfile-add-url-credentials", "ADD of a URL with credentials in it",
                         RMG_SEV_HIGH,
                         "The URL, credentials included, stays in the image history. Fetch it "
                         "in a RUN step with the credentials from RUN --mount=type=secret."),
    [CK_COPY_ALL] = CHECK("dockerfile-copy-context-secrets",
                          "COPY/ADD of the whole context, and the context holds secrets",
                          RMG_SEV_HIGH,
                          "Copy only what the image needs (COPY src/ /app/src/) and list "
                          "secret files in .dockerignore."),
    [CK_NO_IGNORE] = CHECK("dockerfile-no-dockerignore",
                           "COPY/ADD of the whole context with no .dockerignore", RMG_SEV_LOW,
                           "Add a .dockerignore that leaves out .git, .env*, keys and "
                           "credentials, and copy only what the image needs."),
    [CK_REMOVED_LATER] = CHECK("dockerfile-secret-removed-later",
                               "A secret file is added in one step and removed in a later one",
                               RMG_SEV_HIGH,
                               "Every step is a layer: the file stays in the layer that added "
                               "it, and the image ships that layer. Use RUN "
                               "--mount=type=secret, or do it in a build stage of a multi-stage "
                               "build, so it never enters a layer of the final image."),
};

size_t rmg_context_check_count(void)
{
    return CK_COUNT;
}

const struct rmg_rule *rmg_context_check_rule(size_t i)
{
    return i < CK_COUNT ? &checks[i] : NULL;
}

/* ---- the run -------------------------------------------------------------------------- */

/* A COPY/ADD source taken from the context. */
struct source {
    size_t instr;          /* index in df->instrs */
    char *pattern;         /* cleaned, relative; "" = the whole context */
    struct rmg_ignore *ig; /* the pattern as a matcher (NULL for the whole context) */
};

struct run {
    const struct rmg_scan_ctx *ctx;
    const struct rmg_context_opts *o;
    struct rmg_results *out;
    const char *target;       /* the context as given */
    char *df_path;            /* the Dockerfile, as given (or DIR/Dockerfile) */
    char *df_rel;             /* its path in the context, or NULL if outside */
    const char *df_name;      /* how reports name it: df_rel, else df_path */
    struct rmg_dockerfile *df;
    struct rmg_ignore *ig;
    char ig_path[PATH_MAX];   /* the ignore file in use, "" if none */
    char *ig_name;            /* how reports name it (relative to the context if inside) */
    bool *final_stage;        /* per stage: part of the final image */
    struct source *sources;
    size_t n_sources;
    size_t first;             /* this context's first finding in out */
    enum rmg_status worst;
};

static void run_error(struct run *r, enum rmg_status st, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void run_error(struct run *r, enum rmg_status st, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(r->out, st, r->target, path, fmt, ap);
    va_end(ap);
    if (st > r->worst)
        r->worst = st;
}

static bool walk_keep(void *ud, const char *rel, bool is_dir)
{
    struct run *r = ud;
    if (!r->ig || r->o->show_ignored)
        return true;
    if (!rmg_ignore_excluded(r->ig, rel, NULL))
        return true;
    return is_dir && rmg_ignore_may_reinclude(r->ig, rel);
}

/* The stages whose filesystem ends up in the final image: the final stage and the stages it
 * is built FROM, transitively. */
static bool mark_final_stages(struct run *r)
{
    size_t n = r->df->n_stages;
    r->final_stage = calloc(n ? n : 1, sizeof *r->final_stage);
    if (!r->final_stage)
        return false;
    int s = rmg_dockerfile_final_stage(r->df);
    for (size_t hops = 0; s >= 0 && (size_t)s < n && hops <= n; hops++) {
        r->final_stage[s] = true;
        s = r->df->stages[s].base_stage;
    }
    return true;
}

static bool is_copy(const struct rmg_df_instr *in)
{
    return in->kind == RMG_DF_COPY || in->kind == RMG_DF_ADD;
}

static const char *flag_value(const struct rmg_df_instr *in, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < in->n_flags; i++)
        if (strncmp(in->flags[i], name, n) == 0 && in->flags[i][n] == '=')
            return in->flags[i] + n + 1;
    return NULL;
}

static bool is_remote(const char *src)
{
    return strstr(src, "://") || strncmp(src, "git@", 4) == 0;
}

/* COPY/ADD sources that come from the context (no --from, no heredoc, no URL). */
static bool collect_sources(struct run *r)
{
    for (size_t i = 0; i < r->df->n_instrs; i++) {
        const struct rmg_df_instr *in = &r->df->instrs[i];
        if (!is_copy(in) || flag_value(in, "--from") || in->n_args < 2)
            continue;
        for (size_t a = 0; a + 1 < in->n_args; a++) {
            const char *src = in->args[a];
            if (is_remote(src) || strncmp(src, "<<", 2) == 0 || src[0] == '!' || src[0] == '#')
                continue;
            char clean[PATH_MAX];
            if (!rmg_layer_clean_path(src, clean, sizeof clean))
                continue;
            struct source *v = realloc(r->sources, (r->n_sources + 1) * sizeof *v);
            if (!v)
                return false;
            r->sources = v;
            struct source *s = &v[r->n_sources];
            s->instr = i;
            s->ig = NULL;
            s->pattern = rmg_strdup(clean + 1); /* "" when the source is the whole context */
            if (!s->pattern)
                return false;
            char err[256];
            if (s->pattern[0] &&
                rmg_ignore_parse(s->pattern, strlen(s->pattern), "COPY", &s->ig, err,
                                 sizeof err) != RMG_OK) {
                free(s->pattern);
                continue; /* not a pattern Docker would accept either */
            }
            r->n_sources++;
        }
    }
    return true;
}

static void free_sources(struct run *r)
{
    for (size_t i = 0; i < r->n_sources; i++) {
        free(r->sources[i].pattern);
        rmg_ignore_free(r->sources[i].ig);
    }
    free(r->sources);
}

/* Where path lands when source s copies it: the destination joined with the part of the path
 * below the directory the source named (or the file's name, for a directory destination). */
static char *dest_of(const struct run *r, const struct source *s, const char *path)
{
    const struct rmg_df_instr *in = &r->df->instrs[s->instr];
    const char *dest = in->args[in->n_args - 1];
    struct rmg_buf d = {0};
    if (dest[0] != '/')
        rmg_buf_printf(&d, "%s%s", in->workdir ? in->workdir : "/",
                       in->workdir && in->workdir[strlen(in->workdir) - 1] == '/' ? "" : "/");
    rmg_buf_puts(&d, dest);
    /* The shortest prefix of path the source matches: the directory (or file) it named. */
    size_t below = 0;
    if (s->ig) {
        for (size_t i = 0;; i++) {
            if (path[i] == '/' || path[i] == '\0') {
                char *pre = rmg_strndup(path, i);
                bool hit = pre && rmg_ignore_excluded(s->ig, pre, NULL);
                free(pre);
                if (hit) {
                    below = path[i] ? i + 1 : i;
                    break;
                }
            }
            if (!path[i])
                break;
        }
    }
    bool named_file = s->ig && path[below] == '\0';
    size_t dl = strlen(dest);
    bool dest_dir = dest[dl - 1] == '/' || in->n_args > 2 || strcmp(dest, ".") == 0 ||
                    strcmp(dest, "..") == 0 || (dl >= 2 && strcmp(dest + dl - 2, "/.") == 0);
    if (named_file && dest_dir) {
        const char *base = strrchr(path, '/');
        rmg_buf_printf(&d, "%s%s", dest[strlen(dest) - 1] == '/' ? "" : "/",
                       base ? base + 1 : path);
    } else if (!named_file) {
        rmg_buf_printf(&d, "%s%s", dest[strlen(dest) - 1] == '/' ? "" : "/", path + below);
    }
    char clean[PATH_MAX];
    char *res = d.data && rmg_layer_clean_path(d.data, clean, sizeof clean) ? rmg_strdup(clean)
                                                                           : NULL;
    rmg_buf_free(&d);
    return res;
}

static void fill_copy(const struct run *r, size_t instr, struct rmg_copy *c)
{
    const struct rmg_df_instr *in = &r->df->instrs[instr];
    c->dockerfile = (char *)r->df_name;
    c->line = in->line;
    c->instruction = in->text;
    bool staged = in->stage >= 0 && (size_t)in->stage < r->df->n_stages;
    c->stage_index = in->stage;
    c->stage = staged ? r->df->stages[in->stage].name : NULL;
    c->final = staged && r->final_stage[in->stage];
    c->dest = NULL;
}

static const char *stage_desc(const struct run *r, int stage, char *buf, size_t cap)
{
    if (stage < 0)
        return rmg_fmt(buf, cap, "before the first stage");
    if (r->df->stages[stage].name)
        return rmg_fmt(buf, cap, "build stage '%s'", r->df->stages[stage].name);
    return rmg_fmt(buf, cap, "build stage %d", stage);
}

static void set_note(struct rmg_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_note(struct rmg_finding *f, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(f->note);
    f->note = rmg_strdup(buf);
}

static enum rmg_severity lower(enum rmg_severity s)
{
    return s > RMG_SEV_LOW ? s - 1 : s;
}

/* A finding in a context file: which COPY/ADD would take it where. */
static void attribute_file(struct run *r, struct rmg_finding *f)
{
    const char *path = f->loc.path;
    bool any_final = false;
    size_t first = SIZE_MAX, first_final = SIZE_MAX;
    for (size_t i = 0; i < r->n_sources; i++) {
        const struct source *s = &r->sources[i];
        if (s->ig && !rmg_ignore_excluded(s->ig, path, NULL))
            continue;
        /* One entry per instruction, even when several of its sources match. */
        bool seen = false;
        for (size_t k = 0; k < f->n_copies; k++)
            seen = seen || (f->copies[k].line == r->df->instrs[s->instr].line);
        if (seen)
            continue;
        struct rmg_copy c;
        fill_copy(r, s->instr, &c);
        char *dest = dest_of(r, s, path);
        c.dest = dest;
        if (!rmg_finding_add_copy(f, &c))
            r->worst = RMG_ENOMEM;
        free(dest);
        if (first == SIZE_MAX)
            first = s->instr;
        if (c.final && first_final == SIZE_MAX)
            first_final = s->instr;
        any_final = any_final || c.final;
    }
    char sd[128];
    if (first == SIZE_MAX) {
        set_note(f, "not copied by %s; it is still sent to the builder with the context",
                 r->df ? "this Dockerfile" : "any Dockerfile (none found)");
        return;
    }
    const struct rmg_df_instr *in = &r->df->instrs[any_final ? first_final : first];
    if (any_final) {
        set_note(f, "copied into the final image by %s (%s:%u)", in->text, r->df_name, in->line);
        return;
    }
    f->severity = lower(f->severity);
    set_note(f, "copied only into %s by %s (%s:%u); the final image does not contain it, "
             "but that stage's layers and the build cache do",
             stage_desc(r, in->stage, sd, sizeof sd), in->text, r->df_name, in->line);
}

/* A finding in the Dockerfile itself: the instruction it is in says what it does. */
static void attribute_dockerfile(struct run *r, struct rmg_finding *f)
{
    const struct rmg_df_instr *in = NULL;
    for (size_t i = 0; r->df && i < r->df->n_instrs; i++)
        if (f->loc.line >= r->df->instrs[i].line && f->loc.line <= r->df->instrs[i].end_line)
            in = &r->df->instrs[i];
    if (!in) {
        set_note(f, "in the Dockerfile, outside any instruction: not in the image, but anyone "
                 "who can read the repository can read it");
        return;
    }
    struct rmg_copy c;
    fill_copy(r, (size_t)(in - r->df->instrs), &c);
    if (!rmg_finding_add_copy(f, &c))
        r->worst = RMG_ENOMEM;
    char sd[128];
    stage_desc(r, in->stage, sd, sizeof sd);
    bool fin = c.final;
    switch (in->kind) {
    case RMG_DF_ENV:
        set_note(f, "in ENV (%s:%u): %s", r->df_name, in->line,
                 fin ? "the final image carries it in its config, readable by anyone who pulls it"
                     : "set in a build stage; images built from that stage carry it");
        break;
    case RMG_DF_ARG:
        set_note(f, "in an ARG default (%s:%u): build arguments are recorded in the history of "
                 "the image; use RUN --mount=type=secret", r->df_name, in->line);
        break;
    case RMG_DF_LABEL:
        set_note(f, "in a LABEL (%s:%u): public image metadata", r->df_name, in->line);
        break;
    case RMG_DF_RUN:
        set_note(f, "on a RUN command line (%s:%u): the command, secret included, is recorded "
                 "in the image history (docker history shows it)", r->df_name, in->line);
        break;
    default:
        set_note(f, "in %s (%s:%u), %s", in->keyword, r->df_name, in->line,
                 fin ? "a step of the final image" : sd);
        break;
    }
    if (!fin && in->kind != RMG_DF_FROM)
        f->severity = lower(f->severity);
}

/* ---- the Dockerfile checks ------------------------------------------------------------ */

static bool secret_name(const char *name)
{
    static const char *const words[] = {"pass", "pwd", "secret", "token", "apikey", "api_key",
                                        "access_key", "accesskey", "private_key", "privatekey",
                                        "credential", "_auth", "auth_", "authorization"};
    char low[256];
    size_t n = strlen(name);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

/* A value written in the Dockerfile, not taken from elsewhere ($VAR) and not a placeholder. */
static bool literal_value(const char *v)
{
    size_t n = strlen(v);
    return n >= 4 && v[0] != '$' && !rmg_validate_is_placeholder(v, n);
}

static void add_check(struct run *r, int id, const struct rmg_df_instr *in, const char *secret,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_check(struct run *r, int id, const struct rmg_df_instr *in, const char *secret,
                      const char *fmt, ...)
{
    struct rmg_finding f = {0};
    f.rule = &checks[id];
    f.severity = checks[id].severity;
    f.confidence = RMG_CONF_PATTERN;
    f.state = RMG_STATE_CONTEXT;
    f.changed_layer = -1;
    f.secret = rmg_strdup(secret ? secret : "");
    f.secret_len = secret ? strlen(secret) : 0;
    f.loc.target = rmg_strdup(r->target);
    f.loc.path = rmg_strdup(r->df_name);
    f.loc.line = in->line;
    f.loc.column = 1;
    f.loc.layer_index = -1;
    /* Stable across runs: the rule and the instruction, or the secret when there is one. */
    struct rmg_buf fp = {0};
    rmg_buf_printf(&fp, "%s%c%s", f.rule->id, 0, secret ? secret : in->text);
    rmg_sha256_hex(fp.data ? fp.data : "", fp.len, f.fingerprint);
    rmg_buf_free(&fp);
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    f.note = rmg_strdup(buf);
    struct rmg_copy c;
    fill_copy(r, (size_t)(in - r->df->instrs), &c);
    if (!c.final && id != CK_ROOT)
        f.severity = lower(f.severity);
    if (!f.secret || !f.loc.target || !f.loc.path || !f.note || !rmg_finding_add_copy(&f, &c) ||
        rmg_results_add_finding(r->out, &f) != RMG_OK) {
        rmg_finding_free(&f);
        r->worst = RMG_ENOMEM;
    }
}

/* Lines of the Dockerfile where a rule already found something (checks do not repeat it). */
static bool line_has_finding(const struct run *r, unsigned from, unsigned to)
{
    const char *p = r->df_name;
    for (size_t i = r->first; i < r->out->n_findings; i++) {
        const struct rmg_finding *f = &r->out->findings[i];
        bool is_check = f->rule >= checks && f->rule < checks + CK_COUNT;
        if (!is_check && f->loc.path && strcmp(f->loc.path, p) == 0 && f->loc.line >= from &&
            f->loc.line <= to)
            return true;
    }
    return false;
}

static void check_kvs(struct run *r, const struct rmg_df_instr *in)
{
    int id = in->kind == RMG_DF_ARG ? CK_ARG : in->kind == RMG_DF_ENV ? CK_ENV : CK_LABEL;
    for (size_t k = 0; k < in->n_kvs; k++) {
        const struct rmg_df_kv *kv = &in->kvs[k];
        if (!kv->has_value || !kv->value || !secret_name(kv->key) || !literal_value(kv->value))
            continue;
        if (line_has_finding(r, in->line, in->end_line))
            continue;
        add_check(r, id, in, kv->value, "%s %s has a literal value in the Dockerfile (line %u)",
                  in->keyword, kv->key, in->line);
    }
}

/* ADD https://user:pass@host/... */
static void check_add_url(struct run *r, const struct rmg_df_instr *in)
{
    for (size_t a = 0; a + 1 < in->n_args; a++) {
        const char *u = in->args[a];
        const char *s = strstr(u, "://");
        if (!s)
            continue;
        const char *host_end = s + 3 + strcspn(s + 3, "/?#");
        const char *at = memchr(s + 3, '@', (size_t)(host_end - s - 3));
        if (!at)
            continue;
        char *cred = rmg_strndup(s + 3, (size_t)(at - s - 3));
        const char *colon = cred ? strchr(cred, ':') : NULL;
        if (colon && literal_value(colon + 1))
            add_check(r, CK_ADD_URL, in, colon + 1, "ADD downloads a URL with a password in it");
        free(cred);
    }
}

/* The final stage runs as root when its last USER (or that of the stages it is built on) is
 * root or 0, or there is none. */
static void check_root(struct run *r)
{
    int fin = rmg_dockerfile_final_stage(r->df);
    if (fin < 0)
        return;
    const struct rmg_df_instr *last_user = NULL, *from = NULL;
    for (size_t i = 0; i < r->df->n_instrs; i++) {
        const struct rmg_df_instr *in = &r->df->instrs[i];
        if (in->stage < 0 || !r->final_stage[in->stage])
            continue;
        if (in->kind == RMG_DF_USER && in->n_args)
            last_user = in;
        if (in->kind == RMG_DF_FROM && in->stage == fin)
            from = in;
    }
    if (!last_user) {
        if (from)
            add_check(r, CK_ROOT, from, NULL,
                      "no USER in the final stage: the container runs as root (unless the "
                      "base image sets a user)");
        return;
    }
    const char *u = last_user->args[0];
    size_t n = strcspn(u, ":");
    if ((n == 4 && strncmp(u, "root", 4) == 0) || (n == 1 && u[0] == '0'))
        add_check(r, CK_ROOT, last_user, NULL, "the final stage ends with %s: the container "
                  "runs as root", last_user->text);
}

/* COPY . / ADD . of a context holding secrets (or with no .dockerignore at all). */
static void check_copy_all(struct run *r, size_t n_file_findings)
{
    for (size_t i = 0; i < r->n_sources; i++) {
        const struct source *s = &r->sources[i];
        if (s->pattern[0])
            continue;
        const struct rmg_df_instr *in = &r->df->instrs[s->instr];
        size_t copied = 0;
        for (size_t k = r->first; k < n_file_findings; k++) {
            const struct rmg_finding *f = &r->out->findings[k];
            for (size_t c = 0; c < f->n_copies && !f->ignored; c++)
                copied += f->copies[c].line == in->line;
        }
        if (copied)
            add_check(r, CK_COPY_ALL, in, NULL,
                      "%s copies the whole context, and %zu finding%s with it", in->text,
                      copied, copied == 1 ? " goes" : "s go");
        else if (!r->ig_path[0])
            add_check(r, CK_NO_IGNORE, in, NULL,
                      "%s copies the whole context and there is no .dockerignore", in->text);
    }
}

static bool secret_file_name(const char *path)
{
    static const char *const words[] = {".env", "npmrc", "pypirc", "netrc", "secret", "token",
                                        "credential", "password", "id_rsa", "id_ed25519",
                                        "id_ecdsa", ".pem", ".key", ".p12", ".pfx",
                                        "kubeconfig", "auth.json", ".git-credentials"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasestr(base, words[i]))
            return true;
    return false;
}

/* Paths a RUN command writes (`> f`, `>> f`, `tee f`, `-o f`, `-O f`) or removes (`rm f`):
 * a heuristic over the shell words, good for the common one-liners. */
static void run_paths(const char *cmd, bool removes, char ***out, size_t *n)
{
    char *copy = rmg_strdup(cmd);
    if (!copy)
        return;
    bool in_rm = false, next_is_target = false;
    for (char *save = NULL, *w = strtok_r(copy, " \t\n;&|", &save); w;
         w = strtok_r(NULL, " \t\n;&|", &save)) {
        bool take = false;
        const char *t = w;
        if (removes) {
            if (strcmp(w, "rm") == 0) {
                in_rm = true;
                continue;
            }
            if (in_rm && w[0] == '-')
                continue;
            take = in_rm;
        } else {
            if (next_is_target) {
                take = true;
                next_is_target = false;
            } else if (strcmp(w, ">") == 0 || strcmp(w, ">>") == 0 || strcmp(w, "tee") == 0 ||
                       strcmp(w, "-o") == 0 || strcmp(w, "-O") == 0) {
                next_is_target = true;
                continue;
            } else if (w[0] == '>') {
                t = w + (w[1] == '>' ? 2 : 1);
                take = *t != '\0';
            }
        }
        if (!take)
            continue;
        size_t len = strlen(t);
        while (len && (t[len - 1] == '"' || t[len - 1] == '\''))
            len--;
        while (len && (*t == '"' || *t == '\'')) {
            t++;
            len--;
        }
        if (!len)
            continue;
        char **v = realloc(*out, (*n + 1) * sizeof *v);
        if (!v)
            break;
        *out = v;
        if ((v[*n] = rmg_strndup(t, len)))
            (*n)++;
    }
    free(copy);
}

static bool same_file(const char *a, const char *b, const char *wd)
{
    /* Compare absolute forms when both can be made absolute; else the base names. */
    char x[PATH_MAX], y[PATH_MAX];
    struct rmg_buf pa = {0}, pb = {0};
    rmg_buf_printf(&pa, "%s%s%s", a[0] == '/' ? "" : wd, a[0] == '/' ? "" : "/", a);
    rmg_buf_printf(&pb, "%s%s%s", b[0] == '/' ? "" : wd, b[0] == '/' ? "" : "/", b);
    bool eq = pa.data && pb.data && rmg_layer_clean_path(pa.data, x, sizeof x) &&
              rmg_layer_clean_path(pb.data, y, sizeof y) && strcmp(x, y) == 0;
    rmg_buf_free(&pa);
    rmg_buf_free(&pb);
    return eq;
}

/* A secret file added by one step (COPY/ADD, or written by a RUN) and removed by a later RUN
 * of the same stage. */
static void check_removed_later(struct run *r)
{
    for (size_t i = 0; i < r->df->n_instrs; i++) {
        const struct rmg_df_instr *in = &r->df->instrs[i];
        char **added = NULL;
        size_t n_added = 0;
        if (is_copy(in) && in->n_args >= 2) {
            for (size_t a = 0; a + 1 < in->n_args; a++) {
                const char *src = in->args[a];
                const char *base = strrchr(src, '/');
                base = base ? base + 1 : src;
                if (!secret_file_name(src))
                    continue;
                const char *dest = in->args[in->n_args - 1];
                struct rmg_buf d = {0};
                if (dest[strlen(dest) - 1] == '/' || in->n_args > 2)
                    rmg_buf_printf(&d, "%s%s%s", dest, dest[strlen(dest) - 1] == '/' ? "" : "/",
                                   base);
                else
                    rmg_buf_puts(&d, dest);
                char **v = d.data ? realloc(added, (n_added + 1) * sizeof *v) : NULL;
                if (!v) {
                    rmg_buf_free(&d);
                    continue;
                }
                added = v;
                added[n_added++] = d.data;
            }
        } else if (in->kind == RMG_DF_RUN && in->n_args && !in->json_form) {
            char **w = NULL;
            size_t nw = 0;
            run_paths(in->args[0], false, &w, &nw);
            for (size_t k = 0; k < nw; k++) {
                if (secret_file_name(w[k])) {
                    char **v = realloc(added, (n_added + 1) * sizeof *v);
                    if (v) {
                        added = v;
                        added[n_added++] = w[k];
                        w[k] = NULL;
                    }
                }
                free(w[k]);
            }
            free(w);
        }
        for (size_t k = 0; k < n_added; k++) {
            bool reported = false;
            for (size_t j = i + 1; j < r->df->n_instrs && !reported; j++) {
                const struct rmg_df_instr *later = &r->df->instrs[j];
                if (later->stage != in->stage)
                    break;
                if (later->kind != RMG_DF_RUN || !later->n_args || later->json_form)
                    continue;
                char **rm = NULL;
                size_t n_rm = 0;
                run_paths(later->args[0], true, &rm, &n_rm);
                for (size_t m = 0; m < n_rm && !reported; m++) {
                    if (same_file(added[k], rm[m], in->workdir ? in->workdir : "/") &&
                        same_file(added[k], rm[m], later->workdir ? later->workdir : "/")) {
                        add_check(r, CK_REMOVED_LATER, in, NULL,
                                  "%s is added at line %u and removed by a later RUN (line %u): "
                                  "it stays in the layer of line %u", added[k], in->line,
                                  later->line, in->line);
                        reported = true;
                    }
                }
                rmg_strv_free(rm, n_rm);
            }
        }
        rmg_strv_free(added, n_added);
    }
}

static void run_checks(struct run *r, size_t n_file_findings)
{
    for (size_t i = 0; i < r->df->n_instrs; i++) {
        const struct rmg_df_instr *in = &r->df->instrs[i];
        if (in->kind == RMG_DF_ARG || in->kind == RMG_DF_ENV || in->kind == RMG_DF_LABEL)
            check_kvs(r, in);
        else if (in->kind == RMG_DF_ADD)
            check_add_url(r, in);
    }
    check_root(r);
    check_copy_all(r, n_file_findings);
    check_removed_later(r);
}

/* ---- no secret in what is copied from the Dockerfile --------------------------------- */

/* Instructions are quoted in notes and `dockerfile` entries: a secret found in the Dockerfile
 * must not come back through them. Every secret of this context is redacted in every copy. */
static void redact_quotes(struct run *r)
{
    for (size_t i = r->first; i < r->out->n_findings; i++) {
        struct rmg_finding *f = &r->out->findings[i];
        for (size_t j = r->first; j < r->out->n_findings; j++) {
            const struct rmg_finding *g = &r->out->findings[j];
            rmg_redact_in(&f->note, g);
            for (size_t c = 0; c < f->n_copies; c++)
                rmg_redact_in(&f->copies[c].instruction, g);
        }
    }
}

/* ---- entry point ---------------------------------------------------------------------- */

static char *relative_to(const char *dir, const char *file)
{
    char rd[PATH_MAX], rf[PATH_MAX];
    if (!realpath(dir, rd) || !realpath(file, rf))
        return NULL;
    size_t n = strlen(rd);
    if (strncmp(rf, rd, n) != 0 || (rf[n] != '/' && strcmp(rd, "/") != 0))
        return NULL;
    return rmg_strdup(rf + n + (rf[n] == '/'));
}

static void load_dockerfile(struct run *r, bool explicit)
{
    char *text = NULL, err[512];
    size_t len = 0;
    struct stat st;
    bool missing = stat(r->df_path, &st) != 0 && errno == ENOENT;
    if (!rmg_read_file(r->df_path, MAX_DOCKERFILE, &text, &len, err, sizeof err)) {
        if (explicit || !missing)
            run_error(r, RMG_EINPUT, r->df_path, "%s", err);
        else
            run_error(r, RMG_WARN, r->df_path, "no Dockerfile: the context is scanned, but "
                      "what a build would copy is unknown (name one with -f)");
        return;
    }
    enum rmg_status ps = rmg_dockerfile_parse(text, len, r->df_path, r->o->build_args,
                                              r->o->n_build_args, &r->df, err, sizeof err);
    if (ps > RMG_WARN) { /* RMG_WARN: parsed, with warnings (below) */
        run_error(r, ps, r->df_path, "%s", err);
        rmg_dockerfile_free(r->df);
        r->df = NULL;
    }
    free(text);
    for (size_t i = 0; r->df && i < r->df->n_warnings; i++) {
        char where[64];
        rmg_fmt(where, sizeof where, "line %u", r->df->warnings[i].line);
        run_error(r, RMG_WARN, r->df_path, "%s: %s", where, r->df->warnings[i].message);
    }
}

static void load_ignore(struct run *r)
{
    if (!rmg_ignore_find(r->o->dir, r->df_path, r->ig_path, sizeof r->ig_path)) {
        r->ig_path[0] = '\0';
        return;
    }
    char *text = NULL, err[512];
    size_t len = 0;
    if (!rmg_read_file(r->ig_path, MAX_DOCKERFILE, &text, &len, err, sizeof err) ||
        rmg_ignore_parse(text, len, r->ig_path, &r->ig, err, sizeof err) != RMG_OK) {
        run_error(r, RMG_EINPUT, r->ig_path, "%s", err);
        r->ig = NULL;
    }
    free(text);
}

enum rmg_status rmg_context_scan(const struct rmg_scan_ctx *ctx, const struct rmg_context_opts *o,
                                 struct rmg_results *out)
{
    struct run r = {.ctx = ctx, .o = o, .out = out, .target = o->dir};
    struct stat st;
    if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rmg_results_add_error(out, RMG_EINPUT, o->dir, NULL, "%s",
                              stat(o->dir, &st) != 0 ? strerror(errno)
                                                     : "not a directory (a build context is one)");
        return RMG_EINPUT;
    }
    struct rmg_buf dfp = {0};
    if (o->dockerfile)
        rmg_buf_puts(&dfp, o->dockerfile);
    else
        rmg_buf_printf(&dfp, "%s%sDockerfile", o->dir,
                       o->dir[strlen(o->dir) - 1] == '/' ? "" : "/");
    r.df_path = dfp.data;
    if (!r.df_path)
        return RMG_ENOMEM;
    r.df_rel = relative_to(o->dir, r.df_path);
    r.df_name = r.df_rel ? r.df_rel : r.df_path;
    load_dockerfile(&r, o->dockerfile != NULL);
    load_ignore(&r);
    if (r.ig_path[0])
        r.ig_name = relative_to(o->dir, r.ig_path);
    if (r.df && (!mark_final_stages(&r) || !collect_sources(&r)))
        r.worst = RMG_ENOMEM;

    /* The context's files, as the builder would get them. */
    size_t first = r.first = out->n_findings;
    struct rmg_pool *pool = rmg_pool_new(ctx->rules, &ctx->opts, ctx->jobs);
    if (!pool) {
        r.worst = RMG_ENOMEM;
    } else {
        enum rmg_status s1 = rmg_source_dir_walk_filtered(o->dir, o->dir, pool, walk_keep, &r, out);
        enum rmg_status s2 = rmg_pool_finish(pool, out);
        r.worst = s1 > r.worst ? s1 : r.worst;
        r.worst = s2 > r.worst ? s2 : r.worst;
    }
    /* A Dockerfile outside the context is part of the build too. */
    if (r.df && !r.df_rel) {
        struct rmg_scanner *sc = rmg_scanner_new(ctx->rules, &ctx->opts);
        struct rmg_location loc = {.target = (char *)o->dir, .path = r.df_path, .layer_index = -1};
        if (sc)
            rmg_source_scan_path(sc, r.df_path, true, &loc, out);
        rmg_scanner_free(sc);
    }
    for (size_t i = first; i < out->n_findings; i++) {
        struct rmg_finding *f = &out->findings[i];
        f->state = RMG_STATE_CONTEXT;
        unsigned line = 0;
        bool in_df = r.df && ((r.df_rel && strcmp(f->loc.path, r.df_rel) == 0) ||
                              (!r.df_rel && strcmp(f->loc.path, r.df_path) == 0));
        if (r.ig && rmg_ignore_excluded(r.ig, f->loc.path, &line) && !in_df) {
            f->ignored = true;
            set_note(f, "kept out of the build by %s (line %u): good",
                     r.ig_name ? r.ig_name : r.ig_path, line);
        } else if (in_df) {
            attribute_dockerfile(&r, f);
        } else if (r.df) {
            attribute_file(&r, f);
        } else {
            set_note(f, "in the build context (no Dockerfile to tell what is copied)");
        }
    }
    size_t n_file_findings = out->n_findings;
    if (r.df)
        run_checks(&r, n_file_findings);
    redact_quotes(&r);
    free_sources(&r);
    free(r.final_stage);
    rmg_ignore_free(r.ig);
    rmg_dockerfile_free(r.df);
    free(r.df_rel);
    free(r.ig_name);
    rmg_buf_free(&dfp);
    return r.worst;
}
