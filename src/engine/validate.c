/* validate.c: offline validators (checksums, key armour, JWT shape) and the placeholder test. */

/*
 * DESIGN
 * A validator answers one question about a candidate secret without the network: is it
 * provably well-formed (VALID: the match is raised to "validated"), provably malformed
 * (INVALID: the match is dropped), or neither (UNKNOWN: kept at "pattern")? Every check
 * here is structural: a checksum, a base64 body that decodes to the expected header.
 * Nothing is allocated: base64 is decoded into small stack buffers, counting the bytes
 * that do not fit, since the checks need only a decoded prefix and the decoded length.
 * All functions are pure and thread-safe; the tables below are read-only.
 *
 * The placeholder test errs towards keeping a finding: a random token must never be
 * taken for a placeholder because it happens to contain a short common word, so words
 * such as "todo" must stand alone, and the checks meant for short values (runs of one
 * character) are scaled for long blobs such as key bodies, which legitimately hold runs
 * of 'A' (zero bytes) in base64.
 */

#include "engine/validate.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>

/* ---------------------------------------------------------------- small text helpers */

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool is_alnum(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static bool ci_starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)prefix[i]))
            return false;
    return true;
}

static bool ci_equals(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && ci_starts_with(s, n, word);
}

/* Index of the first case-insensitive occurrence of needle in s[from..n), or SIZE_MAX. */
static size_t ci_find_from(const char *s, size_t n, size_t from, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0 || n < k)
        return k == 0 ? from : SIZE_MAX;
    for (size_t i = from; i + k <= n; i++)
        if (ci_starts_with(s + i, n - i, needle))
            return i;
    return SIZE_MAX;
}

static bool ci_contains(const char *s, size_t n, const char *needle)
{
    return ci_find_from(s, n, 0, needle) != SIZE_MAX;
}

/* Index of the first exact occurrence of needle in s[from..n), or SIZE_MAX. */
static size_t find_from(const char *s, size_t n, size_t from, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = from; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return i;
    return SIZE_MAX;
}

static bool mem_contains(const unsigned char *s, size_t n, const char *needle)
{
    return find_from((const char *)s, n, 0, needle) != SIZE_MAX;
}

/* --------------------------------------------------------------------------- base64 */

/* An incremental base64 decoder: characters go in one at a time, decoded bytes land in
 * out[0..cap) and are counted beyond it. */
struct b64 {
    unsigned char *out;
    size_t cap;
    size_t len;      /* bytes decoded so far, including those past cap */
    uint32_t acc;    /* bits of the current quantum */
    unsigned nchars; /* data characters in the current quantum, 0..3 */
    unsigned npad;   /* '=' seen; data after them is an error */
    bool url;
    bool bad;
};

static void b64_init(struct b64 *d, unsigned char *out, size_t cap, bool url)
{
    d->out = out;
    d->cap = out ? cap : 0;
    d->len = 0;
    d->acc = 0;
    d->nchars = 0;
    d->npad = 0;
    d->url = url;
    d->bad = false;
}

static int b64_value(int c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

static void b64_emit(struct b64 *d, unsigned byte)
{
    if (d->len < d->cap)
        d->out[d->len] = (unsigned char)byte;
    d->len++;
}

static void b64_put(struct b64 *d, int c)
{
    if (d->bad)
        return;
    if (c == '=') {
        /* Padding may only close a quantum of 2 or 3 characters, up to 4 in all. */
        if (d->nchars < 2 || d->nchars + d->npad >= 4)
            d->bad = true;
        else
            d->npad++;
        return;
    }
    int v = b64_value(c, d->url);
    if (v < 0 || d->npad > 0) {
        d->bad = true;
        return;
    }
    d->acc = (d->acc << 6) | (uint32_t)v;
    if (++d->nchars == 4) {
        b64_emit(d, (d->acc >> 16) & 0xff);
        b64_emit(d, (d->acc >> 8) & 0xff);
        b64_emit(d, d->acc & 0xff);
        d->acc = 0;
        d->nchars = 0;
    }
}

/* Flushes a final partial quantum. Returns the decoded length or SIZE_MAX. */
static size_t b64_finish(struct b64 *d)
{
    if (d->bad || d->nchars == 1)
        return SIZE_MAX;
    if (d->nchars == 2) {
        b64_emit(d, (d->acc >> 4) & 0xff);
    } else if (d->nchars == 3) {
        b64_emit(d, (d->acc >> 10) & 0xff);
        b64_emit(d, (d->acc >> 2) & 0xff);
    }
    d->nchars = 0;
    d->acc = 0;
    return d->len;
}

size_t rmg_validate_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                                  bool url)
{
    struct b64 d;
    b64_init(&d, out, cap, url);
    for (size_t i = 0; i < n && !d.bad; i++)
        if (!is_space((unsigned char)in[i]))
            b64_put(&d, (unsigned char)in[i]);
    return b64_finish(&d);
}

/* ------------------------------------------------------------- GitHub and npm tokens */

static const char base62_digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool all_base62(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]))
            return false;
    return true;
}

bool rmg_validate_crc32_base62(const char *token, size_t len)
{
    if (token == NULL || len < 7)
        return false;
    size_t start = 0;
    for (size_t i = len - 6; i > 0; i--)
        if (token[i - 1] == '_') {
            start = i;
            break;
        }
    size_t body_len = len - 6 - start;
    if (body_len == 0 || !all_base62(token + start, len - start))
        return false;

    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)(token + start), (uInt)body_len);

    /* CRC32 < 62^6, so six digits always hold it. */
    char want[6];
    unsigned long v = (unsigned long)(crc & 0xffffffffUL);
    for (int i = 5; i >= 0; i--) {
        want[i] = base62_digits[v % 62];
        v /= 62;
    }
    return memcmp(want, token + len - 6, 6) == 0;
}

/* A token "<prefix>" + 36 base62 characters (30 random, 6 checksum). The secret may be the
 * whole token or just its body. */
static enum rmg_validity validate_prefixed_crc(const char *secret, size_t len,
                                               const char *const *prefixes)
{
    const char *body = NULL;
    size_t body_len = 0;
    for (size_t i = 0; prefixes[i] != NULL; i++)
        if (starts_with(secret, len, prefixes[i])) {
            body = secret + strlen(prefixes[i]);
            body_len = len - strlen(prefixes[i]);
            break;
        }
    if (body == NULL) {
        if (len != 36 || !all_base62(secret, len))
            return RMG_VALIDITY_UNKNOWN;
        body = secret;
        body_len = len;
    }
    if (body_len < 7 || !all_base62(body, body_len))
        return RMG_VALIDITY_INVALID;
    if (rmg_validate_crc32_base62(body, body_len))
        return RMG_VALIDITY_VALID;
    /* Only the 36-character layout is documented; another length may be a newer format. */
    return body_len == 36 ? RMG_VALIDITY_INVALID : RMG_VALIDITY_UNKNOWN;
}

static enum rmg_validity validate_github(const char *secret, size_t secret_len,
                                         const char *match, size_t match_len)
{
    static const char *const prefixes[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", NULL};
    (void)match;
    (void)match_len;
    if (starts_with(secret, secret_len, "github_pat_"))
        return RMG_VALIDITY_UNKNOWN; /* fine-grained tokens carry no public checksum */
    return validate_prefixed_crc(secret, secret_len, prefixes);
}

static enum rmg_validity validate_npm(const char *secret, size_t secret_len,
                                      const char *match, size_t match_len)
{
    static const char *const prefixes[] = {"npm_", NULL};
    (void)match;
    (void)match_len;
    return validate_prefixed_crc(secret, secret_len, prefixes);
}

/* ------------------------------------------------------------------ armoured key blocks */

/* Lines of an armoured block. Breaks are real line ends and the escapes "\n" (any number
 * of backslashes, as in JSON, YAML or doubly escaped strings); a line is trimmed of
 * whitespace and of trailing "\r" escapes. */
struct lines {
    const char *s;
    size_t n;
    size_t pos;
};

/* Length of an escape at s[i] (a run of backslashes and one letter of "nrt"), or 0. */
static size_t escape_len(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && s[j] == '\\')
        j++;
    if (j == i || j >= n || (s[j] != 'n' && s[j] != 'r' && s[j] != 't'))
        return 0;
    return j + 1 - i;
}

static bool next_line(struct lines *it, const char **line, size_t *line_len)
{
    if (it->pos >= it->n)
        return false;
    size_t start = it->pos, end = it->pos, next = it->n;
    for (size_t i = it->pos; i < it->n; i++) {
        if (it->s[i] == '\n' || it->s[i] == '\r') {
            end = i;
            next = i + 1;
            if (it->s[i] == '\r' && next < it->n && it->s[next] == '\n')
                next++;
            break;
        }
        size_t e = escape_len(it->s, it->n, i);
        if (e > 0 && it->s[i + e - 1] == 'n') {
            end = i;
            next = i + e;
            break;
        }
        if (e > 0)
            i += e - 1;
        end = i + 1;
    }
    it->pos = next;

    /* Trim whitespace and escapes at both ends. */
    for (;;) {
        if (start < end && is_space((unsigned char)it->s[start])) {
            start++;
            continue;
        }
        size_t e = escape_len(it->s, end, start);
        if (e > 0) {
            start += e;
            continue;
        }
        break;
    }
    for (;;) {
        if (end > start && is_space((unsigned char)it->s[end - 1])) {
            end--;
            continue;
        }
        if (end >= start + 2 && (it->s[end - 1] == 'r' || it->s[end - 1] == 't') &&
            it->s[end - 2] == '\\') {
            end -= 2;
            while (end > start && it->s[end - 1] == '\\')
                end--;
            continue;
        }
        break;
    }
    *line = it->s + start;
    *line_len = end > start ? end - start : 0;
    return true;
}

/* Feeds one body line to the decoder, skipping whitespace and escapes inside it. */
static void b64_put_line(struct b64 *d, const char *line, size_t n)
{
    for (size_t i = 0; i < n && !d->bad; i++) {
        if (is_space((unsigned char)line[i]))
            continue;
        size_t e = escape_len(line, n, i);
        if (e > 0) {
            i += e - 1;
            continue;
        }
        b64_put(d, (unsigned char)line[i]);
    }
}

static bool line_has(const char *line, size_t n, char c)
{
    return memchr(line, c, n) != NULL;
}

enum armour { ARMOUR_DER, ARMOUR_OPENSSH, ARMOUR_PGP };

/* Where the "=XXXX" CRC24 of a PGP armour starts in a line: at its start, or after a
 * space when the block was flattened onto one line. SIZE_MAX when absent. */
static size_t pgp_crc_at(const char *line, size_t n)
{
    for (size_t p = 0; p + 5 <= n; p++) {
        if (line[p] != '=' || (p > 0 && !is_space((unsigned char)line[p - 1])))
            continue;
        if (p + 5 < n && !is_space((unsigned char)line[p + 5]))
            continue;
        bool digits = true;
        for (size_t i = p + 1; i < p + 5; i++)
            digits = digits && b64_value((unsigned char)line[i], false) >= 0;
        if (digits)
            return p;
    }
    return SIZE_MAX;
}

/* Decodes the body of an armoured block: RFC 1421 / RFC 4880 header lines ("Key: value")
 * first, then base64 lines; for PGP the "=XXXX" CRC24 line ends the body. A body cut
 * short (complete false) drops its final partial quantum instead of failing on it. */
static size_t decode_armour_body(const char *body, size_t n, enum armour kind, bool complete,
                                 unsigned char *out, size_t cap, bool *encrypted)
{
    struct lines it = {body, n, 0};
    struct b64 d;
    const char *line;
    size_t line_len;
    bool in_headers = true;

    b64_init(&d, out, cap, false);
    *encrypted = false;
    while (next_line(&it, &line, &line_len) && !d.bad) {
        if (line_len == 0)
            continue;
        if (in_headers && line_has(line, line_len, ':')) {
            if (starts_with(line, line_len, "Proc-Type:") &&
                ci_contains(line, line_len, "ENCRYPTED"))
                *encrypted = true;
            continue;
        }
        in_headers = false;
        if (kind == ARMOUR_PGP) {
            size_t crc = pgp_crc_at(line, line_len);
            if (crc != SIZE_MAX) {
                b64_put_line(&d, line, crc);
                break;
            }
        }
        b64_put_line(&d, line, line_len);
    }
    if (!complete && !d.bad)
        d.nchars = 0;
    return b64_finish(&d);
}

/* A DER encoding: SEQUENCE (0x30), a definite length, and that many bytes, with a little
 * slack for trailing padding some tools leave. */
static enum rmg_validity check_der(const unsigned char *der, size_t avail, size_t total)
{
    enum { SLACK = 16 };
    if (total < 2 || avail < 2 || der[0] != 0x30)
        return RMG_VALIDITY_INVALID;
    size_t header = 2, content = der[1];
    if (der[1] & 0x80) {
        size_t k = der[1] & 0x7f;
        if (k == 0 || k > 4 || avail < 2 + k)
            return RMG_VALIDITY_INVALID;
        content = 0;
        for (size_t i = 0; i < k; i++)
            content = (content << 8) | der[2 + i];
        header += k;
    }
    size_t expected = header + content;
    if (content == 0 || expected > total || total - expected > SLACK)
        return RMG_VALIDITY_INVALID;
    return RMG_VALIDITY_VALID;
}

/* Label of the BEGIN line: "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", ... */
static enum rmg_validity validate_armoured(const char *s, size_t n, size_t begin)
{
    static const char BEGIN[] = "-----BEGIN ";
    static const char openssh_magic[] = "openssh-key-v1"; /* followed by NUL */
    size_t label = begin + sizeof BEGIN - 1;
    size_t label_end = find_from(s, n, label, "-----");
    if (label_end == SIZE_MAX)
        return RMG_VALIDITY_UNKNOWN;
    for (size_t i = label; i < label_end; i++)
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\\')
            return RMG_VALIDITY_UNKNOWN;

    const char *name = s + label;
    size_t name_len = label_end - label;
    enum armour kind;
    if (name_len == strlen("OPENSSH PRIVATE KEY") &&
        memcmp(name, "OPENSSH PRIVATE KEY", name_len) == 0)
        kind = ARMOUR_OPENSSH;
    else if (name_len == strlen("PGP PRIVATE KEY BLOCK") &&
             memcmp(name, "PGP PRIVATE KEY BLOCK", name_len) == 0)
        kind = ARMOUR_PGP;
    else if (name_len >= strlen("PRIVATE KEY") &&
             memcmp(name + name_len - strlen("PRIVATE KEY"), "PRIVATE KEY",
                    strlen("PRIVATE KEY")) == 0)
        kind = ARMOUR_DER;
    else
        return RMG_VALIDITY_UNKNOWN;

    size_t body = label_end + 5;
    while (body < n && s[body] == '-')
        body++;
    size_t end = find_from(s, n, body, "-----END ");
    bool complete = end != SIZE_MAX;
    if (!complete)
        end = n;

    unsigned char head[64];
    bool encrypted;
    size_t total = decode_armour_body(s + body, end - body, kind, complete, head,
                                      sizeof head, &encrypted);
    if (total == SIZE_MAX || total == 0)
        return RMG_VALIDITY_INVALID;
    size_t avail = total < sizeof head ? total : sizeof head;

    enum rmg_validity v;
    switch (kind) {
    case ARMOUR_OPENSSH:
        v = avail >= sizeof openssh_magic &&
                    memcmp(head, openssh_magic, sizeof openssh_magic) == 0
                ? RMG_VALIDITY_VALID
                : RMG_VALIDITY_INVALID;
        break;
    case ARMOUR_PGP:
        v = (head[0] & 0x80) ? RMG_VALIDITY_VALID : RMG_VALIDITY_INVALID;
        break;
    case ARMOUR_DER:
    default:
        if (!complete) /* no END line: the length cannot be checked, only the start */
            v = head[0] == 0x30 ? RMG_VALIDITY_UNKNOWN : RMG_VALIDITY_INVALID;
        else if (encrypted) /* RFC 1421: the body is CBC ciphertext, whole blocks */
            v = total % 8 == 0 ? RMG_VALIDITY_VALID : RMG_VALIDITY_INVALID;
        else
            v = check_der(head, avail, total);
        break;
    }
    return v;
}

/* PuTTY .ppk: "Private-Lines: N" then N base64 lines. */
static enum rmg_validity validate_putty(const char *s, size_t n, size_t start)
{
    struct lines it = {s + start, n - start, 0};
    const char *line;
    size_t line_len;
    while (next_line(&it, &line, &line_len)) {
        if (!starts_with(line, line_len, "Private-Lines:"))
            continue;
        size_t count = 0, i = strlen("Private-Lines:");
        while (i < line_len && line[i] == ' ')
            i++;
        if (i >= line_len)
            return RMG_VALIDITY_INVALID;
        for (; i < line_len; i++) {
            if (line[i] < '0' || line[i] > '9' || count > 100000)
                return RMG_VALIDITY_INVALID;
            count = count * 10 + (size_t)(line[i] - '0');
        }
        if (count == 0)
            return RMG_VALIDITY_INVALID;

        struct b64 d;
        b64_init(&d, NULL, 0, false);
        size_t got = 0;
        while (got < count && next_line(&it, &line, &line_len) && !d.bad) {
            if (line_has(line, line_len, ':')) /* a header line came early */
                return RMG_VALIDITY_INVALID;
            b64_put_line(&d, line, line_len);
            got++;
        }
        size_t total = b64_finish(&d);
        if (total == SIZE_MAX)
            return RMG_VALIDITY_INVALID;
        if (got < count)
            return RMG_VALIDITY_UNKNOWN; /* cut short */
        return total > 0 ? RMG_VALIDITY_VALID : RMG_VALIDITY_INVALID;
    }
    return RMG_VALIDITY_UNKNOWN;
}

static enum rmg_validity validate_pem(const char *secret, size_t secret_len,
                                      const char *match, size_t match_len)
{
    const char *s = secret;
    size_t n = secret_len;
    size_t begin = find_from(s, n, 0, "-----BEGIN ");
    if (begin == SIZE_MAX && match != NULL) {
        /* The rule's secret group may hold the body alone: look at the whole match. */
        s = match;
        n = match_len;
        begin = find_from(s, n, 0, "-----BEGIN ");
    }
    if (begin != SIZE_MAX)
        return validate_armoured(s, n, begin);

    size_t putty = find_from(secret, secret_len, 0, "PuTTY-User-Key-File-");
    if (putty != SIZE_MAX)
        return validate_putty(secret, secret_len, putty);
    if (match != NULL && (putty = find_from(match, match_len, 0, "PuTTY-User-Key-File-")) !=
                             SIZE_MAX)
        return validate_putty(match, match_len, putty);
    return RMG_VALIDITY_UNKNOWN;
}

/* ----------------------------------------------------------------------------- JWT */

static const unsigned char *skip_space(const unsigned char *p, const unsigned char *end)
{
    while (p < end && is_space(*p))
        p++;
    return p;
}

static enum rmg_validity validate_jwt(const char *secret, size_t secret_len,
                                      const char *match, size_t match_len)
{
    (void)match;
    (void)match_len;
    size_t dots[5], ndots = 0;
    for (size_t i = 0; i < secret_len; i++)
        if (secret[i] == '.') {
            if (ndots == 5)
                return RMG_VALIDITY_INVALID;
            dots[ndots++] = i;
        }
    /* JWS compact form: header.payload.signature; JWE: five parts. */
    if (ndots != 2 && ndots != 4)
        return RMG_VALIDITY_INVALID;
    if (dots[0] == 0 || (ndots == 2 && dots[1] == dots[0] + 1))
        return RMG_VALIDITY_INVALID;

    unsigned char head[2048];
    size_t total = rmg_validate_base64_decode(secret, dots[0], head, sizeof head, true);
    if (total == SIZE_MAX || total == 0)
        return RMG_VALIDITY_INVALID;
    size_t avail = total < sizeof head ? total : sizeof head;
    const unsigned char *p = skip_space(head, head + avail);
    if (p == head + avail || *p != '{')
        return RMG_VALIDITY_INVALID;
    if (!mem_contains(head, avail, "\"alg\""))
        return total > avail ? RMG_VALIDITY_UNKNOWN : RMG_VALIDITY_INVALID;

    /* Every remaining part must be base64url (the signature may be empty: alg none). */
    for (size_t k = 0; k < ndots; k++) {
        size_t from = dots[k] + 1, to = k + 1 < ndots ? dots[k + 1] : secret_len;
        if (rmg_validate_base64_decode(secret + from, to - from, NULL, 0, true) == SIZE_MAX)
            return RMG_VALIDITY_INVALID;
    }
    if (ndots == 4)
        return RMG_VALIDITY_VALID; /* JWE: the second part is an encrypted key */

    unsigned char body[16];
    total = rmg_validate_base64_decode(secret + dots[0] + 1, dots[1] - dots[0] - 1, body,
                                       sizeof body, true);
    avail = total < sizeof body ? total : sizeof body;
    p = skip_space(body, body + avail);
    return (p < body + avail && *p == '{') ? RMG_VALIDITY_VALID : RMG_VALIDITY_INVALID;
}

/* ------------------------------------------------------------------ AWS access key id */

static enum rmg_validity validate_aws_key_id(const char *secret, size_t secret_len,
                                             const char *match, size_t match_len)
{
    static const char *const prefixes[] = {"AKIA", "ASIA", "AGPA", "AIDA", "AROA",
                                           "ANPA", "ANVA", "AIPA", "ABIA", "ACCA", NULL};
    (void)match;
    (void)match_len;
    if (secret_len != 20)
        return RMG_VALIDITY_INVALID;
    bool known = false;
    for (size_t i = 0; prefixes[i] != NULL && !known; i++)
        known = memcmp(secret, prefixes[i], 4) == 0;
    if (!known)
        return RMG_VALIDITY_INVALID;
    for (size_t i = 4; i < 20; i++) {
        char c = secret[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
            return RMG_VALIDITY_INVALID;
    }
    return RMG_VALIDITY_VALID;
}

/* ---------------------------------------------------------------- HTTP basic auth */

static enum rmg_validity validate_basic_auth(const char *secret, size_t secret_len,
                                             const char *match, size_t match_len)
{
    (void)match;
    (void)match_len;
    if (ci_starts_with(secret, secret_len, "Basic ")) {
        secret += strlen("Basic ");
        secret_len -= strlen("Basic ");
    }
    unsigned char text[1024];
    size_t total = rmg_validate_base64_decode(secret, secret_len, text, sizeof text, false);
    if (total == SIZE_MAX || total == 0)
        return RMG_VALIDITY_INVALID;
    if (total > sizeof text)
        return RMG_VALIDITY_UNKNOWN;
    size_t colon = SIZE_MAX;
    for (size_t i = 0; i < total; i++) {
        /* Printable: no control bytes; bytes >= 0x80 allowed for UTF-8 names. */
        if (text[i] < 0x20 || text[i] == 0x7f)
            return RMG_VALIDITY_INVALID;
        if (text[i] == ':' && colon == SIZE_MAX)
            colon = i;
    }
    return (colon != SIZE_MAX && colon > 0 && colon + 1 < total) ? RMG_VALIDITY_VALID
                                                                   : RMG_VALIDITY_INVALID;
}

/* ------------------------------------------------------------------------- PyPI */

static enum rmg_validity validate_pypi(const char *secret, size_t secret_len,
                                       const char *match, size_t match_len)
{
    (void)match;
    (void)match_len;
    if (starts_with(secret, secret_len, "pypi-")) {
        secret += strlen("pypi-");
        secret_len -= strlen("pypi-");
    }
    /* The macaroon's location ("pypi.org") comes first: decoding a whole-quantum prefix
     * is enough, and a token cut short by the rule's bound still validates. */
    size_t take = secret_len < 96 ? secret_len : 96;
    take -= take % 4;
    if (take < 12)
        return RMG_VALIDITY_INVALID;
    unsigned char text[72];
    size_t total = rmg_validate_base64_decode(secret, take, text, sizeof text, true);
    if (total == SIZE_MAX)
        return RMG_VALIDITY_INVALID;
    size_t avail = total < sizeof text ? total : sizeof text;
    return mem_contains(text, avail, "pypi.org") ? RMG_VALIDITY_VALID : RMG_VALIDITY_INVALID;
}

/* ------------------------------------------------------------------------ registry */

static const struct {
    const char *name;
    rmg_validator_fn fn;
} validators[] = {
    {"github", validate_github},
    {"npm", validate_npm},
    {"pem", validate_pem},
    {"jwt", validate_jwt},
    {"aws_key_id", validate_aws_key_id},
    {"basic_auth", validate_basic_auth},
    {"pypi", validate_pypi},
};

static const char *const validator_names[] = {
    "github", "npm", "pem", "jwt", "aws_key_id", "basic_auth", "pypi", NULL,
};

bool rmg_validate_is_live(const char *name)
{
    return name && (strcmp(name, "github") == 0 || strcmp(name, "npm") == 0 ||
                    strcmp(name, "pypi") == 0);
}

rmg_validator_fn rmg_validate_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof validators / sizeof validators[0]; i++)
        if (strcmp(validators[i].name, name) == 0)
            return validators[i].fn;
    return NULL;
}

const char *const *rmg_validate_names(void)
{
    return validator_names;
}

/* ------------------------------------------------------------------- placeholders */

/* True when word occurs in s as a whole word: bounded by the ends of s or by characters
 * that are not letters or digits ("TODO", "insert_key_here", "<todo>"), never inside a
 * run of letters and digits such as a random token. */
static bool has_word(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    for (size_t at = ci_find_from(s, n, 0, word); at != SIZE_MAX;
         at = ci_find_from(s, n, at + 1, word)) {
        bool left = at == 0 || !is_alnum((unsigned char)s[at - 1]);
        bool right = at + k == n || !is_alnum((unsigned char)s[at + k]);
        if (left && right)
            return true;
    }
    return false;
}

/* Longest run of one character (other than 'A', see below) and the count of the most
 * frequent one. */
static void char_stats(const char *s, size_t n, size_t *longest_run, size_t *most_common)
{
    size_t counts[256] = {0};
    size_t run = 0, best_run = 0, best_count = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        run = (i > 0 && s[i - 1] == s[i]) ? run + 1 : 1;
        /* Runs of 'A' are base64 of zero bytes, common in real tokens (Yandex's
         * y0_AgAAAAAA..., macaroons, key bodies); as fillers they are caught by the
         * most-frequent-character test instead. */
        if (run > best_run && c != 'A')
            best_run = run;
        if (++counts[c] > best_count)
            best_count = counts[c];
    }
    *longest_run = best_run;
    *most_common = best_count;
}

/* Position of c in the sequence 0-9 then a-z (case-insensitive), or -1. */
static int seq_rank(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'z')
        return 10 + c - 'a';
    return -1;
}

/* Longest strictly ascending or descending run of consecutive digits/letters
 * ("12345678", "abcdefgh", "0123456789abcdef", "87654321"). */
static size_t longest_sequence(const char *s, size_t n)
{
    size_t best = n > 0 ? 1 : 0, up = 1, down = 1;
    for (size_t i = 1; i < n; i++) {
        int a = seq_rank((unsigned char)s[i - 1]), b = seq_rank((unsigned char)s[i]);
        up = (a >= 0 && b == a + 1) ? up + 1 : 1;
        down = (a >= 0 && b >= 0 && b == a - 1) ? down + 1 : 1;
        if (up > best)
            best = up;
        if (down > best)
            best = down;
    }
    return best;
}

static bool is_ident_char(int c)
{
    return is_alnum(c) || c == '_';
}

/* "$NAME" or "%NAME%" as the whole value: a shell or Windows variable reference. */
static bool is_variable_reference(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '$' && (s[1] == '_' || (lower((unsigned char)s[1]) >= 'a' &&
                                                  lower((unsigned char)s[1]) <= 'z'))) {
        for (size_t i = 2; i < n; i++)
            if (!is_ident_char((unsigned char)s[i]))
                return false;
        return true;
    }
    if (n >= 3 && s[0] == '%' && s[n - 1] == '%') {
        for (size_t i = 1; i + 1 < n; i++)
            if (!is_ident_char((unsigned char)s[i]) && s[i] != '(' && s[i] != ')')
                return false;
        return true;
    }
    return false;
}

/* Markers of a template, an elided or masked value: never part of a real secret. */
static bool has_template_marker(const char *s, size_t n)
{
    static const char *const markers[] = {"${", "{{", "%(", "$(", "...", "\xe2\x80\xa6",
                                          "****", NULL};
    for (size_t i = 0; markers[i] != NULL; i++)
        if (find_from(s, n, 0, markers[i]) != SIZE_MAX)
            return true;
    return n >= 2 && s[0] == '<' && s[n - 1] == '>';
}

/* "xxxx", "XXXX" (a mask of four or more); a mixed-case run must be longer, since "xXxX"
 * turns up by chance in about one random base62 token in 25,000. */
static bool has_xxxx(const char *s, size_t n)
{
    size_t lower_run = 0, upper_run = 0, mixed_run = 0;
    for (size_t i = 0; i < n; i++) {
        lower_run = s[i] == 'x' ? lower_run + 1 : 0;
        upper_run = s[i] == 'X' ? upper_run + 1 : 0;
        mixed_run = (s[i] == 'x' || s[i] == 'X') ? mixed_run + 1 : 0;
        if (lower_run >= 4 || upper_run >= 4 || mixed_run >= 6)
            return true;
    }
    return false;
}

/* An armoured key block is a placeholder when its body is: "...", "<your key>", "xxxx".
 * Its real body is long base64 in which runs and chance words mean nothing. */
static bool armoured_placeholder(const char *s, size_t n, size_t begin)
{
    size_t label_end = find_from(s, n, begin + strlen("-----BEGIN "), "-----");
    if (label_end == SIZE_MAX)
        return false;
    size_t body = label_end + 5;
    size_t end = find_from(s, n, body, "-----END ");
    if (end == SIZE_MAX)
        end = n;

    /* Collect the body without whitespace and escapes, up to a short prefix. */
    char text[64];
    size_t len = 0, total = 0;
    for (size_t i = body; i < end; i++) {
        if (is_space((unsigned char)s[i]))
            continue;
        size_t e = escape_len(s, end, i);
        if (e > 0) {
            i += e - 1;
            continue;
        }
        if (len < sizeof text)
            text[len++] = s[i];
        total++;
    }
    if (total == 0)
        return true;
    if (total <= sizeof text)
        return rmg_validate_is_placeholder(text, len);
    return has_template_marker(s + body, end - body) ||
           ci_contains(s + body, end - body, "<your") ||
           ci_contains(s + body, end - body, "placeholder");
}

bool rmg_validate_is_placeholder(const char *secret, size_t len)
{
    /* Documented example values (AWS, Stripe, jwt.io, GitHub docs) not caught below. */
    static const char *const documented[] = {
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "pk_test_TYooMQauvdEDq54NiTphI7jx",
        "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "16C7e42F292c6912E7710c838347Ae178B4a",
        NULL,
    };
    /* Words that mark a value as a stand-in wherever they appear. */
    static const char *const substrings[] = {
        "example", "your_", "your-", "yourkey", "<your", "placeholder", "changeme",
        "change_me", "redacted", "dummy", "replace_me", "replaceme", NULL,
    };
    /* Words that do so only standing alone: short enough to occur in random tokens. */
    static const char *const words[] = {"insert", "todo", NULL};
    /* Values that are a placeholder when they are the whole value. */
    static const char *const whole[] = {
        "password", "passw0rd", "secret", "token", "test", "testing", "foobar", "admin",
        "root", "null", "none", "undefined", "true", "false", "example", "sample",
        "string", "value", "changeit", NULL,
    };

    if (secret == NULL)
        return true;
    const char *s = secret;
    size_t n = len;
    /* The whole-value checks look past surrounding whitespace and quotes. */
    while (n > 0 && (is_space((unsigned char)s[0]) || s[0] == '"' || s[0] == '\'' ||
                     s[0] == '`')) {
        s++;
        n--;
    }
    while (n > 0 && (is_space((unsigned char)s[n - 1]) || s[n - 1] == '"' ||
                     s[n - 1] == '\'' || s[n - 1] == '`'))
        n--;
    if (n == 0)
        return true;

    size_t armour = find_from(s, n, 0, "-----BEGIN ");
    if (armour != SIZE_MAX)
        return armoured_placeholder(s, n, armour);

    for (size_t i = 0; documented[i] != NULL; i++)
        if (find_from(s, n, 0, documented[i]) != SIZE_MAX)
            return true;
    for (size_t i = 0; substrings[i] != NULL; i++)
        if (ci_contains(s, n, substrings[i]))
            return true;
    for (size_t i = 0; words[i] != NULL; i++)
        if (has_word(s, n, words[i]))
            return true;
    for (size_t i = 0; whole[i] != NULL; i++)
        if (ci_equals(s, n, whole[i]))
            return true;
    if (has_template_marker(s, n) || has_xxxx(s, n) || is_variable_reference(s, n))
        return true;

    size_t run, most;
    char_stats(s, n, &run, &most);
    if (most * 10 > n * 6)
        return true;
    /* A run of six means a filler in a token; in a long blob (base64 of binary data
     * holds runs of 'A') it must also be a good part of the value. */
    if (run >= 6 && (n <= 64 || run * 4 >= n))
        return true;
    return longest_sequence(s, n) >= 8;
}
