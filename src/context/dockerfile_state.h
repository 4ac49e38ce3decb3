/* dockerfile_state.h: the state one Dockerfile parse shares between the parser's pieces:
 * variable scopes (name -> value maps), each stage's state, the counters behind the limits,
 * the expansion budget, warnings, and the cursor over the text. A struct rmg_df_parser lives
 * for one rmg_dockerfile_parse call and one thread; nothing here is shared between parses. */
#ifndef RMG_DOCKERFILE_STATE_H
#define RMG_DOCKERFILE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context/dockerfile.h"

#define RMG_DF_EXPAND_BUDGET (32u << 20) /* expansion work units per parse */

/* One variable of a scope. name and value are owned by the map. */
struct rmg_df_var {
    char *name; /* NULL: empty slot */
    char *value;
    size_t nlen, vlen;
    uint64_t hash;
    bool has_value; /* false only for a global `ARG NAME` without value or build arg: it reads
                       as "" in FROM lines but gives a stage's `ARG NAME` nothing */
};

/* A scope: name -> value; {0} is empty. */
struct rmg_df_vmap {
    struct rmg_df_var *slots;
    size_t cap, count;
    size_t bytes; /* what a copy costs, for the budget */
};

struct rmg_df_stage_state {
    struct rmg_df_vmap scope; /* variables expansions of this stage see: inherited, ARG, ENV */
    char *workdir;
    bool abs_workdir;         /* an absolute WORKDIR was set (for the WorkdirRelativePath lint) */
};

/* A parse in progress. src is borrowed from the caller; df is the result being built (owned
 * by rmg_dockerfile_parse until it returns it); states, the scopes and their strings are
 * owned here and freed at the end of the parse. oom, too_many and too_many_words end it. */
struct rmg_df_parser {
    const char *src;
    size_t len, pos;
    unsigned line; /* physical lines consumed */
    char escape;
    bool directives_done, seen_syntax, seen_escape, seen_check;
    struct rmg_dockerfile *df;
    size_t cap_instrs, cap_stages, cap_warnings, cap_states;
    struct rmg_df_stage_state *states; /* parallel to df->stages */
    struct rmg_df_vmap build_args;
    struct rmg_df_vmap global; /* what FROM lines see: global ARGs, automatic platform args */
    struct rmg_df_vmap pre;    /* the (empty) scope of instructions before the first FROM */
    size_t budget;
    size_t n_words; /* words, flags and JSON elements split off so far */
    bool budget_warned, oom, too_many, too_many_words;
};

/* The variable name (n bytes) of m, or NULL (also for a NULL or never-set m). Borrowed from
 * m: valid until m changes. */
const struct rmg_df_var *rmg_df_vmap_get(const struct rmg_df_vmap *m, const char *name,
                                         size_t n);
/* Sets name (nlen bytes) to a copy of value (vlen bytes; NULL sets ""), replacing the value it
 * had; has_value as in struct rmg_df_var. False when out of memory. */
bool rmg_df_vmap_set(struct rmg_df_vmap *m, const char *name, size_t nlen, const char *value,
                     size_t vlen, bool has_value);
/* Frees every variable and the slots; m is empty after. */
void rmg_df_vmap_free(struct rmg_df_vmap *m);
/* Sets every variable of src in dst (src unchanged). False when out of memory. */
bool rmg_df_vmap_copy(struct rmg_df_vmap *dst, const struct rmg_df_vmap *src);

/* Counts one more word; false (and the parse fails) past RMG_DF_MAX_WORDS. */
bool rmg_df_count_word(struct rmg_df_parser *p);
/* Records a warning at line (1-based; 0: the file as a whole) in p->df, formatted and cut at
 * 511 bytes. The last one recorded says the rest are not; out of memory sets p->oom. */
void rmg_df_warn(struct rmg_df_parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Takes units from p's expansion budget. False when fewer are left: the budget is then spent
 * (nothing more can be charged). */
bool rmg_df_charge(struct rmg_df_parser *p, size_t units);
/* The warning that the expansion budget ran out, at line; once per parse. */
void rmg_df_budget_warning(struct rmg_df_parser *p, unsigned line);
/* The scope of the current stage (the last FROM), or the empty one before the first FROM.
 * Borrowed from p. */
struct rmg_df_vmap *rmg_df_cur_scope(struct rmg_df_parser *p);
/* The next physical line with its line ending (scanLines): *s (borrowed from p->src) and *n
 * bytes; moves p->pos past it (p->line is the caller's to count). False at the end. */
bool rmg_df_next_line(struct rmg_df_parser *p, const char **s, size_t *n);

#endif
