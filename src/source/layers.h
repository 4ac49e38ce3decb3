/* layers.h: the layers of an image source's scan walked in threads of their own (the layer
 * runner), and the reader's start and end, which start and join those threads. The on-demand
 * source API that layers.c also holds is public: image.h.
 *
 * Threads. Everything here is called from the reader's thread (reader.h). A layer thread reads
 * only its own task: the bytes it was given, its own scanner, results and the layer's path set;
 * the reader takes each task's results over, in the order the layers were started, in
 * rmg_layers_finish. */
#ifndef RMG_SOURCE_LAYERS_H
#define RMG_SOURCE_LAYERS_H

#include <stdbool.h>
#include <stdint.h>

#include "source/reader.h"

/* Sets up r (zeroed first) to scan src (borrowed; its target is set to `target`) into tmp
 * (borrowed): a new pool (*pool) and scanner (*sc), both the caller's until rmg_reader_close,
 * and with more than one job a layer runner (r->par; NULL: layers are walked one at a time,
 * also when out of memory). False if the pool or the scanner could not be made (out of
 * memory; still end r with rmg_reader_close). */
bool rmg_reader_init(struct rmg_reader *r, const struct rmg_scan_ctx *ctx,
                     struct rmg_image_source *src, const char *target,
                     struct rmg_results *tmp, struct rmg_pool **pool,
                     struct rmg_scanner **sc);

/* Ends a source: waits for the layer threads and the pool (pool may be NULL: already
 * finished), resolves the planned images (set may be NULL), moves everything into out and
 * frees what the reader holds (pool, sc, set and src's blobs). Returns the worst of st and its
 * own. */
enum rmg_status rmg_reader_close(struct rmg_reader *r, struct rmg_pool *pool,
                                 struct rmg_scanner *sc, struct rmg_image_set *set,
                                 struct rmg_results *out, enum rmg_status st);

/* Waits until fewer than max layer threads run and takes a place among them. */
void rmg_layers_reserve(struct rmg_layer_runner *run);

/* With a place taken by rmg_layers_reserve (r->par set): starts walking layer blob `id` from
 * fd's bytes [off, off + len) in a thread of its own (then fd is closed when done if own_fd,
 * and digest is taken over); or, with `body`, runs body(arg) there instead (an on-demand
 * source's work for the layer). False if it cannot (out of memory, no thread; the place is
 * given back): the caller does the work itself and still owns fd, digest and arg. */
bool rmg_layers_start(struct rmg_reader *r, int id, int fd, bool own_fd, uint64_t off,
                      uint64_t len, char *digest, void (*body)(void *), void *arg);

/* With a place taken by rmg_layers_reserve: blob `name` of an on-demand source becomes a layer
 * walked by a thread of its own (rmg_layers_start's fd, own_fd, digest, body and arg, from
 * offset 0), and is returned; NULL when it cannot (the place is given back, the caller still
 * owns fd, digest and arg). */
struct rmg_blob *rmg_layers_start_blob(struct rmg_reader *r, const char *name, uint64_t size,
                                       int fd, bool own_fd, char *digest,
                                       void (*body)(void *), void *arg);

/* Waits for every layer task and takes their results over, in the order they started; then
 * r->par is NULL (nothing to do if it was). */
void rmg_layers_finish(struct rmg_reader *r);

#endif
