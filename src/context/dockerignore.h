/* dockerignore.h: the .dockerignore matcher: which paths of a build context Docker (BuildKit)
 * leaves out when it sends the context, with Docker's exact pattern semantics.
 *
 * DESIGN. A parsed ignore file is read-only: every function taking a const struct rmg_ignore
 * may be called from any number of threads at once. Parsing follows moby/patternmatcher's
 * ignorefile.ReadAll and patternmatcher.New; matching follows the Go regular expression that
 * Pattern.compile builds (with its exact, prefix and suffix fast paths, and its quirks: '\'
 * keeps regexp escapes such as \d, '|' and "{n,m}" are live regexp syntax), interpreted
 * with Go regexp's rules by a Thompson NFA that never backtracks (time O(path x pattern)).
 * Which paths end up excluded follows BuildKit's context walk (tonistiigi/fsutil
 * filterFS.Walk): MatchesUsingParentResults evaluated along the path's directories, and an
 * excluded directory pruned with everything below it when fsutil would skip it. */
#ifndef RMG_DOCKERIGNORE_H
#define RMG_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "rummage.h"

struct rmg_ignore;

/* Parses .dockerignore text (len bytes; need not be NUL-terminated). `origin` names the file
 * in messages. Lines starting with '#' are comments, a UTF-8 BOM on the first line is
 * dropped, lines are whitespace-trimmed, a leading '!' makes an exception, patterns are
 * cleaned like Go's filepath.Clean and lose a leading '/'.
 * A pattern Docker rejects is RMG_EINPUT with "origin:LINE: why" in err: bad glob syntax (an
 * unclosed '[', a trailing '\'), "!" alone, a line over 64 KiB, or a pattern whose translated
 * regular expression Go refuses (e.g. "[z-a]", "*{2}"); Docker fails the build on those.
 * Patterns rummage cannot match are RMG_EINPUT too: Go's \p{..} Unicode classes, and
 * counted repetitions expanding past a million instructions. Out of memory is RMG_ENOMEM.
 * On success *out is the caller's, freed with rmg_ignore_free; on failure *out is NULL. An
 * empty or all-comment text is a valid matcher that excludes nothing. */
enum rmg_status rmg_ignore_parse(const char *text, size_t len, const char *origin,
                                 struct rmg_ignore **out, char *err, size_t errlen);
void rmg_ignore_free(struct rmg_ignore *ig); /* NULL ok */

/* Is this context-relative path excluded from the context Docker sends? `path` is
 * '/'-separated and relative to the context root (it is cleaned like filepath.Clean first, a
 * leading '/' dropped); "" and "." (the root) are never excluded. Patterns apply in order,
 * each to the path and through its parent directories, and the last one that applies
 * decides; '!' exceptions re-include. As in BuildKit, a pattern is tested against a
 * directory only when it could change that directory's verdict, a directory's matches carry
 * down to everything below it, and an excluded directory that fsutil prunes (see
 * rmg_ignore_may_reinclude) takes everything below it along. *line (may be NULL) gets the
 * 1-based line of the deciding pattern, 0 if none applies. On out of memory, or when a
 * pathological pattern exhausts the fixed work budget of one query, the answer is false
 * with line 0 (scan rather than skip). */
bool rmg_ignore_excluded(const struct rmg_ignore *ig, const char *path, unsigned *line);

/* Could a '!' exception re-include anything below directory `dir` (context-relative, as
 * above)? False exactly when BuildKit would skip the directory's whole subtree: it is
 * excluded and either no exception exists, or every exception is a literal path (after
 * dropping a trailing slash and one or two stars) and none lies inside `dir`; or an
 * ancestor of `dir` was skipped that way. True otherwise, including when `dir` is not
 * excluded at all or the answer is unknown (out of memory or work budget), so a walker may
 * skip a directory only when this returns false. */
bool rmg_ignore_may_reinclude(const struct rmg_ignore *ig, const char *dir);

/* The number of patterns Docker keeps (comments and blank lines are not patterns). */
size_t rmg_ignore_count(const struct rmg_ignore *ig);

/* Finds the ignore file for a build, as BuildKit's Dockerfile frontend does: the Dockerfile's
 * own `<dockerfile_path>.dockerignore` takes precedence over `<context_dir>/.dockerignore`.
 * dockerfile_path NULL (or "") means the default `<context_dir>/Dockerfile`; "-" (Dockerfile
 * on stdin) has no own ignore file. Only regular files count (symlinks are followed). Writes
 * the path (NUL-terminated) into out and returns true if one exists; false if none does or
 * the path does not fit in cap bytes. */
bool rmg_ignore_find(const char *context_dir, const char *dockerfile_path, char *out,
                     size_t cap);

#endif
