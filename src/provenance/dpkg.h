/* dpkg.h: dpkg's database: the status file (and distroless status.d stanzas) with its
 * conffiles, and the per-package md5sums files (deb-md5sums(5)). */
#ifndef RMG_DPKG_H
#define RMG_DPKG_H

#include <stdbool.h>
#include <stddef.h>

#include "rummage.h"
#include "provenance/text.h"

struct rmg_pkgdb;

/* Stanzas of /var/lib/dpkg/status (status_d false) or of one /var/lib/dpkg/status.d/NAME file
 * (status_d true: a stanza without a Status field counts as installed, as distroless writes
 * them). Each stanza sets its package's state and version; an installed one adds its
 * Conffiles as conffile entries with their md5. Problems go to w. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_dpkg_parse_status(struct rmg_pkgdb *db, const char *data, size_t len,
                                      bool status_d, struct rmg_pkgwarn *w);

/* NAME.md5sums or NAME:ARCH.md5sums (file name without directory: "libc6:amd64.md5sums"):
 * "<32 hex>  <path without leading slash>" lines, file entries of package NAME. Problems go
 * to w. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_dpkg_parse_md5sums(struct rmg_pkgdb *db, const char *file, size_t flen,
                                       const char *data, size_t len, struct rmg_pkgwarn *w);

#endif
