/* registry_session.h: an HTTP session with one registry and repository: GET requests to the
 * Registry HTTP API v2 over one libcurl handle, with TLS as the user said, retries, redirects
 * and authentication (Basic, or a Bearer token from the registry's token server) when the
 * registry answers 401. */
#ifndef RMG_SOURCE_REGISTRY_SESSION_H
#define RMG_SOURCE_REGISTRY_SESSION_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "source/credentials.h"
#include "source/registry_ref.h"
#include "source/source.h"

/* Media types of manifests; a manifest request accepts the OCI and Docker schema 2 ones. */
#define RMG_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define RMG_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define RMG_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RMG_MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define RMG_MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1"

/* One registry, one repository. The caller fills ctx, opts, target, out and ref (ref.repo ""
 * for requests that name no repository, such as the catalog), calls curl_global_init and sets
 * curl from curl_easy_init; the rest starts zeroed and is the session's. A session, with its
 * handle, is used by one thread at a time (a transfer thread may run it while its owner
 * waits); transfers side by side each take a clone (rmg_registry_session_clone). */
struct rmg_registry_session {
    const struct rmg_scan_ctx *ctx;       /* borrowed: its progress level (retry messages) */
    const struct rmg_registry_opts *opts; /* borrowed: credentials, TLS */
    const char *target;                   /* borrowed: the target messages name */
    struct rmg_results *out;              /* borrowed: for warnings about credential files */
    struct rmg_registry_ref ref;
    CURL *curl;                           /* owned: released by rmg_registry_session_release */
    bool http;            /* plain HTTP: only with tls_verify_off, after HTTPS failed */
    bool scheme_known;    /* a request got an HTTP answer */
    char *authorization;  /* the "Authorization: ..." header line, or NULL (a secret) */
    bool creds_loaded;
    struct rmg_creds creds;
};

/* Where a 2xx body goes, piece by piece; false aborts the transfer. */
typedef bool (*rmg_registry_sink_fn)(void *ud, const char *data, size_t len);

/* An answer. body is the caller's to free (rmg_buf_free) after every fetch, also a failed one;
 * a fetch resets the rest. */
struct rmg_registry_response {
    long status;
    char content_type[200];
    char digest[200];     /* Docker-Content-Digest */
    char challenge[2048]; /* WWW-Authenticate */
    char link[2048];      /* Link (a list's next page) */
    long retry_after;     /* seconds, -1 if not given */
    struct rmg_buf body;  /* a 2xx body kept in memory, or the body of any other answer */
    bool delivered;       /* part of a 2xx body went to the sink */
    bool too_big;         /* the body kept in memory passed its limit */
};

/* GET /v2/REPO/WHAT ("manifests/REF", "blobs/DIGEST"), or WHAT itself when it starts with
 * '/' (a path on the registry: "/v2/_catalog?n=1000"), with the manifest media types accepted
 * when `manifest`. Authenticates on 401 (credentials looked up then, once: rmg_creds_load),
 * retries 429, 5xx and broken connections (3 tries, before any byte of the body was
 * delivered; it sleeps between them), follows redirects. A 2xx body goes to sink(ud, ...)
 * (or, with sink NULL, into resp->body up to max bytes). RMG_OK for a 2xx answer; otherwise
 * RMG_EINPUT (RMG_ENOMEM) with a message in err, never holding credentials, and what the
 * registry said in resp. Blocks; the session's thread only. */
enum rmg_status rmg_registry_session_fetch(struct rmg_registry_session *s, const char *what,
                                           bool manifest, rmg_registry_sink_fn sink, void *ud,
                                           size_t max, struct rmg_registry_response *resp,
                                           char *err, size_t errlen);

/* A session of its own for a layer transferred beside others: the same registry, scheme,
 * authorization and credentials, another curl handle; its warnings go to out (borrowed). The
 * caller releases and frees it (rmg_registry_session_release, free). NULL on out of memory.
 * s is only read: call it from s's thread. */
struct rmg_registry_session *rmg_registry_session_clone(const struct rmg_registry_session *s,
                                                        struct rmg_results *out);

/* Frees what a session holds (the authorization and credentials wiped first), not s itself. */
void rmg_registry_session_release(struct rmg_registry_session *s);

#endif
