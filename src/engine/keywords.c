/* keywords.c: the literal-anchor prefilter used without Vectorscan: an Aho-Corasick DFA over
 * the rules' keywords, matched case-insensitively.
 *
 * DESIGN. Bytes are mapped to equivalence classes (one per byte that occurs in some keyword,
 * after lower-casing, plus one for every other byte), so the full transition table stays small
 * (states x classes). Each state lists the rules whose keywords end there, including those
 * inherited through failure links, so scanning is one table lookup per byte and a report per
 * keyword end. Read-only after building; any number of threads may scan with it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rules.h"

struct rmg_ac {
    unsigned char cls[256];
    unsigned n_cls;
    unsigned n_states;
    unsigned *delta;      /* n_states * n_cls */
    unsigned *out_start;  /* n_states + 1, into out */
    unsigned *out;        /* rule indices */
};

struct trie {
    unsigned *next; /* n_states * n_cls, 0 = none (state 0 is the root, never a target) */
    unsigned *fail;
    unsigned **rules;
    unsigned *n_rules;
    unsigned n, cap;
    unsigned n_cls;
};

static bool trie_grow(struct trie *t)
{
    if (t->n < t->cap)
        return true;
    unsigned cap = t->cap ? t->cap * 2 : 256;
    unsigned *next = realloc(t->next, (size_t)cap * t->n_cls * sizeof *next);
    if (!next)
        return false;
    t->next = next;
    unsigned *fail = realloc(t->fail, cap * sizeof *fail);
    if (!fail)
        return false;
    t->fail = fail;
    unsigned **rules = realloc(t->rules, cap * sizeof *rules);
    if (!rules)
        return false;
    t->rules = rules;
    unsigned *nr = realloc(t->n_rules, cap * sizeof *nr);
    if (!nr)
        return false;
    t->n_rules = nr;
    memset(t->next + (size_t)t->cap * t->n_cls, 0, (size_t)(cap - t->cap) * t->n_cls * sizeof *next);
    memset(t->fail + t->cap, 0, (cap - t->cap) * sizeof *fail);
    memset(t->rules + t->cap, 0, (cap - t->cap) * sizeof *rules);
    memset(t->n_rules + t->cap, 0, (cap - t->cap) * sizeof *nr);
    t->cap = cap;
    return true;
}

static bool add_out(struct trie *t, unsigned s, unsigned rule)
{
    for (unsigned i = 0; i < t->n_rules[s]; i++)
        if (t->rules[s][i] == rule)
            return true;
    unsigned *p = realloc(t->rules[s], (t->n_rules[s] + 1) * sizeof *p);
    if (!p)
        return false;
    p[t->n_rules[s]++] = rule;
    t->rules[s] = p;
    return true;
}

static void trie_free(struct trie *t)
{
    for (unsigned i = 0; i < t->n; i++)
        free(t->rules[i]);
    free(t->rules);
    free(t->n_rules);
    free(t->next);
    free(t->fail);
}

void rmg_ac_free(struct rmg_ac *ac)
{
    if (!ac)
        return;
    free(ac->delta);
    free(ac->out_start);
    free(ac->out);
    free(ac);
}

struct rmg_ac *rmg_ac_build(const struct rmg_rules *rules)
{
    struct rmg_ac *ac = calloc(1, sizeof *ac);
    struct trie t = {0};
    unsigned *queue = NULL;
    if (!ac)
        return NULL;
    /* Byte classes: class 0 for bytes in no keyword. */
    unsigned n_cls = 1;
    for (size_t i = 0; i < rules->n; i++) {
        const struct rmg_rule *r = &rules->rules[i]->pub;
        for (size_t k = 0; k < r->n_keywords; k++)
            for (const unsigned char *p = (const unsigned char *)r->keywords[k]; *p; p++) {
                unsigned char c = (unsigned char)tolower(*p);
                if (!ac->cls[c]) {
                    ac->cls[c] = (unsigned char)n_cls;
                    if (toupper(c) != c)
                        ac->cls[toupper(c)] = (unsigned char)n_cls;
                    n_cls++;
                    if (n_cls > 255)
                        goto fail; /* cannot happen with 8-bit classes of distinct bytes */
                }
            }
    }
    ac->n_cls = n_cls;
    t.n_cls = n_cls;
    if (!trie_grow(&t))
        goto fail;
    t.n = 1;
    for (size_t i = 0; i < rules->n; i++) {
        const struct rmg_rule *r = &rules->rules[i]->pub;
        for (size_t k = 0; k < r->n_keywords; k++) {
            unsigned s = 0;
            for (const unsigned char *p = (const unsigned char *)r->keywords[k]; *p; p++) {
                unsigned c = ac->cls[*p];
                unsigned nx = t.next[(size_t)s * n_cls + c];
                if (!nx) {
                    if (!trie_grow(&t))
                        goto fail;
                    nx = t.n++;
                    t.next[(size_t)s * n_cls + c] = nx;
                }
                s = nx;
            }
            if (!add_out(&t, s, (unsigned)i))
                goto fail;
        }
    }
    /* Breadth-first: failure links, inherited outputs, and the full DFA. */
    queue = malloc(t.n * sizeof *queue);
    ac->delta = calloc((size_t)t.n * n_cls, sizeof *ac->delta);
    if (!queue || !ac->delta)
        goto fail;
    unsigned qh = 0, qt = 0;
    for (unsigned c = 0; c < n_cls; c++) {
        unsigned nx = t.next[c];
        ac->delta[c] = nx;
        if (nx) {
            t.fail[nx] = 0;
            queue[qt++] = nx;
        }
    }
    while (qh < qt) {
        unsigned s = queue[qh++];
        unsigned f = t.fail[s];
        for (unsigned i = 0; i < t.n_rules[f]; i++)
            if (!add_out(&t, s, t.rules[f][i]))
                goto fail;
        for (unsigned c = 0; c < n_cls; c++) {
            unsigned nx = t.next[(size_t)s * n_cls + c];
            if (nx) {
                t.fail[nx] = ac->delta[(size_t)f * n_cls + c];
                queue[qt++] = nx;
                ac->delta[(size_t)s * n_cls + c] = nx;
            } else {
                ac->delta[(size_t)s * n_cls + c] = ac->delta[(size_t)f * n_cls + c];
            }
        }
    }
    ac->n_states = t.n;
    ac->out_start = calloc(t.n + 1, sizeof *ac->out_start);
    size_t total = 0;
    for (unsigned s = 0; s < t.n; s++)
        total += t.n_rules[s];
    ac->out = calloc(total ? total : 1, sizeof *ac->out);
    if (!ac->out_start || !ac->out)
        goto fail;
    unsigned pos = 0;
    for (unsigned s = 0; s < t.n; s++) {
        ac->out_start[s] = pos;
        if (t.n_rules[s])
            memcpy(ac->out + pos, t.rules[s], t.n_rules[s] * sizeof *ac->out);
        pos += t.n_rules[s];
    }
    ac->out_start[t.n] = pos;
    free(queue);
    trie_free(&t);
    return ac;
fail:
    free(queue);
    trie_free(&t);
    rmg_ac_free(ac);
    return NULL;
}

void rmg_ac_scan(const struct rmg_ac *ac, const unsigned char *buf, size_t len, rmg_ac_cb cb,
                 void *ctx)
{
    unsigned s = 0;
    const unsigned n_cls = ac->n_cls;
    for (size_t i = 0; i < len; i++) {
        s = ac->delta[(size_t)s * n_cls + ac->cls[buf[i]]];
        unsigned a = ac->out_start[s], b = ac->out_start[s + 1];
        for (; a < b; a++)
            cb(ac->out[a], i + 1, ctx);
    }
}
