/* text.h: what the package-database parsers share: line iteration, base64 digests (hex ones
 * are common/util.h's), path joining and normalisation, checks on names, and warnings that
 * quote input safely. */
#ifndef RMG_TEXT_H
#define RMG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The warnings of one rmg_pkgdb_add_file call: the first message goes into err, later ones
 * are counted ("... (and 3 more problems)" once finished). */
struct rmg_pkgwarn {
    char *err;
    size_t errlen;
    unsigned count;
};

/* err (may be NULL when errlen is 0) is emptied. */
void rmg_pkgwarn_init(struct rmg_pkgwarn *w, char *err, size_t errlen);
/* Records a problem; fmt's result is kept only for the first one. Quote input only through
 * rmg_pkg_quote. */
void rmg_pkgwarn_add(struct rmg_pkgwarn *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the count of further problems to err. */
void rmg_pkgwarn_finish(struct rmg_pkgwarn *w);

/* s[0..n) for a message: at most RMG_PKG_QUOTE_BYTES input bytes, printable ASCII as is (and
 * '"' and '\\' escaped), anything else as \xHH, "..." when cut. Returns out. */
#define RMG_PKG_QUOTE_BYTES 40
#define RMG_PKG_QUOTE_CAP (RMG_PKG_QUOTE_BYTES * 4 + 4)
const char *rmg_pkg_quote(char out[RMG_PKG_QUOTE_CAP], const char *s, size_t n);

/* Lines of a buffer: "\n" ends a line ("\r\n" too: the '\r' is dropped); the last line may
 * lack its newline. lineno is the 1-based number of the line last returned. */
struct rmg_lines {
    const char *data;
    size_t len, pos;
    unsigned long lineno;
};
void rmg_lines_init(struct rmg_lines *it, const void *data, size_t len);
bool rmg_lines_next(struct rmg_lines *it, const char **line, size_t *n);

/* Base64, standard or URL-safe alphabet, '=' padding optional, into at most cap bytes; false
 * when malformed or longer than cap. */
bool rmg_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

/* The clean absolute path of rel below base (base absolute and clean, "/" or empty for the
 * root): empty and "." components dropped, ".." climbing one (never above "/": rejected). A
 * leading '/' in rel counts as a separator, so callers reject absolute paths themselves.
 * Writes out (NUL-terminated) and returns its length ("/" gives 1); 0 when rejected: climbs
 * above "/", holds a NUL byte, or is longer than RMG_PKG_MAX_PATH or cap - 1. */
size_t rmg_pkgpath_join(const char *base, size_t blen, const char *rel, size_t rlen, char *out,
                        size_t cap);
/* The same for a file: 0 also when the result is "/" itself. */
size_t rmg_pkgpath_file(const char *base, size_t blen, const char *rel, size_t rlen, char *out,
                        size_t cap);

/* A package name or version as the store takes it: 1..max bytes, no control byte (C0, DEL)
 * and no NUL. */
bool rmg_pkg_text_ok(const char *s, size_t n, size_t max);

#endif
