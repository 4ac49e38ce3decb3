/* store.h: the per-layer store behind provenance/pkgdb.h: packages, file entries with their
 * digests, directory claims, and the lookup. Internal to src/provenance/: the parsers add to
 * it, pkgdb.c answers the API from it.
 *
 * Paths given to the store are absolute and clean (the parsers normalise them with
 * rmg_pkgpath_join); the store copies nothing of them but a 64-bit keyed hash. */
#ifndef RMG_STORE_H
#define RMG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rummage.h"
#include "provenance/claim.h"

struct rmg_pkgdb;

#define RMG_STORE_NO_PKG UINT32_MAX

/* Longest path, package name and version the store takes (bytes). */
#define RMG_PKG_MAX_PATH 4096u
#define RMG_PKG_MAX_NAME 512u
#define RMG_PKG_MAX_VERSION 256u

/* A new, empty store holding at most max_entries file and directory entries and
 * max_packages packages (the package limit must stay below 2^24); NULL on out of memory. */
struct rmg_pkgdb *rmg_store_new(size_t max_entries, size_t max_packages);
void rmg_store_free(struct rmg_pkgdb *db);
/* Lowers the limits (0, or a value above the current limit, keeps it). */
void rmg_store_set_limits(struct rmg_pkgdb *db, size_t max_entries, size_t max_packages);

/* The package (manager, name, version), added if new (strings copied); dpkg packages are
 * keyed by name alone, their version and state come from rmg_store_dpkg_status. version may
 * be NULL. *idx gets its index. RMG_OK, RMG_SKIP past the package limit (nothing added),
 * RMG_ENOMEM. The caller has checked the lengths (RMG_PKG_MAX_NAME, _VERSION). */
enum rmg_status rmg_store_package(struct rmg_pkgdb *db, enum rmg_pkg_manager m,
                                  const char *name, size_t nlen, const char *version,
                                  size_t vlen, uint32_t *idx);
/* The dpkg package name (bare, no ":arch"), or RMG_STORE_NO_PKG. */
uint32_t rmg_store_dpkg_find(const struct rmg_pkgdb *db, const char *name, size_t nlen);
/* What a dpkg status stanza says of package idx: an installed stanza wins over one that is
 * not (multi-arch: one status stanza per architecture), and the first installed version
 * stays. RMG_OK or RMG_ENOMEM. */
enum rmg_status rmg_store_dpkg_status(struct rmg_pkgdb *db, uint32_t idx, bool installed,
                                      const char *version, size_t vlen);
/* UNKNOWN for a package no status stanza described. */
enum rmg_pkg_state rmg_store_pkg_state(const struct rmg_pkgdb *db, uint32_t idx);
const char *rmg_store_pkg_version(const struct rmg_pkgdb *db, uint32_t idx);

/* A file entry: package pkg installed path[0..plen) with alg's digest (NULL for NONE).
 * Several packages may claim one path (a file that moved between packages, a dpkg diversion,
 * /lib/x and /usr/lib/x from two packages): up to RMG_STORE_MAX_CLAIMS are kept, in the order
 * added; later ones are dropped. Per package the first entry for a path stays, except that a
 * dpkg conffile entry replaces it (it sets the conffile flag).
 * RMG_OK, RMG_SKIP past the entry limit, RMG_ENOMEM. */
#define RMG_STORE_MAX_CLAIMS 8
enum rmg_status rmg_store_file(struct rmg_pkgdb *db, uint32_t pkg, const char *path,
                               size_t plen, enum rmg_digest_alg alg,
                               const unsigned char *digest, bool conffile);
/* A directory claim: package pkg claims what lies below dir[0..dlen) (no trailing '/';
 * "/a/x.jar!" for an archive). The first claim for a directory stays. Counts against the
 * entry limit. RMG_OK, RMG_SKIP, RMG_ENOMEM. */
enum rmg_status rmg_store_dir(struct rmg_pkgdb *db, uint32_t pkg, const char *dir,
                              size_t dlen);

/* The claims on path (see rmg_pkgdb_lookup): the file entries of packages not known to be
 * uninstalled, in the order added; else the nearest directory claim (one, alg NONE). Fills
 * out[0..min(result, max)) (strings borrowed from db) and returns how many claims there are. */
size_t rmg_store_claims(const struct rmg_pkgdb *db, const char *path,
                        struct rmg_pkg_claim *out, size_t max);
void rmg_store_stats(const struct rmg_pkgdb *db, size_t *entries, size_t *packages,
                     size_t *bytes);

#endif
