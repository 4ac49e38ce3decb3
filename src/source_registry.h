/* source_registry.h: `docker://HOST[:PORT]/REPO[:TAG]` and `docker://HOST[:PORT]/REPO@DIGEST`:
 * an image in a container registry, read on demand through the Registry HTTP API v2 (the OCI
 * distribution spec). */
#ifndef RMG_SOURCE_REGISTRY_H
#define RMG_SOURCE_REGISTRY_H

#include <stdbool.h>

#include "rummage.h"

struct rmg_scan_ctx;

/* What the user said about registries (the command line); all borrowed, read-only. */
struct rmg_registry_opts {
    const char *creds;      /* --creds USER:PASS, or NULL */
    const char *creds_file; /* --creds-file FILE: "USER:PASS" on its first line, or an
                               auth.json / Docker config.json; or NULL */
    bool tls_verify_off;    /* --tls-verify=false: certificates not checked, and a registry
                               that does not speak TLS is read over plain HTTP */
};

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

#endif
