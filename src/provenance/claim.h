/* claim.h: what a package database says about one file: the package managers, the digest
 * algorithms and the claim a lookup returns (included by provenance/pkgdb.h, the API). */
#ifndef RMG_CLAIM_H
#define RMG_CLAIM_H

#include <stdbool.h>
#include <stddef.h>

enum rmg_pkg_manager {
    RMG_PKG_DPKG,
    RMG_PKG_APK,
    RMG_PKG_PYTHON,
    RMG_PKG_NPM,
    RMG_PKG_GEM,
    RMG_PKG_MAVEN,
    RMG_PKG_GO,
    RMG_PKG_RPM
};

/* "dpkg", "apk", "python", "npm", "gem", "maven", "go", "rpm"; "unknown" for a value outside the
 * enum. Static string; thread-safe. */
const char *rmg_pkg_manager_name(enum rmg_pkg_manager m);

/* What a dpkg status says of a package (rmg_pkgdb_dpkg_state). */
enum rmg_pkg_state {
    RMG_PKG_STATE_UNKNOWN = 0,   /* the status does not list the package */
    RMG_PKG_STATE_INSTALLED,     /* Status word 3: installed, unpacked, half-configured,
                                  * triggers-awaiting or triggers-pending */
    RMG_PKG_STATE_NOT_INSTALLED  /* not-installed, config-files, half-installed */
};

enum rmg_digest_alg { RMG_DIGEST_NONE = 0, RMG_DIGEST_MD5, RMG_DIGEST_SHA1, RMG_DIGEST_SHA256 };

/* "none", "md5", "sha1", "sha256". Static string; thread-safe. */
const char *rmg_digest_alg_name(enum rmg_digest_alg alg);
/* Bytes of alg's digest: 0 (NONE), 16, 20, 32. Thread-safe. */
size_t rmg_digest_len(enum rmg_digest_alg alg);

struct rmg_pkg_claim {
    enum rmg_pkg_manager manager;
    const char *name;          /* borrowed from the db; valid while the db lives */
    const char *version;       /* may be NULL when this db does not know it */
    enum rmg_digest_alg alg;   /* RMG_DIGEST_NONE: claimed by manifest only (attribution) */
    unsigned char digest[32];  /* alg's digest of the file as the package installed it */
    bool conffile;             /* dpkg conffile, rpm %config file */
};

/* What a file's bytes are, against the claims on its path (rmg_pkgdb_verify). */
enum rmg_pkg_verdict {
    RMG_PKG_UNCLAIMED = 0, /* no package claims the path */
    RMG_PKG_ATTRIBUTED,    /* claimed by manifest only, no digest to check */
    RMG_PKG_VERIFIED,      /* byte-identical to what the package installed */
    RMG_PKG_MODIFIED       /* claimed with a digest, but the bytes differ */
};

/* "unclaimed", "attributed", "verified", "modified". Static string; thread-safe. */
const char *rmg_pkg_verdict_name(enum rmg_pkg_verdict v);

/* alg's digest of data[0..len) into out (rmg_digest_len(alg) bytes). False for NONE or when
 * OpenSSL cannot compute it. Thread-safe. */
bool rmg_digest_compute(enum rmg_digest_alg alg, const void *data, size_t len,
                        unsigned char out[32]);

/* True when the claim carries a digest (alg != NONE) and data[0..len) has exactly that
 * digest: the file is byte-identical to what the package installed ("verified"). False for an
 * attribution claim, a mismatch, or when the digest cannot be computed (the caller treats the
 * file as not verified: fail closed). Reads data only; thread-safe. */
bool rmg_pkg_claim_matches(const struct rmg_pkg_claim *c, const void *data, size_t len);

#endif
