/* origin.h: whose secret it is. What provenance keeps of one layer while it is walked (its
 * package-database files, parsed, and the digests of the archives opened inside it), and the
 * resolve-time step that gives each finding of an image its origin from the databases of its
 * own layer and the layers below (docs/provenance.md). */
#ifndef RMG_IMAGE_ORIGIN_H
#define RMG_IMAGE_ORIGIN_H

#include "provenance/pkgdb.h"
#include "rummage.h"

/* A file of the layer that was opened as an archive, with the digests of its own bytes: the
 * finding of an entry inside it is checked against the package that installed the archive.
 * Nodes never move once added: a pool worker may fill `d` of a node while the walk adds
 * others (nothing reads `d` before the pool has finished). */
struct rmg_archive_digest {
    char *path; /* the layer path, owned */
    struct rmg_content_digest d; /* d.set false: not (yet) hashed */
    struct rmg_archive_digest *next;
};

/* A package-database file of the layer as it was read (kept for the layer cache, which
 * stores the layer's facts with its findings and parses them again when it is used). */
struct rmg_db_file {
    char *path;
    unsigned char *data;
    size_t len;
};

/* One layer's provenance facts, filled by the layer's own walk (one thread) and read-only
 * once it is done. Zero-initialised is empty. */
struct rmg_layer_prov {
    struct rmg_pkgdb *pkgdb; /* NULL until the layer holds a database file */
    struct rmg_archive_digest *archives; /* newest first */
    size_t n_archives;
    struct rmg_db_file *files; /* the database files read, up to RMG_PROV_MAX_RAW bytes */
    size_t n_files, cap_files, raw_bytes;
    bool raw_incomplete;       /* a file was parsed but not kept: the layer is not cached */
};
#define RMG_PROV_MAX_RAW (128u << 20)

/* Frees what p holds and leaves it empty; p may be NULL. */
void rmg_layer_prov_clear(struct rmg_layer_prov *p);

/* Reads one package-database file of the layer (rmg_pkgdb_wants said yes; bytes borrowed, and
 * copied into p->files while they fit). A malformed database is RMG_WARN with the reason in
 * err: what could not be read changes no origin. */
enum rmg_status rmg_layer_prov_add_db(struct rmg_layer_prov *p, const char *path,
                                      const void *data, size_t len, char *err, size_t errlen);

/* Records an archive file of the layer (path copied) with its digests d, or with none yet (d
 * NULL: whoever hashes it fills the node's d later). Returns the node (owned by p), or NULL: at
 * most RMG_PROV_MAX_ARCHIVES per layer, past which findings inside further archives stay the
 * builder's own (fail closed), and on out of memory. */
#define RMG_PROV_MAX_ARCHIVES 200000u
struct rmg_archive_digest *rmg_layer_prov_add_archive(struct rmg_layer_prov *p, const char *path,
                                                      const struct rmg_content_digest *d);

/* Settles f->prov for a finding of layer n-1 of an image: chain[0..n) are that image's layers
 * 0..n-1 (an entry may be NULL: a layer with no facts). The package database of the finding's
 * own layer is asked first, then each layer below: a file is verified against the database as
 * it stood when the file was written. Byte-identical to what the package recorded: package;
 * different: modified; claimed by a manifest only: attributed; else own. A file whose digest
 * is unknown (not hashed) against a package's digest stays own. */
void rmg_origin_settle(const struct rmg_layer_prov *const *chain, size_t n,
                       struct rmg_finding *f);

/* After every finding of one image is settled (v[0..n)): a compiled Python file
 * (DIR/__pycache__/NAME.*.pyc) whose secret is also in its source DIR/NAME.py, verified as a
 * package's, takes that origin: Debian compiles these at install time, so no database lists
 * them, and pip's RECORD lists them without a digest; the secret in them is the package's. */
void rmg_origin_settle_compiled(struct rmg_finding *v, size_t n);

#endif
