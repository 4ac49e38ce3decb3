/* regex_width.h: what can be known of a rule regex before scanning, shared by the build-time
 * embed tool and the rule compiler so both compute the same figures: its longest match
 * (Vectorscan's analysis), how the prefilter database is made of the rules (keywords
 * deduplicated), and where a keyword must sit in a match. Implemented by regex_width.c (the
 * width, the prefilter database), keyword_reach.c (reach, follow, lead) and keyword_tail.c
 * (tail), which read the regex with regex_syntax.c; the embed tool, built before the library,
 * compiles those files in (Makefile: EMBED_SRC). Only in a build with Vectorscan.
 *
 * DESIGN (keywords in a match). A keyword is found at its end e. The span (the longest match)
 * always bounds where a match holding it starts, but most keywords sit near the start of a
 * match: `[A-Za-z0-9_.-]{0,40}?(?:secret|token|api[_.-]?key)...` holds "secret", "token" or
 * "key" within its first 54 bytes, against a span of 323. rmg_keyword_reach proves such a
 * bound from the pattern's text: it walks each top-level alternative, following for every
 * possible path the literal bytes matched so far (literals, small classes, groups, optional
 * parts), to the first item by whose end every path holds a keyword; Vectorscan then measures
 * the longest match of the regex's text up to that item (a group cut to its alternatives'
 * prefixes). rmg_keyword_follow goes on from that item, through items of bounded width, to one
 * that must begin with a byte of a small set (an assignment's `=` or `:`): a keyword with no
 * such byte after it cannot be in a match. rmg_keyword_lead reads the one-byte negative
 * lookbehinds a regex opens with: for a rule whose keywords are where its matches start, a
 * keyword after such a byte cannot start a match. rmg_keyword_tail walks on past the keyword
 * (with the same steps up to it, so it speaks of the same keyword in a match): the set of each
 * byte a match must have right after it, and a near set of punctuation further on (the `>` of
 * `<password>`). Each gives up (no claim, the engine uses the
 * span and no filter) on anything it does not follow: \Q..\E, recursion, verbs, extended
 * mode, conditionals, backreferences before the keyword. scanner.c (candidate) applies them;
 * tests/unit/test_engine.c checks every built-in rule's matches against them. */
#ifndef RMG_REGEX_WIDTH_H
#define RMG_REGEX_WIDTH_H

#include <hs.h>
#include <stdbool.h>
#include <stddef.h>

/* Rules without keywords whose regex is at most this wide are found by their regex, compiled
 * in prefilter mode; wider ones are slow to compile there and are scanned in full. */
#define RMG_PREFILTER_MAX_WIDTH 4096u

/* UINT_MAX: unbounded; 0: Vectorscan cannot analyse the regex. Thread-safe. */
unsigned rmg_regex_width(const char *regex);

/* ---- the prefilter database (regex_width.c) ------------------------------------------- */

/* The platform the built-in database is compiled for at build time: this machine's, AVX2 at
 * most, so that it also loads under valgrind (which has no AVX-512) and on any AVX2 machine;
 * a database for features the running CPU lacks is refused at load (rules.c compiles one at
 * start-up then). Measured: no slower than a database for AVX-512 on an AVX-512 machine. */
void rmg_hs_platform(hs_platform_info_t *p);

/* A rule as the prefilter database sees it. */
struct rmg_hs_rule {
    const char *regex;
    char *const *keywords; /* lower-case */
    size_t n_keywords;
    bool regex_mode;       /* its regex in prefilter mode, not its keywords */
    bool skip;             /* not in this database */
};

/* Ids from here on are rules found by their regex (rule id - RMG_HS_REGEX_ID); below, a
 * keyword, selecting the rules kw_rules[kw_start[id] .. kw_start[id + 1]). */
#define RMG_HS_REGEX_ID 0x40000000u

/* The expressions of a prefilter database, for hs_compile_multi. A keyword shared by several
 * rules (the generic rules share "key", "secret", "token", "pass") is one expression: each
 * report costs Vectorscan a few hundred instructions. */
struct rmg_hs_plan {
    const char **exprs;
    char **owned;
    unsigned *flags, *ids;
    size_t n;
    unsigned *kw_start, *kw_rules; /* n_kw + 1 offsets; the rules, in order */
    size_t n_kw, n_kw_rules;
};

/* Frees what a plan holds and zeroes it; a plan all zero holds nothing. */
void rmg_hs_plan_free(struct rmg_hs_plan *p);

/* Plans the database of rules[0, n) (ids relative to rules). False on out of memory (p is
 * then freed and zero). p->exprs borrows the regexes of rules in regex mode, which must
 * outlive the plan; the rest is the plan's own, freed by rmg_hs_plan_free. Thread-safe. */
bool rmg_hs_plan_make(struct rmg_hs_plan *p, const struct rmg_hs_rule *rules, size_t n);

/* ---- where a keyword sits in a match (keyword_reach.c) -------------------------------- */

/* The keyword reach of a rule (DESIGN above): every match of `regex` holds one of the
 * (lower-case) keywords ending at most this many bytes after the match's start. 0 when that
 * cannot be shown. Thread-safe. */
unsigned rmg_keyword_reach(const char *regex, char *const *keywords, size_t n_keywords);

/* What must follow a keyword (DESIGN above): after the item that holds it, a match goes on
 * through items of bounded width to one that must begin with a byte of a small set (the
 * assignment operator of `password = "..."`, say). So a byte of that set lies near the
 * keyword's end e: in [e - back, e + dist). `follow` gets the set (both cases of letters).
 * back is 1 when that byte may be the keyword's own last one (`(?:SECRET|_PAT)=` with the
 * keyword "_pat="). False when no such item is found in every top-level alternative.
 * Thread-safe. */
bool rmg_keyword_follow(const char *regex, char *const *keywords, size_t n_keywords,
                        unsigned char follow[256], unsigned *dist, unsigned *back);

/* What must not precede a match (DESIGN above): when the regex opens, before anything that
 * consumes text, with negative lookbehinds of one byte (`(?<![A-Za-z0-9])`), a match cannot
 * start right after a byte they match. `excl` gets those bytes (a subset when unsure). False
 * when there are none, or the regex has top-level alternatives. Thread-safe. */
bool rmg_keyword_lead(const char *regex, unsigned char excl[256]);

/* ---- keyword tail (keyword_tail.c) ---------------------------------------------------- */

/* The most bytes after a keyword rmg_keyword_tail describes. The built-in rules carry the
 * build's value (rules.c takes their tails only when it is the same). */
#ifndef RMG_TAIL_MAX
#define RMG_TAIL_MAX 12
#endif

/* The keyword tail of a rule (DESIGN above): tail[0, n) get, as bit sets, the bytes that
 * follow in every match the keyword rmg_keyword_reach speaks of: byte j after its end is in
 * tail[j]. Returns n, 0 when nothing is shown. And further on: when every path of the walk
 * comes, within RMG_NEAR_MAX (keyword_tail.c: 32) bytes after the keyword, to a byte of a
 * near set (a few punctuation bytes, as the `>` of `<password>`), *near_dist gets d and near
 * the union of those sets: a byte of it lies in [e, e + d) after a keyword ending at e (0:
 * nothing shown). tail has RMG_TAIL_MAX rows. Thread-safe. */
unsigned rmg_keyword_tail(const char *regex, char *const *keywords, size_t n_keywords,
                          unsigned char tail[][32], unsigned char near[32], unsigned *near_dist);

/* Whether byte c is in `set`, a bit set as rmg_keyword_tail gives them (c at [c / 8], bit
 * c % 8). Pure. */
bool rmg_tx_has(const unsigned char set[32], unsigned c);

#endif
