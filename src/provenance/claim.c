/* claim.c: names of the package managers and digest algorithms, and checking a file's bytes
 * against a claim's digest (OpenSSL EVP; MD5 and SHA-1 are used only to compare with what a
 * package database recorded, never to protect anything). */
#include "provenance/claim.h"

#include <openssl/evp.h>
#include <string.h>

const char *rmg_pkg_manager_name(enum rmg_pkg_manager m)
{
    switch (m) {
    case RMG_PKG_DPKG: return "dpkg";
    case RMG_PKG_APK: return "apk";
    case RMG_PKG_PYTHON: return "python";
    case RMG_PKG_NPM: return "npm";
    case RMG_PKG_GEM: return "gem";
    case RMG_PKG_MAVEN: return "maven";
    case RMG_PKG_GO: return "go";
    case RMG_PKG_RPM: return "rpm";
    }
    return "unknown";
}

const char *rmg_digest_alg_name(enum rmg_digest_alg alg)
{
    switch (alg) {
    case RMG_DIGEST_NONE: return "none";
    case RMG_DIGEST_MD5: return "md5";
    case RMG_DIGEST_SHA1: return "sha1";
    case RMG_DIGEST_SHA256: return "sha256";
    }
    return "unknown";
}

const char *rmg_pkg_verdict_name(enum rmg_pkg_verdict v)
{
    switch (v) {
    case RMG_PKG_UNCLAIMED: return "unclaimed";
    case RMG_PKG_ATTRIBUTED: return "attributed";
    case RMG_PKG_VERIFIED: return "verified";
    case RMG_PKG_MODIFIED: return "modified";
    }
    return "unknown";
}

size_t rmg_digest_len(enum rmg_digest_alg alg)
{
    switch (alg) {
    case RMG_DIGEST_MD5: return 16;
    case RMG_DIGEST_SHA1: return 20;
    case RMG_DIGEST_SHA256: return 32;
    case RMG_DIGEST_NONE: break;
    }
    return 0;
}

bool rmg_digest_compute(enum rmg_digest_alg alg, const void *data, size_t len,
                        unsigned char out[32])
{
    const EVP_MD *md = NULL;
    switch (alg) {
    case RMG_DIGEST_MD5: md = EVP_md5(); break;
    case RMG_DIGEST_SHA1: md = EVP_sha1(); break;
    case RMG_DIGEST_SHA256: md = EVP_sha256(); break;
    case RMG_DIGEST_NONE: return false;
    }
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!md || !EVP_Digest(data ? data : "", len, buf, &n, md, NULL) ||
        n != rmg_digest_len(alg))
        return false;
    memcpy(out, buf, n);
    return true;
}

bool rmg_pkg_claim_matches(const struct rmg_pkg_claim *c, const void *data, size_t len)
{
    unsigned char d[32];
    return rmg_digest_compute(c->alg, data, len, d) &&
           memcmp(d, c->digest, rmg_digest_len(c->alg)) == 0;
}
