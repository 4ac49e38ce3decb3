/* registry_session.c: an HTTP session with a registry: libcurl requests, TLS, retries and
 * authentication (see registry_session.h).
 *
 * DESIGN. One libcurl handle per session, reused (keep-alive), used by one thread at a time:
 * the scan's thread, or a layer's transfer thread while the scan's thread waits on the socket
 * it writes to; a layer transferred beside others gets a clone of the session with its own
 * handle. Authentication happens when a request gets 401: the challenge decides Basic
 * (credentials sent to the registry) or Bearer (a token fetched from the realm, with the
 * credentials if there are any, then sent as "Authorization: Bearer"). Credentials are looked
 * up only then (credentials.h), and are never printed: a message says where they came from,
 * never what they are. libcurl drops the Authorization header on a redirect to another host or
 * port (blob storage behind a redirect never sees it). 429 and 5xx answers are retried (3
 * tries, honouring Retry-After up to 30 s). */
#define _GNU_SOURCE
#include "source/registry_session.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TRIES 3
#define MAX_RETRY_WAIT 30        /* seconds: a longer Retry-After is cut to this */
#define MAX_SMALL_BODY (64u << 10) /* error bodies, token answers */

static const char accept_manifests[] =
    "Accept: " RMG_MT_OCI_INDEX ", " RMG_MT_OCI_MANIFEST ", " RMG_MT_DOCKER_LIST ", "
    RMG_MT_DOCKER_V2;

/* ---- the session ------------------------------------------------------------------------ */

static void set_authorization(struct rmg_registry_session *s, char *line)
{
    if (s->authorization) {
        explicit_bzero(s->authorization, strlen(s->authorization));
        free(s->authorization);
    }
    s->authorization = line;
}

/* Frees what a session holds (the authorization and credentials wiped first). */
void rmg_registry_session_release(struct rmg_registry_session *s)
{
    set_authorization(s, NULL);
    rmg_creds_clear(&s->creds);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    s->curl = NULL;
}

/* A session of its own for a layer transferred beside others: the same registry, scheme,
 * authorization and credentials, another curl handle; its warnings go to out. NULL on out of
 * memory. */
struct rmg_registry_session *rmg_registry_session_clone(const struct rmg_registry_session *s,
                                                        struct rmg_results *out)
{
    struct rmg_registry_session *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *s;
    c->out = out;
    c->authorization = NULL;
    c->creds.user = c->creds.pass = NULL;
    c->curl = curl_easy_init();
    bool ok = c->curl && (!s->authorization || (c->authorization = rmg_strdup(s->authorization)));
    if (ok && s->creds.user)
        ok = rmg_creds_set(&c->creds, s->creds.user, strlen(s->creds.user), s->creds.pass,
                           strlen(s->creds.pass));
    if (!ok) {
        rmg_registry_session_release(c);
        free(c);
        return NULL;
    }
    return c;
}

/* The credentials, looked up on the first 401 only. */
static bool load_creds(struct rmg_registry_session *s, char *err, size_t errlen)
{
    if (s->creds_loaded)
        return true;
    s->creds_loaded = true;
    return rmg_creds_load(s->opts, &s->ref, &s->creds, s->out, s->target, err, errlen);
}

/* ---- HTTP ------------------------------------------------------------------------------- */

struct request {
    CURL *c;
    struct rmg_registry_response *resp;
    rmg_registry_sink_fn sink; /* where a 2xx body goes; NULL: resp->body, up to max */
    void *ud;
    size_t max;
};

static void response_reset(struct rmg_registry_response *r)
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
    struct rmg_registry_response *r = q->resp;
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
    struct rmg_registry_response *r = q->resp;
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
static void easy_setup(struct rmg_registry_session *s, const char *url,
                       struct curl_slist *headers, struct request *q, char *errbuf)
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
static void registry_message(const struct rmg_registry_response *r, char *out, size_t cap)
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

static bool authenticate(struct rmg_registry_session *s,
                         const struct rmg_registry_response *resp, char *err, size_t errlen);

/* GET /v2/REPO/WHAT ("manifests/REF", "blobs/DIGEST"), or WHAT itself when it starts with
 * '/' (a path on the registry: "/v2/_catalog?n=1000"): authenticates on 401, retries 429,
 * 5xx and broken connections (before any byte of the body was delivered), follows
 * redirects. A 2xx body goes to sink (or into resp->body up to max). RMG_OK for a 2xx
 * answer; otherwise RMG_EINPUT with a message in err (never holding credentials). */
enum rmg_status rmg_registry_session_fetch(struct rmg_registry_session *s, const char *what,
                                           bool manifest, rmg_registry_sink_fn sink, void *ud,
                                           size_t max, struct rmg_registry_response *resp,
                                           char *err, size_t errlen)
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

static char *basic_header(const struct rmg_creds *c)
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
static bool fetch_token(struct rmg_registry_session *s, const char *challenge, char *err,
                        size_t errlen)
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
    struct rmg_registry_response resp;
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
static bool authenticate(struct rmg_registry_session *s,
                         const struct rmg_registry_response *resp, char *err, size_t errlen)
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
