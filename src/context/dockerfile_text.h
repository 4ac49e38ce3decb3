/* dockerfile_text.h: the byte and rune helpers of the Dockerfile parser: the character classes
 * of BuildKit's Go code (unicode.IsSpace, its regexps' \s and [\t\v\f\r ]), trimming, ASCII
 * case, and the growable arrays it builds. No state: any thread may call these. */
#ifndef RMG_DOCKERFILE_TEXT_H
#define RMG_DOCKERFILE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable vector of strings; {0} is empty. The vector owns the strings and the array. */
struct rmg_df_strv {
    char **v;
    size_t n, cap;
};

/* n, at most the bytes of Dockerfile text a warning quotes (64): the precision of "%.*s". */
int rmg_df_clipn(size_t n);


/* The code point at s (n > 0 bytes) and its length; an invalid byte is U+FFFD, length 1. */
uint32_t rmg_df_decode(const char *s, size_t n, size_t *len);

/* Go's unicode.IsSpace. */
bool rmg_df_is_uspace(uint32_t c);
/* unicode.IsSpace(rune(b)) on one byte, as extractBuilderFlags and parseHealthConfig test. */
bool rmg_df_is_byte_space(unsigned char b);
/* The class [\t\v\f\r ] of BuildKit's reWhitespace. */
bool rmg_df_is_ws(char c);
/* Go regexp's \s: [\t\n\f\r ]. */
bool rmg_df_is_re_space(char c);

/* strings.TrimLeftFunc(unicode.IsSpace) on the span *s of *n bytes: moves *s, shrinks *n. */
void rmg_df_trim_left(const char **s, size_t *n);
/* strings.TrimSpace: unicode.IsSpace runes off both ends of the span. */
void rmg_df_trim_space(const char **s, size_t *n);
/* Drops the trailing '\r' and '\n' bytes of the span s (shrinks *n). */
void rmg_df_trim_newline(const char *s, size_t *n);

/* Whether the span s (n bytes) holds the byte c. */
bool rmg_df_has_byte(const char *s, size_t n, char c);
/* Whether the span s (n bytes) holds the byte a followed by b. */
bool rmg_df_has_pair(const char *s, size_t n, char a, char b);
/* Whether the span a (an bytes) equals the string b, ignoring ASCII case. */
bool rmg_df_eq_fold(const char *a, size_t an, const char *b);
/* A copy of the span s (n bytes) with its ASCII letters upper-cased (upper) or lower-cased.
 * Caller frees; NULL when out of memory. */
char *rmg_df_ascii_case(const char *s, size_t n, bool upper);

/* Appends a copy of the span s (n bytes) to sv. False when out of memory (sv keeps its
 * strings). */
bool rmg_df_strv_push(struct rmg_df_strv *sv, const char *s, size_t n);
/* Frees the strings and the array; sv is empty after. */
void rmg_df_strv_clear(struct rmg_df_strv *sv);

#endif
