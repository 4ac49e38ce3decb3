/* target.h: runs a scan over the user's targets: decides what each target is and hands it to
 * its source. */
#ifndef RMG_SOURCE_TARGET_H
#define RMG_SOURCE_TARGET_H

#include "source/source.h"

/* Scans every target (a file, a directory, "-" for stdin, or an image: docker-archive:,
 * oci:, oci-archive:, dir:, or a bare path whose content is an image) into out; an error in one
 * target is recorded in out and the others are still scanned. Returns the worst status. */
enum rmg_status rmg_scan_targets(const struct rmg_scan_ctx *ctx, char *const *targets,
                                 size_t n_targets, struct rmg_results *out);

#endif
