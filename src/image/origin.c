/* origin.c: provenance at resolve time (see origin.h).
 *
 * DESIGN. The walker hashes only files with findings (their bytes are still in memory when the
 * pool scans them) and the archives it opens, and parses the package databases it meets into
 * the layer's facts. Here each finding's file is looked up in the database of its own layer,
 * then of each lower one: the first layer whose database claims the path is the one that
 * describes the file as it was written (a later upgrade rewrites both file and database in its
 * own layer, and leaves the older, still shipped, copies to be checked against the older
 * database). A claim with a digest verifies or refutes the file's bytes; a claim by manifest
 * only attributes. Anything that cannot be settled stays the builder's own: provenance may
 * only ever take a finding out of the gate on evidence from the image itself. */
#include "image/origin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void rmg_layer_prov_clear(struct rmg_layer_prov *p)
{
    if (!p)
        return;
    rmg_pkgdb_free(p->pkgdb);
    for (struct rmg_archive_digest *a = p->archives, *next; a; a = next) {
        next = a->next;
        free(a->path);
        free(a);
    }
    for (size_t i = 0; i < p->n_files; i++) {
        free(p->files[i].path);
        free(p->files[i].data);
    }
    free(p->files);
    memset(p, 0, sizeof *p);
}

/* Keeps a copy of a database file for the layer cache; false if it does not fit. */
static bool keep_raw(struct rmg_layer_prov *p, const char *path, const void *data, size_t len)
{
    if (p->raw_incomplete || len > RMG_PROV_MAX_RAW - p->raw_bytes)
        return false;
    if (!rmg_grow(&p->files, &p->cap_files, p->n_files + 1, sizeof *p->files))
        return false;
    struct rmg_db_file f = {rmg_strdup(path), malloc(len ? len : 1), len};
    if (!f.path || !f.data) {
        free(f.path);
        free(f.data);
        return false;
    }
    memcpy(f.data, data, len);
    p->files[p->n_files++] = f;
    p->raw_bytes += len;
    return true;
}

enum rmg_status rmg_layer_prov_add_db(struct rmg_layer_prov *p, const char *path,
                                      const void *data, size_t len, char *err, size_t errlen)
{
    if (!p->pkgdb && !(p->pkgdb = rmg_pkgdb_new()))
        return RMG_ENOMEM;
    if (!keep_raw(p, path, data, len))
        p->raw_incomplete = true;
    return rmg_pkgdb_add_file(p->pkgdb, path, data, len, err, errlen);
}

struct rmg_archive_digest *rmg_layer_prov_add_archive(struct rmg_layer_prov *p, const char *path,
                                                      const struct rmg_content_digest *d)
{
    if (p->n_archives >= RMG_PROV_MAX_ARCHIVES)
        return NULL;
    struct rmg_archive_digest *a = calloc(1, sizeof *a);
    if (!a || !(a->path = rmg_strdup(path))) {
        free(a);
        return NULL;
    }
    if (d)
        a->d = *d;
    a->next = p->archives;
    p->archives = a;
    p->n_archives++;
    return a;
}

static const struct rmg_content_digest *archive_digest(const struct rmg_layer_prov *p,
                                                       const char *path)
{
    for (const struct rmg_archive_digest *a = p ? p->archives : NULL; a; a = a->next)
        if (a->d.set && strcmp(a->path, path) == 0)
            return &a->d;
    return NULL;
}

/* Does d (known) equal what the claim recorded? */
static bool digest_equal(const struct rmg_content_digest *d, const struct rmg_pkg_claim *c)
{
    const unsigned char *mine = c->alg == RMG_DIGEST_MD5    ? d->md5
                                : c->alg == RMG_DIGEST_SHA1 ? d->sha1
                                                            : d->sha256;
    return c->alg != RMG_DIGEST_NONE && memcmp(mine, c->digest, rmg_digest_len(c->alg)) == 0;
}

/* The version a dpkg claim lacks: the status of the nearest layer that knows the package. */
static const char *dpkg_version(const struct rmg_layer_prov *const *chain, size_t n,
                                const char *name)
{
    for (size_t k = n; k-- > 0;) {
        const char *v = chain[k] && chain[k]->pkgdb ? rmg_pkgdb_dpkg_version(chain[k]->pkgdb, name)
                                                    : NULL;
        if (v)
            return v;
    }
    return NULL;
}

static void set_prov(struct rmg_finding *f, enum rmg_origin o, const struct rmg_pkg_claim *c,
                     const char *version, const char *why)
{
    rmg_provenance_set(&f->prov, o, rmg_pkg_manager_name(c->manager), c->name, version, why);
}

/* The Go module cache (GOMODCACHE, $GOPATH/pkg/mod): "…/pkg/mod/MODULE@VERSION/…" is a
 * module's extracted tree, "…/pkg/mod/cache/download/MODULE/@v/VERSION.zip" (and .mod, .info)
 * its download. Go checks both against go.sum when it fetches them, but records no digest per
 * file: attribution by the cache's own layout. path is the finding's whole path: the cache
 * writes an upper-case letter as "!" and a lower-case one ("github.com/!azure"), which is also
 * how rummage joins an archive to what is inside it. Writes the module and version (as the
 * cache spells them) into out (module, NUL, version); false if path is not in a module cache. */
static bool go_module(const char *path, char *out, size_t cap, const char **version)
{
    const char *m = strstr(path, "/pkg/mod/");
    if (!m)
        return false;
    m += strlen("/pkg/mod/");
    const char *end, *ver, *vend;
    if (strncmp(m, "cache/download/", 15) == 0) {
        m += 15;
        const char *at = strstr(m, "/@v/");
        if (!at)
            return false;
        end = at;
        ver = at + 4;
        size_t vl = strcspn(ver, "/!"); /* the download, or an entry of it */
        vend = ver + vl;
        while (vend > ver && vend[-1] != '.')
            vend--;
        if (vend == ver)
            return false;
        vend--; /* before ".zip", ".mod", ".info" */
    } else {
        const char *at = strchr(m, '@');
        const char *slash = at ? strchr(at, '/') : NULL;
        if (!at || !slash)
            return false;
        end = at;
        ver = at + 1;
        vend = slash;
    }
    size_t ml = (size_t)(end - m), vl = (size_t)(vend - ver);
    if (!ml || !vl || ml + vl + 2 > cap)
        return false;
    memcpy(out, m, ml);
    out[ml] = '\0';
    memcpy(out + ml + 1, ver, vl);
    out[ml + 1 + vl] = '\0';
    *version = out + ml + 1;
    return true;
}

static void settle_go_module(struct rmg_finding *f, const char *path)
{
    char mod[1024];
    const char *version;
    if (!go_module(path, mod, sizeof mod, &version))
        return;
    struct rmg_pkg_claim c = {.manager = RMG_PKG_GO, .name = mod};
    set_prov(f, RMG_ORIGIN_ATTRIBUTED, &c, version,
             "in the Go module cache, by its layout; Go records no digest per file there");
}

void rmg_origin_settle(const struct rmg_layer_prov *const *chain, size_t n,
                       struct rmg_finding *f)
{
    if (!f->loc.path || f->loc.path[0] != '/' || n == 0)
        return;
    size_t pl = strlen(f->loc.path);
    bool bang = f->loc.outer_len && f->loc.outer_len < pl; /* inside an archive of the layer */
    char top[8192];
    size_t tl = bang ? f->loc.outer_len : pl;
    if (tl >= sizeof top)
        return;
    memcpy(top, f->loc.path, tl);
    top[tl] = '\0';
    /* The bytes to compare: the file itself, or the archive the finding is inside. */
    const struct rmg_content_digest *d = bang ? archive_digest(chain[n - 1], top) : &f->content;
    struct rmg_pkg_claim cs[8];
    size_t nc = 0, k = n;
    while (k-- > 0 && !nc)
        nc = chain[k] && chain[k]->pkgdb ? rmg_pkgdb_claims(chain[k]->pkgdb, top, cs, 8) : 0;
    k++; /* the layer of the claims */
    if (!nc && bang) {
        /* A database inside the archive itself (a jar's pom.properties, a wheel's RECORD)
         * speaks of the entry, whose own bytes the pool hashed. */
        nc = chain[n - 1] && chain[n - 1]->pkgdb
                 ? rmg_pkgdb_claims(chain[n - 1]->pkgdb, f->loc.path, cs, 8)
                 : 0;
        k = n - 1;
        d = &f->content;
        bang = false;
    }
    if (!nc) {
        settle_go_module(f, f->loc.path);
        return;
    }
    nc = nc < 8 ? nc : 8;
    /* Several packages may list one path (a diversion, a file moved between packages): the
     * claim whose digest matches wins; else the first with a digest refutes the bytes; a path
     * claimed by manifests only is attributed. */
    const struct rmg_pkg_claim *c = NULL, *refuted = NULL;
    for (size_t i = 0; i < nc && !c; i++) {
        if (cs[i].alg == RMG_DIGEST_NONE)
            continue;
        if (d && d->set && digest_equal(d, &cs[i]))
            c = &cs[i];
        else if (!refuted)
            refuted = &cs[i];
    }
    enum rmg_origin origin = c ? RMG_ORIGIN_PACKAGE : refuted ? RMG_ORIGIN_MODIFIED
                                                              : RMG_ORIGIN_ATTRIBUTED;
    if (!c)
        c = refuted ? refuted : &cs[0];
    if (origin == RMG_ORIGIN_MODIFIED && (!d || !d->set))
        return; /* owned, but the bytes were not hashed: nothing proves they are the package's */
    const char *version = c->version;
    if (!version && c->manager == RMG_PKG_DPKG)
        version = dpkg_version(chain, n, c->name);
    char why[256];
    const char *mgr = rmg_pkg_manager_name(c->manager);
    if (origin == RMG_ORIGIN_ATTRIBUTED)
        rmg_fmt(why, sizeof why, "named by the package's manifest in layer %zu; %s records no "
                "digest of its files", k, mgr);
    else
        rmg_fmt(why, sizeof why, "%s%s %s what %s recorded in layer %zu%s",
                bang ? "the archive's " : "", rmg_digest_alg_name(c->alg),
                origin == RMG_ORIGIN_PACKAGE ? "matches" : "differs from", mgr, k,
                origin == RMG_ORIGIN_MODIFIED && c->conffile ? ": a changed conffile" : "");
    set_prov(f, origin, c, version, why);
}

/* "DIR/__pycache__/NAME.TAG.pyc" -> "DIR/NAME.py" into out; false if not such a path. */
static bool pyc_source(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 4, ".pyc") != 0)
        return false;
    const char *base = strrchr(path, '/');
    if (!base || base - path < 12 || strncmp(base - 12, "/__pycache__", 12) != 0)
        return false;
    const char *dot = strchr(base + 1, '.');
    size_t dir = (size_t)(base - 12 - path);
    int w = snprintf(out, cap, "%.*s/%.*s.py", (int)dir, path, (int)(dot - base - 1), base + 1);
    return w > 0 && (size_t)w < cap;
}

/* Verified package findings in (fingerprint, path) order, for the .pyc lookup. */
static int cmp_source(const void *a, const void *b)
{
    const struct rmg_finding *x = *(const struct rmg_finding *const *)a;
    const struct rmg_finding *y = *(const struct rmg_finding *const *)b;
    int c = strcmp(x->fingerprint, y->fingerprint);
    return c ? c : strcmp(x->loc.path, y->loc.path);
}

void rmg_origin_settle_compiled(struct rmg_finding *v, size_t n)
{
    /* An index of the verified findings, so each .pyc costs a binary search, not a pass. */
    const struct rmg_finding **ix = malloc((n ? n : 1) * sizeof *ix);
    size_t m = 0;
    if (!ix)
        return; /* out of memory: the .pyc findings stay as they are (counted) */
    for (size_t i = 0; i < n; i++)
        if (v[i].prov.origin == RMG_ORIGIN_PACKAGE && v[i].loc.path)
            ix[m++] = &v[i];
    if (m > 1)
        qsort(ix, m, sizeof *ix, cmp_source);
    char src[8192];
    for (size_t i = 0; i < n && m; i++) {
        struct rmg_finding *f = &v[i];
        bool open_question = f->prov.origin == RMG_ORIGIN_OWN ||
                             f->prov.origin == RMG_ORIGIN_ATTRIBUTED; /* a RECORD row, no hash */
        if (!open_question || f->loc.outer_len || !pyc_source(f->loc.path, src, sizeof src))
            continue;
        /* the first verified finding of the same secret in the source file */
        struct rmg_finding key;
        memcpy(key.fingerprint, f->fingerprint, sizeof key.fingerprint);
        key.loc.path = src;
        const struct rmg_finding *kp = &key;
        size_t lo = 0, hi = m;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cmp_source(&ix[mid], &kp) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < m && cmp_source(&ix[lo], &kp) == 0; lo++) {
            const struct rmg_finding *s = ix[lo];
            if (s->loc.layer_index > f->loc.layer_index)
                continue;
            char why[256];
            rmg_fmt(why, sizeof why, "compiled from %.180s, whose %s", src,
                    s->prov.why ? s->prov.why : "package digest matches");
            rmg_provenance_set(&f->prov, RMG_ORIGIN_PACKAGE, s->prov.manager, s->prov.package,
                               s->prov.version, why);
            break;
        }
    }
    free(ix);
}
