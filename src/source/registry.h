/* registry.h: `docker://HOST[:PORT]/REPO[:TAG]` and `docker://HOST[:PORT]/REPO@DIGEST`:
 * an image in a container registry, read on demand through the Registry HTTP API v2 (the OCI
 * distribution spec). */
#ifndef RMG_SOURCE_REGISTRY_H
#define RMG_SOURCE_REGISTRY_H

#include "source/source.h"

/* Scans the image `ref` (the target without "docker://": "HOST[:PORT]/REPO[:TAG]" or
 * "HOST[:PORT]/REPO[:TAG]@ALG:HEX"; the tag defaults to "latest") of the registry at HOST,
 * over HTTPS with verified certificates unless opts->tls_verify_off. A multi-platform index is
 * narrowed by ctx's platform options. Every manifest and config is checked against its digest
 * before it is used; a layer's digest is computed while it streams through the walker, and a
 * mismatch is an input error for that layer. Credentials, asked for only when the registry
 * answers 401: opts, then REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.config/containers/auth.json, $DOCKER_CONFIG/config.json or ~/.docker/config.json (auths
 * entries, credHelpers, credsStore); they never appear in a message. Findings and errors go to
 * out; returns the worst status (RMG_EINPUT for a bad reference, an unreachable registry, a
 * missing image or refused credentials, with the registry's own message). It calls
 * curl_global_init, which is not thread-safe: one call at a time. */
enum rmg_status rmg_source_registry(const struct rmg_scan_ctx *ctx,
                                    const struct rmg_registry_opts *opts, const char *target,
                                    const char *ref, struct rmg_results *out);

/* Expands one target for --all-tags and --all-repos into the targets to scan, sorted
 * ("docker://HOST[:PORT]/REPO:TAG", strings in *out, an array the caller frees with
 * rmg_strv_free). With all_tags, "docker://HOST[:PORT]/REPO" (no tag, no digest) becomes every
 * tag of the repository (GET /v2/REPO/tags/list); with all_repos, "docker://HOST[:PORT]"
 * becomes every tag of every repository of the catalog (GET /v2/_catalog, which a bearer token
 * server is asked for with the scope registry:catalog:*). Pages (Link: <...>; rel="next") are
 * followed on the same registry; at most 100,000 tags or repositories. Any other target
 * (another transport, an image with a tag or digest) is returned as it is. Same credentials,
 * retries and TLS as rmg_source_registry. Errors (an unreachable registry, refused
 * credentials, no catalog, a missing repository, "--all-tags" with a tag) go to errors naming
 * the target, never holding credentials, and return RMG_EINPUT with *out NULL; warnings (an
 * unreadable auth file, skipped names) go there too. Not thread-safe (curl_global_init). */
enum rmg_status rmg_registry_expand(const struct rmg_registry_opts *opts, const char *target,
                                    bool all_tags, bool all_repos, char ***out, size_t *n,
                                    struct rmg_results *errors);

#endif
