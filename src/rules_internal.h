/* rules_internal.h: the compiled form of a rule set, shared by rules.c, engine.c and the
 * rules checker. Not part of the public API. */
#ifndef RMG_RULES_INTERNAL_H
#define RMG_RULES_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rummage.h"
#include "validate.h"

struct cJSON;
struct rmg_ac;

struct rmg_rule_impl {
    struct rmg_rule pub;
    pcre2_code *code;
    uint32_t secret_group;      /* 0: the whole match */
    pcre2_code **allow_re;
    size_t n_allow_re;
    rmg_validator_fn validator;
    struct cJSON *examples;     /* owned; for `rules check` */
    bool span_given;            /* max_span came from the rule file */
    bool in_vectorscan;         /* regex compiled into the Vectorscan database */
    bool width_known;           /* width below was computed at build time */
    unsigned width;             /* Vectorscan's max_width of the regex */
};

struct rmg_rules {
    struct rmg_rule_impl **rules;
    size_t n, cap;
    struct rmg_buf *sources_hash; /* hex digests of each source document, in order */
    char hash[65];
    bool compiled;
    enum rmg_engine_kind engine;
    void *hs_db;                /* hs_database_t*, when engine is VECTORSCAN */
    struct rmg_ac *ac;          /* keyword automaton, when engine is PCRE2 */
    size_t *always;             /* rules scanned in full (no prefilter can select them) */
    size_t n_always;
    size_t max_span;            /* over all rules */
    size_t max_lookbehind;
    uint32_t max_groups;
};

/* Aho-Corasick over lower-cased bytes: reports, for each keyword occurrence, its end offset
 * and the rules it selects. Built once, read-only after. */
struct rmg_ac *rmg_ac_build(const struct rmg_rules *rules);
void rmg_ac_free(struct rmg_ac *ac);
typedef void (*rmg_ac_cb)(size_t rule, size_t end, void *ctx);
void rmg_ac_scan(const struct rmg_ac *ac, const unsigned char *buf, size_t len, rmg_ac_cb cb,
                 void *ctx);

#endif
