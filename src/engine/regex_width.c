/* regex_width.c: Vectorscan's view of rule regexes: the longest match of one, and the
 * expressions of the prefilter database of many, a keyword shared by rules being one. */
#ifdef RMG_HAVE_VECTORSCAN
#include "engine/regex_width.h"

#include <stdlib.h>
#include <string.h>

unsigned rmg_regex_width(const char *regex)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    if (hs_expression_info(regex, HS_FLAG_PREFILTER, &info, &ce) != HS_SUCCESS) {
        hs_free_compile_error(ce);
        return 0;
    }
    unsigned width = info->max_width;
    free(info);
    return width;
}

/* ---- the prefilter database ----------------------------------------------------------- */

void rmg_hs_platform(hs_platform_info_t *p)
{
    if (hs_populate_platform(p) != HS_SUCCESS)
        memset(p, 0, sizeof *p);
    p->cpu_features &= HS_CPU_FEATURES_AVX2;
    p->tune = HS_TUNE_FAMILY_GENERIC;
}

void rmg_hs_plan_free(struct rmg_hs_plan *p)
{
    for (size_t i = 0; p->owned && i < p->n; i++)
        free(p->owned[i]);
    free(p->owned);
    free(p->exprs);
    free(p->flags);
    free(p->ids);
    free(p->kw_start);
    free(p->kw_rules);
    memset(p, 0, sizeof *p);
}

bool rmg_hs_plan_make(struct rmg_hs_plan *p, const struct rmg_hs_rule *rules, size_t n)
{
    memset(p, 0, sizeof *p);
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++)
        pairs += rules[i].skip ? 0 : rules[i].regex_mode ? 1 : rules[i].n_keywords;
    size_t cap = pairs ? pairs : 1;
    unsigned *pair_kw = (unsigned *)calloc(cap, sizeof *pair_kw);
    unsigned *pair_rule = (unsigned *)calloc(cap, sizeof *pair_rule);
    const char **kw_text = (const char **)calloc(cap, sizeof *kw_text);
    p->exprs = (const char **)calloc(cap, sizeof *p->exprs);
    p->owned = (char **)calloc(cap, sizeof *p->owned);
    p->flags = (unsigned *)calloc(cap, sizeof *p->flags);
    p->ids = (unsigned *)calloc(cap, sizeof *p->ids);
    bool ok = pair_kw && pair_rule && kw_text && p->exprs && p->owned && p->flags && p->ids;
    size_t n_pairs = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (rules[i].skip)
            continue;
        if (rules[i].regex_mode) {
            p->exprs[p->n] = rules[i].regex;
            p->flags[p->n] = HS_FLAG_PREFILTER;
            p->ids[p->n++] = RMG_HS_REGEX_ID + (unsigned)i;
            continue;
        }
        for (size_t k = 0; k < rules[i].n_keywords; k++) {
            const char *kw = rules[i].keywords[k];
            size_t id = 0;
            while (id < p->n_kw && strcmp(kw_text[id], kw) != 0)
                id++;
            if (id == p->n_kw)
                kw_text[p->n_kw++] = kw;
            bool dup = false; /* the same keyword twice in one rule */
            for (size_t q = n_pairs; !dup && q-- > 0 && pair_rule[q] == (unsigned)i;)
                dup = pair_kw[q] == (unsigned)id;
            if (!dup) {
                pair_kw[n_pairs] = (unsigned)id;
                pair_rule[n_pairs++] = (unsigned)i;
            }
        }
    }
    p->kw_start = (unsigned *)calloc(p->n_kw + 1, sizeof *p->kw_start);
    p->kw_rules = (unsigned *)calloc(n_pairs ? n_pairs : 1, sizeof *p->kw_rules);
    ok = ok && p->kw_start && p->kw_rules;
    for (size_t q = 0; ok && q < n_pairs; q++)
        p->kw_start[pair_kw[q] + 1]++;
    for (size_t k = 0; ok && k < p->n_kw; k++)
        p->kw_start[k + 1] += p->kw_start[k];
    unsigned *fill = ok ? (unsigned *)calloc(p->n_kw + 1, sizeof *fill) : NULL;
    ok = ok && fill;
    for (size_t q = 0; ok && q < n_pairs; q++) /* rules in order within a keyword */
        p->kw_rules[p->kw_start[pair_kw[q]] + fill[pair_kw[q]]++] = pair_rule[q];
    p->n_kw_rules = n_pairs;
    /* A keyword as a literal: every byte hex-escaped, matched case-insensitively. */
    for (size_t k = 0; ok && k < p->n_kw; k++) {
        size_t l = strlen(kw_text[k]);
        char *e = (char *)malloc(l * 4 + 1);
        if (!e) {
            ok = false;
            break;
        }
        for (size_t j = 0; j < l; j++) {
            static const char hex[] = "0123456789abcdef";
            unsigned char c = (unsigned char)kw_text[k][j];
            e[4 * j] = '\\';
            e[4 * j + 1] = 'x';
            e[4 * j + 2] = hex[c >> 4];
            e[4 * j + 3] = hex[c & 15];
        }
        e[l * 4] = '\0';
        p->owned[p->n] = e;
        p->exprs[p->n] = e;
        p->flags[p->n] = HS_FLAG_CASELESS;
        p->ids[p->n++] = (unsigned)k;
    }
    free(fill);
    free(pair_kw);
    free(pair_rule);
    free(kw_text);
    if (!ok)
        rmg_hs_plan_free(p);
    return ok;
}

#endif /* RMG_HAVE_VECTORSCAN */
