/* dockerfile_state.c: the Dockerfile parser's state (see dockerfile_state.h): variable
 * scopes, warnings, the expansion budget and the cursor over the text.
 *
 * DESIGN. A scope is an open-addressing hash map (FNV-1a, linear probing, kept at most half
 * full); it counts what a copy of it costs, so a stage that inherits one is charged for it.
 * Warnings stop at MAX_WARNINGS, the last one saying so. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile_state.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_text.h"
#include "common/util.h"

#define MAX_WARNINGS 1000

/* ---- variables: name -> value hash map ----------------------------------------------------- */

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct rmg_df_var *vmap_slot(const struct rmg_df_vmap *m, const char *name, size_t n,
                                    uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (;;) {
        struct rmg_df_var *v = &m->slots[i];
        if (!v->name || (v->hash == h && v->nlen == n && memcmp(v->name, name, n) == 0))
            return v;
        i = (i + 1) & (m->cap - 1);
    }
}

const struct rmg_df_var *rmg_df_vmap_get(const struct rmg_df_vmap *m, const char *name, size_t n)
{
    if (!m || !m->cap)
        return NULL;
    const struct rmg_df_var *v = vmap_slot(m, name, n, fnv(name, n));
    return v->name ? v : NULL;
}

static bool vmap_rehash(struct rmg_df_vmap *m, size_t cap)
{
    struct rmg_df_vmap bigger = {.cap = cap, .count = m->count, .bytes = m->bytes};
    bigger.slots = calloc(cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return false;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].name)
            *vmap_slot(&bigger, m->slots[i].name, m->slots[i].nlen, m->slots[i].hash) =
                m->slots[i];
    free(m->slots);
    *m = bigger;
    return true;
}

bool rmg_df_vmap_set(struct rmg_df_vmap *m, const char *name, size_t nlen, const char *value,
                     size_t vlen, bool has_value)
{
    if ((m->count + 1) * 2 > m->cap && !vmap_rehash(m, m->cap ? m->cap * 2 : 16))
        return false;
    uint64_t h = fnv(name, nlen);
    struct rmg_df_var *v = vmap_slot(m, name, nlen, h);
    char *val = rmg_strndup(value ? value : "", value ? vlen : 0);
    if (!val)
        return false;
    if (v->name) {
        m->bytes -= v->vlen;
        free(v->value);
    } else {
        char *nm = rmg_strndup(name, nlen);
        if (!nm) {
            free(val);
            return false;
        }
        *v = (struct rmg_df_var){.name = nm, .nlen = nlen, .hash = h};
        m->count++;
        m->bytes += nlen + 32;
    }
    v->value = val;
    v->vlen = value ? vlen : 0;
    v->has_value = has_value;
    m->bytes += v->vlen;
    return true;
}

void rmg_df_vmap_free(struct rmg_df_vmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].name) {
            free(m->slots[i].name);
            free(m->slots[i].value);
        }
    free(m->slots);
    *m = (struct rmg_df_vmap){0};
}

bool rmg_df_vmap_copy(struct rmg_df_vmap *dst, const struct rmg_df_vmap *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const struct rmg_df_var *v = &src->slots[i];
        if (v->name && !rmg_df_vmap_set(dst, v->name, v->nlen, v->value, v->vlen, v->has_value))
            return false;
    }
    return true;
}

/* ---- parser state and warnings ------------------------------------------------------------- */

bool rmg_df_count_word(struct rmg_df_parser *p)
{
    if (++p->n_words <= RMG_DF_MAX_WORDS)
        return true;
    p->too_many_words = true;
    return false;
}

void rmg_df_warn(struct rmg_df_parser *p, unsigned line, const char *fmt, ...)
{
    struct rmg_dockerfile *df = p->df;
    if (p->oom || df->n_warnings >= MAX_WARNINGS)
        return;
    char msg[512];
    if (df->n_warnings == MAX_WARNINGS - 1) {
        snprintf(msg, sizeof msg, "more than %d warnings: the rest are not recorded",
                 MAX_WARNINGS - 1);
        line = 0;
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    if (!rmg_grow(&df->warnings, &p->cap_warnings, df->n_warnings + 1, sizeof *df->warnings)) {
        p->oom = true;
        return;
    }
    char *m = rmg_strdup(msg);
    if (!m) {
        p->oom = true;
        return;
    }
    df->warnings[df->n_warnings++] = (struct rmg_df_warning){line, m};
}

bool rmg_df_charge(struct rmg_df_parser *p, size_t units)
{
    if (units > p->budget) {
        p->budget = 0;
        return false;
    }
    p->budget -= units;
    return true;
}

void rmg_df_budget_warning(struct rmg_df_parser *p, unsigned line)
{
    if (!p->budget_warned)
        rmg_df_warn(p, line, "variable expansion limit reached: later values are left unexpanded");
    p->budget_warned = true;
}

struct rmg_df_vmap *rmg_df_cur_scope(struct rmg_df_parser *p)
{
    return p->df->n_stages ? &p->states[p->df->n_stages - 1].scope : &p->pre;
}

bool rmg_df_next_line(struct rmg_df_parser *p, const char **s, size_t *n)
{
    if (p->pos >= p->len)
        return false;
    const char *start = p->src + p->pos;
    const char *nl = memchr(start, '\n', p->len - p->pos);
    *s = start;
    *n = nl ? (size_t)(nl - start) + 1 : p->len - p->pos;
    p->pos += *n;
    return true;
}
