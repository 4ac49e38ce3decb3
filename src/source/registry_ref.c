/* registry_ref.c: image references of a registry, read as Docker reads image names (see
 * registry_ref.h). */
#define _GNU_SOURCE
#include "source/registry_ref.h"

#include <string.h>

#include "common/util.h"

static const char docker_hub_name[] = RMG_DOCKER_HUB_NAME;
static const char docker_hub_index[] = "index.docker.io";

static bool is_lower_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* "ALG:HEX" with a digest OpenSSL knows and a hex part of its length; the algorithm or NULL. */
const EVP_MD *rmg_registry_digest_md(const char *digest)
{
    const char *colon = strchr(digest, ':');
    char alg[32];
    if (!colon || colon == digest || (size_t)(colon - digest) >= sizeof alg)
        return NULL;
    memcpy(alg, digest, (size_t)(colon - digest));
    alg[colon - digest] = '\0';
    if (strcmp(alg, "sha256") != 0 && strcmp(alg, "sha384") != 0 && strcmp(alg, "sha512") != 0)
        return NULL;
    const EVP_MD *md = EVP_get_digestbyname(alg);
    size_t hex = strlen(colon + 1);
    if (!md || hex != (size_t)EVP_MD_size(md) * 2 || !is_hex(colon + 1, hex))
        return NULL;
    return md;
}

bool rmg_registry_valid_host(const char *h, size_t n)
{
    size_t i = 0;
    if (n && h[0] == '[') {
        const char *end = memchr(h, ']', n);
        if (!end || end == h + 1)
            return false;
        for (const char *c = h + 1; c < end; c++)
            if (!strchr("0123456789abcdefABCDEF:.", *c))
                return false;
        i = (size_t)(end - h) + 1;
    } else {
        while (i < n && h[i] != ':') {
            char c = h[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-'))
                return false;
            i++;
        }
        if (i == 0 || h[0] == '.' || h[0] == '-')
            return false;
    }
    if (i == n)
        return true;
    if (h[i] != ':' || n - i < 2 || n - i > 6)
        return false;
    for (i++; i < n; i++)
        if (h[i] < '0' || h[i] > '9')
            return false;
    return true;
}

/* Repository path components: lower-case alphanumerics joined by '.', '_', "__" or dashes,
 * separated by '/'. */
bool rmg_registry_valid_repo(const char *r, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* one component */
        if (!is_lower_alnum(r[i]))
            return false;
        while (i < n && r[i] != '/') {
            if (is_lower_alnum(r[i])) {
                i++;
                continue;
            }
            size_t sep = i;
            if (r[i] == '.')
                i++;
            else if (r[i] == '_')
                i += i + 1 < n && r[i + 1] == '_' ? 2 : 1;
            else if (r[i] == '-')
                while (i < n && r[i] == '-')
                    i++;
            if (i == sep || i >= n || !is_lower_alnum(r[i]))
                return false;
        }
        if (i < n)
            i++; /* the '/' */
        if (i == n && r[n - 1] == '/')
            return false;
    }
    return n > 0;
}

bool rmg_registry_valid_tag(const char *t, size_t n)
{
    if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '.' || t[i] == '-'))
            return false;
    return true;
}

/* A Docker Hub name, as Docker reads it: no host ("alpine", "team/app:1") or the host
 * docker.io. Gives the name without its host ("alpine") in *rest. */
static bool is_hub_name(const char *s, const char **rest)
{
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (slash && ((hl == strlen(docker_hub_name) && strncmp(s, docker_hub_name, hl) == 0) ||
                  (hl == strlen(docker_hub_index) && strncmp(s, docker_hub_index, hl) == 0))) {
        *rest = slash + 1;
        return true;
    }
    bool host = slash && (memchr(s, '.', hl) || memchr(s, ':', hl) || s[0] == '[' ||
                          (hl == 9 && strncmp(s, "localhost", 9) == 0));
    /* Without a '/', "app:1.0" is a Hub image, but "HOST.NAME[:PORT]" and "localhost[:PORT]"
     * are hosts without a repository (rmg_registry_ref_parse says so). */
    size_t nl = strcspn(s, ":@");
    bool bare_host = !slash && (memchr(s, '.', nl) || s[0] == '[' ||
                                (nl == 9 && strncmp(s, "localhost", 9) == 0));
    *rest = s;
    return *s && !host && !bare_host;
}

/* rmg_registry_ref_parse for any name: a Docker Hub name is read from `hub` (HOST[:PORT]: its
 * API host or a mirror), "library/" added to one-component names as Docker does, and named
 * "docker.io/REPO:TAG" in reports. */
bool rmg_registry_ref_parse_any(const char *s, const char *hub, struct rmg_registry_ref *r,
                                char *err, size_t errlen)
{
    const char *rest;
    if (!is_hub_name(s, &rest))
        return rmg_registry_ref_parse(s, r, err, errlen);
    if (!hub || !*hub) {
        rmg_fmt(err, errlen, "'%.200s' names a Docker Hub image, and rummage has no Docker Hub "
                             "endpoint built in: give --default-registry HOST (or "
                             "RUMMAGE_DEFAULT_REGISTRY), the registry to read such names from "
                             "(Docker Hub's API host or a mirror of it), or write "
                             "docker://HOST/REPO:TAG", s);
        return false;
    }
    size_t hl = strlen(hub);
    if (!rmg_registry_valid_host(hub, hl) || hl >= sizeof r->host) {
        rmg_fmt(err, errlen, "--default-registry '%.200s' is not a registry host[:port]", hub);
        return false;
    }
    size_t name_end = strcspn(rest, ":@");
    bool library = !memchr(rest, '/', name_end);
    struct rmg_buf b = {0};
    rmg_buf_printf(&b, "%s/%s%s", hub, library ? "library/" : "", rest);
    bool ok = b.data && rmg_registry_ref_parse(b.data, r, err, errlen);
    rmg_buf_free(&b);
    if (ok && r->digest[0])
        rmg_fmt(r->name, sizeof r->name, "%s/%s@%s", docker_hub_name, r->repo, r->digest);
    else if (ok)
        rmg_fmt(r->name, sizeof r->name, "%s/%s:%s", docker_hub_name, r->repo, r->tag);
    return ok;
}

bool rmg_registry_ref_parse(const char *s, struct rmg_registry_ref *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (!*s) {
        rmg_fmt(err, errlen, "no image named: docker://HOST[:PORT]/REPO[:TAG]");
        return false;
    }
    if (slash && memchr(s, '@', hl)) {
        rmg_fmt(err, errlen, "credentials do not go in the reference: use --creds or "
                             "--creds-file");
        return false;
    }
    if (hl == strlen(docker_hub_name) && strncmp(s, docker_hub_name, hl) == 0) {
        rmg_fmt(err, errlen, "%s names Docker Hub, whose API endpoint is not built in: "
                             "write the registry's API host (docker://HOST/REPO:TAG)",
                docker_hub_name);
        return false;
    }
    /* As Docker reads names: the first component is a host only before a '/' and with a
     * '.' or ':' in it, or "localhost"; "app:1.0" is a Docker Hub name. */
    if ((!slash || !slash[1]) && rmg_registry_valid_host(s, hl) &&
        (memchr(s, '.', hl) || memchr(s, ':', hl) || s[0] == '[' ||
         (hl == 9 && strncmp(s, "localhost", 9) == 0))) {
        rmg_fmt(err, errlen, "names no repository: write docker://HOST[:PORT]/REPO[:TAG], or "
                             "give --all-repos to scan every repository");
        return false;
    }
    bool host = slash && (memchr(s, '.', hl) || memchr(s, ':', hl) || s[0] == '[' ||
                          (hl == 9 && strncmp(s, "localhost", 9) == 0));
    if (!host) {
        rmg_fmt(err, errlen, "no registry host: write docker://HOST[:PORT]/REPO[:TAG] "
                             "(names without a host, meaning Docker Hub, are not supported)");
        return false;
    }
    if (!rmg_registry_valid_host(s, hl) || hl >= sizeof r->host) {
        rmg_fmt(err, errlen, "'%.*s' is not a registry host[:port]", (int)(hl > 200 ? 200 : hl),
                s);
        return false;
    }
    memcpy(r->host, s, hl);
    const char *rest = slash + 1;
    const char *at = strchr(rest, '@');
    const char *end = at ? at : rest + strlen(rest);
    if (at) {
        if (!rmg_registry_digest_md(at + 1) || strlen(at + 1) >= sizeof r->digest) {
            rmg_fmt(err, errlen, "'%.200s' is not a digest (sha256:HEX or sha512:HEX)", at + 1);
            return false;
        }
        rmg_fmt(r->digest, sizeof r->digest, "%s", at + 1);
    }
    const char *last_slash = memrchr(rest, '/', (size_t)(end - rest));
    const char *colon = memrchr(last_slash ? last_slash : rest, ':',
                                (size_t)(end - (last_slash ? last_slash : rest)));
    const char *repo_end = colon ? colon : end;
    size_t rl = (size_t)(repo_end - rest);
    if (rl >= sizeof r->repo || !rmg_registry_valid_repo(rest, rl)) {
        bool upper = false;
        for (const char *c = rest; c < repo_end; c++)
            upper = upper || (*c >= 'A' && *c <= 'Z');
        rmg_fmt(err, errlen, "'%.*s' is not a repository name%s", (int)(rl > 300 ? 300 : rl),
                rest, upper ? " (repository names are lower case)" : "");
        return false;
    }
    memcpy(r->repo, rest, rl);
    if (colon) {
        size_t tl = (size_t)(end - colon - 1);
        if (!rmg_registry_valid_tag(colon + 1, tl)) {
            rmg_fmt(err, errlen, "'%.*s' is not a tag", (int)(tl > 200 ? 200 : tl), colon + 1);
            return false;
        }
        memcpy(r->tag, colon + 1, tl);
    } else if (!at) {
        memcpy(r->tag, "latest", sizeof "latest");
    }
    if (r->digest[0])
        rmg_fmt(r->name, sizeof r->name, "%s/%s@%s", r->host, r->repo, r->digest);
    else
        rmg_fmt(r->name, sizeof r->name, "%s/%s:%s", r->host, r->repo, r->tag);
    return true;
}
