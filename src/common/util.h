/* util.h: small helpers shared by the modules: allocation, buffers, hashing, escaping. */
#ifndef RMG_UTIL_H
#define RMG_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Growable byte buffer; always NUL-terminated when data != NULL. */
struct rmg_buf {
    char *data;
    size_t len, cap;
};

bool rmg_buf_append(struct rmg_buf *b, const void *data, size_t len);
bool rmg_buf_puts(struct rmg_buf *b, const char *s);
bool rmg_buf_printf(struct rmg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rmg_buf_free(struct rmg_buf *b);

/* strdup that accepts NULL (returns NULL). */
char *rmg_strdup(const char *s);
char *rmg_strndup(const char *s, size_t n);
/* Frees n strings and the array holding them (either may be NULL). */
void rmg_strv_free(char **v, size_t n);
/* Bounded formatted write that always terminates; returns dst. */
char *rmg_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Hex sha256 of data (out gets 64 chars and a NUL). */
void rmg_sha256_hex(const void *data, size_t len, char out[65]);

/* Reads a whole file into memory (NUL-terminated), refusing files larger than max.
 * Returns false with a message in err. Caller frees *out. */
bool rmg_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                   size_t errlen);
/* The same from an open fd (closed here); `path` names it in messages. */
bool rmg_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, char *err,
                 size_t errlen);
/* openat of the relative path `rel` below dirfd, never following a symbolic link on the way
 * or at the end, nor climbing with ".." (-1, errno ELOOP, ENOTDIR or EINVAL); `flags` for the
 * last component. */
int rmg_open_beneath(int dirfd, const char *rel, int flags);

/* Writes text from an untrusted source to a terminal or log: control bytes, DEL, invalid UTF-8
 * and backslash become \xHH / \\ escapes (libarchive's safe_fprintf idea). */
void rmg_fputs_safe(FILE *f, const char *s, size_t len);
/* Same, into a buffer. */
bool rmg_buf_put_safe(struct rmg_buf *b, const char *s, size_t len);

/* Length of the valid UTF-8 sequence at s (at most n bytes): 1-4, or 0 when the bytes are not
 * valid UTF-8 (overlong, surrogate, above U+10FFFF, truncated, stray continuation). */
size_t rmg_utf8_seq_len(const unsigned char *s, size_t n);

/* Sends all of data on a socket without SIGPIPE (a stream a reader thread consumes). False
 * when the reader has closed its end, or on another error. */
bool rmg_send_all(int fd, const void *data, size_t len);

/* Monotonic seconds. */
double rmg_now(void);

/* Grows *arrp (an array of elem-sized items with *cap slots) to hold need items: arrp is the
 * address of the array pointer (NULL for none yet), realloc'd with its slots doubled (from 8)
 * until need items fit, and *cap updated. False on overflow or out of memory, the array and
 * *cap unchanged. */
bool rmg_grow(void *arrp, size_t *cap, size_t need, size_t elem);

/* A hex digit's value (either case), or -1. */
int rmg_hex_value(char c);
/* n hex digits (either case) into n/2 bytes; false if n is odd or a digit is not hex. */
bool rmg_hex_decode(const char *s, size_t n, unsigned char *out);

#endif
