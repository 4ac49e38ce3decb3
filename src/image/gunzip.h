/* gunzip.h: opening a libarchive reader on a stream that may be gzip, inflated with ISA-L's
 * igzip when rummage is built with it (two to three times zlib's speed on image layers), else
 * by libarchive's own zlib filter. */
#ifndef RMG_GUNZIP_H
#define RMG_GUNZIP_H

#include <archive.h>
#include <stdbool.h>

/* Opens `a` on the byte stream that read_cb(a, ud, ...) gives (libarchive's read callback
 * contract). A stream that starts with the gzip magic is inflated here, member after member,
 * and `a` reads the bytes inside; any other stream passes through untouched to `a`'s own
 * filters. A damaged or truncated gzip stream is a read error of `a` ("gzip: ..."). ud is
 * borrowed; what this adds is freed when `a` is closed. Returns libarchive's status. */
int rmg_archive_open_inflating(struct archive *a, void *ud, archive_read_callback *read_cb);

/* True when built with ISA-L (otherwise rmg_archive_open_inflating is archive_read_open). */
bool rmg_have_isal(void);

#endif
