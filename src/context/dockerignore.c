/* dockerignore.c: reading a .dockerignore file into a matcher, and finding the file a build
 * uses (dockerignore.h).
 *
 * DESIGN. Each line becomes a pattern in three steps, as in moby: (1) ignorefile.ReadAll
 * reads it (BOM, '#' comments, TrimSpace, '!', filepath.Clean, leading '/' dropped), (2)
 * patternmatcher.New takes it (TrimSpace and Clean again, '!' split off, "!" alone refused,
 * filepath.Match(p, ".") run only for its syntax errors), and (3) Pattern.compile turns it
 * into a Go regular expression or one of its fast paths. This file does the first two and
 * collects what fsutil's walk needs to know of the exceptions; ignore_pattern.c does the
 * third (and the syntax check), goregexp.c compiles the expression, and ignore_match.c
 * answers the queries. A pattern Docker would reject fails the parse with its line, since
 * Docker fails the build on it. The matcher is read-only once returned. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerignore.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "context/goregexp.h"
#include "context/gotext.h"
#include "context/ignore_pattern.h"

#define MAX_LINE 65536u /* bufio.MaxScanTokenSize: longer lines make ReadAll fail */

/* ---- parsing ---------------------------------------------------------------------------- */

void rmg_ignore_free(struct rmg_ignore *ig)
{
    if (!ig)
        return;
    for (size_t i = 0; i < ig->n; i++) {
        free(ig->pats[i].text);
        free(ig->pats[i].prog);
        free(ig->pats[i].ranges);
    }
    free(ig->pats);
    free(ig);
}

static void set_err(char *err, size_t errlen, const char *origin, unsigned line,
                    const char *what, const char *pat, size_t patlen)
{
    if (!err || errlen == 0)
        return;
    struct rmg_buf b = {0};
    bool ok = rmg_buf_printf(&b, "%s:%u: %s", origin ? origin : ".dockerignore", line, what);
    if (ok && pat) {
        ok = rmg_buf_puts(&b, " \"") && rmg_buf_put_safe(&b, pat, patlen > 200 ? 200 : patlen) &&
             rmg_buf_puts(&b, patlen > 200 ? "...\"" : "\"");
    }
    rmg_fmt(err, errlen, "%s", ok && b.data ? b.data : "invalid .dockerignore");
    rmg_buf_free(&b);
}

/* One line after ReadAll's cleaning, through patternmatcher.New: appended to ig unless it
 * trims to nothing. */
static enum rmg_status add_pattern(struct rmg_ignore *ig, size_t *cap, const char *p, size_t n,
                                   unsigned line, const char *origin, char *err, size_t errlen)
{
    size_t a = 0, b = n;
    rmg_gotext_trim_space(p, &a, &b);
    if (a == b)
        return RMG_OK;
    char *text = malloc(b - a + 2);
    if (!text)
        return RMG_ENOMEM;
    size_t len = rmg_gotext_clean_path(p + a, b - a, text);
    bool exclusion = false;
    if (text[0] == '!') {
        if (len == 1) {
            free(text);
            set_err(err, errlen, origin, line, "illegal exclusion pattern: \"!\"", NULL, 0);
            return RMG_EINPUT;
        }
        exclusion = true;
        memmove(text, text + 1, --len);
    }
    text[len] = '\0';
    if (!rmg_ignore_pattern_syntax_ok(text, len)) {
        set_err(err, errlen, origin, line, "syntax error in pattern", text, len);
        free(text);
        return RMG_EINPUT;
    }
    if (!rmg_grow(&ig->pats, cap, ig->n + 1, sizeof *ig->pats)) {
        free(text);
        return RMG_ENOMEM;
    }
    struct rmg_ignore_pattern *pt = &ig->pats[ig->n];
    *pt = (struct rmg_ignore_pattern){
        .text = text, .len = len, .line = line, .exclusion = exclusion};
    const char *why = NULL;
    bool unsupported = false;
    enum rmg_status st = rmg_ignore_pattern_compile(pt, &why, &unsupported);
    if (st != RMG_OK) {
        if (st == RMG_EINPUT) {
            char what[160];
            rmg_fmt(what, sizeof what,
                    unsupported ? "rummage cannot match this pattern (%s):"
                                : "Go's regexp rejects the pattern's translation (%s), "
                                  "so Docker's build fails:",
                    why);
            set_err(err, errlen, origin, line, what, text, len);
        }
        free(text);
        return st;
    }
    if (ig->total_prog + pt->nprog > RMG_GOREGEXP_MAX_INSTS) {
        set_err(err, errlen, origin, line,
                "rummage cannot match this pattern (the file's patterns expand to more than "
                "1000000 regexp instructions):",
                text, len);
        free(pt->prog);
        free(pt->ranges);
        free(text);
        return RMG_EINPUT;
    }
    ig->n++;
    if (pt->nprog > ig->max_prog)
        ig->max_prog = pt->nprog;
    ig->total_prog += pt->nprog;
    if (exclusion) {
        /* fsutil's patternWithoutTrailingGlob */
        size_t pl = len;
        if (pl >= 3 && memcmp(text + pl - 3, "/**", 3) == 0)
            pl -= 3;
        if (pl >= 2 && memcmp(text + pl - 2, "/*", 2) == 0)
            pl -= 2;
        pt->prefix_len = pl;
        ig->has_exceptions = true;
        for (size_t k = 0; k < pl; k++)
            if (text[k] != '\0' && strchr("*[]?^\\", text[k]))
                ig->only_prefix_exceptions = false;
    }
    return RMG_OK;
}

enum rmg_status rmg_ignore_parse(const char *text, size_t len, const char *origin,
                                 struct rmg_ignore **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    struct rmg_ignore *ig = calloc(1, sizeof *ig);
    if (!ig)
        return RMG_ENOMEM;
    ig->only_prefix_exceptions = true;
    size_t cap = 0, pos = 0;
    char *buf = NULL; /* the line after ReadAll: "!" + cleaned pattern */
    enum rmg_status st = RMG_OK;
    if (!text)
        len = 0;
    for (unsigned line = 1; st == RMG_OK && pos < len; line++) {
        /* bufio.ScanLines: split at '\n', drop one '\r' before it */
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, b = end;
        pos = nl ? end + 1 : len;
        if (b - a >= MAX_LINE) {
            set_err(err, errlen, origin, line, "line too long (Docker's reader stops at 64 KiB)",
                    NULL, 0);
            st = RMG_EINPUT;
            break;
        }
        if (b > a && text[b - 1] == '\r')
            b--;
        if (line == 1 && b - a >= 3 && memcmp(text + a, "\xEF\xBB\xBF", 3) == 0)
            a += 3;
        if (a < b && text[a] == '#')
            continue;
        rmg_gotext_trim_space(text, &a, &b);
        if (a == b)
            continue;
        bool invert = text[a] == '!';
        if (invert) {
            a++;
            rmg_gotext_trim_space(text, &a, &b);
        }
        free(buf);
        buf = malloc(b - a + 3);
        if (!buf) {
            st = RMG_ENOMEM;
            break;
        }
        size_t n = 0;
        if (invert)
            buf[n++] = '!';
        if (b > a) {
            size_t c = rmg_gotext_clean_path(text + a, b - a, buf + n);
            if (c > 1 && buf[n] == '/') {
                memmove(buf + n, buf + n + 1, c - 1);
                c--;
            }
            n += c;
        }
        st = add_pattern(ig, &cap, buf, n, line, origin, err, errlen);
    }
    free(buf);
    if (st != RMG_OK) {
        rmg_ignore_free(ig);
        return st;
    }
    *out = ig;
    return RMG_OK;
}

/* ---- finding the file ----------------------------------------------------------------- */

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool try_candidate(struct rmg_buf *b, char *out, size_t cap, bool *found)
{
    *found = b->data && is_regular(b->data);
    if (!*found)
        return false;
    if (b->len + 1 > cap)
        return false;
    memcpy(out, b->data, b->len + 1);
    return true;
}

bool rmg_ignore_find(const char *context_dir, const char *dockerfile_path, char *out,
                     size_t cap)
{
    if (!context_dir || !*context_dir)
        context_dir = ".";
    size_t cl = strlen(context_dir);
    const char *sep = cl > 0 && context_dir[cl - 1] == '/' ? "" : "/";
    struct rmg_buf b = {0};
    bool found = false, fits = false;
    if (!dockerfile_path || !*dockerfile_path) {
        /* BuildKit reads "<Dockerfile name>.dockerignore" next to the Dockerfile, which by
           default is <context>/Dockerfile */
        if (rmg_buf_printf(&b, "%s%sDockerfile.dockerignore", context_dir, sep))
            fits = try_candidate(&b, out, cap, &found);
    } else if (strcmp(dockerfile_path, "-") != 0) {
        if (rmg_buf_printf(&b, "%s.dockerignore", dockerfile_path))
            fits = try_candidate(&b, out, cap, &found);
    }
    rmg_buf_free(&b);
    if (found)
        return fits;
    b = (struct rmg_buf){0};
    if (rmg_buf_printf(&b, "%s%s.dockerignore", context_dir, sep))
        fits = try_candidate(&b, out, cap, &found);
    rmg_buf_free(&b);
    return found && fits;
}
