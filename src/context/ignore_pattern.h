/* ignore_pattern.h: one .dockerignore pattern compiled as moby/patternmatcher compiles it
 * (filepath.Match's syntax check, then Pattern.compile), and the parsed file: the patterns
 * that rmg_ignore_parse (dockerignore.c) builds and the queries (ignore_match.c) read.
 *
 * A parsed file is read-only once rmg_ignore_parse has returned it; every struct here
 * belongs to it and is freed by rmg_ignore_free. */
#ifndef RMG_IGNORE_PATTERN_H
#define RMG_IGNORE_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rummage.h"

struct rmg_nfa_inst;

/* How a pattern is matched: Pattern.compile's fast paths, or its regular expression. */
enum rmg_ignore_kind {
    RMG_IGNORE_EXACT,  /* no wildcard: text compared as a string */
    RMG_IGNORE_PREFIX, /* literal text, then a trailing double star: a prefix */
    RMG_IGNORE_SUFFIX, /* a leading double star, then literal text: a suffix */
    RMG_IGNORE_REGEX   /* the NFA in prog and ranges (goregexp.h) */
};

struct rmg_ignore_pattern {
    char *text;      /* the cleaned pattern without its '!' (NUL-terminated, may hold NULs) */
    size_t len;
    unsigned line;
    bool exclusion;  /* a '!' exception */
    enum rmg_ignore_kind kind;
    struct rmg_nfa_inst *prog;
    size_t nprog;
    uint32_t *ranges; /* lo, hi pairs */
    size_t prefix_len; /* exceptions: length without a trailing slash-star(s) */
};

struct rmg_ignore {
    struct rmg_ignore_pattern *pats;
    size_t n;
    bool has_exceptions;
    bool only_prefix_exceptions; /* fsutil's onlyPrefixExcludeExceptions */
    size_t max_prog;   /* the longest program */
    size_t total_prog; /* all programs together */
};

/* True unless filepath.Match(pat[0, n), ".") reports ErrBadPattern (an unclosed '[', a bad
 * range, a trailing '\'): patternmatcher.New runs it only for its syntax errors. */
bool rmg_ignore_pattern_syntax_ok(const char *pat, size_t n);

/* Pattern.compile for pt->text (pt->len bytes, cleaned, without its '!'; borrowed): sets
 * pt->kind and, for RMG_IGNORE_REGEX, compiles the regular expression Docker builds into
 * pt->prog, pt->nprog and pt->ranges, which pt then owns (free() them). Returns RMG_OK,
 * RMG_ENOMEM, or RMG_EINPUT with *why (static) and *unsupported set as
 * rmg_goregexp_compile sets them; on failure pt->prog and pt->ranges are left as they were. */
enum rmg_status rmg_ignore_pattern_compile(struct rmg_ignore_pattern *pt, const char **why,
                                           bool *unsupported);

#endif
