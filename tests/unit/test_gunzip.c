/* test_gunzip.c: rmg_archive_open_inflating: a tar behind gzip (one member, several members,
 * blocks of every size down to one byte, so the magic and headers straddle blocks) reads the
 * same as through libarchive's own gzip filter; non-gzip streams pass through; a damaged CRC
 * (ISA-L), a damaged deflate stream and a truncated stream are read errors; bytes after the
 * last member that start no member are ignored. Runs with and without ISA-L. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "image/gunzip.h"
#include "common/util.h"

/* A tar of n files "fI.txt" holding "content I\n" repeated (compressible, several blocks). */
static struct rmg_buf make_tar(int n)
{
    struct rmg_buf out = {0};
    size_t cap = 1u << 22, used = 0;
    out.data = malloc(cap);
    assert_non_null(out.data);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_memory(a, out.data, cap, &used), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct rmg_buf body = {0};
        for (int k = 0; k < 2000 + i * 500; k++)
            rmg_buf_printf(&body, "content %d line %d\n", i, k);
        char name[32];
        snprintf(name, sizeof name, "f%d.txt", i);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)body.len);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, body.data, body.len), (la_ssize_t)body.len);
        archive_entry_free(e);
        rmg_buf_free(&body);
    }
    archive_write_close(a);
    archive_write_free(a);
    out.len = used;
    out.cap = cap;
    return out;
}

/* gzip of data (one member) appended to out. */
static void gzip_append(struct rmg_buf *out, const void *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len) + 64;
    unsigned char *buf = malloc(cap);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    rmg_buf_append(out, buf, cap - z.avail_out);
    deflateEnd(&z);
    free(buf);
}

struct src {
    const unsigned char *data;
    size_t len, pos, block;
};

static la_ssize_t src_read(struct archive *a, void *ud, const void **out)
{
    (void)a;
    struct src *s = ud;
    size_t n = s->len - s->pos < s->block ? s->len - s->pos : s->block;
    *out = s->data + s->pos;
    s->pos += n;
    return (la_ssize_t)n;
}

/* Reads the archive behind `data` in blocks of `block` bytes: the concatenated names and
 * contents into *out (a digest of what it holds). Returns the first error's message, or NULL. */
static char *read_all(const struct rmg_buf *data, size_t block, struct rmg_buf *out)
{
    struct src s = {(const unsigned char *)data->data, data->len, 0, block};
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    char *err = NULL;
    if (rmg_archive_open_inflating(a, &s, src_read) != ARCHIVE_OK) {
        err = strdup(archive_error_string(a) ? archive_error_string(a) : "?");
    } else {
        struct archive_entry *e;
        int r;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
            rmg_buf_puts(out, archive_entry_pathname(e));
            char buf[8192];
            la_ssize_t n;
            while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
                rmg_buf_append(out, buf, (size_t)n);
            if (n < 0) {
                r = ARCHIVE_FATAL;
                break;
            }
        }
        if (r != ARCHIVE_EOF)
            err = strdup(archive_error_string(a) ? archive_error_string(a) : "?");
    }
    archive_read_free(a);
    return err;
}

static void expect_same(const struct rmg_buf *plain, const struct rmg_buf *stream)
{
    struct rmg_buf want = {0};
    assert_null(read_all(plain, plain->len, &want));
    static const size_t blocks[] = {1, 2, 7, 512, 65536, 1u << 30};
    for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++) {
        struct rmg_buf got = {0};
        char *err = read_all(stream, blocks[i], &got);
        if (err)
            fail_msg("block %zu: %s", blocks[i], err);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
        rmg_buf_free(&got);
    }
    rmg_buf_free(&want);
}

static void test_one_member(void **state)
{
    (void)state;
    struct rmg_buf tar = make_tar(5), gz = {0};
    gzip_append(&gz, tar.data, tar.len);
    expect_same(&tar, &gz);
    expect_same(&tar, &tar); /* not gzip: passed through */
    rmg_buf_free(&gz);
    rmg_buf_free(&tar);
}

static void test_members_and_trailing_bytes(void **state)
{
    (void)state;
    struct rmg_buf tar = make_tar(4), gz = {0};
    size_t cut = tar.len / 3;
    gzip_append(&gz, tar.data, cut);
    gzip_append(&gz, tar.data + cut, tar.len - cut);
    expect_same(&tar, &gz);
    rmg_buf_append(&gz, "\0\0\0\0garbage", 11); /* not a member: ignored */
    expect_same(&tar, &gz);
    rmg_buf_free(&gz);
    rmg_buf_free(&tar);
}

static void test_damage_is_an_error(void **state)
{
    (void)state;
    struct rmg_buf tar = make_tar(3), gz = {0};
    gzip_append(&gz, tar.data, tar.len);
    struct rmg_buf bad = {0}, got = {0};
    /* The CRC (the trailer's first 4 bytes) flipped: ISA-L checks it as it inflates the last
     * block (libarchive's reader stops at the tar's end-of-archive blocks and may never read
     * the trailer). */
    rmg_buf_append(&bad, gz.data, gz.len);
    bad.data[bad.len - 8] ^= 0x55;
    char *err = read_all(&bad, 4096, &got);
    if (rmg_have_isal()) {
        assert_non_null(err);
        assert_non_null(strstr(err, "gzip: CRC"));
    }
    free(err);
    /* Cut in the middle. */
    bad.len = gz.len / 2;
    rmg_buf_free(&got);
    err = read_all(&bad, 4096, &got);
    assert_non_null(err);
    if (rmg_have_isal())
        assert_non_null(strstr(err, "gzip"));
    free(err);
    /* Deflate data garbled. */
    memcpy(bad.data, gz.data, gz.len);
    bad.len = gz.len;
    memset(bad.data + 40, 0xff, 64);
    rmg_buf_free(&got);
    err = read_all(&bad, 4096, &got);
    assert_non_null(err);
    free(err);
    rmg_buf_free(&got);
    rmg_buf_free(&bad);
    rmg_buf_free(&gz);
    rmg_buf_free(&tar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_member),
        cmocka_unit_test(test_members_and_trailing_bytes),
        cmocka_unit_test(test_damage_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
