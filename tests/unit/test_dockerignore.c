/* test_dockerignore.c: the .dockerignore matcher against Docker's own examples (the build
 * context docs), moby/patternmatcher's tests (TestMatches, the filepath.Match table of
 * TestMatch, the multi-pattern cases), the regexp translation's quirks, BuildKit's walk
 * (parent results, pruned directories), parsing (comments, BOM, whitespace, errors with line
 * numbers), the lookup of the ignore file, and hostile patterns that must stay fast. */
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

#include <cmocka.h>

#include "context/dockerignore.h"
#include "common/util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct match_case {
    const char *patterns; /* the .dockerignore text */
    const char *path;
    bool excluded;
    unsigned line; /* the deciding line, 0 for none */
};

static struct rmg_ignore *parse_ok(const char *text)
{
    char err[512] = "";
    struct rmg_ignore *ig = NULL;
    enum rmg_status st = rmg_ignore_parse(text, strlen(text), "test", &ig, err, sizeof err);
    if (st != RMG_OK)
        fail_msg("parse of <%s> failed (%d): %s", text, st, err);
    assert_non_null(ig);
    return ig;
}

/* Runs every case and reports all mismatches at once. */
static void run_cases(const struct match_case *cases, size_t n, const char *table)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct rmg_ignore *ig = parse_ok(cases[i].patterns);
        unsigned line = 99;
        bool ex = rmg_ignore_excluded(ig, cases[i].path, &line);
        if (ex != cases[i].excluded || line != cases[i].line) {
            fprintf(stderr,
                    "%s case %zu: patterns <%s> path <%s>: excluded %d line %u, want %d line %u\n",
                    table, i, cases[i].patterns, cases[i].path, ex, line, cases[i].excluded,
                    cases[i].line);
            bad++;
        }
        rmg_ignore_free(ig);
    }
    if (bad)
        fail_msg("%zu of %zu %s cases wrong", bad, n, table);
}

/* The examples of docs.docker.com/build/concepts/context (".dockerignore files"). */
static void docker_docs_examples(void **state)
{
    (void)state;
    static const struct match_case cases[] = {
        /* "*" "/temp*": names starting with temp in any immediate subdirectory of the root */
        {"# comment\n*/temp*", "somedir/temporary.txt", true, 2},
        {"# comment\n*/temp*", "somedir/temp", true, 2},
        {"# comment\n*/temp*", "somedir/temp/inner.txt", true, 2}, /* below an excluded dir */
        {"# comment\n*/temp*", "temporary.txt", false, 0},
        {"# comment\n*/temp*", "a/b/temp", false, 0},
        /* two levels below the root */
        {"*/*/temp*", "somedir/subdir/temporary.txt", true, 1},
        {"*/*/temp*", "somedir/temporary.txt", false, 0},
        /* temp? : one-character extension of temp, in the root only */
        {"temp?", "tempa", true, 1},
        {"temp?", "tempb", true, 1},
        {"temp?", "temp", false, 0},
        {"temp?", "tempab", false, 0},
        {"temp?", "dir/tempa", false, 0},
        /* double star, slash, *.go: every .go file, the root included */
        {"**/*.go", "main.go", true, 1},
        {"**/*.go", "cmd/app/main.go", true, 1},
        {"**/*.go", "main.golang", false, 0},
        /* exceptions; only files right under the root match *.md */
        {"*.md\n!README.md", "CHANGES.md", true, 1},
        {"*.md\n!README.md", "README.md", false, 2},
        {"*.md\n!README.md", "docs/guide.md", false, 0},
        /* the placement of exceptions: the last matching line decides */
        {"*.md\n!README*.md\nREADME-secret.md", "README-secret.md", true, 3},
        {"*.md\n!README*.md\nREADME-secret.md", "README-dev.md", false, 2},
        {"*.md\n!README*.md\nREADME-secret.md", "notes.md", true, 1},
        {"*.md\nREADME-secret.md\n!README*.md", "README-secret.md", false, 3},
        {"*.md\nREADME-secret.md\n!README*.md", "notes.md", true, 1},
        /* leading and trailing slashes are disregarded */
        {"/foo/bar/", "foo/bar", true, 1},
        {"/foo/bar", "foo/bar", true, 1},
        {"foo/bar/", "foo/bar", true, 1},
        {"foo/bar", "foo/bar/baz.txt", true, 1},
        {"foo/bar", "bar", false, 0},
        {"foo/bar", "x/foo/bar", false, 0},
        /* "*" first, then exceptions: say what to include */
        {"*\n!src\n!Dockerfile", "src/cli/main.c", false, 2},
        {"*\n!src\n!Dockerfile", "Dockerfile", false, 3},
        {"*\n!src\n!Dockerfile", ".env", true, 1},
        /* the pattern "." is ignored (it can only match the root, which is never excluded) */
        {".", "anything", false, 0},
        {".", ".", false, 0},
    };
    run_cases(cases, N(cases), "docs");
}

/* moby/patternmatcher patternmatcher_test.go TestMatches: fail means not excluded; exact and
 * inexact (a match through a parent directory) both mean excluded. Trailing slashes in the
 * paths are cleaned away, as fsutil's relative paths never have them. */
static void patternmatcher_matches(void **state)
{
    (void)state;
    static const struct match_case cases[] = {
        {"**", "file", true, 1},
        {"**", "file/", true, 1},
        {"**/", "file", true, 1},
        {"**/", "file/", true, 1},
        {"**", "dir/file", true, 1},
        {"**/", "dir/file", true, 1},
        {"**/**", "dir/file", true, 1},
        {"dir/**", "dir/file", true, 1},
        {"dir/**", "dir/dir2/file", true, 1},
        {"**/dir", "dir", true, 1},
        {"**/dir", "dir/file", true, 1},
        {"**/dir2/*", "dir/dir2/file", true, 1},
        {"**/dir2/*", "dir/dir2/file/", true, 1},
        {"**/dir2/**", "dir/dir2/dir3/file", true, 1},
        {"**file", "file", true, 1},
        {"**file", "dir/file", true, 1},
        {"**/file", "dir/file", true, 1},
        {"**file", "dir/dir/file", true, 1},
        {"**/file", "dir/dir/file", true, 1},
        {"**/file*", "dir/dir/file", true, 1},
        {"**/file*", "dir/dir/file.txt", true, 1},
        {"**/file*txt", "dir/dir/file.txt", true, 1},
        {"**/file*.txt", "dir/dir/file.txt", true, 1},
        {"**/file*.txt*", "dir/dir/file.txt", true, 1},
        {"**/**/*.txt", "dir/dir/file.txt", true, 1},
        {"**/**/*.txt2", "dir/dir/file.txt", false, 0},
        {"**/*.txt", "file.txt", true, 1},
        {"**/**/*.txt", "file.txt", true, 1},
        {"a**/*.txt", "a/file.txt", true, 1},
        {"a**/*.txt", "a/dir/file.txt", true, 1},
        {"a**/*.txt", "a/dir/dir/file.txt", true, 1},
        {"a/*.txt", "a/dir/file.txt", false, 0},
        {"a/*.txt", "a/file.txt", true, 1},
        {"a/*.txt**", "a/file.txt", true, 1},
        {"a[b-d]e", "ae", false, 0},
        {"a[b-d]e", "ace", true, 1},
        {"a[b-d]e", "aae", false, 0},
        {"a[^b-d]e", "aze", true, 1},
        {".*", ".foo", true, 1},
        {".*", "foo", false, 0},
        {"abc.def", "abcdef", false, 0},
        {"abc.def", "abc.def", true, 1},
        {"abc.def", "abcZdef", false, 0},
        {"abc?def", "abcZdef", true, 1},
        {"abc?def", "abcdef", false, 0},
        {"**/foo/bar", "foo/bar", true, 1},
        {"**/foo/bar", "dir/foo/bar", true, 1},
        {"**/foo/bar", "dir/dir2/foo/bar", true, 1},
        {"abc/**", "abc", false, 0},
        {"abc/**", "abc/def", true, 1},
        {"abc/**", "abc/def/ghi", true, 1},
        {"**/.foo", ".foo", true, 1},
        {"**/.foo", "bar.foo", false, 0},
        {"a(b)c/def", "a(b)c/def", true, 1},
        {"a(b)c/def", "a(b)c/xyz", false, 0},
        {"a.|)$(}+{bc", "a.|)$(}+{bc", true, 1},
        {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
         "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true, 1},
        {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true, 1},
        {"a\\\\", "a\\", true, 1},
        {"a\\*b", "a*b", true, 1},
        /* multiPatternTests */
        {"**\n!util/docker/web", "util/docker/web/foo", false, 2},
        {"**\n!util/docker/web\nutil/docker/web/foo", "util/docker/web/foo", true, 3},
        {"**\n!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
         "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false, 2},
        {"**\n!dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false, 2},
        /* TestExclusionPatternMatchesPatternBefore / After, folder exclusions */
        {"!fileutils.go\n*.go", "fileutils.go", true, 2},
        {"*.go\n!fileutils.go", "fileutils.go", false, 2},
        {"docs\n!docs/README.md", "docs/README.md", false, 2},
        {"docs/\n!docs/README.md", "docs/README.md", false, 2},
        {"docs/*\n!docs/README.md", "docs/README.md", false, 2},
        {"*", "fileutils.go", true, 1},
        {"", "any/path/there", false, 0},
    };
    run_cases(cases, N(cases), "patternmatcher");
}

/* The filepath.Match table that patternmatcher_test.go's TestMatch runs through Matches. */
static void filepath_match_table(void **state)
{
    (void)state;
    static const struct match_case cases[] = {
        {"abc", "abc", true, 1},
        {"*", "abc", true, 1},
        {"*c", "abc", true, 1},
        {"a*", "a", true, 1},
        {"a*", "abc", true, 1},
        {"a*", "ab/c", true, 1},
        {"a*/b", "abc/b", true, 1},
        {"a*/b", "a/c/b", false, 0},
        {"a*b*c*d*e*/f", "axbxcxdxe/f", true, 1},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true, 1},
        {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, 0},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, 0},
        {"a*b?c*x", "abxbbxdbxebxczzx", true, 1},
        {"a*b?c*x", "abxbbxdbxebxczzy", false, 0},
        {"ab[c]", "abc", true, 1},
        {"ab[b-d]", "abc", true, 1},
        {"ab[e-g]", "abc", false, 0},
        {"ab[^c]", "abc", false, 0},
        {"ab[^b-d]", "abc", false, 0},
        {"ab[^e-g]", "abc", true, 1},
        {"a\\*b", "ab", false, 0},
        {"a?b", "a\xE2\x98\xBA" "b", true, 1},      /* one rune, three bytes */
        {"a[^a]b", "a\xE2\x98\xBA" "b", true, 1},
        {"a???b", "a\xE2\x98\xBA" "b", false, 0},
        {"a[^a][^a][^a]b", "a\xE2\x98\xBA" "b", false, 0},
        {"[a-\xCE\xB6]*", "\xCE\xB1", true, 1}, /* [a-zeta] matches alpha */
        {"*[a-\xCE\xB6]", "A", false, 0},
        {"a?b", "a/b", false, 0},
        {"a*b", "a/b", false, 0},
        {"[\\]a]", "]", true, 1},
        {"[\\-]", "-", true, 1},
        {"[x\\-]", "x", true, 1},
        {"[x\\-]", "-", true, 1},
        {"[x\\-]", "z", false, 0},
        {"[\\-x]", "x", true, 1},
        {"[\\-x]", "-", true, 1},
        {"[\\-x]", "a", false, 0},
        {"*x", "xxx", true, 1},
    };
    run_cases(cases, N(cases), "filepath.Match");
}

/* Decisions read off the sources rather than the docs: the translation to a Go regexp and
 * its fast paths (patternmatcher Pattern.compile), the cleaning (ignorefile.ReadAll, New),
 * and BuildKit's walk (fsutil filterFS.Walk with MatchesUsingParentResults). */
static void source_semantics(void **state)
{
    (void)state;
    static const struct match_case cases[] = {
        /* "**" + "/foo" is a suffix match on "/foo", or the whole path "foo" */
        {"**/foo", "a/b/foo", true, 1},
        {"**/foo", "xfoo", false, 0},
        /* "**foo" (no slash) is a plain suffix match: any path ending in foo */
        {"**foo", "barfoo", true, 1},
        {"**foo", "a/xfoo", true, 1},
        /* foo, slash, double star is a prefix match on "foo/": not foo itself */
        {"foo/**", "foo", false, 0},
        {"foo/**", "foo/x/y", true, 1},
        /* Go's filepath.Match has no '!' negation: [!a] is the set {'!', 'a'} */
        {"[!a]y", "!y", true, 1},
        {"[!a]y", "ay", true, 1},
        {"[!a]y", "by", false, 0},
        /* '\\' keeps the next character with its regexp meaning: \d is a digit */
        {"file\\d", "file1", true, 1},
        {"file\\d", "filed", false, 0},
        /* '*' inside a class is translated too: [*] becomes [[^/]*] then ']' */
        {"[*]", "]", true, 1},
        {"[*]", "*", false, 0},
        /* POSIX classes pass through to the regexp */
        {"[[:digit:]]x", "7x", true, 1},
        /* shouldEscape loses '|', '{' and '}': with a wildcard around, '|' is an alternation
           whose other branches are not anchored at the start, and {n,m} counts */
        {"*.md|README", "notes.md", true, 1},
        {"*.md|README", "docs/README", true, 1},
        {"*.md|README", "docs/README.txt", false, 0},
        {"\\b[^a]#|", "anything/at/all", true, 1}, /* the empty branch "$" matches all */
        {"a?{2}", "abc", true, 1},
        {"a?{2}", "abcd", false, 0},
        {"*.{js,ts}", "x.{js,ts}", true, 1},  /* not a repetition: literal braces */
        {"{0,1}b[^a]", "x/yb-", true, 1},     /* "^{0,1}": the anchor itself is optional */
        {"{0,1}b[^a]", "x/ba", false, 0},
        /* runes are not escaped by their low byte: U+0524 is not '$', U+0528 not '(' */
        {"\xD4\xA4*", "\xD4\xA4x", true, 1},
        {"\xD4\xA8?", "\xD4\xA8x", true, 1},
        /* an invalid byte becomes U+FFFD in the regexp, which any invalid byte matches */
        {"a\xFF*", "a\xFE" "b", true, 1},
        {"a\xFF", "a\xFE", false, 0}, /* but a plain string comparison is byte for byte */
        /* without a wildcard the pattern is compared as a string, braces and bar included */
        {"a|b", "a|b", true, 1},
        {"a|b", "a", false, 0},
        /* '.' in the translated double star does not match a newline */
        {"**/*.go", "a\nb/c.go", false, 0},
        {"*.go", "a\nb.go", true, 1},
        /* Clean: "./a", "a/../b", "a//b/" */
        {"./a", "a", true, 1},
        {"a/../b", "b", true, 1},
        {"a/../b", "a", false, 0},
        {"a//b/", "a/b", true, 1},
        /* Clean can expose a trailing blank that patternmatcher.New then trims */
        {"foo /.", "foo", true, 1},
        /* the pattern "/" matches nothing */
        {"/", "x", false, 0},
        /* a lone "!" is an error, but "!!x" is the exception for a file named "!x" */
        {"*\n!!x", "!x", false, 2},
        {"*\n!!x", "x", true, 1},
        /* BuildKit's walk: an exception for a directory that was not excluded when the walk
           passed it does not re-include what a pattern excludes below it */
        {"**/*.pem\n!certs", "certs/a.pem", true, 1},
        {"**/*.pem\n!certs/a.pem", "certs/a.pem", false, 2},
        /* and a pattern skipped at a directory (already excluded) is not looked at again */
        {"a\n!a/b\na", "a/b/c", false, 2},
        {"a\n!a/b\na", "a/c", true, 1},
        /* an excluded directory that no exception points into is skipped whole */
        {"a/b\n!a", "a/b/c", true, 1},
        {"node_modules\n!node_modules/keep", "node_modules/keep/x.js", false, 2},
        {"node_modules\n!node_modules/keep", "node_modules/other/x.js", true, 1},
        /* a wildcard exception keeps fsutil from skipping, so it reaches inside */
        {"*\n!*/keep", "x/keep", false, 2},
        {"*\n!*/keep", "x/other", true, 1},
        /* an inclusion already matched is not tested again: the first line decides */
        {"a\na", "a", true, 1},
        /* paths are cleaned; the root is never excluded */
        {"a", "./a", true, 1},
        {"a/b", "/a/b/", true, 1},
        {"**", "", false, 0},
    };
    run_cases(cases, N(cases), "source");
}

static void comments_bom_whitespace(void **state)
{
    (void)state;
    static const struct match_case cases[] = {
        /* a BOM on the first line is dropped, so the comment is a comment */
        {"\xEF\xBB\xBF# secret.txt\nsecret.txt", "secret.txt", true, 2},
        {"\xEF\xBB\xBF" "foo", "foo", true, 1},
        /* elsewhere a BOM is part of the pattern */
        {"x\n\xEF\xBB\xBF" "bar", "bar", false, 0},
        /* '#' counts only in the first column, before trimming */
        {"  # x", "# x", true, 1},
        {"#x", "#x", false, 0},
        /* whitespace around patterns and after '!' is trimmed, inside kept */
        {"\t foo \t", "foo", true, 1},
        {"my file.txt", "my file.txt", true, 1},
        {"*\n!   bar  ", "bar", false, 2},
        /* CRLF line ends; blank lines still count for line numbers */
        {"foo\r\n\r\n\r\nbar\r\n", "bar", true, 4},
        /* Unicode spaces are trimmed too (Go's TrimSpace): NBSP, U+3000 */
        {"\xC2\xA0" "foo\xE3\x80\x80", "foo", true, 1},
    };
    run_cases(cases, N(cases), "syntax");

    struct rmg_ignore *ig = parse_ok("a\n# c\n\n!b\n.\n  \n");
    assert_int_equal(rmg_ignore_count(ig), 3);
    rmg_ignore_free(ig);
    ig = parse_ok("");
    assert_int_equal(rmg_ignore_count(ig), 0);
    assert_false(rmg_ignore_excluded(ig, "x", NULL));
    assert_true(rmg_ignore_may_reinclude(ig, "x"));
    rmg_ignore_free(ig);
    assert_int_equal(rmg_ignore_count(NULL), 0);
    rmg_ignore_free(NULL);
}

static void parse_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want; /* a part of the message */
    } cases[] = {
        {"ok\n\n# c\n[", "test:4: syntax error in pattern \"[\""},
        {"a[", "test:1: syntax error"},
        {"[^bc", "test:1: syntax error"},
        {"x\n[]a]", "test:2: syntax error"},
        {"[-]", "test:1: syntax error"},
        {"[x-]", "test:1: syntax error"},
        {"[a-b-c]", "test:1: syntax error"},
        {"foo\\", "test:1: syntax error"},
        {"a\n!\n", "test:2: illegal exclusion pattern"},
        {"a\n! \n", "test:2: illegal exclusion pattern"},
        {"!/", "test:1: illegal exclusion pattern"},
        /* accepted by filepath.Match, refused by Go's regexp when Docker compiles it */
        {"x\ny\n[z-a]", "test:3: Go's regexp rejects"},
        {"[[:nope:]]", "test:1: Go's regexp rejects"},
        {"a\\y", "test:1: Go's regexp rejects"},
        {"*{2}", "test:1: Go's regexp rejects the pattern's translation (invalid nested"},
        {"*x{1001}", "test:1: Go's regexp rejects the pattern's translation (invalid repeat"},
        /* valid for Docker, not implemented here: refused rather than guessed */
        {"a\\p{Greek}", "test:1: rummage cannot match this pattern (Go regexp Unicode"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char err[512] = "";
        struct rmg_ignore *ig = (struct rmg_ignore *)&err; /* must be reset to NULL */
        enum rmg_status st =
            rmg_ignore_parse(cases[i].text, strlen(cases[i].text), "test", &ig, err, sizeof err);
        if (st != RMG_EINPUT || ig != NULL || !strstr(err, cases[i].want))
            fail_msg("case %zu <%s>: status %d, message <%s>", i, cases[i].text, st, err);
    }

    /* bufio.Scanner's 64 KiB token limit: 65535 bytes pass, 65536 fail */
    size_t n = 70000;
    char *big = malloc(n + 16);
    assert_non_null(big);
    memcpy(big, "ok\n", 3);
    memset(big + 3, 'x', 65535);
    memcpy(big + 3 + 65535, "\nend\n", 6);
    struct rmg_ignore *ig = parse_ok(big);
    assert_int_equal(rmg_ignore_count(ig), 3);
    rmg_ignore_free(ig);
    memset(big + 3, 'x', 65536);
    memcpy(big + 3 + 65536, "\nend\n", 6);
    char err[256];
    assert_int_equal(rmg_ignore_parse(big, strlen(big), "big", &ig, err, sizeof err), RMG_EINPUT);
    assert_non_null(strstr(err, "big:2: line too long"));
    free(big);

    /* a counted repetition blown up past rummage's million instructions */
    static char huge[16000];
    size_t hn = 0;
    huge[hn++] = '*';
    for (int i = 0; i < 1100; i++, hn += 7)
        memcpy(huge + hn, "?{1000}", 7);
    assert_int_equal(rmg_ignore_parse(huge, hn, "huge", &ig, err, sizeof err), RMG_EINPUT);
    assert_non_null(strstr(err, "huge:1: rummage cannot match this pattern (it expands"));

    /* the text need not be NUL-terminated, and may be cut mid-line */
    assert_int_equal(rmg_ignore_parse("a\nbXXX", 3, "t", &ig, err, sizeof err), RMG_OK);
    assert_int_equal(rmg_ignore_count(ig), 2);
    assert_true(rmg_ignore_excluded(ig, "b", NULL));
    assert_false(rmg_ignore_excluded(ig, "bXXX", NULL));
    rmg_ignore_free(ig);
}

static void may_reinclude_follows_fsutil(void **state)
{
    (void)state;
    static const struct {
        const char *patterns;
        const char *dir;
        bool may;
    } cases[] = {
        {"build", "build", false},                          /* no exception at all */
        {"build", "src", true},                             /* not excluded: walk it */
        {"node_modules\n!node_modules/keep", "node_modules", true},
        {"node_modules\n!node_modules/keep", "node_modules/x", false},
        {"node_modules\n!node_modules/keep", "node_modules/keep", true},
        {"vendor\n!vendor/keep/**", "vendor", true},        /* trailing glob dropped */
        {"vendor\n!vendor/keep/*", "vendor", true},
        {"a\n!b", "a", false},                              /* the exception is elsewhere */
        {"a\n!b", "a/b", false},                            /* below a skipped directory */
        {"*\n!*/keep", "x", true},                          /* wildcard exception: never skip */
        {"*\n![a]bc", "x", true},
        {"a/b\n!a", "a/b", false},
        {"**\n!util/docker/web", "util", true},
        {"**\n!util/docker/web", "util/docker", true},
        {"**\n!util/docker/web", "util/other", false},
        {"x", "", true},                                    /* the root */
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct rmg_ignore *ig = parse_ok(cases[i].patterns);
        if (rmg_ignore_may_reinclude(ig, cases[i].dir) != cases[i].may)
            fail_msg("case %zu: <%s> dir <%s>: want %d", i, cases[i].patterns, cases[i].dir,
                     cases[i].may);
        rmg_ignore_free(ig);
    }

    /* The contract a walker relies on: when the answer is no, everything below is excluded. */
    static const char *const sets[] = {
        "build\n!build/keep\n*.log", "a\n!b\n**/*.tmp\n!x/y", "**\n!util/docker/web",
        "a/b\n!a\nc/**\n!c/d/e", "*\n!src\nsrc/secret", "**/*.pem\n!certs\n!keys/**",
    };
    static const char *const dirs[] = {"build", "build/keep", "a", "a/b", "c", "c/d", "c/d/e",
                                       "util", "util/docker", "x", "src", "certs", "keys", "z"};
    static const char *const below[] = {"f", "keep", "keep/f", "b", "y/z.tmp", "e/f", "a.pem",
                                        "docker/web/f", "secret"};
    for (size_t s = 0; s < N(sets); s++) {
        struct rmg_ignore *ig = parse_ok(sets[s]);
        for (size_t d = 0; d < N(dirs); d++) {
            if (rmg_ignore_may_reinclude(ig, dirs[d]))
                continue;
            assert_true(rmg_ignore_excluded(ig, dirs[d], NULL));
            for (size_t b = 0; b < N(below); b++) {
                char path[128];
                snprintf(path, sizeof path, "%s/%s", dirs[d], below[b]);
                if (!rmg_ignore_excluded(ig, path, NULL))
                    fail_msg("<%s>: %s may not re-include, yet %s is included", sets[s],
                             dirs[d], path);
            }
        }
        rmg_ignore_free(ig);
    }
}

/* ---- rmg_ignore_find -------------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void find_prefers_the_dockerfiles_own_file(void **state)
{
    (void)state;
    char base[] = "/tmp/rmg_test_dockerignore_XXXXXX";
    assert_non_null(mkdtemp(base));
    char ctx[128], docker[160], p[256], out[256];
    snprintf(ctx, sizeof ctx, "%s/ctx", base);
    snprintf(docker, sizeof docker, "%s/docker", ctx);
    assert_int_equal(mkdir(ctx, 0755), 0);
    assert_int_equal(mkdir(docker, 0755), 0);

    /* nothing there */
    assert_false(rmg_ignore_find(ctx, NULL, out, sizeof out));
    snprintf(p, sizeof p, "%s/app.Dockerfile", docker);
    assert_false(rmg_ignore_find(ctx, p, out, sizeof out));

    /* the context's own */
    snprintf(p, sizeof p, "%s/.dockerignore", ctx);
    write_file(p, "*.log\n");
    assert_true(rmg_ignore_find(ctx, NULL, out, sizeof out));
    assert_string_equal(out, p);

    /* <Dockerfile>.dockerignore next to the default Dockerfile wins */
    snprintf(p, sizeof p, "%s/Dockerfile.dockerignore", ctx);
    write_file(p, "");
    assert_true(rmg_ignore_find(ctx, NULL, out, sizeof out));
    assert_string_equal(out, p);
    assert_true(rmg_ignore_find(ctx, "", out, sizeof out));
    assert_string_equal(out, p);

    /* with -f docker/app.Dockerfile: its own file wins, else the context's */
    char df[200];
    snprintf(df, sizeof df, "%s/app.Dockerfile", docker);
    snprintf(p, sizeof p, "%s/.dockerignore", ctx);
    assert_true(rmg_ignore_find(ctx, df, out, sizeof out));
    assert_string_equal(out, p);
    snprintf(p, sizeof p, "%s/app.Dockerfile.dockerignore", docker);
    write_file(p, "secrets\n");
    assert_true(rmg_ignore_find(ctx, df, out, sizeof out));
    assert_string_equal(out, p);

    /* a Dockerfile on stdin has no own file */
    snprintf(p, sizeof p, "%s/.dockerignore", ctx);
    assert_true(rmg_ignore_find(ctx, "-", out, sizeof out));
    assert_string_equal(out, p);

    /* a trailing slash on the context is not doubled */
    char ctx_slash[140];
    snprintf(ctx_slash, sizeof ctx_slash, "%s/", ctx);
    assert_true(rmg_ignore_find(ctx_slash, "-", out, sizeof out));
    assert_string_equal(out, p);

    /* too small a buffer: not found rather than truncated, and no fallback either */
    char tiny[8];
    assert_false(rmg_ignore_find(ctx, df, tiny, sizeof tiny));

    /* a directory named like the file does not count */
    char other[160];
    snprintf(other, sizeof other, "%s/other", base);
    assert_int_equal(mkdir(other, 0755), 0);
    snprintf(p, sizeof p, "%s/.dockerignore", other);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_false(rmg_ignore_find(other, NULL, out, sizeof out));

    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

/* ---- hostile patterns ---------------------------------------------------------------------- */

/* Exponential backtracking would already explode at a few dozen stars; these have
 * thousands, on realistic inputs: a name of NAME_MAX (255) bytes, and a 500-level path.
 * The time bound is a hang guard, not a performance figure (those are in `make bench`): a
 * backtracking matcher would take hours here, the automaton takes milliseconds, and the
 * bound is wide enough for sanitizers on a loaded CI machine. */
#define HANG_GUARD_SECONDS 10.0
static void hostile_patterns_stay_fast(void **state)
{
    (void)state;
    static char pat[70000];
    char flat[256], deep[1001];
    memset(flat, 'a', 255);
    flat[255] = '\0';
    for (int i = 0; i < 1000; i += 2) {
        deep[i] = 'a';
        deep[i + 1] = '/';
    }
    deep[999] = '\0';

    static const struct {
        const char *unit;
        int times;
        const char *tail;
    } shapes[] = {
        {"*", 30000, "b"},  {"**", 30000, "b"}, {"**/", 20000, "b"}, {"*a", 30000, "b"},
        {"?", 30000, ""},   {"*/", 5000, "x"},  {"[a]*", 8000, "b"}, {"a*", 10000, "\\d"},
        {"*\\b", 8000, "b"}, {"a**/", 500, "b"}, {"**/a", 500, "b"}, {"a/**/", 500, "b"},
        {"**/*", 500, "b"},
    };
    for (size_t s = 0; s < N(shapes); s++) {
        size_t n = 0, ul = strlen(shapes[s].unit);
        for (int i = 0; i < shapes[s].times; i++, n += ul)
            memcpy(pat + n, shapes[s].unit, ul);
        memcpy(pat + n, shapes[s].tail, strlen(shapes[s].tail) + 1);
        n += strlen(shapes[s].tail);
        char err[256];
        struct rmg_ignore *ig = NULL;
        double t0 = rmg_now();
        assert_int_equal(rmg_ignore_parse(pat, n, "hostile", &ig, err, sizeof err), RMG_OK);
        bool a = rmg_ignore_excluded(ig, flat, NULL);
        bool b = rmg_ignore_excluded(ig, deep, NULL);
        bool c = rmg_ignore_may_reinclude(ig, deep);
        double dt = rmg_now() - t0;
        rmg_ignore_free(ig);
        if (dt > HANG_GUARD_SECONDS)
            fail_msg("%d x \"%s\" + \"%s\" took %.3f s", shapes[s].times, shapes[s].unit,
                     shapes[s].tail, dt);
        /* none of them can match: every one ends in something the paths lack */
        if (a || b || !c)
            fail_msg("%d x \"%s\": %d %d %d", shapes[s].times, shapes[s].unit, a, b, c);
    }

    /* counted repetitions near the size limit: the work budget bounds a query, and an
       unknown answer errs toward scanning */
    size_t n = 0;
    pat[n++] = '*';
    for (int i = 0; i < 450; i++, n += 9)
        memcpy(pat + n, "?{0,1000}", 9);
    pat[n++] = 'b';
    struct rmg_ignore *big = NULL;
    char err[256];
    double t0 = rmg_now();
    assert_int_equal(rmg_ignore_parse(pat, n, "hostile", &big, err, sizeof err), RMG_OK);
    assert_false(rmg_ignore_excluded(big, flat, NULL));
    double dt = rmg_now() - t0;
    rmg_ignore_free(big);
    if (dt > HANG_GUARD_SECONDS)
        fail_msg("450 x \"?{0,1000}\" took %.3f s", dt);

    /* and long matches still come out right */
    struct rmg_ignore *ig = parse_ok("**/**/**/**/**/**/**/**/a");
    assert_true(rmg_ignore_excluded(ig, deep, NULL));
    rmg_ignore_free(ig);
    ig = parse_ok("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a");
    assert_true(rmg_ignore_excluded(ig, flat, NULL));
    assert_false(rmg_ignore_excluded(ig, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", NULL));
    rmg_ignore_free(ig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docker_docs_examples),
        cmocka_unit_test(patternmatcher_matches),
        cmocka_unit_test(filepath_match_table),
        cmocka_unit_test(source_semantics),
        cmocka_unit_test(comments_bom_whitespace),
        cmocka_unit_test(parse_errors_name_the_line),
        cmocka_unit_test(may_reinclude_follows_fsutil),
        cmocka_unit_test(find_prefers_the_dockerfiles_own_file),
        cmocka_unit_test(hostile_patterns_stay_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
