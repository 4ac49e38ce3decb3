/* fuzz_dockerfile.c: libFuzzer target: arbitrary bytes as a Dockerfile: parse (without and with
 * build args), walk every field the parser fills, check the invariants callers rely on, free. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context/dockerfile.h"

static void walk(const struct rmg_dockerfile *df)
{
    size_t sum = 0;
    for (size_t i = 0; i < df->n_instrs; i++) {
        const struct rmg_df_instr *in = &df->instrs[i];
        if (in->line == 0 || in->end_line < in->line || in->stage >= (int)df->n_stages ||
            (in->stage >= 0) != (in->workdir != NULL) || !in->keyword || !in->text)
            abort();
        if (i && in->line <= df->instrs[i - 1].end_line)
            abort();
        for (size_t j = 0; j < in->n_flags; j++)
            sum += strlen(in->flags[j]);
        for (size_t j = 0; j < in->n_args; j++) {
            sum += strlen(in->args[j]);
            const struct rmg_df_heredoc *h = rmg_dockerfile_heredoc_source(in, j);
            if (h)
                sum += strlen(h->body);
        }
        for (size_t j = 0; j < in->n_kvs; j++)
            sum += strlen(in->kvs[j].key) + (in->kvs[j].value ? strlen(in->kvs[j].value) : 0);
        for (size_t j = 0; j < in->n_heredocs; j++)
            sum += strlen(in->heredocs[j].name) + strlen(in->heredocs[j].body);
        sum += strlen(rmg_df_kind_name(in->kind));
    }
    for (size_t i = 0; i < df->n_stages; i++) {
        const struct rmg_df_stage *st = &df->stages[i];
        if (st->base_stage >= (int)i || !st->base)
            abort();
        /* the last stage of a name wins (a numeric name is read as an index, as BuildKit's
           strconv.Atoi reads it) */
        if (st->name && st->name[0] >= 'a' && st->name[0] <= 'z' &&
            rmg_dockerfile_stage_ref(df, st->name) < (int)i)
            abort();
        sum += strlen(st->base);
    }
    for (size_t i = 0; i < df->n_warnings; i++)
        sum += strlen(df->warnings[i].message);
    if (df->escape != '\\' && df->escape != '`')
        abort();
    (void)rmg_dockerfile_final_stage(df);
    (void)rmg_dockerfile_stage_ref(df, "0");
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const args[] = {(char *)"VER=1.2", (char *)"TOKEN=s3cr3t",
                                 (char *)"TARGETARCH=amd64", (char *)"A=${A}$A"};
    char err[256];
    for (int round = 0; round < 2; round++) {
        struct rmg_dockerfile *df = NULL;
        enum rmg_status st = rmg_dockerfile_parse((const char *)data, size, "fuzz",
                                                  round ? args : NULL, round ? 4 : 0, &df, err,
                                                  sizeof err);
        if ((st <= RMG_WARN) != (df != NULL) || (st == RMG_WARN) != (df && df->n_warnings))
            abort();
        if (df)
            walk(df);
        rmg_dockerfile_free(df);
    }
    return 0;
}
