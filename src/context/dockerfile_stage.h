/* dockerfile_stage.h: build stages for the Dockerfile parser: FROM (a new stage and what it
 * inherits), WORKDIR (the stage's working directory), and the COPY --from references checked
 * once every stage is known. */
#ifndef RMG_DOCKERFILE_STAGE_H
#define RMG_DOCKERFILE_STAGE_H

#include "context/dockerfile.h"
#include "context/dockerfile_state.h"
#include "context/dockerfile_text.h"

/* FROM, with words its arguments (the image, then optionally AS and a name): appends the
 * stage to p->df->stages and its state to p->states, sets in->stage, and replaces words->v[0]
 * with the image expanded against the global ARGs. What BuildKit rejects or lints is a
 * warning at in->line. Out of memory sets p->oom. */
void rmg_df_do_from(struct rmg_df_parser *p, struct rmg_df_instr *in, struct rmg_df_strv *words);
/* WORKDIR (in->args[0], already expanded): the current stage's WORKDIR becomes it, or, when
 * relative, the old one joined with it and cleaned. Nothing before the first FROM or unless
 * exactly one argument. Out of memory sets p->oom. */
void rmg_df_do_workdir(struct rmg_df_parser *p, struct rmg_df_instr *in);
/* After the whole file: what needs every stage known (an empty file, no stage, COPY --from an
 * invalid stage index or a stage not defined before the current one), as warnings. */
void rmg_df_check_references(struct rmg_df_parser *p);

#endif
