/* rpm.h: the rpm database of RPM-based images (Fedora, RHEL/UBI, Rocky, openSUSE, Amazon
 * Linux): rpmdb.sqlite, read from memory. */
#ifndef RMG_RPM_H
#define RMG_RPM_H

#include <stddef.h>

#include "rummage.h"
#include "provenance/text.h"

struct rmg_pkgdb;

/* rpm >= 4.16's SQLite database (/var/lib/rpm/rpmdb.sqlite, /usr/lib/sysimage/rpm/...), its
 * whole bytes data[0..len) (borrowed). Each row of its Packages table is an rpm header
 * (parsed by librpm's headerImport): the package's NAME and [EPOCH:]VERSION-RELEASE, and per
 * installed regular file (not %ghost) its path (DIRNAMES[DIRINDEXES] + BASENAMES) with its
 * FILEDIGESTS entry (FILEDIGESTALGO md5, sha1 or sha256: a file entry, a conffile when
 * FILEFLAGS has RPMFILE_CONFIG; an empty digest: an attribution entry). The bytes are copied
 * into an in-memory, read-only SQLite connection (defensive, untrusted schema, bounded
 * lengths and work); nothing touches the file system. A database that SQLite or librpm
 * rejects, a damaged header, or a package past the limits is a warning to w, and what was
 * read stays. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_rpm_parse_sqlite(struct rmg_pkgdb *db, const char *data, size_t len,
                                     struct rmg_pkgwarn *w);

#endif
