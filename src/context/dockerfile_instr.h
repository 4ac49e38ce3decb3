/* dockerfile_instr.h: one Dockerfile instruction for the parser: its logical line split, its
 * arguments parsed as BuildKit parses that instruction's, its heredocs read, and its
 * semantics (flags, what BuildKit expands, ARG and ENV scopes, stages, WORKDIR). */
#ifndef RMG_DOCKERFILE_INSTR_H
#define RMG_DOCKERFILE_INSTR_H

#include <stddef.h>

#include "context/dockerfile_state.h"

/* One logical line (n bytes, continuations joined; borrowed) that starts on physical line
 * start: appends one instruction to p->df and applies it to p's state. Its heredoc bodies
 * are read from the lines after it (p->line moves past them). Past RMG_DF_MAX_INSTRS
 * instructions it adds nothing and sets p->too_many; out of memory sets p->oom. */
void rmg_df_handle_instruction(struct rmg_df_parser *p, const char *line, size_t n,
                               unsigned start);

#endif
