/* rules.h: the compiled form of a rule set, shared by rules.c, scanner.c and the
 * rules checker. Not part of the public API. */
#ifndef RMG_RULES_INTERNAL_H
#define RMG_RULES_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>

#include "rummage.h"
#include "engine/validate.h"

struct cJSON;
struct rmg_ac;

/* The bytes after a keyword a rule's tail describes at most (regex_width.h, built-in rules'
 * tails come from the build with this bound: rmg_builtin_tail_max). */
#define RMG_TAIL_MAX 12

struct rmg_rule_impl {
    struct rmg_rule pub;
    pcre2_code *code;           /* JIT-compiled on first use: rmg_rule_ready */
    pcre2_code *code_window;    /* the same without start-up optimizations, for short windows
                                   (NULL: use code); made by rmg_rule_ready */
    atomic_bool ready;          /* rmg_rule_ready has run */
    uint32_t secret_group;      /* 0: the whole match */
    pcre2_code **allow_re;
    size_t n_allow_re;
    rmg_validator_fn validator;
    struct cJSON *examples;     /* owned; for `rules check`; fragment arrays joined */
    bool span_given;            /* max_span came from the rule file */
    bool in_vectorscan;         /* regex compiled into the Vectorscan database */
    bool width_known;           /* width below was computed at build time */
    unsigned width;             /* Vectorscan's max_width of the regex */
    /* What regex_width.h shows of the regex (computed at build time for built-in rules), and
     * what the engine makes of it: see candidate() in scanner.c. Sets are bits, byte c at
     * [c / 8] bit c % 8. */
    bool near_known;            /* the five below are set */
    unsigned kw_reach;          /* rmg_keyword_reach, 0 if not shown */
    unsigned follow_dist;       /* rmg_keyword_follow: a keyword ending at e holds a byte of */
    unsigned follow_back;       /* follow in [e - follow_back, e + follow_dist); dist 0: */
    unsigned char follow[32];   /* nothing known */
    unsigned char lead[32];     /* rmg_keyword_lead: no match starts right after these bytes */
    unsigned tail_len;          /* rmg_keyword_tail: byte j after a keyword's end is in */
    unsigned char tail[RMG_TAIL_MAX][32]; /* tail[j], for j < tail_len */
    bool has_lead;
    size_t kw_min;              /* the shortest keyword's length */
    bool exact_start;           /* every match starts kw_min bytes before a keyword's end */
    size_t reach;               /* a keyword ending at e opens the window [e - reach, e -
                                   kw_min]; a regex match ending at e, [e - reach, e] */
};

struct rmg_rules {
    struct rmg_rule_impl **rules;
    size_t n, cap;
    struct rmg_buf *sources_hash; /* hex digests of each source document, in order */
    char hash[65];
    bool compiled;
    enum rmg_engine_kind engine;
    void *hs_db;                /* hs_database_t*, when engine is VECTORSCAN: compiled at
                                   start-up, for the rules hs_builtin does not cover */
    void *hs_builtin;           /* hs_database_t*, deserialized from the build (embed.c): the
                                   built-in rules', ids from 0 (rule builtin_first + id) */
    size_t builtin_first, builtin_n; /* where rmg_rules_add_builtin put the built-in rules */
    /* Keyword ids of hs_db and hs_builtin: the rules (relative to the database's first) a
     * keyword selects are kw_rules[kw_start[id] .. kw_start[id + 1]) (regex_width.h,
     * rmg_hs_plan). hs_kw_* owned; hsb_kw_* from the build. */
    unsigned *hs_kw_start, *hs_kw_rules;
    const unsigned *hsb_kw_start, *hsb_kw_rules;
    struct rmg_ac *ac;          /* keyword automaton, when engine is PCRE2 */
    size_t *always;             /* rules scanned in full (no prefilter can select them) */
    size_t n_always;
    pthread_mutex_t *ready_lock; /* rmg_rule_ready */
    size_t max_span;            /* over all rules */
    size_t max_lookbehind;
    uint32_t max_groups;
};

/* Makes a rule ready to match, on its first use rather than at start-up (most rules of a set
 * never see a candidate in a small scan): JIT-compiles its code and makes code_window. The
 * only change to a compiled rule set; thread-safe. */
void rmg_rule_ready(const struct rmg_rules *rules, struct rmg_rule_impl *ri);

/* Aho-Corasick over lower-cased bytes: reports, for each keyword occurrence, its end offset
 * and the rules it selects. Built once, read-only after. */
struct rmg_ac *rmg_ac_build(const struct rmg_rules *rules);
void rmg_ac_free(struct rmg_ac *ac);
typedef void (*rmg_ac_cb)(size_t rule, size_t end, void *ctx);
void rmg_ac_scan(const struct rmg_ac *ac, const unsigned char *buf, size_t len, rmg_ac_cb cb,
                 void *ctx);

#endif
