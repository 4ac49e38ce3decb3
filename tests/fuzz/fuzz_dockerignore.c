/* fuzz_dockerignore.c: libFuzzer target: arbitrary bytes as a .dockerignore, parsed and then
 * matched against paths. Bytes after the first NUL are the paths (one a line); without a NUL
 * the file's own lines serve as paths too (a pattern often matches its own text). Checked:
 * no crash, leak or sanitizer report; answers are repeatable; a deciding line is a real line;
 * and when may_reinclude says a directory's subtree is skipped, it and what lies below it
 * are excluded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context/dockerignore.h"

#define MAX_PATHS 12
#define MAX_PATH_LEN 600

static void check_path(const struct rmg_ignore *ig, const char *path, unsigned lines)
{
    unsigned line = 0, again = 0;
    bool ex = rmg_ignore_excluded(ig, path, &line);
    if (rmg_ignore_excluded(ig, path, &again) != ex || again != line)
        abort(); /* not repeatable */
    if (line > lines)
        abort(); /* no such line */
    if (!rmg_ignore_may_reinclude(ig, path)) {
        char below[MAX_PATH_LEN + 8];
        size_t n = strlen(path);
        memcpy(below, path, n);
        memcpy(below + n, "/x/y", 5);
        if (!ex || !rmg_ignore_excluded(ig, below, NULL))
            abort(); /* a skipped subtree must be excluded */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t text_len = nul ? (size_t)(nul - text) : size;
    char err[512];
    struct rmg_ignore *ig = NULL;
    if (rmg_ignore_parse(text, text_len, "fuzz", &ig, err, sizeof err) != RMG_OK) {
        if (ig || err[0] == '\0')
            abort(); /* a failure leaves nothing and says why */
        return 0;
    }
    unsigned lines = 1;
    for (size_t i = 0; i < text_len; i++)
        lines += text[i] == '\n';

    /* the paths: after the NUL, or the text's own lines */
    const char *p = nul ? nul + 1 : text, *end = text + size;
    char path[MAX_PATH_LEN + 1];
    for (int k = 0; k < MAX_PATHS && p < end; k++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        size_t m = 0;
        for (size_t i = 0; i < n && m < MAX_PATH_LEN; i++)
            if (p[i] != '\0') /* a C string: NULs cannot be in a path */
                path[m++] = p[i];
        path[m] = '\0';
        check_path(ig, path, lines);
        p = nl ? nl + 1 : end;
    }
    static const char *const fixed[] = {"", ".", "a", "a/b", "a/b/c.go", "node_modules/x/y",
                                        "README.md", "docs/README-secret.md", ".git/config"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_path(ig, fixed[i], lines);
    if (rmg_ignore_count(ig) > lines)
        abort();
    rmg_ignore_free(ig);
    return 0;
}
