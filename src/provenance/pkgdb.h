/* pkgdb.h: what the package-database files of one image layer say: which package installed a
 * file, and the digest the package recorded for it (the "origin" of a finding, DESIGN.md).
 *
 * The layer walker offers every regular file to rmg_pkgdb_wants and hands the ones it wants to
 * rmg_pkgdb_add_file; the resolve step asks rmg_pkgdb_lookup about the paths that have
 * findings. The parsers are pure: bytes in, entries out; no file system, no network.
 * Formats, limits and memory: docs/provenance.md. */
#ifndef RMG_PKGDB_H
#define RMG_PKGDB_H

#include <stdbool.h>
#include <stddef.h>

#include "rummage.h"
#include "provenance/claim.h"

struct rmg_pkgdb;

/* A new, empty db, or NULL on out of memory. Caller frees with rmg_pkgdb_free (NULL ok).
 * One db per layer; a db is not safe for concurrent writers, but once filled any number of
 * threads may call the const functions (lookup, claims, verify, dpkg_version, dpkg_state,
 * stats) on it: they only read. */
struct rmg_pkgdb *rmg_pkgdb_new(void);
void rmg_pkgdb_free(struct rmg_pkgdb *db);

/* Lowers the limits of db: file and directory entries (default RMG_PKGDB_MAX_ENTRIES) and
 * packages (default RMG_PKGDB_MAX_PACKAGES). 0, or a value above the current limit, keeps
 * that limit. For tests and constrained callers; call before adding files. */
#define RMG_PKGDB_MAX_ENTRIES 4000000u
#define RMG_PKGDB_MAX_PACKAGES 200000u
void rmg_pkgdb_set_limits(struct rmg_pkgdb *db, size_t max_entries, size_t max_packages);

/* Is this layer path a database file that rmg_pkgdb_add_file reads? path is absolute and
 * clean ("/var/lib/dpkg/status"), or a nested path whose archives are joined by "!"
 * ("/usr/share/java/x.jar!/META-INF/maven/g/a/pom.properties"; only Maven's pom.properties
 * is read inside an archive). Called for every regular file of every layer: no allocation,
 * a few compares on the basename and its parents. False for NULL. Pure; thread-safe. */
bool rmg_pkgdb_wants(const char *path);

/* Parses one database file, its whole bytes data[0..len) (borrowed; need not be
 * NUL-terminated), found at path in this db's layer, into db.
 * Returns RMG_OK; RMG_WARN when the file is malformed, hostile or past a limit (entries,
 * packages, line and field lengths): err says what (the first problem and how many more;
 * quoted input is escaped and cut short), and whatever was read validly stays in db;
 * RMG_SKIP when rmg_pkgdb_wants(path) is false (db unchanged); RMG_ENOMEM on allocation
 * failure (db keeps what was read before it, and stays usable and freeable). Work and memory are linear
 * in len and bounded by the limits. err may be NULL when errlen is 0. Not thread-safe for
 * one db; different dbs may be filled concurrently. */
enum rmg_status rmg_pkgdb_add_file(struct rmg_pkgdb *db, const char *path, const void *data,
                                   size_t len, char *err, size_t errlen);

/* What db says about the file at path (absolute, clean layer path). For a file inside an
 * archive pass the outermost archive's own path for dpkg, apk and python claims (their
 * digests are of that archive file), or the full nested path for maven (and npm, gem: a
 * directory claim covers what lies below it, nested paths included).
 * File entries come first (dpkg md5sums and conffiles, apk, rpm, python RECORD); "/usr/lib/x" and
 * "/lib/x" are one path for them (merged /usr: bin, sbin, lib, lib32, lib64, libx32), and a
 * dpkg entry whose package this db's status lists as not installed is no claim. Else the
 * nearest enclosing directory claim (npm package dir, gem dir, "X.jar!" of a pom.properties);
 * an npm package does not claim what lies under a node_modules directory below its own.
 * True and *out filled with the first claim (strings borrowed from db) when a package claims
 * path; false and *out zeroed otherwise. A path may have several claims (rmg_pkgdb_claims);
 * with the file's bytes at hand, rmg_pkgdb_verify picks the one that matches. Paths are keyed
 * by a 64-bit keyed hash: two different paths are confused with probability about n/2^64 per
 * lookup. Reads db only; thread-safe on a filled db. */
bool rmg_pkgdb_lookup(const struct rmg_pkgdb *db, const char *path, struct rmg_pkg_claim *out);

/* Every claim on path, as rmg_pkgdb_lookup orders them: several packages may list one path
 * (a file moved between packages, a dpkg diversion, "/lib/x" and "/usr/lib/x" from two
 * packages; at most 8 are kept per path). Fills out[0..min(result, max)) (out may be NULL
 * when max is 0) and returns the number of claims (0: unclaimed). Reads db only; thread-safe
 * on a filled db. */
size_t rmg_pkgdb_claims(const struct rmg_pkgdb *db, const char *path,
                        struct rmg_pkg_claim *out, size_t max);

/* The origin of the file at path whose bytes are data[0..len) (borrowed): VERIFIED when a
 * claim's digest matches them (*out: that claim), MODIFIED when path has claims with digests
 * and none matches (*out: the first of those; a changed package file or conffile is the
 * image's own), ATTRIBUTED when path is claimed by manifest only (*out: the first claim),
 * UNCLAIMED (*out zeroed). out may be NULL. Hashes data once per algorithm claimed. Reads db
 * only; thread-safe on a filled db. */
enum rmg_pkg_verdict rmg_pkgdb_verify(const struct rmg_pkgdb *db, const char *path,
                                      const void *data, size_t len, struct rmg_pkg_claim *out);

/* The version this db's dpkg status (status file or status.d) gives the installed package
 * name; NULL when the status here does not list name or lists it as not installed. md5sums
 * files live in the layer that installed a package, the status in every layer that changed
 * it: the resolve step asks the top-most layer that has a status. Borrowed from db. */
const char *rmg_pkgdb_dpkg_version(const struct rmg_pkgdb *db, const char *name);

/* What this db's dpkg status says of package name (a later layer that removed a package has
 * it as NOT_INSTALLED or no longer lists it). Reads db only; thread-safe on a filled db. */
enum rmg_pkg_state rmg_pkgdb_dpkg_state(const struct rmg_pkgdb *db, const char *name);

/* Counters for docs/performance.md: file and directory entries held, packages, and bytes of
 * memory held by db. Any pointer may be NULL. Reads db only. */
void rmg_pkgdb_stats(const struct rmg_pkgdb *db, size_t *entries, size_t *packages,
                     size_t *bytes);

#endif
