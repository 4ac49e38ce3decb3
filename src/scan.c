/* scan.c: target dispatch: stdin, a directory tree, or a single file. */
#define _POSIX_C_SOURCE 200809L
#include "scan.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "pool.h"
#include "source_file.h"
#include "util.h"

static enum rmg_status scan_one(const struct rmg_scan_ctx *ctx, struct rmg_scanner *sc,
                                const char *target, struct rmg_results *out)
{
    if (strcmp(target, "-") == 0) {
        struct rmg_location loc = {.target = (char *)"-", .path = (char *)"-", .layer_index = -1};
        return rmg_source_scan_fd(sc, 0, &loc, out);
    }
    struct stat st;
    if (stat(target, &st) != 0) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", strerror(errno));
        return RMG_EINPUT;
    }
    if (S_ISDIR(st.st_mode)) {
        struct rmg_pool *pool = rmg_pool_new(ctx->rules, &ctx->opts, ctx->jobs);
        if (!pool)
            return RMG_ENOMEM;
        enum rmg_status s1 = rmg_source_dir_walk(target, target, pool, out);
        enum rmg_status s2 = rmg_pool_finish(pool, out);
        return s1 > s2 ? s1 : s2;
    }
    if (!S_ISREG(st.st_mode)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL,
                              "not a regular file or directory");
        return RMG_EINPUT;
    }
    struct rmg_location loc = {.target = (char *)target, .path = (char *)target,
                               .layer_index = -1};
    /* A file the user named is read even through a symlink. */
    enum rmg_status st2 = rmg_source_scan_path(sc, target, true, &loc, out);
    return st2 == RMG_SKIP ? RMG_OK : st2;
}

enum rmg_status rmg_scan_targets(const struct rmg_scan_ctx *ctx, char *const *targets,
                                 size_t n_targets, struct rmg_results *out)
{
    struct rmg_scanner *sc = rmg_scanner_new(ctx->rules, &ctx->opts);
    if (!sc)
        return RMG_ENOMEM;
    double t0 = rmg_now();
    enum rmg_status worst = RMG_OK;
    for (size_t i = 0; i < n_targets; i++) {
        enum rmg_status st = scan_one(ctx, sc, targets[i], out);
        if (st > worst)
            worst = st;
    }
    rmg_scanner_free(sc);
    out->stats.seconds += rmg_now() - t0;
    return worst;
}
