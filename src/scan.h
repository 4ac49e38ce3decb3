/* scan.h: runs a scan over the user's targets: decides what each target is and hands it to
 * its source. */
#ifndef RMG_SCAN_H
#define RMG_SCAN_H

#include "cache.h"
#include "layer.h"
#include "rummage.h"
#include "source_registry.h"

/* What a run has read so far, for the progress line: written by the reading thread only. */
struct rmg_progress {
    unsigned images;   /* image targets finished */
    unsigned targets;  /* targets in the run (0: unknown) */
    uint64_t layers;   /* layers started */
    uint64_t bytes;    /* compressed layer bytes started */
    double t0;         /* when the run began (rmg_now) */
};

struct rmg_scan_ctx {
    const struct rmg_rules *rules; /* compiled, borrowed */
    struct rmg_scan_opts opts;
    int jobs;
    struct rmg_limits limits;
    const char *platform;          /* --platform, or NULL for the host's */
    bool all_platforms;
    int progress;                  /* on stderr: 0 nothing, 1 a transient status line (a
                                      terminal), 2 a line per layer (--verbose) */
    struct rmg_progress *tally;    /* the run's counts (may be NULL); not shared by threads */
    struct rmg_cache *cache;       /* the layer cache (--cache-dir), or NULL */
    struct rmg_registry_opts registry; /* docker:// targets: --creds, --creds-file,
                                          --tls-verify */
};

/* Scans every target (a file, a directory, "-" for stdin, or an image: docker-archive:,
 * oci:, oci-archive:, dir:, or a bare path whose content is an image) into out; an error in one
 * target is recorded in out and the others are still scanned. Returns the worst status. */
enum rmg_status rmg_scan_targets(const struct rmg_scan_ctx *ctx, char *const *targets,
                                 size_t n_targets, struct rmg_results *out);

#endif
