/* rummage.h: the public API of librummage, the secret-scanning library behind the CLI.
 *
 * DESIGN. A rule set (struct rmg_rules) is loaded from JSON, compiled once and then shared
 * read-only by every thread. Each thread owns a scanner (struct rmg_scanner) holding its
 * match data and scratch. A source streams one file's bytes into a scanner
 * (begin/feed/end); the scanner appends findings to a results object owned by the caller
 * (one per thread), and results are merged and sorted before they are reported, so output
 * never depends on thread timing. Raw secrets live only in memory, in findings; every
 * report redacts them unless asked not to.
 */
#ifndef RUMMAGE_H
#define RUMMAGE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RMG_VERSION "0.1.0"

/* Graded results (libarchive style). Worse results have larger values. */
enum rmg_status {
    RMG_OK = 0,
    RMG_WARN,   /* done, with something worth telling the user */
    RMG_SKIP,   /* the thing was skipped on purpose (special file, limit) */
    RMG_EINPUT, /* bad input: this target/file failed, others go on */
    RMG_ENOMEM,
    RMG_EFATAL
};

enum rmg_severity { RMG_SEV_LOW = 0, RMG_SEV_MEDIUM, RMG_SEV_HIGH, RMG_SEV_CRITICAL };
enum rmg_confidence { RMG_CONF_ENTROPY = 0, RMG_CONF_PATTERN, RMG_CONF_VALIDATED };
enum rmg_state {
    RMG_STATE_PRESENT = 0,
    RMG_STATE_DELETED,
    RMG_STATE_OVERWRITTEN,
    RMG_STATE_CONFIG,
    RMG_STATE_CONTEXT
};
enum rmg_engine_kind { RMG_ENGINE_AUTO = 0, RMG_ENGINE_VECTORSCAN, RMG_ENGINE_PCRE2 };
/* Whose secret it is, from the image itself (docs/provenance.md). The zero value is the
 * user's own: whatever provenance could not settle counts (fail closed). */
enum rmg_origin {
    RMG_ORIGIN_OWN = 0,     /* a file no package claims: the image builder's */
    RMG_ORIGIN_MODIFIED,    /* a package's file whose bytes differ from what it installed
                               (a changed conffile too): the builder's */
    RMG_ORIGIN_PACKAGE,     /* byte-identical to what a package installed: verified upstream */
    RMG_ORIGIN_ATTRIBUTED,  /* inside a package by its manifest only (npm, gem, maven, go):
                               upstream, not verified */
    RMG_ORIGIN_BASE,        /* not a package's, in a layer inherited from the base image
                               (--base): shipped by this image all the same, so it counts */
};

const char *rmg_severity_name(enum rmg_severity s);
/* Parses "critical|high|medium|low" (case-insensitive). Returns false if unknown. */
bool rmg_severity_parse(const char *s, enum rmg_severity *out);
const char *rmg_confidence_name(enum rmg_confidence c);
const char *rmg_state_name(enum rmg_state s);
const char *rmg_status_name(enum rmg_status s);
/* "own", "modified", "package", "attributed", "base". */
const char *rmg_origin_name(enum rmg_origin o);

/* ---- rules ---------------------------------------------------------------------------- */

/* One rule, read-only once loaded. Strings are owned by the rule set. */
struct rmg_rule {
    char *id;
    char *title;
    char *remedy;        /* never NULL after loading (a default is filled in) */
    char *regex;
    char *origin;        /* "builtin:cloud.json", or the file it came from */
    char *validator;     /* NULL if none */
    char **keywords;     /* lower-cased */
    size_t n_keywords;
    char **tags;
    size_t n_tags;
    char **allow_values;
    size_t n_allow_values;
    enum rmg_severity severity;
    enum rmg_confidence confidence; /* PATTERN or ENTROPY: what a plain match is worth */
    bool generic;        /* text files only; yields to specific rules */
    double min_entropy;  /* 0 = none */
    size_t max_span;     /* longest match, bytes (computed or given) */
    size_t index;        /* position in the rule set */
};

struct rmg_rules;

/* An empty rule set. Returns NULL on out of memory. Caller frees with rmg_rules_free. */
struct rmg_rules *rmg_rules_new(void);
void rmg_rules_free(struct rmg_rules *rules);

/* Adds the rules of one JSON document (the patterns/NAME.json format, docs/rules.md).
 * `origin` names it in messages. A bad document or rule is RMG_EINPUT with a message naming
 * the origin, the rule and the key; nothing of that document is added then.
 * Not thread-safe; only before rmg_rules_compile. */
enum rmg_status rmg_rules_add_json(struct rmg_rules *rules, const char *json, size_t len,
                                   const char *origin, char *err, size_t errlen);
/* Adds the rule files compiled into the binary. */
enum rmg_status rmg_rules_add_builtin(struct rmg_rules *rules, char *err, size_t errlen);
/* Adds a rules file, or every *.json file of a directory (sorted by name). */
enum rmg_status rmg_rules_add_path(struct rmg_rules *rules, const char *path, char *err,
                                   size_t errlen);
/* Compiles every rule (PCRE2 JIT, and the prefilter for `engine`). After this the set is
 * read-only and may be shared by threads. RMG_EINPUT names the rule whose regex fails. */
enum rmg_status rmg_rules_compile(struct rmg_rules *rules, enum rmg_engine_kind engine,
                                  char *err, size_t errlen);

size_t rmg_rules_count(const struct rmg_rules *rules);
const struct rmg_rule *rmg_rules_get(const struct rmg_rules *rules, size_t i);
/* The rule with this id, or NULL. */
const struct rmg_rule *rmg_rules_find(const struct rmg_rules *rules, const char *id);
/* The prefilter actually in use after compiling: VECTORSCAN or PCRE2. */
enum rmg_engine_kind rmg_rules_engine(const struct rmg_rules *rules);
/* Hex sha256 over the rule sources, in load order (64 chars, borrowed). */
const char *rmg_rules_hash(const struct rmg_rules *rules);
/* True when this build has Vectorscan. */
bool rmg_rules_have_vectorscan(void);

/* ---- findings and results ------------------------------------------------------------- */

/* Where a finding is. Strings are owned by the finding. Layer fields are for image targets
 * (layer_index < 0 when not from a layer). */
struct rmg_location {
    char *target;    /* the target as the user named it */
    char *image;     /* the image inside the target ("app:1.0", "@1", a ref name); may be NULL */
    char *path;      /* in an image: absolute, nested archives joined by "!"; config: JSON path */
    size_t outer_len; /* inside an archive of a layer: the bytes of path that name the layer's
                         own file (the outermost archive; a name may hold "!" itself), else 0 */
    uint64_t line;   /* 1-based */
    uint64_t column; /* 1-based, in bytes */
    uint64_t offset; /* byte offset of the secret in the file */
    int layer_index;
    char *layer_digest;
    char *layer_diff_id;
    char *created_by;
    char *platform;
};

/* A Dockerfile instruction that concerns a finding of a build context: a COPY or ADD that
 * would copy the file into an image, or the instruction a finding in the Dockerfile is in.
 * Strings owned by the finding. */
struct rmg_copy {
    char *dockerfile;  /* the Dockerfile's path as reported */
    unsigned line;     /* its first line */
    char *instruction; /* the instruction as written ("COPY . /app") */
    char *stage;       /* the stage's name, or NULL */
    int stage_index;
    bool final;        /* its stage ends up in the final image (the final stage or a base) */
    char *dest;        /* where the file lands (COPY/ADD), or NULL */
};

/* Digests of the bytes a finding was found in (a file, or a file inside an archive), computed
 * only for files with findings; set is false when they were not computed. */
struct rmg_content_digest {
    unsigned char md5[16], sha1[20], sha256[32];
    uint64_t size;
    bool set;
};

/* What provenance made of a finding (resolve step of image targets; zero elsewhere). Strings
 * owned by the finding; NULL for RMG_ORIGIN_OWN. */
struct rmg_provenance {
    enum rmg_origin origin;
    char *manager;  /* "dpkg", "apk", "python", "npm", "gem", "maven", "go"; "base" */
    char *package;  /* its name; for RMG_ORIGIN_BASE the base image as given */
    char *version;  /* may be NULL */
    char *why;      /* one sentence: what was compared ("md5 matches dpkg's md5sums") */
};

struct rmg_finding {
    const struct rmg_rule *rule; /* borrowed from the rule set, which must outlive it */
    char *secret;                /* raw bytes, NUL-terminated copy; never printed unredacted
                                    unless the user asked */
    size_t secret_len;
    char fingerprint[65];        /* hex sha256 of rule id and secret */
    enum rmg_severity severity;  /* the rule's, unless overridden */
    enum rmg_confidence confidence;
    enum rmg_state state;
    int changed_layer;           /* DELETED/OVERWRITTEN: the layer that removed or replaced
                                    the file, else -1 */
    char *changed_by;            /* that layer's history created_by; may be NULL */
    struct rmg_copy *copies;     /* build contexts: the instructions that copy it (or hold
                                    it, in the Dockerfile) */
    size_t n_copies;
    char *note;                  /* build contexts: what becomes of it, in a sentence */
    bool ignored;                /* build contexts: kept out by .dockerignore (shown with
                                    --show-ignored, never counted as a failure) */
    bool redacted;               /* from the layer cache: `secret` holds only the redacted
                                    form (the raw bytes were never stored); the shape of the
                                    raw secret is kept for report regions: */
    size_t raw_len;              /*   its length in bytes, */
    uint32_t raw_lines;          /*   the newlines in it, */
    size_t raw_last_nl;          /*   and the offset of the last one */
    struct rmg_content_digest content; /* of the file it is in (its innermost entry) */
    struct rmg_provenance prov;
    struct rmg_location loc;
};

struct rmg_error {
    char *target;
    char *path;    /* may be NULL */
    char *message;
    enum rmg_status status;
};

struct rmg_stats {
    uint64_t files;
    uint64_t bytes;
    uint64_t skipped;
    uint64_t layers;        /* image layers read, from their blob or from the layer cache */
    uint64_t layers_cached; /* of those, taken from the layer cache (not read nor scanned) */
    double seconds;
};

/* What one or more scans produced. Owned by the caller; one per thread while scanning. */
struct rmg_results {
    struct rmg_finding *findings;
    size_t n_findings, cap_findings;
    struct rmg_error *errors;
    size_t n_errors, cap_errors;
    struct rmg_stats stats;
};

void rmg_results_init(struct rmg_results *r);
void rmg_results_clear(struct rmg_results *r); /* frees contents, leaves it empty */
/* Moves everything of `from` into `into`; `from` is left empty. */
enum rmg_status rmg_results_merge(struct rmg_results *into, struct rmg_results *from);
/* Records an error (strings copied; path may be NULL). */
enum rmg_status rmg_results_add_error(struct rmg_results *r, enum rmg_status status,
                                      const char *target, const char *path,
                                      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same with a va_list, for a module's own error helper. */
enum rmg_status rmg_results_add_errorv(struct rmg_results *r, enum rmg_status status,
                                       const char *target, const char *path, const char *fmt,
                                       va_list ap) __attribute__((format(printf, 5, 0)));
/* Sorts findings by target, path, offset, rule id and errors by target, path: the order every
 * report uses. */
void rmg_results_sort(struct rmg_results *r);
void rmg_finding_free(struct rmg_finding *f);
/* Deep copies (strings duplicated). Return false on out of memory, leaving dst empty. */
bool rmg_finding_copy(struct rmg_finding *dst, const struct rmg_finding *src);
bool rmg_location_copy(struct rmg_location *dst, const struct rmg_location *src);
void rmg_location_free(struct rmg_location *l);
void rmg_copy_free(struct rmg_copy *c);
/* Appends a copy of c to f->copies. False on out of memory. */
bool rmg_finding_add_copy(struct rmg_finding *f, const struct rmg_copy *c);
/* Appends a finding to r, taking ownership of its strings (f is left empty). */
enum rmg_status rmg_results_add_finding(struct rmg_results *r, struct rmg_finding *f);
/* Does f count toward the gate? With all_origins (an audit) every finding does; by default
 * what the image's builder put there does (own, modified package files, anything not from an
 * image) and what its base image put there that no package installed (base), and a
 * credential of a live format proved by its checksum (GitHub, npm; PyPI's macaroon) counts
 * wherever it is, also inside a package (engine/validate.h, rmg_validate_is_live). */
bool rmg_finding_gates(const struct rmg_finding *f, bool all_origins);
void rmg_provenance_free(struct rmg_provenance *p);
/* Replaces *p with origin o and copies of the strings (version may be NULL). On out of memory
 * *p is left empty: the finding stays the builder's own (fail closed). */
void rmg_provenance_set(struct rmg_provenance *p, enum rmg_origin o, const char *manager,
                        const char *package, const char *version, const char *why);
/* Advice that fits where a finding was (a deleted file that still ships, the image config, a
 * layer), to go with the rule's remedy; NULL for a plain file. Static string. */
const char *rmg_state_remedy(const struct rmg_finding *f);
/* Replaces every occurrence of f's secret in the string *s (malloc'd; replaced) by its
 * redacted form: text quoted from the scanned data (a history step, a Dockerfile line) must not
 * carry a secret that was found in it. Leaves *s as it is on out of memory. */
void rmg_redact_in(char **s, const struct rmg_finding *f);
/* The redacted form of a secret: a short prefix, an ellipsis and the length, e.g.
 * "ghp_…(40)". Writes a NUL-terminated string into out. */
void rmg_redact(const char *secret, size_t len, char *out, size_t outlen);
/* The secret of f as a report shows it: the raw bytes with `show` (never for a finding from
 * the layer cache, which has none), else its redacted form written into buf. */
const char *rmg_finding_secret_text(const struct rmg_finding *f, bool show, char *buf,
                                    size_t cap);
/* The raw secret's length, newlines and offset of its last newline (for report regions), also
 * for a finding from the layer cache. */
void rmg_finding_span(const struct rmg_finding *f, size_t *len, size_t *lines, size_t *last_nl);

/* ---- scanning ------------------------------------------------------------------------- */

struct rmg_scan_opts {
    size_t chunk_size;     /* bytes scanned at once; 0 = default (1 MiB) */
    bool no_prefilter;     /* confirm every rule over the whole buffer: the reference
                              semantics, for tests and debugging (slow) */
    bool keep_overlaps;    /* keep every rule's findings even where secrets overlap (the
                              rules checker; reports want the most specific one only) */
};

struct rmg_scanner;

/* A scanner for one thread. `rules` must be compiled and outlive the scanner. */
struct rmg_scanner *rmg_scanner_new(const struct rmg_rules *rules,
                                    const struct rmg_scan_opts *opts);
void rmg_scanner_free(struct rmg_scanner *sc);

/* Streaming one file: begin, feed any number of times with consecutive bytes, end.
 * `loc` is the template for findings' locations (target, path, layer fields); it is copied.
 * Findings go into `out` at end (and may be added during feed). */
enum rmg_status rmg_scanner_begin(struct rmg_scanner *sc, const struct rmg_location *loc,
                                  struct rmg_results *out);
enum rmg_status rmg_scanner_feed(struct rmg_scanner *sc, const void *data, size_t len);
enum rmg_status rmg_scanner_end(struct rmg_scanner *sc);

/* Convenience: scan one buffer as a whole file. */
enum rmg_status rmg_scan_buffer(struct rmg_scanner *sc, const void *data, size_t len,
                                const struct rmg_location *loc, struct rmg_results *out);

#endif
