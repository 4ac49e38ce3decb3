/* daemon.c: images in a local Docker (or Podman) daemon, read through the Docker
 * Engine API without `docker save` to a file (see daemon.h).
 *
 * DESIGN. GET /images/{name}/json first, so a missing image is a clear error with the
 * daemon's own message; then GET /images/{name}/get, a docker-save tar stream, which a
 * thread running libcurl writes into one end of a socket pair while the image reader
 * (source/archive.c) reads the other end as it reads stdin: no temporary file, memory bounded
 * by the socket buffer. The socket pair (not a pipe) lets the writer use MSG_NOSIGNAL, so a
 * reader that stops early never kills the process with SIGPIPE. */
#define _GNU_SOURCE
#include "source/daemon.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "source/image.h"
#include "common/util.h"

#define MAX_ERROR_BODY (64u << 10)

struct endpoint {
    char socket_path[1024]; /* unix socket, or "" for TCP */
    char base[1024];        /* URL prefix: "http://localhost" or "http://HOST:PORT" */
};

/* DOCKER_HOST: unix:///path (default /var/run/docker.sock) or tcp://host:port. */
static bool parse_host(const char *host, struct endpoint *ep, char *err, size_t errlen)
{
    memset(ep, 0, sizeof *ep);
    if (!host || !*host)
        host = "unix:///var/run/docker.sock";
    if (strncmp(host, "unix://", 7) == 0) {
        rmg_fmt(ep->socket_path, sizeof ep->socket_path, "%s", host + 7);
        rmg_fmt(ep->base, sizeof ep->base, "http://localhost");
        return ep->socket_path[0] != '\0';
    }
    if (strncmp(host, "tcp://", 6) == 0 && host[6]) {
        rmg_fmt(ep->base, sizeof ep->base, "http://%s", host + 6);
        return true;
    }
    rmg_fmt(err, errlen, "DOCKER_HOST '%s' is neither unix:///PATH nor tcp://HOST:PORT", host);
    return false;
}

/* The image name in a URL path: unreserved characters and the ones image references use
 * ("/", ":", "@") pass, everything else is percent-encoded. */
static void url_name(const char *name, struct rmg_buf *b)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/:@", *p))
            rmg_buf_append(b, p, 1);
        else
            rmg_buf_printf(b, "%%%02X", *p);
    }
}

static CURL *easy_for(const struct endpoint *ep, const char *url)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (ep->socket_path[0])
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ep->socket_path);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    return c;
}

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    struct rmg_buf *b = ud;
    size_t len = size * n;
    if (b->len + len <= MAX_ERROR_BODY)
        rmg_buf_append(b, data, len);
    return len;
}

/* The daemon's error JSON {"message": "..."} as text (escaped when printed). */
static void daemon_message(const struct rmg_buf *body, char *out, size_t cap)
{
    const char *m = body->data ? strstr(body->data, "\"message\"") : NULL;
    const char *q = m ? strchr(m + 9, '"') : NULL;
    if (!q) {
        rmg_fmt(out, cap, "%.200s", body->data ? body->data : "no answer");
        return;
    }
    q++;
    size_t n = strcspn(q, "\"");
    rmg_fmt(out, cap, "%.*s", (int)(n > 300 ? 300 : n), q);
}

struct transfer {
    CURL *curl;
    int fd;            /* the writing end */
    CURLcode result;
    long status;
    struct rmg_buf error_body;
};

static size_t to_socket(char *data, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    if (!t->status)
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status != 200) {
        collect(data, size, n, &t->error_body);
        return len;
    }
    return rmg_send_all(t->fd, data, len) ? len : 0; /* 0: the reader stopped, abort */
}

static void *transfer_main(void *arg)
{
    struct transfer *t = arg;
    t->result = curl_easy_perform(t->curl);
    if (!t->status)
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
    shutdown(t->fd, SHUT_WR);
    close(t->fd);
    return NULL;
}

enum rmg_status rmg_source_daemon(const struct rmg_scan_ctx *ctx, const char *target,
                                  const char *name, struct rmg_results *out)
{
    char err[512];
    struct endpoint ep;
    if (!*name) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "no image name (docker-daemon:NAME[:TAG])");
        return RMG_EINPUT;
    }
    if (!parse_host(getenv("DOCKER_HOST"), &ep, err, sizeof err)) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "%s", err);
        return RMG_EINPUT;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct rmg_buf url = {0}, body = {0};
    rmg_buf_printf(&url, "%s/images/", ep.base);
    url_name(name, &url);
    size_t prefix = url.len;
    rmg_buf_puts(&url, "/json");
    enum rmg_status st = RMG_OK;

    /* Is it there? */
    CURL *c = url.data ? easy_for(&ep, url.data) : NULL;
    if (!c) {
        rmg_buf_free(&url);
        return RMG_ENOMEM;
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL,
                              "cannot reach the Docker daemon at %s: %s (set DOCKER_HOST)",
                              ep.socket_path[0] ? ep.socket_path : ep.base,
                              curl_easy_strerror(rc));
        st = RMG_EINPUT;
    } else if (status != 200) {
        daemon_message(&body, err, sizeof err);
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "the daemon says: %s (HTTP %ld)",
                              err, status);
        st = RMG_EINPUT;
    }
    rmg_buf_free(&body);
    if (st != RMG_OK) {
        rmg_buf_free(&url);
        return st;
    }

    /* Stream it. */
    url.len = prefix;
    url.data[prefix] = '\0';
    rmg_buf_puts(&url, "/get");
    int sv[2];
    struct transfer t = {0};
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        !(t.curl = easy_for(&ep, url.data))) {
        rmg_results_add_error(out, RMG_ENOMEM, target, NULL, "cannot start the transfer: %s",
                              strerror(errno));
        rmg_buf_free(&url);
        return RMG_ENOMEM;
    }
    t.fd = sv[1];
    curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, to_socket);
    curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
    pthread_t th;
    if (pthread_create(&th, NULL, transfer_main, &t) != 0) {
        close(sv[0]);
        close(sv[1]);
        curl_easy_cleanup(t.curl);
        rmg_buf_free(&url);
        return RMG_ENOMEM;
    }
    st = rmg_source_image_stream(ctx, target, sv[0], NULL, 0, NULL, NULL, out);
    close(sv[0]); /* a writer still sending gets EPIPE and stops */
    pthread_join(th, NULL);
    if (t.status != 200 && t.status != 0) {
        daemon_message(&t.error_body, err, sizeof err);
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "the daemon says: %s (HTTP %ld)",
                              err, t.status);
        st = RMG_EINPUT;
    } else if (t.result != CURLE_OK && t.result != CURLE_WRITE_ERROR) {
        rmg_results_add_error(out, RMG_EINPUT, target, NULL, "transfer from the daemon failed: %s",
                              curl_easy_strerror(t.result));
        st = RMG_EINPUT;
    }
    rmg_buf_free(&t.error_body);
    curl_easy_cleanup(t.curl);
    rmg_buf_free(&url);
    return st;
}
