/* digest.c: MD5, SHA-1 and SHA-256 of a file's bytes at once (see digest.h). */
#include "common/digest.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct rmg_digester {
    EVP_MD_CTX *md5, *sha1, *sha256;
    uint64_t size;
};

void rmg_digester_free(struct rmg_digester *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->md5);
    EVP_MD_CTX_free(d->sha1);
    EVP_MD_CTX_free(d->sha256);
    free(d);
}

struct rmg_digester *rmg_digester_new(void)
{
    struct rmg_digester *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->md5 = EVP_MD_CTX_new();
    d->sha1 = EVP_MD_CTX_new();
    d->sha256 = EVP_MD_CTX_new();
    if (!d->md5 || !d->sha1 || !d->sha256 || !EVP_DigestInit_ex(d->md5, EVP_md5(), NULL) ||
        !EVP_DigestInit_ex(d->sha1, EVP_sha1(), NULL) ||
        !EVP_DigestInit_ex(d->sha256, EVP_sha256(), NULL)) {
        rmg_digester_free(d);
        return NULL;
    }
    return d;
}

void rmg_digester_update(struct rmg_digester *d, const void *data, size_t len)
{
    if (!d || !len)
        return;
    EVP_DigestUpdate(d->md5, data, len);
    EVP_DigestUpdate(d->sha1, data, len);
    EVP_DigestUpdate(d->sha256, data, len);
    d->size += len;
}

void rmg_digester_final(struct rmg_digester *d, struct rmg_content_digest *out)
{
    memset(out, 0, sizeof *out);
    if (!d)
        return;
    unsigned n;
    out->set = EVP_DigestFinal_ex(d->md5, out->md5, &n) &&
               EVP_DigestFinal_ex(d->sha1, out->sha1, &n) &&
               EVP_DigestFinal_ex(d->sha256, out->sha256, &n);
    out->size = d->size;
    rmg_digester_free(d);
}

bool rmg_digest_buffer(const void *data, size_t len, struct rmg_content_digest *out)
{
    struct rmg_digester *d = rmg_digester_new();
    rmg_digester_update(d, data, len);
    rmg_digester_final(d, out);
    return out->set;
}
