/* config.h: the run's preferences: command-line options merged with `.rummage.json`.
 * Read-only once parsed; passed explicitly to every stage. */
#ifndef RMG_CONFIG_H
#define RMG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "rummage.h"

enum rmg_format { RMG_FORMAT_TEXT = 0, RMG_FORMAT_JSON, RMG_FORMAT_SARIF, RMG_FORMAT_GITLAB,
                  RMG_FORMAT_JUNIT, RMG_FORMAT_JSONL };

/* Parses a format name ("text", "json", "sarif", "gitlab", "junit", "jsonl"). */
bool rmg_format_parse(const char *s, size_t len, enum rmg_format *out);

/* One more report: --output FORMAT=FILE. */
struct rmg_output {
    enum rmg_format format;
    const char *path; /* borrowed from argv */
};
enum rmg_color { RMG_COLOR_AUTO = 0, RMG_COLOR_ALWAYS, RMG_COLOR_NEVER };

struct rmg_config {
    enum rmg_format format;
    const char *output;           /* NULL: stdout */
    struct rmg_output *outputs;   /* --output FORMAT=FILE, in order */
    size_t n_outputs;
    enum rmg_severity fail_on;
    bool fail_on_present_only;    /* --fail-on-state present */
    bool fail_on_all_origins;     /* --fail-on-origin any: upstream content counts too */
    bool show_upstream;           /* --show-upstream */
    const char *base;             /* --base IMAGE (borrowed from argv) */
    const char *platform;         /* --platform, or NULL for the host's */
    bool all_platforms;
    const char *registry_creds;      /* --creds USER:PASS (borrowed from argv) */
    const char *registry_creds_file; /* --creds-file FILE */
    bool tls_verify_off;             /* --tls-verify=false */
    bool all_tags;                   /* --all-tags: docker://HOST/REPO is every tag */
    bool all_repos;                  /* --all-repos: docker://HOST is every repository's tags */
    const char *cache_dir;           /* --cache-dir DIR (default: rmg_cache_default_dir) */
    const char *default_registry;    /* --default-registry HOST, or $RUMMAGE_DEFAULT_REGISTRY */
    bool no_cache;                   /* --no-cache */
    int max_archive_depth;        /* --max-archive-depth; default 2 */
    const char *dockerfile;       /* context -f/--file */
    char **build_args;            /* context --build-arg NAME=value (borrowed from argv) */
    size_t n_build_args;
    bool show_ignored;            /* context --show-ignored */
    const char *baseline;         /* --baseline FILE (or the config's options.baseline) */
    struct rmg_severity_override { char *rule; enum rmg_severity severity; } *severities;
    size_t n_severities;          /* the config's "severity": {"rule-id": "low"} */
    unsigned given;               /* RMG_GIVEN_* bits: options set on the command line, which
                                     the config's "options" do not override */
    char *owned_baseline;         /* storage for a baseline path from the config */
    bool show_secrets;
    enum rmg_color color;
    int verbosity;                /* -1 quiet, 0 normal, 1+ verbose */
    int jobs;                     /* worker threads; 0 = the cores */
    enum rmg_engine_kind engine;
    size_t chunk_size;
    const char *config_path;      /* explicit --config, or NULL */
    char **rules_paths;           /* --rules, then the config file's "rules" */
    size_t n_rules_paths;
    char **targets;               /* from argv (borrowed) and --images-from (owned_targets) */
    size_t n_targets;
    char **owned_targets;         /* the targets array and lines read from --images-from */
    size_t n_owned_targets;
    unsigned shard_index, shard_count; /* --shard I/N: every N-th target from the I-th; 0/0 = all */
    /* allow-lists, from the config file */
    char **allow_paths;           /* fnmatch globs on the finding's path */
    size_t n_allow_paths;
    char **allow_rules;           /* rule ids */
    size_t n_allow_rules;
    char **allow_fingerprints;
    size_t n_allow_fingerprints;
    void **allow_regexes;         /* pcre2_code*, matched against the secret */
    size_t n_allow_regexes;
};

enum { RMG_GIVEN_FAIL_ON = 1, RMG_GIVEN_FAIL_STATE = 2, RMG_GIVEN_BASELINE = 4,
       RMG_GIVEN_DEPTH = 8, RMG_GIVEN_FAIL_ORIGIN = 16 };

void rmg_config_init(struct rmg_config *c);
void rmg_config_free(struct rmg_config *c);

/* Loads a `.rummage.json` file into c (allow-lists and extra rule files; see docs/config.md).
 * A bad file is RMG_EINPUT with a message naming the file and the key. */
enum rmg_status rmg_config_load(struct rmg_config *c, const char *path, char *err,
                                size_t errlen);

/* Drops the findings the allow-lists cover; returns how many were dropped. Applies the
 * severity overrides to the others. */
size_t rmg_config_filter(const struct rmg_config *c, struct rmg_results *r);

#endif
