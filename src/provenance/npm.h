/* npm.h: an installed npm package's package.json under node_modules. */
#ifndef RMG_NPM_H
#define RMG_NPM_H

#include <stddef.h>

#include "rummage.h"
#include "provenance/text.h"

struct rmg_pkgdb;

/* path is ".../node_modules/NAME/package.json" or ".../node_modules/@SCOPE/NAME/package.json"
 * (clean, absolute). The package ("name" and "version" strings of the JSON; the directory's
 * name when "name" is missing) claims its directory by attribution. Invalid JSON or a bad
 * name is a warning and no claim. Problems go to w. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_npm_parse_package_json(struct rmg_pkgdb *db, const char *path, size_t plen,
                                           const char *data, size_t len,
                                           struct rmg_pkgwarn *w);

#endif
