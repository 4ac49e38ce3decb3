/* layout.c: OCI image layout directories as sources (see image.h).
 *
 * DESIGN. An OCI layout directory is an on-demand source (layers.c): index.json is read, then
 * only the manifests, configs and layers the selected images reference. Every file is opened
 * beneath the directory without following a symbolic link. With more than one job, each layer
 * blob is walked by a thread of its own; with the layer cache on, a blob's bytes are checked
 * against the digest its name claims before its cached result is used.
 */
#define _GNU_SOURCE
#include "source/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/layers.h"
#include "source/reader.h"
#include "common/util.h"

/* ---- OCI layout directories ------------------------------------------------------------ */

struct dir_source {
    struct rmg_ondemand_source od; /* first: the callbacks get this pointer */
    int dirfd;                     /* the layout directory */
    size_t max_json;
};

/* A file of the layout, opened without following a symbolic link anywhere below the layout
 * directory: a layout from elsewhere must not make rummage read the host's files. -1 with a
 * message in err. */
static int dir_open(const struct dir_source *d, const char *name, char *err, size_t errlen)
{
    int fd = rmg_open_beneath(d->dirfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        rmg_fmt(err, errlen, "%s", errno == ELOOP || errno == ENOTDIR
                ? "a symbolic link (not followed in an OCI layout)" : strerror(errno));
    return fd;
}

static struct rmg_blob *dir_get_json(struct rmg_image_source *src, const char *name, char *err,
                                     size_t errlen)
{
    struct dir_source *d = (struct dir_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b && !b->json)
        rmg_fmt(err, errlen, "not a JSON document");
    if (b)
        return b->json ? b : NULL;
    char *data = NULL;
    size_t len = 0;
    int fd = dir_open(d, name, err, errlen);
    bool ok = fd >= 0 && rmg_read_fd(fd, name, d->max_json, &data, &len, err, errlen);
    struct stat st;
    if (!ok && fstatat(d->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        rmg_blobs_add(&src->blobs, name); /* there but unusable (too large, not a file): known */
    if (!ok)
        return NULL;
    if (!(b = rmg_blobs_add(&src->blobs, name))) {
        free(data);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    b->json = data;
    b->json_len = len;
    return b;
}

static struct rmg_blob *dir_get_layer(struct rmg_image_source *src, const char *name, char *err,
                                      size_t errlen)
{
    struct dir_source *d = (struct dir_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b && b->layer)
        return b;
    int fd = dir_open(d, name, err, errlen);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) {
            rmg_fmt(err, errlen, "not a regular file");
            close(fd);
        }
        return NULL;
    }
    struct rmg_reader *r = &d->od.reader->r;
    if (r->par) {
        /* Walked by a thread of its own (its bytes checked there, with the cache on). */
        char *digest = r->ctx->cache ? rmg_blob_name_digest(name) : NULL;
        rmg_layers_reserve(r->par);
        if ((b = rmg_layers_start_blob(r, name, (uint64_t)st.st_size, fd, true, digest, NULL,
                                       NULL)))
            return b;
        free(digest);
    }
    b = rmg_source_image_walk_fd(&d->od, name, fd, (uint64_t)st.st_size, true, err, errlen);
    close(fd);
    return b;
}

/* A blob of a directory is only named by its digest: its bytes are checked before its cached
 * result is used. */
static bool dir_verify(struct rmg_ondemand_source *src, const char *name, const char *digest)
{
    struct dir_source *d = (struct dir_source *)src;
    char err[256];
    int fd = dir_open(d, name, err, sizeof err);
    struct stat st;
    EVP_MD_CTX *md = rmg_hash_new();
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && md &&
              rmg_hash_rest_of_fd(fd, md) && rmg_hash_is(md, digest);
    EVP_MD_CTX_free(md);
    if (fd >= 0)
        close(fd);
    return ok;
}

enum rmg_status rmg_source_image_oci_dir(const struct rmg_scan_ctx *ctx, const char *target,
                                         const char *dir, const char *ref,
                                         struct rmg_results *out)
{
    struct dir_source d = {.od = {.base = {.get_json = dir_get_json, .get_layer = dir_get_layer},
                                  .verify = dir_verify},
                           .max_json = ctx->limits.max_json};
    d.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.dirfd < 0) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s: %s", dir, strerror(errno));
        return RMG_EINPUT;
    }
    enum rmg_status st = rmg_source_image_ondemand(ctx, target, &d.od, ref, out);
    close(d.dirfd);
    return st;
}
