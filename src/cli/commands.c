/* commands.c: the command line: options, help, and the scan / rules / version commands. */
#define _GNU_SOURCE
#include "cli/commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/baseline.h"
#include "context/walk.h"
#include "report/report.h"
#include "engine/rules_check.h"
#include "engine/rules.h"
#include "source/registry.h"
#include "source/target.h"
#include "common/util.h"

static const char help_text[] =
    "rummage: find the secrets baked into files, directories and container images.\n"
    "\n"
    "Usage:\n"
    "  rummage scan [OPTIONS] TARGET...   scan images, files, directories or - (stdin)\n"
    "  rummage context [OPTIONS] [DIR]    scan a build context (default .) as docker build\n"
    "                                     would send it, and check its Dockerfile\n"
    "  rummage baseline [OPTIONS] TARGET...  write the findings' fingerprints (never the\n"
    "                                     secrets) as a baseline for --baseline\n"
    "  rummage rules list [--format text|json] [--rules PATH]\n"
    "  rummage rules check [FILE...]      run every rule's examples (default: all rules)\n"
    "  rummage --version | --help\n"
    "\n"
    "Targets:\n"
    "  docker-archive:PATH[:NAME:TAG|:@N]\n"
    "              a `docker save` file (legacy or Docker 25+ layout, may be gzipped);\n"
    "              every image in it, or the one named\n"
    "  oci-archive:PATH[:REF]   an OCI image layout in a tar\n"
    "  oci:DIR[:REF]            an OCI image layout directory\n"
    "  docker://HOST[:PORT]/REPO[:TAG|@DIGEST]\n"
    "              an image in a registry (Registry HTTP API v2), layers streamed,\n"
    "              every digest checked\n"
    "  docker-daemon:NAME[:TAG]  an image in the local Docker or Podman daemon, streamed\n"
    "              from its API ($DOCKER_HOST, default unix:///var/run/docker.sock)\n"
    "  dir:DIR     a directory, never read as an image\n"
    "  FILE        an image archive (detected by content), or any file, scanned as is\n"
    "  DIR         an OCI layout (detected by content), or every regular file below it\n"
    "              (symlinks not followed, special files skipped; paths relative to DIR)\n"
    "  -           standard input: an image stream (docker save app | rummage scan -)\n"
    "              or any bytes\n"
    "\n"
    "Context options:\n"
    "  -f, --file DOCKERFILE   the Dockerfile (default DIR/Dockerfile); -f means --file\n"
    "                          for `context`, --format for `scan`\n"
    "      --build-arg NAME=VALUE  as docker build --build-arg (for ARG expansion)\n"
    "      --show-ignored      also scan what .dockerignore keeps out, and list it\n"
    "                          (reported as ignored, never a failure)\n"
    "\n"
    "Options:\n"
    "  -f, --format FORMAT     text (default), json, sarif (SARIF 2.1.0), gitlab (GitLab\n"
    "                          secret-detection report), junit (JUnit XML), jsonl\n"
    "  -o, --output FILE       write the report to FILE (mode 0600, replaced atomically;\n"
    "                          a symlink, FIFO or device is written in place)\n"
    "  -o, --output FORMAT=FILE  also write a FORMAT report to FILE; repeatable\n"
    "                          (e.g. -o sarif=r.sarif -o junit=r.xml)\n"
    "      --fail-on SEVERITY  exit 1 if a finding is at or above SEVERITY:\n"
    "                          low (default), medium, high, critical\n"
    "      --baseline FILE     report only findings not in FILE (from `rummage baseline`)\n"
    "      --images-from FILE  more targets, one a line (# comments; - for stdin)\n"
    "      --shard I/N         scan only targets I, I+N, I+2N... (0 <= I < N): N workers\n"
    "                          split a list without talking to each other\n"
    "      --all-tags          docker://HOST/REPO: every tag of the repository\n"
    "      --all-repos         docker://HOST: every tag of every repository (the catalog)\n"
    "      --fail-on-state STATE  which findings count for the exit code: any (default)\n"
    "                          or present (only secrets in the image's final filesystem)\n"
    "      --fail-on-origin ORIGIN  own (default) or any (an audit: everything counts).\n"
    "                          own: what the image's builder put there counts (files no\n"
    "                          package owns, changed package files, the --base image's\n"
    "                          layers) and a checksummed live token anywhere; a package's\n"
    "                          unmodified file is reported as upstream, not counted\n"
    "      --show-upstream     text: list upstream findings one by one, not per package\n"
    "      --base IMAGE        the image this one is built FROM (any target syntax): its\n"
    "                          layers, where this image starts with them, are inherited:\n"
    "                          their findings read \"inherited from IMAGE\" (and count);\n"
    "                          default: the base the image's OCI annotations name, if the\n"
    "                          source holds it\n"
    "      --show-secrets      print secrets in full (never do this in a shared CI log)\n"
    "      --platform OS/ARCH[/VARIANT]  the image of a multi-platform index to scan\n"
    "                          (default: this machine's, e.g. linux/amd64)\n"
    "      --all-platforms     scan every platform of a multi-platform index\n"
    "      --creds USER:PASS   registry credentials (otherwise: REGISTRY_AUTH_FILE,\n"
    "                          containers auth.json, ~/.docker/config.json, helpers)\n"
    "      --creds-file FILE   the same from a file: USER:PASS, or an auth.json\n"
    "      --tls-verify=false  registries: do not check certificates; plain HTTP allowed\n"
    "      --default-registry HOST[:PORT]  where Docker Hub names (docker://alpine,\n"
    "                          docker://docker.io/team/app) are read from: Docker Hub's\n"
    "                          API host or a mirror (default: $RUMMAGE_DEFAULT_REGISTRY)\n"
    "      --cache-dir DIR     the layer cache: a layer scanned before with the same rules\n"
    "                          is neither read nor scanned again (default:\n"
    "                          $XDG_CACHE_HOME/rummage or ~/.cache/rummage; no secrets)\n"
    "      --no-cache          neither use nor fill the layer cache\n"
    "      --max-archive-depth N  open archives inside images (jar, zip, whl, tar.gz...)\n"
    "                          this deep (default 2; 0: never)\n"
    "      --rules PATH        add the rules of a JSON file or a directory of them\n"
    "      --config FILE       read allow-lists and rules from FILE (default: ./.rummage.json)\n"
    "      --no-config         do not read ./.rummage.json\n"
    "  -j, --jobs N            scanning threads (default: the number of cores); as many\n"
    "                          layers of an image are read at once, up to 8\n"
    "      --engine ENGINE     prefilter: auto (default), vectorscan, pcre2\n"
    "      --chunk-size BYTES  bytes scanned at once (default 1048576)\n"
    "      --color WHEN        auto (default; off when NO_COLOR is set), always, never\n"
    "  -q, --quiet             print nothing but the report and errors\n"
    "  -v, --verbose           say more on stderr\n"
    "  -h, --help              this text\n"
    "  -V, --version           version and the rule set's hash\n"
    "\n"
    "Inline allow: a line containing \"rummage:allow\" is never reported.\n"
    "\n"
    "Exit status: 0 no counted finding at or above --fail-on (see --fail-on-origin);\n"
    "1 counted findings; 2 usage or input error (what was scanned is still reported; the\n"
    "error is on stderr).\n";

void rmg_cli_help(FILE *out)
{
    fputs(help_text, out);
}

static void usage_error(const char *fmt, const char *arg) __attribute__((format(printf, 1, 0)));
static void usage_error(const char *fmt, const char *arg)
{
    fputs("rummage: ", stderr);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    fprintf(stderr, fmt, arg);
#pragma GCC diagnostic pop
    fputs("\nTry 'rummage --help'.\n", stderr);
}

static bool add_rules_path(struct rmg_config *c, const char *p)
{
    char **v = realloc(c->rules_paths, (c->n_rules_paths + 1) * sizeof *v);
    if (!v)
        return false;
    c->rules_paths = v;
    if (!(v[c->n_rules_paths] = strdup(p)))
        return false;
    c->n_rules_paths++;
    return true;
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > (1ull << 30))
        return false;
    *out = (size_t)v;
    return true;
}

/* --all-tags, --all-repos: each docker:// target replaced by the images the registry lists
 * (source/registry.h); the others kept. False with a message naming the target. */
static bool expand_registry(const struct rmg_config *c, char ***pv, size_t *pn, char *err,
                            size_t errlen)
{
    const struct rmg_registry_opts o = {c->registry_creds, c->registry_creds_file,
                                        c->tls_verify_off, c->default_registry};
    char **v = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    struct rmg_results errors;
    rmg_results_init(&errors);
    for (size_t i = 0; i < *pn && ok; i++) {
        char **got = NULL;
        size_t k = 0;
        enum rmg_status st = rmg_registry_expand(&o, (*pv)[i], c->all_tags, c->all_repos, &got,
                                                 &k, &errors);
        for (size_t e = 0; e < errors.n_errors; e++) {
            const struct rmg_error *x = &errors.errors[e];
            if (x->status == RMG_WARN && c->verbosity >= 0)
                fprintf(stderr, "rummage: warning: %s: %s\n", x->target, x->message);
            else if (x->status != RMG_WARN && ok)
                rmg_fmt(err, errlen, "%s: %s", x->target, x->message);
            ok = ok && x->status == RMG_WARN;
        }
        rmg_results_clear(&errors);
        if (ok && st != RMG_OK) {
            rmg_fmt(err, errlen, "%s: cannot list the registry", (*pv)[i]);
            ok = false;
        }
        if (ok && n + k > cap) {
            cap = (n + k) * 2;
            char **p = realloc(v, cap * sizeof *p);
            if (!(ok = p != NULL))
                rmg_fmt(err, errlen, "out of memory");
            v = p ? p : v;
        }
        for (size_t j = 0; j < k; j++) {
            if (ok)
                v[n++] = got[j];
            else
                free(got[j]);
        }
        free(got);
    }
    if (!ok) {
        rmg_strv_free(v, n);
        return false;
    }
    rmg_strv_free(*pv, *pn);
    *pv = v;
    *pn = n;
    return true;
}

/* The targets of the command line, then one per line of --images-from FILE (blank lines
 * and # comments skipped; "-" reads stdin), expanded by --all-tags and --all-repos, then only
 * this --shard's share of them. */
static bool collect_targets(struct rmg_config *c, const char *from, char *err, size_t errlen)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (size_t i = 0; i < c->n_targets && ok; i++) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(v, cap * sizeof *p);
            ok = p != NULL;
            v = p ? p : v;
        }
        if (ok && !(v[n] = rmg_strdup(c->targets[i])))
            ok = false;
        n += ok;
    }
    FILE *f = NULL;
    if (ok && from) {
        f = strcmp(from, "-") == 0 ? stdin : fopen(from, "r");
        if (!f) {
            rmg_fmt(err, errlen, "--images-from %s: %s", from, strerror(errno));
            rmg_strv_free(v, n);
            return false;
        }
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len;
        while (ok && (len = getline(&line, &lcap, f)) >= 0) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                               line[len - 1] == ' ' || line[len - 1] == '\t'))
                line[--len] = '\0';
            char *t = line + strspn(line, " \t");
            if (!*t || *t == '#')
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **p = realloc(v, cap * sizeof *p);
                ok = p != NULL;
                v = p ? p : v;
            }
            if (ok && !(v[n] = rmg_strdup(t)))
                ok = false;
            n += ok;
        }
        free(line);
        if (f != stdin)
            fclose(f);
    }
    if (!ok) {
        rmg_fmt(err, errlen, "out of memory");
        rmg_strv_free(v, n);
        return false;
    }
    if ((c->all_tags || c->all_repos) && !expand_registry(c, &v, &n, err, errlen)) {
        rmg_strv_free(v, n);
        return false;
    }
    /* This shard's share: targets I, I+N, I+2N... (free the others). */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!c->shard_count || i % c->shard_count == c->shard_index)
            v[kept++] = v[i];
        else
            free(v[i]);
    }
    c->owned_targets = v;
    c->n_owned_targets = kept;
    c->targets = v;
    c->n_targets = kept;
    if (!v) { /* nothing at all: an empty array the rest can hold */
        c->targets = c->owned_targets = calloc(1, sizeof *v);
        if (!c->targets) {
            rmg_fmt(err, errlen, "out of memory");
            return false;
        }
    }
    return true;
}

bool rmg_cli_parse(int argc, char **argv, enum rmg_command *cmd, struct rmg_config *c)
{
    enum { O_FAIL_ON = 256, O_SHOW, O_RULES, O_CONFIG, O_NO_CONFIG, O_ENGINE, O_CHUNK, O_COLOR,
           O_FAIL_STATE, O_FAIL_ORIGIN, O_SHOW_UPSTREAM, O_PLATFORM, O_ALL_PLATFORMS, O_DEPTH, O_FORMAT, O_FILE, O_BUILD_ARG,
           O_SHOW_IGNORED, O_BASELINE, O_IMAGES_FROM, O_SHARD, O_CREDS, O_CREDS_FILE,
           O_TLS_VERIFY, O_ALL_TAGS, O_ALL_REPOS, O_CACHE_DIR, O_NO_CACHE, O_DEFAULT_REGISTRY,
           O_BASE };
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"file", required_argument, NULL, O_FILE},
        {"build-arg", required_argument, NULL, O_BUILD_ARG},
        {"show-ignored", no_argument, NULL, O_SHOW_IGNORED},
        {"baseline", required_argument, NULL, O_BASELINE},
        {"images-from", required_argument, NULL, O_IMAGES_FROM},
        {"shard", required_argument, NULL, O_SHARD},
        {"output", required_argument, NULL, 'o'},
        {"fail-on", required_argument, NULL, O_FAIL_ON},
        {"fail-on-state", required_argument, NULL, O_FAIL_STATE},
        {"fail-on-origin", required_argument, NULL, O_FAIL_ORIGIN},
        {"show-upstream", no_argument, NULL, O_SHOW_UPSTREAM},
        {"platform", required_argument, NULL, O_PLATFORM},
        {"all-platforms", no_argument, NULL, O_ALL_PLATFORMS},
        {"creds", required_argument, NULL, O_CREDS},
        {"creds-file", required_argument, NULL, O_CREDS_FILE},
        {"tls-verify", optional_argument, NULL, O_TLS_VERIFY},
        {"all-tags", no_argument, NULL, O_ALL_TAGS},
        {"all-repos", no_argument, NULL, O_ALL_REPOS},
        {"cache-dir", required_argument, NULL, O_CACHE_DIR},
        {"default-registry", required_argument, NULL, O_DEFAULT_REGISTRY},
        {"base", required_argument, NULL, O_BASE},
        {"no-cache", no_argument, NULL, O_NO_CACHE},
        {"max-archive-depth", required_argument, NULL, O_DEPTH},
        {"show-secrets", no_argument, NULL, O_SHOW},
        {"rules", required_argument, NULL, O_RULES},
        {"config", required_argument, NULL, O_CONFIG},
        {"no-config", no_argument, NULL, O_NO_CONFIG},
        {"jobs", required_argument, NULL, 'j'},
        {"engine", required_argument, NULL, O_ENGINE},
        {"chunk-size", required_argument, NULL, O_CHUNK},
        {"color", required_argument, NULL, O_COLOR},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    if (argc < 2) {
        usage_error("%sno command given", "");
        return false;
    }
    int first = 2;
    const char *verb = argv[1];
    if (strcmp(verb, "scan") == 0) {
        *cmd = RMG_CMD_SCAN;
    } else if (strcmp(verb, "context") == 0) {
        *cmd = RMG_CMD_CONTEXT;
    } else if (strcmp(verb, "baseline") == 0) {
        *cmd = RMG_CMD_BASELINE;
    } else if (strcmp(verb, "rules") == 0) {
        if (argc < 3 || (strcmp(argv[2], "list") != 0 && strcmp(argv[2], "check") != 0)) {
            usage_error("%s'rules' needs 'list' or 'check'", "");
            return false;
        }
        *cmd = strcmp(argv[2], "list") == 0 ? RMG_CMD_RULES_LIST : RMG_CMD_RULES_CHECK;
        first = 3;
    } else if (strcmp(verb, "version") == 0) {
        *cmd = RMG_CMD_VERSION;
    } else if (strcmp(verb, "help") == 0) {
        *cmd = RMG_CMD_HELP;
        return true;
    } else if (verb[0] == '-') {
        *cmd = RMG_CMD_SCAN;
        first = 1;
    } else {
        usage_error("unknown command '%s'", verb);
        return false;
    }
    bool no_config = false;
    const char *images_from = NULL;
    optind = first;
    int ch;
    while ((ch = getopt_long(argc, argv, "f:o:j:qvhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (*cmd == RMG_CMD_CONTEXT) {
                c->dockerfile = optarg;
                break;
            }
            /* for the other commands -f is --format */
            __attribute__((fallthrough));
        case O_FORMAT:
            if (!rmg_format_parse(optarg, strlen(optarg), &c->format)) {
                usage_error("unknown format '%s' (text, json, sarif, gitlab, junit, jsonl)",
                            optarg);
                return false;
            }
            break;
        case 'o': {
            /* FORMAT=FILE adds a report; a plain FILE takes the --format report. */
            const char *eq = strchr(optarg, '=');
            enum rmg_format f;
            if (eq && rmg_format_parse(optarg, (size_t)(eq - optarg), &f)) {
                if (!eq[1]) {
                    usage_error("--output %s needs a file after '='", optarg);
                    return false;
                }
                struct rmg_output *v = realloc(c->outputs, (c->n_outputs + 1) * sizeof *v);
                if (!v) {
                    usage_error("%sout of memory", "");
                    return false;
                }
                c->outputs = v;
                v[c->n_outputs++] = (struct rmg_output){f, eq + 1};
            } else {
                c->output = optarg;
            }
            break;
        }
        case O_FAIL_ON:
            c->given |= RMG_GIVEN_FAIL_ON;
            if (!rmg_severity_parse(optarg, &c->fail_on)) {
                usage_error("unknown severity '%s' (low, medium, high, critical)", optarg);
                return false;
            }
            break;
        case O_FAIL_STATE:
            c->given |= RMG_GIVEN_FAIL_STATE;
            if (strcmp(optarg, "any") == 0)
                c->fail_on_present_only = false;
            else if (strcmp(optarg, "present") == 0)
                c->fail_on_present_only = true;
            else {
                usage_error("--fail-on-state wants any or present, not '%s'", optarg);
                return false;
            }
            break;
        case O_FAIL_ORIGIN:
            c->given |= RMG_GIVEN_FAIL_ORIGIN;
            if (strcmp(optarg, "any") == 0)
                c->fail_on_all_origins = true;
            else if (strcmp(optarg, "own") == 0)
                c->fail_on_all_origins = false;
            else {
                usage_error("--fail-on-origin wants own or any, not '%s'", optarg);
                return false;
            }
            break;
        case O_SHOW_UPSTREAM: c->show_upstream = true; break;
        case O_PLATFORM: {
            const char *slash = strchr(optarg, '/');
            if (!slash || slash == optarg || !slash[1] || slash[1] == '/' ||
                (strchr(slash + 1, '/') && (!strchr(slash + 1, '/')[1] ||
                                            strchr(strchr(slash + 1, '/') + 1, '/')))) {
                usage_error("--platform wants OS/ARCH or OS/ARCH/VARIANT (e.g. linux/arm64), "
                            "not '%s'", optarg);
                return false;
            }
            c->platform = optarg;
            break;
        }
        case O_ALL_PLATFORMS: c->all_platforms = true; break;
        case O_CREDS:
            /* never echo it: it holds a password */
            if (optarg[0] == ':' || !strchr(optarg, ':')) {
                usage_error("%s--creds wants USER:PASS", "");
                return false;
            }
            c->registry_creds = optarg;
            break;
        case O_CREDS_FILE: c->registry_creds_file = optarg; break;
        case O_ALL_TAGS: c->all_tags = true; break;
        case O_ALL_REPOS: c->all_repos = true; break;
        case O_CACHE_DIR: c->cache_dir = optarg; break;
        case O_DEFAULT_REGISTRY: c->default_registry = optarg; break;
        case O_BASE: c->base = optarg; break;
        case O_NO_CACHE: c->no_cache = true; break;
        case O_TLS_VERIFY:
            if (!optarg || strcmp(optarg, "true") == 0) {
                c->tls_verify_off = false;
            } else if (strcmp(optarg, "false") == 0) {
                c->tls_verify_off = true;
            } else {
                usage_error("--tls-verify wants true or false, not '%s'", optarg);
                return false;
            }
            break;
        case O_DEPTH: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 16) {
                usage_error("--max-archive-depth wants a number from 0 to 16, not '%s'", optarg);
                return false;
            }
            c->max_archive_depth = (int)v;
            c->given |= RMG_GIVEN_DEPTH;
            break;
        }
        case O_SHOW: c->show_secrets = true; break;
        case O_FILE: c->dockerfile = optarg; break;
        case O_IMAGES_FROM:
            images_from = optarg;
            break;
        case O_SHARD: {
            unsigned long i, n;
            char *end, *slash = strchr(optarg, '/');
            errno = 0;
            i = strtoul(optarg, &end, 10);
            bool ok = slash && end == slash && end != optarg;
            n = ok ? strtoul(slash + 1, &end, 10) : 0;
            ok = ok && !*end && end != slash + 1 && !errno && n >= 1 && n <= 100000 && i < n;
            if (!ok) {
                usage_error("--shard wants I/N with 0 <= I < N (e.g. 0/4), not '%s'", optarg);
                return false;
            }
            c->shard_index = (unsigned)i;
            c->shard_count = (unsigned)n;
            break;
        }
        case O_BASELINE:
            c->baseline = optarg;
            c->given |= RMG_GIVEN_BASELINE;
            break;
        case O_SHOW_IGNORED: c->show_ignored = true; break;
        case O_BUILD_ARG: {
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                usage_error("--build-arg wants NAME=VALUE, not '%s'", optarg);
                return false;
            }
            char **v = realloc(c->build_args, (c->n_build_args + 1) * sizeof *v);
            if (!v) {
                usage_error("%sout of memory", "");
                return false;
            }
            c->build_args = v;
            v[c->n_build_args++] = optarg;
            break;
        }
        case O_RULES:
            if (!add_rules_path(c, optarg)) {
                usage_error("%sout of memory", "");
                return false;
            }
            break;
        case O_CONFIG: c->config_path = optarg; break;
        case O_NO_CONFIG: no_config = true; break;
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 256) {
                usage_error("--jobs wants a number from 1 to 256, not '%s'", optarg);
                return false;
            }
            c->jobs = (int)v;
            break;
        }
        case O_ENGINE:
            if (strcmp(optarg, "auto") == 0)
                c->engine = RMG_ENGINE_AUTO;
            else if (strcmp(optarg, "vectorscan") == 0)
                c->engine = RMG_ENGINE_VECTORSCAN;
            else if (strcmp(optarg, "pcre2") == 0)
                c->engine = RMG_ENGINE_PCRE2;
            else {
                usage_error("unknown engine '%s' (auto, vectorscan, pcre2)", optarg);
                return false;
            }
            break;
        case O_CHUNK:
            if (!parse_size(optarg, &c->chunk_size)) {
                usage_error("--chunk-size wants a byte count from 1 to 1073741824, not '%s'",
                            optarg);
                return false;
            }
            break;
        case O_COLOR:
            if (strcmp(optarg, "auto") == 0)
                c->color = RMG_COLOR_AUTO;
            else if (strcmp(optarg, "always") == 0)
                c->color = RMG_COLOR_ALWAYS;
            else if (strcmp(optarg, "never") == 0)
                c->color = RMG_COLOR_NEVER;
            else {
                usage_error("--color wants auto, always or never, not '%s'", optarg);
                return false;
            }
            break;
        case 'q': c->verbosity = -1; break;
        case 'v': c->verbosity++; break;
        case 'h': *cmd = RMG_CMD_HELP; return true;
        case 'V': *cmd = RMG_CMD_VERSION; return true;
        default: fputs("Try 'rummage --help'.\n", stderr); return false;
        }
    }
    if (!c->default_registry)
        c->default_registry = getenv("RUMMAGE_DEFAULT_REGISTRY");
    c->targets = argv + optind;
    c->n_targets = (size_t)(argc - optind);
    size_t n_given = c->n_targets;
    if (images_from || c->shard_count || c->all_tags || c->all_repos) {
        char err[1536];
        if (!collect_targets(c, images_from, err, sizeof err)) {
            usage_error("%s", err);
            return false;
        }
    }
    /* An empty --images-from list or shard is fine: a fleet may have more workers than images. */
    if ((*cmd == RMG_CMD_SCAN || *cmd == RMG_CMD_BASELINE) && n_given == 0 &&
        !images_from && !c->shard_count) {
        usage_error("%s'scan' needs at least one target (an image, a file, a directory, or -)",
                    "");
        return false;
    }
    if (*cmd == RMG_CMD_CONTEXT && c->n_targets > 1) {
        usage_error("'context' takes one directory, not '%s' too", c->targets[1]);
        return false;
    }
    if ((*cmd == RMG_CMD_RULES_LIST || *cmd == RMG_CMD_VERSION) && c->n_targets) {
        usage_error("unexpected argument '%s'", c->targets[0]);
        return false;
    }
    const char *cfg = c->config_path;
    struct stat st;
    if (!cfg && !no_config &&
        (*cmd == RMG_CMD_SCAN || *cmd == RMG_CMD_CONTEXT || *cmd == RMG_CMD_BASELINE) &&
        stat(".rummage.json", &st) == 0)
        cfg = ".rummage.json";
    if (cfg) {
        char err[512];
        if (rmg_config_load(c, cfg, err, sizeof err) != RMG_OK) {
            usage_error("%s", err);
            return false;
        }
    }
    return true;
}

/* Loads the built-in rules (unless only_files) and the given paths, then compiles. */
static struct rmg_rules *load_rules(const struct rmg_config *c, char *const *files,
                                    size_t n_files)
{
    char err[1024];
    struct rmg_rules *rules = rmg_rules_new();
    if (!rules) {
        fputs("rummage: out of memory\n", stderr);
        return NULL;
    }
    enum rmg_status st = RMG_OK;
    if (!n_files)
        st = rmg_rules_add_builtin(rules, err, sizeof err);
    for (size_t i = 0; st == RMG_OK && i < c->n_rules_paths; i++)
        st = rmg_rules_add_path(rules, c->rules_paths[i], err, sizeof err);
    for (size_t i = 0; st == RMG_OK && i < n_files; i++)
        st = rmg_rules_add_path(rules, files[i], err, sizeof err);
    if (st == RMG_OK)
        st = rmg_rules_compile(rules, c->engine, err, sizeof err);
    if (st != RMG_OK) {
        fputs("rummage: ", stderr);
        rmg_fputs_safe(stderr, err, strlen(err));
        fputc('\n', stderr);
        rmg_rules_free(rules);
        return NULL;
    }
    return rules;
}

/* Opens the report destination: stdout, or a temporary file next to c->output that
 * finish_output renames into place, so a reader never sees half a report. */
static FILE *open_output(const char *path, char **tmp_path)
{
    *tmp_path = NULL;
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    /* A symlink, FIFO or device (-o /dev/null, -o /dev/stdout, a pipe) is written in place:
     * renaming a file over it would replace it. */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        FILE *f = fopen(path, "w");
        if (!f)
            fprintf(stderr, "rummage: cannot write %s: %s\n", path, strerror(errno));
        return f;
    }
    struct rmg_buf p = {0};
    if (!rmg_buf_printf(&p, "%s.tmp.XXXXXX", path))
        return NULL;
    int fd = mkstemp(p.data);
    if (fd < 0) {
        fprintf(stderr, "rummage: cannot write %s: %s\n", path, strerror(errno));
        rmg_buf_free(&p);
        return NULL;
    }
    fchmod(fd, 0600);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(p.data);
        rmg_buf_free(&p);
        return NULL;
    }
    *tmp_path = p.data;
    return f;
}

static bool finish_output(const char *path, FILE *f, char *tmp_path)
{
    if (!tmp_path) {
        bool ok = fflush(f) == 0;
        if (f != stdout && fclose(f) != 0)
            ok = false;
        if (!ok && f != stdout)
            fprintf(stderr, "rummage: cannot write %s: %s\n", path, strerror(errno));
        return ok;
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp_path, path) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "rummage: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp_path);
    }
    free(tmp_path);
    return ok;
}

/* Writes one report; format -1 is the baseline. */
static bool write_report(FILE *out, int format, bool context, const struct rmg_results *res,
                         const struct rmg_report_opts *ro)
{
    switch (format) {
    case -1: return rmg_baseline_write(out, res, ro->rules);
    case RMG_FORMAT_JSON: return rmg_report_json(out, res, ro);
    case RMG_FORMAT_SARIF: return rmg_report_sarif(out, res, ro);
    case RMG_FORMAT_GITLAB: return rmg_report_gitlab(out, res, ro);
    case RMG_FORMAT_JUNIT: return rmg_report_junit(out, res, ro);
    case RMG_FORMAT_JSONL: return rmg_report_jsonl(out, res, ro);
    default:
        if (context)
            rmg_report_context_text(out, res, ro);
        else
            rmg_report_text(out, res, ro);
        return true;
    }
}

/* The terminal's width when the text report goes to one (COLUMNS wins); 0 otherwise. */
static unsigned terminal_width(const struct rmg_config *c)
{
    if (c->output || c->format != RMG_FORMAT_TEXT || !isatty(STDOUT_FILENO))
        return 0;
    const char *env = getenv("COLUMNS");
    long v = env ? strtol(env, NULL, 10) : 0;
    struct winsize ws;
    if (v <= 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        v = ws.ws_col;
    return v >= 40 && v <= 1000 ? (unsigned)v : 100;
}

/* What the scanning commands share: rules, the scan, the report, the exit code. CONTEXT
 * scans the one target as a build context; BASELINE writes a baseline instead of a report
 * and exits 0 unless the scan failed. */
/* The layer cache for images (ctx->cache; NULL when off). Off with --no-cache, and whenever a
 * result must see raw secrets, which the cache never holds: --show-secrets, and the config's
 * allow-list regexes on secrets. A default directory that cannot be used turns it off with a
 * note; a --cache-dir that cannot be used is an error (false). */
static bool open_cache(const struct rmg_config *c, struct rmg_scan_ctx *ctx)
{
    char dir[4096], err[600];
    if (c->no_cache || c->show_secrets || c->n_allow_regexes)
        return true;
    if (!c->cache_dir && !rmg_cache_default_dir(dir, sizeof dir))
        return true;
    ctx->cache = rmg_cache_open(c->cache_dir ? c->cache_dir : dir, ctx->rules, &ctx->opts,
                                &ctx->limits, err, sizeof err);
    if (ctx->cache || (!c->cache_dir && c->verbosity < 0))
        return true;
    fprintf(stderr, "rummage: %slayer cache: ", c->cache_dir ? "" : "note: no ");
    rmg_fputs_safe(stderr, err, strlen(err));
    fputs(c->cache_dir ? "\n" : " (--cache-dir DIR to choose another place)\n", stderr);
    return !c->cache_dir;
}

/* --base IMAGE: reads the base image (any target; its layers come from the layer cache after
 * the first time) for its layers' diff_ids. Its findings are not reported: the image's own
 * scan reports those of the layers it inherits. False, with the reason on stderr, when the base
 * cannot be read or holds no image. */
static bool read_base(const struct rmg_config *c, const struct rmg_scan_ctx *ctx,
                      struct rmg_base_chain *base)
{
    struct rmg_scan_ctx bctx = *ctx;
    bctx.collect_base = base;
    bctx.tally = NULL;
    bctx.progress = 0;
    struct rmg_results res;
    rmg_results_init(&res);
    char *const targets[1] = {(char *)c->base};
    enum rmg_status st = rmg_scan_targets(&bctx, targets, 1, &res);
    bool ok = st < RMG_EINPUT;
    for (size_t i = 0; i < res.n_errors && ok; i++)
        ok = rmg_error_is_warning(&res.errors[i]);
    if (!ok) {
        fputs("rummage: error: --base ", stderr);
        rmg_fputs_safe(stderr, c->base, strlen(c->base));
        fputs(": the base image could not be read:\n", stderr);
        rmg_report_errors(stderr, &res);
    } else if (!base->n) {
        fputs("rummage: error: --base ", stderr);
        rmg_fputs_safe(stderr, c->base, strlen(c->base));
        fputs(": not an image (no layers)\n", stderr);
        ok = false;
    } else if (!(base->name = rmg_strdup(c->base))) {
        ok = false;
    }
    rmg_results_clear(&res);
    if (!ok)
        rmg_base_chain_clear(base);
    return ok;
}

static int scan_and_report(const struct rmg_config *c, enum rmg_command cmd)
{
    bool context = cmd == RMG_CMD_CONTEXT;
    struct rmg_baseline *baseline = NULL;
    if (c->baseline && cmd != RMG_CMD_BASELINE) {
        char err[512];
        if (rmg_baseline_load(c->baseline, &baseline, err, sizeof err) != RMG_OK) {
            fputs("rummage: ", stderr);
            rmg_fputs_safe(stderr, err, strlen(err));
            fputc('\n', stderr);
            return RMG_EXIT_ERROR;
        }
    }
    struct rmg_rules *rules = load_rules(c, NULL, 0);
    if (!rules) {
        rmg_baseline_free(baseline);
        return RMG_EXIT_ERROR;
    }
    if (c->verbosity > 0)
        fprintf(stderr, "rummage: %zu rules, engine %s\n", rmg_rules_count(rules),
                rmg_rules_engine(rules) == RMG_ENGINE_VECTORSCAN ? "vectorscan" : "pcre2");
    struct rmg_scan_ctx ctx = {.rules = rules, .jobs = c->jobs, .platform = c->platform,
                               .all_platforms = c->all_platforms,
                               .registry = {c->registry_creds, c->registry_creds_file,
                                            c->tls_verify_off, c->default_registry},
                               .progress = c->verbosity > 0                      ? 2
                                           : c->verbosity == 0 && isatty(STDERR_FILENO) ? 1
                                                                                         : 0};
    ctx.opts.chunk_size = c->chunk_size;
    struct rmg_progress tally = {.t0 = rmg_now(), .targets = (unsigned)c->n_targets};
    ctx.tally = &tally;
    rmg_limits_default(&ctx.limits);
    ctx.limits.max_depth = c->max_archive_depth;
    if (!context && !open_cache(c, &ctx)) {
        rmg_rules_free(rules);
        rmg_baseline_free(baseline);
        return RMG_EXIT_ERROR;
    }
    struct rmg_base_chain base = {0};
    if (!context && c->base && !read_base(c, &ctx, &base)) {
        rmg_cache_free(ctx.cache);
        rmg_rules_free(rules);
        rmg_baseline_free(baseline);
        return RMG_EXIT_ERROR;
    }
    ctx.base = base.n ? &base : NULL;
    struct rmg_results res;
    rmg_results_init(&res);
    enum rmg_status st;
    double t0 = rmg_now();
    bool stream = cmd == RMG_CMD_SCAN && c->format == RMG_FORMAT_JSONL;
    FILE *stream_out = NULL;
    char *stream_tmp = NULL;
    bool stream_ok = true;
    size_t suppressed = 0, baselined = 0;
    if (context) {
        struct rmg_context_opts co = {.dir = c->n_targets ? c->targets[0] : ".",
                                      .dockerfile = c->dockerfile,
                                      .build_args = c->build_args,
                                      .n_build_args = c->n_build_args,
                                      .show_ignored = c->show_ignored};
        st = rmg_context_scan(&ctx, &co, &res);
        res.stats.seconds += rmg_now() - t0;
    } else if (!stream) {
        st = rmg_scan_targets(&ctx, c->targets, c->n_targets, &res);
    } else {
        /* JSON Lines streams: each target's findings are written as soon as it is done. */
        st = RMG_OK;
        stream_out = open_output(c->output, &stream_tmp);
        struct rmg_report_opts lines = {.show_secrets = c->show_secrets, .rules = rules,
                                        .all_origins = c->fail_on_all_origins};
        for (size_t i = 0; i < c->n_targets && stream_out; i++) {
            struct rmg_results one;
            rmg_results_init(&one);
            enum rmg_status s1 = rmg_scan_targets(&ctx, &c->targets[i], 1, &one);
            st = s1 > st ? s1 : st;
            suppressed += rmg_config_filter(c, &one);
            baselined += baseline ? rmg_baseline_filter(baseline, &one) : 0;
            rmg_results_sort(&one);
            stream_ok = rmg_report_jsonl_lines(stream_out, &one, &lines) && stream_ok;
            fflush(stream_out);
            if (rmg_results_merge(&res, &one) != RMG_OK)
                st = RMG_ENOMEM;
            rmg_results_clear(&one);
        }
        res.stats.seconds = rmg_now() - t0;
    }
    if (!stream) {
        suppressed = rmg_config_filter(c, &res);
        baselined = baseline ? rmg_baseline_filter(baseline, &res) : 0;
    }
    rmg_baseline_free(baseline);
    rmg_results_sort(&res);

    bool color = c->color == RMG_COLOR_ALWAYS ||
                 (c->color == RMG_COLOR_AUTO && !getenv("NO_COLOR") && !c->output &&
                  c->format == RMG_FORMAT_TEXT && isatty(STDOUT_FILENO));
    struct rmg_report_opts ro = {.show_secrets = c->show_secrets, .color = color,
                                 .rules = rules, .suppressed = suppressed,
                                 .baselined = baselined, .targets = c->targets,
                                 .n_targets = c->n_targets,
                                 .command = context ? "context" : "scan",
                                 .width = terminal_width(c),
                                 .all_origins = c->fail_on_all_origins,
                                 .show_upstream = c->show_upstream};
    rmg_report_errors(stderr, &res);
    /* The --format report to -o FILE or stdout, then every --output FORMAT=FILE. */
    bool wrote = true;
    for (size_t k = 0; k <= c->n_outputs; k++) {
        const char *path = k == 0 ? c->output : c->outputs[k - 1].path;
        enum rmg_format fmt = k == 0 ? c->format : c->outputs[k - 1].format;
        struct rmg_report_opts one = ro;
        if (k > 0 || path) {
            one.color = false;
            one.width = 0;
        }
        if (k == 0 && stream) {
            /* The lines are out already: end the stream with its summary. */
            bool w = stream_out && rmg_report_jsonl_summary(stream_out, &res, &one);
            wrote = stream_out && finish_output(path, stream_out, stream_tmp) && w &&
                    stream_ok && wrote;
            continue;
        }
        char *tmp = NULL;
        FILE *out = open_output(path, &tmp);
        if (!out) {
            wrote = false;
            continue;
        }
        bool w = write_report(out, cmd == RMG_CMD_BASELINE && k == 0 ? -1 : (int)fmt, context,
                              &res, &one);
        wrote = finish_output(path, out, tmp) && w && wrote;
    }
    bool failed_input = st >= RMG_EINPUT;
    for (size_t i = 0; i < res.n_errors; i++)
        failed_input = failed_input || !rmg_error_is_warning(&res.errors[i]);
    bool over = false;
    for (size_t i = 0; i < res.n_findings; i++) {
        const struct rmg_finding *f = &res.findings[i];
        bool counts = rmg_report_counts(f, &ro) &&
                      (!c->fail_on_present_only || f->state == RMG_STATE_PRESENT ||
                       f->state == RMG_STATE_CONFIG || f->state == RMG_STATE_CONTEXT);
        over = over || (counts && f->severity >= c->fail_on);
    }
    rmg_results_clear(&res);
    rmg_base_chain_clear(&base);
    rmg_cache_free(ctx.cache);
    rmg_rules_free(rules);
    if (!wrote || failed_input)
        return RMG_EXIT_ERROR;
    return over && cmd != RMG_CMD_BASELINE ? RMG_EXIT_FINDINGS : RMG_EXIT_CLEAN;
}

int rmg_cli_scan(const struct rmg_config *c)
{
    return scan_and_report(c, RMG_CMD_SCAN);
}

int rmg_cli_context(const struct rmg_config *c)
{
    return scan_and_report(c, RMG_CMD_CONTEXT);
}

int rmg_cli_baseline(const struct rmg_config *c)
{
    return scan_and_report(c, RMG_CMD_BASELINE);
}

int rmg_cli_rules_list(const struct rmg_config *c)
{
    if (c->format != RMG_FORMAT_TEXT && c->format != RMG_FORMAT_JSON) {
        fputs("rummage: 'rules list' writes text or json\nTry 'rummage --help'.\n", stderr);
        return RMG_EXIT_ERROR;
    }
    struct rmg_rules *rules = load_rules(c, NULL, 0);
    if (!rules)
        return RMG_EXIT_ERROR;
    size_t n_set = rmg_rules_count(rules), n = n_set + rmg_context_check_count();
    /* The rule set, then the Dockerfile checks of `rummage context`. */
#define RULE_AT(i) ((i) < n_set ? rmg_rules_get(rules, (i)) : rmg_context_check_rule((i) - n_set))
    if (c->format == RMG_FORMAT_JSON) {
        fputs("[\n", stdout);
        for (size_t i = 0; i < n; i++) {
            const struct rmg_rule *r = RULE_AT(i);
            struct rmg_buf b = {0};
            rmg_buf_printf(&b, "  {\"id\": \"%s\", \"severity\": \"%s\", \"generic\": %s, "
                               "\"validator\": ",
                           r->id, rmg_severity_name(r->severity), r->generic ? "true" : "false");
            if (r->validator)
                rmg_buf_printf(&b, "\"%s\"", r->validator);
            else
                rmg_buf_puts(&b, "null");
            fputs(b.data, stdout);
            rmg_buf_free(&b);
            /* Titles and origins may come from user files: let cJSON-free escaping be exact. */
            fputs(", \"title\": \"", stdout);
            for (const char *p = r->title; *p; p++) {
                unsigned char ch = (unsigned char)*p;
                if (ch == '"' || ch == '\\')
                    fprintf(stdout, "\\%c", ch);
                else if (ch < 0x20)
                    fprintf(stdout, "\\u%04x", ch);
                else
                    fputc(ch, stdout);
            }
            fprintf(stdout, "\", \"max_span\": %zu}%s\n", r->max_span, i + 1 < n ? "," : "");
        }
        fputs("]\n", stdout);
    } else {
        for (size_t i = 0; i < n; i++) {
            const struct rmg_rule *r = RULE_AT(i);
            fprintf(stdout, "%-40s %-8s ", r->id, rmg_severity_name(r->severity));
            rmg_fputs_safe(stdout, r->title, strlen(r->title));
            fputc('\n', stdout);
        }
        fprintf(stdout, "%zu rules and %zu Dockerfile checks, rule set %.16s\n", n_set,
                n - n_set, rmg_rules_hash(rules));
    }
#undef RULE_AT
    rmg_rules_free(rules);
    return RMG_EXIT_CLEAN;
}

int rmg_cli_rules_check(const struct rmg_config *c)
{
    struct rmg_rules *rules = load_rules(c, c->targets, c->n_targets);
    if (!rules)
        return RMG_EXIT_ERROR;
    size_t passed = 0, failed = 0;
    enum rmg_status st = rmg_rules_check(rules, stdout, &passed, &failed);
    printf("rules check: %zu rules, engine %s: %zu passed, %zu failed\n",
           rmg_rules_count(rules),
           rmg_rules_engine(rules) == RMG_ENGINE_VECTORSCAN ? "vectorscan" : "pcre2", passed,
           failed);
    rmg_rules_free(rules);
    return st != RMG_OK || failed ? RMG_EXIT_FINDINGS : RMG_EXIT_CLEAN;
}

int rmg_cli_version(const struct rmg_config *c)
{
    struct rmg_rules *rules = load_rules(c, NULL, 0);
    if (!rules)
        return RMG_EXIT_ERROR;
    printf("rummage %s (%zu rules, rule set %.16s, %s)\n", RMG_VERSION, rmg_rules_count(rules),
           rmg_rules_hash(rules), rmg_rules_have_vectorscan() ? "vectorscan" : "pcre2 only");
    rmg_rules_free(rules);
    return RMG_EXIT_CLEAN;
}
