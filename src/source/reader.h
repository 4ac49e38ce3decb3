/* reader.h: the state of one image source's scan (struct rmg_reader), shared by the files that
 * read image sources (archive.c, layout.c, layers.c), and the tools their layer walks share:
 * reading a file descriptor with what was already read first, checking a blob's bytes against
 * the digest its name says, taking a layer from the layer cache and storing one in it.
 *
 * Ownership and threads. A reader lives in the entry point of one scan
 * (rmg_source_image_stream, rmg_source_image_ondemand), which sets it up with rmg_reader_init
 * and ends it with rmg_reader_close (layers.h: they start and join its layer threads). The
 * reader, what it points to and every rmg_reader_* function here belong to the thread that
 * plans the images (the reader's thread); a layer thread touches none of it (layers.h).
 * rmg_fd_read and the rmg_hash_* functions keep no state of their own: safe in any thread, each
 * on its own stream or hash. */
#ifndef RMG_SOURCE_READER_H
#define RMG_SOURCE_READER_H

#include <archive.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#include "source/image.h"

/* Bytes read at once: a stream's read buffer (struct rmg_fd_stream), a layer thread's. */
#define RMG_READ_SIZE (256u << 10)

struct rmg_layer_runner; /* layers.h: the threads walking layers; opaque here */

struct rmg_reader {
    const struct rmg_scan_ctx *ctx;
    struct rmg_image_source *src;
    struct rmg_walker walker;
    struct rmg_results *tmp; /* the reader's own errors and streamed findings */
    enum rmg_status worst;
    int layers_read;
    uint64_t layer_bytes;
    const uint64_t *outer_in; /* bytes an archive source has read (its bomb ratio), or NULL */
    size_t json_bytes;        /* JSON documents kept, in all */
    bool json_full;           /* ... up to the limit: no more are */
    bool meta_unread;         /* manifest.json or index.json was too large to keep */
    struct rmg_layer_runner *par; /* layers walked in threads of their own, or NULL: in this one */
    bool seekable;            /* a stream's entries can be read again with pread on ... */
    int walker_fd;            /* ... this fd, */
    uint64_t file_size;       /* ... of this size */
};

/* What image.h keeps opaque: the running scan of one on-demand source. */
struct rmg_source_reader {
    struct rmg_reader r;
    /* the source's own get_layer (the cache's stands in front of it) */
    struct rmg_blob *(*get_layer)(struct rmg_image_source *src, const char *name, char *err,
                                  size_t errlen);
};

/* ---- reading a file descriptor, with what was already read first ------------------------ */

struct rmg_fd_stream {
    int fd;
    const void *head;
    size_t head_len;
    bool head_done;
    unsigned char *buf;
    EVP_MD_CTX *md; /* optional: hashes what is read from fd */
    uint64_t in;    /* bytes read, the head included (for the bomb ratio) */
};

/* libarchive's read callback on a struct rmg_fd_stream (ud; borrowed, as are its head, its
 * buf of RMG_READ_SIZE bytes and its md): the head first, then fd, hashed into md if set. */
la_ssize_t rmg_fd_read(struct archive *a, void *ud, const void **out);

/* ---- checking a blob's bytes against the digest its name says --------------------------- */

/* A new SHA-256 hash, or NULL (out of memory). Caller frees with EVP_MD_CTX_free. */
EVP_MD_CTX *rmg_hash_new(void);

/* Ends md (not freed): does it give `digest` ("sha256:HEX")? */
bool rmg_hash_is(EVP_MD_CTX *md, const char *digest);

/* Hashes the rest of fd into md. False on a read error. */
bool rmg_hash_rest_of_fd(int fd, EVP_MD_CTX *md);

/* The error of a walked layer whose bytes turned out not to have its digest. */
extern const char rmg_not_its_digest[];

/* ---- the reader's own records (the reader's thread only) -------------------------------- */

/* Records an error (or warning) of the scan, about `path` (may be NULL), and keeps the worst
 * status. */
void rmg_reader_error(struct rmg_reader *r, enum rmg_status st, const char *path,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Says which layer is being read: a line per layer with --verbose, or one status line that
 * rewrites itself on a terminal (cleared when the target is done) with the run's images,
 * layers, bytes and rate. */
void rmg_reader_progress(struct rmg_reader *r, const char *name, uint64_t size, bool cached);

/* The target is done: clears the status line, and counts an image if `image`. */
void rmg_reader_progress_done(const struct rmg_reader *r, bool image);

/* A layer walked with its bytes hashed into md (all of them, read to the end; md is ended, not
 * freed): it is verified (and may be cached) if they have `digest`, else that is an error of
 * the scan. */
void rmg_reader_settle_digest(struct rmg_reader *r, int id, EVP_MD_CTX *md,
                              const char *digest);

/* Blob `id` is a layer whose findings (added to r->tmp; `found` is emptied), paths and
 * provenance facts (both taken over; prov may be NULL) came from the cache. */
void rmg_reader_take_cached(struct rmg_reader *r, int id, struct rmg_results *found,
                            struct rmg_pathset *paths, struct rmg_layer_prov *prov);

/* Stores every layer walked now (not from the cache) whose bytes were checked against its
 * digest and whose walk was clean (lr: the scan's results, borrowed). */
void rmg_reader_store_layers(const struct rmg_reader *r, const struct rmg_results *lr);

#endif
