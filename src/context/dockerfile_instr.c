/* dockerfile_instr.c: one instruction from its logical line (see dockerfile_instr.h), and the
 * instruction keywords (rmg_df_kind_name, dockerfile.h).
 *
 * DESIGN. The line is split (splitCommand/extractBuilderFlags, dockerfile_split.c), its
 * arguments parsed as that instruction's line parser in line_parsers.go does (JSON array or
 * shell form, parseWords, parseNameVal), then its heredocs read (dockerfile_heredoc.c).
 * Semantics follow instructions/ and dockerfile2llb in file order: FROM starts a stage (image
 * expanded against the global ARGs; a stage built FROM an earlier one inherits its variables
 * and WORKDIR: dockerfile_stage.c), ARG resolves build arg > expanded default > global value,
 * ENV expands all its pairs against the variables before it, and the instructions BuildKit
 * expands go through a port of shell/lex.go (dockerfile_lex.c). What BuildKit rejects or its
 * linter warns on becomes a warning, and the instruction is kept with the most useful reading
 * (raw text for a failed expansion, shell form for a broken JSON array). */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile_instr.h"

#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_heredoc.h"
#include "context/dockerfile_lex.h"
#include "context/dockerfile_split.h"
#include "context/dockerfile_stage.h"
#include "context/dockerfile_text.h"
#include "common/util.h"

static const char *const kind_names[] = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
    "UNKNOWN"};

const char *rmg_df_kind_name(enum rmg_df_kind kind)
{
    return (unsigned)kind <= RMG_DF_UNKNOWN ? kind_names[kind] : "UNKNOWN";
}

static enum rmg_df_kind kind_of(const char *name, size_t n)
{
    for (int k = 0; k < RMG_DF_UNKNOWN; k++)
        if (rmg_df_eq_fold(name, n, kind_names[k]))
            return (enum rmg_df_kind)k;
    return RMG_DF_UNKNOWN;
}

struct kvv {
    struct rmg_df_kv *v;
    size_t n, cap;
};

static void kv_push(struct rmg_df_parser *p, struct kvv *kv, char *key, char *value, bool has_value)
{
    if (!key || (has_value && !value) || !rmg_grow(&kv->v, &kv->cap, kv->n + 1, sizeof *kv->v)) {
        free(key);
        free(value);
        p->oom = true;
        return;
    }
    kv->v[kv->n++] = (struct rmg_df_kv){key, value, has_value};
}

static bool flag_known(enum rmg_df_kind kind, const char *name, size_t n)
{
    static const char *const from[] = {"platform", NULL};
    static const char *const run[] = {"mount", "network", "security", "device", NULL};
    static const char *const copy[] = {"from", "chown", "chmod", "link", "exclude", "parents",
                                       NULL};
    static const char *const add[] = {"chown", "chmod", "link", "exclude", "checksum",
                                      "keep-git-dir", "unpack", NULL};
    static const char *const health[] = {"interval", "timeout", "start-period",
                                         "start-interval", "retries", NULL};
    const char *const *set = kind == RMG_DF_FROM ? from : kind == RMG_DF_RUN ? run
                             : kind == RMG_DF_COPY ? copy : kind == RMG_DF_ADD ? add
                             : kind == RMG_DF_HEALTHCHECK ? health : NULL;
    for (; set && *set; set++)
        if (strlen(*set) == n && memcmp(*set, name, n) == 0)
            return true;
    return false;
}

/* A --mount value with each option's value expanded, except from= (BuildKit refuses it). */
static char *expand_mount(struct rmg_df_parser *p, unsigned line, const char *v,
                          const struct rmg_df_vmap *env)
{
    struct rmg_buf out = {0};
    size_t n = strlen(v);
    for (size_t i = 0; i <= n && !p->oom;) {
        size_t j = i;
        bool q = false;
        while (j < n && (q || v[j] != ',')) {
            q ^= v[j] == '"';
            j++;
        }
        const char *eq = memchr(v + i, '=', j - i);
        if (i && !rmg_buf_append(&out, ",", 1))
            p->oom = true;
        if (eq && !(eq - (v + i) == 4 && rmg_df_eq_fold(v + i, 4, "from"))) {
            char *x = rmg_df_expand(p, line, eq + 1, (size_t)(v + j - eq - 1), env, false);
            if (!x || !rmg_buf_append(&out, v + i, (size_t)(eq + 1 - (v + i))) ||
                !rmg_buf_puts(&out, x))
                p->oom = true;
            free(x);
        } else {
            if (eq && rmg_df_has_byte(eq, (size_t)(v + j - eq), '$'))
                rmg_df_warn(p, line, "'from' doesn't support variable expansion, define alias "
                                     "stage instead");
            if (!rmg_buf_append(&out, v + i, j - i))
                p->oom = true;
        }
        i = j + 1;
    }
    if (!p->oom && !rmg_buf_append(&out, "", 0))
        p->oom = true;
    return out.data;
}

/* The flags as stored: checked against the instruction's known flags, values expanded where
 * BuildKit expands them. */
static void set_flags(struct rmg_df_parser *p, struct rmg_df_instr *in, struct rmg_df_split *sc,
                      const struct rmg_df_vmap *env)
{
    for (size_t i = 0; i < sc->flags.n && !p->oom; i++) {
        char *f = sc->flags.v[i];
        const char *name = f + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        if (in->kind != RMG_DF_UNKNOWN && !flag_known(in->kind, name, nl))
            rmg_df_warn(p, in->line, "unknown flag: --%.*s", rmg_df_clipn(nl), name);
        if (!eq)
            continue;
        bool exp = false;
        if (in->kind == RMG_DF_COPY || in->kind == RMG_DF_ADD)
            exp = (nl == 5 && (!memcmp(name, "chown", 5) || !memcmp(name, "chmod", 5))) ||
                  (nl == 8 && !memcmp(name, "checksum", 8));
        if (in->kind == RMG_DF_COPY && nl == 4 && !memcmp(name, "from", 4) &&
            strchr(eq, '$'))
            rmg_df_warn(p, in->line, "variable expansion is not supported for --from, define a new "
                                     "stage with FROM using ARG from global scope as a workaround");
        char *val = NULL;
        if (exp || (in->kind == RMG_DF_FROM && nl == 8 && !memcmp(name, "platform", 8)))
            val = rmg_df_expand(p, in->line, eq + 1, strlen(eq + 1), env, false);
        else if (in->kind == RMG_DF_RUN && nl == 5 && !memcmp(name, "mount", 5))
            val = expand_mount(p, in->line, eq + 1, env);
        else
            continue;
        struct rmg_buf nf = {0};
        if (!val || !rmg_buf_append(&nf, f, (size_t)(eq + 1 - f)) || !rmg_buf_puts(&nf, val))
            p->oom = true;
        free(val);
        if (p->oom) {
            rmg_buf_free(&nf);
            return;
        }
        free(sc->flags.v[i]);
        sc->flags.v[i] = nf.data;
    }
    in->flags = sc->flags.v;
    in->n_flags = sc->flags.n;
    sc->flags = (struct rmg_df_strv){0};
}

/* parseNameVal: ENV/LABEL pairs as written (`K=V ...`, or legacy `K rest of line`). */
static void name_vals(struct rmg_df_parser *p, struct rmg_df_instr *in, const char *s, size_t n,
                      struct rmg_df_strv *keys, struct rmg_df_strv *vals)
{
    struct rmg_df_strv words = {0};
    rmg_df_parse_words(p, s, n, &words);
    if (p->too_many_words) {
        /* the parse fails: nothing to expand */
    } else if (words.n == 0) {
        rmg_df_warn(p, in->line, "%s requires at least one argument", in->keyword);
    } else if (!strchr(words.v[0], '=')) {
        size_t i = 0;
        while (i < n && !rmg_df_is_ws(s[i]))
            i++;
        size_t j = i;
        while (j < n && rmg_df_is_ws(s[j]))
            j++;
        if (i == n) {
            rmg_df_warn(p, in->line, "%s must have two arguments", in->keyword);
        } else {
            rmg_df_warn(p, in->line, "LegacyKeyValueFormat: \"%s key=value\" should be used "
                                     "instead of legacy \"%s key value\" format", in->keyword,
                        in->keyword);
            if (!rmg_df_strv_push(keys, s, i) || !rmg_df_strv_push(vals, s + j, n - j))
                p->oom = true;
        }
    } else {
        for (size_t i = 0; i < words.n && !p->oom; i++) {
            char *eq = strchr(words.v[i], '=');
            if (!eq) {
                rmg_df_warn(p, in->line, "Syntax error - can't find = in \"%.*s\". Must be of "
                                         "the form: name=value", rmg_df_clipn(strlen(words.v[i])),
                            words.v[i]);
                continue;
            }
            if (!rmg_df_strv_push(keys, words.v[i], (size_t)(eq - words.v[i])) ||
                !rmg_df_strv_push(vals, eq + 1, strlen(eq + 1)))
                p->oom = true;
        }
    }
    rmg_df_strv_clear(&words);
}

static void do_env_label(struct rmg_df_parser *p, struct rmg_df_instr *in,
                         const struct rmg_df_split *sc)
{
    struct rmg_df_strv keys = {0}, vals = {0};
    struct kvv kv = {0};
    name_vals(p, in, sc->args, sc->args_len, &keys, &vals);
    struct rmg_df_vmap *scope = rmg_df_cur_scope(p);
    for (size_t i = 0; i < keys.n && !p->oom; i++) {
        if (!keys.v[i][0]) {
            rmg_df_warn(p, in->line, "%s names can not be blank", in->keyword);
            continue;
        }
        char *k = rmg_df_expand(p, in->line, keys.v[i], strlen(keys.v[i]), scope, false);
        char *v = rmg_df_expand(p, in->line, vals.v[i], strlen(vals.v[i]), scope, false);
        kv_push(p, &kv, k, v, true);
    }
    if (in->kind == RMG_DF_ENV) /* all values first saw the variables before the instruction */
        for (size_t i = 0; i < kv.n && !p->oom; i++)
            if (!rmg_df_vmap_set(scope, kv.v[i].key, strlen(kv.v[i].key), kv.v[i].value,
                                 strlen(kv.v[i].value), true))
                p->oom = true;
    in->kvs = kv.v;
    in->n_kvs = kv.n;
    rmg_df_strv_clear(&keys);
    rmg_df_strv_clear(&vals);
}

/* ARG: build arg > expanded default > (in a stage) the global value; the default is
 * expanded against the variables so far, one name after the other. */
static void do_arg(struct rmg_df_parser *p, struct rmg_df_instr *in, const struct rmg_df_split *sc)
{
    struct rmg_df_strv words = {0};
    struct kvv kv = {0};
    rmg_df_parse_words(p, sc->args, sc->args_len, &words);
    if (p->too_many_words)
        rmg_df_strv_clear(&words);
    else if (words.n == 0)
        rmg_df_warn(p, in->line, "ARG requires at least one argument");
    bool global = p->df->n_stages == 0;
    struct rmg_df_vmap *scope = global ? &p->global : rmg_df_cur_scope(p);
    for (size_t i = 0; i < words.n && !p->oom; i++) {
        const char *w = words.v[i], *eq = strchr(w, '=');
        size_t kl = eq ? (size_t)(eq - w) : strlen(w);
        if (kl == 0) {
            rmg_df_warn(p, in->line, "ARG names can not be blank");
            continue;
        }
        const struct rmg_df_var *ba = rmg_df_vmap_get(&p->build_args, w, kl);
        char *def =
            eq ? rmg_df_expand(p, in->line, eq + 1, strlen(eq + 1), scope, ba != NULL) : NULL;
        kv_push(p, &kv, rmg_strndup(w, kl), def, eq != NULL);
        if (p->oom)
            break;
        const char *val = ba ? ba->value : def;
        size_t vl = ba ? ba->vlen : def ? strlen(def) : 0;
        if (global) {
            if (!rmg_df_vmap_set(scope, w, kl, val, vl, val != NULL))
                p->oom = true;
            continue;
        }
        const struct rmg_df_var *g = val ? NULL : rmg_df_vmap_get(&p->global, w, kl);
        if (g && g->has_value) {
            val = g->value;
            vl = g->vlen;
        }
        if (val && !rmg_df_vmap_set(scope, w, kl, val, vl, true))
            p->oom = true;
    }
    in->kvs = kv.v;
    in->n_kvs = kv.n;
    rmg_df_strv_clear(&words);
}

static const char *suggest(const char *s, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (int k = 0; k < RMG_DF_UNKNOWN; k++) {
        const char *c = kind_names[k];
        size_t m = strlen(c), prev[16], cur[16];
        if (n > 12)
            return NULL;
        for (size_t j = 0; j <= m; j++)
            prev[j] = j;
        for (size_t i = 1; i <= n; i++) {
            cur[0] = i;
            for (size_t j = 1; j <= m; j++) {
                char a = s[i - 1];
                if (a >= 'a' && a <= 'z')
                    a = (char)(a - 'a' + 'A');
                size_t d = prev[j - 1] + (a != c[j - 1]);
                if (prev[j] + 1 < d)
                    d = prev[j] + 1;
                if (cur[j - 1] + 1 < d)
                    d = cur[j - 1] + 1;
                cur[j] = d;
            }
            memcpy(prev, cur, sizeof cur);
        }
        if (prev[m] < best_d) {
            best_d = prev[m];
            best = c;
        }
    }
    return best;
}

static struct rmg_df_instr *new_instr(struct rmg_df_parser *p)
{
    struct rmg_dockerfile *df = p->df;
    if (!rmg_grow(&df->instrs, &p->cap_instrs, df->n_instrs + 1, sizeof *df->instrs)) {
        p->oom = true;
        return NULL;
    }
    struct rmg_df_instr *in = &df->instrs[df->n_instrs++];
    *in = (struct rmg_df_instr){0};
    return in;
}

void rmg_df_handle_instruction(struct rmg_df_parser *p, const char *line, size_t n, unsigned start)
{
    if (p->df->n_instrs >= RMG_DF_MAX_INSTRS) {
        p->too_many = true;
        return;
    }
    struct rmg_df_split sc;
    rmg_df_split_command(p, line, n, &sc);
    struct rmg_df_instr *in = new_instr(p);
    if (!in) {
        rmg_df_strv_clear(&sc.flags);
        return;
    }
    in->kind = kind_of(sc.name, sc.name_len);
    in->keyword = rmg_df_ascii_case(sc.name, sc.name_len, true);
    in->line = in->end_line = start;
    const char *t = line;
    size_t tn = n;
    rmg_df_trim_space(&t, &tn);
    in->text = rmg_strndup(t, tn);
    in->stage = (int)p->df->n_stages - 1;
    if (!in->keyword || !in->text) {
        p->oom = true;
        rmg_df_strv_clear(&sc.flags);
        return;
    }
    const char *kw = in->keyword;

    /* arguments as the line parsers give them */
    struct rmg_df_strv args = {0};
    bool heredoc_ok = false;
    switch (in->kind) {
    case RMG_DF_ADD: case RMG_DF_COPY: case RMG_DF_VOLUME:
        in->json_form = rmg_df_parse_args(p, start, kw, sc.args, sc.args_len, true, &args);
        heredoc_ok = in->kind != RMG_DF_VOLUME && !in->json_form;
        break;
    case RMG_DF_RUN: case RMG_DF_CMD: case RMG_DF_ENTRYPOINT: case RMG_DF_SHELL:
        in->json_form = rmg_df_parse_args(p, start, kw, sc.args, sc.args_len, false, &args);
        heredoc_ok = in->kind == RMG_DF_RUN && !in->json_form;
        break;
    case RMG_DF_FROM: case RMG_DF_EXPOSE:
        rmg_df_ws_split(p, sc.args, sc.args_len, &args);
        break;
    case RMG_DF_HEALTHCHECK: {
        size_t sep = 0;
        while (sep < sc.args_len && !rmg_df_is_byte_space((unsigned char)sc.args[sep]))
            sep++;
        size_t next = sep;
        while (next < sc.args_len && rmg_df_is_byte_space((unsigned char)sc.args[next]))
            next++;
        if (sep && !rmg_df_strv_push(&args, sc.args, sep))
            p->oom = true;
        struct rmg_df_strv cmd = {0};
        if (sep)
            in->json_form = rmg_df_parse_args(p, start, kw, sc.args + next, sc.args_len - next,
                                              false, &cmd);
        for (size_t i = 0; i < cmd.n && !p->oom; i++)
            if (!rmg_df_strv_push(&args, cmd.v[i], strlen(cmd.v[i])))
                p->oom = true;
        rmg_df_strv_clear(&cmd);
        break;
    }
    case RMG_DF_ENV: case RMG_DF_LABEL: case RMG_DF_ARG:
        break;
    case RMG_DF_ONBUILD: {
        struct rmg_df_split sub;
        rmg_df_split_command(p, sc.args, sc.args_len, &sub);
        enum rmg_df_kind sk = kind_of(sub.name, sub.name_len);
        if (sc.args_len == 0)
            rmg_df_warn(p, start, "ONBUILD requires at least one argument");
        else if (sk == RMG_DF_ONBUILD)
            rmg_df_warn(p, start, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        else if (sk == RMG_DF_FROM || sk == RMG_DF_MAINTAINER)
            rmg_df_warn(p, start, "%s isn't allowed as an ONBUILD trigger", kind_names[sk]);
        if (sk == RMG_DF_RUN || sk == RMG_DF_COPY || sk == RMG_DF_ADD) {
            struct rmg_df_strv tmp = {0};
            int j = rmg_df_parse_json(p, sub.args, sub.args_len, &tmp);
            heredoc_ok = j != 1;
            rmg_df_strv_clear(&tmp);
        }
        rmg_df_strv_clear(&sub.flags);
        if (sc.args_len && !rmg_df_strv_push(&args, sc.args, sc.args_len))
            p->oom = true;
        break;
    }
    default:
        if (sc.args_len && !rmg_df_strv_push(&args, sc.args, sc.args_len))
            p->oom = true;
        break;
    }
    if (p->too_many_words) {
        rmg_df_strv_clear(&args);
        rmg_df_strv_clear(&sc.flags);
        return;
    }
    if (heredoc_ok && !p->oom && rmg_df_has_pair(line, n, '<', '<'))
        rmg_df_read_heredocs(p, in, line, n);
    in->end_line = p->line;

    /* where it is, and what BuildKit expands */
    if (in->kind == RMG_DF_UNKNOWN) {
        const char *s = suggest(sc.name, sc.name_len);
        char *ls = s ? rmg_df_ascii_case(s, strlen(s), false) : NULL;
        if (ls)
            rmg_df_warn(p, start, "unknown instruction: %.*s (did you mean %s?)",
                        rmg_df_clipn(sc.name_len), sc.name, ls);
        else
            rmg_df_warn(p, start, "unknown instruction: %.*s", rmg_df_clipn(sc.name_len), sc.name);
        free(ls);
    } else if (!p->df->n_stages && in->kind != RMG_DF_ARG && in->kind != RMG_DF_FROM) {
        rmg_df_warn(p, start, "%s: no build stage in current context (only ARG may come before the "
                              "first FROM)", kw);
    }
    if (in->kind == RMG_DF_FROM && !p->oom)
        rmg_df_do_from(p, in, &args);
    struct rmg_df_vmap *scope = in->kind == RMG_DF_FROM ? &p->global : rmg_df_cur_scope(p);
    set_flags(p, in, &sc, scope);
    rmg_df_strv_clear(&sc.flags);
    switch (in->kind) {
    case RMG_DF_ENV: case RMG_DF_LABEL:
        do_env_label(p, in, &sc);
        break;
    case RMG_DF_ARG:
        do_arg(p, in, &sc);
        break;
    case RMG_DF_ADD: case RMG_DF_COPY:
        if (args.n < 2)
            rmg_df_warn(p, start, "%s requires at least two arguments, but only one was provided. "
                                  "Destination could not be determined", kw);
        for (size_t i = 0; i < args.n && !p->oom; i++) {
            struct rmg_buf hn = {0};
            bool chomp, exp;
            int h = rmg_df_heredoc_word(p, args.v[i], strlen(args.v[i]), &hn, &chomp, &exp);
            rmg_buf_free(&hn);
            if (h == 1 && i + 1 == args.n)
                rmg_df_warn(p, start, "%s cannot accept a heredoc as a destination", kw);
            if (h == 1 && i + 1 < args.n)
                continue; /* heredoc sources are content, not paths */
            char *x = rmg_df_expand(p, start, args.v[i], strlen(args.v[i]), scope, false);
            free(args.v[i]);
            args.v[i] = x;
        }
        break;
    case RMG_DF_VOLUME: case RMG_DF_USER: case RMG_DF_WORKDIR: case RMG_DF_STOPSIGNAL:
        if (args.n == 0 || (in->kind != RMG_DF_VOLUME && args.n != 1))
            rmg_df_warn(p, start, "%s requires %s argument", kw,
                        in->kind == RMG_DF_VOLUME ? "at least one" : "exactly one");
        for (size_t i = 0; i < args.n && !p->oom; i++) {
            char *x = rmg_df_expand(p, start, args.v[i], strlen(args.v[i]), scope, false);
            free(args.v[i]);
            args.v[i] = x;
        }
        break;
    case RMG_DF_EXPOSE: {
        struct rmg_df_strv ports = {0};
        if (args.n == 0)
            rmg_df_warn(p, start, "EXPOSE requires at least one argument");
        for (size_t i = 0; i < args.n && !p->oom; i++)
            rmg_df_expand_words(p, start, args.v[i], strlen(args.v[i]), scope, &ports);
        rmg_df_strv_clear(&args);
        args = ports;
        break;
    }
    case RMG_DF_CMD: case RMG_DF_ENTRYPOINT:
        if (!in->json_form && args.n)
            rmg_df_warn(p, start, "JSONArgsRecommended: JSON arguments recommended for %s to "
                                  "prevent unintended behavior related to OS signals", kw);
        break;
    case RMG_DF_SHELL:
        if (!in->json_form)
            rmg_df_warn(p, start, "SHELL requires the arguments to be in JSON form");
        break;
    case RMG_DF_MAINTAINER:
        rmg_df_warn(p, start, "MaintainerDeprecated: Maintainer instruction is deprecated in "
                              "favor of using label");
        break;
    case RMG_DF_HEALTHCHECK:
        if (args.n == 0)
            rmg_df_warn(p, start, "HEALTHCHECK requires at least one argument");
        else if (rmg_df_eq_fold(args.v[0], strlen(args.v[0]), "none") && args.n > 1)
            rmg_df_warn(p, start, "HEALTHCHECK NONE takes no arguments");
        else if (!rmg_df_eq_fold(args.v[0], strlen(args.v[0]), "none") &&
                 !rmg_df_eq_fold(args.v[0], strlen(args.v[0]), "cmd"))
            rmg_df_warn(p, start, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)",
                        rmg_df_clipn(strlen(args.v[0])), args.v[0]);
        break;
    default:
        break;
    }
    in->args = args.v;
    in->n_args = args.n;
    if (in->kind == RMG_DF_WORKDIR && !p->oom)
        rmg_df_do_workdir(p, in);
    if (p->df->n_stages && !p->oom) {
        in->workdir = rmg_strdup(p->states[p->df->n_stages - 1].workdir);
        if (!in->workdir)
            p->oom = true;
    }
}
