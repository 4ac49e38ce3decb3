/* config.c: `.rummage.json` loading and the allow-list filter (see docs/config.md). */
#define _POSIX_C_SOURCE 200809L
#include "cli/config.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/util.h"

#define MAX_CONFIG (4u << 20)

bool rmg_format_parse(const char *s, size_t len, enum rmg_format *out)
{
    static const char *const names[] = {"text", "json", "sarif", "gitlab", "junit", "jsonl"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0) {
            *out = (enum rmg_format)i;
            return true;
        }
    return false;
}

void rmg_config_init(struct rmg_config *c)
{
    memset(c, 0, sizeof *c);
    c->fail_on = RMG_SEV_LOW;
    c->max_archive_depth = 2;
}

void rmg_config_free(struct rmg_config *c)
{
    free(c->build_args);
    free(c->outputs);
    rmg_strv_free(c->owned_targets, c->n_owned_targets); /* also the targets array then */
    for (size_t i = 0; i < c->n_severities; i++)
        free(c->severities[i].rule);
    free(c->severities);
    free(c->owned_baseline);
    rmg_strv_free(c->rules_paths, c->n_rules_paths);
    rmg_strv_free(c->allow_paths, c->n_allow_paths);
    rmg_strv_free(c->allow_rules, c->n_allow_rules);
    rmg_strv_free(c->allow_fingerprints, c->n_allow_fingerprints);
    for (size_t i = 0; i < c->n_allow_regexes; i++)
        pcre2_code_free(c->allow_regexes[i]);
    free(c->allow_regexes);
    memset(c, 0, sizeof *c);
}

static bool append_strs(const cJSON *a, char ***v, size_t *n, const char *path,
                        const char *key, char *err, size_t errlen)
{
    if (!a)
        return true;
    if (!cJSON_IsArray(a)) {
        rmg_fmt(err, errlen, "%s: \"%s\" must be an array of strings", path, key);
        return false;
    }
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || !it->valuestring[0]) {
            rmg_fmt(err, errlen, "%s: \"%s\"[%zu] must be a non-empty string", path, key, i);
            return false;
        }
        char **p = realloc(*v, (*n + 1) * sizeof *p);
        if (!p || !(p[*n] = strdup(it->valuestring))) {
            if (p)
                *v = p;
            rmg_fmt(err, errlen, "%s: out of memory", path);
            return false;
        }
        *v = p;
        (*n)++;
        i++;
    }
    return true;
}

/* "severity": {"rule-id": "low", ...} */
static bool load_severities(struct rmg_config *c, const cJSON *o, const char *path, char *err,
                            size_t errlen)
{
    if (!o)
        return true;
    if (!cJSON_IsObject(o)) {
        rmg_fmt(err, errlen, "%s: \"severity\" must be an object of rule id: severity", path);
        return false;
    }
    for (const cJSON *k = o->child; k; k = k->next) {
        enum rmg_severity sev;
        if (!cJSON_IsString(k) || !rmg_severity_parse(k->valuestring, &sev)) {
            rmg_fmt(err, errlen, "%s: \"severity.%.60s\" must be critical, high, medium or low",
                    path, k->string);
            return false;
        }
        struct rmg_severity_override *v =
            realloc(c->severities, (c->n_severities + 1) * sizeof *v);
        if (!v || !(v[c->n_severities].rule = strdup(k->string))) {
            if (v)
                c->severities = v;
            rmg_fmt(err, errlen, "%s: out of memory", path);
            return false;
        }
        c->severities = v;
        v[c->n_severities++].severity = sev;
    }
    return true;
}

/* "options": defaults for command-line options; an option given on the command line wins. */
static bool load_options(struct rmg_config *c, const cJSON *o, const char *path, char *err,
                         size_t errlen)
{
    if (!o)
        return true;
    if (!cJSON_IsObject(o)) {
        rmg_fmt(err, errlen, "%s: \"options\" must be an object", path);
        return false;
    }
    for (const cJSON *k = o->child; k; k = k->next) {
        const char *key = k->string;
        bool ok = true;
        if (strcmp(key, "fail_on") == 0) {
            enum rmg_severity sev;
            ok = cJSON_IsString(k) && rmg_severity_parse(k->valuestring, &sev);
            if (ok && !(c->given & RMG_GIVEN_FAIL_ON))
                c->fail_on = sev;
        } else if (strcmp(key, "fail_on_state") == 0) {
            ok = cJSON_IsString(k) && (strcmp(k->valuestring, "any") == 0 ||
                                       strcmp(k->valuestring, "present") == 0);
            if (ok && !(c->given & RMG_GIVEN_FAIL_STATE))
                c->fail_on_present_only = strcmp(k->valuestring, "present") == 0;
        } else if (strcmp(key, "fail_on_origin") == 0) {
            ok = cJSON_IsString(k) && (strcmp(k->valuestring, "own") == 0 ||
                                       strcmp(k->valuestring, "any") == 0);
            if (ok && !(c->given & RMG_GIVEN_FAIL_ORIGIN))
                c->fail_on_all_origins = strcmp(k->valuestring, "any") == 0;
        } else if (strcmp(key, "baseline") == 0) {
            ok = cJSON_IsString(k) && k->valuestring[0];
            if (ok && !(c->given & RMG_GIVEN_BASELINE)) {
                free(c->owned_baseline);
                if (!(c->owned_baseline = strdup(k->valuestring))) {
                    rmg_fmt(err, errlen, "%s: out of memory", path);
                    return false;
                }
                c->baseline = c->owned_baseline;
            }
        } else if (strcmp(key, "max_archive_depth") == 0) {
            ok = cJSON_IsNumber(k) && k->valuedouble >= 0 && k->valuedouble <= 16 &&
                 k->valuedouble == (int)k->valuedouble;
            if (ok && !(c->given & RMG_GIVEN_DEPTH))
                c->max_archive_depth = (int)k->valuedouble;
        } else {
            rmg_fmt(err, errlen, "%s: unknown key \"options.%.60s\" (expected fail_on, "
                    "fail_on_state, fail_on_origin, baseline, max_archive_depth)", path, key);
            return false;
        }
        if (!ok) {
            rmg_fmt(err, errlen, "%s: \"options.%s\" has a bad value (see docs/config.md)",
                    path, key);
            return false;
        }
    }
    return true;
}

enum rmg_status rmg_config_load(struct rmg_config *c, const char *path, char *err,
                                size_t errlen)
{
    char *data;
    size_t len;
    if (!rmg_read_file(path, MAX_CONFIG, &data, &len, err, errlen))
        return RMG_EINPUT;
    cJSON *doc = cJSON_ParseWithLength(data, len);
    free(data);
    if (!cJSON_IsObject(doc)) {
        rmg_fmt(err, errlen, "%s: not a JSON object", path);
        cJSON_Delete(doc);
        return RMG_EINPUT;
    }
    enum rmg_status st = RMG_EINPUT;
    for (const cJSON *k = doc->child; k; k = k->next) {
        if (strcmp(k->string, "allow") != 0 && strcmp(k->string, "rules") != 0 &&
            strcmp(k->string, "severity") != 0 && strcmp(k->string, "options") != 0) {
            rmg_fmt(err, errlen, "%s: unknown key \"%.60s\" (expected \"allow\", \"rules\", "
                    "\"severity\", \"options\")", path, k->string);
            goto out;
        }
    }
    if (!load_severities(c, cJSON_GetObjectItemCaseSensitive(doc, "severity"), path, err,
                         errlen) ||
        !load_options(c, cJSON_GetObjectItemCaseSensitive(doc, "options"), path, err, errlen))
        goto out;
    if (!append_strs(cJSON_GetObjectItemCaseSensitive(doc, "rules"), &c->rules_paths,
                     &c->n_rules_paths, path, "rules", err, errlen))
        goto out;
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(doc, "allow");
    if (allow) {
        if (!cJSON_IsObject(allow)) {
            rmg_fmt(err, errlen, "%s: \"allow\" must be an object", path);
            goto out;
        }
        for (const cJSON *k = allow->child; k; k = k->next) {
            static const char *const keys[] = {"paths", "rules", "fingerprints", "regexes", NULL};
            bool ok = false;
            for (int i = 0; keys[i]; i++)
                ok = ok || strcmp(k->string, keys[i]) == 0;
            if (!ok) {
                rmg_fmt(err, errlen,
                        "%s: unknown key \"allow.%.60s\" (expected paths, rules, fingerprints, "
                        "regexes)",
                        path, k->string);
                goto out;
            }
        }
        char **res = NULL;
        size_t nres = 0;
        if (!append_strs(cJSON_GetObjectItemCaseSensitive(allow, "paths"), &c->allow_paths,
                         &c->n_allow_paths, path, "allow.paths", err, errlen) ||
            !append_strs(cJSON_GetObjectItemCaseSensitive(allow, "rules"), &c->allow_rules,
                         &c->n_allow_rules, path, "allow.rules", err, errlen) ||
            !append_strs(cJSON_GetObjectItemCaseSensitive(allow, "fingerprints"),
                         &c->allow_fingerprints, &c->n_allow_fingerprints, path,
                         "allow.fingerprints", err, errlen) ||
            !append_strs(cJSON_GetObjectItemCaseSensitive(allow, "regexes"), &res, &nres, path,
                         "allow.regexes", err, errlen)) {
            rmg_strv_free(res, nres);
            goto out;
        }
        void **codes = realloc(c->allow_regexes, (c->n_allow_regexes + nres + 1) * sizeof *codes);
        if (!codes) {
            rmg_strv_free(res, nres);
            rmg_fmt(err, errlen, "%s: out of memory", path);
            goto out;
        }
        c->allow_regexes = codes;
        for (size_t i = 0; i < nres; i++) {
            int ec;
            PCRE2_SIZE eo;
            pcre2_code *code = pcre2_compile((PCRE2_SPTR)res[i], PCRE2_ZERO_TERMINATED, 0, &ec,
                                             &eo, NULL);
            if (!code) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(ec, msg, sizeof msg);
                rmg_fmt(err, errlen, "%s: \"allow.regexes\"[%zu]: %s at offset %zu", path, i,
                        (char *)msg, (size_t)eo);
                rmg_strv_free(res, nres);
                goto out;
            }
            c->allow_regexes[c->n_allow_regexes++] = code;
        }
        rmg_strv_free(res, nres);
    }
    st = RMG_OK;
out:
    cJSON_Delete(doc);
    return st;
}

static bool allowed(const struct rmg_config *c, const struct rmg_finding *f,
                    pcre2_match_data *md)
{
    for (size_t i = 0; i < c->n_allow_rules; i++)
        if (strcmp(c->allow_rules[i], f->rule->id) == 0)
            return true;
    for (size_t i = 0; i < c->n_allow_fingerprints; i++)
        if (strcmp(c->allow_fingerprints[i], f->fingerprint) == 0)
            return true;
    if (f->loc.path) {
        const char *base = strrchr(f->loc.path, '/');
        base = base ? base + 1 : f->loc.path;
        for (size_t i = 0; i < c->n_allow_paths; i++)
            if (fnmatch(c->allow_paths[i], f->loc.path, 0) == 0 ||
                fnmatch(c->allow_paths[i], base, 0) == 0)
                return true;
    }
    for (size_t i = 0; md && i < c->n_allow_regexes; i++)
        if (pcre2_match(c->allow_regexes[i], (PCRE2_SPTR)f->secret, f->secret_len, 0, 0, md,
                        NULL) >= 0)
            return true;
    return false;
}

size_t rmg_config_filter(const struct rmg_config *c, struct rmg_results *r)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        for (size_t k = 0; k < c->n_severities; k++)
            if (strcmp(c->severities[k].rule, r->findings[i].rule->id) == 0)
                r->findings[i].severity = c->severities[k].severity;
        if (allowed(c, &r->findings[i], md)) {
            rmg_finding_free(&r->findings[i]);
            dropped++;
        } else {
            r->findings[kept++] = r->findings[i];
        }
    }
    r->n_findings = kept;
    pcre2_match_data_free(md);
    return dropped;
}
