/* goregexp.h: a Go regular expression (regexp/syntax with its Perl flags) compiled to the NFA
 * program that the .dockerignore matcher runs (ignore_match.c).
 *
 * The program: execution starts at pc 0 at the start of the text, and a run that reaches
 * RMG_NFA_MATCH is a match of Go's Regexp.MatchString (the program itself lets a match start
 * anywhere when the expression does not pin it to the start). A CLASS consumes one rune in
 * one of its ranges and goes on at pc + 1, as do the empty-width BEGIN (start of text), END
 * (end of text), WORDB and NWORDB (an ASCII word boundary, or none); SPLIT goes on at both a
 * and b, JMP at a. */
#ifndef RMG_GOREGEXP_H
#define RMG_GOREGEXP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rummage.h"

/* rummage's own bound on compiled patterns (Go refuses far smaller counts of nested
 * repetition; this only stops "?{1000}" repeated over a 64 KiB line from costing GBs). */
#define RMG_GOREGEXP_MAX_INSTS 1000000u /* per pattern, and for a whole file */

enum rmg_nfa_op {
    RMG_NFA_CLASS, RMG_NFA_SPLIT, RMG_NFA_JMP, RMG_NFA_BEGIN, RMG_NFA_END, RMG_NFA_WORDB,
    RMG_NFA_NWORDB, RMG_NFA_MATCH
};

struct rmg_nfa_inst {
    uint32_t op;
    uint32_t a, b; /* CLASS: first range pair and pair count; SPLIT: targets; JMP: a */
};

/* Compiles the expression re[0, n) (valid UTF-8; it may hold NUL bytes). On RMG_OK, *prog
 * gets the *nprog instructions and *ranges the classes' rune ranges (lo, hi pairs, each
 * class's pairs sorted and disjoint); both are the caller's, freed with free(). On
 * RMG_EINPUT, *why (a static string) says what is wrong, and *unsupported is true when the
 * expression may be valid Go but is beyond what rummage matches (Unicode classes \p and \P,
 * nested or flagged groups, '|' inside a group, more than RMG_GOREGEXP_MAX_INSTS
 * instructions), false when Go's regexp refuses it too. RMG_ENOMEM on out of memory. On
 * failure *prog, *nprog and *ranges are untouched. Thread-safe. */
enum rmg_status rmg_goregexp_compile(const char *re, size_t n, struct rmg_nfa_inst **prog,
                                     size_t *nprog, uint32_t **ranges, const char **why,
                                     bool *unsupported);

#endif
