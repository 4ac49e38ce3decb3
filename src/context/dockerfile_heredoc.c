/* dockerfile_heredoc.c: heredocs of RUN, COPY and ADD (see dockerfile_heredoc.h), and
 * rmg_dockerfile_heredoc_source (dockerfile.h).
 *
 * DESIGN. As BuildKit's heredocsFromLine and ParseHeredoc: the logical line is lexed with '\\'
 * as escape, quotes and escapes kept and no variables (an unset $X stays as written); each
 * word of the form `[n]<<[-]NAME` opens a heredoc whose name is lexed once plain and once with
 * quotes kept: the body expands when both readings hold as many quote characters, that is when
 * no part of the name was quoted. Bodies are read from the following physical lines, in the order the
 * heredocs appear, each up to the line that is exactly its name (after leading tabs for
 * `<<-`). */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile_heredoc.h"

#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_lex.h"
#include "context/dockerfile_text.h"
#include "common/util.h"

int rmg_df_heredoc_word(struct rmg_df_parser *p, const char *w, size_t n, struct rmg_buf *name,
                        bool *chomp, bool *expand)
{
    size_t i = 0;
    while (i < n && w[i] >= '0' && w[i] <= '9')
        i++;
    if (n - i < 2 || w[i] != '<' || w[i + 1] != '<')
        return 0;
    i += 2;
    *chomp = i < n && w[i] == '-';
    i += *chomp;
    while (i < n && rmg_df_is_re_space(w[i]))
        i++;
    if (i == n || rmg_df_has_byte(w + i, n - i, '<'))
        return 0;
    struct rmg_df_vmap none = {0};
    struct rmg_df_lexer lx;
    struct rmg_df_words plain = {0}, raw = {0};
    struct rmg_buf r1 = {0}, r2 = {0};
    rmg_df_lex_init(&lx, p, '\\', &none);
    lx.skip_unset = true;
    int r = 0;
    if (!rmg_df_lex_run(&lx, w + i, n - i, &r1, &plain)) {
        r = -1;
    } else if (plain.list.n == 1) {
        lx.raw_quotes = true;
        if (!rmg_df_lex_run(&lx, w + i, n - i, &r2, &raw) || raw.list.n != 1) {
            r = -1;
        } else {
            size_t q1 = 0, q2 = 0;
            for (const char *c = plain.list.v[0]; *c; c++)
                q1 += *c == '\'' || *c == '"';
            for (const char *c = raw.list.v[0]; *c; c++)
                q2 += *c == '\'' || *c == '"';
            *expand = q1 == q2;
            name->len = 0;
            if (!rmg_buf_puts(name, plain.list.v[0]))
                p->oom = true;
            r = 1;
        }
    }
    rmg_buf_free(&r1);
    rmg_buf_free(&r2);
    rmg_df_words_free(&plain);
    rmg_df_words_free(&raw);
    return r;
}

static bool push_heredoc(struct rmg_df_instr *in, size_t *cap,
                         const char *name, struct rmg_buf *body, bool chomp, bool expand)
{
    if (!rmg_grow(&in->heredocs, cap, in->n_heredocs + 1, sizeof *in->heredocs))
        return false;
    struct rmg_df_heredoc h = {rmg_strdup(name), NULL, expand};
    if (!rmg_buf_append(body, "", 0) || !h.name) {
        free(h.name);
        return false;
    }
    if (chomp) { /* ChompHeredocContent: `(?m)^\t+` */
        size_t o = 0;
        bool bol = true;
        for (size_t i = 0; i < body->len; i++) {
            char c = body->data[i];
            if (bol && c == '\t')
                continue;
            bol = c == '\n';
            body->data[o++] = c;
        }
        body->len = o;
        body->data[o] = '\0';
    }
    h.body = body->data;
    *body = (struct rmg_buf){0};
    in->heredocs[in->n_heredocs++] = h;
    return true;
}

void rmg_df_read_heredocs(struct rmg_df_parser *p, struct rmg_df_instr *in, const char *line,
                          size_t n)
{
    struct rmg_df_vmap none = {0};
    struct rmg_df_lexer lx;
    struct rmg_df_words w = {0};
    struct rmg_buf res = {0}, name = {0};
    size_t cap = 0;
    rmg_df_lex_init(&lx, p, '\\', &none);
    lx.raw_quotes = lx.raw_escapes = lx.skip_unset = true;
    if (!rmg_df_lex_run(&lx, line, n, &res, &w)) { /* BuildKit ignores this error: no heredocs */
        rmg_df_words_free(&w);
        w = (struct rmg_df_words){0};
    }
    for (size_t i = 0; i < w.list.n && !p->oom; i++) {
        bool chomp = false, expand = true;
        int r = rmg_df_heredoc_word(p, w.list.v[i], strlen(w.list.v[i]), &name, &chomp, &expand);
        if (p->oom)
            break;
        if (r < 0) {
            rmg_df_warn(p, in->line, "invalid heredoc \"%.*s\"", rmg_df_clipn(strlen(w.list.v[i])),
                        w.list.v[i]);
            continue;
        }
        if (r == 0)
            continue;
        struct rmg_buf body = {0};
        bool done = false;
        const char *s;
        size_t sn;
        while (!done && rmg_df_next_line(p, &s, &sn)) {
            p->line++;
            size_t tn = sn;
            const char *t = s;
            rmg_df_trim_newline(t, &tn);
            if (chomp)
                while (tn && *t == '\t') {
                    t++;
                    tn--;
                }
            if (tn == name.len && memcmp(t, name.data, tn) == 0)
                done = true;
            else if (!rmg_buf_append(&body, s, sn))
                p->oom = true;
        }
        if (!p->oom && !push_heredoc(in, &cap, name.data, &body, chomp, expand))
            p->oom = true;
        rmg_buf_free(&body);
        if (!done) {
            rmg_df_warn(p, in->line, "unterminated heredoc %.*s", rmg_df_clipn(name.len),
                        name.data);
            break;
        }
    }
    rmg_df_words_free(&w);
    rmg_buf_free(&res);
    rmg_buf_free(&name);
}

const struct rmg_df_heredoc *rmg_dockerfile_heredoc_source(const struct rmg_df_instr *in,
                                                           size_t i)
{
    if (!in || (in->kind != RMG_DF_COPY && in->kind != RMG_DF_ADD) || i + 1 >= in->n_args)
        return NULL;
    struct rmg_dockerfile df = {0};
    struct rmg_df_parser p = {.df = &df, .budget = RMG_DF_EXPAND_BUDGET, .escape = '\\'};
    struct rmg_buf name = {0};
    bool chomp, expand;
    const struct rmg_df_heredoc *r = NULL;
    if (rmg_df_heredoc_word(&p, in->args[i], strlen(in->args[i]), &name, &chomp, &expand) == 1)
        for (size_t h = 0; h < in->n_heredocs && !r; h++)
            if (strcmp(in->heredocs[h].name, name.data) == 0)
                r = &in->heredocs[h];
    rmg_buf_free(&name);
    for (size_t w = 0; w < df.n_warnings; w++)
        free(df.warnings[w].message);
    free(df.warnings);
    return r;
}
