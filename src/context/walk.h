/* walk.h: a Docker build context scanned before the image exists: the files exactly as
 * `docker build` would send them (.dockerignore applied), each finding tied to the COPY or ADD
 * that would put it in the image, and the Dockerfile checked for secrets and bad practice. */
#ifndef RMG_CONTEXT_H
#define RMG_CONTEXT_H

#include "source/source.h"

struct rmg_context_opts {
    const char *dir;          /* the context root */
    const char *dockerfile;   /* -f; NULL: DIR/Dockerfile */
    char *const *build_args;  /* "NAME=value", as --build-arg */
    size_t n_build_args;
    bool show_ignored;        /* also scan what .dockerignore keeps out, flagged `ignored` */
};

/* Scans one build context into out (findings with state context). A missing Dockerfile named
 * with -f, an unreadable context or a bad .dockerignore is RMG_EINPUT; without a Dockerfile
 * the context is still scanned. Returns the worst status. */
enum rmg_status rmg_context_scan(const struct rmg_scan_ctx *ctx, const struct rmg_context_opts *o,
                                 struct rmg_results *out);

/* The rules of the Dockerfile checks (root user, secrets in ARG/ENV/LABEL defaults, COPY of a
 * whole context holding secrets, a secret removed in a later step...): static, for listing. */
size_t rmg_context_check_count(void);
const struct rmg_rule *rmg_context_check_rule(size_t i);

#endif
