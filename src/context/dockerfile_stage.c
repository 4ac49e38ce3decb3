/* dockerfile_stage.c: build stages (see dockerfile_stage.h): FROM, WORKDIR, and the
 * COPY --from references checked once every stage is known.
 *
 * DESIGN. As dockerfile2llb: FROM expands its image against the global ARGs; a stage built
 * FROM an earlier one (the latest stage of that name) starts with a copy of that stage's
 * variables, charged to the expansion budget, and its WORKDIR; every other stage starts empty
 * at "/". A relative WORKDIR is joined to the current one and cleaned like Go's path.Clean. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile_stage.h"

#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_lex.h"
#include "context/dockerfile_text.h"
#include "common/util.h"

/* `^[a-z][a-z0-9-_\.]*$` */
static bool valid_stage_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("-_.", *s)))
            return false;
    return true;
}

void rmg_df_do_from(struct rmg_df_parser *p, struct rmg_df_instr *in, struct rmg_df_strv *words)
{
    struct rmg_dockerfile *df = p->df;
    bool named = words->n == 3 && rmg_df_eq_fold(words->v[1], strlen(words->v[1]), "as");
    if (words->n != 1 && !named)
        rmg_df_warn(p, in->line, "FROM requires either one or three arguments");
    const char *raw = words->n ? words->v[0] : "";
    char *base = rmg_df_expand(p, in->line, raw, strlen(raw), &p->global, false);
    /* a name of NUL bytes only is empty as a C string: no name then */
    named = named && words->v[2][0];
    char *name = named ? rmg_df_ascii_case(words->v[2], strlen(words->v[2]), false) : NULL;
    char *lbase = base ? rmg_df_ascii_case(base, strlen(base), false) : NULL;
    if (!base || !lbase || (named && !name) ||
        !rmg_grow(&df->stages, &p->cap_stages, df->n_stages + 1, sizeof *df->stages) ||
        !rmg_grow(&p->states, &p->cap_states, df->n_stages + 1, sizeof *p->states)) {
        free(base);
        free(name);
        free(lbase);
        p->oom = true;
        return;
    }
    if (words->n && !base[0])
        rmg_df_warn(p, in->line, "base name (%.*s) should not be blank",
                    rmg_df_clipn(strlen(raw)), raw);
    if (name && !valid_stage_name(name))
        rmg_df_warn(p, in->line, "invalid name for build stage: \"%.*s\", name can't start with a "
                                 "number or contain symbols", rmg_df_clipn(strlen(name)), name);
    if (name && strcmp(name, words->v[2]) != 0)
        rmg_df_warn(p, in->line, "StageNameCasing: Stage name '%.*s' should be lowercase",
                    rmg_df_clipn(strlen(words->v[2])), words->v[2]);
    int base_stage = -1; /* the latest earlier stage of that name */
    for (size_t i = df->n_stages; i-- > 0 && base_stage < 0;)
        if (df->stages[i].name && strcmp(df->stages[i].name, lbase) == 0)
            base_stage = (int)i;
    for (size_t i = 0; name && i < df->n_stages; i++)
        if (df->stages[i].name && strcmp(df->stages[i].name, name) == 0) {
            rmg_df_warn(p, in->line, "DuplicateStageName: Duplicate stage name \"%.*s\", stage "
                                     "names should be unique", rmg_df_clipn(strlen(name)), name);
            break;
        }
    free(lbase);
    size_t idx = df->n_stages;
    struct rmg_df_stage_state *st = &p->states[idx];
    *st = (struct rmg_df_stage_state){0};
    const char *wd = "/";
    if (base_stage >= 0) {
        const struct rmg_df_stage_state *bs = &p->states[base_stage];
        if (!rmg_df_charge(p, bs->scope.bytes))
            rmg_df_budget_warning(p, in->line);
        else if (!rmg_df_vmap_copy(&st->scope, &bs->scope))
            p->oom = true;
        wd = bs->workdir;
        st->abs_workdir = bs->abs_workdir;
    }
    st->workdir = rmg_strdup(wd);
    if (!st->workdir)
        p->oom = true;
    df->stages[idx] = (struct rmg_df_stage){name, base, base_stage, in->line};
    df->n_stages++;
    in->stage = (int)idx;
    /* args: the image expanded, then AS name as written */
    if (words->n) {
        free(words->v[0]);
        if (!(words->v[0] = rmg_strdup(base)))
            p->oom = true;
    }
}

/* Go's path.Clean of a rooted path. */
static char *clean_path(const char *s, size_t n)
{
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t w = 1, r = 0;
    out[0] = '/';
    while (r < n) {
        if (s[r] == '/') {
            r++;
        } else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
            r++;
        } else if (s[r] == '.' && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
            r += 2;
            if (w > 1)
                for (w--; w > 1 && out[w] != '/'; w--)
                    ;
        } else {
            if (w != 1)
                out[w++] = '/';
            for (; r < n && s[r] != '/'; r++)
                out[w++] = s[r];
        }
    }
    out[w] = '\0';
    return out;
}

static bool is_abs_path(const char *s)
{
    return s[0] == '/' || (((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':' &&
                           (s[2] == '\\' || s[2] == '/'));
}

void rmg_df_do_workdir(struct rmg_df_parser *p, struct rmg_df_instr *in)
{
    if (!p->df->n_stages || in->n_args != 1)
        return;
    struct rmg_df_stage_state *st = &p->states[p->df->n_stages - 1];
    const char *wd = in->args[0];
    char *nw;
    if (is_abs_path(wd)) {
        nw = rmg_strdup(wd);
        st->abs_workdir = true;
    } else {
        if (!st->abs_workdir)
            rmg_df_warn(p, in->line, "WorkdirRelativePath: Relative workdir \"%.*s\" can have "
                                     "unexpected results if the base image changes",
                        rmg_df_clipn(strlen(wd)), wd);
        struct rmg_buf j = {0};
        if (!rmg_buf_puts(&j, st->workdir) || !rmg_buf_puts(&j, "/") || !rmg_buf_puts(&j, wd)) {
            rmg_buf_free(&j);
            p->oom = true;
            return;
        }
        nw = clean_path(j.data, j.len);
        rmg_buf_free(&j);
    }
    if (!nw) {
        p->oom = true;
        return;
    }
    free(st->workdir);
    st->workdir = nw;
}

void rmg_df_check_references(struct rmg_df_parser *p)
{
    struct rmg_dockerfile *df = p->df;
    if (df->n_instrs == 0)
        rmg_df_warn(p, 0, "the Dockerfile cannot be empty");
    else if (df->n_stages == 0)
        rmg_df_warn(p, 0, "dockerfile contains no stages to build");
    for (size_t i = 0; i < df->n_instrs; i++) {
        const struct rmg_df_instr *in = &df->instrs[i];
        if (in->kind != RMG_DF_COPY || in->stage < 0)
            continue;
        for (size_t f = 0; f < in->n_flags; f++) {
            const char *v = in->flags[f];
            if (strncmp(v, "--from=", 7) != 0 || !v[7] || strchr(v, '$'))
                continue;
            v += 7;
            int ref = rmg_dockerfile_stage_ref(df, v);
            const char *d = v + (*v == '+' || *v == '-');
            bool numeric = *d && strspn(d, "0123456789") == strlen(d);
            if (numeric && ref < 0)
                rmg_df_warn(p, in->line, "invalid stage index %.*s", rmg_df_clipn(strlen(v)), v);
            else if (ref >= in->stage)
                rmg_df_warn(p, in->line, "cannot copy from stage \"%.*s\", it needs to be defined "
                                         "before current stage", rmg_df_clipn(strlen(v)), v);
        }
    }
}
