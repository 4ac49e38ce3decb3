/* regex_syntax.h: a rule regex read one item at a time, as far as the keyword analyses
 * (keyword_reach.c, keyword_tail.c) follow PCRE2's syntax: the item's kind, its bytes when
 * they are a small set, and its quantifier. Internal to the regex analysis (regex_width.h). */
#ifndef RMG_REGEX_SYNTAX_H
#define RMG_REGEX_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

enum rmg_rx_kind {
    RMG_RX_BAD = 0, /* not understood: the analysis gives up */
    RMG_RX_CHARS,   /* one byte of a small known set (a literal, or a class like [a-f]) */
    RMG_RX_OTHER,   /* consumes text that is not one byte of a small known set */
    RMG_RX_GROUP,   /* a group whose text is part of the match: body [body, body_end) */
    RMG_RX_ZERO     /* consumes nothing: assertion, lookaround, option setting, comment;
                       conditionals too (treated as unknown text) */
};

#define RMG_RX_MAX_SET 16 /* bytes a class may hold to be followed byte by byte */

struct rmg_rx_atom {
    enum rmg_rx_kind kind;
    unsigned char set[RMG_RX_MAX_SET]; /* RMG_RX_CHARS: the bytes, lower-cased, distinct */
    unsigned n_set;
    size_t end;            /* just past the atom, before its quantifier */
    size_t body, body_end; /* RMG_RX_GROUP */
    size_t qend;           /* just past the quantifier (== end without one) */
    unsigned long qmin;    /* repetitions: at least qmin (1 without a quantifier), */
    bool qmax1;            /* and at most one; */
    unsigned long qmax;    /* at most qmax (ULONG_MAX: unbounded) */
};

/* Decodes the escape at re[i] == '\\' to one literal byte. Returns the index past it, or 0
 * if it is not a literal byte (a class such as \d, an assertion, a backreference...). Pure;
 * thread-safe. */
size_t rmg_rx_escape_byte(const char *re, size_t n, size_t i, unsigned *byte);

/* Parses the atom at re[i] (i < n, re[i] neither '|' nor ')') and its quantifier.
 * depth: the groups around re[i] (an item nested deeper than 64 is RMG_RX_BAD). Pure;
 * thread-safe. */
struct rmg_rx_atom rmg_rx_atom_at(const char *re, size_t n, size_t i, int depth);

#endif
