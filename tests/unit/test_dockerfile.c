/* test_dockerfile.c: the Dockerfile parser against BuildKit's rules: continuations, parser
 * directives, comments, JSON vs shell form, heredocs, flags, stages and --from references,
 * variable expansion with ARG/ENV scope and build args, WORKDIR, exact line numbers, warnings
 * for what BuildKit rejects, and the limits that keep untrusted text cheap. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "context/dockerfile.h"

#define N(a) (sizeof(a) / sizeof *(a))

/* Parses text with build args; fails the test unless it parsed (OK or WARN, consistently). */
static struct rmg_dockerfile *parse_with(const char *text, const char *const *args, size_t n)
{
    struct rmg_dockerfile *df = NULL;
    char err[256] = "";
    enum rmg_status st = rmg_dockerfile_parse(text, strlen(text), "test", (char *const *)args,
                                              n, &df, err, sizeof err);
    if (st > RMG_WARN || !df)
        fail_msg("parse failed (%d): %s", st, err);
    if ((st == RMG_WARN) != (df->n_warnings > 0))
        fail_msg("status %d with %zu warnings", st, df->n_warnings);
    return df;
}

static struct rmg_dockerfile *parse(const char *text)
{
    return parse_with(text, NULL, 0);
}

static const struct rmg_df_warning *find_warning(const struct rmg_dockerfile *df,
                                                 const char *needle)
{
    for (size_t i = 0; i < df->n_warnings; i++)
        if (strstr(df->warnings[i].message, needle))
            return &df->warnings[i];
    return NULL;
}

static void expect_warning(const struct rmg_dockerfile *df, const char *needle, unsigned line)
{
    const struct rmg_df_warning *w = find_warning(df, needle);
    if (!w) {
        for (size_t i = 0; i < df->n_warnings; i++)
            print_message("  have %u: %s\n", df->warnings[i].line, df->warnings[i].message);
        fail_msg("no warning containing \"%s\"", needle);
    }
    if (w->line != line)
        fail_msg("warning \"%s\" on line %u, expected %u", w->message, w->line, line);
}

static void expect_clean(const struct rmg_dockerfile *df)
{
    for (size_t i = 0; i < df->n_warnings; i++)
        print_message("  unexpected warning %u: %s\n", df->warnings[i].line,
                      df->warnings[i].message);
    assert_int_equal(df->n_warnings, 0);
}

static void expect_args(const struct rmg_df_instr *in, const char *const *want, size_t n)
{
    if (in->n_args != n) {
        for (size_t i = 0; i < in->n_args; i++)
            print_message("  arg %zu: <%s>\n", i, in->args[i]);
        fail_msg("line %u: %zu args, expected %zu", in->line, in->n_args, n);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(in->args[i], want[i]);
}

/* ---- lines, continuations, comments ---------------------------------------------------------- */

static void continuation_joins_lines(void **state)
{
    (void)state;
    /* The escape and line ending go; the next line keeps its leading blanks. */
    struct rmg_dockerfile *df = parse("FROM alpine\nRUN echo a \\\n    b\n");
    expect_clean(df);
    assert_int_equal(df->n_instrs, 2);
    const struct rmg_df_instr *run = &df->instrs[1];
    assert_int_equal(run->kind, RMG_DF_RUN);
    assert_int_equal(run->line, 2);
    assert_int_equal(run->end_line, 3);
    assert_string_equal(run->text, "RUN echo a     b");
    expect_args(run, (const char *[]){"echo a     b"}, 1);
    rmg_dockerfile_free(df);
}

static void continuation_skips_comments_and_blank_lines(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM alpine\n"
                                      "RUN apt-get update && \\\n"
                                      "    # a comment inside\n"
                                      "\n"
                                      "    apt-get install -y curl\n"
                                      "CMD [\"curl\"]\n");
    assert_int_equal(df->n_instrs, 3);
    const struct rmg_df_instr *run = &df->instrs[1];
    assert_int_equal(run->line, 2);
    assert_int_equal(run->end_line, 5);
    expect_args(run, (const char *[]){"apt-get update &&     apt-get install -y curl"}, 1);
    assert_int_equal(df->instrs[2].line, 6);
    assert_int_equal(df->instrs[2].end_line, 6);
    expect_warning(df, "NoEmptyContinuation", 5);
    assert_int_equal(df->n_warnings, 1);
    rmg_dockerfile_free(df);
}

static void continuation_edge_cases(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t n_instrs;
        const char *arg1; /* the second instruction's only argument */
        unsigned end1;
    } cases[] = {
        /* blanks after the escape still continue */
        {"FROM a\nRUN x \\ \t\ny\n", 2, "x y", 3},
        /* an escaped escape is not a continuation (BuildKit's `([^\\])\\[ \t]*$`) */
        {"FROM a\nRUN echo \\\\\nCMD y\n", 3, "echo \\\\", 2},
        /* continuation at the end of the file */
        {"FROM a\nRUN x \\", 2, "x", 2},
        /* a line holding only the escape starts an empty line that continues */
        {"FROM a\nRUN x \\\n\\\ny\n", 2, "x y", 4},
        /* a comment line ending in the escape does not continue */
        {"FROM a\n# note \\\nRUN y\n", 2, "y", 3},
        /* CRLF line endings */
        {"FROM a\r\nRUN b \\\r\n c\r\n", 2, "b  c", 3},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct rmg_dockerfile *df = parse(cases[i].text);
        if (df->n_instrs != cases[i].n_instrs)
            fail_msg("case %zu: %zu instructions", i, df->n_instrs);
        const struct rmg_df_instr *in = &df->instrs[1];
        if (in->n_args != 1 || strcmp(in->args[0], cases[i].arg1) != 0 ||
            in->end_line != cases[i].end1)
            fail_msg("case %zu: <%s> end %u", i, in->n_args ? in->args[0] : "", in->end_line);
        rmg_dockerfile_free(df);
    }
}

static void comments_only_at_line_start(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("# top\nFROM a\n   # indented comment\n"
                                      "RUN echo x # not a comment\n");
    expect_clean(df);
    assert_int_equal(df->n_instrs, 2);
    expect_args(&df->instrs[1], (const char *[]){"echo x # not a comment"}, 1);
    assert_int_equal(df->instrs[1].line, 4);
    rmg_dockerfile_free(df);
}

static void keywords_case_insensitive(void **state)
{
    (void)state;
    struct rmg_dockerfile *df =
        parse("from alpine as Base\nrUn true\ncopy a b\nHealthCheck NONE\n");
    assert_int_equal(df->n_instrs, 4);
    assert_int_equal(df->instrs[0].kind, RMG_DF_FROM);
    assert_int_equal(df->instrs[1].kind, RMG_DF_RUN);
    assert_string_equal(df->instrs[1].keyword, "RUN");
    assert_int_equal(df->instrs[2].kind, RMG_DF_COPY);
    assert_int_equal(df->instrs[3].kind, RMG_DF_HEALTHCHECK);
    assert_string_equal(df->stages[0].name, "base");
    assert_string_equal(rmg_df_kind_name(RMG_DF_HEALTHCHECK), "HEALTHCHECK");
    assert_string_equal(rmg_df_kind_name(RMG_DF_UNKNOWN), "UNKNOWN");
    rmg_dockerfile_free(df);
}

/* ---- parser directives ----------------------------------------------------------------------- */

static void escape_directive_only_at_top(void **state)
{
    (void)state;
    static const struct {
        const char *head;
        char escape;
        const char *warning;
    } cases[] = {
        {"# escape=`\n", '`', NULL},
        {"  # ESCAPE = `\n", '`', NULL},                   /* blanks and case are fine */
        {"# syntax=docker/dockerfile:1\n# escape=`\n", '`', NULL},
        {"# check=skip=all\n#escape=`\n", '`', NULL},
        {"\xEF\xBB\xBF# escape=`\n", '`', NULL},            /* a BOM first */
        {"\n# escape=`\n", '\\', NULL},                     /* after a blank line */
        {"# hello\n# escape=`\n", '\\', NULL},              /* after a comment */
        {"#!/bin/sh\n# escape=`\n", '\\', NULL},            /* after a shebang */
        {"# escape=`\n# escape=\\\n", '`', "only one escape parser directive"},
        {"# escape=x\n", '\\', "invalid escape token 'x'"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char text[256];
        snprintf(text, sizeof text, "%sFROM a\n", cases[i].head);
        struct rmg_dockerfile *df = parse(text);
        if (df->escape != cases[i].escape)
            fail_msg("case %zu: escape %c", i, df->escape);
        if (cases[i].warning)
            assert_non_null(find_warning(df, cases[i].warning));
        else if (df->n_warnings)
            fail_msg("case %zu: warning %s", i, df->warnings[0].message);
        rmg_dockerfile_free(df);
    }
    /* After an instruction it is a comment, and a later one changes nothing. */
    struct rmg_dockerfile *df = parse("FROM a\n# escape=`\nRUN x `\ny\n");
    assert_int_equal(df->escape, '\\');
    assert_int_equal(df->n_instrs, 3);
    rmg_dockerfile_free(df);
}

static void escape_backtick_windows_paths(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("# escape=`\n"
                                      "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
                                      "COPY C:\\src\\app.exe C:\\app\\\n"
                                      "WORKDIR C:\\app\n"
                                      "RUN dir C:\\ `\n"
                                      "    && echo done\n"
                                      "ENV P=C:\\tools\\bin X=a`\"b\n");
    expect_clean(df);
    assert_int_equal(df->escape, '`');
    assert_int_equal(df->n_instrs, 5);
    expect_args(&df->instrs[1], (const char *[]){"C:\\src\\app.exe", "C:\\app\\"}, 2);
    assert_string_equal(df->instrs[2].workdir, "C:\\app");
    assert_int_equal(df->instrs[3].line, 5);
    assert_int_equal(df->instrs[3].end_line, 6);
    expect_args(&df->instrs[3], (const char *[]){"dir C:\\     && echo done"}, 1);
    assert_string_equal(df->instrs[4].kvs[0].value, "C:\\tools\\bin");
    assert_string_equal(df->instrs[4].kvs[1].value, "a\"b");
    rmg_dockerfile_free(df);
}

/* ---- JSON (exec) form and shell form --------------------------------------------------------- */

static void json_or_shell_form(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        bool json;
        size_t n_args;
        const char *arg0;
        const char *warning;
    } cases[] = {
        {"CMD [\"echo\", \"hi\"]", true, 2, "echo", NULL},
        {"CMD []", true, 0, NULL, NULL},
        {"ENTRYPOINT [ \"a\" , \"b\\\"c\" ]  ", true, 2, "a", NULL},
        {"RUN [\"sh\", \"-c\", \"echo \\u00e9\"]", true, 3, "sh", NULL},
        /* anything after the array makes it shell form, silently (BuildKit) */
        {"CMD [\"echo\",\"hi\"] # c", false, 1, "[\"echo\",\"hi\"] # c", "JSONArgsRecommended"},
        /* single quotes are not JSON */
        {"ENTRYPOINT ['a','b']", false, 1, "['a','b']", "not a JSON array"},
        /* a bad escape is not JSON either */
        {"RUN [\"c:\\x\"]", false, 1, "[\"c:\\x\"]", "not a JSON array"},
        /* an array of non-strings: BuildKit rejects it; read as shell form */
        {"RUN [\"a\", 1]", false, 1, "[\"a\", 1]", "must be comprised of strings"},
        /* a shell test is no JSON and no warning */
        {"RUN [ -f /etc/x ] && echo y", false, 1, "[ -f /etc/x ] && echo y", NULL},
        {"COPY [\"my file\", \"/dst dir/\"]", true, 2, "my file", NULL},
        {"VOLUME [\"/data\", \"/logs\"]", true, 2, "/data", NULL},
        {"VOLUME /data /logs", false, 2, "/data", NULL},
        {"SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]", true, 4, "/bin/bash", NULL},
        {"SHELL /bin/bash -c", false, 1, "/bin/bash -c", "SHELL requires the arguments"},
        {"HEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"http://x\"]", true, 4, "CMD", NULL},
        {"HEALTHCHECK CMD curl -f http://x", false, 2, "CMD", NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char text[256];
        snprintf(text, sizeof text, "FROM a\n%s\n", cases[i].line);
        struct rmg_dockerfile *df = parse(text);
        const struct rmg_df_instr *in = &df->instrs[1];
        if (in->json_form != cases[i].json || in->n_args != cases[i].n_args ||
            (cases[i].arg0 && strcmp(in->args[0], cases[i].arg0) != 0))
            fail_msg("case %zu (%s): json %d, %zu args, arg0 <%s>", i, cases[i].line,
                     in->json_form, in->n_args, in->n_args ? in->args[0] : "");
        if (cases[i].warning && !find_warning(df, cases[i].warning))
            fail_msg("case %zu: no warning %s", i, cases[i].warning);
        if (!cases[i].warning && df->n_warnings)
            fail_msg("case %zu: warning %s", i, df->warnings[0].message);
        rmg_dockerfile_free(df);
    }
}

static void json_elements_keep_escapes_and_unicode(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\nCMD [\"printf\", \"a\\tb\\n\", \"\\u00e9\"]\n");
    const struct rmg_df_instr *in = &df->instrs[1];
    expect_args(in, (const char *[]){"printf", "a\tb\n", "\xC3\xA9"}, 3);
    rmg_dockerfile_free(df);
}

/* ---- heredocs -------------------------------------------------------------------------------- */

static void heredoc_run_basic(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\n"
                                      "RUN <<EOF\n"
                                      "apt-get update\n"
                                      "# not a Dockerfile comment\n"
                                      "FROM not-an-instruction\n"
                                      "EOF\n"
                                      "CMD [\"x\"]\n");
    expect_clean(df);
    assert_int_equal(df->n_instrs, 3);
    const struct rmg_df_instr *run = &df->instrs[1];
    assert_int_equal(run->line, 2);
    assert_int_equal(run->end_line, 6);
    assert_string_equal(run->text, "RUN <<EOF");
    expect_args(run, (const char *[]){"<<EOF"}, 1);
    assert_int_equal(run->n_heredocs, 1);
    assert_string_equal(run->heredocs[0].name, "EOF");
    assert_string_equal(run->heredocs[0].body,
                        "apt-get update\n# not a Dockerfile comment\nFROM not-an-instruction\n");
    assert_true(run->heredocs[0].expand);
    assert_int_equal(df->instrs[2].line, 7);
    assert_int_equal(df->n_stages, 1);
    rmg_dockerfile_free(df);
}

static void heredoc_several_on_one_line(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\n"
                                      "RUN <<FILE1 cat > /f1 && 3<<FILE2 cat > /f2\n"
                                      "one\n"
                                      "FILE1\n"
                                      "two\n"
                                      "FILE2\n"
                                      "USER app\n");
    expect_clean(df);
    const struct rmg_df_instr *run = &df->instrs[1];
    assert_int_equal(run->end_line, 6);
    assert_int_equal(run->n_heredocs, 2);
    assert_string_equal(run->heredocs[0].name, "FILE1");
    assert_string_equal(run->heredocs[0].body, "one\n");
    assert_string_equal(run->heredocs[1].name, "FILE2");
    assert_string_equal(run->heredocs[1].body, "two\n");
    assert_int_equal(df->instrs[2].kind, RMG_DF_USER);
    assert_int_equal(df->instrs[2].line, 7);
    rmg_dockerfile_free(df);
}

static void heredoc_chomp_strips_tabs(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\n"
                                      "RUN <<-EOT sh\n"
                                      "\techo one\n"
                                      "\t\t  echo two\n"
                                      "\tEOT\n"
                                      "RUN <<EOT sh\n"
                                      "\tkept\n"
                                      "EOT\n");
    expect_clean(df);
    assert_int_equal(df->instrs[1].end_line, 5);
    assert_string_equal(df->instrs[1].heredocs[0].body, "echo one\n  echo two\n");
    /* without the dash a tab-indented delimiter would not end it, and tabs stay */
    assert_string_equal(df->instrs[2].heredocs[0].body, "\tkept\n");
    rmg_dockerfile_free(df);
}

static void heredoc_quoted_delimiter_disables_expansion(void **state)
{
    (void)state;
    static const struct {
        const char *open;
        const char *name;
        bool expand;
    } cases[] = {
        {"<<EOF", "EOF", true},      {"<<\"EOF\"", "EOF", false}, {"<<'EOF'", "EOF", false},
        {"<<E\"O\"F", "EOF", false}, {"<<-\"EOF\"", "EOF", false}, {"2<<EOF", "EOF", true},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char text[128];
        snprintf(text, sizeof text, "FROM a\nRUN %s\n$HOME\n%s\n", cases[i].open,
                 cases[i].name);
        struct rmg_dockerfile *df = parse(text);
        const struct rmg_df_instr *run = &df->instrs[1];
        if (run->n_heredocs != 1 || strcmp(run->heredocs[0].name, cases[i].name) != 0 ||
            run->heredocs[0].expand != cases[i].expand)
            fail_msg("case %zu (%s)", i, cases[i].open);
        assert_string_equal(run->heredocs[0].body, "$HOME\n");
        assert_int_equal(df->n_instrs, 2);
        rmg_dockerfile_free(df);
    }
    /* `<< EOF` lexes as two words, `<<` and `EOF`: no heredoc */
    struct rmg_dockerfile *df = parse("FROM a\nRUN cat << EOF\n");
    assert_int_equal(df->instrs[1].n_heredocs, 0);
    rmg_dockerfile_free(df);
}

/* The cases of BuildKit's TestParseExtractsHeredoc, in a Dockerfile of our own. */
static void heredoc_buildkit_cases(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM alpine:3.19\n"                    /* 1 */
                                      "ENV WHO=me\n"                          /* 2 */
                                      "USER <<NOPE\n"                         /* 3 */
                                      "NOPE\n"                                /* 4 */
                                      "RUN <<EMPTY\n"                         /* 5 */
                                      "EMPTY\n"                               /* 6 */
                                      "RUN 3<<FD\n"                           /* 7 */
                                      "FD\n"                                  /* 8 */
                                      "RUN \"<<QUOTED\"\n"                    /* 9 */
                                      "RUN <<KEEP\n\tone\n\ttwo\nKEEP\n"        /* 10-13 */
                                      "RUN <<-STRIP\n\tthree\n\tfour\n\tSTRIP\n" /* 14-17 */
                                      "RUN <<-'RAW'\n\tno $WHO\nRAW\n"         /* 18-20 */
                                      "RUN --mount=type=cache,target=/c <<M\n"  /* 21 */
                                      "# kept\necho m # trailing\nM\n"        /* 22-24 */
                                      "COPY <<A <<B /dest\nB\nA\nA\nB\n");     /* 25-29 */
    static const struct {
        unsigned line, end;
        const char *names[2], *bodies[2];
        bool expand;
    } want[] = {
        {1, 1, {NULL}, {NULL}, true},
        {2, 2, {NULL}, {NULL}, true},
        {3, 3, {NULL}, {NULL}, true}, /* USER takes no heredoc */
        {4, 4, {NULL}, {NULL}, true}, /* so NOPE is an (unknown) instruction */
        {5, 6, {"EMPTY"}, {""}, true},
        {7, 8, {"FD"}, {""}, true},
        {9, 9, {NULL}, {NULL}, true},
        {10, 13, {"KEEP"}, {"\tone\n\ttwo\n"}, true},
        {14, 17, {"STRIP"}, {"three\nfour\n"}, true},
        {18, 20, {"RAW"}, {"no $WHO\n"}, false},
        {21, 24, {"M"}, {"# kept\necho m # trailing\n"}, true},
        {25, 29, {"A", "B"}, {"B\n", "A\n"}, true},
    };
    assert_int_equal(df->n_instrs, N(want));
    for (size_t i = 0; i < N(want); i++) {
        const struct rmg_df_instr *in = &df->instrs[i];
        size_t nh = want[i].names[1] ? 2 : want[i].names[0] ? 1 : 0;
        if (in->line != want[i].line || in->end_line != want[i].end || in->n_heredocs != nh)
            fail_msg("instr %zu: %u-%u, %zu heredocs", i, in->line, in->end_line,
                     in->n_heredocs);
        for (size_t h = 0; h < nh; h++) {
            assert_string_equal(in->heredocs[h].name, want[i].names[h]);
            assert_string_equal(in->heredocs[h].body, want[i].bodies[h]);
            assert_int_equal(in->heredocs[h].expand, want[i].expand);
        }
    }
    expect_warning(df, "unknown instruction: NOPE", 4);
    rmg_dockerfile_free(df);
}

static void heredoc_copy_sources(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\n"
                                      "COPY --chmod=600 <<one app.conf <<\"two\" /etc/app/\n"
                                      "token=$TOKEN\n"
                                      "one\n"
                                      "raw $X\n"
                                      "two\n");
    expect_clean(df);
    const struct rmg_df_instr *cp = &df->instrs[1];
    assert_int_equal(cp->end_line, 6);
    expect_args(cp, (const char *[]){"<<one", "app.conf", "<<\"two\"", "/etc/app/"}, 4);
    assert_int_equal(cp->n_heredocs, 2);
    const struct rmg_df_heredoc *h = rmg_dockerfile_heredoc_source(cp, 0);
    assert_non_null(h);
    assert_string_equal(h->name, "one");
    assert_string_equal(h->body, "token=$TOKEN\n");
    assert_true(h->expand);
    assert_null(rmg_dockerfile_heredoc_source(cp, 1)); /* a context path */
    h = rmg_dockerfile_heredoc_source(cp, 2);
    assert_non_null(h);
    assert_string_equal(h->body, "raw $X\n");
    assert_false(h->expand);
    assert_null(rmg_dockerfile_heredoc_source(cp, 3)); /* the destination */
    rmg_dockerfile_free(df);
}

static void heredoc_where_buildkit_sees_none(void **state)
{
    (void)state;
    /* JSON form, `<<` inside a word, and instructions other than RUN/COPY/ADD: the next
     * lines are instructions (here unknown ones). */
    static const char *const lines[] = {"RUN [\"cat\", \"<<EOF\"]", "RUN cat<<EOF",
                                        "CMD cat <<EOF", "ENV A=<<EOF",
                                        /* the line does not lex (open quote): BuildKit finds
                                           no heredoc at all */
                                        "RUN cat <<EOF 'open"};
    for (size_t i = 0; i < N(lines); i++) {
        char text[128];
        snprintf(text, sizeof text, "FROM a\n%s\nhello\nEOF\n", lines[i]);
        struct rmg_dockerfile *df = parse(text);
        if (df->instrs[1].n_heredocs != 0 || df->n_instrs != 4)
            fail_msg("case %zu: %zu heredocs, %zu instrs", i, df->instrs[1].n_heredocs,
                     df->n_instrs);
        expect_warning(df, "unknown instruction: hello", 3);
        rmg_dockerfile_free(df);
    }
}

static void heredoc_onbuild_crlf_and_unterminated(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\r\n"
                                      "ONBUILD RUN <<EOF\r\n"
                                      "echo hi\r\n"
                                      "EOF\r\n"
                                      "ADD <<X /x\n"
                                      "never ends\n");
    assert_int_equal(df->n_instrs, 3);
    const struct rmg_df_instr *ob = &df->instrs[1];
    assert_int_equal(ob->kind, RMG_DF_ONBUILD);
    expect_args(ob, (const char *[]){"RUN <<EOF"}, 1);
    assert_int_equal(ob->n_heredocs, 1);
    assert_string_equal(ob->heredocs[0].body, "echo hi\r\n");
    assert_int_equal(ob->end_line, 4);
    const struct rmg_df_instr *add = &df->instrs[2];
    assert_int_equal(add->n_heredocs, 1);
    assert_string_equal(add->heredocs[0].body, "never ends\n");
    assert_int_equal(add->end_line, 6);
    expect_warning(df, "unterminated heredoc X", 5);
    rmg_dockerfile_free(df);
}

/* ---- flags ----------------------------------------------------------------------------------- */

static void flags_parsed_and_expanded(void **state)
{
    (void)state;
    const char *args[] = {"BUILDPLATFORM=linux/amd64", "UID=1001"};
    struct rmg_dockerfile *df = parse_with(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "FROM alpine\n"
        "ARG UID\n"
        "COPY --from=build --chown=${UID}:${GID:-100} --chmod=0644 --link src/ /app/\n"
        "RUN --mount=type=cache,target=/root/.cache/${UID} --mount=type=secret,id=npm "
        "--network=none make\n"
        "COPY --chown=\"app user\" -- --odd-name /dst\n"
        "ADD --checksum=sha256:${SUM:-abc} https://example.com/x.tgz /x/\n",
        args, N(args));
    expect_clean(df);
    const struct rmg_df_instr *from = &df->instrs[0];
    assert_int_equal(from->n_flags, 1);
    assert_string_equal(from->flags[0], "--platform=linux/amd64");
    const struct rmg_df_instr *cp = &df->instrs[3];
    assert_int_equal(cp->n_flags, 4);
    assert_string_equal(cp->flags[0], "--from=build");
    assert_string_equal(cp->flags[1], "--chown=1001:100");
    assert_string_equal(cp->flags[2], "--chmod=0644");
    assert_string_equal(cp->flags[3], "--link");
    expect_args(cp, (const char *[]){"src/", "/app/"}, 2);
    const struct rmg_df_instr *run = &df->instrs[4];
    assert_int_equal(run->n_flags, 3);
    assert_string_equal(run->flags[0], "--mount=type=cache,target=/root/.cache/1001");
    assert_string_equal(run->flags[1], "--mount=type=secret,id=npm");
    assert_string_equal(run->flags[2], "--network=none");
    expect_args(run, (const char *[]){"make"}, 1);
    /* quotes removed from flags; `--` ends them */
    const struct rmg_df_instr *odd = &df->instrs[5];
    assert_int_equal(odd->n_flags, 1);
    assert_string_equal(odd->flags[0], "--chown=app user");
    expect_args(odd, (const char *[]){"--odd-name", "/dst"}, 2);
    assert_string_equal(df->instrs[6].flags[0], "--checksum=sha256:abc");
    rmg_dockerfile_free(df);
}

static void flags_unknown_and_from_variables_warn(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a AS one\n"
                                      "COPY --frm=one x /y\n"
                                      "ARG SRC=one\n"
                                      "COPY --from=$SRC x /y\n"
                                      "ENV --weird=1 A=b\n");
    expect_warning(df, "unknown flag: --frm", 2);
    expect_warning(df, "variable expansion is not supported for --from", 4);
    expect_warning(df, "unknown flag: --weird", 5);
    /* --from stays as written */
    assert_string_equal(df->instrs[3].flags[0], "--from=$SRC");
    rmg_dockerfile_free(df);
}

/* ---- stages ---------------------------------------------------------------------------------- */

static void multistage_names_indexes_and_bases(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("ARG GO=1.22\n"
                                      "FROM golang:${GO} AS build\n"
                                      "RUN go build -o /out/app\n"
                                      "FROM build AS test\n"
                                      "RUN go test\n"
                                      "FROM scratch\n"
                                      "COPY --from=build /out/app /app\n"
                                      "FROM TEST\n");
    expect_clean(df);
    assert_int_equal(df->n_stages, 4);
    assert_string_equal(df->stages[0].name, "build");
    assert_string_equal(df->stages[0].base, "golang:1.22");
    assert_int_equal(df->stages[0].base_stage, -1);
    assert_int_equal(df->stages[0].line, 2);
    assert_string_equal(df->stages[1].base, "build");
    assert_int_equal(df->stages[1].base_stage, 0);
    assert_null(df->stages[2].name);
    assert_string_equal(df->stages[2].base, "scratch");
    assert_int_equal(df->stages[2].base_stage, -1);
    assert_int_equal(df->stages[3].base_stage, 1); /* names compare lower-cased */
    assert_int_equal(rmg_dockerfile_final_stage(df), 3);
    static const int stage_of[] = {-1, 0, 0, 1, 1, 2, 2, 3};
    assert_int_equal(df->n_instrs, N(stage_of));
    for (size_t i = 0; i < N(stage_of); i++)
        assert_int_equal(df->instrs[i].stage, stage_of[i]);
    rmg_dockerfile_free(df);
}

static void stage_references(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM alpine AS deps\nFROM alpine AS build\n"
                                      "FROM alpine AS build\nFROM debian\n");
    static const struct {
        const char *from;
        int stage;
    } cases[] = {
        {"deps", 0},  {"DEPS", 0},   {"build", 2}, /* the last of a duplicated name */
        {"0", 0},     {"3", 3},      {"+1", 1},    {"4", -1}, {"-1", -1},
        {"alpine", -1}, {"ghcr.io/x/y:1", -1}, {"", -1}, {"99999999999999999999", -1},
    };
    for (size_t i = 0; i < N(cases); i++)
        if (rmg_dockerfile_stage_ref(df, cases[i].from) != cases[i].stage)
            fail_msg("%s: %d", cases[i].from, rmg_dockerfile_stage_ref(df, cases[i].from));
    assert_int_equal(rmg_dockerfile_stage_ref(df, NULL), -1);
    expect_warning(df, "DuplicateStageName", 3);
    rmg_dockerfile_free(df);
    /* a duplicated name does not hide an earlier base */
    df = parse("FROM a AS base\nFROM b AS dup\nFROM base AS dup\n");
    assert_int_equal(df->stages[2].base_stage, 0);
    expect_warning(df, "DuplicateStageName: Duplicate stage name \"dup\"", 3);
    rmg_dockerfile_free(df);
        /* FROM binds only an earlier stage; none at all */
    df = parse("FROM later AS first\nFROM alpine AS later\n");
    assert_int_equal(df->stages[0].base_stage, -1);
    assert_int_equal(rmg_dockerfile_final_stage(df), 1);
    rmg_dockerfile_free(df);
    df = parse("ARG A=1\n");
    assert_int_equal(rmg_dockerfile_final_stage(df), -1);
    expect_warning(df, "no stages to build", 0);
    rmg_dockerfile_free(df);
}

static void copy_from_bad_references_warn(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a AS one\n"
                                      "COPY --from=two /x /x\n"
                                      "COPY --from=1 /x /x\n"
                                      "COPY --from=7 /x /x\n"
                                      "FROM b AS two\n"
                                      "COPY --from=one /x /x\n"
                                      "COPY --from=0 /x /x\n"
                                      "COPY --from=nginx:1 /x /x\n");
    expect_warning(df, "cannot copy from stage \"two\"", 2);
    expect_warning(df, "cannot copy from stage \"1\"", 3);
    expect_warning(df, "invalid stage index 7", 4);
    assert_int_equal(df->n_warnings, 3);
    rmg_dockerfile_free(df);
}

static void from_arguments_checked(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM\nFROM a AS\nFROM a AS 1bad\nFROM $EMPTY\n");
    expect_warning(df, "FROM requires either one or three arguments", 1);
    expect_warning(df, "invalid name for build stage: \"1bad\"", 3);
    expect_warning(df, "base name ($EMPTY) should not be blank", 4);
    rmg_dockerfile_free(df);
}

/* ---- variable expansion ---------------------------------------------------------------------- */

/* Each Dockerfile here ends with `COPY <word> /dst`; its first argument is what the word
 * expands to. */
static void expansion_forms(void **state)
{
    (void)state;
    static const struct {
        const char *setup; /* lines after FROM */
        const char *word;
        const char *want;
    } cases[] = {
        {"ENV X=val", "$X", "val"},
        {"ENV X=val", "${X}", "val"},
        {"ENV X=val", "a${X}b$X.c", "avalbval.c"},
        {"", "${X:-def}", "def"},
        {"ENV X=", "${X:-def}", "def"},
        {"ENV X=", "${X-def}", ""},
        {"", "${X-def}", "def"},
        {"ENV X=val", "${X:-def}", "val"},
        {"ENV X=val", "${X:+alt}", "alt"},
        {"ENV X=", "${X:+alt}", ""},
        {"ENV X=", "${X+alt}", "alt"},
        {"", "${X+alt}", ""},
        {"ENV X=val", "\\$X", "$X"},
        {"ENV X=val", "'$X'", "$X"},
        {"ENV X=val", "\"$X\"", "val"},
        {"ENV X=val", "\"\\$X\"", "$X"},
        {"ENV X=val", "a\\b", "ab"},
        {"ENV X=val", "\"a\\b\"", "a\\b"},
        {"", "$$", ""},
        {"", "$1", ""},
        {"", "cost$", "cost$"},
        {"", "${X:-${Y:-deep}}", "deep"},
        {"ENV P=/usr/local/bin/tool", "${P#*/}", "usr/local/bin/tool"},
        {"ENV P=/usr/local/bin/tool", "${P##*/}", "tool"},
        {"ENV P=/usr/local/bin/tool", "${P%/*}", "/usr/local/bin"},
        {"ENV P=/usr/local/bin/tool", "${P%%/*}", ""},
        {"ENV P=a.b.c", "${P/./-}", "a-b.c"},
        {"ENV P=a.b.c", "${P//./-}", "a-b-c"},
        {"ENV P=x?y", "${P/\\?/!}", "x!y"},
        {"ENV P=aaa", "${P//a/}", ""},
        {"ENV P=abc", "${P/b/\\}}", "a\\}c"}, /* BuildKit keeps escapes in the replacement */
        {"ENV X=1 Y=${X:-none}", "$Y", "none"}, /* ENV sees the values before it */
        {"ENV X=1\nENV Y=${X:-none}", "$Y", "1"},
        {"ARG X\nENV Y=${X-unset}", "$Y", "unset"},
        {"ARG X=\nENV Y=${X-unset}", "$Y", ""},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char text[512];
        snprintf(text, sizeof text, "FROM a\n%s\nCOPY %s /dst\n", cases[i].setup, cases[i].word);
        struct rmg_dockerfile *df = parse(text);
        const struct rmg_df_instr *cp = &df->instrs[df->n_instrs - 1];
        if (cp->kind != RMG_DF_COPY || cp->n_args != 2 || strcmp(cp->args[0], cases[i].want))
            fail_msg("case %zu (%s): got <%s>, want <%s>", i, cases[i].word,
                     cp->n_args ? cp->args[0] : "", cases[i].want);
        if (df->n_warnings)
            fail_msg("case %zu: warning %s", i, df->warnings[0].message);
        rmg_dockerfile_free(df);
    }
}

static void expansion_errors_keep_raw_word(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        const char *warning;
    } cases[] = {
        {"${X:?must-be-set}", "X: must-be-set"},
        {"${Y?}", "Y: is not allowed to be unset"},
        {"${X:?}", "X: is not allowed to be empty"},
        {"${P//a}", "missing '/' in ${}"},
        {"${}", "bad substitution"},
        {"${X", "unsupported modifier"},
        {"${X:-abc", "missing '}'"},
        {"\"open", "matching double-quote"},
        {"'open", "matching single-quote"},
        {"${X:=a}", "unsupported modifier (:=)"},
        {"${X#\\a}", "invalid escape"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char text[256];
        snprintf(text, sizeof text, "FROM a\nENV X=\nCOPY %s /dst\n", cases[i].word);
        struct rmg_dockerfile *df = parse(text);
        const struct rmg_df_instr *cp = &df->instrs[2];
        assert_string_equal(cp->args[0], cases[i].word);
        if (!find_warning(df, cases[i].warning))
            fail_msg("case %zu (%s): %s", i, cases[i].word,
                     df->n_warnings ? df->warnings[0].message : "no warning");
        assert_int_equal(df->warnings[0].line, 3);
        rmg_dockerfile_free(df);
    }
}

static void copy_sources_and_workdir_expanded(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM node:20\n"
                                      "ARG APP_DIR=/srv/app\n"
                                      "ENV CFG=config\n"
                                      "WORKDIR ${APP_DIR:-/default}\n"
                                      "COPY ${CFG}/*.json ${SRC:-src} ./\n"
                                      "COPY [\"${CFG}/a b.txt\", \"$APP_DIR/\"]\n"
                                      "VOLUME $APP_DIR/data\n"
                                      "USER ${USR:-node}\n"
                                      "EXPOSE ${PORT:-3000} 9229/udp\n"
                                      "STOPSIGNAL ${SIG:-SIGTERM}\n"
                                      "RUN echo $CFG\n"
                                      "CMD [\"echo\", \"$CFG\"]\n");
    expect_clean(df);
    assert_string_equal(df->instrs[3].workdir, "/srv/app");
    expect_args(&df->instrs[4], (const char *[]){"config/*.json", "src", "./"}, 3);
    assert_string_equal(df->instrs[4].workdir, "/srv/app");
    expect_args(&df->instrs[5], (const char *[]){"config/a b.txt", "/srv/app/"}, 2);
    expect_args(&df->instrs[6], (const char *[]){"/srv/app/data"}, 1);
    expect_args(&df->instrs[7], (const char *[]){"node"}, 1);
    expect_args(&df->instrs[8], (const char *[]){"3000", "9229/udp"}, 2);
    expect_args(&df->instrs[9], (const char *[]){"SIGTERM"}, 1);
    /* never expanded: RUN, CMD */
    expect_args(&df->instrs[10], (const char *[]){"echo $CFG"}, 1);
    expect_args(&df->instrs[11], (const char *[]){"echo", "$CFG"}, 2);
    rmg_dockerfile_free(df);
}

static void global_args_visible_in_from_only(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("ARG REG=docker.io\n"
                                      "ARG TAG=${REG}/lib\n"
                                      "ARG EMPTY\n"
                                      "FROM ${TAG}/alpine${EMPTY-:latest}\n"
                                      "COPY ${REG:-none} /a\n"
                                      "ARG REG\n"
                                      "COPY ${REG:-none} /b\n"
                                      "ARG EMPTY\n"
                                      "COPY ${EMPTY-unset} /c\n");
    expect_clean(df);
    /* a global ARG without a value is set to "" for FROM lines */
    assert_string_equal(df->stages[0].base, "docker.io/lib/alpine");
    assert_int_equal(df->instrs[0].stage, -1);
    assert_null(df->instrs[0].workdir);
    assert_string_equal(df->instrs[1].kvs[0].value, "docker.io/lib");
    assert_false(df->instrs[2].kvs[0].has_value);
    assert_null(df->instrs[2].kvs[0].value);
    assert_string_equal(df->instrs[4].args[0], "none");
    assert_string_equal(df->instrs[6].args[0], "docker.io"); /* redeclared: the global value */
    assert_string_equal(df->instrs[8].args[0], "unset");     /* but no value stays unset */
    rmg_dockerfile_free(df);
}

static void build_args_override_defaults(void **state)
{
    (void)state;
    const char *args[] = {"VER=3.20", "TOKEN=from-cli", "UNDECLARED=x", "NOEQUALS"};
    struct rmg_dockerfile *df = parse_with("ARG VER=3.19\n"
                                           "FROM alpine:${VER}\n"
                                           "ARG TOKEN=in-file\n"
                                           "ARG VER\n"
                                           "COPY $TOKEN/$VER/${UNDECLARED:-none} /x\n"
                                           "ARG NOEQUALS\n"
                                           "COPY ${NOEQUALS-unset} /y\n",
                                           args, N(args));
    expect_clean(df);
    assert_string_equal(df->stages[0].base, "alpine:3.20");
    /* the ARG's own value is the default written in the file */
    assert_string_equal(df->instrs[0].kvs[0].value, "3.19");
    assert_string_equal(df->instrs[2].kvs[0].value, "in-file");
    assert_string_equal(df->instrs[4].args[0], "from-cli/3.20/none");
    assert_string_equal(df->instrs[6].args[0], "unset");
    rmg_dockerfile_free(df);
}

static void build_arg_skips_failing_default(void **state)
{
    (void)state;
    /* BuildKit does not evaluate a default a build arg replaces: no error then. */
    const char *args[] = {"V=given"};
    struct rmg_dockerfile *df = parse_with("FROM a\nARG V=${MISSING:?required}\nCOPY $V /\n",
                                           args, N(args));
    expect_clean(df);
    assert_string_equal(df->instrs[2].args[0], "given");
    rmg_dockerfile_free(df);
    df = parse("FROM a\nARG V=${MISSING:?required}\nCOPY $V /\n");
    expect_warning(df, "MISSING: required", 2);
    rmg_dockerfile_free(df);
}

static void env_forms(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\n"
                                      "ENV A=1 B=\"two words\" C='$A' D=$A\n"
                                      "ENV LEGACY value with   spaces\n"
                                      "ENV A=2 E=${A}\n"
                                      "COPY $A$E /x\n");
    const struct rmg_df_instr *e1 = &df->instrs[1];
    assert_int_equal(e1->n_kvs, 4);
    static const char *const k1[] = {"A", "B", "C", "D"};
    static const char *const v1[] = {"1", "two words", "$A", ""};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(e1->kvs[i].key, k1[i]);
        assert_string_equal(e1->kvs[i].value, v1[i]);
        assert_true(e1->kvs[i].has_value);
    }
    assert_int_equal(df->instrs[2].n_kvs, 1);
    assert_string_equal(df->instrs[2].kvs[0].key, "LEGACY");
    assert_string_equal(df->instrs[2].kvs[0].value, "value with   spaces");
    expect_warning(df, "LegacyKeyValueFormat", 3);
    assert_string_equal(df->instrs[3].kvs[1].value, "1");
    assert_string_equal(df->instrs[4].args[0], "21");
    rmg_dockerfile_free(df);
    df = parse("FROM a\nENV ONLYKEY\nENV A=1 stray\n");
    expect_warning(df, "ENV must have two arguments", 2);
    expect_warning(df, "can't find = in \"stray\"", 3);
    assert_int_equal(df->instrs[2].n_kvs, 1);
    rmg_dockerfile_free(df);
}

static void env_inherited_by_child_stage(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM debian AS base\n"
                                      "ARG BUILD_ID=7\n"
                                      "ENV PREFIX=/opt/tool\n"
                                      "WORKDIR /work\n"
                                      "FROM base\n"
                                      "COPY bin $PREFIX/$BUILD_ID\n"
                                      "FROM debian\n"
                                      "COPY bin ${PREFIX:-none}\n");
    expect_clean(df);
    assert_string_equal(df->instrs[5].args[1], "/opt/tool/7");
    assert_string_equal(df->instrs[5].workdir, "/work");
    assert_string_equal(df->instrs[7].args[1], "none");
    assert_string_equal(df->instrs[7].workdir, "/");
    rmg_dockerfile_free(df);
}

static void label_pairs_with_quotes(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\nENV V=1.0\n"
                                      "LABEL k=v k2=\"v 2\" \"com.example.k3\"='single $V' "
                                      "k4=\"say \\\"hi\\\" $V\" \\\n"
                                      "      k5=multi\\ word\n");
    expect_clean(df);
    const struct rmg_df_instr *lb = &df->instrs[2];
    assert_int_equal(lb->end_line, 4);
    static const char *const keys[] = {"k", "k2", "com.example.k3", "k4", "k5"};
    static const char *const vals[] = {"v", "v 2", "single $V", "say \"hi\" 1.0", "multi word"};
    assert_int_equal(lb->n_kvs, N(keys));
    for (size_t i = 0; i < N(keys); i++) {
        assert_string_equal(lb->kvs[i].key, keys[i]);
        assert_string_equal(lb->kvs[i].value, vals[i]);
    }
    rmg_dockerfile_free(df);
}

static void arg_forms(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\nARG A B=1 C=\"x y\" D= E=$B\n");
    expect_clean(df);
    const struct rmg_df_instr *in = &df->instrs[1];
    assert_int_equal(in->n_kvs, 5);
    assert_string_equal(in->kvs[0].key, "A");
    assert_false(in->kvs[0].has_value);
    assert_string_equal(in->kvs[2].value, "x y");
    assert_true(in->kvs[3].has_value);
    assert_string_equal(in->kvs[3].value, "");
    assert_string_equal(in->kvs[4].value, "1"); /* one name after the other */
    rmg_dockerfile_free(df);
}

/* ---- WORKDIR --------------------------------------------------------------------------------- */

static void workdir_tracking(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\n"
                                      "COPY x y\n"
                                      "WORKDIR /app\n"
                                      "WORKDIR src/./lib/\n"
                                      "WORKDIR ../bin\n"
                                      "COPY x y\n"
                                      "WORKDIR /abs//kept/\n"
                                      "FROM b\n"
                                      "WORKDIR rel\n");
    static const char *const want[] = {"/", "/", "/app", "/app/src/lib", "/app/src/bin",
                                       "/app/src/bin", "/abs//kept/", "/", "/rel"};
    assert_int_equal(df->n_instrs, N(want));
    for (size_t i = 0; i < N(want); i++)
        if (strcmp(df->instrs[i].workdir, want[i]) != 0)
            fail_msg("instr %zu: %s, want %s", i, df->instrs[i].workdir, want[i]);
    expect_warning(df, "WorkdirRelativePath: Relative workdir \"rel\"", 9);
    assert_int_equal(df->n_warnings, 1);
    rmg_dockerfile_free(df);
}

/* ---- line numbers ---------------------------------------------------------------------------- */

static void line_numbers_exact(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned lines[8][2];
        size_t n;
    } cases[] = {
        {"FROM a\nRUN b\n", {{1, 1}, {2, 2}}, 2},
        {"# syntax=x\n\n# c\nFROM a\n\n\nRUN b", {{4, 4}, {7, 7}}, 2},
        {"FROM a \\\n  AS b\nRUN x \\\n# c\n\n  y \\\n  z\nCMD c\n", {{1, 2}, {3, 7}, {8, 8}}, 3},
        {"FROM a\nCOPY <<A <<B /\na\nA\nb\nB\n\nRUN x\n", {{1, 1}, {2, 6}, {8, 8}}, 3},
        {"FROM a\nRUN x \\\n  <<EOF\nbody\nEOF\nRUN y\n", {{1, 1}, {2, 5}, {6, 6}}, 3},
        {"\r\n\r\nFROM a\r\nRUN b\r\n", {{3, 3}, {4, 4}}, 2},
        {"FROM a\nRUN x \\\n\n\n", {{1, 1}, {2, 4}}, 2},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct rmg_dockerfile *df = parse(cases[i].text);
        if (df->n_instrs != cases[i].n)
            fail_msg("case %zu: %zu instructions", i, df->n_instrs);
        for (size_t j = 0; j < cases[i].n; j++)
            if (df->instrs[j].line != cases[i].lines[j][0] ||
                df->instrs[j].end_line != cases[i].lines[j][1])
                fail_msg("case %zu instr %zu: %u-%u, want %u-%u", i, j, df->instrs[j].line,
                         df->instrs[j].end_line, cases[i].lines[j][0], cases[i].lines[j][1]);
        rmg_dockerfile_free(df);
    }
}

/* ---- warnings -------------------------------------------------------------------------------- */

static void unknown_and_misplaced_instructions_warn(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("ENV EARLY=1\n"
                                      "FROM a\n"
                                      "COPPY x y\n"
                                      "FOOBAR baz\n"
                                      "MAINTAINER me\n"
                                      "ONBUILD ONBUILD RUN x\n"
                                      "ONBUILD FROM y\n");
    expect_warning(df, "ENV: no build stage in current context", 1);
    expect_warning(df, "unknown instruction: COPPY (did you mean copy?)", 3);
    expect_warning(df, "unknown instruction: FOOBAR", 4);
    expect_warning(df, "MaintainerDeprecated", 5);
    expect_warning(df, "Chaining ONBUILD", 6);
    expect_warning(df, "FROM isn't allowed as an ONBUILD trigger", 7);
    assert_int_equal(df->instrs[2].kind, RMG_DF_UNKNOWN);
    assert_string_equal(df->instrs[2].keyword, "COPPY");
    expect_args(&df->instrs[2], (const char *[]){"x y"}, 1);
    assert_int_equal(df->instrs[0].stage, -1);
    rmg_dockerfile_free(df);
}

static void missing_arguments_warn(void **state)
{
    (void)state;
    struct rmg_dockerfile *df = parse("FROM a\nCOPY onlyone\nWORKDIR\nEXPOSE\nCOPY x <<EOF\nEOF\n"
                                      "HEALTHCHECK NONE x\nHEALTHCHECK PING x\n");
    expect_warning(df, "COPY requires at least two arguments", 2);
    expect_warning(df, "WORKDIR requires exactly one argument", 3);
    expect_warning(df, "EXPOSE requires at least one argument", 4);
    expect_warning(df, "cannot accept a heredoc as a destination", 5);
    expect_warning(df, "HEALTHCHECK NONE takes no arguments", 7);
    expect_warning(df, "Unknown type \"PING\" in HEALTHCHECK", 8);
    rmg_dockerfile_free(df);
}

static void empty_and_comment_only_files(void **state)
{
    (void)state;
    static const char *const texts[] = {"", "\n\n", "# just a comment\n", "  \t\n"};
    for (size_t i = 0; i < N(texts); i++) {
        struct rmg_dockerfile *df = parse(texts[i]);
        assert_int_equal(df->n_instrs, 0);
        assert_int_equal(df->n_stages, 0);
        expect_warning(df, "cannot be empty", 0);
        rmg_dockerfile_free(df);
    }
}

/* ---- limits and untrusted text --------------------------------------------------------------- */

static void limits_reject_oversized_input(void **state)
{
    (void)state;
    char err[256] = "";
    struct rmg_dockerfile *df = (struct rmg_dockerfile *)1;
    size_t big = RMG_DF_MAX_TEXT + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '\n', big);
    assert_int_equal(rmg_dockerfile_parse(text, big, "big", NULL, 0, &df, err, sizeof err),
                     RMG_EINPUT);
    assert_null(df);
    assert_non_null(strstr(err, "big"));
    /* RMG_DF_MAX_INSTRS + 1 instructions, well under the size limit */
    size_t n = 0;
    for (int i = 0; i <= RMG_DF_MAX_INSTRS; i++)
        n += (size_t)snprintf(text + n, big - n, "RUN %d\n", i);
    assert_int_equal(rmg_dockerfile_parse(text, n, "many", NULL, 0, &df, err, sizeof err),
                     RMG_EINPUT);
    assert_null(df);
    assert_non_null(strstr(err, "instructions"));
    /* RMG_DF_MAX_WORDS + 1 words in one COPY */
    n = (size_t)snprintf(text, big, "FROM a\nCOPY");
    for (int i = 0; i < RMG_DF_MAX_WORDS; i++)
        n += (size_t)snprintf(text + n, big - n, " f%d", i);
    assert_int_equal(rmg_dockerfile_parse(text, n, "words", NULL, 0, &df, err, sizeof err),
                     RMG_EINPUT);
    assert_null(df);
    assert_non_null(strstr(err, "words"));
    /* one fewer parses (BuildKit would refuse a line that long: a warning) */
    n -= strlen(" f199999");
    n += (size_t)snprintf(text + n, big - n, "\n");
    assert_int_equal(rmg_dockerfile_parse(text, n, "words", NULL, 0, &df, err, sizeof err),
                     RMG_WARN);
    assert_int_equal(df->instrs[1].n_args, RMG_DF_MAX_WORDS - 1); /* + FROM's word */
    assert_int_equal(df->n_warnings, 1);
    expect_warning(df, "line greater than max allowed size of 65535", 2);
    rmg_dockerfile_free(df);
    free(text);
}

static void expansion_blowup_is_bounded(void **state)
{
    (void)state;
    /* Each ENV doubles $A: 2^60 bytes unbounded. */
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "FROM a\nENV A=0123456789abcdef\n");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "ENV A=$A$A\n");
    snprintf(text + n, sizeof text - n, "COPY $A /x\n");
    clock_t t0 = clock();
    struct rmg_dockerfile *df = parse(text);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 5.0);
    assert_non_null(find_warning(df, "expanded value too long"));
    assert_true(strlen(df->instrs[df->n_instrs - 1].args[0]) <= (1u << 20));
    rmg_dockerfile_free(df);
}

static void deep_nesting_and_scope_copies_bounded(void **state)
{
    (void)state;
    /* ${A:-${A:-...}} 5000 deep, then 3000 stages each copying a big scope. */
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text, cap, "FROM a AS s0\nCOPY ");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(text + n, cap - n, "${A:-");
    for (int i = 0; i < 5000; i++)
        text[n++] = '}';
    n += (size_t)snprintf(text + n, cap - n, " /x\nENV ");
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(text + n, cap - n, "V%d=%064d ", i, i);
    text[n++] = '\n';
    for (int i = 1; i < 3000; i++)
        n += (size_t)snprintf(text + n, cap - n, "FROM s%d AS s%d\n", i - 1, i);
    text[n] = '\0';
    clock_t t0 = clock();
    struct rmg_dockerfile *df = parse(text);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 10.0);
    expect_warning(df, "variable expansion nested too deeply", 2);
    assert_non_null(find_warning(df, "limit reached"));
    assert_int_equal(df->n_stages, 3000);
    assert_int_equal(df->stages[2999].base_stage, 2998);
    rmg_dockerfile_free(df);
    free(text);
}

static void text_need_not_be_terminated(void **state)
{
    (void)state;
    /* Only the first len bytes count: "FROM a\nRUN b" of a longer buffer. */
    static const char buf[] = "FROM a\nRUN bXXXX";
    struct rmg_dockerfile *df = NULL;
    char err[128];
    assert_int_equal(rmg_dockerfile_parse(buf, 12, "t", NULL, 0, &df, err, sizeof err), RMG_OK);
    assert_int_equal(df->n_instrs, 2);
    expect_args(&df->instrs[1], (const char *[]){"b"}, 1);
    rmg_dockerfile_free(df);
    rmg_dockerfile_free(NULL);
    /* NUL bytes and invalid UTF-8 are only text */
    static const char odd[] = "FROM a\nRUN \x00\xff\xfe x\nENV \xc3=\x80\n";
    assert_true(rmg_dockerfile_parse(odd, sizeof odd - 1, "t", NULL, 0, &df, err, sizeof err) <=
                RMG_WARN);
    assert_int_equal(df->n_instrs, 3);
    rmg_dockerfile_free(df);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(continuation_joins_lines),
        cmocka_unit_test(continuation_skips_comments_and_blank_lines),
        cmocka_unit_test(continuation_edge_cases),
        cmocka_unit_test(comments_only_at_line_start),
        cmocka_unit_test(keywords_case_insensitive),
        cmocka_unit_test(escape_directive_only_at_top),
        cmocka_unit_test(escape_backtick_windows_paths),
        cmocka_unit_test(json_or_shell_form),
        cmocka_unit_test(json_elements_keep_escapes_and_unicode),
        cmocka_unit_test(heredoc_run_basic),
        cmocka_unit_test(heredoc_several_on_one_line),
        cmocka_unit_test(heredoc_chomp_strips_tabs),
        cmocka_unit_test(heredoc_quoted_delimiter_disables_expansion),
        cmocka_unit_test(heredoc_buildkit_cases),
        cmocka_unit_test(heredoc_copy_sources),
        cmocka_unit_test(heredoc_where_buildkit_sees_none),
        cmocka_unit_test(heredoc_onbuild_crlf_and_unterminated),
        cmocka_unit_test(flags_parsed_and_expanded),
        cmocka_unit_test(flags_unknown_and_from_variables_warn),
        cmocka_unit_test(multistage_names_indexes_and_bases),
        cmocka_unit_test(stage_references),
        cmocka_unit_test(copy_from_bad_references_warn),
        cmocka_unit_test(from_arguments_checked),
        cmocka_unit_test(expansion_forms),
        cmocka_unit_test(expansion_errors_keep_raw_word),
        cmocka_unit_test(copy_sources_and_workdir_expanded),
        cmocka_unit_test(global_args_visible_in_from_only),
        cmocka_unit_test(build_args_override_defaults),
        cmocka_unit_test(build_arg_skips_failing_default),
        cmocka_unit_test(env_forms),
        cmocka_unit_test(env_inherited_by_child_stage),
        cmocka_unit_test(label_pairs_with_quotes),
        cmocka_unit_test(arg_forms),
        cmocka_unit_test(workdir_tracking),
        cmocka_unit_test(line_numbers_exact),
        cmocka_unit_test(unknown_and_misplaced_instructions_warn),
        cmocka_unit_test(missing_arguments_warn),
        cmocka_unit_test(empty_and_comment_only_files),
        cmocka_unit_test(limits_reject_oversized_input),
        cmocka_unit_test(expansion_blowup_is_bounded),
        cmocka_unit_test(deep_nesting_and_scope_copies_bounded),
        cmocka_unit_test(text_need_not_be_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
