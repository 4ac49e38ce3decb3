/* credentials.h: a registry login (user and password) and where it is looked up: --creds,
 * --creds-file, the auth files podman and Docker write (auths entries), their credential
 * helpers (credHelpers, credsStore). */
#ifndef RMG_SOURCE_CREDENTIALS_H
#define RMG_SOURCE_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "source/registry_ref.h"
#include "source/source.h"

/* A login. user and pass are owned (malloc'd, wiped when cleared: they are secrets, and never
 * go into a message); from says where they came from, and is what messages name. A zeroed
 * struct is "anonymous". One thread at a time. */
struct rmg_creds {
    char *user, *pass; /* NULL: anonymous */
    char from[700];    /* where they came from, for messages ("--creds", a file's path) */
};

/* Wipes and frees user and pass (both NULL after); from is kept. c itself is the caller's. */
void rmg_creds_clear(struct rmg_creds *c);

/* Sets c to copies of the ul bytes of user and the pl bytes of pass (c cleared first). False
 * on out of memory, with c anonymous. */
bool rmg_creds_set(struct rmg_creds *c, const char *user, size_t ul, const char *pass,
                   size_t pl);

/* Looks up the login for ref's host and repository into c, in the order registry.h gives:
 * opts->creds, opts->creds_file, then REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/
 * auth.json, ~/.config/containers/auth.json, $DOCKER_CONFIG/config.json or
 * ~/.docker/config.json (in each: credHelpers for the host, the most specific auths entry,
 * credsStore), the first that has one. A credential helper is run as `docker-credential-NAME
 * get` (30 s at most). Problems with files the user did not name (unreadable, not JSON, a
 * failing helper) are warnings in out under target; false, with a message in err, only when
 * what the user named (--creds, --creds-file) is unusable or has no login for the host. No
 * login anywhere is true with c left anonymous. opts and ref are borrowed. It reads the
 * environment and may start a program: call it from one thread at a time, not beside setenv. */
bool rmg_creds_load(const struct rmg_registry_opts *opts, const struct rmg_registry_ref *ref,
                    struct rmg_creds *c, struct rmg_results *out, const char *target, char *err,
                    size_t errlen);

#endif
