/* layer.h: the layer walker. Reads one tar stream (an image layer, or an archive inside a
 * layer) entry by entry: each regular file's bytes go to the scanners, each path and whiteout
 * into the layer's path set, archives inside it are opened up to a depth. Nothing touches the
 * disk. */
#ifndef RMG_LAYER_H
#define RMG_LAYER_H

#include <archive.h>
#include <stdint.h>

#include "image/pathset.h"
#include "engine/pool.h"
#include "rummage.h"

/* Limits on everything an image controls. A limit hit is a warning and the scan goes on. */
struct rmg_limits {
    uint64_t max_entries;     /* entries of one archive (a layer or a nested archive) */
    size_t max_path;          /* bytes of an entry's path */
    uint64_t max_layer_bytes; /* decompressed bytes scanned from one layer, nested included */
    uint64_t max_ratio;       /* decompressed / compressed size of one archive ... */
    uint64_t ratio_floor;     /* ... checked once it has produced this many bytes (bombs) */
    size_t max_zip_bytes;     /* a nested zip is read in memory (zip needs seeking): at most */
    int max_depth;            /* archives inside archives opened: 0 none, 2 default */
    size_t max_json;          /* bytes of a manifest, index or config */
    size_t max_json_total;    /* bytes of all the JSON documents kept from one image archive */
    uint64_t max_blobs;       /* entries of an image archive */
};

void rmg_limits_default(struct rmg_limits *l);

/* Where a walk sends its work; all borrowed. */
struct rmg_walker {
    const struct rmg_limits *limits;
    struct rmg_pool *pool;    /* small files are queued here (scanned by its workers) */
    struct rmg_scanner *sc;   /* large files stream through this one, in the caller's thread */
    struct rmg_results *out;  /* errors, and the findings and stats of sc */
    const char *target;       /* names the target in messages */
};

/* A new reader for a tar stream in any of the compressions images use (gzip, zstd, xz,
 * bzip2, none), told apart by magic bytes, never by a media type. With `raw`, the reader
 * instead reads a compressed stream that is not a tar as one file (ARCHIVE_FORMAT_RAW).
 * NULL on out of memory. Caller frees with archive_read_free. */
struct archive *rmg_layer_reader_new(bool raw);

/* Is this the start of a tar archive, plain or compressed? For a compressed stream the start
 * is decompressed and must hold a real tar header (a block of zeros is not one). */
bool rmg_layer_is_tar(const void *head, size_t len);

/* Reading the current entry of `parent` as the input of another archive: the bytes already
 * taken from it (`head`, borrowed) come first. */
struct rmg_entry_stream {
    struct archive *parent;
    const void *head;
    size_t head_len;
    bool head_done;
    /* Optional: sees every byte the child reads, head included (to hash the entry). */
    void (*tap)(void *ud, const void *data, size_t len);
    void *tap_ud;
    /* Optional: the compressed bytes the parent has read from its own input so far (a counter
     * its reader keeps) and the limits: the child's reads fail ("archive bomb") once the
     * parent's output passes rmg_layer_is_bomb, so a bomb in the stream the entry comes from
     * is bounded too. */
    const uint64_t *parent_in;
    const struct rmg_limits *limits;
};
/* Opens child (a reader from rmg_layer_reader_new) on the stream; libarchive status. */
int rmg_entry_stream_open(struct archive *child, struct rmg_entry_stream *s);

/* Has archive `a`, which has read `in` compressed bytes from its input, become a bomb: more
 * than limits->max_ratio times that as output, past limits->ratio_floor bytes of it? */
bool rmg_layer_is_bomb(struct archive *a, uint64_t in, const struct rmg_limits *l);

/* Reads and drops the rest of the current entry of `a`, which has read *in compressed bytes
 * (in may be NULL: no check), instead of letting libarchive skip it: a skip decompresses just
 * the same, with nothing counting. 1 at the entry's end, 0 if `a` is a bomb
 * (rmg_layer_is_bomb; the rest is left unread), -1 on a read error. */
int rmg_layer_drain(struct archive *a, const uint64_t *in, const struct rmg_limits *l);

struct rmg_layer_prov;

/* Walks the opened archive `a` as layer blob `blob_id`: findings carry layer_index = blob_id
 * (the image code attributes them to layers later), every path and whiteout is added to
 * `paths` (may be NULL), and provenance facts to `prov` (may be NULL: image/origin.h): the
 * package-database files it holds, parsed; the digests of the files opened as archives and of
 * the big files with findings (small ones are hashed by the pool). `name` names the layer in messages; `compressed` is its size in bytes
 * (0 if unknown), for the bomb ratio. A corrupt archive is an error for this layer only
 * (what was read before it is kept). Returns the worst status. */
enum rmg_status rmg_layer_walk(const struct rmg_walker *w, struct archive *a, const char *name,
                               int blob_id, uint64_t compressed, struct rmg_pathset *paths,
                               struct rmg_layer_prov *prov);

/* The path of a tar entry as an absolute, clean path: "./a//b/" -> "/a/b" ("." and empty
 * components dropped, ".." kept as text). Returns false if it does not fit in cap. */
bool rmg_layer_clean_path(const char *name, char *out, size_t cap);

#endif
