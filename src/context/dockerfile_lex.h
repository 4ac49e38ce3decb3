/* dockerfile_lex.h: BuildKit's shell lexer (shell/lex.go) for the Dockerfile parser: quotes,
 * escapes and $VAR / ${VAR...} expansion of a word (ProcessWord) or into words
 * (ProcessWords), bounded by the parse's limits and expansion budget. */
#ifndef RMG_DOCKERFILE_LEX_H
#define RMG_DOCKERFILE_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "context/dockerfile_state.h"
#include "context/dockerfile_text.h"
#include "common/util.h"

/* The words (ProcessWords) of a lexer run; {0} is empty. Owned: rmg_df_words_free. */
struct rmg_df_words {
    struct rmg_df_strv list;
    struct rmg_buf buf;
    bool in_word, oom;
};

/* One lexer: set up with rmg_df_lex_init, then raw_quotes (keep quotes in the result),
 * raw_escapes (keep escape characters) and skip_unset (an unset variable stays as written)
 * as the reading needs. p and env are borrowed. */
struct rmg_df_lexer {
    struct rmg_df_parser *p;
    const char *s;
    size_t n, i;
    char esc;
    bool raw_quotes, raw_escapes, skip_unset;
    const struct rmg_df_vmap *env;
    int depth;
    bool hard;   /* the failure is a limit or out of memory, not the text's syntax */
    bool budget; /* ... and that limit is the parse's expansion budget */
    char err[200];
};

/* Frees the words and the buffer of w. */
void rmg_df_words_free(struct rmg_df_words *w);

/* A lexer of parse p with escape character esc over the variables env (a NULL or empty map:
 * none are set); the raw and skip options off. */
void rmg_df_lex_init(struct rmg_df_lexer *lx, struct rmg_df_parser *p, char esc,
                     const struct rmg_df_vmap *env);
/* Runs the lexer over s (n bytes, borrowed): the word (ProcessWord) appended to out (on
 * success NUL-terminated, also when empty), the words (ProcessWords) to w if not NULL. out and
 * w are the caller's to free, on failure too. False with lx->err set on an error; lx->hard
 * when that is a limit or out of memory (p->oom set), lx->budget when the limit is the
 * expansion budget. */
bool rmg_df_lex_run(struct rmg_df_lexer *lx, const char *s, size_t n, struct rmg_buf *out,
                    struct rmg_df_words *w);

/* ProcessWord against env with the file's escape: a new string; on an error the raw word
 * (with a warning at line unless quiet). Caller frees; NULL only when out of memory (p->oom
 * set). */
char *rmg_df_expand(struct rmg_df_parser *p, unsigned line, const char *s, size_t n,
                    const struct rmg_df_vmap *env, bool quiet);
/* ProcessWords: the words of s after expansion, appended to out (the raw word on an error,
 * with a warning at line). The words count against RMG_DF_MAX_WORDS; out of memory sets
 * p->oom. */
void rmg_df_expand_words(struct rmg_df_parser *p, unsigned line, const char *s, size_t n,
                         const struct rmg_df_vmap *env, struct rmg_df_strv *out);

#endif
