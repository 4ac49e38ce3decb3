/* cache.h: the layer cache. What scanning one image layer found (each finding's rule,
 * fingerprint, redacted secret and place in the layer) and what the layer holds (its paths,
 * whiteouts and opaque markers), stored under the layer's blob digest and everything the
 * result depends on (rummage's version, the rule set's hash, the scan options and limits), so
 * a layer shared by many images is read and scanned once. No raw secret is ever stored.
 * See docs/images.md, "The layer cache". */
#ifndef RMG_CACHE_H
#define RMG_CACHE_H

#include "image/layer.h"
#include "image/origin.h"
#include "image/pathset.h"
#include "rummage.h"

struct rmg_cache;

/* A cache in directory `dir` (created, mode 0700, if missing) for results of `rules` with
 * `opts` and `limits` (all borrowed: they must outlive the cache). NULL with a message in err
 * if the directory cannot be created or used. */
struct rmg_cache *rmg_cache_open(const char *dir, const struct rmg_rules *rules,
                                 const struct rmg_scan_opts *opts,
                                 const struct rmg_limits *limits, char *err, size_t errlen);
void rmg_cache_free(struct rmg_cache *c);

/* The default directory: $XDG_CACHE_HOME/rummage, else $HOME/.cache/rummage, written into out.
 * False if neither variable is set. */
bool rmg_cache_default_dir(char *out, size_t cap);

/* Loads the entry of the layer blob with `digest` ("sha256:HEX"): its findings are appended to
 * out as the walker would have made them (location: target, path, line, column, offset,
 * content digests; layer_index = blob), *paths gets a new path set and *prov the layer's
 * provenance facts (package databases parsed again; caller frees with rmg_layer_prov_clear
 * and free). False when there is no valid entry (nothing is added then). */
bool rmg_cache_load(struct rmg_cache *c, const char *digest, const char *target, int blob,
                    struct rmg_results *out, struct rmg_pathset **paths,
                    struct rmg_layer_prov **prov);

/* Stores the findings of `lr` whose layer_index is `blob`, the path set and the layer's
 * provenance facts (may be NULL: none) as the entry of `digest`. A layer whose database files
 * were not all kept (prov->raw_incomplete) is not stored. The file is written aside and renamed
 * into place, so concurrent runs never see a partial entry. False on failure (the scan goes on
 * without it). */
bool rmg_cache_store(struct rmg_cache *c, const char *digest, const struct rmg_results *lr,
                     int blob, const struct rmg_pathset *paths,
                     const struct rmg_layer_prov *prov);

#endif
