/* util.c: allocation, buffers, hashing and escaping helpers (see util.h). */
#define _POSIX_C_SOURCE 200809L
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool rmg_buf_append(struct rmg_buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1) {
            if (cap > SIZE_MAX / 2)
                return false;
            cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (!p)
            return false;
        b->data = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool rmg_buf_puts(struct rmg_buf *b, const char *s)
{
    return rmg_buf_append(b, s, strlen(s));
}

bool rmg_buf_printf(struct rmg_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof small)
        return rmg_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return false;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = rmg_buf_append(b, big, (size_t)n);
    free(big);
    return ok;
}

void rmg_buf_free(struct rmg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *rmg_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *rmg_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void rmg_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

char *rmg_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    return dst;
}

void rmg_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int rmg_open_beneath(int dirfd, const char *rel, int flags)
{
    char part[4096];
    int cur = dirfd;
    const char *p = rel;
    if (!*rel || *rel == '/') {
        errno = EINVAL;
        return -1;
    }
    for (;;) {
        size_t n = strcspn(p, "/");
        bool last = p[n] == '\0';
        if (n == 0 || n >= sizeof part || (n == 2 && p[0] == '.' && p[1] == '.') ||
            (n == 1 && p[0] == '.')) {
            if (cur != dirfd)
                close(cur);
            errno = EINVAL;
            return -1;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        int fd = openat(cur, part, last ? flags | O_NOFOLLOW | O_CLOEXEC
                                        : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        if (cur != dirfd)
            close(cur);
        errno = saved;
        if (fd < 0 || last)
            return fd;
        cur = fd;
        p += n + 1;
    }
}

bool rmg_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                   size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rmg_fmt(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    return rmg_read_fd(fd, path, max, out, len, err, errlen);
}

bool rmg_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, char *err,
                 size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rmg_fmt(err, errlen, "%s: not a regular file", path);
        close(fd);
        return false;
    }
    if ((uint64_t)st.st_size > max) {
        rmg_fmt(err, errlen, "%s: larger than %zu bytes", path, max);
        close(fd);
        return false;
    }
    struct rmg_buf b = {0};
    char tmp[65536];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rmg_fmt(err, errlen, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            rmg_fmt(err, errlen, "%s: larger than %zu bytes", path, max);
            goto fail;
        }
        if (!rmg_buf_append(&b, tmp, (size_t)n)) {
            rmg_fmt(err, errlen, "%s: out of memory", path);
            goto fail;
        }
    }
    close(fd);
    if (!b.data && !rmg_buf_append(&b, "", 0)) {
        rmg_fmt(err, errlen, "%s: out of memory", path);
        return false;
    }
    *out = b.data;
    *len = b.len;
    return true;
fail:
    close(fd);
    rmg_buf_free(&b);
    return false;
}

size_t rmg_utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t need;
    unsigned min;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        need = 2;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        need = 3;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        need = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    unsigned cp = c & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* Like rmg_utf8_seq_len, but C1 controls (U+0080-U+009F: U+009B is CSI and U+009D OSC on
 * terminals that honour 8-bit controls), and bidi overrides and isolates, which can reorder
 * what a terminal shows, count as invalid so that they are escaped too. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need = rmg_utf8_seq_len(s, n);
    if (need == 2 && s[0] == 0xC2 && s[1] < 0xA0)
        return 0;
    if (need == 3) {
        unsigned cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
            return 0;
    }
    return need;
}

bool rmg_buf_put_safe(struct rmg_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && u[run] >= 0x20 && u[run] < 0x7F && u[run] != '\\')
            run++;
        if (run > i && !rmg_buf_append(b, s + i, run - i))
            return false;
        i = run;
        if (i >= len)
            break;
        if (u[i] == '\\') {
            if (!rmg_buf_append(b, "\\\\", 2))
                return false;
            i++;
            continue;
        }
        size_t ul = u[i] >= 0x80 ? utf8_len(u + i, len - i) : 0;
        if (ul) {
            if (!rmg_buf_append(b, s + i, ul))
                return false;
            i += ul;
            continue;
        }
        char esc[8];
        int n = snprintf(esc, sizeof esc, "\\x%02x", u[i]);
        if (!rmg_buf_append(b, esc, (size_t)n))
            return false;
        i++;
    }
    return true;
}

void rmg_fputs_safe(FILE *f, const char *s, size_t len)
{
    struct rmg_buf b = {0};
    if (rmg_buf_put_safe(&b, s, len) && b.data)
        fputs(b.data, f);
    rmg_buf_free(&b);
}

double rmg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool rmg_send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, p + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        off += (size_t)w;
    }
    return true;
}

bool rmg_grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return false;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem)
        return false;
    void *old;
    memcpy(&old, arrp, sizeof old);
    void *p = realloc(old, nc * elem);
    if (!p)
        return false;
    memcpy(arrp, &p, sizeof p);
    *cap = nc;
    return true;
}

int rmg_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool rmg_hex_decode(const char *s, size_t n, unsigned char *out)
{
    if (n & 1)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = rmg_hex_value(s[i]), lo = rmg_hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}
