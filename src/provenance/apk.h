/* apk.h: Alpine's installed database, /lib/apk/db/installed. */
#ifndef RMG_APK_H
#define RMG_APK_H

#include <stddef.h>

#include "rummage.h"
#include "provenance/text.h"

struct rmg_pkgdb;

/* Records separated by blank lines of "K:value" lines: P name, V version, F directory (for
 * the R lines after it), R file, Z its digest (after its R: "Q1" + base64 SHA-1, "Q2" +
 * base64 SHA-256, or 32 hex digits of MD5). A file without Z is an attribution entry.
 * Problems go to w. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_apk_parse_installed(struct rmg_pkgdb *db, const char *data, size_t len,
                                        struct rmg_pkgwarn *w);

#endif
