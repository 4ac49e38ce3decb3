/* model.h: the image model. What an image source holds (blobs: layers walked, metadata kept),
 * which images it contains (docker-save manifest.json, OCI index.json, indexes and
 * platforms), their configs and history, and the resolve step that turns the walker's
 * per-blob findings into per-image findings with layer, history step and state (present,
 * deleted, overwritten), plus the findings in the image metadata itself (state config). */
#ifndef RMG_IMAGE_H
#define RMG_IMAGE_H

#include "image/layer.h"
#include "image/origin.h"
#include "image/pathset.h"
#include "rummage.h"

/* One named file of an image source (an entry of a docker-save or OCI archive, or a file of
 * an OCI layout). */
struct rmg_blob {
    char *name;                /* clean relative name: "manifest.json", "blobs/sha256/HEX" */
    char *link;                /* symlink or hardlink: the clean name it points to */
    char *json;                /* metadata kept in memory (a JSON document), or NULL */
    size_t json_len;
    bool layer;                /* walked as a layer; its findings carry layer_index = id */
    bool used;                 /* referenced by an image that is reported */
    bool referenced;           /* referenced by any manifest */
    int id;                    /* its index in the store */
    uint64_t size;
    struct rmg_pathset *paths; /* what the layer holds (layers only) */
    struct rmg_layer_prov *prov; /* its package databases and archive digests (layers only;
                                    NULL: none known, e.g. from the layer cache) */
    bool verified;             /* its bytes were read and have the digest its name says */
    bool cached;               /* its findings and paths came from the layer cache */
};

/* The blobs of one source. */
struct rmg_blobs {
    struct rmg_blob *v;
    size_t n, cap;
};

void rmg_blobs_free(struct rmg_blobs *b);
/* Adds a blob named `name` (copied) and returns it, or NULL on out of memory. */
struct rmg_blob *rmg_blobs_add(struct rmg_blobs *b, const char *name);
/* The digest a blob's name says its bytes have ("blobs/sha256/HEX", "HEX.tar" -> "sha256:HEX";
 * "HEX/layer.tar" is a docker-save id, not a digest), malloc'd, or NULL. */
char *rmg_blob_name_digest(const char *name);
/* b's provenance facts, made empty on first use (owned by the blob); NULL on out of memory
 * (the layer is then walked without provenance: its findings stay the builder's own). */
struct rmg_layer_prov *rmg_blob_prov(struct rmg_blob *b);
/* The blob named `name`, following links (a bounded number of hops), or NULL. */
struct rmg_blob *rmg_blobs_find(const struct rmg_blobs *b, const char *name);

/* How a source gives the resolver what it asks for. An archive read in one pass has
 * everything already; an OCI layout directory reads and walks on demand. */
struct rmg_image_source {
    struct rmg_blobs blobs;
    const char *target;            /* as the user typed it, borrowed */
    /* Loads the JSON blob `name` (NULL with a message in err if it is missing or too big). */
    struct rmg_blob *(*get_json)(struct rmg_image_source *src, const char *name, char *err,
                                 size_t errlen);
    /* The layer blob `name`, walked (NULL with a message if missing). */
    struct rmg_blob *(*get_layer)(struct rmg_image_source *src, const char *name, char *err,
                                  size_t errlen);
};

/* What the user asked for. */
struct rmg_image_select {
    const char *ref;        /* "NAME:TAG", "@N", an OCI ref name, or NULL for all */
    const char *platform;   /* "os/arch[/variant]"; NULL = the host's */
    bool all_platforms;
};

/* The host's platform, as images name it ("linux/amd64", "linux/arm64/v8"). */
const char *rmg_host_platform(void);

/* The images a source holds, as selected: built by rmg_image_plan, used by rmg_image_resolve. */
struct rmg_image_set;

/* Finds the images of `src` selected by `sel`: reads manifest.json or index.json (indexes
 * followed, platforms chosen), each image's manifest and config, and asks the source for each
 * layer (an on-demand source walks it now). Errors go to `out`; *set is NULL on out of
 * memory, and when manifest.json / index.json is missing, unreadable or malformed (with an
 * error in `out`; the source then reports the layers' findings under their blob names).
 * Returns the worst status. */
enum rmg_status rmg_image_plan(struct rmg_image_source *src, const struct rmg_image_select *sel,
                               struct rmg_results *out, struct rmg_image_set **set);

/* The layers of a base image (--base): its name as the user gave it and its layers'
 * uncompressed digests, bottom first. A finding in layer j of an image whose diff_ids 0..j are
 * the base's 0..j is inherited from the base. Owned by whoever filled it. */
struct rmg_base_chain {
    char *name;
    char **diff_ids;
    size_t n;
};
void rmg_base_chain_clear(struct rmg_base_chain *b);

/* What the resolve step is told besides the images; all optional (NULL). */
struct rmg_resolve_opts {
    const struct rmg_base_chain *base; /* findings of inherited layers: origin base */
    struct rmg_base_chain *collect;    /* filled with the first planned image's layers, if
                                          still empty (how --base reads the base image) */
};

/* Scans the metadata of every planned image into `out` (state config: Env, Labels, Cmd,
 * Entrypoint, OnBuild, history, annotations) with `sc`, then attributes the blob-tagged
 * findings of `layer_results` (emptied) to every image layer holding that blob: layer index,
 * digest, diff_id, history step, platform, image name, and the state (present, deleted or
 * overwritten by a later layer). Returns the worst status. */
enum rmg_status rmg_image_resolve(struct rmg_image_set *set, struct rmg_image_source *src,
                                  struct rmg_scanner *sc, struct rmg_results *layer_results,
                                  const struct rmg_resolve_opts *ro, struct rmg_results *out);
void rmg_image_set_free(struct rmg_image_set *set);

/* True if the source holds an image (a manifest.json or an index.json). */
bool rmg_image_found(const struct rmg_image_source *src);

#endif
