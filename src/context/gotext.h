/* gotext.h: text as Go sees it, for the .dockerignore code that follows moby's: UTF-8 runes
 * (unicode/utf8), strings.TrimSpace and filepath.Clean (Unix).
 *
 * Pure functions on buffers the caller owns: nothing is allocated, any thread may call them. */
#ifndef RMG_GOTEXT_H
#define RMG_GOTEXT_H

#include <stddef.h>
#include <stdint.h>

#define RMG_RUNE_ERROR 0xFFFDu /* utf8.RuneError */
#define RMG_MAX_RUNE 0x10FFFFu /* unicode.MaxRune */

/* Go's utf8.DecodeRune on s[0, n), n > 0: returns the first rune and puts its width in *w.
 * An invalid or truncated sequence is RMG_RUNE_ERROR of width 1. */
uint32_t rmg_gotext_decode_rune(const unsigned char *s, size_t n, size_t *w);

/* Go's utf8.EncodeRune: writes r as UTF-8 into out (room for 4 bytes) and returns the byte
 * count; a surrogate or a value past RMG_MAX_RUNE is written as RMG_RUNE_ERROR. */
size_t rmg_gotext_encode_rune(uint32_t r, char *out);

/* strings.TrimSpace on s[*a, *b): moves *a forward and *b back past Unicode white space
 * (unicode.IsSpace), decoding as Go does. */
void rmg_gotext_trim_space(const char *s, size_t *a, size_t *b);

/* filepath.Clean (Unix) of p[0, n) into out, which holds at least n + 2 bytes. Returns the
 * length (the result is not NUL-terminated); "" cleans to ".". */
size_t rmg_gotext_clean_path(const char *p, size_t n, char *out);

#endif
