/* digest.h: the content digests provenance compares with package databases (MD5 for dpkg,
 * SHA-1 for apk, SHA-256 for Python RECORD files and rpm), all three at once, in one call
 * over a buffer or streamed. OpenSSL's EVP underneath. */
#ifndef RMG_COMMON_DIGEST_H
#define RMG_COMMON_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "rummage.h"

/* Streaming: new, update any number of times, final (which frees). NULL on out of memory. */
struct rmg_digester;
struct rmg_digester *rmg_digester_new(void);
void rmg_digester_update(struct rmg_digester *d, const void *data, size_t len);
/* Writes the digests into out (out->set true) and frees d; d may be NULL (out->set false). */
void rmg_digester_final(struct rmg_digester *d, struct rmg_content_digest *out);
/* Frees d without a result (NULL accepted). */
void rmg_digester_free(struct rmg_digester *d);

/* All three digests of one buffer. False (out->set false) on out of memory. */
bool rmg_digest_buffer(const void *data, size_t len, struct rmg_content_digest *out);

#endif
