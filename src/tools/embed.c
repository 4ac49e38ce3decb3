/* embed.c: build-time tool that turns patterns/NAME.json into a C file, so the rules are
 * compiled into the binary, with what is slow to compute done here once rather than at every
 * start: each rule's regex width and keyword analysis (regex_width.h), and the Vectorscan
 * prefilter database of the built-in rules, serialized (rules.c takes it when it suits the
 * running library and CPU, and compiles its own otherwise). Usage: embed OUT.c FILE.json... */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef RMG_HAVE_VECTORSCAN
#include "engine/regex_width.h"
#endif

static unsigned width_of(const char *regex)
{
#ifdef RMG_HAVE_VECTORSCAN
    return rmg_regex_width(regex);
#else
    (void)regex;
    return 0;
#endif
}

/* What regex_width.h shows of a rule: its keyword reach (0: unknown), what must follow a
 * keyword (dist 0: nothing known), what must not precede a match (none: all zero), the bytes
 * right after a keyword (length 0: nothing known). */
#ifndef RMG_TAIL_MAX
#define RMG_TAIL_MAX 12 /* as regex_width.h */
#endif

struct analysis {
    unsigned reach;
    unsigned follow_dist, follow_back;
    unsigned char follow[256];
    unsigned char lead[256];
    unsigned tail_len;
    unsigned char tail[RMG_TAIL_MAX][32]; /* as bits */
};

/* Analyses a rule object, its keywords lower-cased as the loader stores them. */
static void analyse(const cJSON *rule, const char *regex, struct analysis *an)
{
    memset(an, 0, sizeof *an);
#ifdef RMG_HAVE_VECTORSCAN
    const cJSON *kws = cJSON_GetObjectItemCaseSensitive(rule, "keywords");
    size_t n = cJSON_IsArray(kws) ? (size_t)cJSON_GetArraySize(kws) : 0;
    char **v = calloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    const cJSON *kw;
    cJSON_ArrayForEach(kw, kws)
    {
        if (!v || !cJSON_IsString(kw) || !(v[k] = strdup(kw->valuestring)))
            break;
        for (char *p = v[k]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        k++;
    }
    if (v && k == n) {
        an->reach = rmg_keyword_reach(regex, v, n);
        if (!rmg_keyword_follow(regex, v, n, an->follow, &an->follow_dist, &an->follow_back))
            an->follow_dist = an->follow_back = 0;
        unsigned char near[32];
        unsigned near_dist;
        an->tail_len = rmg_keyword_tail(regex, v, n, an->tail, near, &near_dist);
        if (an->follow_dist == 0 && near_dist > 0) { /* the near set serves as follow set */
            for (unsigned c = 0; c < 256; c++)
                an->follow[c] = (near[c / 8] >> (c % 8)) & 1u;
            an->follow_dist = near_dist;
            an->follow_back = 0;
        }
    }
    if (!rmg_keyword_lead(regex, an->lead))
        memset(an->lead, 0, sizeof an->lead);
    for (size_t i = 0; i < k; i++)
        free(v[i]);
    free(v);
#else
    (void)rule;
    (void)regex;
#endif
}

/* Writes bytes as the body of a C string literal, octal escapes throughout (no escape can
 * run into the next character). */
static void put_bytes(FILE *out, const unsigned char *p, size_t n)
{
    fputs("\"", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "\\%o", p[i]);
        if (i % 40 == 39 && i + 1 < n)
            fputs("\"\n\"", out);
    }
    fputs("\"", out);
}

struct db_rule {
    char *regex;
    char **keywords; /* lower-cased, as the loader stores them */
    size_t n_keywords;
    bool regex_mode; /* the regex, not keywords, goes into the database */
};

#ifdef RMG_HAVE_VECTORSCAN
/* The prefilter database of the built-in rules, serialized, planned as rules.c (hs_build)
 * plans it at start-up (regex_width.h, rmg_hs_plan_make); a regex Vectorscan refuses makes
 * its rule one scanned in full, as there. NULL if it cannot be built (rules.c then compiles
 * it at start-up). */
static char *build_database(struct db_rule *rules, size_t n, size_t *len,
                            struct rmg_hs_plan *plan)
{
    struct rmg_hs_rule *hr = calloc(n ? n : 1, sizeof *hr);
    char *bytes = NULL;
    if (!hr)
        return NULL;
    for (;;) {
        for (size_t i = 0; i < n; i++)
            hr[i] = (struct rmg_hs_rule){rules[i].regex, rules[i].keywords, rules[i].n_keywords,
                                         rules[i].regex_mode, false};
        if (!rmg_hs_plan_make(plan, hr, n))
            break;
        hs_database_t *db = NULL;
        hs_compile_error_t *ce = NULL;
        hs_platform_info_t platform;
        rmg_hs_platform(&platform);
        hs_error_t e = plan->n ? hs_compile_multi(plan->exprs, plan->flags, plan->ids,
                                                  (unsigned)plan->n, HS_MODE_BLOCK, &platform,
                                                  &db, &ce)
                               : HS_INVALID;
        if (e == HS_SUCCESS) {
            if (hs_serialize_database(db, &bytes, len) != HS_SUCCESS)
                bytes = NULL;
            hs_free_database(db);
            break;
        }
        int bad = ce ? ce->expression : -1;
        unsigned id = bad >= 0 && (size_t)bad < plan->n ? plan->ids[bad] : 0;
        if (bad >= 0 && id >= RMG_HS_REGEX_ID) {
            rules[id - RMG_HS_REGEX_ID].regex_mode = false;
            hs_free_compile_error(ce);
            rmg_hs_plan_free(plan);
            continue;
        }
        fprintf(stderr, "embed: no prefilter database (%s); compiled at start-up instead\n",
                ce ? ce->message : "nothing to compile");
        hs_free_compile_error(ce);
        break;
    }
    free(hr);
    return bytes;
}
#endif

/* A 256-byte set as a C string of 32 bytes of bits (byte c: bit c % 8 of byte c / 8). */
static void put_bits(FILE *f, const unsigned char set[256])
{
    fputc('"', f);
    for (int b = 0; b < 32; b++) {
        unsigned bits = 0;
        for (int c = 0; c < 8; c++)
            bits |= set[b * 8 + c] ? 1u << c : 0u;
        fprintf(f, "\\%o", bits);
    }
    fputc('"', f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: embed OUT.c FILE.json...\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 2;
    }
    fprintf(out, "/* Generated by src/tools/embed.c from patterns/NAME.json; do not edit. */\n"
                 "#include <stddef.h>\n"
                 "struct rmg_builtin_file { const char *name; const char *json; size_t len; };\n");
    char *widths = NULL, *reaches = NULL, *follows = NULL;
    size_t wlen = 0, rlen = 0, flen = 0, n_widths = 0;
    FILE *wf = open_memstream(&widths, &wlen);
    FILE *rf = open_memstream(&reaches, &rlen);
    FILE *ff = open_memstream(&follows, &flen);
    struct db_rule *dbr = NULL;
    size_t n_dbr = 0, cap_dbr = 0;
    for (int i = 2; i < argc; i++) {
        FILE *in = fopen(argv[i], "rb");
        if (!in) {
            perror(argv[i]);
            return 2;
        }
        char *text = NULL;
        size_t tlen = 0;
        FILE *tf = open_memstream(&text, &tlen);
        fprintf(out, "static const char file_%d[] = {\n", i);
        int c;
        size_t n = 0;
        while ((c = fgetc(in)) != EOF) {
            fputc(c, tf);
            fprintf(out, "%d,", c);
            if (++n % 24 == 0)
                fputc('\n', out);
        }
        fprintf(out, "0};\n");
        fclose(in);
        fclose(tf);
        /* Widths in load order; a file the loader rejects fails the build later anyway. */
        cJSON *doc = cJSON_ParseWithLength(text, tlen);
        const cJSON *rule;
        cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(doc, "rules"))
        {
            const cJSON *re = cJSON_GetObjectItemCaseSensitive(rule, "regex");
            bool nl = ++n_widths % 12 == 0;
            fprintf(wf, "%uu,%s", cJSON_IsString(re) ? width_of(re->valuestring) : 0u,
                    nl ? "\n" : "");
            struct analysis an;
            if (cJSON_IsString(re))
                analyse(rule, re->valuestring, &an);
            else
                memset(&an, 0, sizeof an);
            if (n_dbr == cap_dbr) {
                cap_dbr = cap_dbr ? cap_dbr * 2 : 256;
                dbr = realloc(dbr, cap_dbr * sizeof *dbr);
                if (!dbr) {
                    fputs("embed: out of memory\n", stderr);
                    return 2;
                }
            }
            struct db_rule *d = &dbr[n_dbr++];
            memset(d, 0, sizeof *d);
            d->regex = strdup(cJSON_IsString(re) ? re->valuestring : "");
            const cJSON *kws = cJSON_GetObjectItemCaseSensitive(rule, "keywords");
            size_t nk = cJSON_IsArray(kws) ? (size_t)cJSON_GetArraySize(kws) : 0;
            d->keywords = calloc(nk ? nk : 1, sizeof *d->keywords);
            const cJSON *kw;
            cJSON_ArrayForEach(kw, kws)
            {
                if (!d->keywords || !cJSON_IsString(kw))
                    continue;
                char *k = strdup(kw->valuestring);
                for (char *p = k; p && *p; p++)
                    *p = (char)tolower((unsigned char)*p);
                d->keywords[d->n_keywords++] = k;
            }
#ifdef RMG_HAVE_VECTORSCAN
            unsigned w = cJSON_IsString(re) ? width_of(re->valuestring) : 0u;
            d->regex_mode = d->n_keywords == 0 && w > 0 && w <= RMG_PREFILTER_MAX_WIDTH;
#endif
            fprintf(rf, "%uu,%s", an.reach, nl ? "\n" : "");
            fprintf(ff, "{%uu,%uu,", an.follow_dist, an.follow_back);
            put_bits(ff, an.follow);
            fputc(',', ff);
            put_bits(ff, an.lead);
            fprintf(ff, ",%uu,{", an.tail_len);
            for (unsigned j = 0; j < an.tail_len; j++) {
                fputs(j ? ",\"" : "\"", ff);
                for (int b = 0; b < 32; b++)
                    fprintf(ff, "\\%o", an.tail[j][b]);
                fputc('"', ff);
            }
            fprintf(ff, "%s}},\n", an.tail_len ? "" : "\"\"");
        }
        cJSON_Delete(doc);
        free(text);
    }
    fclose(wf);
    fclose(rf);
    fclose(ff);
    fprintf(out, "const struct rmg_builtin_file rmg_builtin_rules[] = {\n");
    for (int i = 2; i < argc; i++) {
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        fprintf(out, "  {\"%s\", file_%d, sizeof file_%d - 1},\n", base, i, i);
    }
    fprintf(out, "  {NULL, NULL, 0}\n};\nconst size_t rmg_builtin_rules_count = %d;\n", argc - 2);
    fprintf(out, "const unsigned rmg_builtin_widths[] = {\n%s0u};\n", widths ? widths : "");
    fprintf(out, "const size_t rmg_builtin_widths_count = %zu;\n", n_widths);
    fprintf(out, "const unsigned rmg_builtin_reaches[] = {\n%s0u};\n", reaches ? reaches : "");
    fprintf(out, "const struct rmg_builtin_near { unsigned follow_dist, follow_back; "
                 "unsigned char follow[33], lead[33]; unsigned tail_len; "
                 "unsigned char tail[%d][33]; } rmg_builtin_nears[] = {\n"
                 "%s{0u, 0u, \"\", \"\", 0u, {\"\"}}};\n",
            RMG_TAIL_MAX, follows ? follows : "");
    fprintf(out, "const unsigned rmg_builtin_tail_max = %du;\n", RMG_TAIL_MAX);
    free(widths);
    free(reaches);
    free(follows);
    char *db = NULL;
    size_t db_len = 0;
    struct { unsigned *kw_start, *kw_rules; size_t n_kw, n_kw_rules; } map = {NULL, NULL, 0, 0};
#ifdef RMG_HAVE_VECTORSCAN
    struct rmg_hs_plan plan;
    memset(&plan, 0, sizeof plan);
    db = build_database(dbr, n_dbr, &db_len, &plan);
    map.kw_start = plan.kw_start;
    map.kw_rules = plan.kw_rules;
    map.n_kw = plan.n_kw;
    map.n_kw_rules = plan.n_kw_rules;
#endif
    /* Per rule: 1 when its regex, not its keywords, is in the database; per keyword, the
     * rules it selects (rmg_hs_plan). */
    fprintf(out, "const unsigned char rmg_builtin_hs_regex[] = {\n");
    for (size_t i = 0; i < n_dbr; i++)
        fprintf(out, "%d,%s", db && dbr[i].regex_mode, i % 24 == 23 ? "\n" : "");
    fprintf(out, "0};\nconst unsigned rmg_builtin_kw_start[] = {\n");
    for (size_t k = 0; db && k <= map.n_kw; k++)
        fprintf(out, "%uu,%s", map.kw_start[k], k % 12 == 11 ? "\n" : "");
    fprintf(out, "0u};\nconst unsigned rmg_builtin_kw_rules[] = {\n");
    for (size_t k = 0; db && k < map.n_kw_rules; k++)
        fprintf(out, "%uu,%s", map.kw_rules[k], k % 12 == 11 ? "\n" : "");
    fprintf(out, "0u};\nconst size_t rmg_builtin_kw_count = %zu;\n", db ? map.n_kw : 0);
    fprintf(out, "const char rmg_builtin_hs_db[] =\n");
    put_bytes(out, (const unsigned char *)db, db ? db_len : 0);
    fprintf(out, ";\nconst size_t rmg_builtin_hs_db_len = %zu;\n", db ? db_len : 0);
    free(db); /* from hs_serialize_database: the default allocator, malloc */
#ifdef RMG_HAVE_VECTORSCAN
    rmg_hs_plan_free(&plan);
#endif
    for (size_t i = 0; i < n_dbr; i++) {
        free(dbr[i].regex);
        for (size_t k = 0; k < dbr[i].n_keywords; k++)
            free(dbr[i].keywords[k]);
        free(dbr[i].keywords);
    }
    free(dbr);
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 2;
    }
    return 0;
}
