/* inflate_bench.c: the inflaters side by side on real layer blobs (docs/performance.md).
 *
 * DESIGN. Each file (a gzip or a zstd layer blob) is read into memory once, then decompressed
 * whole to a discard buffer by every inflater that applies, best of N rounds: for gzip, zlib's
 * inflate (256 KiB output buffer), libarchive's filters (raw format, what rummage used before
 * ISA-L), ISA-L's isal_inflate (what src/image/gunzip.c does) and libdeflate (whole buffer, output
 * sized from the gzip ISIZE trailer); for zstd, libzstd's ZSTD_decompressStream and
 * libarchive's zstd filter. Concatenated gzip members are inflated one after another as
 * gzip(1) does; after the last, bytes that do not start another member are ignored (as
 * src/image/gunzip.c and libarchive do). One untimed round per inflater first computes the output's
 * length and CRC-32 (zlib's crc32), which must agree across inflaters: a wrong result shows
 * as MISMATCH and a non-zero exit. Timed rounds do not compute the CRC (the inflaters' own
 * gzip checks still run). libdeflate's timing includes allocating (and so faulting in) its
 * whole output buffer each round, as a scanner would per layer; -w keeps one warm buffer.
 * Output: a Markdown table on stdout, errors on stderr.
 *
 * Build: make BUILD=DIR inflate-bench (needs libdeflate-dev: DEB_BENCH in the Makefile). */
#define _POSIX_C_SOURCE 200809L

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define OUT_SIZE (256u << 10)
#define MAX_INFLATERS 4

/* What an inflater produced: its length, and its CRC-32 on the verifying round. */
struct sink {
    bool verify;
    uint64_t bytes;
    uLong crc;
};

/* Per run state an inflater may keep across rounds (libdeflate's buffer with -w). */
struct scratch {
    unsigned char *out;  /* OUT_SIZE bytes, the streaming inflaters' discard buffer */
    unsigned char *whole; /* libdeflate's whole-output buffer */
    size_t whole_cap;
    bool keep_whole;
};

typedef bool inflate_fn(const unsigned char *in, size_t n, struct scratch *s, struct sink *k,
                        char *err, size_t errlen);

struct inflater {
    const char *name;
    inflate_fn *run;
};

static void sink_put(struct sink *k, const void *p, size_t n)
{
    k->bytes += n;
    if (k->verify) {
        const unsigned char *b = p;
        while (n) {
            uInt c = n > UINT_MAX ? UINT_MAX : (uInt)n;
            k->crc = crc32(k->crc, b, c);
            b += c;
            n -= c;
        }
    }
}

static bool is_gzip_member(const unsigned char *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* ---- zlib inflate, streaming ------------------------------------------------------------ */

static bool run_zlib(const unsigned char *in, size_t n, struct scratch *s, struct sink *k,
                     char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        snprintf(err, errlen, "inflateInit2 failed");
        return false;
    }
    size_t pos = 0;
    bool ok = true;
    for (;;) {
        if (z.avail_in == 0 && pos < n) {
            size_t c = n - pos > UINT_MAX ? UINT_MAX : n - pos;
            z.next_in = (Bytef *)(in + pos);
            z.avail_in = (uInt)c;
            pos += c;
        }
        z.next_out = s->out;
        z.avail_out = OUT_SIZE;
        int ret = inflate(&z, Z_NO_FLUSH);
        sink_put(k, s->out, OUT_SIZE - z.avail_out);
        if (ret == Z_STREAM_END) {
            /* Input left in this chunk plus what has not been handed over yet. */
            size_t left = z.avail_in + (n - pos);
            const unsigned char *next = in + (n - left);
            if (!is_gzip_member(next, left))
                break;
            inflateReset(&z);
            continue;
        }
        if (ret == Z_BUF_ERROR && z.avail_in == 0 && pos == n) {
            snprintf(err, errlen, "truncated input");
            ok = false;
            break;
        }
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
            snprintf(err, errlen, "inflate: %s", z.msg ? z.msg : "error");
            ok = false;
            break;
        }
    }
    inflateEnd(&z);
    return ok;
}

/* ---- libarchive, raw format: gzip or zstd through its filters ---------------------------- */

static bool run_libarchive(const unsigned char *in, size_t n, struct scratch *s, struct sink *k,
                           char *err, size_t errlen)
{
    (void)s;
    struct archive *a = archive_read_new();
    if (!a) {
        snprintf(err, errlen, "archive_read_new failed");
        return false;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    struct archive_entry *e;
    bool ok = archive_read_open_memory(a, in, n) == ARCHIVE_OK &&
              archive_read_next_header(a, &e) == ARCHIVE_OK;
    while (ok) {
        const void *buf;
        size_t len;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            ok = false;
        else
            sink_put(k, buf, len);
    }
    if (!ok) {
        const char *m = archive_error_string(a);
        snprintf(err, errlen, "libarchive: %s", m ? m : "error");
    }
    archive_read_free(a);
    return ok;
}

/* ---- ISA-L igzip, streaming (as src/image/gunzip.c) --------------------------------------------- */

static const char *isal_error(int ret)
{
    switch (ret) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC or length mismatch";
    default: return "inflate error";
    }
}

static void isal_start_member(struct inflate_state *st)
{
    uint8_t *next = st->next_in;
    uint32_t avail = st->avail_in;
    isal_inflate_reset(st);
    st->crc_flag = ISAL_GZIP;
    st->next_in = next;
    st->avail_in = avail;
}

static bool run_isal(const unsigned char *in, size_t n, struct scratch *s, struct sink *k,
                     char *err, size_t errlen)
{
    struct inflate_state *st = malloc(sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    isal_inflate_init(st);
    st->crc_flag = ISAL_GZIP;
    size_t pos = 0;
    bool ok = true;
    for (;;) {
        if (st->avail_in == 0 && pos < n) {
            size_t c = n - pos > UINT32_MAX ? UINT32_MAX : n - pos;
            st->next_in = (uint8_t *)(in + pos);
            st->avail_in = (uint32_t)c;
            pos += c;
        }
        if (st->block_state == ISAL_BLOCK_FINISH) {
            size_t left = st->avail_in + (n - pos);
            if (!is_gzip_member(in + (n - left), left))
                break;
            isal_start_member(st);
        }
        st->next_out = s->out;
        st->avail_out = OUT_SIZE;
        uint32_t avail_before = st->avail_in;
        uint32_t state_before = st->block_state;
        int ret = isal_inflate(st);
        if (ret < 0) {
            snprintf(err, errlen, "isal_inflate: %s", isal_error(ret));
            ok = false;
            break;
        }
        size_t produced = OUT_SIZE - st->avail_out;
        sink_put(k, s->out, produced);
        /* Input used up is not the end: ISA-L may hold the last bytes in its bit buffer and
         * output still to flush. Truncated is no progress at all without a finished member. */
        if (!produced && st->avail_in == avail_before && st->block_state == state_before &&
            pos == n && st->block_state != ISAL_BLOCK_FINISH) {
            snprintf(err, errlen, "truncated input");
            ok = false;
            break;
        }
    }
    free(st);
    return ok;
}

/* ---- libdeflate, whole buffer ------------------------------------------------------------- */

static bool grow(struct scratch *s, size_t want)
{
    unsigned char *p = realloc(s->whole, want);
    if (!p)
        return false;
    s->whole = p;
    s->whole_cap = want;
    return true;
}

static bool run_libdeflate(const unsigned char *in, size_t n, struct scratch *s, struct sink *k,
                           char *err, size_t errlen)
{
    if (n < 18) {
        snprintf(err, errlen, "truncated input");
        return false;
    }
    /* ISIZE: the last member's length mod 2^32; right for a single member under 4 GiB. */
    const unsigned char *t = in + n - 4;
    size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    size_t most = n > SIZE_MAX / 1032 ? SIZE_MAX : n * 1032; /* deflate's limit is 1032:1 */
    if (isize > most) /* trailing bytes after the last member, not an ISIZE */
        isize = most;
    if (isize < 4096)
        isize = 4096;
    if (s->whole_cap < isize && !grow(s, isize)) {
        snprintf(err, errlen, "out of memory (%zu bytes)", isize);
        return false;
    }
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d) {
        snprintf(err, errlen, "libdeflate_alloc_decompressor failed");
        return false;
    }
    size_t pos = 0, outpos = 0;
    bool ok = true;
    while (is_gzip_member(in + pos, n - pos)) {
        size_t used, produced;
        enum libdeflate_result r = libdeflate_gzip_decompress_ex(
            d, in + pos, n - pos, s->whole + outpos, s->whole_cap - outpos, &used, &produced);
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
            if (s->whole_cap > SIZE_MAX / 2 || !grow(s, s->whole_cap * 2)) {
                snprintf(err, errlen, "out of memory (%zu bytes)", s->whole_cap);
                ok = false;
                break;
            }
            continue; /* this member again, into the larger buffer */
        }
        if (r != LIBDEFLATE_SUCCESS) {
            snprintf(err, errlen, "libdeflate: bad or truncated data");
            ok = false;
            break;
        }
        pos += used;
        outpos += produced;
    }
    if (ok)
        sink_put(k, s->whole, outpos);
    libdeflate_free_decompressor(d);
    if (!s->keep_whole) {
        free(s->whole);
        s->whole = NULL;
        s->whole_cap = 0;
    }
    return ok;
}

/* ---- libzstd, streaming ------------------------------------------------------------------- */

static bool run_zstd(const unsigned char *in, size_t n, struct scratch *s, struct sink *k,
                     char *err, size_t errlen)
{
    ZSTD_DCtx *z = ZSTD_createDCtx();
    if (!z) {
        snprintf(err, errlen, "ZSTD_createDCtx failed");
        return false;
    }
    ZSTD_inBuffer ib = { in, n, 0 };
    size_t ret = 1;
    bool ok = true;
    for (;;) {
        ZSTD_outBuffer ob = { s->out, OUT_SIZE, 0 };
        ret = ZSTD_decompressStream(z, &ob, &ib);
        if (ZSTD_isError(ret)) {
            snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(ret));
            ok = false;
            break;
        }
        sink_put(k, s->out, ob.pos);
        /* Done when all input is used and the last frame is complete and flushed. */
        if (ib.pos == ib.size && ob.pos < ob.size) {
            if (ret != 0) {
                snprintf(err, errlen, "truncated input");
                ok = false;
            }
            break;
        }
    }
    ZSTD_freeDCtx(z);
    return ok;
}

/* ---- driver ------------------------------------------------------------------------------- */

static const struct inflater gzip_inflaters[] = {
    { "zlib inflate", run_zlib },
    { "libarchive (zlib)", run_libarchive },
    { "ISA-L igzip", run_isal },
    { "libdeflate", run_libdeflate },
};

static const struct inflater zstd_inflaters[] = {
    { "libarchive (zstd)", run_libarchive },
    { "libzstd stream", run_zstd },
};

struct timing {
    double wall, cpu;
};

struct total {
    const char *kind;
    const char *name;
    double in_mb, out_mb, wall, cpu;
};

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned char *read_whole(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        return NULL;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory (%zu bytes)", n);
        close(fd);
        return NULL;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) {
            snprintf(err, errlen, "read: %s", r < 0 ? strerror(errno) : "short file");
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static void add_total(struct total *tot, size_t *ntot, const char *kind, const char *name,
                      double in_mb, double out_mb, const struct timing *t)
{
    size_t i = 0;
    while (i < *ntot && strcmp(tot[i].name, name) != 0)
        i++;
    if (i == *ntot) {
        memset(&tot[i], 0, sizeof tot[i]);
        tot[i].kind = kind;
        tot[i].name = name;
        (*ntot)++;
    }
    tot[i].in_mb += in_mb;
    tot[i].out_mb += out_mb;
    tot[i].wall += t->wall;
    tot[i].cpu += t->cpu;
}

/* Benchmarks one file; false (with a message on stderr) if it could not be read or any
 * inflater failed or disagreed. */
static bool bench_file(const char *path, int rounds, bool use_cpu, struct scratch *s,
                       struct total *tot, size_t *ntot)
{
    char err[256];
    size_t n = 0;
    unsigned char *in = read_whole(path, &n, err, sizeof err);
    if (!in) {
        fprintf(stderr, "inflate_bench: %s: %s\n", path, err);
        return false;
    }
    const struct inflater *inf;
    size_t ninf;
    const char *kind;
    if (is_gzip_member(in, n)) {
        inf = gzip_inflaters;
        ninf = sizeof gzip_inflaters / sizeof gzip_inflaters[0];
        kind = "gzip";
    } else if (n >= 4 && in[0] == 0x28 && in[1] == 0xb5 && in[2] == 0x2f && in[3] == 0xfd) {
        inf = zstd_inflaters;
        ninf = sizeof zstd_inflaters / sizeof zstd_inflaters[0];
        kind = "zstd";
    } else {
        fprintf(stderr, "inflate_bench: %s: neither gzip nor zstd\n", path);
        free(in);
        return false;
    }

    struct sink ref[MAX_INFLATERS];
    struct timing best[MAX_INFLATERS];
    bool ok = true;
    for (size_t i = 0; i < ninf && ok; i++) {
        ref[i] = (struct sink){ .verify = true, .crc = crc32(0L, Z_NULL, 0) };
        if (!inf[i].run(in, n, s, &ref[i], err, sizeof err)) {
            fprintf(stderr, "inflate_bench: %s: %s: %s\n", path, inf[i].name, err);
            ok = false;
        }
        best[i] = (struct timing){ 1e300, 1e300 };
    }
    /* Rounds go round the inflaters in turn, so that on a shared machine each meets the same
     * mix of load. */
    for (int r = 0; r < rounds && ok; r++) {
        for (size_t i = 0; i < ninf && ok; i++) {
            struct sink k = { .verify = false };
            double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
            ok = inf[i].run(in, n, s, &k, err, sizeof err);
            double c1 = now(CLOCK_PROCESS_CPUTIME_ID), w1 = now(CLOCK_MONOTONIC);
            if (!ok) {
                fprintf(stderr, "inflate_bench: %s: %s: %s\n", path, inf[i].name, err);
            } else if (k.bytes != ref[i].bytes) {
                fprintf(stderr, "inflate_bench: %s: %s: %llu bytes, then %llu\n", path,
                        inf[i].name, (unsigned long long)ref[i].bytes,
                        (unsigned long long)k.bytes);
                ok = false;
            }
            if (w1 - w0 < best[i].wall)
                best[i].wall = w1 - w0;
            if (c1 - c0 < best[i].cpu)
                best[i].cpu = c1 - c0;
        }
    }
    if (ok) {
        double in_mb = (double)n / 1e6;
        for (size_t i = 0; i < ninf; i++) {
            double out_mb = (double)ref[i].bytes / 1e6;
            double t = use_cpu ? best[i].cpu : best[i].wall, t0 = use_cpu ? best[0].cpu : best[0].wall;
            bool same = ref[i].bytes == ref[0].bytes && ref[i].crc == ref[0].crc;
            printf("| %.12s | %s | %s | %.1f | %.1f | %.3f | %.3f | %.0f | %.2f | %08lx%s |\n",
                   base_name(path), kind, inf[i].name, in_mb, out_mb, best[i].wall, best[i].cpu,
                   out_mb / t, t0 / t, ref[i].crc,
                   same ? "" : " MISMATCH");
            if (!same) {
                fprintf(stderr, "inflate_bench: %s: %s: %llu bytes crc %08lx, %s gave %llu "
                        "bytes crc %08lx\n", path, inf[i].name,
                        (unsigned long long)ref[i].bytes, ref[i].crc, inf[0].name,
                        (unsigned long long)ref[0].bytes, ref[0].crc);
                ok = false;
            }
            add_total(tot, ntot, kind, inf[i].name, in_mb, out_mb, &best[i]);
        }
        fflush(stdout);
    }
    free(in);
    return ok;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: inflate_bench [-n ROUNDS] [-c] [-w] FILE...\n"
               "  Decompresses each gzip or zstd FILE in memory with every inflater that\n"
               "  applies (zlib, libarchive, ISA-L, libdeflate; libarchive, libzstd) and prints\n"
               "  the best of ROUNDS (default 3) wall and CPU times as a Markdown table.\n"
               "  \"x base\" is the first inflater's time over this one's (zlib for gzip,\n"
               "  libarchive for zstd): above 1 is faster.\n"
               "  -c  MB/s and \"x base\" from CPU time instead of wall time (a shared machine)\n"
               "  -w  keep libdeflate's output buffer across rounds (by default it is\n"
               "      allocated each round, as it would be for each layer)\n");
}

int main(int argc, char **argv)
{
    int rounds = 3, opt;
    bool use_cpu = false;
    struct scratch s = { 0 };
    while ((opt = getopt(argc, argv, "n:cwh")) != -1) {
        if (opt == 'n') {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > 1000) {
                fprintf(stderr, "inflate_bench: -n wants 1..1000\n");
                return 2;
            }
            rounds = (int)v;
        } else if (opt == 'c') {
            use_cpu = true;
        } else if (opt == 'w') {
            s.keep_whole = true;
        } else if (opt == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind == argc) {
        usage(stderr);
        return 2;
    }
    s.out = malloc(OUT_SIZE);
    if (!s.out) {
        fprintf(stderr, "inflate_bench: out of memory\n");
        return 1;
    }
    struct total tot[2 * MAX_INFLATERS];
    size_t ntot = 0;
    bool ok = true;
    printf("| file | kind | inflater | in MB | out MB | wall s | CPU s | MB/s | x base | "
           "crc32 |\n|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    for (int i = optind; i < argc; i++)
        if (!bench_file(argv[i], rounds, use_cpu, &s, tot, &ntot))
            ok = false;
    /* Totals per inflater over the files that succeeded; "x base" against the first inflater
     * of the same kind (totals are added in table order, so it comes first). */
    for (size_t i = 0; i < ntot; i++) {
        size_t first = 0;
        while (strcmp(tot[first].kind, tot[i].kind) != 0)
            first++;
        double t = use_cpu ? tot[i].cpu : tot[i].wall;
        double t0 = use_cpu ? tot[first].cpu : tot[first].wall;
        printf("| total | %s | %s | %.1f | %.1f | %.3f | %.3f | %.0f | %.2f | |\n", tot[i].kind,
               tot[i].name, tot[i].in_mb, tot[i].out_mb, tot[i].wall, tot[i].cpu,
               tot[i].out_mb / t, t0 / t);
    }
    free(s.out);
    free(s.whole);
    return ok ? 0 : 1;
}
