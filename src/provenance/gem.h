/* gem.h: an installed Ruby gem's specification file. */
#ifndef RMG_GEM_H
#define RMG_GEM_H

#include <stddef.h>

#include "rummage.h"
#include "provenance/text.h"

struct rmg_pkgdb;

/* path is ".../specifications/NAME-VERSION.gemspec" (clean, absolute): the gem claims
 * ".../gems/NAME-VERSION/" by attribution. Name and version come from the file name (the
 * version starts after the last '-' that a digit follows, "nokogiri-1.15.4-x86_64-linux" is
 * nokogiri 1.15.4-x86_64-linux); the file's content (Ruby) is not read. Problems go to w.
 * RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_gem_parse_spec(struct rmg_pkgdb *db, const char *path, size_t plen,
                                   struct rmg_pkgwarn *w);

#endif
