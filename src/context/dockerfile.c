/* dockerfile.c: a parsed Dockerfile (see dockerfile.h): freeing it, and finding its stages.
 * The parse itself is rmg_dockerfile_parse in dockerfile_parse.c, with the pieces it calls
 * (dockerfile_text, _state, _lex, _split, _heredoc, _stage, _instr). */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_text.h"
#include "common/util.h"

void rmg_dockerfile_free(struct rmg_dockerfile *df)
{
    if (!df)
        return;
    for (size_t i = 0; i < df->n_instrs; i++) {
        struct rmg_df_instr *in = &df->instrs[i];
        free(in->keyword);
        free(in->text);
        rmg_strv_free(in->flags, in->n_flags);
        rmg_strv_free(in->args, in->n_args);
        for (size_t k = 0; k < in->n_kvs; k++) {
            free(in->kvs[k].key);
            free(in->kvs[k].value);
        }
        free(in->kvs);
        for (size_t h = 0; h < in->n_heredocs; h++) {
            free(in->heredocs[h].name);
            free(in->heredocs[h].body);
        }
        free(in->heredocs);
        free(in->workdir);
    }
    free(df->instrs);
    for (size_t i = 0; i < df->n_stages; i++) {
        free(df->stages[i].name);
        free(df->stages[i].base);
    }
    free(df->stages);
    for (size_t i = 0; i < df->n_warnings; i++)
        free(df->warnings[i].message);
    free(df->warnings);
    free(df);
}

int rmg_dockerfile_final_stage(const struct rmg_dockerfile *df)
{
    return df && df->n_stages ? (int)df->n_stages - 1 : -1;
}

int rmg_dockerfile_stage_ref(const struct rmg_dockerfile *df, const char *from)
{
    if (!df || !from || !*from)
        return -1;
    const char *d = from + (*from == '+' || *from == '-');
    if (*d && strspn(d, "0123456789") == strlen(d)) {
        errno = 0;
        char *end;
        long long v = strtoll(from, &end, 10);
        if (errno || *end || v < 0 || (unsigned long long)v >= df->n_stages)
            return -1;
        return (int)v;
    }
    for (size_t i = df->n_stages; i-- > 0;)
        if (df->stages[i].name && rmg_df_eq_fold(from, strlen(from), df->stages[i].name))
            return (int)i;
    return -1;
}
