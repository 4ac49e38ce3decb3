/* source_image.h: container images as scan sources: docker-save and OCI archives read as one
 * stream (a file, a pipe, stdin), and OCI layout directories. */
#ifndef RMG_SOURCE_IMAGE_H
#define RMG_SOURCE_IMAGE_H

#include "scan.h"

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

#endif
