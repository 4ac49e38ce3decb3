/* target.c: target dispatch. A target names its transport the way skopeo and podman do
 * (docker-archive:, oci-archive:, oci:, dir:), or is a path whose content decides: an OCI
 * layout directory, a tar (plain or compressed) holding an image, any other file or
 * directory; "-" is stdin, an image stream or plain bytes. */
#define _GNU_SOURCE
#include "source/target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/pool.h"
#include "source/daemon.h"
#include "source/file.h"
#include "source/image.h"
#include "source/registry.h"
#include "common/util.h"

#define HEAD_MAX (64u << 10)

/* Splits "PATH[:REF]": the longest prefix that exists is the path (paths may hold ':').
 * Returns the path (malloc'd) and sets *ref to the rest (in spec) or NULL. */
static char *split_ref(const char *spec, const char **ref)
{
    struct stat st;
    *ref = NULL;
    if (stat(spec, &st) == 0)
        return rmg_strdup(spec);
    for (const char *c = spec + strlen(spec); c > spec; c--) {
        if (*c != ':')
            continue;
        char *p = rmg_strndup(spec, (size_t)(c - spec));
        if (p && stat(p, &st) == 0) {
            *ref = c + 1;
            return p;
        }
        free(p);
    }
    return rmg_strdup(spec);
}

static bool is_oci_layout(const char *dir)
{
    struct rmg_buf a = {0}, b = {0};
    rmg_buf_printf(&a, "%s/oci-layout", dir);
    rmg_buf_printf(&b, "%s/index.json", dir);
    struct stat st;
    bool yes = a.data && b.data && stat(a.data, &st) == 0 && S_ISREG(st.st_mode) &&
               stat(b.data, &st) == 0 && S_ISREG(st.st_mode);
    rmg_buf_free(&a);
    rmg_buf_free(&b);
    return yes;
}

static enum rmg_status scan_dir(const struct rmg_scan_ctx *ctx, const char *target,
                                const char *dir, struct rmg_results *out)
{
    struct rmg_pool *pool = rmg_pool_new(ctx->rules, &ctx->opts, ctx->jobs);
    if (!pool)
        return RMG_ENOMEM;
    enum rmg_status s1 = rmg_source_dir_walk(dir, target, pool, out);
    enum rmg_status s2 = rmg_pool_finish(pool, out);
    return s1 > s2 ? s1 : s2;
}

static enum rmg_status open_input(const char *target, const char *path, int *fd,
                                  struct rmg_results *out)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (*fd < 0 || fstat(*fd, &st) != 0) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", strerror(errno));
        if (*fd >= 0)
            close(*fd);
        return RMG_EINPUT;
    }
    if (S_ISDIR(st.st_mode)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL,
                              "is a directory (an OCI layout is oci:DIR)");
        close(*fd);
        return RMG_EINPUT;
    }
    return RMG_OK;
}

/* docker-archive:PATH[:REF], oci-archive:PATH[:REF]. */
static enum rmg_status scan_archive_target(const struct rmg_scan_ctx *ctx, const char *target,
                                           const char *spec, struct rmg_results *out)
{
    const char *ref;
    char *path = split_ref(spec, &ref);
    int fd;
    enum rmg_status st = path ? open_input(target, path, &fd, out) : RMG_ENOMEM;
    if (st == RMG_OK) {
        st = rmg_source_image_stream(ctx, target, fd, NULL, 0, ref && *ref ? ref : NULL, NULL,
                                     out);
        close(fd);
    }
    free(path);
    return st;
}

static enum rmg_status scan_oci_target(const struct rmg_scan_ctx *ctx, const char *target,
                                       const char *spec, struct rmg_results *out)
{
    const char *ref;
    char *dir = split_ref(spec, &ref);
    if (!dir)
        return RMG_ENOMEM;
    enum rmg_status st;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s",
                              errno && stat(dir, &sb) != 0 ? strerror(errno)
                                                           : "not a directory (OCI layout)");
        st = RMG_EINPUT;
    } else {
        st = rmg_source_image_oci_dir(ctx, target, dir, ref && *ref ? ref : NULL, out);
    }
    free(dir);
    return st;
}

/* stdin: an image stream (docker save | rummage scan -), or any bytes. */
static enum rmg_status scan_stdin(const struct rmg_scan_ctx *ctx, struct rmg_scanner *sc,
                                  struct rmg_results *out)
{
    unsigned char *head = malloc(HEAD_MAX);
    if (!head)
        return RMG_ENOMEM;
    /* From a pipe (docker save | rummage scan -), a larger pipe lets the writer run ahead of
     * the reader instead of both taking turns at its default 64 KiB; 1 MiB is what any process
     * may ask for (/proc/sys/fs/pipe-max-size). Not a pipe, or refused: as it is. */
    struct stat st0;
    if (fstat(0, &st0) == 0 && S_ISFIFO(st0.st_mode))
        (void)fcntl(0, F_SETPIPE_SZ, 1 << 20);
    ssize_t n = rmg_read_head(0, head, HEAD_MAX);
    enum rmg_status st;
    if (n < 0) {
        rmg_results_add_error(out, RMG_EINPUT, "-", NULL, "read: %s", strerror(errno));
        st = RMG_EINPUT;
    } else if (rmg_layer_is_tar(head, (size_t)n)) {
        st = rmg_source_image_stream(ctx, "-", 0, head, (size_t)n, NULL, NULL, out);
    } else {
        /* Plain bytes: the head first, then the rest. */
        struct rmg_location loc = {.target = (char *)"-", .path = (char *)"-", .layer_index = -1};
        st = rmg_source_scan_fd(sc, 0, head, (size_t)n, &loc, out);
    }
    free(head);
    return st;
}

/* A path with no transport: its content decides. */
static enum rmg_status scan_path(const struct rmg_scan_ctx *ctx, struct rmg_scanner *sc,
                                 const char *target, struct rmg_results *out)
{
    struct stat st;
    if (stat(target, &st) != 0) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", strerror(errno));
        return RMG_EINPUT;
    }
    if (S_ISDIR(st.st_mode))
        return is_oci_layout(target) ? rmg_source_image_oci_dir(ctx, target, target, NULL, out)
                                     : scan_dir(ctx, target, target, out);
    if (!S_ISREG(st.st_mode)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL,
                              "not a regular file or directory");
        return RMG_EINPUT;
    }
    int fd = open(target, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    unsigned char *head = malloc(HEAD_MAX);
    ssize_t n = fd >= 0 && head ? rmg_read_head(fd, head, HEAD_MAX) : -1;
    enum rmg_status res;
    if (n >= 0 && rmg_layer_is_tar(head, (size_t)n)) {
        res = rmg_source_image_stream(ctx, target, fd, head, (size_t)n, NULL, target, out);
    } else {
        struct rmg_location loc = {.target = (char *)target, .path = (char *)target,
                                   .layer_index = -1};
        if (n >= 0) {
            /* Any other file: the rest of it after the head already read. */
            res = rmg_source_scan_fd(sc, fd, head, (size_t)n, &loc, out);
        } else {
            /* It could not be opened or read: the file source says why. A file the user
             * named is read even through a symlink. */
            res = rmg_source_scan_path(sc, target, true, &loc, out);
            if (res == RMG_SKIP)
                res = RMG_OK;
        }
    }
    if (fd >= 0)
        close(fd);
    free(head);
    return res;
}

static enum rmg_status scan_one(const struct rmg_scan_ctx *ctx, struct rmg_scanner *sc,
                                const char *target, struct rmg_results *out)
{
    static const char da[] = "docker-archive:", oa[] = "oci-archive:", oci[] = "oci:",
                      dir[] = "dir:", dd[] = "docker-daemon:", reg[] = "docker://";
    if (strcmp(target, "-") == 0)
        return scan_stdin(ctx, sc, out);
    if (strncmp(target, da, sizeof da - 1) == 0)
        return scan_archive_target(ctx, target, target + sizeof da - 1, out);
    if (strncmp(target, oa, sizeof oa - 1) == 0)
        return scan_archive_target(ctx, target, target + sizeof oa - 1, out);
    if (strncmp(target, reg, sizeof reg - 1) == 0)
        return rmg_source_registry(ctx, &ctx->registry, target, target + sizeof reg - 1, out);
    if (strncmp(target, dd, sizeof dd - 1) == 0)
        return rmg_source_daemon(ctx, target, target + sizeof dd - 1, out);
    if (strncmp(target, oci, sizeof oci - 1) == 0)
        return scan_oci_target(ctx, target, target + sizeof oci - 1, out);
    if (strncmp(target, dir, sizeof dir - 1) == 0) {
        const char *d = target + sizeof dir - 1;
        struct stat st;
        if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s",
                                  stat(d, &st) != 0 ? strerror(errno) : "not a directory");
            return RMG_EINPUT;
        }
        return scan_dir(ctx, d, d, out);
    }
    return scan_path(ctx, sc, target, out);
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
