/* keyword_reach.h: the state of the keyword walk (keyword_reach.c), whose steps the tail
 * walk (keyword_tail.c) repeats on the text before a keyword, so that both speak of the same
 * keyword in a match. Internal to the regex analysis (regex_width.h). */
#ifndef RMG_KEYWORD_REACH_H
#define RMG_KEYWORD_REACH_H

#include <stdbool.h>
#include <stddef.h>

/* The texts a match may have at a point of the walk, as far as the walk can tell: per path,
 * the literal bytes just before the point (the last RMG_RX_TAIL of them), or "holds a keyword
 * already". The set only grows by what is known; anything else resets a path's tail. */
#define RMG_RX_TAIL 63
#define RMG_RX_MAX_PATHS 512

struct rmg_rx_path {
    bool held;
    unsigned char len;
    char tail[RMG_RX_TAIL];
};

/* The keywords a walk looks for (borrowed). */
struct rmg_rx_kw {
    char *const *v; /* lower-case */
    size_t n;
};

#endif
