/* pathset.c: open-addressing hash set of paths with flags (see pathset.h).
 *
 * DESIGN. Paths are copied into large arena blocks (one allocation per 64 KiB of paths, not
 * one per path): a layer of 100k files costs a few MB. Hashing is FNV-1a; the table doubles
 * at 50% load. */
#define _POSIX_C_SOURCE 200809L
#include "image/pathset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (64u << 10)

struct slot {
    const char *path; /* NULL when empty */
    uint32_t len;
    uint32_t flags;
    uint64_t hash;
};

struct block {
    struct block *next;
    size_t used, cap;
    char data[];
};

struct rmg_pathset {
    struct slot *slots;
    size_t cap, count;
    struct block *blocks;
};

static uint64_t hash_path(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

struct rmg_pathset *rmg_pathset_new(void)
{
    struct rmg_pathset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cap = 64;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

void rmg_pathset_free(struct rmg_pathset *s)
{
    if (!s)
        return;
    for (struct block *b = s->blocks, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(s->slots);
    free(s);
}

static const char *arena_copy(struct rmg_pathset *s, const char *p, size_t n)
{
    struct block *b = s->blocks;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = s->blocks;
        s->blocks = b;
    }
    char *dst = b->data + b->used;
    memcpy(dst, p, n);
    dst[n] = '\0';
    b->used += n + 1;
    return dst;
}

static struct slot *find(const struct rmg_pathset *s, const char *p, size_t n, uint64_t h)
{
    size_t i = (size_t)h & (s->cap - 1);
    for (;;) {
        struct slot *sl = &s->slots[i];
        if (!sl->path || (sl->hash == h && sl->len == n && memcmp(sl->path, p, n) == 0))
            return sl;
        i = (i + 1) & (s->cap - 1);
    }
}

static bool grow(struct rmg_pathset *s)
{
    struct rmg_pathset bigger = {.cap = s->cap * 2};
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return false;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].path)
            *find(&bigger, s->slots[i].path, s->slots[i].len, s->slots[i].hash) = s->slots[i];
    free(s->slots);
    s->slots = bigger.slots;
    s->cap = bigger.cap;
    return true;
}

bool rmg_pathset_add(struct rmg_pathset *s, const char *path, size_t len, unsigned flags)
{
    if (len > UINT32_MAX)
        return false;
    uint64_t h = hash_path(path, len);
    struct slot *sl = find(s, path, len, h);
    if (sl->path) {
        sl->flags |= flags;
        return true;
    }
    if ((s->count + 1) * 2 > s->cap) {
        if (!grow(s))
            return false;
        sl = find(s, path, len, h);
    }
    const char *copy = arena_copy(s, path, len);
    if (!copy)
        return false;
    *sl = (struct slot){copy, (uint32_t)len, flags, h};
    s->count++;
    return true;
}

unsigned rmg_pathset_get(const struct rmg_pathset *s, const char *path, size_t len)
{
    const struct slot *sl = find(s, path, len, hash_path(path, len));
    return sl->path ? sl->flags : 0;
}

size_t rmg_pathset_count(const struct rmg_pathset *s)
{
    return s->count;
}

bool rmg_pathset_each(const struct rmg_pathset *s,
                      bool (*fn)(const char *path, size_t len, unsigned flags, void *ud), void *ud)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].path && !fn(s->slots[i].path, s->slots[i].len, s->slots[i].flags, ud))
            return false;
    return true;
}
