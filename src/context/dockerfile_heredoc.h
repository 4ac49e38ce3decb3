/* dockerfile_heredoc.h: heredocs of RUN, COPY and ADD for the Dockerfile parser (BuildKit's
 * ParseHeredoc and heredocsFromLine): which words open one, and their bodies, read from the
 * lines after the instruction. */
#ifndef RMG_DOCKERFILE_HEREDOC_H
#define RMG_DOCKERFILE_HEREDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "context/dockerfile.h"
#include "context/dockerfile_state.h"
#include "common/util.h"

/* ParseHeredoc on one word w (n bytes): 1 when it is `[n]<<[-][ ]NAME`, with the name (quotes
 * and escapes processed) replacing the content of *name (the caller's buffer, to free), *chomp
 * for `<<-` and *expand when no part of the name was quoted; 0 when it is not; -1 when its
 * name does not lex (BuildKit fails). Out of memory sets p->oom. */
int rmg_df_heredoc_word(struct rmg_df_parser *p, const char *w, size_t n, struct rmg_buf *name,
                        bool *chomp, bool *expand);

/* heredocsFromLine on the logical line (n bytes) of instruction in, then each heredoc's body
 * up to its delimiter line, read from p's text (p->line counts the lines consumed), appended
 * to in->heredocs. An invalid heredoc name is a warning; so is a missing delimiter line, which
 * ends the reading. Out of memory sets p->oom. */
void rmg_df_read_heredocs(struct rmg_df_parser *p, struct rmg_df_instr *in, const char *line,
                          size_t n);

#endif
