/* dockerfile_parse.c: rmg_dockerfile_parse, the BuildKit-compatible Dockerfile parser's entry
 * point, and its loop over the text's lines (see dockerfile.h).
 *
 * DESIGN. The text is read one physical line at a time as BuildKit's parser.Parse reads it
 * (scanLines, trimNewline, left-trim of the first line only, comment and blank lines inside a
 * continuation dropped, the continuation regex `([^E])E[ \t]*$|^E[ \t]*$`), parser directives
 * are checked on every line until the first that is not one, and each logical line becomes one
 * instruction (dockerfile_instr.c): splitCommand/extractBuilderFlags, then the per-instruction
 * argument parser of line_parsers.go (JSON array or shell form, parseWords, parseNameVal),
 * then its heredocs. Where BuildKit stops with an error a warning is recorded and the parse
 * goes on with the most useful reading (raw text for a failed expansion, shell form for a
 * broken JSON array). When the whole file is read, what needs every stage known is checked
 * (dockerfile_stage.c).
 *
 * Bounds: RMG_DF_MAX_TEXT bytes, RMG_DF_MAX_INSTRS instructions, RMG_DF_MAX_WORDS words
 * (arguments, flags, pairs: memory stays a small multiple of the text), MAX_WARNINGS
 * warnings (dockerfile_state.c), one expanded word at most MAX_VALUE bytes, ${...} nested at
 * most LEX_MAX_DEPTH deep (dockerfile_lex.c), and one budget (RMG_DF_EXPAND_BUDGET) for all
 * variable values copied into words, variable scopes copied into stages and pattern matching
 * steps; past it, words stay unexpanded. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile.h"

#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_instr.h"
#include "context/dockerfile_stage.h"
#include "context/dockerfile_state.h"
#include "context/dockerfile_text.h"
#include "common/util.h"

#define MAX_PHYS_LINE 65535 /* bufio.Scanner's limit in BuildKit: longer lines warn */

/* BuildKit's automatic platform args: in the global scope when given as build args. */
static const char *const auto_args[] = {
    "BUILDPLATFORM", "BUILDOS", "BUILDOSVERSION", "BUILDARCH", "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT",
    "TARGETSTAGE"};

static void check_length(struct rmg_df_parser *p, size_t n)
{
    if (n > MAX_PHYS_LINE)
        rmg_df_warn(p, p->line, "dockerfile line greater than max allowed size of %d",
                    MAX_PHYS_LINE);
}

/* DirectiveParser.ParseLine on a line (newline and, for a first line, leading space trimmed):
 * `#key=value` with key syntax, escape or check, before anything else. */
static void directive_check(struct rmg_df_parser *p, const char *s, size_t n, unsigned line)
{
    if (p->directives_done)
        return;
    if (n == 0 || s[0] != '#') {
        p->directives_done = true;
        return;
    }
    s++;
    n--;
    rmg_df_trim_left(&s, &n);
    size_t i = 0;
    if (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
        for (i++; i < n && (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
                            (s[i] >= '0' && s[i] <= '9'));
             i++)
            ;
    size_t klen = i;
    while (i < n && rmg_df_is_re_space(s[i]))
        i++;
    if (klen == 0 || i >= n || s[i] != '=') {
        p->directives_done = true;
        return;
    }
    i++;
    size_t rest = i;
    while (i < n && rmg_df_is_re_space(s[i]))
        i++;
    size_t vs = i, ve = n;
    while (ve > vs && rmg_df_is_re_space(s[ve - 1]))
        ve--;
    if (vs == ve) {
        if (rest == n) { /* `(.+?)` needs one character */
            p->directives_done = true;
            return;
        }
        vs = n - 1; /* only spaces: the regexp leaves the last one to the value */
        ve = n;
    }
    bool *seen;
    if (rmg_df_eq_fold(s, klen, "escape"))
        seen = &p->seen_escape;
    else if (rmg_df_eq_fold(s, klen, "syntax"))
        seen = &p->seen_syntax;
    else if (rmg_df_eq_fold(s, klen, "check"))
        seen = &p->seen_check;
    else {
        p->directives_done = true;
        return;
    }
    if (*seen) {
        rmg_df_warn(p, line, "only one %.*s parser directive can be used", (int)klen, s);
        return;
    }
    *seen = true;
    if (seen == &p->seen_escape) {
        if (ve - vs == 1 && (s[vs] == '\\' || s[vs] == '`'))
            p->escape = p->df->escape = s[vs];
        else
            rmg_df_warn(p, line, "invalid escape token '%.*s' does not match ` or \\",
                        rmg_df_clipn(ve - vs), s + vs);
    }
}

/* trimContinuationCharacter: true (and the escape and trailing blanks removed) when the line
 * continues on the next. */
static bool trim_continuation(const struct rmg_df_parser *p, const char *s, size_t *n)
{
    size_t e = *n;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    if (e == 0 || s[e - 1] != p->escape)
        return false;
    if (e >= 2 && s[e - 2] == p->escape)
        return false; /* an escaped escape: `([^E])E` does not match */
    *n = e - 1;
    return true;
}

static bool is_comment_line(const char *s, size_t n)
{
    rmg_df_trim_left(&s, &n);
    return n > 0 && s[0] == '#';
}

/* parser.Parse's loop over physical lines. */
static void parse_lines(struct rmg_df_parser *p)
{
    const char *raw;
    size_t full;
    while (!p->oom && !p->too_many && !p->too_many_words && rmg_df_next_line(p, &raw, &full)) {
        const char *s = raw;
        size_t n = full;
        if (p->line == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
        rmg_df_trim_newline(s, &n);
        rmg_df_trim_left(&s, &n);
        directive_check(p, s, n, p->line + 1);
        p->line++;
        check_length(p, n);
        unsigned start = p->line;
        if (n && s[0] == '#')
            continue; /* a comment (or a directive) */
        bool cont = trim_continuation(p, s, &n);
        if (!cont && n == 0)
            continue;
        struct rmg_buf logical = {0};
        bool empty_cont = false;
        if (!rmg_buf_append(&logical, s, n))
            p->oom = true;
        while (cont && !p->oom && rmg_df_next_line(p, &raw, &full)) {
            s = raw;
            n = full;
            rmg_df_trim_newline(s, &n);
            directive_check(p, s, n, p->line + 1);
            p->line++;
            check_length(p, n);
            if (is_comment_line(s, n))
                continue;
            const char *b = s;
            size_t bn = n;
            rmg_df_trim_left(&b, &bn);
            if (bn == 0) {
                empty_cont = true;
                continue;
            }
            cont = trim_continuation(p, s, &n);
            if (!rmg_buf_append(&logical, s, n))
                p->oom = true;
        }
        if (empty_cont)
            rmg_df_warn(p, p->line, "NoEmptyContinuation: Empty continuation line found in: %.*s",
                        rmg_df_clipn(logical.len), logical.data);
        if (!p->oom)
            rmg_df_handle_instruction(p, logical.data, logical.len, start);
        rmg_buf_free(&logical);
    }
}

enum rmg_status rmg_dockerfile_parse(const char *text, size_t len, const char *origin,
                                     char *const *build_args, size_t n_build_args,
                                     struct rmg_dockerfile **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!origin)
        origin = "Dockerfile";
    if (len > RMG_DF_MAX_TEXT) {
        rmg_fmt(err, errlen, "%s: Dockerfile larger than %u bytes", origin, RMG_DF_MAX_TEXT);
        return RMG_EINPUT;
    }
    struct rmg_dockerfile *df = calloc(1, sizeof *df);
    if (!df) {
        rmg_fmt(err, errlen, "%s: out of memory", origin);
        return RMG_ENOMEM;
    }
    df->escape = '\\';
    struct rmg_df_parser p = {.src = text ? text : "", .len = text ? len : 0, .escape = '\\',
                              .df = df, .budget = RMG_DF_EXPAND_BUDGET};
    for (size_t i = 0; i < n_build_args && !p.oom; i++) {
        const char *a = build_args[i], *eq = a ? strchr(a, '=') : NULL;
        if (eq &&
            !rmg_df_vmap_set(&p.build_args, a, (size_t)(eq - a), eq + 1, strlen(eq + 1), true))
            p.oom = true;
    }
    for (size_t i = 0; i < sizeof auto_args / sizeof *auto_args && !p.oom; i++) {
        const struct rmg_df_var *v =
            rmg_df_vmap_get(&p.build_args, auto_args[i], strlen(auto_args[i]));
        if (v && !rmg_df_vmap_set(&p.global, v->name, v->nlen, v->value, v->vlen, true))
            p.oom = true;
    }
    if (!p.oom)
        parse_lines(&p);
    if (!p.oom && !p.too_many && !p.too_many_words)
        rmg_df_check_references(&p);
    for (size_t i = 0; i < df->n_stages; i++) {
        rmg_df_vmap_free(&p.states[i].scope);
        free(p.states[i].workdir);
    }
    free(p.states);
    rmg_df_vmap_free(&p.build_args);
    rmg_df_vmap_free(&p.global);
    rmg_df_vmap_free(&p.pre);
    if (p.oom) {
        rmg_dockerfile_free(df);
        rmg_fmt(err, errlen, "%s: out of memory", origin);
        return RMG_ENOMEM;
    }
    if (p.too_many || p.too_many_words) {
        rmg_dockerfile_free(df);
        rmg_fmt(err, errlen, "%s: more than %d %s", origin,
                p.too_many ? RMG_DF_MAX_INSTRS : RMG_DF_MAX_WORDS,
                p.too_many ? "instructions" : "words");
        return RMG_EINPUT;
    }
    *out = df;
    return df->n_warnings ? RMG_WARN : RMG_OK;
}
