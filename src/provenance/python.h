/* python.h: an installed Python distribution's RECORD (PEP 376, PEP 627). */
#ifndef RMG_PYTHON_H
#define RMG_PYTHON_H

#include <stddef.h>

#include "rummage.h"
#include "provenance/text.h"

struct rmg_pkgdb;

/* path is the RECORD's own clean absolute path, ".../NAME-VERSION.dist-info/RECORD" (the
 * package's name and version come from the directory's name, split at its last '-'). The
 * rows are CSV "path,hash,size" (fields may be quoted); a path is relative to the directory
 * holding the .dist-info directory ("../" climbs; an absolute path, or one that climbs above
 * "/", is rejected), the hash "sha256=<URL-safe base64>" a verified entry, an empty hash (or
 * another algorithm) an attribution entry. Problems go to w. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_python_parse_record(struct rmg_pkgdb *db, const char *path, size_t plen,
                                        const char *data, size_t len, struct rmg_pkgwarn *w);

#endif
