/* credentials.c: registry logins, from the command line, auth files and credential helpers
 * (see credentials.h).
 *
 * DESIGN. The session asks for a login only when a registry answers 401, once per session.
 * A login is a secret: it never appears in a message (messages say where it came from:
 * "--creds", a file's path), and a file's text, a helper's output and a decoded "auth" are
 * wiped before they are freed. A credential helper runs as a child with the host on
 * its stdin, its stderr discarded, and is killed past HELPER_TIMEOUT_MS or MAX_HELPER_OUTPUT;
 * its name goes into a program name, so it may hold no path characters. */
#define _GNU_SOURCE
#include "source/credentials.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

#define MAX_HELPER_OUTPUT (64u << 10) /* what a credential helper may write */
#define HELPER_TIMEOUT_MS 30000

void rmg_creds_clear(struct rmg_creds *c)
{
    if (c->pass) {
        explicit_bzero(c->pass, strlen(c->pass));
        free(c->pass);
    }
    free(c->user);
    c->user = c->pass = NULL;
}

bool rmg_creds_set(struct rmg_creds *c, const char *user, size_t ul, const char *pass, size_t pl)
{
    rmg_creds_clear(c);
    c->user = rmg_strndup(user, ul);
    c->pass = rmg_strndup(pass, pl);
    if (!c->user || !c->pass) {
        rmg_creds_clear(c);
        return false;
    }
    return true;
}

/* "USER:PASS" (split at the first ':'). */
static bool creds_from_pair(struct rmg_creds *c, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s)
        return false;
    return rmg_creds_set(c, s, (size_t)(colon - s), colon + 1, n - (size_t)(colon - s) - 1);
}

/* An auths entry's "auth": base64 of "USER:PASS". */
static bool creds_from_base64(struct rmg_creds *c, const char *b64)
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
static bool run_helper(const char *name, const char *host, struct rmg_creds *c, char *err,
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
        if (output.len + (size_t)n > MAX_HELPER_OUTPUT) {
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
        rmg_fmt(err, errlen, "%s wrote more than %u bytes", prog, MAX_HELPER_OUTPUT);
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
            ok = rmg_creds_set(c, u->valuestring, strlen(u->valuestring), s->valuestring,
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
static bool creds_from_config(const cJSON *cfg, const struct rmg_registry_ref *r,
                              struct rmg_creds *c, char *warn, size_t warnlen)
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
                rmg_creds_set(c, u->valuestring, strlen(u->valuestring), p->valuestring,
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

/* ---- credential files ------------------------------------------------------------------- */

/* One lookup: the reference it is for, the login it fills, where its warnings go. */
struct lookup {
    const struct rmg_registry_ref *ref;
    struct rmg_creds *creds;
    struct rmg_results *out;
    const char *target;
};

static void lookup_warn(const struct lookup *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void lookup_warn(const struct lookup *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rmg_results_add_errorv(l->out, RMG_WARN, l->target, NULL, fmt, ap);
    va_end(ap);
}

/* Reads a credential file (auth.json or config.json) and looks host/repo up in it. A file
 * that is not there is silently skipped unless `must` (the user named it). */
static bool creds_from_file(const struct lookup *l, const char *path, const char *label,
                            bool must, char *err, size_t errlen)
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
            lookup_warn(l, "%s: %s (not used)", label, e);
        return false;
    }
    bool found = false;
    const char *p = data;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p != '{' && must) {
        /* --creds-file: "USER:PASS" on the first line */
        size_t n = strcspn(p, "\r\n");
        found = creds_from_pair(l->creds, p, n);
        if (!found)
            rmg_fmt(err, errlen, "%s: holds neither USER:PASS nor a JSON auth file", label);
    } else {
        cJSON *j = cJSON_ParseWithLength(data, len);
        char warn[400];
        if (!j) {
            if (must)
                rmg_fmt(err, errlen, "%s: not valid JSON", label);
            else
                lookup_warn(l, "%s: not valid JSON (not used)", label);
        } else {
            found = creds_from_config(j, l->ref, l->creds, warn, sizeof warn);
            if (!found && warn[0] && !must)
                lookup_warn(l, "%s: %s", label, warn);
            if (!found && must && !warn[0])
                rmg_fmt(err, errlen, "%s: no login for %s", label, l->ref->host);
            else if (!found && must)
                rmg_fmt(err, errlen, "%s: %s", label, warn);
        }
        cJSON_Delete(j);
    }
    explicit_bzero(data, len);
    free(data);
    if (found)
        rmg_fmt(l->creds->from, sizeof l->creds->from, "%s", label);
    return found;
}

bool rmg_creds_load(const struct rmg_registry_opts *opts, const struct rmg_registry_ref *ref,
                    struct rmg_creds *c, struct rmg_results *out, const char *target, char *err,
                    size_t errlen)
{
    const struct lookup l = {.ref = ref, .creds = c, .out = out, .target = target};
    err[0] = '\0';
    if (opts->creds) {
        if (!creds_from_pair(c, opts->creds, strlen(opts->creds))) {
            rmg_fmt(err, errlen, "--creds wants USER:PASS");
            return false;
        }
        rmg_fmt(c->from, sizeof c->from, "--creds");
        return true;
    }
    if (opts->creds_file) {
        char label[600];
        rmg_fmt(label, sizeof label, "--creds-file %s", opts->creds_file);
        return creds_from_file(&l, opts->creds_file, label, true, err, errlen);
    }
    struct rmg_buf path = {0};
    const char *v = getenv("REGISTRY_AUTH_FILE");
    bool found = false;
    if (v && *v) {
        rmg_buf_printf(&path, "REGISTRY_AUTH_FILE (%s)", v);
        if (access(v, F_OK) != 0)
            lookup_warn(&l, "%s: %s", path.data ? path.data : v, strerror(errno));
        else
            found = creds_from_file(&l, v, path.data ? path.data : v, false, err, errlen);
        rmg_buf_free(&path);
    }
    const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME"),
               *docker = getenv("DOCKER_CONFIG");
    if (!found && xdg && *xdg) {
        rmg_buf_printf(&path, "%s/containers/auth.json", xdg);
        found = path.data && creds_from_file(&l, path.data, path.data, false, err, errlen);
        rmg_buf_free(&path);
    }
    if (!found && home && *home) {
        rmg_buf_printf(&path, "%s/.config/containers/auth.json", home);
        found = path.data && creds_from_file(&l, path.data, path.data, false, err, errlen);
        rmg_buf_free(&path);
    }
    if (!found && ((docker && *docker) || (home && *home))) {
        if (docker && *docker)
            rmg_buf_printf(&path, "%s/config.json", docker);
        else
            rmg_buf_printf(&path, "%s/.docker/config.json", home);
        found = path.data && creds_from_file(&l, path.data, path.data, false, err, errlen);
        rmg_buf_free(&path);
    }
    return true;
}
