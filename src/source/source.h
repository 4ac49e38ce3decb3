/* source.h: what every source (transport) is handed: the run's scan context. A source reads
 * its target and feeds files to the engine through the pool and the layer walker; the target
 * dispatch (target.h) picks the source. Sources include this header, never target.h, so that
 * the dispatch depends on the sources and not the reverse. */
#ifndef RMG_SOURCE_H
#define RMG_SOURCE_H

#include <stdbool.h>

#include "image/cache.h"
#include "image/layer.h"
#include "image/model.h"
#include "rummage.h"

/* What the user said about registries (the command line); all borrowed, read-only. */
struct rmg_registry_opts {
    const char *creds;      /* --creds USER:PASS, or NULL */
    const char *creds_file; /* --creds-file FILE: "USER:PASS" on its first line, or an
                               auth.json / Docker config.json; or NULL */
    bool tls_verify_off;    /* --tls-verify=false: certificates not checked, and a registry
                               that does not speak TLS is read over plain HTTP */
    const char *default_registry; /* --default-registry HOST[:PORT] (or RUMMAGE_DEFAULT_REGISTRY):
                               where Docker Hub names ("alpine", "docker.io/team/app") are
                               read from; NULL: such names are an error */
};

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
    const struct rmg_base_chain *base; /* --base: the base image's layers, or NULL */
    struct rmg_base_chain *collect_base; /* reading the base itself: its layers go here */
};

#endif
