/* fuzz_registry.c: libFuzzer target: the registry source's parsers of what a user or a registry
 * hands it, without a network: image references (docker://HOST/REPO:TAG@DIGEST), the response
 * headers (WWW-Authenticate challenges, Link pages, Retry-After, Content-Type), the registry's
 * error JSON, credential files (auth.json / config.json entries, base64 "auth"), and the
 * manifest bookkeeping (digests an index lists, a layer's size in a manifest). References are
 * parsed through source/registry_ref.h; the rest are static in src/source/credentials.c,
 * registry_session.c and registry.c, so this file includes those three (the library's copies
 * are then not linked). Credential helpers are never run: their keys are removed from a config
 * before lookup. The first byte chooses the parser; the rest is its input. */
#include "source/credentials.c"
#include "source/registry_session.c"
#include "source/registry.c"

#include <stdint.h>

static char *cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static void fuzz_ref(const char *s)
{
    struct rmg_registry_ref r;
    char err[512];
    if (!rmg_registry_ref_parse(s, &r, err, sizeof err)) {
        if (!err[0])
            abort();
        return;
    }
    /* What a parsed reference promises the rest of the module. */
    if (!rmg_registry_valid_host(r.host, strlen(r.host)) ||
        !rmg_registry_valid_repo(r.repo, strlen(r.repo)) ||
        (r.tag[0] && !rmg_registry_valid_tag(r.tag, strlen(r.tag))) ||
        (r.digest[0] && !rmg_registry_digest_md(r.digest)) || (!r.tag[0] && !r.digest[0]) ||
        !r.name[0])
        abort();
}

static void fuzz_challenge(const char *s)
{
    static const char *const names[] = {"realm", "service", "scope", "error"};
    for (size_t i = 0; i < 4; i++) {
        char out[64];
        memset(out, 'x', sizeof out);
        bool found = challenge_param(s, names[i], out, sizeof out);
        if (!memchr(out, '\0', sizeof out) || (!found && out[0]))
            abort();
    }
}

static void fuzz_headers(const char *s, size_t n)
{
    struct rmg_registry_response resp;
    memset(&resp, 0, sizeof resp);
    response_reset(&resp);
    struct request q = {NULL, &resp, NULL, NULL, 1024};
    for (const char *line = s, *end = s + n; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        char *copy = malloc(len); /* as libcurl hands a header: not NUL-terminated */
        if (!copy)
            abort();
        memcpy(copy, line, len);
        if (on_header(copy, 1, len, &q) != len)
            abort();
        free(copy);
        line += len;
    }
    if (!memchr(resp.content_type, '\0', sizeof resp.content_type) ||
        !memchr(resp.challenge, '\0', sizeof resp.challenge) ||
        !memchr(resp.link, '\0', sizeof resp.link) || resp.retry_after < -1)
        abort();
    fuzz_challenge(resp.challenge);
    struct rmg_registry_session sess;
    memset(&sess, 0, sizeof sess);
    rmg_fmt(sess.ref.host, sizeof sess.ref.host, "reg.example:5000");
    char next[2100], err[900];
    if (next_link(&sess, resp.link, next, sizeof next, err, sizeof err) && next[0] &&
        strncmp(next, "/v2/", 4) != 0)
        abort();
    (void)schema1(resp.content_type);
    response_reset(&resp);
}

static void fuzz_link(const char *s)
{
    struct rmg_registry_session sess;
    memset(&sess, 0, sizeof sess);
    rmg_fmt(sess.ref.host, sizeof sess.ref.host, "reg.example:5000");
    char next[2100], err[900] = "";
    if (next_link(&sess, s, next, sizeof next, err, sizeof err)) {
        if (next[0] && (strncmp(next, "/v2/", 4) != 0 || strchr(next, ' ')))
            abort();
    } else if (!err[0]) {
        abort();
    }
}

static void fuzz_error_body(const char *s, size_t n)
{
    struct rmg_registry_response resp;
    memset(&resp, 0, sizeof resp);
    rmg_buf_append(&resp.body, s, n);
    char msg[500];
    registry_message(&resp, msg, sizeof msg);
    if (!memchr(msg, '\0', sizeof msg))
        abort();
    rmg_buf_free(&resp.body);
}

static void fuzz_auth_file(const char *s, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(s, n);
    if (!j)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "credHelpers"); /* never run a program */
    cJSON_DeleteItemFromObjectCaseSensitive(j, "credsStore");
    static const char *const refs[] = {"reg.example:5000/team/app:1.0", "localhost/a",
                                       "[::1]:5000/x/y/z"};
    for (size_t i = 0; i < 3; i++) {
        struct rmg_registry_ref r;
        char err[512], warn[400];
        if (!rmg_registry_ref_parse(refs[i], &r, err, sizeof err))
            abort();
        struct rmg_creds c;
        memset(&c, 0, sizeof c);
        if (creds_from_config(j, &r, &c, warn, sizeof warn) && (!c.user || !c.pass))
            abort();
        rmg_creds_clear(&c);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "auths")) {
        char key[900];
        if (e->string)
            auth_key_normal(e->string, key, sizeof key);
    }
    cJSON_Delete(j);
}

static void fuzz_creds(const char *s, size_t n)
{
    struct rmg_creds c;
    memset(&c, 0, sizeof c);
    /* (a NUL in the bytes ends the user or password early: they are C strings) */
    if (creds_from_base64(&c, s) && (!c.user || !c.pass))
        abort();
    rmg_creds_clear(&c);
    if (creds_from_pair(&c, s, n) && (!c.user || !c.pass))
        abort();
    rmg_creds_clear(&c);
    char *line = NULL;
    if (rmg_creds_set(&c, s, n / 2, s + n / 2, n - n / 2) && !(line = basic_header(&c)))
        abort();
    free(line);
    rmg_creds_clear(&c);
}

static void fuzz_manifests(const char *s, size_t n)
{
    struct reg_source r;
    memset(&r, 0, sizeof r);
    note_manifests(&r, s, n);
    {
        struct rmg_blob *b = rmg_blobs_add(&r.base.base.blobs, "blobs/sha256/x");
        if (!b || !(b->json = rmg_strndup(s, n)))
            abort();
        b->json_len = n;
        int index;
        uint64_t size;
        for (size_t i = 0; i < r.n_manifests; i++) {
            (void)is_manifest(&r, r.manifests[i]);
            layer_info(&r, r.manifests[i], &index, &size);
            char name[300], digest[200];
            const char *colon = strchr(r.manifests[i], ':');
            if (colon && colon - r.manifests[i] < 100) {
                rmg_fmt(name, sizeof name, "blobs/%.*s/%s", (int)(colon - r.manifests[i]),
                        r.manifests[i], colon + 1);
                if (name_digest(name, digest, sizeof digest) && !rmg_registry_digest_md(digest))
                    abort();
            }
        }
        layer_info(&r, "sha256:" "0000000000000000000000000000000000000000000000000000000000000000",
                   &index, &size);
    }
    for (size_t i = 0; i < r.n_manifests; i++)
        free(r.manifests[i]);
    free(r.manifests);
    rmg_blobs_free(&r.base.base.blobs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char *s = cstr(data + 1, size - 1);
    size_t n = size - 1;
    switch (data[0] % 8) {
    case 0: fuzz_ref(s); break;
    case 1: fuzz_challenge(s); break;
    case 2: fuzz_headers(s, n); break;
    case 3: fuzz_link(s); break;
    case 4: fuzz_error_body(s, n); break;
    case 5: fuzz_auth_file(s, n); break;
    case 6: fuzz_creds(s, n); break;
    case 7: fuzz_manifests(s, n); break;
    }
    free(s);
    return 0;
}
