/* registry.c: images in a container registry, read through the Registry HTTP API v2
 * (see registry.h).
 *
 * DESIGN. The registry is an on-demand image source (source/image.h) like an OCI layout
 * directory: the manifest the reference names is fetched first (GET /v2/REPO/manifests/REF,
 * Accept listing the OCI and Docker schema 2 types, the type taken from Content-Type), and
 * becomes the one descriptor of a synthetic "index.json"; the image model then asks for
 * "blobs/ALG/HEX" names, which are fetched from /manifests/ (digests that an index lists) or
 * /blobs/ (configs, layers). No JSON is used before its digest is checked. A layer is fetched
 * by a thread running libcurl that writes into a socket pair, hashing what it sends, while this
 * thread walks the other end (source/daemon.c's scheme): nothing touches the disk, memory is
 * bounded by the socket buffer, and after the walk the rest of the stream is drained so the
 * digest covers every byte. A digest mismatch is an input error naming the layer; what the
 * walk found is still reported, under that error.
 *
 * One libcurl handle per scan, reused (keep-alive), used by one thread at a time: the main
 * thread waits on the socket while the transfer thread runs. Authentication happens when a
 * request gets 401: the challenge decides Basic (credentials sent to the registry) or Bearer
 * (a token fetched from the realm, with the credentials if there are any, then sent as
 * "Authorization: Bearer"). Credentials are looked up only then, and are never printed: a
 * message says where they came from, never what they are. libcurl drops the Authorization
 * header on a redirect to another host or port (blob storage behind a redirect never sees
 * it). 429 and 5xx answers are retried (3 tries, honouring Retry-After up to 30 s). */
#define _GNU_SOURCE
#include "source/registry.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "source/image.h"
#include "common/util.h"

extern char **environ;

#define TRIES 3
#define MAX_RETRY_WAIT 30        /* seconds: a longer Retry-After is cut to this */
#define MAX_SMALL_BODY (64u << 10) /* error bodies, token answers, credential files */
#define HELPER_TIMEOUT_MS 30000

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1"

static const char accept_manifests[] =
    "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_V2;

/* Docker Hub's name, the one registry people write without a host. Its API endpoint is a
 * different host, which rummage does not build in: names of Docker Hub images are fetched from
 * the registry the user names with --default-registry (Docker Hub's API host, or a mirror). */
static const char docker_hub_name[] = "docker.io";
static const char docker_hub_index[] = "index.docker.io";

/* ---- references ------------------------------------------------------------------------- */

struct ref {
    char host[300];   /* "HOST[:PORT]" or "[V6]:PORT", as written */
    char repo[512];   /* "team/app" */
    char tag[136];    /* "" when only a digest is given */
    char digest[200]; /* "ALG:HEX" or "" */
    char name[1200];  /* "HOST/REPO:TAG" or "HOST/REPO@DIGEST": the image's name in reports */
};

static bool is_lower_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* "ALG:HEX" with a digest OpenSSL knows and a hex part of its length; the algorithm or NULL. */
static const EVP_MD *digest_md(const char *digest)
{
    const char *colon = strchr(digest, ':');
    char alg[32];
    if (!colon || colon == digest || (size_t)(colon - digest) >= sizeof alg)
        return NULL;
    memcpy(alg, digest, (size_t)(colon - digest));
    alg[colon - digest] = '\0';
    if (strcmp(alg, "sha256") != 0 && strcmp(alg, "sha384") != 0 && strcmp(alg, "sha512") != 0)
        return NULL;
    const EVP_MD *md = EVP_get_digestbyname(alg);
    size_t hex = strlen(colon + 1);
    if (!md || hex != (size_t)EVP_MD_size(md) * 2 || !is_hex(colon + 1, hex))
        return NULL;
    return md;
}

static bool valid_host(const char *h, size_t n)
{
    size_t i = 0;
    if (n && h[0] == '[') {
        const char *end = memchr(h, ']', n);
        if (!end || end == h + 1)
            return false;
        for (const char *c = h + 1; c < end; c++)
            if (!strchr("0123456789abcdefABCDEF:.", *c))
                return false;
        i = (size_t)(end - h) + 1;
    } else {
        while (i < n && h[i] != ':') {
            char c = h[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-'))
                return false;
            i++;
        }
        if (i == 0 || h[0] == '.' || h[0] == '-')
            return false;
    }
    if (i == n)
        return true;
    if (h[i] != ':' || n - i < 2 || n - i > 6)
        return false;
    for (i++; i < n; i++)
        if (h[i] < '0' || h[i] > '9')
            return false;
    return true;
}

/* Repository path components: lower-case alphanumerics joined by '.', '_', "__" or dashes,
 * separated by '/'. */
static bool valid_repo(const char *r, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* one component */
        if (!is_lower_alnum(r[i]))
            return false;
        while (i < n && r[i] != '/') {
            if (is_lower_alnum(r[i])) {
                i++;
                continue;
            }
            size_t sep = i;
            if (r[i] == '.')
                i++;
            else if (r[i] == '_')
                i += i + 1 < n && r[i + 1] == '_' ? 2 : 1;
            else if (r[i] == '-')
                while (i < n && r[i] == '-')
                    i++;
            if (i == sep || i >= n || !is_lower_alnum(r[i]))
                return false;
        }
        if (i < n)
            i++; /* the '/' */
        if (i == n && r[n - 1] == '/')
            return false;
    }
    return n > 0;
}

static bool valid_tag(const char *t, size_t n)
{
    if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '.' || t[i] == '-'))
            return false;
    return true;
}

static bool parse_ref(const char *s, struct ref *r, char *err, size_t errlen);

/* A Docker Hub name, as Docker reads it: no host ("alpine", "team/app:1") or the host
 * docker.io. Gives the name without its host ("alpine") in *rest. */
static bool is_hub_name(const char *s, const char **rest)
{
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (slash && ((hl == strlen(docker_hub_name) && strncmp(s, docker_hub_name, hl) == 0) ||
                  (hl == strlen(docker_hub_index) && strncmp(s, docker_hub_index, hl) == 0))) {
        *rest = slash + 1;
        return true;
    }
    bool host = slash && (memchr(s, '.', hl) || memchr(s, ':', hl) || s[0] == '[' ||
                          (hl == 9 && strncmp(s, "localhost", 9) == 0));
    /* Without a '/', "app:1.0" is a Hub image, but "HOST.NAME[:PORT]" and "localhost[:PORT]"
     * are hosts without a repository (parse_ref says so). */
    size_t nl = strcspn(s, ":@");
    bool bare_host = !slash && (memchr(s, '.', nl) || s[0] == '[' ||
                                (nl == 9 && strncmp(s, "localhost", 9) == 0));
    *rest = s;
    return *s && !host && !bare_host;
}

/* parse_ref for any name: a Docker Hub name is read from `hub` (HOST[:PORT]: its API host or a
 * mirror), "library/" added to one-component names as Docker does, and named
 * "docker.io/REPO:TAG" in reports. */
static bool parse_any_ref(const char *s, const char *hub, struct ref *r, char *err,
                          size_t errlen)
{
    const char *rest;
    if (!is_hub_name(s, &rest))
        return parse_ref(s, r, err, errlen);
    if (!hub || !*hub) {
        rmg_fmt(err, errlen, "'%.200s' names a Docker Hub image, and rummage has no Docker Hub "
                             "endpoint built in: give --default-registry HOST (or "
                             "RUMMAGE_DEFAULT_REGISTRY), the registry to read such names from "
                             "(Docker Hub's API host or a mirror of it), or write "
                             "docker://HOST/REPO:TAG", s);
        return false;
    }
    size_t hl = strlen(hub);
    if (!valid_host(hub, hl) || hl >= sizeof r->host) {
        rmg_fmt(err, errlen, "--default-registry '%.200s' is not a registry host[:port]", hub);
        return false;
    }
    size_t name_end = strcspn(rest, ":@");
    bool library = !memchr(rest, '/', name_end);
    struct rmg_buf b = {0};
    rmg_buf_printf(&b, "%s/%s%s", hub, library ? "library/" : "", rest);
    bool ok = b.data && parse_ref(b.data, r, err, errlen);
    rmg_buf_free(&b);
    if (ok && r->digest[0])
        rmg_fmt(r->name, sizeof r->name, "%s/%s@%s", docker_hub_name, r->repo, r->digest);
    else if (ok)
        rmg_fmt(r->name, sizeof r->name, "%s/%s:%s", docker_hub_name, r->repo, r->tag);
    return ok;
}

static bool parse_ref(const char *s, struct ref *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (!*s) {
        rmg_fmt(err, errlen, "no image named: docker://HOST[:PORT]/REPO[:TAG]");
        return false;
    }
    if (slash && memchr(s, '@', hl)) {
        rmg_fmt(err, errlen, "credentials do not go in the reference: use --creds or "
                             "--creds-file");
        return false;
    }
    if (hl == strlen(docker_hub_name) && strncmp(s, docker_hub_name, hl) == 0) {
        rmg_fmt(err, errlen, "%s names Docker Hub, whose API endpoint is not built in: "
                             "write the registry's API host (docker://HOST/REPO:TAG)",
                docker_hub_name);
        return false;
    }
    /* As Docker reads names: the first component is a host only before a '/' and with a
     * '.' or ':' in it, or "localhost"; "app:1.0" is a Docker Hub name. */
    if ((!slash || !slash[1]) && valid_host(s, hl) &&
        (memchr(s, '.', hl) || memchr(s, ':', hl) || s[0] == '[' ||
         (hl == 9 && strncmp(s, "localhost", 9) == 0))) {
        rmg_fmt(err, errlen, "names no repository: write docker://HOST[:PORT]/REPO[:TAG], or "
                             "give --all-repos to scan every repository");
        return false;
    }
    bool host = slash && (memchr(s, '.', hl) || memchr(s, ':', hl) || s[0] == '[' ||
                          (hl == 9 && strncmp(s, "localhost", 9) == 0));
    if (!host) {
        rmg_fmt(err, errlen, "no registry host: write docker://HOST[:PORT]/REPO[:TAG] "
                             "(names without a host, meaning Docker Hub, are not supported)");
        return false;
    }
    if (!valid_host(s, hl) || hl >= sizeof r->host) {
        rmg_fmt(err, errlen, "'%.*s' is not a registry host[:port]", (int)(hl > 200 ? 200 : hl),
                s);
        return false;
    }
    memcpy(r->host, s, hl);
    const char *rest = slash + 1;
    const char *at = strchr(rest, '@');
    const char *end = at ? at : rest + strlen(rest);
    if (at) {
        if (!digest_md(at + 1) || strlen(at + 1) >= sizeof r->digest) {
            rmg_fmt(err, errlen, "'%.200s' is not a digest (sha256:HEX or sha512:HEX)", at + 1);
            return false;
        }
        rmg_fmt(r->digest, sizeof r->digest, "%s", at + 1);
    }
    const char *last_slash = memrchr(rest, '/', (size_t)(end - rest));
    const char *colon = memrchr(last_slash ? last_slash : rest, ':',
                                (size_t)(end - (last_slash ? last_slash : rest)));
    const char *repo_end = colon ? colon : end;
    size_t rl = (size_t)(repo_end - rest);
    if (rl >= sizeof r->repo || !valid_repo(rest, rl)) {
        bool upper = false;
        for (const char *c = rest; c < repo_end; c++)
            upper = upper || (*c >= 'A' && *c <= 'Z');
        rmg_fmt(err, errlen, "'%.*s' is not a repository name%s", (int)(rl > 300 ? 300 : rl),
                rest, upper ? " (repository names are lower case)" : "");
        return false;
    }
    memcpy(r->repo, rest, rl);
    if (colon) {
        size_t tl = (size_t)(end - colon - 1);
        if (!valid_tag(colon + 1, tl)) {
            rmg_fmt(err, errlen, "'%.*s' is not a tag", (int)(tl > 200 ? 200 : tl), colon + 1);
            return false;
        }
        memcpy(r->tag, colon + 1, tl);
    } else if (!at) {
        memcpy(r->tag, "latest", sizeof "latest");
    }
    if (r->digest[0])
        rmg_fmt(r->name, sizeof r->name, "%s/%s@%s", r->host, r->repo, r->digest);
    else
        rmg_fmt(r->name, sizeof r->name, "%s/%s:%s", r->host, r->repo, r->tag);
    return true;
}

/* ---- credentials ------------------------------------------------------------------------ */

struct creds {
    char *user, *pass; /* NULL: anonymous */
    char from[700];    /* where they came from, for messages ("--creds", a file's path) */
};

static void creds_clear(struct creds *c)
{
    if (c->pass) {
        explicit_bzero(c->pass, strlen(c->pass));
        free(c->pass);
    }
    free(c->user);
    c->user = c->pass = NULL;
}

static bool creds_set(struct creds *c, const char *user, size_t ul, const char *pass, size_t pl)
{
    creds_clear(c);
    c->user = rmg_strndup(user, ul);
    c->pass = rmg_strndup(pass, pl);
    if (!c->user || !c->pass) {
        creds_clear(c);
        return false;
    }
    return true;
}

/* "USER:PASS" (split at the first ':'). */
static bool creds_from_pair(struct creds *c, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s)
        return false;
    return creds_set(c, s, (size_t)(colon - s), colon + 1, n - (size_t)(colon - s) - 1);
}

/* An auths entry's "auth": base64 of "USER:PASS". */
static bool creds_from_base64(struct creds *c, const char *b64)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 || n > 8192)
        return false;
    unsigned char *raw = malloc(n);
    if (!raw)
        return false;
    int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
    bool ok = len > 0;
    if (ok) {
        for (size_t k = n; k > 0 && b64[k - 1] == '='; k--)
            len--;
        ok = len > 0 && creds_from_pair(c, (const char *)raw, (size_t)len);
    }
    explicit_bzero(raw, n);
    free(raw);
    return ok;
}

/* A credential helper's name: used in a program name, so no path characters. */
static bool valid_helper(const char *name)
{
    if (!*name || strlen(name) > 100)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return false;
    return name[0] != '.';
}

/* Runs `docker-credential-NAME get` with the host on its stdin; its stdout is JSON
 * {"Username": ..., "Secret": ...}. False with a message (never holding its output) when it
 * could not run or gave nothing usable; "not found" is false with an empty message. */
static bool run_helper(const char *name, const char *host, struct creds *c, char *err,
                       size_t errlen)
{
    err[0] = '\0';
    char prog[160];
    rmg_fmt(prog, sizeof prog, "docker-credential-%s", name);
    if (!valid_helper(name)) {
        rmg_fmt(err, errlen, "credential helper name '%.100s' is not valid", name);
        return false;
    }
    int in[2], out[2]; /* stdin is a socket: writing to it never raises SIGPIPE */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
        return rmg_fmt(err, errlen, "socketpair: %s", strerror(errno)), false;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return rmg_fmt(err, errlen, "pipe: %s", strerror(errno)), false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {prog, (char *)"get", NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        rmg_fmt(err, errlen, "cannot run %s: %s", prog, strerror(rc));
        return false;
    }
    /* The host is short: it fits in the socket buffer, so this never blocks. */
    ssize_t w = send(in[1], host, strlen(host), MSG_NOSIGNAL);
    (void)w;
    close(in[1]);
    struct rmg_buf output = {0};
    double deadline = rmg_now() + HELPER_TIMEOUT_MS / 1000.0;
    bool timed_out = false, too_big = false;
    for (;;) {
        int left = (int)((deadline - rmg_now()) * 1000);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {out[0], POLLIN, 0};
        int pr = poll(&p, 1, left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            timed_out = pr == 0;
            break;
        }
        char buf[4096];
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (output.len + (size_t)n > MAX_SMALL_BODY) {
            too_big = true;
            break;
        }
        rmg_buf_append(&output, buf, (size_t)n);
    }
    close(out[0]);
    if (timed_out || too_big) /* it may be blocked writing: it has said enough */
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    bool ok = false;
    if (timed_out) {
        rmg_fmt(err, errlen, "%s did not answer within %d s", prog, HELPER_TIMEOUT_MS / 1000);
    } else if (too_big) {
        rmg_fmt(err, errlen, "%s wrote more than %u bytes", prog, MAX_SMALL_BODY);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* "credentials not found in native keychain" is the normal "no login" answer. */
        bool not_found = output.data && strstr(output.data, "not found");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            rmg_fmt(err, errlen, "%s is not installed", prog);
        else if (!not_found)
            rmg_fmt(err, errlen, "%s failed (exit %d)", prog,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    } else {
        cJSON *j = output.data ? cJSON_ParseWithLength(output.data, output.len) : NULL;
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "Username");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "Secret");
        if (!cJSON_IsString(u) || !cJSON_IsString(s) || !*s->valuestring)
            rmg_fmt(err, errlen, "%s gave no Username and Secret", prog);
        else if (strcmp(u->valuestring, "<token>") == 0)
            rmg_fmt(err, errlen, "%s gave an identity token, which rummage cannot use: "
                                 "give --creds", prog);
        else
            ok = creds_set(c, u->valuestring, strlen(u->valuestring), s->valuestring,
                           strlen(s->valuestring));
        if (cJSON_IsString(s))
            explicit_bzero(s->valuestring, strlen(s->valuestring));
        cJSON_Delete(j);
    }
    if (output.data)
        explicit_bzero(output.data, output.len);
    rmg_buf_free(&output);
    return ok;
}

/* A key of "auths" as the host (and path) it names: "https://HOST/v1/" -> "HOST". */
static void auth_key_normal(const char *key, char *out, size_t cap)
{
    if (strncmp(key, "https://", 8) == 0)
        key += 8;
    else if (strncmp(key, "http://", 7) == 0)
        key += 7;
    rmg_fmt(out, cap, "%s", key);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/')
        out[--n] = '\0';
    if (n >= 3 && (strcmp(out + n - 3, "/v1") == 0 || strcmp(out + n - 3, "/v2") == 0))
        out[n - 3] = '\0';
}

/* Looks up the login for host/repo in a parsed auth.json or Docker config.json: credHelpers
 * for the host, then the most specific "auths" entry (HOST/REPO, HOST/NAMESPACE..., HOST),
 * then credsStore. True when found (c set); *warn gets a helper's failure, if any. */
static bool creds_from_config(const cJSON *cfg, const struct ref *r, struct creds *c, char *warn,
                              size_t warnlen)
{
    warn[0] = '\0';
    const cJSON *helpers = cJSON_GetObjectItemCaseSensitive(cfg, "credHelpers");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(helpers, r->host);
    if (cJSON_IsString(h))
        return run_helper(h->valuestring, r->host, c, warn, warnlen);
    const cJSON *auths = cJSON_GetObjectItemCaseSensitive(cfg, "auths");
    char want[900];
    rmg_fmt(want, sizeof want, "%s/%s", r->host, r->repo);
    for (;;) {
        const cJSON *e;
        cJSON_ArrayForEach(e, auths) {
            char key[900];
            if (!e->string)
                continue;
            auth_key_normal(e->string, key, sizeof key);
            if (strcmp(key, want) != 0)
                continue;
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "auth");
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "username");
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "password");
            if (cJSON_IsString(a) && *a->valuestring && creds_from_base64(c, a->valuestring))
                return true;
            if (cJSON_IsString(u) && cJSON_IsString(p) && *u->valuestring &&
                creds_set(c, u->valuestring, strlen(u->valuestring), p->valuestring,
                          strlen(p->valuestring)))
                return true;
        }
        char *slash = strrchr(want, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    const cJSON *store = cJSON_GetObjectItemCaseSensitive(cfg, "credsStore");
    if (cJSON_IsString(store) && *store->valuestring)
        return run_helper(store->valuestring, r->host, c, warn, warnlen);
    return false;
}

/* ---- the session: one registry, one repository ------------------------------------------ */

struct session {
    const struct rmg_scan_ctx *ctx;
    const struct rmg_registry_opts *opts;
    const char *target;
    struct rmg_results *out; /* for warnings about credential files */
    struct ref ref;
    CURL *curl;
    bool http;          /* plain HTTP: only with tls_verify_off, after HTTPS failed */
    bool scheme_known;  /* a request got an HTTP answer */
    char *authorization; /* the "Authorization: ..." header line, or NULL (a secret) */
    bool creds_loaded;
    struct creds creds;
};

static void session_warn(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void session_warn(struct session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(s->out, RMG_WARN, s->target, NULL, fmt, ap);
    va_end(ap);
}

static void set_authorization(struct session *s, char *line)
{
    if (s->authorization) {
        explicit_bzero(s->authorization, strlen(s->authorization));
        free(s->authorization);
    }
    s->authorization = line;
}

/* Frees what a session holds (the authorization and credentials wiped first). */
static void session_release(struct session *s)
{
    set_authorization(s, NULL);
    creds_clear(&s->creds);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    s->curl = NULL;
}

/* Reads a credential file (auth.json or config.json) and looks host/repo up in it. A file
 * that is not there is silently skipped unless `must` (the user named it). */
static bool creds_from_file(struct session *s, const char *path, const char *label, bool must,
                            char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    char e[300];
    if (access(path, F_OK) != 0 && !must)
        return false;
    if (!rmg_read_file(path, 4u << 20, &data, &len, e, sizeof e)) {
        if (must)
            rmg_fmt(err, errlen, "%s: %s", label, e);
        else
            session_warn(s, "%s: %s (not used)", label, e);
        return false;
    }
    bool found = false;
    const char *p = data;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p != '{' && must) {
        /* --creds-file: "USER:PASS" on the first line */
        size_t n = strcspn(p, "\r\n");
        found = creds_from_pair(&s->creds, p, n);
        if (!found)
            rmg_fmt(err, errlen, "%s: holds neither USER:PASS nor a JSON auth file", label);
    } else {
        cJSON *j = cJSON_ParseWithLength(data, len);
        char warn[400];
        if (!j) {
            if (must)
                rmg_fmt(err, errlen, "%s: not valid JSON", label);
            else
                session_warn(s, "%s: not valid JSON (not used)", label);
        } else {
            found = creds_from_config(j, &s->ref, &s->creds, warn, sizeof warn);
            if (!found && warn[0] && !must)
                session_warn(s, "%s: %s", label, warn);
            if (!found && must && !warn[0])
                rmg_fmt(err, errlen, "%s: no login for %s", label, s->ref.host);
            else if (!found && must)
                rmg_fmt(err, errlen, "%s: %s", label, warn);
        }
        cJSON_Delete(j);
    }
    explicit_bzero(data, len);
    free(data);
    if (found)
        rmg_fmt(s->creds.from, sizeof s->creds.from, "%s", label);
    return found;
}

/* Finds the credentials for the registry, in order (see registry.h). False only on an
 * error with what the user named (--creds, --creds-file); no credentials at all is true. */
static bool load_creds(struct session *s, char *err, size_t errlen)
{
    if (s->creds_loaded)
        return true;
    s->creds_loaded = true;
    err[0] = '\0';
    if (s->opts->creds) {
        if (!creds_from_pair(&s->creds, s->opts->creds, strlen(s->opts->creds))) {
            rmg_fmt(err, errlen, "--creds wants USER:PASS");
            return false;
        }
        rmg_fmt(s->creds.from, sizeof s->creds.from, "--creds");
        return true;
    }
    if (s->opts->creds_file) {
        char label[600];
        rmg_fmt(label, sizeof label, "--creds-file %s", s->opts->creds_file);
        return creds_from_file(s, s->opts->creds_file, label, true, err, errlen);
    }
    struct rmg_buf path = {0};
    const char *v = getenv("REGISTRY_AUTH_FILE");
    bool found = false;
    if (v && *v) {
        rmg_buf_printf(&path, "REGISTRY_AUTH_FILE (%s)", v);
        if (access(v, F_OK) != 0)
            session_warn(s, "%s: %s", path.data ? path.data : v, strerror(errno));
        else
            found = creds_from_file(s, v, path.data ? path.data : v, false, err, errlen);
        rmg_buf_free(&path);
    }
    const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME"),
               *docker = getenv("DOCKER_CONFIG");
    if (!found && xdg && *xdg) {
        rmg_buf_printf(&path, "%s/containers/auth.json", xdg);
        found = path.data && creds_from_file(s, path.data, path.data, false, err, errlen);
        rmg_buf_free(&path);
    }
    if (!found && home && *home) {
        rmg_buf_printf(&path, "%s/.config/containers/auth.json", home);
        found = path.data && creds_from_file(s, path.data, path.data, false, err, errlen);
        rmg_buf_free(&path);
    }
    if (!found && ((docker && *docker) || (home && *home))) {
        if (docker && *docker)
            rmg_buf_printf(&path, "%s/config.json", docker);
        else
            rmg_buf_printf(&path, "%s/.docker/config.json", home);
        found = path.data && creds_from_file(s, path.data, path.data, false, err, errlen);
        rmg_buf_free(&path);
    }
    return true;
}

/* ---- HTTP ------------------------------------------------------------------------------- */

typedef bool (*sink_fn)(void *ud, const char *data, size_t len);

struct response {
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

struct request {
    CURL *c;
    struct response *resp;
    sink_fn sink; /* where a 2xx body goes; NULL: resp->body, up to max */
    void *ud;
    size_t max;
};

static void response_reset(struct response *r)
{
    rmg_buf_free(&r->body);
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
}

/* "Name: value" into out when the name matches (case-insensitive). */
static bool header_is(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    rmg_fmt(out, cap, "%.*s", (int)(end - v), v);
    return true;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct request *q = ud;
    struct response *r = q->resp;
    size_t len = size * n;
    char v[256];
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new answer (after a redirect) */
        r->content_type[0] = r->digest[0] = r->challenge[0] = r->link[0] = '\0';
        r->retry_after = -1;
    } else if (header_is(data, len, "Content-Type", r->content_type, sizeof r->content_type)) {
        char *semi = strchr(r->content_type, ';');
        if (semi)
            *semi = '\0';
        for (size_t k = strlen(r->content_type); k > 0 && r->content_type[k - 1] == ' '; k--)
            r->content_type[k - 1] = '\0';
    } else if (header_is(data, len, "Docker-Content-Digest", r->digest, sizeof r->digest)) {
    } else if (header_is(data, len, "WWW-Authenticate", r->challenge, sizeof r->challenge)) {
    } else if (header_is(data, len, "Link", r->link, sizeof r->link)) {
    } else if (header_is(data, len, "Retry-After", v, sizeof v)) {
        char *end;
        long secs = strtol(v, &end, 10);
        if (end != v && !*end && secs >= 0) {
            r->retry_after = secs;
        } else {
            time_t when = curl_getdate(v, NULL);
            if (when > 0)
                r->retry_after = when > time(NULL) ? (long)(when - time(NULL)) : 0;
        }
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct request *q = ud;
    struct response *r = q->resp;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(q->c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        if (r->body.len + len <= MAX_SMALL_BODY)
            rmg_buf_append(&r->body, data, len);
        return len;
    }
    if (q->sink) {
        r->delivered = true;
        return q->sink(q->ud, data, len) ? len : 0;
    }
    if (r->body.len + len > q->max) {
        r->too_big = true;
        return 0;
    }
    return rmg_buf_append(&r->body, data, len) ? len : 0;
}

/* The handle set up for one request: TLS as the user said, timeouts, redirects. */
static void easy_setup(struct session *s, const char *url, struct curl_slist *headers,
                       struct request *q, char *errbuf)
{
    CURL *c = s->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, s->opts->tls_verify_off ? "https,http" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                     s->opts->tls_verify_off ? "https,http" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "rummage");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (s->opts->tls_verify_off) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, q);
}

/* The registry's error JSON {"errors": [{"code": ..., "message": ...}]} as one line. */
static void registry_message(const struct response *r, char *out, size_t cap)
{
    cJSON *j = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(code) || cJSON_IsString(msg))
        rmg_fmt(out, cap, "%.100s%s%.300s", cJSON_IsString(code) ? code->valuestring : "",
                cJSON_IsString(code) && cJSON_IsString(msg) ? ": " : "",
                cJSON_IsString(msg) ? msg->valuestring : "");
    else
        out[0] = '\0';
    cJSON_Delete(j);
}

static void pause_seconds(long secs)
{
    struct timespec ts = {secs, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Worth another try: the connection broke or timed out (not: refused, unknown host). */
static bool transient(CURLcode rc)
{
    return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 ||
           rc == CURLE_HTTP2_STREAM;
}

static bool authenticate(struct session *s, const struct response *resp, char *err,
                         size_t errlen);

/* GET /v2/REPO/WHAT ("manifests/REF", "blobs/DIGEST"), or WHAT itself when it starts with
 * '/' (a path on the registry: "/v2/_catalog?n=1000"): authenticates on 401, retries 429,
 * 5xx and broken connections (before any byte of the body was delivered), follows
 * redirects. A 2xx body goes to sink (or into resp->body up to max). RMG_OK for a 2xx
 * answer; otherwise RMG_EINPUT with a message in err (never holding credentials). */
static enum rmg_status fetch(struct session *s, const char *what, bool manifest, sink_fn sink,
                             void *ud, size_t max, struct response *resp, char *err,
                             size_t errlen)
{
    int attempt = 1, auth_rounds = 0;
    for (;;) {
        response_reset(resp);
        struct rmg_buf url = {0};
        if (what[0] == '/')
            rmg_buf_printf(&url, "%s://%s%s", s->http ? "http" : "https", s->ref.host, what);
        else
            rmg_buf_printf(&url, "%s://%s/v2/%s/%s", s->http ? "http" : "https", s->ref.host,
                           s->ref.repo, what);
        struct curl_slist *h = NULL, *h2;
        bool ok = url.data != NULL;
        if (ok && manifest)
            ok = (h2 = curl_slist_append(h, accept_manifests)) && (h = h2);
        if (ok && s->authorization)
            ok = (h2 = curl_slist_append(h, s->authorization)) && (h = h2);
        if (!ok) {
            curl_slist_free_all(h);
            rmg_buf_free(&url);
            rmg_fmt(err, errlen, "out of memory");
            return RMG_ENOMEM;
        }
        struct request q = {s->curl, resp, sink, ud, max};
        char errbuf[CURL_ERROR_SIZE] = "";
        easy_setup(s, url.data, h, &q, errbuf);
        CURLcode rc = curl_easy_perform(s->curl);
        /* The header list holds the token: wipe it. */
        for (struct curl_slist *e = h; e; e = e->next)
            explicit_bzero(e->data, strlen(e->data));
        curl_slist_free_all(h);
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (rc != CURLE_OK && transient(rc) && !resp->delivered && attempt < TRIES) {
            pause_seconds(attempt++);
            rmg_buf_free(&url);
            continue;
        }
        if (rc != CURLE_OK && resp->status == 0) {
            if (!s->scheme_known && !s->http && s->opts->tls_verify_off &&
                rc == CURLE_SSL_CONNECT_ERROR) {
                s->http = true; /* it does not speak TLS: plain HTTP, as the user allowed */
                rmg_buf_free(&url);
                continue;
            }
            const char *hint = "";
            if (rc == CURLE_SSL_CONNECT_ERROR && !s->opts->tls_verify_off)
                hint = " (a registry that speaks plain HTTP needs --tls-verify=false)";
            else if (rc == CURLE_PEER_FAILED_VERIFICATION)
                hint = " (for a registry you trust without a valid certificate: "
                       "--tls-verify=false)";
            rmg_fmt(err, errlen, "cannot reach the registry at %s://%s: %s%s",
                    s->http ? "http" : "https", s->ref.host,
                    errbuf[0] ? errbuf : curl_easy_strerror(rc), hint);
            rmg_buf_free(&url);
            return RMG_EINPUT;
        }
        s->scheme_known = true;
        rmg_buf_free(&url);
        long st = resp->status;
        if (rc == CURLE_OK && st == 401 && auth_rounds < 2) {
            auth_rounds++;
            if (!authenticate(s, resp, err, errlen))
                return RMG_EINPUT;
            continue;
        }
        if (rc == CURLE_OK && (st == 429 || st >= 500) && attempt < TRIES) {
            long wait = resp->retry_after >= 0 ? resp->retry_after : attempt;
            if (wait > MAX_RETRY_WAIT)
                wait = MAX_RETRY_WAIT;
            if (s->ctx->progress == 2)
                fprintf(stderr, "rummage: the registry answered HTTP %ld; trying again in "
                                "%ld s\n", st, wait);
            pause_seconds(wait);
            attempt++;
            continue;
        }
        if (st >= 200 && st <= 299 && rc == CURLE_OK)
            return RMG_OK;
        if (st >= 200 && st <= 299) {
            if (resp->too_big)
                rmg_fmt(err, errlen, "larger than %zu bytes: not read", max);
            else
                rmg_fmt(err, errlen, "transfer from the registry failed: %s",
                        errbuf[0] ? errbuf : curl_easy_strerror(rc));
            return RMG_EINPUT;
        }
        char msg[500];
        registry_message(resp, msg, sizeof msg);
        if (st == 401)
            rmg_fmt(err, errlen, "access denied (HTTP 401)%s%s%s%s", msg[0] ? ": " : "", msg,
                    s->creds.user ? " with the credentials from " : "; no credentials found",
                    s->creds.user ? s->creds.from : " (give --creds or --creds-file)");
        else
            rmg_fmt(err, errlen, "the registry answered HTTP %ld%s%s", st, msg[0] ? ": " : "",
                    msg);
        return RMG_EINPUT;
    }
}

/* One parameter of a challenge: realm="...", service="...", scope="..." (quoted, with
 * backslash escapes, or a bare token). */
static bool challenge_param(const char *ch, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *p = ch;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *key = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ')
            p++;
        size_t kl = (size_t)(p - key);
        if (*p != '=') {
            continue;
        }
        p++;
        size_t o = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                if (o + 1 < cap)
                    out[o++] = *p;
                p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',' && *p != ' ')
                if (o + 1 < cap)
                    out[o++] = *p++;
                else
                    p++;
        }
        out[o] = '\0';
        if (kl == n && strncasecmp(key, name, n) == 0)
            return true;
    }
    out[0] = '\0';
    return false;
}

static char *basic_header(const struct creds *c)
{
    size_t ul = strlen(c->user), pl = strlen(c->pass), n = ul + 1 + pl;
    char *pair = malloc(n + 1);
    char *line = malloc(4 * (n / 3 + 1) + 32);
    if (!pair || !line) {
        free(pair);
        free(line);
        return NULL;
    }
    memcpy(pair, c->user, ul);
    pair[ul] = ':';
    memcpy(pair + ul + 1, c->pass, pl);
    static const char prefix[] = "Authorization: Basic ";
    memcpy(line, prefix, sizeof prefix - 1);
    EVP_EncodeBlock((unsigned char *)line + sizeof prefix - 1, (const unsigned char *)pair, (int)n);
    explicit_bzero(pair, n);
    free(pair);
    return line;
}

/* GET realm?service=...&scope=... (with basic credentials if there are any): the token. */
static bool fetch_token(struct session *s, const char *challenge, char *err, size_t errlen)
{
    char realm[1024], service[512], scope[1024];
    if (!challenge_param(challenge, "realm", realm, sizeof realm) || !realm[0]) {
        rmg_fmt(err, errlen, "the registry's Bearer challenge names no realm");
        return false;
    }
    bool https = strncasecmp(realm, "https://", 8) == 0;
    if (!https && !(strncasecmp(realm, "http://", 7) == 0 && s->opts->tls_verify_off)) {
        rmg_fmt(err, errlen, "the registry's token server %.300s is not https%s", realm,
                strncasecmp(realm, "http://", 7) == 0 ? " (allowed only with --tls-verify=false)"
                                                      : "");
        return false;
    }
    challenge_param(challenge, "service", service, sizeof service);
    if ((!challenge_param(challenge, "scope", scope, sizeof scope) || !scope[0]) &&
        s->ref.repo[0])
        rmg_fmt(scope, sizeof scope, "repository:%s:pull", s->ref.repo);
    else if (!scope[0]) /* no repository: the catalog */
        rmg_fmt(scope, sizeof scope, "registry:catalog:*");
    struct rmg_buf url = {0};
    rmg_buf_puts(&url, realm);
    char sep = strchr(realm, '?') ? '&' : '?';
    if (service[0]) {
        char *e = curl_easy_escape(s->curl, service, 0);
        rmg_buf_printf(&url, "%cservice=%s", sep, e ? e : "");
        curl_free(e);
        sep = '&';
    }
    char *e = curl_easy_escape(s->curl, scope, 0);
    rmg_buf_printf(&url, "%cscope=%s", sep, e ? e : "");
    curl_free(e);
    if (!url.data) {
        rmg_fmt(err, errlen, "out of memory");
        return false;
    }
    struct response resp;
    memset(&resp, 0, sizeof resp);
    response_reset(&resp);
    struct request q = {s->curl, &resp, NULL, NULL, MAX_SMALL_BODY};
    char errbuf[CURL_ERROR_SIZE] = "";
    easy_setup(s, url.data, NULL, &q, errbuf);
    /* The credentials go to the token server only, never along a redirect. */
    curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
    if (s->creds.user) {
        curl_easy_setopt(s->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(s->curl, CURLOPT_USERNAME, s->creds.user);
        curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->creds.pass);
    }
    CURLcode rc = CURLE_OK;
    for (int attempt = 1; attempt <= TRIES; attempt++) {
        response_reset(&resp);
        rc = curl_easy_perform(s->curl);
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &resp.status);
        if (rc == CURLE_OK && (resp.status == 429 || resp.status >= 500) && attempt < TRIES) {
            long wait = resp.retry_after >= 0 ? resp.retry_after : attempt;
            pause_seconds(wait > MAX_RETRY_WAIT ? MAX_RETRY_WAIT : wait);
            continue;
        }
        if (rc != CURLE_OK && transient(rc) && attempt < TRIES) {
            pause_seconds(attempt);
            continue;
        }
        break;
    }
    curl_easy_setopt(s->curl, CURLOPT_USERNAME, NULL);
    curl_easy_setopt(s->curl, CURLOPT_PASSWORD, NULL);
    /* The realm without its query, for messages. */
    char where[400];
    rmg_fmt(where, sizeof where, "%.*s", (int)strcspn(realm, "?"), realm);
    bool ok = false;
    if (rc != CURLE_OK) {
        rmg_fmt(err, errlen, "cannot reach the registry's token server %s: %s", where,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
    } else if (resp.status == 401 || resp.status == 403) {
        if (s->creds.user)
            rmg_fmt(err, errlen, "the token server %s refused the credentials from %s "
                                 "(HTTP %ld)", where, s->creds.from, resp.status);
        else
            rmg_fmt(err, errlen, "the registry wants credentials (the token server %s "
                                 "answered HTTP %ld): give --creds or --creds-file, or log in "
                                 "(REGISTRY_AUTH_FILE, ~/.docker/config.json)", where,
                    resp.status);
    } else if (resp.status != 200) {
        rmg_fmt(err, errlen, "the registry's token server %s answered HTTP %ld", where,
                resp.status);
    } else {
        cJSON *j = resp.body.data ? cJSON_ParseWithLength(resp.body.data, resp.body.len) : NULL;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
        if (!cJSON_IsString(t) || !*t->valuestring)
            t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
        if (!cJSON_IsString(t) || !*t->valuestring || strpbrk(t->valuestring, "\r\n")) {
            rmg_fmt(err, errlen, "the token server %s gave no token", where);
        } else {
            struct rmg_buf line = {0};
            rmg_buf_printf(&line, "Authorization: Bearer %s", t->valuestring);
            explicit_bzero(t->valuestring, strlen(t->valuestring));
            ok = line.data != NULL;
            if (ok)
                set_authorization(s, line.data);
            else
                rmg_fmt(err, errlen, "out of memory");
        }
        cJSON_Delete(j);
    }
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    rmg_buf_free(&resp.body);
    explicit_bzero(url.data, url.len);
    rmg_buf_free(&url);
    return ok;
}

/* Answers a 401: Basic sends the credentials, Bearer gets a token. False with a message when
 * it cannot (no credentials, refused, a broken token server). */
static bool authenticate(struct session *s, const struct response *resp, char *err,
                         size_t errlen)
{
    char msg[500];
    registry_message(resp, msg, sizeof msg);
    if (!load_creds(s, err, errlen))
        return false;
    const char *ch = resp->challenge;
    while (*ch == ' ')
        ch++;
    if (strncasecmp(ch, "Bearer", 6) == 0 && (ch[6] == ' ' || !ch[6]))
        return fetch_token(s, ch + 6, err, errlen);
    if (strncasecmp(ch, "Basic", 5) == 0 && (ch[5] == ' ' || !ch[5])) {
        if (!s->creds.user) {
            rmg_fmt(err, errlen, "the registry wants credentials (HTTP 401%s%s): give --creds "
                                 "or --creds-file, or log in (REGISTRY_AUTH_FILE, "
                                 "~/.docker/config.json)", msg[0] ? ": " : "", msg);
            return false;
        }
        char *line = basic_header(&s->creds);
        if (!line) {
            rmg_fmt(err, errlen, "out of memory");
            return false;
        }
        if (s->authorization && strcmp(s->authorization, line) == 0) {
            explicit_bzero(line, strlen(line));
            free(line);
            rmg_fmt(err, errlen, "the registry refused the credentials from %s (HTTP 401%s%s)",
                    s->creds.from, msg[0] ? ": " : "", msg);
            return false;
        }
        set_authorization(s, line);
        return true;
    }
    rmg_fmt(err, errlen, "HTTP 401 %s%s(authentication scheme '%.*s' not supported)", msg,
            msg[0] ? " " : "", (int)strcspn(ch, " "), ch[0] ? ch : "none");
    return false;
}

/* ---- the image source ------------------------------------------------------------------- */

struct reg_source {
    struct rmg_ondemand_source base; /* first: the callbacks get this pointer */
    struct session *s;
    char **manifests; /* digests an index lists: fetched from /manifests/ */
    size_t n_manifests, cap_manifests;
};

static bool is_manifest(const struct reg_source *r, const char *digest)
{
    for (size_t i = 0; i < r->n_manifests; i++)
        if (strcmp(r->manifests[i], digest) == 0)
            return true;
    return false;
}

/* Remembers the digests an index lists (they are manifests, fetched as such). */
static void note_manifests(struct reg_source *r, const char *json, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
        const cJSON *dg = cJSON_GetObjectItemCaseSensitive(d, "digest");
        if (!cJSON_IsString(dg) || is_manifest(r, dg->valuestring))
            continue;
        if (r->n_manifests == r->cap_manifests) {
            size_t cap = r->cap_manifests ? r->cap_manifests * 2 : 8;
            char **v = realloc(r->manifests, cap * sizeof *v);
            if (!v)
                break;
            r->manifests = v;
            r->cap_manifests = cap;
        }
        if ((r->manifests[r->n_manifests] = rmg_strdup(dg->valuestring)))
            r->n_manifests++;
    }
    cJSON_Delete(j);
}

/* "blobs/ALG/HEX" -> "ALG:HEX"; false for any other name. */
static bool name_digest(const char *name, char *out, size_t cap)
{
    if (strncmp(name, "blobs/", 6) != 0)
        return false;
    const char *alg = name + 6, *slash = strchr(alg, '/');
    if (!slash || slash == alg || strchr(slash + 1, '/'))
        return false;
    rmg_fmt(out, cap, "%.*s:%s", (int)(slash - alg), alg, slash + 1);
    return digest_md(out) != NULL;
}

/* The hex digest of data with md. */
static void hex_digest(const EVP_MD *md, const void *data, size_t len, char *out, size_t cap)
{
    unsigned char v[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (!md || !EVP_Digest(data, len, v, &n, md, NULL))
        return;
    for (unsigned int i = 0; i < n && 2 * i + 2 < cap; i++)
        rmg_fmt(out + 2 * i, 3, "%02x", v[i]);
}

/* The hex digest of data with the algorithm of `digest` ("ALG:HEX"). */
static void digest_of(const char *digest, const void *data, size_t len, char *out, size_t cap)
{
    hex_digest(digest_md(digest), data, len, out, cap);
}

static bool digest_matches(const char *digest, const void *data, size_t len)
{
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    digest_of(digest, data, len, hex, sizeof hex);
    const char *colon = strchr(digest, ':');
    return hex[0] && colon && strcmp(colon + 1, hex) == 0;
}

/* Keeps a JSON document (taking ownership of body) as blob "blobs/ALG/HEX". */
static struct rmg_blob *keep_json(struct reg_source *r, const char *name, struct rmg_buf *body,
                                  char *err, size_t errlen)
{
    struct rmg_blob *b = rmg_blobs_add(&r->base.base.blobs, name);
    if (!b) {
        rmg_fmt(err, errlen, "out of memory");
        rmg_buf_free(body);
        return NULL;
    }
    b->json = body->data ? body->data : rmg_strdup("");
    b->json_len = body->len;
    b->size = body->len;
    memset(body, 0, sizeof *body);
    note_manifests(r, b->json, b->json_len);
    return b;
}

static bool schema1(const char *content_type)
{
    return strncmp(content_type, MT_DOCKER_V1, strlen(MT_DOCKER_V1)) == 0;
}

static struct rmg_blob *reg_get_json(struct rmg_image_source *src, const char *name, char *err,
                                     size_t errlen)
{
    struct reg_source *r = (struct reg_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b) {
        if (!b->json)
            rmg_fmt(err, errlen, "not a JSON document");
        return b->json ? b : NULL;
    }
    char digest[200];
    if (!name_digest(name, digest, sizeof digest)) {
        rmg_fmt(err, errlen, "not in a registry");
        return NULL;
    }
    bool manifest = is_manifest(r, digest);
    char what[300];
    rmg_fmt(what, sizeof what, "%s/%s", manifest ? "manifests" : "blobs", digest);
    struct response resp;
    memset(&resp, 0, sizeof resp);
    enum rmg_status st = fetch(r->s, what, manifest, NULL, NULL, r->s->ctx->limits.max_json,
                               &resp, err, errlen);
    if (st != RMG_OK) {
        rmg_buf_free(&resp.body);
        return NULL;
    }
    if (manifest && schema1(resp.content_type)) {
        rmg_fmt(err, errlen, "a Docker schema 1 manifest (%s): not supported",
                resp.content_type);
        rmg_buf_free(&resp.body);
        return NULL;
    }
    if (!digest_matches(digest, resp.body.data ? resp.body.data : "", resp.body.len)) {
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        digest_of(digest, resp.body.data ? resp.body.data : "", resp.body.len, hex, sizeof hex);
        rmg_fmt(err, errlen, "digest mismatch: the registry sent %zu bytes whose digest is "
                             "%.*s:%.16s..., not %s: not used", resp.body.len,
                (int)strcspn(digest, ":"), digest, hex, digest);
        rmg_buf_free(&resp.body);
        return NULL;
    }
    return keep_json(r, name, &resp.body, err, errlen);
}

/* Where a layer digest sits in the manifests read so far: its index and size (the first
 * manifest listing it). */
static void layer_info(const struct reg_source *r, const char *digest, int *index,
                       uint64_t *size)
{
    *index = -1;
    *size = 0;
    const struct rmg_blobs *bs = &r->base.base.blobs;
    for (size_t i = 0; i < bs->n && *index < 0; i++) {
        if (!bs->v[i].json)
            continue;
        cJSON *j = cJSON_ParseWithLength(bs->v[i].json, bs->v[i].json_len);
        int k = 0;
        const cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(j, "layers")) {
            const cJSON *dg = cJSON_GetObjectItemCaseSensitive(l, "digest");
            const cJSON *sz = cJSON_GetObjectItemCaseSensitive(l, "size");
            if (cJSON_IsString(dg) && strcmp(dg->valuestring, digest) == 0) {
                *index = k;
                *size = cJSON_IsNumber(sz) && sz->valuedouble > 0 ? (uint64_t)sz->valuedouble : 0;
                break;
            }
            k++;
        }
        cJSON_Delete(j);
    }
}

/* A layer's transfer: a thread runs it, writing into one end of a socket pair. */
struct layer_transfer {
    struct session *s;
    char what[300];
    int fd;
    EVP_MD_CTX *md;
    uint64_t bytes;
    bool hash_ok;
    enum rmg_status st;
    char err[600];
};

static bool to_socket(void *ud, const char *data, size_t len)
{
    struct layer_transfer *t = ud;
    if (!EVP_DigestUpdate(t->md, data, len))
        t->hash_ok = false;
    t->bytes += len;
    return rmg_send_all(t->fd, data, len); /* false: the reader stopped, abort */
}

static void *transfer_main(void *arg)
{
    struct layer_transfer *t = arg;
    struct response resp;
    memset(&resp, 0, sizeof resp);
    t->st = fetch(t->s, t->what, false, to_socket, t, 0, &resp, t->err, sizeof t->err);
    rmg_buf_free(&resp.body);
    shutdown(t->fd, SHUT_WR);
    close(t->fd);
    return NULL;
}

/* A session of its own for a layer transferred beside others: the same registry, scheme,
 * authorization and credentials, another curl handle; its warnings go to out. NULL on out of
 * memory. */
static struct session *session_clone(const struct session *s, struct rmg_results *out)
{
    struct session *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *s;
    c->out = out;
    c->authorization = NULL;
    c->creds.user = c->creds.pass = NULL;
    c->curl = curl_easy_init();
    bool ok = c->curl && (!s->authorization || (c->authorization = rmg_strdup(s->authorization)));
    if (ok && s->creds.user)
        ok = creds_set(&c->creds, s->creds.user, strlen(s->creds.user), s->creds.pass,
                       strlen(s->creds.pass));
    if (!ok) {
        session_release(c);
        free(c);
        return NULL;
    }
    return c;
}

/* One layer being fetched: the transfer thread writes the blob into one end of a socket pair,
 * the walk reads the other (in the planner's thread, or in a layer thread of its own). */
struct layer_fetch {
    struct reg_source *r;
    struct session *own;         /* the transfer's own session (beside others), or NULL */
    struct rmg_results warnings; /* own's */
    struct layer_transfer t;
    pthread_t th;
    int fd;                      /* the reading end */
    char *name;
    char digest[200];
    char label[64];              /* "layer N: " */
    uint64_t size;               /* the manifest's, 0 if unknown */
};

static void layer_fetch_free(struct layer_fetch *f)
{
    if (f->own) {
        session_release(f->own);
        free(f->own);
    }
    rmg_results_clear(&f->warnings);
    EVP_MD_CTX_free(f->t.md);
    free(f->name);
    free(f);
}

/* Reads the rest of the transfer (the walk stops at the tar's end: the digest covers it all),
 * waits for it and passes on its session's warnings. */
static void layer_fetch_end(struct layer_fetch *f)
{
    char sink[16384];
    ssize_t got;
    while ((got = read(f->fd, sink, sizeof sink)) > 0 || (got < 0 && errno == EINTR))
        ;
    close(f->fd);
    pthread_join(f->th, NULL);
    for (size_t i = 0; i < f->warnings.n_errors; i++) {
        const struct rmg_error *e = &f->warnings.errors[i];
        rmg_source_image_error(&f->r->base, e->status, e->path, "%s", e->message);
    }
}

/* The walk of a layer whose first byte has arrived, and the check of its digest. False (a
 * message in err) on out of memory, with nothing recorded. */
static bool layer_fetch_walk(struct layer_fetch *f, char *err, size_t errlen)
{
    struct reg_source *r = f->r;
    const char *name = f->name;
    struct rmg_blob *b = rmg_source_image_walk_fd(&r->base, name, f->fd, f->size, false, err,
                                                  errlen);
    layer_fetch_end(f);
    unsigned char v[EVP_MAX_MD_SIZE];
    unsigned int vl = 0;
    f->t.hash_ok = EVP_DigestFinal_ex(f->t.md, v, &vl) && f->t.hash_ok;
    if (!b)
        return false;
    if (f->t.st != RMG_OK) {
        rmg_source_image_error(&r->base, RMG_EINPUT, name, "%sthe transfer broke after %llu "
                               "bytes: %s", f->label, (unsigned long long)f->t.bytes, f->t.err);
        return true;
    }
    char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
    for (unsigned int i = 0; i < vl; i++)
        rmg_fmt(hex + 2 * i, 3, "%02x", v[i]);
    const char *digest = f->digest, *want = strchr(digest, ':') + 1;
    if (!f->t.hash_ok || strcmp(hex, want) != 0)
        rmg_source_image_error(&r->base, RMG_EINPUT, name,
                               "%sdigest mismatch: the registry sent %llu bytes whose digest "
                               "is %.*s:%.16s..., not %s: this is not the layer the manifest "
                               "names (what it holds is reported, but not trusted)",
                               f->label, (unsigned long long)f->t.bytes,
                               (int)strcspn(digest, ":"), digest, f->t.hash_ok ? hex : "?",
                               digest);
    else if (f->size && f->t.bytes != f->size)
        rmg_source_image_error(&r->base, RMG_WARN, name, "%s%llu bytes, the manifest says "
                               "%llu", f->label, (unsigned long long)f->t.bytes,
                               (unsigned long long)f->size);
    else
        rmg_source_image_verified(&r->base, name);
    return true;
}

/* layer_fetch_walk in a layer thread of its own. */
static void layer_fetch_main(void *arg)
{
    struct layer_fetch *f = arg;
    char err[512];
    if (!layer_fetch_walk(f, err, sizeof err))
        rmg_source_image_error(&f->r->base, RMG_ENOMEM, f->name, "%s%s", f->label, err);
    layer_fetch_free(f);
}

/* A layer that could not be fetched: gives its place among the layer threads back. */
static struct rmg_blob *layer_fetch_fail(struct layer_fetch *f, bool reserved)
{
    if (reserved)
        rmg_source_image_unreserve(&f->r->base);
    layer_fetch_free(f);
    return NULL;
}

static struct rmg_blob *reg_get_layer(struct rmg_image_source *src, const char *name, char *err,
                                      size_t errlen)
{
    struct reg_source *r = (struct reg_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b && b->layer)
        return b;
    struct layer_fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->name = rmg_strdup(name))) {
        free(f);
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    f->r = r;
    rmg_results_init(&f->warnings);
    if (!name_digest(name, f->digest, sizeof f->digest)) {
        rmg_fmt(err, errlen, "%s: not a digest this registry source can check", name);
        layer_fetch_free(f);
        return NULL;
    }
    /* Beside other layers (once one of the places for them is free: a transfer must not wait
     * for its reader, it would time out), the transfer needs a session of its own. */
    bool reserved = rmg_source_image_reserve(&r->base);
    if (reserved && !(f->own = session_clone(r->s, &f->warnings))) {
        rmg_source_image_unreserve(&r->base);
        reserved = false;
    }
    f->t = (struct layer_transfer){.s = f->own ? f->own : r->s, .md = EVP_MD_CTX_new(),
                                   .hash_ok = true};
    rmg_fmt(f->t.what, sizeof f->t.what, "blobs/%s", f->digest);
    int sv[2];
    if (!f->t.md || !EVP_DigestInit_ex(f->t.md, digest_md(f->digest), NULL) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        rmg_fmt(err, errlen, "cannot start the transfer: %s", strerror(errno));
        return layer_fetch_fail(f, reserved);
    }
    f->t.fd = sv[1];
    f->fd = sv[0];
    if (pthread_create(&f->th, NULL, transfer_main, &f->t) != 0) {
        close(sv[0]);
        close(sv[1]);
        rmg_fmt(err, errlen, "cannot start the transfer thread");
        return layer_fetch_fail(f, reserved);
    }
    /* Wait for the first byte: a registry that sends no layer is this layer's error. */
    char c;
    ssize_t n;
    while ((n = recv(f->fd, &c, 1, MSG_PEEK)) < 0 && errno == EINTR)
        ;
    int index;
    layer_info(r, f->digest, &index, &f->size);
    if (index >= 0)
        rmg_fmt(f->label, sizeof f->label, "layer %d: ", index);
    if (n <= 0) {
        layer_fetch_end(f);
        if (f->t.st == RMG_OK)
            rmg_fmt(err, errlen, "the registry sent an empty blob for %s", f->digest);
        else
            rmg_fmt(err, errlen, "%s", f->t.err);
        return layer_fetch_fail(f, reserved);
    }
    if (reserved && (b = rmg_source_image_start_layer(&r->base, name, f->size, layer_fetch_main,
                                                      f)))
        return b;
    bool walked = layer_fetch_walk(f, err, errlen);
    layer_fetch_free(f);
    return walked ? rmg_blobs_find(&src->blobs, name) : NULL;
}

/* The synthetic index.json: one descriptor, the manifest the reference names. */
static char *synthetic_index(const struct ref *ref, const char *media_type, const char *digest,
                             size_t size)
{
    cJSON *ix = cJSON_CreateObject(), *ms = cJSON_CreateArray(), *d = cJSON_CreateObject(),
          *ann = cJSON_CreateObject();
    char *text = NULL;
    if (ix && ms && d && ann) {
        cJSON_AddNumberToObject(ix, "schemaVersion", 2);
        cJSON_AddStringToObject(ix, "mediaType", MT_OCI_INDEX);
        cJSON_AddStringToObject(d, "mediaType", media_type);
        cJSON_AddStringToObject(d, "digest", digest);
        cJSON_AddNumberToObject(d, "size", (double)size);
        if (ref->tag[0])
            cJSON_AddStringToObject(ann, "org.opencontainers.image.ref.name", ref->tag);
        cJSON_AddStringToObject(ann, "io.containerd.image.name", ref->name);
        cJSON_AddItemToObject(d, "annotations", ann);
        ann = NULL;
        cJSON_AddItemToArray(ms, d);
        d = NULL;
        cJSON_AddItemToObject(ix, "manifests", ms);
        ms = NULL;
        text = cJSON_PrintUnformatted(ix);
    }
    cJSON_Delete(ann);
    cJSON_Delete(d);
    cJSON_Delete(ms);
    cJSON_Delete(ix);
    return text;
}

/* Fetches the manifest the reference names and keeps it with the synthetic index.json. */
static bool fetch_top(struct reg_source *r, char *err, size_t errlen)
{
    struct session *s = r->s;
    char what[400];
    rmg_fmt(what, sizeof what, "manifests/%s", s->ref.digest[0] ? s->ref.digest : s->ref.tag);
    struct response resp;
    memset(&resp, 0, sizeof resp);
    if (fetch(s, what, true, NULL, NULL, s->ctx->limits.max_json, &resp, err, errlen) != RMG_OK) {
        rmg_buf_free(&resp.body);
        return false;
    }
    const char *body = resp.body.data ? resp.body.data : "";
    char digest[200], hex[2 * EVP_MAX_MD_SIZE + 1];
    bool ok = false;
    if (schema1(resp.content_type)) {
        rmg_fmt(err, errlen, "a Docker schema 1 manifest (%s): not supported; the registry "
                             "has no schema 2 or OCI manifest for %s", resp.content_type,
                s->ref.name);
    } else if (s->ref.digest[0] && !digest_matches(s->ref.digest, body, resp.body.len)) {
        digest_of(s->ref.digest, body, resp.body.len, hex, sizeof hex);
        rmg_fmt(err, errlen, "digest mismatch: the registry sent a manifest whose digest is "
                             "%.*s:%.16s..., not %s: not used",
                (int)strcspn(s->ref.digest, ":"), s->ref.digest, hex, s->ref.digest);
    } else if (!s->ref.digest[0] && resp.digest[0] && digest_md(resp.digest) &&
               !digest_matches(resp.digest, body, resp.body.len)) {
        rmg_fmt(err, errlen, "digest mismatch: the manifest the registry sent does not have "
                             "the digest it names (Docker-Content-Digest %.200s): not used",
                resp.digest);
    } else {
        if (s->ref.digest[0])
            rmg_fmt(digest, sizeof digest, "%s", s->ref.digest);
        else if (resp.digest[0] && digest_md(resp.digest))
            rmg_fmt(digest, sizeof digest, "%s", resp.digest);
        else {
            hex_digest(EVP_sha256(), body, resp.body.len, hex, sizeof hex);
            rmg_fmt(digest, sizeof digest, "sha256:%s", hex);
        }
        ok = true;
    }
    if (!ok) {
        rmg_buf_free(&resp.body);
        return false;
    }
    const char *colon = strchr(digest, ':');
    char name[300];
    rmg_fmt(name, sizeof name, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
    size_t size = resp.body.len;
    /* A manifest without a Content-Type the image model can tell apart by its body. */
    const char *mt = resp.content_type[0] ? resp.content_type : MT_OCI_MANIFEST;
    char *index = synthetic_index(&s->ref, mt, digest, size);
    if (!index || !keep_json(r, name, &resp.body, err, errlen)) {
        free(index);
        rmg_buf_free(&resp.body);
        rmg_fmt(err, errlen, "out of memory");
        return false;
    }
    struct rmg_blob *b = rmg_blobs_add(&r->base.base.blobs, "index.json");
    if (!b) {
        free(index);
        rmg_fmt(err, errlen, "out of memory");
        return false;
    }
    b->json = index;
    b->json_len = strlen(index);
    return true;
}

enum rmg_status rmg_source_registry(const struct rmg_scan_ctx *ctx,
                                    const struct rmg_registry_opts *opts, const char *target,
                                    const char *spec, struct rmg_results *out)
{
    static const struct rmg_registry_opts none = {0};
    char err[1024];
    struct session s = {.ctx = ctx, .opts = opts ? opts : &none, .target = target, .out = out};
    if (!parse_any_ref(spec, s.opts->default_registry, &s.ref, err, sizeof err)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(s.curl = curl_easy_init())) {
        rmg_results_add_error(out, RMG_ENOMEM, target, NULL, "out of memory");
        return RMG_ENOMEM;
    }
    struct reg_source r = {.base = {.base = {.get_json = reg_get_json,
                                             .get_layer = reg_get_layer,
                                             .target = target}},
                           .s = &s};
    enum rmg_status st;
    if (!fetch_top(&r, err, sizeof err)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", err);
        rmg_blobs_free(&r.base.base.blobs);
        st = RMG_EINPUT;
    } else {
        st = rmg_source_image_ondemand(ctx, target, &r.base, NULL, out);
    }
    for (size_t i = 0; i < r.n_manifests; i++)
        free(r.manifests[i]);
    free(r.manifests);
    session_release(&s);
    return st;
}

/* ---- listing: --all-tags and --all-repos ------------------------------------------------ */

#define MAX_LISTED 100000          /* tags of a repository, repositories, targets in all */
#define MAX_LIST_BODY (32u << 20)  /* one page of a list */
#define LIST_PAGE "n=1000"         /* the page size asked for (the registry may give fewer) */

struct strv {
    char **v;
    size_t n, cap;
};

/* Appends s (taken: freed on failure). */
static bool strv_push(struct strv *a, char *s)
{
    if (!s)
        return false;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return false;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = s;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and drops duplicates. */
static void strv_sort_unique(struct strv *a)
{
    if (a->n)
        qsort(a->v, a->n, sizeof *a->v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (k && strcmp(a->v[k - 1], a->v[i]) == 0)
            free(a->v[i]);
        else
            a->v[k++] = a->v[i];
    }
    a->n = k;
}

/* The rel="next" URL of a Link header as a path on this registry ("/v2/..."): true with out
 * set, or out "" when there is none; false (with a message) for a link elsewhere. */
static bool next_link(const struct session *s, const char *link, char *out, size_t cap,
                      char *err, size_t errlen)
{
    out[0] = '\0';
    for (const char *start = strchr(link, '<'); start; start = strchr(start, '<')) {
        start++;
        const char *end = strchr(start, '>');
        if (!end)
            break;
        const char *params = end + 1, *stop = strchr(params, '<');
        size_t pl = stop ? (size_t)(stop - params) : strlen(params);
        char par[512];
        rmg_fmt(par, sizeof par, "%.*s", (int)(pl < 500 ? pl : 500), params);
        if (!strstr(par, "rel=\"next\"") && !strstr(par, "rel=next")) {
            start = end + 1;
            continue;
        }
        size_t ul = (size_t)(end - start), hl = strlen(s->ref.host);
        const char *path = start;
        static const char *const schemes[] = {"https://", "http://"};
        for (int k = 0; k < 2; k++) {
            size_t kl = strlen(schemes[k]);
            if (ul <= kl || strncasecmp(start, schemes[k], kl) != 0)
                continue;
            if (ul <= kl + hl || strncasecmp(start + kl, s->ref.host, hl) != 0 ||
                start[kl + hl] != '/') {
                rmg_fmt(err, errlen, "the next page is on another host (%.*s): not followed",
                        (int)(ul > 200 ? 200 : ul), start);
                return false;
            }
            path = start + kl + hl;
            break;
        }
        size_t pathl = (size_t)(end - path);
        if (pathl < 4 || strncmp(path, "/v2/", 4) != 0 || pathl >= cap ||
            memchr(path, ' ', pathl)) {
            rmg_fmt(err, errlen, "the next page link (%.*s) is not a /v2/ path on the registry",
                    (int)(ul > 200 ? 200 : ul), start);
            return false;
        }
        rmg_fmt(out, cap, "%.*s", (int)pathl, path);
        return true;
    }
    return true;
}

/* GET first and each next page (Link rel="next"): the strings of the array `key` of each
 * page's JSON object, checked by `valid`, into out (at most MAX_LISTED). `what` names the list
 * in messages. */
static bool fetch_list(struct session *s, const char *first, const char *key,
                       bool (*valid)(const char *, size_t), const char *what, struct strv *out,
                       char *err, size_t errlen)
{
    char path[2100], e[900];
    rmg_fmt(path, sizeof path, "%s", first);
    size_t skipped = 0;
    while (path[0]) {
        struct response resp;
        memset(&resp, 0, sizeof resp);
        if (fetch(s, path, false, NULL, NULL, MAX_LIST_BODY, &resp, e, sizeof e) != RMG_OK) {
            rmg_buf_free(&resp.body);
            rmg_fmt(err, errlen, "listing %s: %s%s", what, e,
                    strcmp(key, "repositories") == 0 && (resp.status == 404 ||
                                                         resp.status == 403)
                        ? " (the registry does not offer its catalog to these credentials)"
                        : "");
            return false;
        }
        cJSON *j = resp.body.data ? cJSON_ParseWithLength(resp.body.data, resp.body.len) : NULL;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, key);
        bool ok = cJSON_IsObject(j) && (!arr || cJSON_IsNull(arr) || cJSON_IsArray(arr));
        if (!ok)
            rmg_fmt(err, errlen, "listing %s: the answer to GET %.200s is not {\"%s\": [...]}",
                    what, path, key);
        size_t before = out->n;
        const cJSON *it, *list = ok && cJSON_IsArray(arr) ? arr : (const cJSON *)NULL;
        cJSON_ArrayForEach(it, list) {
            if (!cJSON_IsString(it) || !valid(it->valuestring, strlen(it->valuestring))) {
                skipped++;
                continue;
            }
            if (out->n >= MAX_LISTED) {
                rmg_fmt(err, errlen, "listing %s: more than %d: not scanned (name fewer)", what,
                        MAX_LISTED);
                ok = false;
                break;
            }
            if (!strv_push(out, rmg_strdup(it->valuestring))) {
                rmg_fmt(err, errlen, "out of memory");
                ok = false;
                break;
            }
        }
        char next[2100] = "";
        if (ok && !next_link(s, resp.link, next, sizeof next, e, sizeof e)) {
            rmg_fmt(err, errlen, "listing %s: %s", what, e);
            ok = false;
        }
        if (ok && next[0] && (out->n == before || strcmp(next, path) == 0)) {
            rmg_fmt(err, errlen, "listing %s: the registry's pages do not advance (%.200s)",
                    what, next);
            ok = false;
        }
        cJSON_Delete(j);
        rmg_buf_free(&resp.body);
        if (!ok)
            return false;
        rmg_fmt(path, sizeof path, "%s", next);
    }
    if (skipped)
        session_warn(s, "listing %s: %zu name%s not valid, skipped", what, skipped,
                     skipped == 1 ? "" : "s");
    return true;
}

static bool valid_tag_name(const char *t, size_t n)
{
    return valid_tag(t, n);
}

static bool valid_repo_name(const char *r, size_t n)
{
    return n < sizeof ((struct ref *)0)->repo && valid_repo(r, n);
}

/* The tags of s->ref.repo as targets "docker://HOST/REPO:TAG" appended to out. */
static bool list_tags(struct session *s, struct strv *out, char *err, size_t errlen)
{
    char first[700], what[700];
    rmg_fmt(first, sizeof first, "/v2/%s/tags/list?" LIST_PAGE, s->ref.repo);
    rmg_fmt(what, sizeof what, "the tags of %s (GET /v2/%s/tags/list)", s->ref.repo,
            s->ref.repo);
    struct strv tags = {0};
    bool ok = fetch_list(s, first, "tags", valid_tag_name, what, &tags, err, errlen);
    strv_sort_unique(&tags);
    for (size_t i = 0; i < tags.n && ok; i++) {
        if (out->n >= MAX_LISTED) {
            rmg_fmt(err, errlen, "more than %d images to scan: name fewer", MAX_LISTED);
            ok = false;
            break;
        }
        struct rmg_buf t = {0};
        rmg_buf_printf(&t, "docker://%s/%s:%s", s->ref.host, s->ref.repo, tags.v[i]);
        if (!(ok = strv_push(out, t.data)))
            rmg_fmt(err, errlen, "out of memory");
    }
    rmg_strv_free(tags.v, tags.n);
    return ok;
}

enum rmg_status rmg_registry_expand(const struct rmg_registry_opts *o, const char *target,
                                    bool all_tags, bool all_repos, char ***out, size_t *n,
                                    struct rmg_results *errors)
{
    static const struct rmg_registry_opts none = {0};
    static const char scheme[] = "docker://";
    *out = NULL;
    *n = 0;
    struct strv v = {0};
    bool docker = strncmp(target, scheme, strlen(scheme)) == 0;
    const char *spec = docker ? target + strlen(scheme) : "";
    const char *slash = strchr(spec, '/');
    bool host_only = docker && (!slash || !slash[1]);
    const char *last = docker ? strrchr(spec, '/') : NULL;
    bool names_image = last && (strchr(last, ':') || strchr(last, '@'));
    char err[1200] = "";
    if (docker && host_only && !all_repos)
        rmg_fmt(err, sizeof err, "names no repository: write docker://HOST[:PORT]/REPO[:TAG], "
                                 "or give --all-repos to scan every repository");
    else if (docker && !host_only && all_tags && names_image)
        rmg_fmt(err, sizeof err, "--all-tags wants docker://HOST[:PORT]/REPO, without a tag or "
                                 "digest");
    if (err[0]) {
        rmg_results_add_error(errors, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    if (!docker || (!host_only && !all_tags)) { /* not a listing: the target itself */
        if (!strv_push(&v, rmg_strdup(target)))
            return rmg_results_add_error(errors, RMG_ENOMEM, target, NULL, "out of memory");
        *out = v.v;
        *n = v.n;
        return RMG_OK;
    }
    struct rmg_scan_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    struct session s = {.ctx = &ctx, .opts = o ? o : &none, .target = target, .out = errors};
    bool ok = true;
    if (host_only) {
        size_t hl = slash ? (size_t)(slash - spec) : strlen(spec);
        if (hl == strlen(docker_hub_name) && strncmp(spec, docker_hub_name, hl) == 0) {
            rmg_fmt(err, sizeof err, "%s names Docker Hub, whose API endpoint is not built in: "
                                     "write the registry's API host (and Docker Hub has no "
                                     "catalog to list)", docker_hub_name);
            ok = false;
        } else if (!valid_host(spec, hl) || hl >= sizeof s.ref.host) {
            rmg_fmt(err, sizeof err, "'%.*s' is not a registry host[:port]",
                    (int)(hl > 200 ? 200 : hl), spec);
            ok = false;
        }
        if (ok)
            memcpy(s.ref.host, spec, hl);
    } else {
        ok = parse_any_ref(spec, s.opts->default_registry, &s.ref, err, sizeof err);
    }
    if (!ok) {
        rmg_results_add_error(errors, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(s.curl = curl_easy_init()))
        return rmg_results_add_error(errors, RMG_ENOMEM, target, NULL, "out of memory");
    if (host_only) {
        struct strv repos = {0};
        ok = fetch_list(&s, "/v2/_catalog?" LIST_PAGE, "repositories", valid_repo_name,
                        "the repositories (GET /v2/_catalog)", &repos, err, sizeof err);
        strv_sort_unique(&repos);
        for (size_t i = 0; i < repos.n && ok; i++) {
            rmg_fmt(s.ref.repo, sizeof s.ref.repo, "%s", repos.v[i]);
            ok = list_tags(&s, &v, err, sizeof err);
        }
        rmg_strv_free(repos.v, repos.n);
    } else {
        ok = list_tags(&s, &v, err, sizeof err);
        if (ok && v.n == 0) {
            rmg_fmt(err, sizeof err, "the repository %s has no tags", s.ref.repo);
            ok = false;
        }
    }
    session_release(&s);
    if (!ok) {
        rmg_strv_free(v.v, v.n);
        rmg_results_add_error(errors, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    strv_sort_unique(&v);
    *out = v.v;
    *n = v.n;
    return RMG_OK;
}
