/* registry_ref.h: an image's reference in a registry ("HOST[:PORT]/REPO[:TAG][@ALG:HEX]"), read
 * as Docker reads image names, and the checks of its parts (host, repository, tag, digest).
 * Pure functions of their arguments: any thread. */
#ifndef RMG_SOURCE_REGISTRY_REF_H
#define RMG_SOURCE_REGISTRY_REF_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

/* Docker Hub's name, the one registry people write without a host. Its API endpoint is a
 * different host, which rummage does not build in: names of Docker Hub images are fetched from
 * the registry the user names with --default-registry (Docker Hub's API host, or a mirror). */
#define RMG_DOCKER_HUB_NAME "docker.io"

struct rmg_registry_ref {
    char host[300];   /* "HOST[:PORT]" or "[V6]:PORT", as written */
    char repo[512];   /* "team/app" */
    char tag[136];    /* "" when only a digest is given */
    char digest[200]; /* "ALG:HEX" or "" */
    char name[1200];  /* "HOST/REPO:TAG" or "HOST/REPO@DIGEST": the image's name in reports */
};

/* Parses s ("HOST[:PORT]/REPO[:TAG]" or "...@ALG:HEX"; the tag defaults to "latest") into *r
 * (cleared first). True with every part checked (the rmg_registry_valid_* below, the digest by
 * rmg_registry_digest_md) and r->name set; false with a message in err naming what is wrong
 * (a name without a host, meaning Docker Hub, is refused here). */
bool rmg_registry_ref_parse(const char *s, struct rmg_registry_ref *r, char *err,
                            size_t errlen);

/* rmg_registry_ref_parse for any name: a Docker Hub name ("alpine", "team/app:1",
 * "docker.io/...") is read from `hub` (HOST[:PORT]: its API host or a mirror; NULL or "": such
 * a name is an error saying so), "library/" added to one-component names as Docker does, and
 * named "docker.io/REPO:TAG" in reports. */
bool rmg_registry_ref_parse_any(const char *s, const char *hub, struct rmg_registry_ref *r,
                                char *err, size_t errlen);

/* The first n bytes of h as a registry host: a DNS name or "[IPv6]", with an optional ":PORT"
 * (one to five digits). */
bool rmg_registry_valid_host(const char *h, size_t n);

/* The first n bytes of r as a repository path: components of lower-case alphanumerics joined
 * by '.', '_', "__" or dashes, separated by '/'. */
bool rmg_registry_valid_repo(const char *r, size_t n);

/* The first n bytes of t as a tag: 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
bool rmg_registry_valid_tag(const char *t, size_t n);

/* "ALG:HEX" with a digest OpenSSL knows (sha256, sha384, sha512) and a lower-case hex part of
 * its length: the algorithm (OpenSSL's, not to be freed), or NULL. */
const EVP_MD *rmg_registry_digest_md(const char *digest);

#endif
