/* dockerfile_split.h: an instruction's text split as BuildKit's split_command.go and
 * line_parsers.go split it, for the Dockerfile parser: the keyword, the builder flags, and
 * the arguments as a JSON array, as words, or as one string. Nothing is expanded here.
 * Every function appends to its out vector, counts what it splits off against
 * RMG_DF_MAX_WORDS (stopping past it) and sets p->oom when out of memory. */
#ifndef RMG_DOCKERFILE_SPLIT_H
#define RMG_DOCKERFILE_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "context/dockerfile_state.h"
#include "context/dockerfile_text.h"

/* A logical line split: name and args point into the line (borrowed); flags are owned (the
 * caller clears them with rmg_df_strv_clear or takes them over). */
struct rmg_df_split {
    const char *name, *args;
    size_t name_len, args_len;
    struct rmg_df_strv flags; /* as written, quotes and escapes processed */
};

/* splitCommand: the instruction word, then flags (extractBuilderFlags), then the trimmed rest,
 * into *sc (overwritten: its old flags are not freed). */
void rmg_df_split_command(struct rmg_df_parser *p, const char *line, size_t n,
                          struct rmg_df_split *sc);
/* reWhitespace.Split: words separated by [\t\v\f\r ]+ (s is trimmed). */
void rmg_df_ws_split(struct rmg_df_parser *p, const char *s, size_t n, struct rmg_df_strv *out);
/* parseWords: words at Unicode spaces, quotes and escapes kept (ENV, LABEL, ARG). */
void rmg_df_parse_words(struct rmg_df_parser *p, const char *s, size_t n,
                        struct rmg_df_strv *out);
/* parseJSON: 1 when s (after leading spaces) is exactly one JSON array of strings (into out),
 * 0 when it is not JSON, -1 when it is an array holding something else (BuildKit rejects the
 * instruction). Bytes Go's decoder refuses (control characters) make it "not JSON". */
int rmg_df_parse_json(struct rmg_df_parser *p, const char *s, size_t n, struct rmg_df_strv *out);
/* parseMaybeJSON / parseMaybeJSONToList: JSON array, else the rest as one argument or (to_list)
 * as words. out must be empty (it is cleared when the text is not a JSON array). A broken
 * array is a warning at line naming the instruction kw. Returns whether it was JSON. */
bool rmg_df_parse_args(struct rmg_df_parser *p, unsigned line, const char *kw, const char *s,
                       size_t n, bool to_list, struct rmg_df_strv *out);

#endif
