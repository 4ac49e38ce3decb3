/* image.h: container images as scan sources: docker-save and OCI archives read as one
 * stream (a file, a pipe, stdin), and OCI layout directories. The contract for the rest of the
 * program; archive.c reads the streams, layout.c the layout directories, layers.c holds the
 * on-demand source API and the threads that walk several layers at once (layers.h). */
#ifndef RMG_SOURCE_IMAGE_H
#define RMG_SOURCE_IMAGE_H

#include "image/model.h"
#include "source/source.h"

/* Scans the image archive (docker-save, plain or compressed, or OCI archive) readable on fd,
 * of which `head` (borrowed, may be empty) was already read. `ref` selects one image (NULL:
 * all). With `fallback_path`, an archive that turns out not to be an image is scanned again
 * from that file as a plain archive of files. Findings and errors go to out. */
enum rmg_status rmg_source_image_stream(const struct rmg_scan_ctx *ctx, const char *target,
                                        int fd, const void *head, size_t head_len,
                                        const char *ref, const char *fallback_path,
                                        struct rmg_results *out);

/* Scans an OCI image layout directory (index.json, blobs/), reading only what the selected
 * images reference. */
enum rmg_status rmg_source_image_oci_dir(const struct rmg_scan_ctx *ctx, const char *target,
                                         const char *dir, const char *ref,
                                         struct rmg_results *out);

/* Reads up to cap bytes from fd (fewer only at end of input). -1 on error (errno set). */
ssize_t rmg_read_head(int fd, void *buf, size_t cap);

/* ---- on-demand sources of other modules (a registry) -------------------------------------
 * A source that fetches what the image model asks for through its own get_json/get_layer
 * callbacks embeds struct rmg_ondemand_source first in its own struct; its get_layer walks a
 * layer with rmg_source_image_walk_fd and reports its own errors with rmg_source_image_error.
 * Both are only valid while rmg_source_image_ondemand runs (they use its reader). */
struct rmg_source_reader; /* opaque: the running scan of one on-demand source */

struct rmg_ondemand_source {
    struct rmg_image_source base;     /* first: the callbacks get &base */
    struct rmg_source_reader *reader; /* set by rmg_source_image_ondemand, NULL outside it */
    /* Optional, with the layer cache on: are the bytes of blob `name` those of `digest`?
     * Asked before a cached result is used for it (a local directory, where a name is only a
     * claim). NULL: a cached digest is trusted without fetching the blob (a registry serves
     * blobs by digest, and fetching them is what the cache saves). */
    bool (*verify)(struct rmg_ondemand_source *src, const char *name, const char *digest);
};

/* Scans an on-demand source: plans the images `ref` selects (NULL: all) from its
 * "manifest.json" or "index.json" (blobs already in src->base.blobs are used as they are, the
 * rest is asked for), resolves them, and frees src->base.blobs. Findings and errors go to out;
 * returns the worst status. */
enum rmg_status rmg_source_image_ondemand(const struct rmg_scan_ctx *ctx, const char *target,
                                          struct rmg_ondemand_source *src, const char *ref,
                                          struct rmg_results *out);

/* For src's get_layer: walks the layer blob `name` read from fd (a tar in any compression,
 * by magic bytes) until the layer's end (fd is not read to its end, nor closed). `size` is the
 * blob's compressed size (0 if unknown). With `check` (and the layer cache on), fd is read to
 * its end and its bytes are checked against the digest of `name` (a mismatch is an error of
 * the scan; a match lets the layer be cached): a source that checks the bytes itself passes
 * false and sets the blob's `verified`. A layer already walked is not walked again. Returns
 * the blob, or NULL with a message in err (out of memory); a corrupt layer is an error of the
 * scan, not NULL. */
struct rmg_blob *rmg_source_image_walk_fd(struct rmg_ondemand_source *src, const char *name,
                                          int fd, uint64_t size, bool check, char *err,
                                          size_t errlen);

/* Records an error (or warning) of src's scan, about blob `path` (may be NULL). */
void rmg_source_image_error(struct rmg_ondemand_source *src, enum rmg_status st,
                            const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For a src that checks a layer's bytes itself: layer blob `name` (walked) has the digest its
 * name says. */
void rmg_source_image_verified(struct rmg_ondemand_source *src, const char *name);

/* ---- layers read at once -------------------------------------------------------------------
 * With more than one job, get_layer may hand the rest of a layer's work to a thread of its
 * own. rmg_source_image_reserve waits until fewer layer threads than the scan's limit run and
 * takes a place (false: one job, layers are read one at a time; nothing to give back); the
 * place is given back with rmg_source_image_unreserve, or used by
 * rmg_source_image_start_layer: it marks blob `name` as a layer (its walk pending), starts
 * body(arg) in a new thread and returns the blob for get_layer to return. In body,
 * rmg_source_image_walk_fd walks the layer into the task (the blob it returns only lives as
 * long as body), and rmg_source_image_error and rmg_source_image_verified record into it; the
 * scan takes the task's results over when every layer is done. body must not touch the
 * source's blobs (the planner adds to them meanwhile) nor anything else it shares with the
 * planner. NULL when it cannot (out of memory, no thread; the place is given back): the
 * caller does the work itself, and still owns arg. */
bool rmg_source_image_reserve(struct rmg_ondemand_source *src);
void rmg_source_image_unreserve(struct rmg_ondemand_source *src);
struct rmg_blob *rmg_source_image_start_layer(struct rmg_ondemand_source *src,
                                              const char *name, uint64_t size,
                                              void (*body)(void *arg), void *arg);

#endif
