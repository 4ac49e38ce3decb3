/* store.c: the per-layer package store: packages in an arena, file entries and directory
 * claims in open-addressing tables keyed by a keyed 64-bit path hash (see store.h).
 *
 * DESIGN. A layer of a Debian image lists ~10^4-10^5 files, a node_modules tree as many, and
 * only the few paths with findings are ever looked up, so an entry holds no path: a slot is
 * the path's 64-bit SipHash-2-4 (key drawn per db from getrandom, so crafted paths cannot
 * pile into one probe chain), the package index with the digest algorithm and conffile bit,
 * and an offset into a digest pool. Cost per file entry: a 16-byte slot at a load factor of
 * 3/8 to 3/4 (21-43 bytes, ~30 on average) plus the digest itself (16 bytes md5, 20 sha1,
 * 32 sha256, 0 for attribution) in a pool grown by half (up to 1.5 times that): 40-70 bytes,
 * about 50, for a dpkg file. Packages cost 32 bytes, a
 * 4-byte index slot and their name and version in 64 KiB arena blocks; pointers into the
 * arena stay valid while the db lives. Merged /usr: a path under /bin, /sbin, /lib, /lib32,
 * /lib64 or /libx32 is hashed as if it began with /usr, so either spelling finds the entry.
 * Lookups only read; nothing is cached, so a filled store may be shared by threads. */
#define _GNU_SOURCE
#include "provenance/store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "provenance/claim.h"

#define ARENA_BLOCK (64u << 10)
#define PKG_BITS 24u
#define PKG_MASK ((1u << PKG_BITS) - 1u)
#define ALG_SHIFT 24u
#define CONFFILE_BIT (1u << 26)

struct slot {
    uint64_t hash; /* 0: empty */
    uint32_t pkg;  /* package index | alg << 24 | conffile bit */
    uint32_t digest; /* offset into the digest pool (alg != NONE) */
};

struct table {
    struct slot *slots;
    size_t cap, count;
};

struct pkg {
    uint64_t key;
    const char *name;
    const char *version; /* NULL: unknown */
    uint32_t nlen;
    uint8_t manager;
    uint8_t state; /* enum rmg_pkg_state (dpkg) */
};

struct block {
    struct block *next;
    size_t used, cap;
    char data[];
};

struct rmg_pkgdb {
    uint64_t k0, k1; /* SipHash key */
    struct table files, dirs;
    unsigned char *pool;
    size_t pool_len, pool_cap;
    struct pkg *pkgs;
    size_t npkgs, pkgs_cap;
    uint32_t *pkg_index; /* index + 1; 0 empty */
    size_t pkg_index_cap;
    struct block *blocks;
    size_t arena_bytes;
    size_t max_entries, max_packages;
};

/* ---- SipHash-2-4, streaming (so the prefixes of a path hash in one pass) ------------------ */

struct sip {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;
    size_t len;
};

static inline uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline void sip_round(struct sip *s)
{
    s->v0 += s->v1;
    s->v1 = rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

static void sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
    s->v0 = k0 ^ 0x736f6d6570736575ull;
    s->v1 = k1 ^ 0x646f72616e646f6dull;
    s->v2 = k0 ^ 0x6c7967656e657261ull;
    s->v3 = k1 ^ 0x7465646279746573ull;
    s->tail = 0;
    s->len = 0;
}

static void sip_update(struct sip *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        s->tail |= (uint64_t)p[i] << (8 * (s->len & 7));
        s->len++;
        if ((s->len & 7) == 0) {
            s->v3 ^= s->tail;
            sip_round(s);
            sip_round(s);
            s->v0 ^= s->tail;
            s->tail = 0;
        }
    }
}

/* The hash of what s has absorbed; s itself is left as it was. Never 0 (0 marks an empty
 * slot). */
static uint64_t sip_final(const struct sip *in)
{
    struct sip s = *in;
    uint64_t b = s.tail | ((uint64_t)(s.len & 0xff) << 56);
    s.v3 ^= b;
    sip_round(&s);
    sip_round(&s);
    s.v0 ^= b;
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(&s);
    uint64_t h = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
    return h ? h : 1;
}

/* Is p[0..n) under one of the top-level directories that merged /usr links into /usr? */
static bool merged_usr_alias(const char *p, size_t n)
{
    static const char *const dirs[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
    if (n < 3 || p[0] != '/')
        return false;
    const char *slash = memchr(p + 1, '/', n - 1);
    if (!slash)
        return false;
    size_t k = (size_t)(slash - (p + 1));
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (strlen(dirs[i]) == k && memcmp(p + 1, dirs[i], k) == 0)
            return true;
    return false;
}

/* The key of a file path: "/lib/x" and "/usr/lib/x" hash alike. */
static uint64_t file_key(const struct rmg_pkgdb *db, const char *p, size_t n)
{
    struct sip s;
    sip_init(&s, db->k0, db->k1);
    if (merged_usr_alias(p, n))
        sip_update(&s, "/usr", 4);
    sip_update(&s, p, n);
    return sip_final(&s);
}

static uint64_t dir_key(const struct rmg_pkgdb *db, const char *p, size_t n)
{
    struct sip s;
    sip_init(&s, db->k0, db->k1);
    sip_update(&s, p, n);
    return sip_final(&s);
}

/* ---- tables ----------------------------------------------------------------------------- */

/* The first slot holding h, or NULL. */
static struct slot *table_find(const struct table *t, uint64_t h)
{
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct slot *s = &t->slots[i];
        if (s->hash == h)
            return s;
        if (s->hash == 0)
            return NULL;
    }
}

/* The next slot after s holding the same hash (the chain of one path's claims, in the order
 * they were added), or NULL. */
static struct slot *table_next(const struct table *t, const struct slot *s)
{
    size_t mask = t->cap - 1;
    uint64_t h = s->hash;
    for (size_t i = ((size_t)(s - t->slots) + 1) & mask;; i = (i + 1) & mask) {
        struct slot *o = &t->slots[i];
        if (o->hash == h)
            return o;
        if (o->hash == 0)
            return NULL;
    }
}

/* The empty slot where a new entry for h goes (after every slot holding h). */
static struct slot *table_free_slot(const struct table *t, uint64_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask)
        if (t->slots[i].hash == 0)
            return &t->slots[i];
}

/* Room for one more slot at a load of at most 3/4. */
static bool table_reserve(struct table *t)
{
    if (t->cap && (t->count + 1) * 4 <= t->cap * 3)
        return true;
    size_t cap = t->cap ? t->cap * 2 : 256;
    if (cap > SIZE_MAX / sizeof(struct slot))
        return false;
    struct slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    /* Start after an empty slot, so that every run of full slots is moved in probe order and
     * one path's claims keep the order they were added in. */
    size_t start = 0;
    while (start < t->cap && t->slots[start].hash)
        start++;
    for (size_t k = 1; k <= t->cap; k++) {
        const struct slot *o = &t->slots[(start + k) & (t->cap - 1)];
        if (!o->hash)
            continue;
        size_t j = (size_t)o->hash & (cap - 1);
        while (slots[j].hash)
            j = (j + 1) & (cap - 1);
        slots[j] = *o;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return true;
}

/* ---- arena ------------------------------------------------------------------------------ */

static const char *arena_copy(struct rmg_pkgdb *db, const char *p, size_t n)
{
    struct block *b = db->blocks;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = db->blocks;
        b->used = 0;
        b->cap = cap;
        db->blocks = b;
        db->arena_bytes += sizeof *b + cap;
    }
    char *out = b->data + b->used;
    memcpy(out, p, n);
    out[n] = '\0';
    b->used += n + 1;
    return out;
}

/* ---- life cycle ------------------------------------------------------------------------- */

struct rmg_pkgdb *rmg_store_new(size_t max_entries, size_t max_packages)
{
    struct rmg_pkgdb *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    uint64_t key[2];
    if (getrandom(key, sizeof key, GRND_NONBLOCK) != (ssize_t)sizeof key) {
        /* No entropy yet (early boot): still a per-db key, if a guessable one. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)db;
        key[1] = (uint64_t)ts.tv_sec ^ 0xc2b2ae3d27d4eb4full;
    }
    db->k0 = key[0];
    db->k1 = key[1];
    db->max_entries = max_entries;
    db->max_packages = max_packages;
    return db;
}

void rmg_store_free(struct rmg_pkgdb *db)
{
    if (!db)
        return;
    free(db->files.slots);
    free(db->dirs.slots);
    free(db->pool);
    free(db->pkgs);
    free(db->pkg_index);
    for (struct block *b = db->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(db);
}

void rmg_store_set_limits(struct rmg_pkgdb *db, size_t max_entries, size_t max_packages)
{
    if (max_entries && max_entries < db->max_entries)
        db->max_entries = max_entries;
    if (max_packages && max_packages < db->max_packages)
        db->max_packages = max_packages;
}

/* ---- packages --------------------------------------------------------------------------- */

static uint64_t pkg_key(const struct rmg_pkgdb *db, enum rmg_pkg_manager m, const char *name,
                        size_t nlen, const char *version, size_t vlen)
{
    struct sip s;
    sip_init(&s, db->k0, db->k1);
    unsigned char mb = (unsigned char)m;
    sip_update(&s, &mb, 1);
    sip_update(&s, name, nlen);
    if (m != RMG_PKG_DPKG) {
        if (version) {
            sip_update(&s, "", 1);
            sip_update(&s, version, vlen);
        } else {
            sip_update(&s, "\xff", 1);
        }
    }
    return sip_final(&s);
}

/* The index slot of (m, name, version): holding it, or the empty slot where it goes. */
static uint32_t *pkg_slot(const struct rmg_pkgdb *db, uint64_t key, enum rmg_pkg_manager m,
                          const char *name, size_t nlen, const char *version, size_t vlen)
{
    size_t mask = db->pkg_index_cap - 1;
    for (size_t i = (size_t)key & mask;; i = (i + 1) & mask) {
        uint32_t *s = &db->pkg_index[i];
        if (!*s)
            return s;
        const struct pkg *p = &db->pkgs[*s - 1];
        if (p->key != key || p->manager != (uint8_t)m || p->nlen != nlen ||
            memcmp(p->name, name, nlen) != 0)
            continue;
        if (m == RMG_PKG_DPKG)
            return s;
        if (!version ? !p->version
                     : p->version && strlen(p->version) == vlen &&
                           memcmp(p->version, version, vlen) == 0)
            return s;
    }
}

static bool pkg_index_grow(struct rmg_pkgdb *db)
{
    size_t cap = db->pkg_index_cap ? db->pkg_index_cap * 2 : 64;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return false;
    for (size_t i = 0; i < db->npkgs; i++) {
        size_t j = (size_t)db->pkgs[i].key & (cap - 1);
        while (idx[j])
            j = (j + 1) & (cap - 1);
        idx[j] = (uint32_t)i + 1;
    }
    free(db->pkg_index);
    db->pkg_index = idx;
    db->pkg_index_cap = cap;
    return true;
}

enum rmg_status rmg_store_package(struct rmg_pkgdb *db, enum rmg_pkg_manager m,
                                  const char *name, size_t nlen, const char *version,
                                  size_t vlen, uint32_t *idx)
{
    if (m == RMG_PKG_DPKG)
        version = NULL;
    if ((db->npkgs + 1) * 2 > db->pkg_index_cap && !pkg_index_grow(db))
        return RMG_ENOMEM;
    uint64_t key = pkg_key(db, m, name, nlen, version, vlen);
    uint32_t *s = pkg_slot(db, key, m, name, nlen, version, vlen);
    if (*s) {
        *idx = *s - 1;
        return RMG_OK;
    }
    if (db->npkgs >= db->max_packages)
        return RMG_SKIP;
    if (db->npkgs == db->pkgs_cap) {
        size_t cap = db->pkgs_cap ? db->pkgs_cap * 2 : 64;
        struct pkg *p = realloc(db->pkgs, cap * sizeof *p);
        if (!p)
            return RMG_ENOMEM;
        db->pkgs = p;
        db->pkgs_cap = cap;
    }
    struct pkg *p = &db->pkgs[db->npkgs];
    memset(p, 0, sizeof *p);
    p->key = key;
    p->manager = (uint8_t)m;
    p->nlen = (uint32_t)nlen;
    p->name = arena_copy(db, name, nlen);
    if (!p->name)
        return RMG_ENOMEM;
    if (version && !(p->version = arena_copy(db, version, vlen)))
        return RMG_ENOMEM;
    *s = (uint32_t)db->npkgs + 1;
    *idx = (uint32_t)db->npkgs++;
    return RMG_OK;
}

uint32_t rmg_store_dpkg_find(const struct rmg_pkgdb *db, const char *name, size_t nlen)
{
    if (!db->pkg_index_cap)
        return RMG_STORE_NO_PKG;
    uint64_t key = pkg_key(db, RMG_PKG_DPKG, name, nlen, NULL, 0);
    const uint32_t *s = pkg_slot(db, key, RMG_PKG_DPKG, name, nlen, NULL, 0);
    return *s ? *s - 1 : RMG_STORE_NO_PKG;
}

enum rmg_status rmg_store_dpkg_status(struct rmg_pkgdb *db, uint32_t idx, bool installed,
                                      const char *version, size_t vlen)
{
    struct pkg *p = &db->pkgs[idx];
    if (p->state == RMG_PKG_STATE_INSTALLED)
        return RMG_OK; /* the first installed stanza stays */
    p->state = installed ? RMG_PKG_STATE_INSTALLED : RMG_PKG_STATE_NOT_INSTALLED;
    p->version = NULL;
    if (installed && version && !(p->version = arena_copy(db, version, vlen)))
        return RMG_ENOMEM;
    return RMG_OK;
}

enum rmg_pkg_state rmg_store_pkg_state(const struct rmg_pkgdb *db, uint32_t idx)
{
    return idx < db->npkgs ? (enum rmg_pkg_state)db->pkgs[idx].state : RMG_PKG_STATE_UNKNOWN;
}

const char *rmg_store_pkg_version(const struct rmg_pkgdb *db, uint32_t idx)
{
    return idx < db->npkgs ? db->pkgs[idx].version : NULL;
}

/* ---- entries ---------------------------------------------------------------------------- */

static bool pool_put(struct rmg_pkgdb *db, const unsigned char *d, size_t n, uint32_t *off)
{
    if (db->pool_len + n > UINT32_MAX)
        return false;
    if (db->pool_len + n > db->pool_cap) {
        size_t cap = db->pool_cap ? db->pool_cap + db->pool_cap / 2 : 4096;
        if (cap < db->pool_len + n)
            cap = db->pool_len + n;
        unsigned char *p = realloc(db->pool, cap);
        if (!p)
            return false;
        db->pool = p;
        db->pool_cap = cap;
    }
    memcpy(db->pool + db->pool_len, d, n);
    *off = (uint32_t)db->pool_len;
    db->pool_len += n;
    return true;
}

static size_t entry_count(const struct rmg_pkgdb *db)
{
    return db->files.count + db->dirs.count;
}

enum rmg_status rmg_store_file(struct rmg_pkgdb *db, uint32_t pkg, const char *path,
                               size_t plen, enum rmg_digest_alg alg,
                               const unsigned char *digest, bool conffile)
{
    if (pkg >= db->npkgs)
        return RMG_SKIP;
    uint64_t h = file_key(db, path, plen);
    size_t claims = 0;
    struct slot *s = table_find(&db->files, h);
    for (; s; s = table_next(&db->files, s), claims++)
        if ((s->pkg & PKG_MASK) == pkg)
            break;
    if (s && !conffile)
        return RMG_OK; /* this package's first entry for the path stays */
    if (!s) {
        if (claims >= RMG_STORE_MAX_CLAIMS)
            return RMG_OK;
        if (entry_count(db) >= db->max_entries)
            return RMG_SKIP;
        if (!table_reserve(&db->files))
            return RMG_ENOMEM;
    }
    uint32_t off = 0;
    size_t dn = rmg_digest_len(alg);
    if (dn && !pool_put(db, digest, dn, &off))
        return RMG_ENOMEM;
    if (!s) { /* after the growth: slots move */
        s = table_free_slot(&db->files, h);
        db->files.count++;
    }
    s->hash = h;
    s->pkg = pkg | (uint32_t)alg << ALG_SHIFT | (conffile ? CONFFILE_BIT : 0);
    s->digest = off;
    return RMG_OK;
}

enum rmg_status rmg_store_dir(struct rmg_pkgdb *db, uint32_t pkg, const char *dir,
                              size_t dlen)
{
    if (pkg >= db->npkgs)
        return RMG_SKIP;
    uint64_t h = dir_key(db, dir, dlen);
    if (table_find(&db->dirs, h))
        return RMG_OK;
    if (entry_count(db) >= db->max_entries)
        return RMG_SKIP;
    if (!table_reserve(&db->dirs))
        return RMG_ENOMEM;
    struct slot *s = table_free_slot(&db->dirs, h);
    s->hash = h;
    s->pkg = pkg;
    s->digest = 0;
    db->dirs.count++;
    return RMG_OK;
}

/* ---- lookup ----------------------------------------------------------------------------- */

static void fill(const struct rmg_pkgdb *db, const struct slot *s, struct rmg_pkg_claim *out)
{
    const struct pkg *p = &db->pkgs[s->pkg & PKG_MASK];
    out->manager = (enum rmg_pkg_manager)p->manager;
    out->name = p->name;
    out->version = p->version;
    out->alg = (enum rmg_digest_alg)((s->pkg >> ALG_SHIFT) & 3u);
    out->conffile = (s->pkg & CONFFILE_BIT) != 0;
    size_t dn = rmg_digest_len(out->alg);
    if (dn)
        memcpy(out->digest, db->pool + s->digest, dn);
}

static const struct slot *dir_hit(const struct rmg_pkgdb *db, const struct sip *st)
{
    return table_find(&db->dirs, sip_final(st));
}

/* The nearest directory claim on path, or NULL. The ancestors are hashed shallowest first in
 * one pass; the deepest claim wins, but an npm package's claim ends at a node_modules
 * directory below it. */
static const struct slot *dir_claim(const struct rmg_pkgdb *db, const char *path, size_t n)
{
    const struct slot *npm = NULL, *other = NULL;
    size_t npm_at = 0, other_at = 0;
    struct sip st;
    sip_init(&st, db->k0, db->k1);
    size_t comp = 0; /* start of the current component */
    for (size_t i = 0; i < n && i <= RMG_PKG_MAX_PATH; i++) {
        if (path[i] == '/' && i > 0) {
            if (i - comp == 12 && memcmp(path + comp, "node_modules", 12) == 0)
                npm = NULL;
            const struct slot *s = dir_hit(db, &st);
            if (s) {
                if (db->pkgs[s->pkg & PKG_MASK].manager == RMG_PKG_NPM) {
                    npm = s;
                    npm_at = i;
                } else {
                    other = s;
                    other_at = i;
                }
            }
        }
        sip_update(&st, path + i, 1);
        if (path[i] == '/')
            comp = i + 1;
    }
    return npm && (!other || npm_at > other_at) ? npm : other;
}

size_t rmg_store_claims(const struct rmg_pkgdb *db, const char *path,
                        struct rmg_pkg_claim *out, size_t max)
{
    size_t n = strlen(path), k = 0;
    if (n == 0 || path[0] != '/')
        return 0;
    if (db->files.count && n <= RMG_PKG_MAX_PATH + 4) {
        for (const struct slot *s = table_find(&db->files, file_key(db, path, n)); s;
             s = table_next(&db->files, s)) {
            const struct pkg *p = &db->pkgs[s->pkg & PKG_MASK];
            if (p->manager == RMG_PKG_DPKG && p->state == RMG_PKG_STATE_NOT_INSTALLED)
                continue;
            if (k < max) {
                memset(&out[k], 0, sizeof out[k]);
                fill(db, s, &out[k]);
            }
            k++;
        }
    }
    if (k || !db->dirs.count)
        return k;
    const struct slot *s = dir_claim(db, path, n);
    if (!s)
        return 0;
    if (max) {
        memset(out, 0, sizeof *out);
        fill(db, s, out);
        out->alg = RMG_DIGEST_NONE;
    }
    return 1;
}

void rmg_store_stats(const struct rmg_pkgdb *db, size_t *entries, size_t *packages,
                     size_t *bytes)
{
    if (entries)
        *entries = entry_count(db);
    if (packages)
        *packages = db->npkgs;
    if (bytes)
        *bytes = sizeof *db + (db->files.cap + db->dirs.cap) * sizeof(struct slot) +
                 db->pool_cap + db->pkgs_cap * sizeof(struct pkg) +
                 db->pkg_index_cap * sizeof(uint32_t) + db->arena_bytes;
}
