/* dockerfile.h: a Dockerfile parsed the way BuildKit parses it: instructions with their exact
 * lines, flags, arguments, heredocs and key/value pairs, build stages, and the variables
 * BuildKit expands (ARG/ENV scoping, build args), so a caller can tell which COPY/ADD puts
 * which file into which stage and what ENV/ARG/LABEL/RUN carry.
 *
 * DESIGN. One pass over the text, mirroring moby/buildkit's frontend/dockerfile: parser.go
 * (lines, continuations, comments, directives, heredocs), split_command.go and line_parsers.go
 * (flags, JSON vs shell form, words), shell/lex.go (quotes, escapes, $VAR and ${VAR...}
 * expansion) and instructions/ + dockerfile2llb (which instructions expand what, ARG and ENV
 * scope, stages). Where BuildKit fails the whole build, this parser records a warning and goes
 * on (a secret scanner wants to read broken Dockerfiles too). The text is untrusted: its size,
 * the number of instructions and warnings, nesting and the total work of variable expansion
 * are bounded, so any input parses in time and memory linear in its size.
 *
 * The implementation: dockerfile_parse.c (rmg_dockerfile_parse, the loop over lines) on top of
 * dockerfile_instr.c (one instruction; rmg_df_kind_name), dockerfile_split.c (split_command.go,
 * line_parsers.go), dockerfile_heredoc.c (also rmg_dockerfile_heredoc_source),
 * dockerfile_stage.c (FROM, WORKDIR, --from), dockerfile_lex.c (shell/lex.go),
 * dockerfile_state.c (scopes, warnings, budget) and dockerfile_text.c; dockerfile.c frees the
 * result and finds its stages. */
#ifndef RMG_DOCKERFILE_H
#define RMG_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "rummage.h"

#define RMG_DF_MAX_TEXT (10u << 20)  /* bytes of Dockerfile text accepted */
#define RMG_DF_MAX_INSTRS 10000      /* instructions accepted */
#define RMG_DF_MAX_WORDS 200000      /* words (arguments, flags, ENV/LABEL/ARG pairs) accepted */

enum rmg_df_kind {
    RMG_DF_FROM, RMG_DF_RUN, RMG_DF_CMD, RMG_DF_LABEL, RMG_DF_EXPOSE, RMG_DF_ENV,
    RMG_DF_ADD, RMG_DF_COPY, RMG_DF_ENTRYPOINT, RMG_DF_VOLUME, RMG_DF_USER, RMG_DF_WORKDIR,
    RMG_DF_ARG, RMG_DF_ONBUILD, RMG_DF_STOPSIGNAL, RMG_DF_HEALTHCHECK, RMG_DF_SHELL,
    RMG_DF_MAINTAINER, RMG_DF_UNKNOWN
};

/* One pair of ENV, LABEL or ARG. ENV and LABEL: key and value after expansion (both are
 * expanded, against the variables in effect before the instruction). ARG: key as written,
 * value = the default as declared, expanded (NULL and has_value false for `ARG NAME`). A build
 * arg does not change an ARG's value here; it changes what later expansions see. */
struct rmg_df_kv {
    char *key, *value;
    bool has_value;
};

/* A heredoc (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) of RUN, COPY or ADD (or ONBUILD of one).
 * body: the lines between the instruction and the delimiter line, each with its line ending,
 * leading tabs stripped for `<<-`, never expanded. expand: no part of the delimiter was quoted,
 * so BuildKit (COPY/ADD) or the shell (RUN) would expand variables in the body. */
struct rmg_df_heredoc {
    char *name;
    char *body;
    bool expand;
};

struct rmg_df_instr {
    enum rmg_df_kind kind;
    char *keyword;           /* upper-cased as written, e.g. "COPY"; unknown ones too */
    unsigned line, end_line; /* 1-based physical lines; end_line includes continuation lines,
                                comment and blank lines inside them, and heredoc bodies with
                                their delimiter line */
    char *text;              /* the logical line: continuations joined as BuildKit joins them
                                (escape and line ending removed, comment and blank lines
                                inside dropped), trimmed; no heredoc bodies */
    bool json_form;          /* the arguments were a JSON array (exec form) */
    char **flags;            /* "--from=builder", "--link", "--mount=type=secret,id=x";
                                values of COPY/ADD --chown/--chmod/--checksum, RUN --mount and
                                FROM --platform expanded; others (--from) as written */
    size_t n_flags;
    char **args;             /* JSON form: the elements. Shell form: COPY/ADD/VOLUME/FROM/
                                EXPOSE: the words; USER/WORKDIR/STOPSIGNAL/MAINTAINER: the
                                rest of the line; RUN/CMD/ENTRYPOINT/SHELL: one arg, the command
                                text. Expanded where BuildKit expands (COPY/ADD sources and
                                destination, VOLUME, EXPOSE, USER, WORKDIR, STOPSIGNAL, FROM's
                                image), never for RUN/CMD/ENTRYPOINT/SHELL/MAINTAINER/ONBUILD.
                                COPY/ADD heredoc sources stay as written ("<<EOF"), see
                                rmg_dockerfile_heredoc_source. HEALTHCHECK: the type ("CMD",
                                "NONE") then the command. ONBUILD: one arg, the trigger text.
                                ENV/LABEL/ARG: none (see kvs). Unknown: the rest of the line. */
    size_t n_args;
    struct rmg_df_kv *kvs;   /* ENV / LABEL / ARG pairs */
    size_t n_kvs;
    struct rmg_df_heredoc *heredocs;
    size_t n_heredocs;
    int stage;               /* index into stages; -1 before the first FROM (global ARGs) */
    char *workdir;           /* the WORKDIR in effect (absolute; "/" by default; a stage built
                                FROM an earlier stage starts with its WORKDIR); for WORKDIR the
                                new one. NULL before the first FROM. */
};

struct rmg_df_stage {
    char *name;     /* the AS name, lower-cased, or NULL */
    char *base;     /* the FROM image, expanded against the global ARGs */
    int base_stage; /* index of the earlier stage it builds on (FROM <name>), else -1 */
    unsigned line;  /* the FROM line */
};

struct rmg_df_warning {
    unsigned line; /* 1-based; 0 for the file as a whole */
    char *message; /* may quote Dockerfile text: untrusted, escape before printing */
};

struct rmg_dockerfile {
    struct rmg_df_instr *instrs;
    size_t n_instrs;
    struct rmg_df_stage *stages;
    size_t n_stages;
    char escape; /* '\\' or '`' (the escape directive) */
    /* What BuildKit would reject or its linter warn on (unknown instruction, instruction
     * before FROM, bad JSON array, unterminated heredoc, bad substitution, duplicate
     * directive, legacy ENV form, ...). Parsing goes on past each. At most 1000 kept. */
    struct rmg_df_warning *warnings;
    size_t n_warnings;
};

/* Parses a Dockerfile (text, len bytes; need not be NUL-terminated). origin names it in err.
 * build_args: "NAME=value" strings as given to `docker build --build-arg` (may be NULL/0; an
 * entry without '=' is ignored): they override ARG defaults, globally and in stages, and are
 * seen only where an ARG declares them (BuildKit's automatic platform args BUILDPLATFORM,
 * TARGETARCH, ... also in FROM lines without one).
 * Returns RMG_OK, or RMG_WARN when df->warnings is not empty; *out (caller frees with
 * rmg_dockerfile_free) is set for both. RMG_EINPUT when the text exceeds RMG_DF_MAX_TEXT or
 * holds more than RMG_DF_MAX_INSTRS instructions or RMG_DF_MAX_WORDS words; RMG_ENOMEM. On
 * error *out is NULL and err
 * holds a message. Thread-safe (no shared state). */
enum rmg_status rmg_dockerfile_parse(const char *text, size_t len, const char *origin,
                                     char *const *build_args, size_t n_build_args,
                                     struct rmg_dockerfile **out, char *err, size_t errlen);
void rmg_dockerfile_free(struct rmg_dockerfile *df);

/* The stage index of the final stage (the last FROM), or -1 if none. */
int rmg_dockerfile_final_stage(const struct rmg_dockerfile *df);

/* For a COPY --from=X: the index of stage X, or -1 when X is an image (or a named context).
 * X is a stage when it is a decimal index in range (BuildKit's strconv.Atoi: "1", "+1") or
 * equals a stage name ignoring case (the last stage of that name, as BuildKit binds it). */
int rmg_dockerfile_stage_ref(const struct rmg_dockerfile *df, const char *from);

/* When args[i] of a COPY/ADD is a heredoc source (`COPY <<EOF /dest`), the heredoc holding its
 * content, else NULL (a path in the build context or a URL). Borrowed from in. */
const struct rmg_df_heredoc *rmg_dockerfile_heredoc_source(const struct rmg_df_instr *in,
                                                           size_t i);

/* "FROM", "COPY", ... for a kind; "UNKNOWN" for RMG_DF_UNKNOWN. Static string. */
const char *rmg_df_kind_name(enum rmg_df_kind kind);

#endif
