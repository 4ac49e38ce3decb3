/* rules.c: loads rule files (patterns/NAME.json format) and compiles them for the engine.
 *
 * DESIGN. Loading validates every key and fails a whole document on the first bad rule, so a
 * user's rules file is either fully in or reported precisely. Compiling makes each rule's
 * PCRE2 code (with offset limits so the engine can confine a search to a window) and the
 * prefilter: Vectorscan databases of the rules' keywords (the built-in rules' compiled at
 * build time, src/tools/embed.c; the others' at start-up), or, without Vectorscan, an
 * Aho-Corasick automaton over the keywords. Each rule also gets its maximum match span, which
 * bounds chunk overlaps, and what regex_width.h proves about where its keywords sit in a match
 * (reach, lead, follow), which bounds and filters candidate windows (set_reach, and candidate()
 * in scanner.c). After compiling, the set is read-only and shared by all threads, but for each
 * rule's JIT compile, done on its first use under a lock (rmg_rule_ready): most rules see no
 * candidate in a small scan, and JIT-compiling all of them was most of the start-up time.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/rules.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#ifdef RMG_HAVE_VECTORSCAN
#include <hs.h>

#include "engine/regex_width.h"
#endif

#include "common/util.h"

#define DEFAULT_SPAN 4096
#define MAX_SPAN 65536
#define MAX_RULE_FILE (16u << 20)

struct rmg_builtin_file {
    const char *name;
    const char *json;
    size_t len;
};
extern const struct rmg_builtin_file rmg_builtin_rules[];
extern const size_t rmg_builtin_rules_count;
/* Per built-in rule, in load order: Vectorscan's width of its regex, computed at build time
 * (0 when the build has no Vectorscan or it cannot analyse the regex). */
extern const unsigned rmg_builtin_widths[];
extern const size_t rmg_builtin_widths_count;
/* Per built-in rule, in load order: its keyword reach (regex_width.h), computed at build time
 * (0 when unknown). Same count as the widths. */
extern const unsigned rmg_builtin_reaches[];
/* Per built-in rule: what must follow a keyword (rmg_keyword_follow; dist 0 when unknown),
 * what must not precede a match (rmg_keyword_lead; all zero when nothing) and the bytes right
 * after a keyword (rmg_keyword_tail; length 0 when unknown), sets as bits. */
struct rmg_builtin_near {
    unsigned follow_dist, follow_back;
    unsigned char follow[33], lead[33];
    unsigned tail_len; /* rmg_keyword_tail: tail[0, tail_len) as bits */
    unsigned char tail[RMG_TAIL_MAX][33];
};
extern const struct rmg_builtin_near rmg_builtin_nears[];
extern const unsigned rmg_builtin_tail_max; /* the build's RMG_TAIL_MAX */
/* The built-in rules' prefilter database, compiled and serialized at build time (length 0
 * without Vectorscan), and per built-in rule 1 when its regex, not its keywords, is in it. */
extern const char rmg_builtin_hs_db[];
extern const size_t rmg_builtin_hs_db_len;
extern const unsigned char rmg_builtin_hs_regex[];
extern const unsigned rmg_builtin_kw_start[], rmg_builtin_kw_rules[];

static const char *const severity_names[] = {"low", "medium", "high", "critical"};

const char *rmg_severity_name(enum rmg_severity s)
{
    return (unsigned)s < 4 ? severity_names[s] : "?";
}

bool rmg_severity_parse(const char *s, enum rmg_severity *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, severity_names[i]) == 0) {
            *out = (enum rmg_severity)i;
            return true;
        }
    }
    return false;
}

const char *rmg_confidence_name(enum rmg_confidence c)
{
    switch (c) {
    case RMG_CONF_ENTROPY: return "entropy";
    case RMG_CONF_PATTERN: return "pattern";
    case RMG_CONF_VALIDATED: return "validated";
    }
    return "?";
}

const char *rmg_state_name(enum rmg_state s)
{
    switch (s) {
    case RMG_STATE_PRESENT: return "present";
    case RMG_STATE_DELETED: return "deleted";
    case RMG_STATE_OVERWRITTEN: return "overwritten";
    case RMG_STATE_CONFIG: return "config";
    case RMG_STATE_CONTEXT: return "context";
    }
    return "?";
}

const char *rmg_status_name(enum rmg_status s)
{
    switch (s) {
    case RMG_OK: return "ok";
    case RMG_WARN: return "warning";
    case RMG_SKIP: return "skipped";
    case RMG_EINPUT: return "input error";
    case RMG_ENOMEM: return "out of memory";
    case RMG_EFATAL: return "fatal error";
    }
    return "?";
}

struct rmg_rules *rmg_rules_new(void)
{
    struct rmg_rules *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->sources_hash = calloc(1, sizeof *r->sources_hash);
    r->ready_lock = malloc(sizeof *r->ready_lock);
    if (!r->sources_hash || !r->ready_lock || pthread_mutex_init(r->ready_lock, NULL) != 0) {
        free(r->sources_hash);
        free(r->ready_lock);
        free(r);
        return NULL;
    }
    return r;
}

static void rule_free(struct rmg_rule_impl *ri)
{
    if (!ri)
        return;
    free(ri->pub.id);
    free(ri->pub.title);
    free(ri->pub.remedy);
    free(ri->pub.regex);
    free(ri->pub.origin);
    free(ri->pub.validator);
    rmg_strv_free(ri->pub.keywords, ri->pub.n_keywords);
    rmg_strv_free(ri->pub.tags, ri->pub.n_tags);
    rmg_strv_free(ri->pub.allow_values, ri->pub.n_allow_values);
    pcre2_code_free(ri->code);
    pcre2_code_free(ri->code_window);
    for (size_t i = 0; i < ri->n_allow_re; i++)
        pcre2_code_free(ri->allow_re[i]);
    free(ri->allow_re);
    cJSON_Delete(ri->examples);
    free(ri);
}

void rmg_rules_free(struct rmg_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        rule_free(r->rules[i]);
    free(r->rules);
    rmg_buf_free(r->sources_hash);
    free(r->sources_hash);
#ifdef RMG_HAVE_VECTORSCAN
    if (r->hs_db)
        hs_free_database(r->hs_db);
    if (r->hs_builtin)
        hs_free_database(r->hs_builtin);
    free(r->hs_kw_start);
    free(r->hs_kw_rules);
#endif
    rmg_ac_free(r->ac);
    free(r->always);
    pthread_mutex_destroy(r->ready_lock);
    free(r->ready_lock);
    free(r);
}

/* ---- loading -------------------------------------------------------------------------- */

static bool valid_id(const char *s)
{
    if (!*s || strlen(s) > 100)
        return false;
    for (; *s; s++) {
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' ||
              *s == '_' || *s == '.'))
            return false;
    }
    return true;
}

/* Copies a JSON array of strings. Missing is fine (empty) unless required. */
static bool get_strv(const cJSON *obj, const char *key, char ***out, size_t *n, bool lower,
                     char *why, size_t whylen)
{
    *out = NULL;
    *n = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!a)
        return true;
    if (!cJSON_IsArray(a)) {
        rmg_fmt(why, whylen, "\"%s\" must be an array of strings", key);
        return false;
    }
    size_t cnt = (size_t)cJSON_GetArraySize(a);
    char **v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) {
        rmg_fmt(why, whylen, "out of memory");
        return false;
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || !it->valuestring[0]) {
            rmg_fmt(why, whylen, "\"%s\"[%zu] must be a non-empty string", key, i);
            rmg_strv_free(v, i);
            return false;
        }
        v[i] = strdup(it->valuestring);
        if (!v[i]) {
            rmg_strv_free(v, i);
            rmg_fmt(why, whylen, "out of memory");
            return false;
        }
        if (lower)
            for (char *p = v[i]; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        i++;
    }
    *out = v;
    *n = cnt;
    return true;
}

static const char *get_str(const cJSON *obj, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* An example stored as a fragment array (["OPENAI_A", "PI_KEY=s", ...], docs/rules.md) as
 * the string it spells; a string, or anything else, as it is (`rules check` reports a
 * malformed example). The built-in examples are stored so: whole, they are real-looking
 * secrets, and the binary that embeds them would fail every secret scan, its own included.
 * False only when out of memory. */
static bool join_fragments(cJSON *parent, cJSON *item)
{
    if (!cJSON_IsArray(item) || !item->child)
        return true;
    size_t len = 0;
    for (const cJSON *f = item->child; f; f = f->next) {
        if (!cJSON_IsString(f))
            return true;
        len += strlen(f->valuestring);
    }
    char *text = malloc(len + 1);
    if (!text)
        return false;
    len = 0;
    for (const cJSON *f = item->child; f; f = f->next) {
        size_t n = strlen(f->valuestring);
        memcpy(text + len, f->valuestring, n);
        len += n;
    }
    text[len] = '\0';
    cJSON *joined = cJSON_CreateString(text);
    free(text);
    if (joined && item->string) /* an object member keeps its key */
        joined->string = strdup(item->string);
    if (!joined || (item->string && !joined->string)) {
        cJSON_Delete(joined);
        return false;
    }
    return cJSON_ReplaceItemViaPointer(parent, item, joined);
}

/* Joins every fragmented example of an "examples" object (positive: a string or {text,
 * secret}; negative: a string), in place. False only when out of memory. */
static bool join_examples(cJSON *examples)
{
    static const char *const kinds[] = {"positive", "negative"};
    for (int k = 0; k < 2; k++) {
        cJSON *list = cJSON_GetObjectItemCaseSensitive(examples, kinds[k]);
        if (!cJSON_IsArray(list))
            continue;
        for (cJSON *ex = list->child, *next; ex; ex = next) {
            next = ex->next;
            if (k == 0 && cJSON_IsObject(ex)) {
                cJSON *t = cJSON_GetObjectItemCaseSensitive(ex, "text");
                cJSON *s = cJSON_GetObjectItemCaseSensitive(ex, "secret");
                if ((t && !join_fragments(ex, t)) || (s && !join_fragments(ex, s)))
                    return false;
            } else if (!join_fragments(list, ex)) {
                return false;
            }
        }
    }
    return true;
}

static const char *const known_keys[] = {
    "id", "title", "severity", "keywords", "regex", "max_span", "min_entropy", "confidence",
    "validator", "generic", "allow", "tags", "remedy", "examples", "description", NULL};

static const char *default_remedy(enum rmg_severity s)
{
    return s >= RMG_SEV_HIGH
               ? "Revoke and rotate this credential now, then remove it from the image "
                 "and its history; pass secrets at run time or with RUN --mount=type=secret."
               : "Check whether this value is a real secret; if it is, rotate it and load it "
                 "at run time instead of baking it in.";
}

static struct rmg_rule_impl *parse_rule(const cJSON *o, const char *origin, char *why,
                                        size_t whylen)
{
    struct rmg_rule_impl *ri = calloc(1, sizeof *ri);
    if (!ri) {
        rmg_fmt(why, whylen, "out of memory");
        return NULL;
    }
    struct rmg_rule *r = &ri->pub;
    if (!cJSON_IsObject(o)) {
        rmg_fmt(why, whylen, "a rule must be a JSON object");
        goto fail;
    }
    for (const cJSON *k = o->child; k; k = k->next) {
        bool known = false;
        for (int i = 0; known_keys[i]; i++)
            known = known || strcmp(k->string, known_keys[i]) == 0;
        if (!known) {
            rmg_fmt(why, whylen, "unknown key \"%.60s\"", k->string);
            goto fail;
        }
    }
    const char *id = get_str(o, "id");
    if (!id || !valid_id(id)) {
        rmg_fmt(why, whylen, "\"id\" must be a string of [a-z0-9-_.]");
        goto fail;
    }
    r->id = strdup(id);
    const char *title = get_str(o, "title");
    const char *regex = get_str(o, "regex");
    const char *sev = get_str(o, "severity");
    if (!title || !*title) {
        rmg_fmt(why, whylen, "\"title\" is required");
        goto fail;
    }
    if (!regex || !*regex) {
        rmg_fmt(why, whylen, "\"regex\" is required");
        goto fail;
    }
    if (!sev || !rmg_severity_parse(sev, &r->severity)) {
        rmg_fmt(why, whylen, "\"severity\" must be critical, high, medium or low");
        goto fail;
    }
    {
        /* Compiled here, so a bad regex fails its document naming the rule; JIT and the
         * pattern's figures come in rmg_rules_compile. */
        int ec;
        PCRE2_SIZE eo;
        ri->code = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED,
                                 PCRE2_USE_OFFSET_LIMIT, &ec, &eo, NULL);
        if (!ri->code) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(ec, msg, sizeof msg);
            rmg_fmt(why, whylen, "\"regex\": %s at offset %zu", (char *)msg, (size_t)eo);
            goto fail;
        }
    }
    r->title = strdup(title);
    r->regex = strdup(regex);
    r->origin = strdup(origin);
    const char *remedy = get_str(o, "remedy");
    r->remedy = strdup(remedy && *remedy ? remedy : default_remedy(r->severity));
    if (!r->id || !r->title || !r->regex || !r->origin || !r->remedy) {
        rmg_fmt(why, whylen, "out of memory");
        goto fail;
    }
    if (!cJSON_GetObjectItemCaseSensitive(o, "keywords")) {
        rmg_fmt(why, whylen, "\"keywords\" is required (may be [] only for rules with no literal)");
        goto fail;
    }
    if (!get_strv(o, "keywords", &r->keywords, &r->n_keywords, true, why, whylen) ||
        !get_strv(o, "tags", &r->tags, &r->n_tags, false, why, whylen))
        goto fail;
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(o, "confidence");
    r->confidence = RMG_CONF_PATTERN;
    if (conf) {
        if (cJSON_IsString(conf) && strcmp(conf->valuestring, "entropy") == 0)
            r->confidence = RMG_CONF_ENTROPY;
        else if (!(cJSON_IsString(conf) && strcmp(conf->valuestring, "pattern") == 0)) {
            rmg_fmt(why, whylen, "\"confidence\" must be \"pattern\" or \"entropy\"");
            goto fail;
        }
    }
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(o, "generic");
    if (gen && !cJSON_IsBool(gen)) {
        rmg_fmt(why, whylen, "\"generic\" must be true or false");
        goto fail;
    }
    r->generic = gen && cJSON_IsTrue(gen);
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(o, "min_entropy");
    if (ent) {
        if (!cJSON_IsNumber(ent) || ent->valuedouble < 0 || ent->valuedouble > 8) {
            rmg_fmt(why, whylen, "\"min_entropy\" must be a number from 0 to 8");
            goto fail;
        }
        r->min_entropy = ent->valuedouble;
    }
    const cJSON *span = cJSON_GetObjectItemCaseSensitive(o, "max_span");
    if (span) {
        if (!cJSON_IsNumber(span) || span->valuedouble < 1 || span->valuedouble > MAX_SPAN) {
            rmg_fmt(why, whylen, "\"max_span\" must be a number from 1 to %d", MAX_SPAN);
            goto fail;
        }
        r->max_span = (size_t)span->valuedouble;
        ri->span_given = true;
    }
    const char *val = get_str(o, "validator");
    if (cJSON_GetObjectItemCaseSensitive(o, "validator")) {
        if (!val || !(ri->validator = rmg_validate_find(val))) {
            rmg_fmt(why, whylen, "unknown \"validator\" \"%.40s\"", val ? val : "(not a string)");
            goto fail;
        }
        r->validator = strdup(val);
    }
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(o, "allow");
    if (allow) {
        if (!cJSON_IsObject(allow)) {
            rmg_fmt(why, whylen, "\"allow\" must be an object with \"values\" and \"regexes\"");
            goto fail;
        }
        char **res = NULL;
        size_t nres = 0;
        if (!get_strv(allow, "values", &r->allow_values, &r->n_allow_values, false, why, whylen) ||
            !get_strv(allow, "regexes", &res, &nres, false, why, whylen))
            goto fail;
        ri->allow_re = calloc(nres ? nres : 1, sizeof *ri->allow_re);
        for (size_t i = 0; ri->allow_re && i < nres; i++) {
            int ec;
            PCRE2_SIZE eo;
            ri->allow_re[i] = pcre2_compile((PCRE2_SPTR)res[i], PCRE2_ZERO_TERMINATED, 0, &ec,
                                            &eo, NULL);
            if (!ri->allow_re[i]) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(ec, msg, sizeof msg);
                rmg_fmt(why, whylen, "\"allow.regexes\"[%zu]: %s at offset %zu", i,
                        (char *)msg, (size_t)eo);
                ri->n_allow_re = i;
                rmg_strv_free(res, nres);
                goto fail;
            }
            ri->n_allow_re = i + 1;
        }
        rmg_strv_free(res, nres);
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "examples");
    if (ex) {
        if (!cJSON_IsObject(ex)) {
            rmg_fmt(why, whylen, "\"examples\" must be an object");
            goto fail;
        }
        ri->examples = cJSON_Duplicate(ex, true);
        if (!ri->examples || !join_examples(ri->examples)) {
            rmg_fmt(why, whylen, "out of memory");
            goto fail;
        }
    }
    return ri;
fail:
    rule_free(ri);
    return NULL;
}

static bool add_rule(struct rmg_rules *rules, struct rmg_rule_impl *ri)
{
    if (rules->n == rules->cap) {
        size_t cap = rules->cap ? rules->cap * 2 : 64;
        struct rmg_rule_impl **p = realloc(rules->rules, cap * sizeof *p);
        if (!p)
            return false;
        rules->rules = p;
        rules->cap = cap;
    }
    ri->pub.index = rules->n;
    rules->rules[rules->n++] = ri;
    return true;
}

enum rmg_status rmg_rules_add_json(struct rmg_rules *rules, const char *json, size_t len,
                                   const char *origin, char *err, size_t errlen)
{
    if (rules->compiled) {
        rmg_fmt(err, errlen, "%s: rule set already compiled", origin);
        return RMG_EFATAL;
    }
    cJSON *doc = cJSON_ParseWithLength(json, len);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
        rmg_fmt(err, errlen, "%s: invalid JSON near byte %zu", origin, off);
        return RMG_EINPUT;
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "rules");
    if (!cJSON_IsArray(arr)) {
        rmg_fmt(err, errlen, "%s: the top level must be an object with a \"rules\" array",
                origin);
        cJSON_Delete(doc);
        return RMG_EINPUT;
    }
    size_t first = rules->n, i = 0;
    const cJSON *o;
    enum rmg_status st = RMG_OK;
    cJSON_ArrayForEach(o, arr)
    {
        char why[256];
        struct rmg_rule_impl *ri = parse_rule(o, origin, why, sizeof why);
        const char *id = get_str(o, "id");
        if (!ri) {
            rmg_fmt(err, errlen, "%s: rule %zu (%.60s): %s", origin, i, id ? id : "no id", why);
            st = RMG_EINPUT;
            break;
        }
        if (rmg_rules_find(rules, ri->pub.id)) {
            rmg_fmt(err, errlen, "%s: rule %zu: duplicate id \"%s\"", origin, i, ri->pub.id);
            rule_free(ri);
            st = RMG_EINPUT;
            break;
        }
        if (!add_rule(rules, ri)) {
            rule_free(ri);
            rmg_fmt(err, errlen, "%s: out of memory", origin);
            st = RMG_ENOMEM;
            break;
        }
        i++;
    }
    cJSON_Delete(doc);
    if (st != RMG_OK) {
        while (rules->n > first)
            rule_free(rules->rules[--rules->n]);
        return st;
    }
    char hex[65];
    rmg_sha256_hex(json, len, hex);
    rmg_buf_append(rules->sources_hash, hex, 64);
    return RMG_OK;
}

enum rmg_status rmg_rules_add_builtin(struct rmg_rules *rules, char *err, size_t errlen)
{
    size_t first = rules->n;
    for (size_t i = 0; i < rmg_builtin_rules_count; i++) {
        char origin[256];
        rmg_fmt(origin, sizeof origin, "builtin:%s", rmg_builtin_rules[i].name);
        enum rmg_status st = rmg_rules_add_json(rules, rmg_builtin_rules[i].json,
                                                rmg_builtin_rules[i].len, origin, err, errlen);
        if (st != RMG_OK)
            return st;
    }
    if (rules->n - first == rmg_builtin_widths_count) {
        for (size_t k = 0; k < rmg_builtin_widths_count; k++) {
            struct rmg_rule_impl *ri = rules->rules[first + k];
            ri->width = rmg_builtin_widths[k];
            ri->width_known = ri->width != 0;
            const struct rmg_builtin_near *nr = &rmg_builtin_nears[k];
            ri->kw_reach = rmg_builtin_reaches[k];
            ri->follow_dist = nr->follow_dist;
            ri->follow_back = nr->follow_back;
            memcpy(ri->follow, nr->follow, sizeof ri->follow);
            memcpy(ri->lead, nr->lead, sizeof ri->lead);
            ri->tail_len = rmg_builtin_tail_max == RMG_TAIL_MAX ? nr->tail_len : 0;
            for (unsigned j = 0; j < ri->tail_len; j++)
                memcpy(ri->tail[j], nr->tail[j], sizeof ri->tail[j]);
            ri->near_known = true;
        }
        rules->builtin_first = first;
        rules->builtin_n = rules->n - first;
    }
    return RMG_OK;
}

static enum rmg_status add_file(struct rmg_rules *rules, const char *path, char *err,
                                size_t errlen)
{
    char *data;
    size_t len;
    if (!rmg_read_file(path, MAX_RULE_FILE, &data, &len, err, errlen))
        return RMG_EINPUT;
    enum rmg_status st = rmg_rules_add_json(rules, data, len, path, err, errlen);
    free(data);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum rmg_status rmg_rules_add_path(struct rmg_rules *rules, const char *path, char *err,
                                   size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        rmg_fmt(err, errlen, "%s: %s", path, strerror(errno));
        return RMG_EINPUT;
    }
    if (!S_ISDIR(st.st_mode))
        return add_file(rules, path, err, errlen);
    DIR *d = opendir(path);
    if (!d) {
        rmg_fmt(err, errlen, "%s: %s", path, strerror(errno));
        return RMG_EINPUT;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    enum rmg_status res = RMG_OK;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                res = RMG_ENOMEM;
                break;
            }
            names = p;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            res = RMG_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (res == RMG_OK && n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; res == RMG_OK && i < n; i++) {
        struct rmg_buf p = {0};
        if (!rmg_buf_printf(&p, "%s/%s", path, names[i])) {
            res = RMG_ENOMEM;
            break;
        }
        res = add_file(rules, p.data, err, errlen);
        rmg_buf_free(&p);
    }
    if (res == RMG_ENOMEM)
        rmg_fmt(err, errlen, "%s: out of memory", path);
    rmg_strv_free(names, n);
    return res;
}

/* ---- compiling ------------------------------------------------------------------------ */

/* The span of a rule from the regex width (0 = unknown, UINT_MAX = unbounded) and the rule's
 * own max_span, whichever is smaller. */
static void set_span(struct rmg_rule_impl *ri, unsigned width)
{
    bool bounded = width > 0 && width != UINT_MAX && width <= MAX_SPAN;
    if (!ri->span_given)
        ri->pub.max_span = bounded ? width : DEFAULT_SPAN;
    else if (bounded && width < ri->pub.max_span)
        ri->pub.max_span = width;
}

#ifdef RMG_HAVE_VECTORSCAN
/* Built-in rules carry the width computed at build time by the same call. */
static unsigned regex_width(const struct rmg_rule_impl *ri)
{
    return ri->width_known ? ri->width : rmg_regex_width(ri->pub.regex);
}

/* Takes the built-in rules' database compiled at build time, when the built-in rules are
 * loaded (once, all of them) and it suits this Vectorscan library and CPU; otherwise hs_build
 * compiles their keywords at start-up, to the same effect. */
static void hs_load_builtin(struct rmg_rules *rules)
{
    if (!rules->builtin_n || rmg_builtin_hs_db_len == 0)
        return;
    hs_database_t *db = NULL;
    if (hs_deserialize_database(rmg_builtin_hs_db, rmg_builtin_hs_db_len, &db) != HS_SUCCESS)
        return;
    /* A database for a CPU feature this one lacks is refused here, not at the first scan. */
    hs_scratch_t *scratch = NULL;
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
        hs_free_database(db);
        return;
    }
    hs_free_scratch(scratch);
    rules->hs_builtin = db;
    rules->hsb_kw_start = rmg_builtin_kw_start;
    rules->hsb_kw_rules = rmg_builtin_kw_rules;
    for (size_t k = 0; k < rules->builtin_n; k++)
        rules->rules[rules->builtin_first + k]->in_vectorscan = rmg_builtin_hs_regex[k] != 0;
}

static bool in_builtin_db(const struct rmg_rules *rules, size_t i)
{
    return rules->hs_builtin && i >= rules->builtin_first &&
           i < rules->builtin_first + rules->builtin_n;
}

/* Rules with keywords are selected by their keywords (a literal database compiles in
 * milliseconds where hundreds of prefilter regexes take minutes); a rule without keywords has
 * its regex compiled in prefilter mode when its match is short, and is scanned in full
 * otherwise. The regex width bounds the span; the keyword analysis (done at build time for
 * the built-in rules) narrows and filters the windows. */
static void hs_analyse(struct rmg_rule_impl *ri)
{
    unsigned width = regex_width(ri);
    ri->in_vectorscan = ri->pub.n_keywords == 0 && width > 0 && width <= RMG_PREFILTER_MAX_WIDTH;
    set_span(ri, width);
    ri->width = width;
    if (!ri->near_known && ri->pub.n_keywords) {
        ri->kw_reach = rmg_keyword_reach(ri->pub.regex, ri->pub.keywords, ri->pub.n_keywords);
        unsigned char set[256];
        unsigned dist, back;
        if (rmg_keyword_follow(ri->pub.regex, ri->pub.keywords, ri->pub.n_keywords, set, &dist,
                               &back)) {
            ri->follow_dist = dist;
            ri->follow_back = back;
            for (unsigned c = 0; c < 256; c++)
                if (set[c])
                    ri->follow[c / 8] |= (unsigned char)(1u << (c % 8));
        }
        if (rmg_keyword_lead(ri->pub.regex, set))
            for (unsigned c = 0; c < 256; c++)
                if (set[c])
                    ri->lead[c / 8] |= (unsigned char)(1u << (c % 8));
        unsigned char near[32];
        unsigned near_dist;
        ri->tail_len = rmg_keyword_tail(ri->pub.regex, ri->pub.keywords, ri->pub.n_keywords,
                                        ri->tail, near, &near_dist);
        if (ri->follow_dist == 0 && near_dist > 0) { /* the near set serves as follow set */
            memcpy(ri->follow, near, sizeof ri->follow);
            ri->follow_dist = near_dist;
            ri->follow_back = 0;
        }
    }
    ri->near_known = true;
}

/* Compiles the database of the rules the built-in one does not cover: their keywords (each
 * distinct keyword once, for all the rules that have it) and the regexes of in_vectorscan
 * rules. RMG_WARN: a regex was refused and its rule is now scanned in full; call again. */
static enum rmg_status hs_build(struct rmg_rules *rules, char *err, size_t errlen)
{
    struct rmg_hs_rule *hr = calloc(rules->n ? rules->n : 1, sizeof *hr);
    if (!hr)
        return RMG_ENOMEM;
    for (size_t i = 0; i < rules->n; i++) {
        const struct rmg_rule_impl *ri = rules->rules[i];
        hr[i] = (struct rmg_hs_rule){ri->pub.regex, ri->pub.keywords, ri->pub.n_keywords,
                                     ri->in_vectorscan, in_builtin_db(rules, i)};
    }
    struct rmg_hs_plan plan;
    bool planned = rmg_hs_plan_make(&plan, hr, rules->n);
    free(hr);
    if (!planned)
        return RMG_ENOMEM;
    enum rmg_status st = RMG_OK;
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    if (plan.n && hs_compile_multi(plan.exprs, plan.flags, plan.ids, (unsigned)plan.n,
                                   HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
        int bad = ce->expression;
        unsigned id = bad >= 0 && (size_t)bad < plan.n ? plan.ids[bad] : 0;
        struct rmg_rule_impl *bad_rule = NULL;
        if (bad >= 0 && (size_t)bad < plan.n)
            bad_rule = id >= RMG_HS_REGEX_ID ? rules->rules[id - RMG_HS_REGEX_ID]
                                             : rules->rules[plan.kw_rules[plan.kw_start[id]]];
        if (bad_rule && bad_rule->in_vectorscan) {
            /* The regex passed analysis but not compilation: scan that rule in full. */
            bad_rule->in_vectorscan = false;
            st = RMG_WARN;
        } else {
            rmg_fmt(err, errlen, "vectorscan: %s (rule %s)", ce->message,
                    bad_rule ? bad_rule->pub.id : "?");
            st = RMG_EINPUT;
        }
        hs_free_compile_error(ce);
    } else if (plan.n) {
        rules->hs_db = db;
        rules->hs_kw_start = plan.kw_start; /* taken over */
        rules->hs_kw_rules = plan.kw_rules;
        plan.kw_start = plan.kw_rules = NULL;
    }
    rmg_hs_plan_free(&plan);
    return st;
}
#endif

bool rmg_rules_have_vectorscan(void)
{
#ifdef RMG_HAVE_VECTORSCAN
    return true;
#else
    return false;
#endif
}

/* The window a keyword end opens: back by the keyword reach when it is known and every match
 * is at most max_span long (so no match is dropped as too long: those still move matching on,
 * and only the span reaches back to their start); back by the span otherwise. Keyword-less
 * rules are selected by their regex's match end: back by the span. */
static void set_reach(struct rmg_rule_impl *ri)
{
    ri->reach = ri->pub.max_span;
    ri->kw_min = 0;
    size_t kw_max = 0;
    for (size_t k = 0; k < ri->pub.n_keywords; k++) {
        size_t l = strlen(ri->pub.keywords[k]);
        if (k == 0 || l < ri->kw_min)
            ri->kw_min = l;
        if (l > kw_max)
            kw_max = l;
    }
    if (ri->kw_min > ri->reach)
        ri->kw_min = ri->reach;
    bool bounded = ri->width > 0 && ri->width != UINT_MAX && ri->width <= ri->pub.max_span;
    if (ri->pub.n_keywords && ri->kw_reach > 0 && bounded && ri->kw_reach < ri->reach)
        ri->reach = ri->kw_reach;
    /* Every keyword as long as the reach: it is where every match starts. */
    ri->exact_start = ri->pub.n_keywords && ri->reach == ri->kw_min && ri->kw_min == kw_max;
    ri->has_lead = false;
    for (size_t k = 0; k < sizeof ri->lead; k++)
        ri->has_lead = ri->has_lead || ri->lead[k];
    ri->has_lead = ri->has_lead && ri->exact_start;
}

/* Whether a second compile without PCRE2's start-up optimizations pays: with a required or
 * first code unit PCRE2 first searches the rest of the subject for it, from every window, up
 * to the end of the buffer (a megabyte) when it is rare; a window of a few dozen start
 * positions is cheaper tried as it is. The optimizations never change what matches but for
 * backtracking verbs, which the second compile is not made for. */
static bool wants_window_code(const struct rmg_rule_impl *ri)
{
    uint32_t first = 0, last = 0;
    pcre2_pattern_info(ri->code, PCRE2_INFO_FIRSTCODETYPE, &first);
    pcre2_pattern_info(ri->code, PCRE2_INFO_LASTCODETYPE, &last);
    return (first == 1 || last == 1) && !strstr(ri->pub.regex, "(*");
}

void rmg_rule_ready(const struct rmg_rules *rules, struct rmg_rule_impl *ri)
{
    if (atomic_load_explicit(&ri->ready, memory_order_acquire))
        return;
    pthread_mutex_lock(rules->ready_lock);
    if (!atomic_load_explicit(&ri->ready, memory_order_relaxed)) {
        pcre2_jit_compile(ri->code, PCRE2_JIT_COMPLETE); /* interpreted if JIT is unavailable */
        if (wants_window_code(ri)) {
            int ec;
            PCRE2_SIZE eo;
            ri->code_window = pcre2_compile((PCRE2_SPTR)ri->pub.regex, PCRE2_ZERO_TERMINATED,
                                            PCRE2_USE_OFFSET_LIMIT | PCRE2_NO_START_OPTIMIZE,
                                            &ec, &eo, NULL);
            if (ri->code_window)
                pcre2_jit_compile(ri->code_window, PCRE2_JIT_COMPLETE);
        }
        atomic_store_explicit(&ri->ready, true, memory_order_release);
    }
    pthread_mutex_unlock(rules->ready_lock);
}

/* Records the rule's figures (its code was compiled when it was loaded; JIT on first use). */
static void compile_pcre2(struct rmg_rules *rules, struct rmg_rule_impl *ri)
{
    int num = pcre2_substring_number_from_name(ri->code, (PCRE2_SPTR) "secret");
    ri->secret_group = num > 0 ? (uint32_t)num : 0;
    uint32_t groups = 0, lookbehind = 0;
    pcre2_pattern_info(ri->code, PCRE2_INFO_CAPTURECOUNT, &groups);
    pcre2_pattern_info(ri->code, PCRE2_INFO_MAXLOOKBEHIND, &lookbehind);
    if (groups + 1 > rules->max_groups)
        rules->max_groups = groups + 1;
    if (lookbehind > rules->max_lookbehind)
        rules->max_lookbehind = lookbehind;
}

enum rmg_status rmg_rules_compile(struct rmg_rules *rules, enum rmg_engine_kind engine,
                                  char *err, size_t errlen)
{
    if (rules->compiled)
        return RMG_OK;
    if (engine == RMG_ENGINE_VECTORSCAN && !rmg_rules_have_vectorscan()) {
        rmg_fmt(err, errlen, "this build has no Vectorscan; use --engine pcre2");
        return RMG_EINPUT;
    }
    if (engine == RMG_ENGINE_AUTO)
        engine = rmg_rules_have_vectorscan() ? RMG_ENGINE_VECTORSCAN : RMG_ENGINE_PCRE2;
    rules->engine = engine;
    rules->max_groups = 1;
    for (size_t i = 0; i < rules->n; i++) {
        struct rmg_rule_impl *ri = rules->rules[i];
        compile_pcre2(rules, ri);
#ifdef RMG_HAVE_VECTORSCAN
        /* The span comes from the same analysis whichever engine runs, so both engines
         * confine matches identically. */
        hs_analyse(ri);
#else
        set_span(ri, ri->width_known ? ri->width : 0);
#endif
        set_reach(ri);
        if (ri->pub.max_span > rules->max_span)
            rules->max_span = ri->pub.max_span;
    }
#ifdef RMG_HAVE_VECTORSCAN
    if (engine == RMG_ENGINE_VECTORSCAN) {
        hs_load_builtin(rules);
        enum rmg_status st;
        while ((st = hs_build(rules, err, errlen)) == RMG_WARN)
            ;
        if (st != RMG_OK)
            return st;
    }
#endif
    if (engine == RMG_ENGINE_PCRE2) {
        rules->ac = rmg_ac_build(rules);
        if (!rules->ac)
            return RMG_ENOMEM;
    }
    size_t n_always = 0;
    rules->always = calloc(rules->n ? rules->n : 1, sizeof *rules->always);
    if (!rules->always)
        return RMG_ENOMEM;
    for (size_t i = 0; i < rules->n; i++) {
        const struct rmg_rule_impl *ri = rules->rules[i];
        bool selectable = ri->pub.n_keywords > 0 ||
                          (engine == RMG_ENGINE_VECTORSCAN && ri->in_vectorscan);
        if (!selectable)
            rules->always[n_always++] = i;
    }
    rules->n_always = n_always;
    const struct rmg_buf *h = rules->sources_hash;
    rmg_sha256_hex(h->data ? h->data : "", h->len, rules->hash);
    rules->compiled = true;
    return RMG_OK;
}

size_t rmg_rules_count(const struct rmg_rules *rules)
{
    return rules->n;
}

const struct rmg_rule *rmg_rules_get(const struct rmg_rules *rules, size_t i)
{
    return i < rules->n ? &rules->rules[i]->pub : NULL;
}

const struct rmg_rule *rmg_rules_find(const struct rmg_rules *rules, const char *id)
{
    for (size_t i = 0; i < rules->n; i++)
        if (strcmp(rules->rules[i]->pub.id, id) == 0)
            return &rules->rules[i]->pub;
    return NULL;
}

enum rmg_engine_kind rmg_rules_engine(const struct rmg_rules *rules)
{
    return rules->engine;
}

const char *rmg_rules_hash(const struct rmg_rules *rules)
{
    return rules->hash;
}
