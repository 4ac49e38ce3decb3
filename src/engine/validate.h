/* validate.h: offline validators and the placeholder test that rules share. */
#ifndef RMG_VALIDATE_H
#define RMG_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h> /* SIZE_MAX, returned by rmg_validate_base64_decode */

/* What a validator concluded about one candidate secret. */
enum rmg_validity {
    RMG_VALIDITY_UNKNOWN = 0, /* well-formed as far as can be told: keep at "pattern" */
    RMG_VALIDITY_VALID,       /* proven well-formed (checksum, structure): "validated" */
    RMG_VALIDITY_INVALID      /* proven malformed: drop the match */
};

/* A validator looks at the secret bytes (the `secret` group, or the whole match) and,
 * where it needs it, the whole match. Both are borrowed; neither is NUL-terminated.
 * Pure functions: thread-safe, no allocation that outlives the call. */
typedef enum rmg_validity (*rmg_validator_fn)(const char *secret, size_t secret_len,
                                               const char *match, size_t match_len);

/* Looks a validator up by the name used in a rule's "validator" key.
 * Returns NULL for an unknown name. */
rmg_validator_fn rmg_validate_find(const char *name);

/* Does a match this validator accepts prove a live credential format, whoever wrote it: a
 * checksum over the token (GitHub, npm: CRC32) or a provider's own structure (PyPI's macaroon
 * naming pypi.org)? Such a finding counts for the gate even inside a package's unmodified
 * file. The structural checks (PEM decodes as DER, a JWT header, an AWS key id's alphabet,
 * basic auth) are not: documentation and self-tests are full of them. NULL: false. */
bool rmg_validate_is_live(const char *name);

/* NULL-terminated array of the validator names, for `rules list` and error messages. */
const char *const *rmg_validate_names(void);

/* True when the secret is a placeholder or documented example value rather than a secret:
 * AKIAIOSFODNN7EXAMPLE-style documented examples, <your-token>, ${VAR}, $VAR, {{ var }},
 * %(var)s, xxxxxxxx, changeme, "password", runs of one character, obvious sequences. */
bool rmg_validate_is_placeholder(const char *secret, size_t len);

/* CRC32 checksum scheme of GitHub and npm tokens: the last 6 characters are the
 * base62 encoding (0-9A-Za-z, zero-padded) of the CRC32 of the random part before them,
 * which is everything after the prefix's '_' ("ghp_" + 30 chars + 6, "npm_" + 30 + 6;
 * the prefix itself is not covered, as in the tokens GitHub and npm issue). A token
 * without '_' is taken as the bare body. token is borrowed; pure; thread-safe. */
bool rmg_validate_crc32_base62(const char *token, size_t len);

/* Decodes base64 (url false: "+/", url true: "-_"; '=' padding optional; ASCII whitespace
 * ignored) from in[0..n) into out, writing at most cap bytes (out may be NULL when cap is
 * 0). Returns the full decoded length, which may exceed cap (like snprintf), or SIZE_MAX
 * when the input is not base64. Borrowed buffers; pure; thread-safe. */
size_t rmg_validate_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                                  bool url);

#endif
