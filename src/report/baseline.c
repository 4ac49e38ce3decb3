/* baseline.c: writing, loading and applying baselines (see baseline.h).
 *
 * DESIGN. An entry is the pair (fingerprint, path). The fingerprint is sha256(rule id, NUL,
 * secret): the same across runs, re-builds of an image and report formats. The path is the
 * file's path (in an image, its path in the layer, which survives re-builds; layer indexes
 * and digests do not), so a known secret copied somewhere new is reported again. Lookups use
 * a sorted array and binary search. */
#define _POSIX_C_SOURCE 200809L
#include "report/baseline.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "common/util.h"

#define MAX_BASELINE (256u << 20)

struct entry {
    char fingerprint[65];
    char *path;
};

struct rmg_baseline {
    struct entry *v;
    size_t n;
};

bool rmg_baseline_write(FILE *out, const struct rmg_results *r, const struct rmg_rules *rules)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return false;
    cJSON_AddNumberToObject(root, "rummage_baseline", 1);
    cJSON_AddStringToObject(root, "version", RMG_VERSION);
    if (rules)
        cJSON_AddStringToObject(root, "rules", rmg_rules_hash(rules));
    cJSON *fs = cJSON_AddArrayToObject(root, "findings");
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_finding *f = &r->findings[i];
        if (f->ignored)
            continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "fingerprint", f->fingerprint);
        cJSON_AddItemToObject(j, "rule", rmg_json_string(f->rule->id));
        cJSON_AddItemToObject(j, "target", rmg_json_string(f->loc.target));
        if (f->loc.image)
            cJSON_AddItemToObject(j, "image", rmg_json_string(f->loc.image));
        cJSON_AddItemToObject(j, "path", rmg_json_string(f->loc.path));
        cJSON_AddNumberToObject(j, "line", (double)f->loc.line);
        cJSON_AddStringToObject(j, "state", rmg_state_name(f->state));
        cJSON_AddItemToArray(fs, j);
    }
    return rmg_json_put(out, root, true);
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->fingerprint, y->fingerprint);
    return c ? c : strcmp(x->path, y->path);
}

void rmg_baseline_free(struct rmg_baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i].path);
    free(b->v);
    free(b);
}

static bool is_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

enum rmg_status rmg_baseline_load(const char *path, struct rmg_baseline **out, char *err,
                                  size_t errlen)
{
    *out = NULL;
    char *data;
    size_t len;
    if (!rmg_read_file(path, MAX_BASELINE, &data, &len, err, errlen))
        return RMG_EINPUT;
    cJSON *doc = cJSON_ParseWithLength(data, len);
    free(data);
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    if (!cJSON_IsObject(doc) || !cJSON_GetObjectItemCaseSensitive(doc, "rummage_baseline") ||
        !cJSON_IsArray(fs)) {
        rmg_fmt(err, errlen, "%s: not a rummage baseline (write one with `rummage baseline "
                "TARGET... > FILE`)", path);
        cJSON_Delete(doc);
        return RMG_EINPUT;
    }
    struct rmg_baseline *b = calloc(1, sizeof *b);
    size_t n = (size_t)cJSON_GetArraySize(fs);
    if (!b || !(b->v = calloc(n ? n : 1, sizeof *b->v))) {
        free(b);
        cJSON_Delete(doc);
        rmg_fmt(err, errlen, "%s: out of memory", path);
        return RMG_ENOMEM;
    }
    size_t i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, fs) {
        const cJSON *fp = cJSON_GetObjectItemCaseSensitive(f, "fingerprint");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
        if (!cJSON_IsString(fp) || !is_hex64(fp->valuestring) || !cJSON_IsString(p)) {
            rmg_fmt(err, errlen, "%s: findings[%zu] needs a \"fingerprint\" (64 hex digits) and "
                    "a \"path\"", path, i);
            rmg_baseline_free(b);
            cJSON_Delete(doc);
            return RMG_EINPUT;
        }
        memcpy(b->v[b->n].fingerprint, fp->valuestring, 65);
        if (!(b->v[b->n].path = rmg_strdup(p->valuestring))) {
            rmg_baseline_free(b);
            cJSON_Delete(doc);
            rmg_fmt(err, errlen, "%s: out of memory", path);
            return RMG_ENOMEM;
        }
        b->n++;
        i++;
    }
    cJSON_Delete(doc);
    if (b->n > 1)
        qsort(b->v, b->n, sizeof *b->v, cmp_entry);
    *out = b;
    return RMG_OK;
}

size_t rmg_baseline_filter(const struct rmg_baseline *b, struct rmg_results *r)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        struct rmg_finding *f = &r->findings[i];
        struct entry key;
        memcpy(key.fingerprint, f->fingerprint, 65);
        key.path = f->loc.path ? f->loc.path : (char *)"";
        if (b && bsearch(&key, b->v, b->n, sizeof *b->v, cmp_entry)) {
            rmg_finding_free(f);
            dropped++;
        } else {
            r->findings[kept++] = *f;
        }
    }
    r->n_findings = kept;
    return dropped;
}
