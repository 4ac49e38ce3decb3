/* model.c: the image model and the resolve step (see model.h).
 *
 * DESIGN. Sources hand over blobs; nothing here reads a file or a stream. Layer order,
 * history and platforms are only known once manifest.json / index.json and the configs are
 * read, which in a docker-save stream is at the very end, so layers are walked first with
 * their findings tagged by blob id, and this step attributes them afterwards: a blob shared
 * by several images (or twice in one) yields a finding per place it ships. A finding's state
 * comes from the path sets of the layers above its own: a whiteout of the path or of a parent
 * directory, an opaque parent directory, or a non-directory in place of a parent is a
 * deletion; another entry at the same path replaces it. Names in manifests are untrusted:
 * digests are checked to be algorithm:hex before they become blob names, so a manifest
 * cannot point outside the image.
 */
#define _GNU_SOURCE
#include "image/model.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/util.h"

#define MAX_INDEX_DEPTH 4
#define MAX_LINK_HOPS 8

/* ---- blobs ---------------------------------------------------------------------------- */

void rmg_blobs_free(struct rmg_blobs *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->v[i].name);
        free(b->v[i].link);
        free(b->v[i].json);
        rmg_pathset_free(b->v[i].paths);
        rmg_layer_prov_clear(b->v[i].prov);
        free(b->v[i].prov);
    }
    free(b->v);
    memset(b, 0, sizeof *b);
}

struct rmg_blob *rmg_blobs_add(struct rmg_blobs *b, const char *name)
{
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 32;
        struct rmg_blob *v = realloc(b->v, c * sizeof *v);
        if (!v)
            return NULL;
        b->v = v;
        b->cap = c;
    }
    struct rmg_blob *x = &b->v[b->n];
    memset(x, 0, sizeof *x);
    if (!(x->name = rmg_strdup(name)))
        return NULL;
    x->id = (int)b->n++;
    return x;
}

struct rmg_layer_prov *rmg_blob_prov(struct rmg_blob *b)
{
    if (!b->prov)
        b->prov = calloc(1, sizeof *b->prov);
    return b->prov;
}

struct rmg_blob *rmg_blobs_find(const struct rmg_blobs *b, const char *name)
{
    for (int hop = 0; hop <= MAX_LINK_HOPS && name; hop++) {
        struct rmg_blob *found = NULL;
        /* The last one of a name wins, as when a tar is extracted. */
        for (size_t i = b->n; i-- > 0;)
            if (strcmp(b->v[i].name, name) == 0) {
                found = &b->v[i];
                break;
            }
        if (!found || !found->link)
            return found;
        name = found->link;
    }
    return NULL;
}

/* ---- platforms ------------------------------------------------------------------------ */

const char *rmg_host_platform(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return "linux/amd64";
    static const struct {
        const char *machine, *platform;
    } map[] = {{"x86_64", "linux/amd64"}, {"aarch64", "linux/arm64"}, {"arm64", "linux/arm64"},
               {"armv7l", "linux/arm/v7"}, {"armv6l", "linux/arm/v6"}, {"i686", "linux/386"},
               {"i386", "linux/386"}, {"ppc64le", "linux/ppc64le"}, {"s390x", "linux/s390x"},
               {"riscv64", "linux/riscv64"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(u.machine, map[i].machine) == 0)
            return map[i].platform;
    return "linux/amd64";
}

/* "os/arch[/variant]" from an object with os, architecture, variant; NULL if it has none. */
static char *platform_of(const cJSON *o)
{
    const cJSON *os = cJSON_GetObjectItemCaseSensitive(o, "os");
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(o, "architecture");
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(o, "variant");
    if (!cJSON_IsString(os) || !cJSON_IsString(arch))
        return NULL;
    struct rmg_buf b = {0};
    rmg_buf_printf(&b, "%s/%s", os->valuestring, arch->valuestring);
    if (cJSON_IsString(var) && var->valuestring[0])
        rmg_buf_printf(&b, "/%s", var->valuestring);
    return b.data;
}

/* arm64 images often leave out the variant, which can only be v8: "linux/arm64" and
 * "linux/arm64/v8" are the same platform (as containerd treats them). */
static void platform_normal(const char *p, char *out, size_t cap)
{
    size_t n = strlen(p);
    if (n >= 6 && strcmp(p + n - 6, "/arm64") == 0 && strchr(p, '/') == p + n - 6)
        rmg_fmt(out, cap, "%s/v8", p);
    else
        rmg_fmt(out, cap, "%s", p);
}

/* Does platform p ("os/arch[/variant]") satisfy the wanted one? A wanted platform without a
 * variant takes any variant. */
static bool platform_matches(const char *p, const char *want)
{
    char pn[256], wn[256];
    platform_normal(p, pn, sizeof pn);
    const char *slash = strchr(want, '/');
    bool want_variant = slash && strchr(slash + 1, '/');
    if (want_variant) {
        platform_normal(want, wn, sizeof wn);
        return strcmp(pn, wn) == 0;
    }
    size_t n = strlen(want);
    return strncmp(pn, want, n) == 0 && (pn[n] == '\0' || pn[n] == '/');
}

/* ---- the plan ------------------------------------------------------------------------- */

struct image_layer {
    int blob;          /* -1 when missing */
    char *digest, *diff_id, *created_by;
};

struct image {
    char *name;        /* "app:1.0", "@0", an OCI ref name */
    char *platform;
    cJSON *config;     /* parsed config (owned) or NULL */
    cJSON *annotations; /* the manifest's annotations (owned duplicate) or NULL */
    struct image_layer *layers;
    size_t n_layers;
};

struct rmg_image_set {
    struct image *v;
    size_t n, cap;
};

void rmg_image_set_free(struct rmg_image_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        struct image *im = &set->v[i];
        free(im->name);
        free(im->platform);
        cJSON_Delete(im->config);
        cJSON_Delete(im->annotations);
        for (size_t j = 0; j < im->n_layers; j++) {
            free(im->layers[j].digest);
            free(im->layers[j].diff_id);
            free(im->layers[j].created_by);
        }
        free(im->layers);
    }
    free(set->v);
    free(set);
}

static struct image *set_add(struct rmg_image_set *set)
{
    if (set->n == set->cap) {
        size_t c = set->cap ? set->cap * 2 : 4;
        struct image *v = realloc(set->v, c * sizeof *v);
        if (!v)
            return NULL;
        set->v = v;
        set->cap = c;
    }
    struct image *im = &set->v[set->n++];
    memset(im, 0, sizeof *im);
    return im;
}

struct planner {
    struct rmg_image_source *src;
    const struct rmg_image_select *sel;
    struct rmg_results *out;
    struct rmg_image_set *set;
    enum rmg_status worst;
    bool no_manifest; /* manifest.json / index.json missing, unreadable or malformed */
};

static void plan_error(struct planner *p, enum rmg_status st, const char *path, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
static void plan_error(struct planner *p, enum rmg_status st, const char *path, const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(p->out, st, p->src->target, path, fmt, ap);
    va_end(ap);
    if (st > p->worst)
        p->worst = st;
}

static cJSON *load_json(struct planner *p, const char *name)
{
    char err[512];
    struct rmg_blob *b = p->src->get_json(p->src, name, err, sizeof err);
    if (!b) {
        plan_error(p, RMG_EINPUT, name, "%s", err);
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(b->json, b->json_len);
    if (!j)
        plan_error(p, RMG_EINPUT, name, "not valid JSON");
    return j;
}

/* "sha256:HEX" -> "blobs/sha256/HEX"; false if the digest is not algorithm:hex. */
static bool digest_blob_name(const char *digest, char *out, size_t cap)
{
    const char *colon = strchr(digest, ':');
    if (!colon || colon == digest || !colon[1] ||
        !((digest[0] >= 'a' && digest[0] <= 'z') || (digest[0] >= '0' && digest[0] <= '9')))
        return false;
    for (const char *c = digest; c < colon; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '+' || *c == '.' ||
              *c == '_' || *c == '-'))
            return false;
    for (const char *c = colon + 1; *c; c++)
        if (!((*c >= 'a' && *c <= 'f') || (*c >= '0' && *c <= '9')))
            return false;
    rmg_fmt(out, cap, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
    return true;
}

char *rmg_blob_name_digest(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strspn(base, "0123456789abcdef");
    if (n != 64 || (base[n] && strcmp(base + n, ".tar") != 0 && strcmp(base + n, ".tar.gz") != 0))
        return NULL;
    if (base == name || strncmp(name, "blobs/sha256/", 13) == 0 || !strchr(name, '/')) {
        struct rmg_buf b = {0};
        rmg_buf_printf(&b, "sha256:%.64s", base);
        return b.data;
    }
    return NULL;
}

static char *clean_name(const char *name)
{
    char buf[4096];
    if (!rmg_layer_clean_path(name, buf, sizeof buf))
        return NULL;
    return rmg_strdup(buf + 1); /* relative: no leading '/' */
}

/* Reads an image's config: platform, diff_ids and the history step of each layer. */
static void read_config(struct planner *p, struct image *im, const char *config_name)
{
    cJSON *c = load_json(p, config_name);
    if (!c)
        return;
    if (!cJSON_IsObject(c)) {
        plan_error(p, RMG_EINPUT, config_name, "image config is not a JSON object");
        cJSON_Delete(c);
        return;
    }
    im->config = c;
    if (!im->platform)
        im->platform = platform_of(c);
    const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(c, "rootfs");
    const cJSON *diff_ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
    size_t i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, diff_ids) {
        if (i < im->n_layers && cJSON_IsString(d))
            im->layers[i].diff_id = rmg_strdup(d->valuestring);
        i++;
    }
    if (cJSON_IsArray(diff_ids) && i != im->n_layers)
        plan_error(p, RMG_WARN, config_name,
                   "the config lists %zu layers (rootfs.diff_ids), the manifest %zu", i,
                   im->n_layers);
    const cJSON *h;
    i = 0;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(c, "history")) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "empty_layer")))
            continue;
        const cJSON *cb = cJSON_GetObjectItemCaseSensitive(h, "created_by");
        if (i < im->n_layers && cJSON_IsString(cb))
            im->layers[i].created_by = rmg_strdup(cb->valuestring);
        i++;
    }
}

static void add_layer(struct planner *p, struct image *im, const char *name, const char *digest)
{
    struct image_layer *l = &im->layers[im->n_layers++];
    l->blob = -1;
    l->digest = digest ? rmg_strdup(digest) : rmg_blob_name_digest(name);
    char err[512];
    struct rmg_blob *b = p->src->get_layer(p->src, name, err, sizeof err);
    if (!b) {
        plan_error(p, RMG_EINPUT, name, "layer %zu: %s", im->n_layers - 1, err);
        return;
    }
    l->blob = b->id;
    b->used = b->referenced = true;
}

/* A layer of an image that is not reported (another platform or tag) is still known. */
static void mark_referenced(struct planner *p, const char *name)
{
    struct rmg_blob *b = rmg_blobs_find(&p->src->blobs, name);
    if (b)
        b->referenced = true;
}

/* Does a docker-save RepoTags entry name what the user asked for? "app" means "app:latest";
 * Docker Hub names may be written with or without "docker.io/library/". */
static bool tag_matches(const char *tag, const char *ref)
{
    if (strcmp(tag, ref) == 0)
        return true;
    char a[1024], b[1024];
    const char *strip[] = {"docker.io/library/", "docker.io/", "index.docker.io/library/"};
    const char *t = tag, *r = ref;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(strip[i]);
        if (strncmp(t, strip[i], n) == 0 && t == tag)
            t += n;
        if (strncmp(r, strip[i], n) == 0 && r == ref)
            r += n;
    }
    const char *slash_t = strrchr(t, '/'), *slash_r = strrchr(r, '/');
    rmg_fmt(a, sizeof a, "%s%s", t, strchr(slash_t ? slash_t : t, ':') ? "" : ":latest");
    rmg_fmt(b, sizeof b, "%s%s", r, strchr(slash_r ? slash_r : r, ':') ? "" : ":latest");
    return strcmp(a, b) == 0;
}

/* An image name as people write it: Docker Hub's implicit prefixes dropped. */
static const char *short_name(const char *name)
{
    static const char *const prefixes[] = {"docker.io/library/", "docker.io/"};
    for (size_t i = 0; i < 2; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return name + strlen(prefixes[i]);
    return name;
}

static void plan_docker(struct planner *p, cJSON *manifest)
{
    if (!cJSON_IsArray(manifest)) {
        plan_error(p, RMG_EINPUT, "manifest.json", "not a JSON array");
        p->no_manifest = true;
        return;
    }
    const char *ref = p->sel->ref;
    long want_index = -1;
    if (ref && ref[0] == '@') {
        char *end;
        want_index = strtol(ref + 1, &end, 10);
        if (*end || want_index < 0) {
            plan_error(p, RMG_EINPUT, NULL, "bad image index '%s' (want @N)", ref);
            return;
        }
    }
    int k = -1;
    const cJSON *e;
    struct rmg_buf names = {0};
    cJSON_ArrayForEach(e, manifest) {
        k++;
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(e, "RepoTags");
        const cJSON *first = cJSON_GetArrayItem(tags, 0);
        char idx[32];
        rmg_fmt(idx, sizeof idx, "@%d", k);
        const char *name = cJSON_IsString(first) ? first->valuestring : idx;
        rmg_buf_printf(&names, "%s%s", names.len ? ", " : "", name);
        bool take = want_index < 0 || k == want_index;
        if (ref && want_index < 0) {
            const cJSON *t, *hit = NULL;
            cJSON_ArrayForEach(t, tags) {
                if (!hit && cJSON_IsString(t) && tag_matches(t->valuestring, ref))
                    hit = t;
            }
            take = hit != NULL;
            if (hit)
                name = hit->valuestring;
        }
        if (!take) {
            const cJSON *l;
            cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(e, "Layers")) {
                char *ln = cJSON_IsString(l) ? clean_name(l->valuestring) : NULL;
                if (ln)
                    mark_referenced(p, ln);
                free(ln);
            }
            continue;
        }
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(e, "Config");
        const cJSON *layers = cJSON_GetObjectItemCaseSensitive(e, "Layers");
        if (!cJSON_IsString(cfg) || !cJSON_IsArray(layers)) {
            plan_error(p, RMG_EINPUT, "manifest.json", "entry %d has no Config or Layers", k);
            continue;
        }
        struct image *im = set_add(p->set);
        int n = cJSON_GetArraySize(layers);
        if (!im || !(im->name = rmg_strdup(short_name(name))) ||
            !(im->layers = calloc((size_t)n + 1, sizeof *im->layers))) {
            plan_error(p, RMG_ENOMEM, NULL, "out of memory");
            break;
        }
        const cJSON *l;
        cJSON_ArrayForEach(l, layers) {
            char *ln = cJSON_IsString(l) ? clean_name(l->valuestring) : NULL;
            if (!ln) {
                plan_error(p, RMG_EINPUT, "manifest.json", "entry %d: a layer name is not a valid path", k);
                im->layers[im->n_layers++].blob = -1;
                continue;
            }
            add_layer(p, im, ln, NULL);
            free(ln);
        }
        char *cn = clean_name(cfg->valuestring);
        if (cn)
            read_config(p, im, cn);
        free(cn);
        /* Layer digests of an uncompressed docker-save layer are their diff_ids. */
        for (size_t i = 0; i < im->n_layers; i++)
            if (!im->layers[i].digest && im->layers[i].diff_id)
                im->layers[i].digest = rmg_strdup(im->layers[i].diff_id);
    }
    if (ref && p->set->n == 0)
        plan_error(p, RMG_EINPUT, NULL, "no image '%s' in this archive (it holds: %s)", ref,
                   names.data ? names.data : "none");
    rmg_buf_free(&names);
}

/* A manifest found through index.json, before platform selection. */
struct candidate {
    char *name, *platform, *manifest_blob, *digest;
    bool attestation;
    bool excluded; /* not the --ref asked for: known, not reported */
};

static void oci_collect(struct planner *p, const cJSON *index, const char *name, int depth,
                        bool excluded, struct candidate **cv, size_t *cn, size_t *ccap,
                        int *top_k)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests")) {
        const cJSON *dg = cJSON_GetObjectItemCaseSensitive(d, "digest");
        char blob[512];
        if (!cJSON_IsString(dg) || !digest_blob_name(dg->valuestring, blob, sizeof blob)) {
            plan_error(p, RMG_EINPUT, "index.json", "a manifest descriptor has no valid digest");
            continue;
        }
        const char *this_name = name;
        bool this_excluded = excluded;
        char idx[32];
        if (depth == 0) {
            int k = (*top_k)++;
            const cJSON *ann = cJSON_GetObjectItemCaseSensitive(d, "annotations");
            const cJSON *rn = cJSON_GetObjectItemCaseSensitive(ann, "org.opencontainers.image.ref.name");
            const cJSON *cname = cJSON_GetObjectItemCaseSensitive(ann, "io.containerd.image.name");
            rmg_fmt(idx, sizeof idx, "@%d", k);
            this_name = cJSON_IsString(cname) ? cname->valuestring
                        : cJSON_IsString(rn)  ? rn->valuestring
                                              : idx;
            const char *ref = p->sel->ref;
            if (ref) {
                bool hit = ref[0] == '@' ? strcmp(ref, idx) == 0
                                         : (cJSON_IsString(rn) && strcmp(rn->valuestring, ref) == 0) ||
                                               (cJSON_IsString(cname) && tag_matches(cname->valuestring, ref));
                this_excluded = !hit;
            }
        }
        cJSON *m = load_json(p, blob);
        if (!m)
            continue;
        if (cJSON_GetObjectItemCaseSensitive(m, "manifests")) {
            if (depth >= MAX_INDEX_DEPTH)
                plan_error(p, RMG_WARN, blob, "indexes nested deeper than %d: not followed",
                           MAX_INDEX_DEPTH);
            else
                oci_collect(p, m, this_name, depth + 1, this_excluded, cv, cn, ccap, top_k);
            cJSON_Delete(m);
            continue;
        }
        cJSON_Delete(m);
        if (*cn == *ccap) {
            size_t c = *ccap ? *ccap * 2 : 8;
            struct candidate *v = realloc(*cv, c * sizeof *v);
            if (!v) {
                plan_error(p, RMG_ENOMEM, NULL, "out of memory");
                return;
            }
            *cv = v;
            *ccap = c;
        }
        struct candidate *c = &(*cv)[(*cn)++];
        memset(c, 0, sizeof *c);
        c->name = rmg_strdup(this_name);
        c->platform = platform_of(cJSON_GetObjectItemCaseSensitive(d, "platform"));
        c->manifest_blob = rmg_strdup(blob);
        c->digest = rmg_strdup(dg->valuestring);
        c->excluded = this_excluded;
        const cJSON *ann = cJSON_GetObjectItemCaseSensitive(d, "annotations");
        c->attestation = cJSON_GetObjectItemCaseSensitive(ann, "vnd.docker.reference.type") != NULL ||
                         (c->platform && strcmp(c->platform, "unknown/unknown") == 0);
    }
}

static void plan_oci_image(struct planner *p, const struct candidate *c)
{
    cJSON *m = load_json(p, c->manifest_blob);
    if (!m)
        return;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(m, "config");
    const cJSON *cfg_digest = cJSON_GetObjectItemCaseSensitive(cfg, "digest");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
    char blob[512];
    if (!cJSON_IsArray(layers)) {
        plan_error(p, RMG_EINPUT, c->manifest_blob, "image manifest has no layers array");
        cJSON_Delete(m);
        return;
    }
    struct image *im = set_add(p->set);
    int n = cJSON_GetArraySize(layers);
    if (!im || !(im->name = rmg_strdup(short_name(c->name))) ||
        !(im->layers = calloc((size_t)n + 1, sizeof *im->layers))) {
        plan_error(p, RMG_ENOMEM, NULL, "out of memory");
        cJSON_Delete(m);
        return;
    }
    im->platform = rmg_strdup(c->platform);
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(m, "annotations");
    if (cJSON_IsObject(ann))
        im->annotations = cJSON_Duplicate(ann, true);
    const cJSON *l;
    cJSON_ArrayForEach(l, layers) {
        const cJSON *dg = cJSON_GetObjectItemCaseSensitive(l, "digest");
        if (!cJSON_IsString(dg) || !digest_blob_name(dg->valuestring, blob, sizeof blob)) {
            plan_error(p, RMG_EINPUT, c->manifest_blob, "layer %zu has no valid digest",
                       im->n_layers);
            im->layers[im->n_layers++].blob = -1;
            continue;
        }
        add_layer(p, im, blob, dg->valuestring);
    }
    if (cJSON_IsString(cfg_digest) && digest_blob_name(cfg_digest->valuestring, blob, sizeof blob))
        read_config(p, im, blob);
    else
        plan_error(p, RMG_EINPUT, c->manifest_blob, "image manifest has no valid config digest");
    cJSON_Delete(m);
}

static void plan_oci(struct planner *p, cJSON *index)
{
    struct candidate *cv = NULL;
    size_t cn = 0, ccap = 0;
    int top_k = 0;
    oci_collect(p, index, NULL, 0, false, &cv, &cn, &ccap, &top_k);
    const char *want = p->sel->platform ? p->sel->platform : rmg_host_platform();
    bool any_platform = false, any_match = false, any_selected = false;
    for (size_t i = 0; i < cn; i++) {
        any_selected = any_selected || !cv[i].excluded;
        if (cv[i].platform && !cv[i].attestation && !cv[i].excluded) {
            any_platform = true;
            any_match = any_match || platform_matches(cv[i].platform, want);
        }
    }
    struct rmg_buf avail = {0};
    for (size_t i = 0; i < cn; i++) {
        const struct candidate *c = &cv[i];
        if (c->attestation)
            continue;
        if (c->platform && !c->excluded)
            rmg_buf_printf(&avail, "%s%s", avail.len ? ", " : "", c->platform);
        bool take = !c->excluded && (p->sel->all_platforms || !c->platform || !any_platform ||
                                     platform_matches(c->platform, want));
        if (take) {
            plan_oci_image(p, c);
            continue;
        }
        /* Another platform's layers are known, not reported. */
        cJSON *m = load_json(p, c->manifest_blob);
        const cJSON *l;
        char blob[512];
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
            const cJSON *dg = cJSON_GetObjectItemCaseSensitive(l, "digest");
            if (cJSON_IsString(dg) && digest_blob_name(dg->valuestring, blob, sizeof blob))
                mark_referenced(p, blob);
        }
        cJSON_Delete(m);
    }
    if (any_platform && !any_match && !p->sel->all_platforms)
        plan_error(p, RMG_EINPUT, NULL,
                   "no image for platform %s (available: %s; use --platform or --all-platforms)",
                   want, avail.data ? avail.data : "none");
    if (p->sel->ref && !any_selected)
        plan_error(p, RMG_EINPUT, NULL, "no image '%s' in index.json", p->sel->ref);
    rmg_buf_free(&avail);
    for (size_t i = 0; i < cn; i++) {
        free(cv[i].name);
        free(cv[i].platform);
        free(cv[i].manifest_blob);
        free(cv[i].digest);
    }
    free(cv);
}

bool rmg_image_found(const struct rmg_image_source *src)
{
    const struct rmg_blob *m = rmg_blobs_find(&src->blobs, "manifest.json");
    const struct rmg_blob *i = rmg_blobs_find(&src->blobs, "index.json");
    return (m && m->json) || (i && i->json);
}

enum rmg_status rmg_image_plan(struct rmg_image_source *src, const struct rmg_image_select *sel,
                               struct rmg_results *out, struct rmg_image_set **setp)
{
    struct planner p = {.src = src, .sel = sel, .out = out};
    *setp = NULL;
    if (!(p.set = calloc(1, sizeof *p.set)))
        return RMG_ENOMEM;
    char err[512], err_ix[512];
    bool has_m = false;
    /* A Docker 25+ save holds both; manifest.json has the tags. */
    if (src->get_json(src, "manifest.json", err, sizeof err)) {
        cJSON *m = load_json(&p, "manifest.json");
        if (m)
            plan_docker(&p, m);
        p.no_manifest = p.no_manifest || !m;
        cJSON_Delete(m);
    } else if (src->get_json(src, "index.json", err_ix, sizeof err_ix)) {
        cJSON *ix = load_json(&p, "index.json");
        if (ix)
            plan_oci(&p, ix);
        p.no_manifest = !ix;
        cJSON_Delete(ix);
    } else if ((has_m = rmg_blobs_find(&src->blobs, "manifest.json") != NULL) ||
               rmg_blobs_find(&src->blobs, "index.json")) {
        /* There but unusable (over the size limit, not a regular file): say which and why. */
        plan_error(&p, RMG_EINPUT, has_m ? "manifest.json" : "index.json",
                   "cannot be read, so the image cannot be: %s", has_m ? err : err_ix);
        p.no_manifest = true;
    } else {
        plan_error(&p, RMG_EINPUT, NULL,
                   "not a container image: no manifest.json (docker save) or index.json (OCI)");
        p.no_manifest = true;
    }
    /* Without a usable manifest no layer can be attributed to an image, and what the layers
     * hold must not be dropped: with no set, the source reports each finding under its
     * blob's name. */
    if (p.no_manifest && p.set->n == 0) {
        rmg_image_set_free(p.set);
        p.set = NULL;
    }
    *setp = p.set;
    return p.worst;
}

/* ---- metadata ------------------------------------------------------------------------- */

struct meta {
    struct rmg_image_source *src;
    struct rmg_scanner *sc;
    struct rmg_results *out;
    const struct image *im;
};

static void scan_meta(struct meta *m, const char *path, const char *text, size_t len)
{
    struct rmg_location loc = {.target = (char *)m->src->target, .image = m->im->name,
                               .path = (char *)path, .platform = m->im->platform,
                               .layer_index = -1};
    size_t first = m->out->n_findings;
    struct rmg_stats keep = m->out->stats;
    rmg_scan_buffer(m->sc, text, len, &loc, m->out);
    m->out->stats = keep; /* metadata is not counted as files */
    for (size_t i = first; i < m->out->n_findings; i++)
        m->out->findings[i].state = RMG_STATE_CONFIG;
}

static void scan_strings(struct meta *m, const char *base, const cJSON *arr)
{
    const cJSON *s;
    int i = 0;
    char path[256];
    cJSON_ArrayForEach(s, arr) {
        if (cJSON_IsString(s)) {
            rmg_fmt(path, sizeof path, "%s[%d]", base, i);
            scan_meta(m, path, s->valuestring, strlen(s->valuestring));
        }
        i++;
    }
}

/* A command (Cmd, Entrypoint, Healthcheck) is scanned as one line, so a flag and its value in
 * two elements are seen together. */
static void scan_command(struct meta *m, const char *path, const cJSON *arr)
{
    struct rmg_buf line = {0};
    const cJSON *s;
    cJSON_ArrayForEach(s, arr) {
        if (cJSON_IsString(s))
            rmg_buf_printf(&line, "%s%s", line.len ? " " : "", s->valuestring);
    }
    if (line.data)
        scan_meta(m, path, line.data, line.len);
    rmg_buf_free(&line);
}

/* Labels and annotations: "KEY=value", so the key gives the value its meaning. */
static void scan_map(struct meta *m, const char *base, const cJSON *obj)
{
    const cJSON *kv;
    cJSON_ArrayForEach(kv, obj) {
        if (!cJSON_IsString(kv) || !kv->string)
            continue;
        struct rmg_buf path = {0}, text = {0};
        rmg_buf_printf(&path, "%s.%s", base, kv->string);
        rmg_buf_printf(&text, "%s=%s", kv->string, kv->valuestring);
        if (path.data && text.data)
            scan_meta(m, path.data, text.data, text.len);
        rmg_buf_free(&path);
        rmg_buf_free(&text);
    }
}

static void scan_image_meta(struct meta *m)
{
    const cJSON *c = m->im->config;
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(c, "config");
    if (cJSON_IsObject(cc)) {
        scan_strings(m, "config.Env", cJSON_GetObjectItemCaseSensitive(cc, "Env"));
        scan_map(m, "config.Labels", cJSON_GetObjectItemCaseSensitive(cc, "Labels"));
        scan_command(m, "config.Cmd", cJSON_GetObjectItemCaseSensitive(cc, "Cmd"));
        scan_command(m, "config.Entrypoint", cJSON_GetObjectItemCaseSensitive(cc, "Entrypoint"));
        scan_strings(m, "config.OnBuild", cJSON_GetObjectItemCaseSensitive(cc, "OnBuild"));
        const cJSON *hc = cJSON_GetObjectItemCaseSensitive(cc, "Healthcheck");
        scan_command(m, "config.Healthcheck.Test", cJSON_GetObjectItemCaseSensitive(hc, "Test"));
    }
    const cJSON *h;
    int i = 0;
    char path[64];
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(c, "history")) {
        const cJSON *cb = cJSON_GetObjectItemCaseSensitive(h, "created_by");
        if (cJSON_IsString(cb)) {
            rmg_fmt(path, sizeof path, "history[%d].created_by", i);
            scan_meta(m, path, cb->valuestring, strlen(cb->valuestring));
        }
        i++;
    }
    scan_map(m, "manifest.annotations", m->im->annotations);
}

/* ---- attribution ---------------------------------------------------------------------- */

/* How layer `j` affects `path` (the layer-level part of a finding's path). */
static enum rmg_state layer_effect(const struct rmg_pathset *ps, const char *path)
{
    size_t n = strlen(path);
    /* Every proper ancestor directory, from the root down: "/", "/a", "/a/b". */
    if (rmg_pathset_get(ps, "/", 1) & RMG_PATH_OPAQUE)
        return RMG_STATE_DELETED;
    for (size_t i = 1; i < n; i++) {
        if (path[i] != '/')
            continue;
        unsigned f = rmg_pathset_get(ps, path, i);
        if (f & (RMG_PATH_WHITEOUT | RMG_PATH_OPAQUE))
            return RMG_STATE_DELETED;
        if ((f & RMG_PATH_FILE) && !(f & RMG_PATH_DIR))
            return RMG_STATE_DELETED; /* a parent replaced by a file or symlink */
    }
    unsigned f = rmg_pathset_get(ps, path, n);
    if (f & RMG_PATH_WHITEOUT)
        return RMG_STATE_DELETED;
    if (f & (RMG_PATH_FILE | RMG_PATH_DIR))
        return RMG_STATE_OVERWRITTEN;
    return RMG_STATE_PRESENT;
}

static void set_state(const struct rmg_image_source *src, const struct image *im, size_t layer,
                      struct rmg_finding *f)
{
    size_t n = strlen(f->loc.path);
    char *top = rmg_strndup(f->loc.path, f->loc.outer_len && f->loc.outer_len < n
                                             ? f->loc.outer_len
                                             : n);
    if (!top)
        return;
    for (size_t j = layer + 1; j < im->n_layers; j++) {
        if (im->layers[j].blob < 0)
            continue;
        const struct rmg_pathset *ps = src->blobs.v[im->layers[j].blob].paths;
        enum rmg_state st = ps ? layer_effect(ps, top) : RMG_STATE_PRESENT;
        if (st != RMG_STATE_PRESENT) {
            f->state = st;
            f->changed_layer = (int)j;
            f->changed_by = rmg_strdup(im->layers[j].created_by);
            break;
        }
    }
    free(top);
}

/* The walker named a damaged layer by its blob ("blobs/sha256/HEX:/path"); once the images
 * are known, say which layer that is: "layer 1 of app:1.0 (blobs/sha256/HEX):/path". */
static void name_layers_in_errors(const struct rmg_image_set *set,
                                  const struct rmg_image_source *src, struct rmg_results *lr)
{
    for (size_t e = 0; e < lr->n_errors; e++) {
        char *path = lr->errors[e].path;
        if (!path)
            continue;
        for (size_t i = 0; i < set->n; i++) {
            const struct image *im = &set->v[i];
            size_t j;
            const char *name = NULL;
            for (j = 0; j < im->n_layers && !name; j++) {
                int b = im->layers[j].blob;
                if (b < 0)
                    continue;
                const char *bn = src->blobs.v[b].name;
                size_t n = strlen(bn);
                if (strncmp(path, bn, n) == 0 && (path[n] == '\0' || path[n] == ':'))
                    name = bn;
            }
            if (!name)
                continue;
            struct rmg_buf b = {0};
            rmg_buf_printf(&b, "layer %zu of %s (%s)%s", j - 1, im->name ? im->name : "the image",
                           name, path + strlen(name));
            if (b.data) {
                free(lr->errors[e].path);
                lr->errors[e].path = b.data;
            }
            break;
        }
    }
}

static int cmp_by_blob(const void *a, const void *b)
{
    const struct rmg_finding *x = a, *y = b;
    return (x->loc.layer_index > y->loc.layer_index) - (x->loc.layer_index < y->loc.layer_index);
}

void rmg_base_chain_clear(struct rmg_base_chain *b)
{
    if (!b)
        return;
    free(b->name);
    rmg_strv_free(b->diff_ids, b->n);
    memset(b, 0, sizeof *b);
}

/* Fills an empty chain with the first image's layers (diff_ids; a missing one is ""). */
static bool collect_base(const struct rmg_image_set *set, struct rmg_base_chain *c)
{
    if (c->n || !set->n || !set->v[0].n_layers)
        return true;
    const struct image *im = &set->v[0];
    if (!(c->diff_ids = calloc(im->n_layers, sizeof *c->diff_ids)))
        return false;
    for (size_t j = 0; j < im->n_layers; j++) {
        c->diff_ids[c->n] = rmg_strdup(im->layers[j].diff_id ? im->layers[j].diff_id : "");
        if (!c->diff_ids[c->n])
            return false;
        c->n++;
    }
    return true;
}

/* The base an image names in its manifest's annotations (org.opencontainers.image.base.name and
 * .base.digest, as BuildKit writes them), when the source holds that manifest too (an OCI
 * layout or archive with both images, a registry that has it): its layers' diff_ids into out,
 * named as the annotation names it. Nothing when the source does not hold it (--base reads a
 * base from anywhere). The annotations are the image's own word: a base found this way only
 * names where a finding came from; base findings count for the gate all the same. */
static void annotated_base(struct rmg_image_source *src, const struct image *im,
                           struct rmg_base_chain *out)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(im->annotations,
                                                         "org.opencontainers.image.base.name");
    const cJSON *digest = cJSON_GetObjectItemCaseSensitive(im->annotations,
                                                           "org.opencontainers.image.base.digest");
    char blob[600], err[512];
    if (!cJSON_IsString(name) || !name->valuestring[0] || !cJSON_IsString(digest) ||
        strlen(digest->valuestring) > 200 ||
        !digest_blob_name(digest->valuestring, blob, sizeof blob))
        return;
    struct rmg_blob *b = src->get_json(src, blob, err, sizeof err);
    cJSON *man = b ? cJSON_ParseWithLength(b->json, b->json_len) : NULL;
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(man, "config"), "digest");
    struct rmg_blob *cb = cJSON_IsString(cd) && digest_blob_name(cd->valuestring, blob, sizeof blob)
                              ? src->get_json(src, blob, err, sizeof err)
                              : NULL;
    cJSON *cfg = cb ? cJSON_ParseWithLength(cb->json, cb->json_len) : NULL;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cfg, "rootfs"), "diff_ids");
    size_t n = (size_t)cJSON_GetArraySize(ids);
    if (cJSON_IsArray(ids) && n && (out->diff_ids = calloc(n, sizeof *out->diff_ids)) &&
        (out->name = rmg_strdup(name->valuestring))) {
        const cJSON *d;
        cJSON_ArrayForEach(d, ids) {
            if (!cJSON_IsString(d) || !(out->diff_ids[out->n] = rmg_strdup(d->valuestring)))
                break;
            out->n++;
        }
        if (out->n != n)
            rmg_base_chain_clear(out);
    } else {
        rmg_base_chain_clear(out);
    }
    cJSON_Delete(man);
    cJSON_Delete(cfg);
}

/* How many of the image's layers, from the bottom, are the base's own. */
static size_t inherited_layers(const struct image *im, const struct rmg_base_chain *base)
{
    size_t k = 0;
    while (base && k < im->n_layers && k < base->n && im->layers[k].diff_id &&
           base->diff_ids[k][0] && strcmp(im->layers[k].diff_id, base->diff_ids[k]) == 0)
        k++;
    return k;
}

/* A finding of an inherited layer that no package explains is the base image's. */
static void settle_base(struct rmg_finding *f, const char *base)
{
    if (f->prov.origin != RMG_ORIGIN_OWN && f->prov.origin != RMG_ORIGIN_MODIFIED)
        return;
    char why[160];
    rmg_fmt(why, sizeof why, "layer %d is layer %d of the base image", f->loc.layer_index,
            f->loc.layer_index);
    rmg_provenance_set(&f->prov, RMG_ORIGIN_BASE, "base", base, NULL, why);
}

enum rmg_status rmg_image_resolve(struct rmg_image_set *set, struct rmg_image_source *src,
                                  struct rmg_scanner *sc, struct rmg_results *layer_results,
                                  const struct rmg_resolve_opts *ro, struct rmg_results *out)
{
    enum rmg_status worst = RMG_OK;
    const struct rmg_base_chain *base = ro ? ro->base : NULL;
    if (ro && ro->collect && !collect_base(set, ro->collect))
        worst = RMG_ENOMEM;
    for (size_t i = 0; i < set->n; i++) {
        struct meta m = {src, sc, out, &set->v[i]};
        size_t first = out->n_findings;
        scan_image_meta(&m);
        /* A history step is copied into every finding of its layer: never with a secret. */
        for (size_t k = first; k < out->n_findings; k++)
            if (strncmp(out->findings[k].loc.path, "history[", 8) == 0)
                for (size_t j = 0; j < set->v[i].n_layers; j++)
                    rmg_redact_in(&set->v[i].layers[j].created_by, &out->findings[k]);
    }
    /* Without --base, the bases the images' annotations name. Asked for first: an on-demand
     * source adds the documents it reads to its blobs, which the arrays below are sized by. */
    struct rmg_base_chain *annotated = calloc(set->n ? set->n : 1, sizeof *annotated);
    if (!annotated)
        return RMG_ENOMEM;
    for (size_t i = 0; i < set->n && !base; i++)
        annotated_base(src, &set->v[i], &annotated[i]);
    /* Group the walker's findings by blob, then copy each group to every layer holding it. */
    struct rmg_results *lr = layer_results;
    if (lr->n_findings > 1)
        qsort(lr->findings, lr->n_findings, sizeof *lr->findings, cmp_by_blob);
    size_t *start = calloc(src->blobs.n + 1, sizeof *start);
    if (!start) {
        free(annotated);
        return RMG_ENOMEM;
    }
    for (size_t i = 0; i < lr->n_findings; i++) {
        int b = lr->findings[i].loc.layer_index;
        if (b >= 0 && (size_t)b < src->blobs.n)
            start[b + 1]++;
    }
    for (size_t b = 0; b < src->blobs.n; b++)
        start[b + 1] += start[b];
    size_t untagged = 0; /* findings not from a layer blob sort first */
    while (untagged < lr->n_findings && lr->findings[untagged].loc.layer_index < 0)
        untagged++;
    for (size_t b = 0; b <= src->blobs.n; b++)
        start[b] += untagged;
    bool *attributed = calloc(src->blobs.n + 1, sizeof *attributed);
    size_t max_layers = 1;
    for (size_t i = 0; i < set->n; i++)
        max_layers = set->v[i].n_layers > max_layers ? set->v[i].n_layers : max_layers;
    /* Provenance: the facts of layers 0..j of the image, for a finding of layer j. */
    const struct rmg_layer_prov **chain = calloc(max_layers, sizeof *chain);
    if (!chain) {
        free(attributed);
        attributed = NULL;
        worst = RMG_ENOMEM;
    }
    for (size_t i = 0; i < set->n && attributed; i++) {
        const struct image *im = &set->v[i];
        size_t image_first = out->n_findings;
        /* --base, else the base the image's annotations name, if the source holds it */
        const struct rmg_base_chain *ib = base ? base : annotated[i].n ? &annotated[i] : NULL;
        size_t inherited = inherited_layers(im, ib);
        for (size_t j = 0; j < im->n_layers; j++)
            chain[j] = im->layers[j].blob >= 0 ? src->blobs.v[im->layers[j].blob].prov : NULL;
        for (size_t j = 0; j < im->n_layers; j++) {
            int b = im->layers[j].blob;
            if (b < 0)
                continue;
            attributed[b] = true;
            for (size_t k = start[b]; k < start[b + 1]; k++) {
                struct rmg_finding f;
                if (!rmg_finding_copy(&f, &lr->findings[k])) {
                    worst = RMG_ENOMEM;
                    continue;
                }
                f.loc.layer_index = (int)j;
                free(f.loc.image);
                free(f.loc.platform);
                free(f.loc.layer_digest);
                free(f.loc.layer_diff_id);
                free(f.loc.created_by);
                f.loc.image = rmg_strdup(im->name);
                f.loc.platform = rmg_strdup(im->platform);
                f.loc.layer_digest = rmg_strdup(im->layers[j].digest);
                f.loc.layer_diff_id = rmg_strdup(im->layers[j].diff_id);
                f.loc.created_by = rmg_strdup(im->layers[j].created_by);
                set_state(src, im, j, &f);
                rmg_origin_settle(chain, j + 1, &f);
                if (j < inherited)
                    settle_base(&f, ib->name);
                if (rmg_results_add_finding(out, &f) != RMG_OK) {
                    rmg_finding_free(&f);
                    worst = RMG_ENOMEM;
                }
            }
        }
        if (out->n_findings > image_first)
            rmg_origin_settle_compiled(out->findings + image_first,
                                       out->n_findings - image_first);
    }
    free(chain);
    for (size_t i = 0; i < set->n; i++)
        rmg_base_chain_clear(&annotated[i]);
    free(annotated);
    for (size_t b = 0; b < src->blobs.n && attributed; b++) {
        size_t n = start[b + 1] - start[b];
        if (n && !attributed[b] && !src->blobs.v[b].referenced)
            rmg_results_add_error(out, RMG_WARN, src->target, src->blobs.v[b].name,
                                  "a layer no image uses holds %zu finding%s; not reported", n,
                                  n == 1 ? "" : "s");
    }
    /* Anything not from a layer blob (none expected) passes through untouched. */
    for (size_t i = 0; i < untagged; i++) {
        struct rmg_finding f = lr->findings[i];
        memset(&lr->findings[i], 0, sizeof f);
        if (rmg_results_add_finding(out, &f) != RMG_OK)
            rmg_finding_free(&f);
    }
    free(attributed);
    free(start);
    name_layers_in_errors(set, src, lr);
    /* The walker's errors and counts move on; its findings were copied. */
    for (size_t i = 0; i < lr->n_findings; i++)
        rmg_finding_free(&lr->findings[i]);
    lr->n_findings = 0;
    if (rmg_results_merge(out, lr) != RMG_OK)
        worst = RMG_ENOMEM;
    return worst;
}
