/* test_util.c: the shared helpers: growable buffers, bounded strings, hashing, whole-file
 * reads with their limits, and the escaping that keeps untrusted text off the terminal. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>
#include <fcntl.h>

#include <cmocka.h>

#include "common/util.h"

static void buf_grows_across_many_appends(void **state)
{
    (void)state;
    struct rmg_buf b = {0};
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        assert_true(rmg_buf_append(&b, &c, 1));
    }
    assert_int_equal(b.len, 10000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_true(rmg_buf_puts(&b, "end"));
    assert_int_equal(b.len, 10003);
    assert_string_equal(b.data + 10000, "end");
    rmg_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    rmg_buf_free(&b); /* twice is harmless */
}

static void buf_append_keeps_nul_bytes(void **state)
{
    (void)state;
    struct rmg_buf b = {0};
    assert_true(rmg_buf_append(&b, "a\0b", 3));
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    rmg_buf_free(&b);
}

static void buf_empty_append_terminates(void **state)
{
    (void)state;
    struct rmg_buf b = {0};
    assert_true(rmg_buf_puts(&b, ""));
    assert_non_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    rmg_buf_free(&b);
}

static void buf_printf_longer_than_512(void **state)
{
    (void)state;
    char big[2001];
    memset(big, 'x', 2000);
    big[2000] = '\0';
    struct rmg_buf b = {0};
    assert_true(rmg_buf_puts(&b, "head:"));
    assert_true(rmg_buf_printf(&b, "[%s|%d]", big, 42));
    assert_int_equal(b.len, 5 + 1 + 2000 + 4);
    assert_memory_equal(b.data, "head:[", 6);
    for (size_t i = 6; i < 2006; i++)
        assert_int_equal(b.data[i], 'x');
    assert_string_equal(b.data + 2006, "|42]");
    /* And many small ones after. */
    for (int i = 0; i < 1000; i++)
        assert_true(rmg_buf_printf(&b, "%03d", i % 1000));
    assert_int_equal(b.len, 2010 + 3000);
    assert_memory_equal(b.data + 2010, "000001002", 9);
    assert_string_equal(b.data + b.len - 3, "999");
    rmg_buf_free(&b);
}

static void strndup_copies_prefix(void **state)
{
    (void)state;
    char *p = rmg_strndup("abcdef", 3);
    assert_non_null(p);
    assert_string_equal(p, "abc");
    free(p);
    p = rmg_strndup("abc", 0);
    assert_non_null(p);
    assert_string_equal(p, "");
    free(p);
    /* Bytes after a NUL are copied too: n is a length, not a bound. */
    p = rmg_strndup("a\0c", 3);
    assert_non_null(p);
    assert_memory_equal(p, "a\0c\0", 4);
    free(p);
    assert_null(rmg_strdup(NULL));
    p = rmg_strdup("x");
    assert_string_equal(p, "x");
    free(p);
}

static void sha256_known_vectors(void **state)
{
    (void)state;
    char out[65];
    memset(out, '#', sizeof out);
    rmg_sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    rmg_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* A temp file with this content; returns its path in a static-size buffer. */
static void temp_file(char *path, size_t cap, const void *data, size_t len)
{
    snprintf(path, cap, "/tmp/rmg_test_util_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void read_file_whole(void **state)
{
    (void)state;
    char path[64];
    static const char content[] = "line 1\nline\0two\n";
    temp_file(path, sizeof path, content, sizeof content - 1);
    char *data = NULL;
    size_t len = 0;
    char err[256] = "";
    assert_true(rmg_read_file(path, 1000, &data, &len, err, sizeof err));
    assert_int_equal(len, sizeof content - 1);
    assert_memory_equal(data, content, len);
    assert_int_equal(data[len], '\0');
    free(data);
    /* Exactly max is allowed. */
    data = NULL;
    assert_true(rmg_read_file(path, sizeof content - 1, &data, &len, err, sizeof err));
    free(data);
    unlink(path);
}

static void read_file_empty(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, sizeof path, "", 0);
    char *data = NULL;
    size_t len = 99;
    char err[256] = "";
    assert_true(rmg_read_file(path, 10, &data, &len, err, sizeof err));
    assert_non_null(data);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    unlink(path);
}

static void read_file_over_max(void **state)
{
    (void)state;
    char path[64];
    char big[5000];
    memset(big, 'z', sizeof big);
    temp_file(path, sizeof path, big, sizeof big);
    char *data = NULL;
    size_t len = 0;
    char err[256] = "";
    assert_false(rmg_read_file(path, 4999, &data, &len, err, sizeof err));
    assert_null(data);
    assert_true(err[0] != '\0');
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "4999"));
    unlink(path);
}

static void read_file_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/rmg_test_util_dir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *data = NULL;
    size_t len = 0;
    char err[256] = "";
    assert_false(rmg_read_file(dir, 1 << 20, &data, &len, err, sizeof err));
    assert_null(data);
    assert_non_null(strstr(err, dir));
    rmdir(dir);
}

static void read_file_missing(void **state)
{
    (void)state;
    const char *path = "/tmp/rmg_test_util_no_such_file/really-not-here.txt";
    char *data = NULL;
    size_t len = 0;
    char err[256] = "";
    assert_false(rmg_read_file(path, 1 << 20, &data, &len, err, sizeof err));
    assert_null(data);
    assert_non_null(strstr(err, path));
}

/* rmg_buf_put_safe of len bytes, as a C string the caller frees. */
static char *safe(const char *s, size_t len)
{
    struct rmg_buf b = {0};
    assert_true(rmg_buf_put_safe(&b, s, len));
    assert_true(rmg_buf_append(&b, "", 0));
    return b.data;
}

#define assert_safe(in, expect)                                                              \
    do {                                                                                     \
        char *got_ = safe((in), sizeof(in) - 1);                                             \
        assert_string_equal(got_, (expect));                                                 \
        free(got_);                                                                          \
    } while (0)

static void safe_printable_passes(void **state)
{
    (void)state;
    char all[96];
    for (int c = 0x20; c < 0x7f; c++)
        all[c - 0x20] = (char)c;
    all[95] = '\0';
    char *got = safe(all, 95);
    /* Everything passes except the backslash, which is doubled. */
    struct rmg_buf want = {0};
    for (int c = 0x20; c < 0x7f; c++)
        rmg_buf_puts(&want, c == '\\' ? "\\\\" : (char[]){(char)c, 0});
    assert_string_equal(got, want.data);
    free(got);
    rmg_buf_free(&want);
    assert_safe("config/settings.yml", "config/settings.yml");
}

static void safe_control_bytes_escaped(void **state)
{
    (void)state;
    assert_safe("a\x1b[31mred", "a\\x1b[31mred");
    assert_safe("x\0y", "x\\x00y");
    assert_safe("del\x7f", "del\\x7f");
    assert_safe("cr\r\n", "cr\\x0d\\x0a");
    assert_safe("\t", "\\x09");
    assert_safe("back\\slash", "back\\\\slash");
    assert_safe("\\x1b", "\\\\x1b"); /* a literal \x1b in a name is not an escape */
}

static void safe_valid_utf8_passes(void **state)
{
    (void)state;
    assert_safe("caf\xc3\xa9", "caf\xc3\xa9");                 /* é */
    assert_safe("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"); /* 日本 */
    assert_safe("\xf0\x9f\x94\x91 key", "\xf0\x9f\x94\x91 key");  /* U+1F511 */
}

static void safe_invalid_utf8_escaped(void **state)
{
    (void)state;
    assert_safe("a\xff", "a\\xff");
    assert_safe("\x80x", "\\x80x");
    assert_safe("\xc0\xaf", "\\xc0\\xaf");             /* overlong '/' */
    assert_safe("\xe0\x80\xaf", "\\xe0\\x80\\xaf");    /* overlong, 3 bytes */
    assert_safe("\xed\xa0\x80", "\\xed\\xa0\\x80");    /* surrogate U+D800 */
    assert_safe("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    assert_safe("\xc3", "\\xc3");                      /* truncated at the end */
    assert_safe("\xe6\x97z", "\\xe6\\x97z");           /* truncated in the middle */
    assert_safe("\xc3\xc3\xa9", "\\xc3\xc3\xa9");      /* a bad lead, then a good é */
}

static void safe_bidi_escaped(void **state)
{
    (void)state;
    assert_safe("evil\xe2\x80\xaetxt.exe", "evil\\xe2\\x80\\xaetxt.exe"); /* U+202E */
    assert_safe("\xe2\x81\xa6x", "\\xe2\\x81\\xa6x");                       /* U+2066 */
}

static void safe_c1_controls_escaped(void **state)
{
    (void)state;
    /* U+009B (CSI) and U+009D (OSC) in UTF-8: terminals honouring 8-bit controls act on them */
    assert_safe("a\xc2\x9b" "31mred", "a\\xc2\\x9b31mred");
    assert_safe("\xc2\x9d" "0;t\xc2\x9c", "\\xc2\\x9d0;t\\xc2\\x9c");
    assert_safe("\xc2\x80\xc2\x9f", "\\xc2\\x80\\xc2\\x9f");
    assert_safe("\xc2\xa0\xc2\xa9", "\xc2\xa0\xc2\xa9"); /* U+00A0, U+00A9 pass */
}

static void fputs_safe_matches_buf(void **state)
{
    (void)state;
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    assert_non_null(f);
    rmg_fputs_safe(f, "p\x1b\xff\\", 4);
    fclose(f);
    assert_string_equal(mem, "p\\x1b\\xff\\\\");
    free(mem);
}

/* rmg_open_beneath: a path below a directory opens; a symlink anywhere on the way, "..",
 * "." and absolute paths do not. */
static void open_beneath_never_follows_links(void **state)
{
    (void)state;
    char dir[] = "/tmp/rmg-beneath-XXXXXX", p[256];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/a", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/a/f", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(p, sizeof p, "%s/link", dir);
    assert_int_equal(symlink("a/f", p), 0);
    snprintf(p, sizeof p, "%s/dlink", dir);
    assert_int_equal(symlink("a", p), 0);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    int fd = rmg_open_beneath(dfd, "a/f", O_RDONLY);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rmg_open_beneath(dfd, "link", O_RDONLY), -1);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(rmg_open_beneath(dfd, "dlink/f", O_RDONLY), -1);
    assert_true(errno == ELOOP || errno == ENOTDIR);
    const char *bad[] = {"../x", "a/../a/f", "./a/f", "/etc/passwd", "", "a//f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(rmg_open_beneath(dfd, bad[i], O_RDONLY), -1);
    close(dfd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_beneath_never_follows_links),
        cmocka_unit_test(buf_grows_across_many_appends),
        cmocka_unit_test(buf_append_keeps_nul_bytes),
        cmocka_unit_test(buf_empty_append_terminates),
        cmocka_unit_test(buf_printf_longer_than_512),
        cmocka_unit_test(strndup_copies_prefix),
        cmocka_unit_test(sha256_known_vectors),
        cmocka_unit_test(read_file_whole),
        cmocka_unit_test(read_file_empty),
        cmocka_unit_test(read_file_over_max),
        cmocka_unit_test(read_file_directory),
        cmocka_unit_test(read_file_missing),
        cmocka_unit_test(safe_printable_passes),
        cmocka_unit_test(safe_control_bytes_escaped),
        cmocka_unit_test(safe_valid_utf8_passes),
        cmocka_unit_test(safe_invalid_utf8_escaped),
        cmocka_unit_test(safe_bidi_escaped),
        cmocka_unit_test(safe_c1_controls_escaped),
        cmocka_unit_test(fputs_safe_matches_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
