/* test_image.c: image scanning on archives built in memory with libarchive: the path set, the
 * layer walker (whiteouts, links, nested archives, limits, damage), docker-save and OCI
 * archives read in one pass from a memfd (layer attribution, present/deleted/overwritten,
 * config and history findings with history redacted, image and platform selection, bad
 * digests), and the same findings with one job or three. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "image/model.h"
#include "image/layer.h"
#include "image/pathset.h"
#include "rummage.h"
#include "source/target.h"
#include "source/image.h"
#include "support.h"
#include "common/util.h"

static const char rules_json[] =
    "{\"rules\": ["
    "{\"id\": \"test-secret\", \"title\": \"Test secret\", \"severity\": \"high\","
    " \"keywords\": [\"secret_\"], \"regex\": \"\\\\b(?<secret>SECRET_[A-Z0-9]{16})\\\\b\"}"
    "]}";

/* One secret per place, so a finding says where it came from. */
#define S_KEEP "SECRET_UJZDE8GXD6NCF10E"
#define S_DEL "SECRET_PF91DHODZDOC9IS0"
#define S_OVER "SECRET_J8HT9LGMXG9EDN58"
#define S_PARENT "SECRET_1U33XTPLPFT75V2S"
#define S_OPQ "SECRET_EH60KVJ50CE9UVW5"
#define S_PFILE "SECRET_3EFR4EDT2SYWB3WK"
#define S_L1 "SECRET_H5DNSIPZZ5FK2Z9R"
#define S_NEW "SECRET_I19R0WYOJFLJOOA5"
#define S_ENV "SECRET_LQSAJ08XUI6D39ZZ"
#define S_HIST "SECRET_ZZG4ZDMEN2KHVDGA"
#define S_TOOL "SECRET_J8GXBENYJQWX4HH5"
#define S_BIG "SECRET_344TFJGVQ4K7BN7X"
#define S_REAL "SECRET_J8B7TFQ7XKWO886V"
#define S_TGZ "SECRET_OMPZOM75WBBR4QMW"
#define S_JAR "SECRET_2WXFOGO4MVN4A4WF"
#define S_SQL "SECRET_HYM4L1VFZ3ZFKKIB"
#define S_DEEP "SECRET_J3J4WJ99IBAG7I1M"
#define S_FIRST "SECRET_NBQNS6PUQ80IDW37"
#define S_AFTER "SECRET_06I8J76B2LAJLJ4H"
#define S_BASE "SECRET_9DU7794G9DPMRCG6"
#define S_AMD "SECRET_29BE2U66MR26846P"
#define S_ARM "SECRET_7Q9M2I0HZ2UEP1EN"
#define S_TRUNC1 "SECRET_THJXJQI3OGZ5KOK1"
#define S_TRUNC2 "SECRET_6ZV0MWUFXBV932BY"
#define S_SHORT "SECRET_R4C2W8NQ0ZKD7TLE"

/* ---- building archives in memory ------------------------------------------------------ */

enum arc_kind { ARC_TAR, ARC_TGZ, ARC_ZIP, ARC_GZ /* one file, gzip-compressed */ };

static la_ssize_t buf_write(struct archive *a, void *ud, const void *data, size_t len)
{
    (void)a;
    return rmg_buf_append(ud, data, len) ? (la_ssize_t)len : -1;
}

/* A writer whose bytes land in *out (emptied first). */
static struct archive *arc_open(struct rmg_buf *out, enum arc_kind kind)
{
    memset(out, 0, sizeof *out);
    struct archive *a = archive_write_new();
    assert_non_null(a);
    switch (kind) {
    case ARC_TAR: archive_write_set_format_pax_restricted(a); break;
    case ARC_TGZ:
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
        break;
    case ARC_ZIP: archive_write_set_format_zip(a); break;
    case ARC_GZ:
        archive_write_set_format_raw(a);
        archive_write_add_filter_gzip(a);
        break;
    }
    archive_write_set_bytes_in_last_block(a, 1);
    assert_int_equal(archive_write_open(a, out, NULL, buf_write, NULL), ARCHIVE_OK);
    return a;
}

static void arc_close(struct archive *a)
{
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static void add_entry(struct archive *a, const char *path, mode_t type, const void *data,
                      size_t len, const char *symlink, const char *hardlink)
{
    struct archive_entry *e = archive_entry_new();
    assert_non_null(e);
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (symlink)
        archive_entry_set_symlink(e, symlink);
    if (hardlink)
        archive_entry_set_hardlink(e, hardlink);
    archive_entry_set_size(e, type == AE_IFREG && !hardlink ? (la_int64_t)len : 0);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (type == AE_IFREG && !hardlink && len)
        assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
    archive_entry_free(e);
}

static void add_bytes(struct archive *a, const char *path, const void *data, size_t len)
{
    add_entry(a, path, AE_IFREG, data, len, NULL, NULL);
}

static void add_file(struct archive *a, const char *path, const char *text)
{
    add_bytes(a, path, text, strlen(text));
}

static void add_dir(struct archive *a, const char *path)
{
    add_entry(a, path, AE_IFDIR, NULL, 0, NULL, NULL);
}

/* `.wh.NAME` next to the deleted path. */
static void add_whiteout(struct archive *a, const char *path)
{
    char name[512];
    const char *slash = strrchr(path, '/');
    if (slash)
        rmg_fmt(name, sizeof name, "%.*s/.wh.%s", (int)(slash - path), path, slash + 1);
    else
        rmg_fmt(name, sizeof name, ".wh.%s", path);
    add_file(a, name, "");
}

static void add_opaque(struct archive *a, const char *dir)
{
    char name[512];
    rmg_fmt(name, sizeof name, "%s/.wh..wh..opq", dir);
    add_file(a, name, "");
}

/* One entry of a layer: 'f' file (text), 'b' file (bytes), 'd' directory, 'l' symlink and
 * 'h' hardlink (text = target), 'w' whiteout of path, 'o' opaque directory path. */
struct ent {
    char kind;
    const char *path;
    const char *text;
    const struct rmg_buf *bytes;
};

/* An archive of the entries of v (up to one with kind 0). Caller frees with rmg_buf_free. */
static struct rmg_buf build_layer(enum arc_kind kind, const struct ent *v)
{
    struct rmg_buf out;
    struct archive *a = arc_open(&out, kind);
    for (; v->kind; v++) {
        switch (v->kind) {
        case 'f': add_file(a, v->path, v->text); break;
        case 'b': add_bytes(a, v->path, v->bytes->data, v->bytes->len); break;
        case 'd': add_dir(a, v->path); break;
        case 'l': add_entry(a, v->path, AE_IFLNK, NULL, 0, v->text, NULL); break;
        case 'h': add_entry(a, v->path, AE_IFREG, NULL, 0, NULL, v->text); break;
        case 'w': add_whiteout(a, v->path); break;
        case 'o': add_opaque(a, v->path); break;
        default: fail_msg("bad entry kind %c", v->kind);
        }
    }
    arc_close(a);
    return out;
}

/* data gzip-compressed (a .gz file, or a tar layer made into a .tar.gz blob). */
static struct rmg_buf gzip_bytes(const void *data, size_t len)
{
    struct rmg_buf out;
    struct archive *a = arc_open(&out, ARC_GZ);
    add_bytes(a, "data", data, len);
    arc_close(a);
    return out;
}

static void digest_of(const void *data, size_t len, char out[72])
{
    char hex[65];
    rmg_sha256_hex(data, len, hex);
    rmg_fmt(out, 72, "sha256:%s", hex);
}

/* ---- looking at results ---------------------------------------------------------------- */

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

/* Every finding on a line (target left out): what two scans are compared by. */
static char *describe(const struct rmg_results *r)
{
    struct rmg_buf b = {0};
    rmg_buf_puts(&b, "");
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_finding *f = &r->findings[i];
        rmg_buf_printf(&b, "%s|%s|%d|%s|%llu|%s|%d|%s|%s|%s|%s|%s\n", or_dash(f->loc.image),
                       or_dash(f->loc.platform), f->loc.layer_index, f->loc.path,
                       (unsigned long long)f->loc.offset, rmg_state_name(f->state),
                       f->changed_layer, or_dash(f->changed_by), or_dash(f->loc.created_by),
                       or_dash(f->loc.layer_digest), or_dash(f->loc.layer_diff_id), f->secret);
    }
    return b.data;
}

static void dump(const struct rmg_results *r)
{
    char *d = describe(r);
    fprintf(stderr, "findings:\n%s", d);
    free(d);
    for (size_t i = 0; i < r->n_errors; i++)
        fprintf(stderr, "error [%s] %s: %s\n", rmg_status_name(r->errors[i].status),
                or_dash(r->errors[i].path), r->errors[i].message);
}

static size_t count_secret(const struct rmg_results *r, const char *secret)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_findings; i++)
        n += strcmp(r->findings[i].secret, secret) == 0;
    return n;
}

/* The one finding of `secret` in `image` (any image when NULL). */
static const struct rmg_finding *the_finding(const struct rmg_results *r, const char *image,
                                             const char *secret)
{
    const struct rmg_finding *hit = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_finding *f = &r->findings[i];
        if (strcmp(f->secret, secret) == 0 &&
            (!image || (f->loc.image && strcmp(f->loc.image, image) == 0))) {
            hit = f;
            n++;
        }
    }
    if (n != 1) {
        dump(r);
        fail_msg("%zu findings of %s in %s, want 1", n, secret, or_dash(image));
    }
    return hit;
}

/* The first error whose message holds `needle`, or NULL. */
static const struct rmg_error *find_error(const struct rmg_results *r, const char *needle)
{
    for (size_t i = 0; i < r->n_errors; i++)
        if (strstr(r->errors[i].message, needle))
            return &r->errors[i];
    return NULL;
}

static const struct rmg_error *the_error(const struct rmg_results *r, const char *needle)
{
    const struct rmg_error *e = find_error(r, needle);
    if (!e) {
        dump(r);
        fail_msg("no error saying '%s'", needle);
    }
    return e;
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want) {
        if (got)
            fail_msg("want NULL, got '%s'", got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void assert_no_errors(const struct rmg_results *r)
{
    if (r->n_errors) {
        dump(r);
        fail_msg("%zu errors, want none", r->n_errors);
    }
}

/* ---- fixtures --------------------------------------------------------------------------- */

#define CB_BASE "/bin/sh -c #(nop) ADD file:4a1bc0 in / "
#define CB_L1 "|1 TOKEN=" S_HIST " /bin/sh -c echo v2 > /etc/over.conf"
#define CB_L1_AFTER " /bin/sh -c echo v2 > /etc/over.conf"
#define CB_L2 "/bin/sh -c rm -rf /etc/deleted.conf /opt/gone"
#define CB_TOOL "/bin/sh -c #(nop) COPY file:77aa31 in /usr/bin/ "

enum docker_variant { DOCKER_PLAIN, DOCKER_MISSING_LAYER, DOCKER_SYMLINKED };

/* A docker save of two images sharing layer 0:
 *   docker.io/library/app:1.0 (also app:latest) = layers 0, 1, 2
 *   registry.example.com/tools:2               = layers 0, 3 */
struct docker_image {
    struct rmg_buf tar;
    char diff_id[4][72];
    char id[4][65];
};

#define BIG_SIZE ((4u << 20) + 300000) /* past the pool's inline limit: streamed */

static void build_docker(struct docker_image *d, enum docker_variant variant)
{
    struct rmg_buf big = {0};
    while (big.len < BIG_SIZE)
        rmg_buf_puts(&big, "2024-01-01 12:00:00 INFO request served in 3ms\n");
    rmg_buf_puts(&big, "token=" S_BIG "\n");
    const struct ent yml[] = {{'f', "BOOT-INF/a.yml", "key: " S_JAR "\n", NULL}, {0}};
    struct rmg_buf jar = build_layer(ARC_ZIP, yml);

    const struct ent l0[] = {
        {'d', "etc", NULL, NULL},
        {'f', "etc/deleted.conf", "password = " S_DEL "\n", NULL},
        {'f', "etc/over.conf", "v1 token " S_OVER "\n", NULL},
        {'d', "opt/gone", NULL, NULL},
        {'f', "opt/gone/key.txt", S_PARENT, NULL},
        {'d', "var/opq", NULL, NULL},
        {'f', "var/opq/old.txt", "old " S_OPQ, NULL},
        {'d', "data/cfg", NULL, NULL},
        {'f', "data/cfg/secret.txt", S_PFILE "\n", NULL},
        {'b', "data/big.log", NULL, &big},
        {'b', "app/x.jar", NULL, &jar},
        {'d', "./srv", NULL, NULL},
        {'f', "./srv/keep.txt", "keep " S_KEEP "\n", NULL},
        {0},
    };
    const struct ent l1[] = {
        {'d', "etc", NULL, NULL}, /* a directory entry above a file deletes nothing */
        {'f', "etc/over.conf", "v2\n", NULL},
        {'f', "etc/l1.conf", "k=" S_L1 "\n", NULL},
        {0},
    };
    const struct ent l2[] = {
        {'w', "etc/deleted.conf", NULL, NULL},
        {'w', "opt/gone", NULL, NULL},
        {'d', "var/opq", NULL, NULL},
        {'o', "var/opq", NULL, NULL},
        {'f', "var/opq/new.txt", "new " S_NEW "\n", NULL},
        {'f', "data/cfg", "a file where a directory was\n", NULL},
        {'w', "app/x.jar", NULL, NULL},
        {0},
    };
    const struct ent l3[] = {
        {'d', "usr/bin", NULL, NULL},
        {'f', "usr/bin/tool", "#!/bin/sh\nexport T=" S_TOOL "\n", NULL},
        {'w', "srv/keep.txt", NULL, NULL},
        {0},
    };
    const struct ent *specs[4] = {l0, l1, l2, l3};
    struct rmg_buf layers[4];
    for (int i = 0; i < 4; i++) {
        layers[i] = build_layer(ARC_TAR, specs[i]);
        digest_of(layers[i].data, layers[i].len, d->diff_id[i]);
        char seed[32];
        rmg_fmt(seed, sizeof seed, "layer-id-%d", i);
        rmg_sha256_hex(seed, strlen(seed), d->id[i]);
    }
    rmg_buf_free(&big);
    rmg_buf_free(&jar);

    struct rmg_buf cfg_a = {0}, cfg_b = {0}, manifest = {0}, repos = {0};
    rmg_buf_printf(&cfg_a,
                   "{\"architecture\":\"amd64\",\"os\":\"linux\","
                   "\"config\":{\"Env\":[\"PATH=/usr/local/bin:/usr/bin\",\"API_KEY=%s\"],"
                   "\"Cmd\":[\"/app/run\"]},"
                   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\",\"%s\"]},"
                   "\"history\":["
                   "{\"created_by\":\"%s\"},"
                   "{\"created_by\":\"/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin\","
                   "\"empty_layer\":true},"
                   "{\"created_by\":\"%s\"},"
                   "{\"created_by\":\"/bin/sh -c #(nop)  LABEL team=core\",\"empty_layer\":true},"
                   "{\"created_by\":\"%s\"}]}",
                   S_ENV, d->diff_id[0], d->diff_id[1], d->diff_id[2], CB_BASE, CB_L1, CB_L2);
    rmg_buf_printf(&cfg_b,
                   "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]},"
                   "\"history\":[{\"created_by\":\"%s\"},{\"created_by\":\"%s\"}]}",
                   d->diff_id[0], d->diff_id[3], CB_BASE, CB_TOOL);
    char cfg_a_name[80], cfg_b_name[80], hex[65];
    rmg_sha256_hex(cfg_a.data, cfg_a.len, hex);
    rmg_fmt(cfg_a_name, sizeof cfg_a_name, "%s.json", hex);
    rmg_sha256_hex(cfg_b.data, cfg_b.len, hex);
    rmg_fmt(cfg_b_name, sizeof cfg_b_name, "%s.json", hex);
    rmg_buf_printf(&manifest,
                   "[{\"Config\":\"%s\",\"RepoTags\":[\"docker.io/library/app:1.0\","
                   "\"app:latest\"],\"Layers\":[\"%s/layer.tar\",\"%s/layer.tar\","
                   "\"%s/layer.tar\"]},"
                   "{\"Config\":\"%s\",\"RepoTags\":[\"registry.example.com/tools:2\"],"
                   "\"Layers\":[\"%s/layer.tar\",\"%s/layer.tar\"]}]",
                   cfg_a_name, d->id[0], d->id[1], d->id[2], cfg_b_name, d->id[0], d->id[3]);
    rmg_buf_printf(&repos, "{\"app\":{\"1.0\":\"%s\"}}", d->id[2]);

    struct archive *a = arc_open(&d->tar, ARC_TAR);
    char name[160], target[160];
    for (int i = 0; i < 4; i++) {
        rmg_fmt(name, sizeof name, "%s", d->id[i]);
        add_dir(a, name);
        rmg_fmt(name, sizeof name, "%s/VERSION", d->id[i]);
        add_file(a, name, "1.0");
        rmg_fmt(name, sizeof name, "%s/json", d->id[i]);
        add_file(a, name, "{\"id\":\"x\"}");
        rmg_fmt(name, sizeof name, "%s/layer.tar", d->id[i]);
        if (variant == DOCKER_SYMLINKED) {
            /* skopeo style: the link comes first, its target later in the stream */
            rmg_fmt(target, sizeof target, "../%s.tar", d->diff_id[i] + 7);
            add_entry(a, name, AE_IFLNK, NULL, 0, target, NULL);
        } else if (!(variant == DOCKER_MISSING_LAYER && i == 1)) {
            add_bytes(a, name, layers[i].data, layers[i].len);
        }
    }
    if (variant == DOCKER_SYMLINKED)
        for (int i = 0; i < 4; i++) {
            rmg_fmt(name, sizeof name, "%s.tar", d->diff_id[i] + 7);
            add_bytes(a, name, layers[i].data, layers[i].len);
        }
    add_bytes(a, cfg_a_name, cfg_a.data, cfg_a.len);
    add_bytes(a, cfg_b_name, cfg_b.data, cfg_b.len);
    add_bytes(a, "manifest.json", manifest.data, manifest.len); /* last, as docker save does */
    add_bytes(a, "repositories", repos.data, repos.len);
    arc_close(a);
    for (int i = 0; i < 4; i++)
        rmg_buf_free(&layers[i]);
    rmg_buf_free(&cfg_a);
    rmg_buf_free(&cfg_b);
    rmg_buf_free(&manifest);
    rmg_buf_free(&repos);
}

enum oci_variant { OCI_PLAIN, OCI_BAD_DIGESTS, OCI_ARM_NO_VARIANT };

/* An OCI archive: index.json -> an image index (linux/amd64, linux/arm64/v8, an attestation)
 * -> manifests -> configs and gzip layers; a base layer shared by both platforms. */
struct oci_image {
    struct rmg_buf tar;
    char base[72], amd[72], arm[72];          /* layer digests */
    char base_diff[72], amd_diff[72], arm_diff[72];
    char amd_manifest[72];
};

static void add_blob(struct archive *a, const struct rmg_buf *b, char digest[72])
{
    char name[128];
    digest_of(b->data, b->len, digest);
    rmg_fmt(name, sizeof name, "blobs/sha256/%s", digest + 7);
    add_bytes(a, name, b->data, b->len);
}

static void oci_layer(struct archive *a, const struct ent *spec, char digest[72], char diff[72])
{
    struct rmg_buf tar = build_layer(ARC_TAR, spec);
    struct rmg_buf gz = gzip_bytes(tar.data, tar.len);
    digest_of(tar.data, tar.len, diff);
    add_blob(a, &gz, digest);
    rmg_buf_free(&tar);
    rmg_buf_free(&gz);
}

/* A config and the manifest naming it and the two layers; returns the manifest digest. */
static void oci_manifest(struct archive *a, const char *arch, const char *variant,
                         const char *base, const char *base_diff, const char *layer,
                         const char *diff, const char *created_by, char digest[72])
{
    struct rmg_buf cfg = {0}, man = {0};
    char cfg_digest[72];
    rmg_buf_printf(&cfg,
                   "{\"architecture\":\"%s\",%s%s%s\"os\":\"linux\",\"config\":{},"
                   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]},"
                   "\"history\":[{\"created_by\":\"ADD base\"},{\"created_by\":\"%s\"}]}",
                   arch, variant ? "\"variant\":\"" : "", variant ? variant : "",
                   variant ? "\"," : "", base_diff, diff, created_by);
    add_blob(a, &cfg, cfg_digest);
    rmg_buf_printf(&man,
                   "{\"schemaVersion\":2,"
                   "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                   "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                   "\"digest\":\"%s\",\"size\":%zu},\"layers\":["
                   "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                   "\"digest\":\"%s\",\"size\":1},"
                   "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                   "\"digest\":\"%s\",\"size\":1}]}",
                   cfg_digest, cfg.len, base, layer);
    add_blob(a, &man, digest);
    rmg_buf_free(&cfg);
    rmg_buf_free(&man);
}

static void build_oci(struct oci_image *o, enum oci_variant variant)
{
    struct archive *a = arc_open(&o->tar, ARC_TAR);
    add_file(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    add_dir(a, "blobs");
    add_dir(a, "blobs/sha256");
    const struct ent base[] = {{'d', "etc", NULL, NULL},
                               {'f', "etc/base.conf", "k=" S_BASE "\n", NULL}, {0}};
    const struct ent amd[] = {{'f', "opt/amd.txt", S_AMD "\n", NULL}, {0}};
    const struct ent arm[] = {{'f', "opt/arm.txt", S_ARM "\n", NULL}, {0}};
    oci_layer(a, base, o->base, o->base_diff);
    oci_layer(a, amd, o->amd, o->amd_diff);
    oci_layer(a, arm, o->arm, o->arm_diff);

    char arm_manifest[72], att_manifest[72], att_blob[72];
    bool bad = variant == OCI_BAD_DIGESTS;
    oci_manifest(a, "amd64", NULL, o->base, o->base_diff,
                 bad ? "sha256:../../etc/passwd" : o->amd, o->amd_diff, "COPY amd",
                 o->amd_manifest);
    const char *arm_variant = variant == OCI_ARM_NO_VARIANT ? NULL : "v8";
    oci_manifest(a, "arm64", arm_variant, o->base, o->base_diff, o->arm, o->arm_diff,
                 "COPY arm", arm_manifest);
    /* An attestation: its "layer" is an in-toto statement, not a tar. */
    struct rmg_buf att = {0};
    rmg_buf_puts(&att, "{\"_type\":\"https://in-toto.io/Statement/v0.1\"}");
    add_blob(a, &att, att_blob);
    rmg_buf_free(&att);
    struct rmg_buf att_man = {0};
    rmg_buf_printf(&att_man, "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},"
                   "\"layers\":[{\"digest\":\"%s\"}]}", att_blob, att_blob);
    add_blob(a, &att_man, att_manifest);
    rmg_buf_free(&att_man);

    struct rmg_buf index = {0}, top = {0};
    char index_digest[72];
    rmg_buf_printf(&index,
                   "{\"schemaVersion\":2,"
                   "\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                   "{\"digest\":\"%s\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
                   "{\"digest\":\"%s\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\""
                   "%s%s%s}},"
                   "{\"digest\":\"%s\","
                   "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"},"
                   "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}}"
                   "%s]}",
                   o->amd_manifest, arm_manifest, arm_variant ? ",\"variant\":\"" : "",
                   arm_variant ? arm_variant : "", arm_variant ? "\"" : "", att_manifest,
                   bad ? ",{\"digest\":\"sha256:../../etc/passwd\",\"platform\":"
                         "{\"os\":\"linux\",\"architecture\":\"riscv64\"}}"
                       : "");
    add_blob(a, &index, index_digest);
    rmg_buf_printf(&top,
                   "{\"schemaVersion\":2,\"manifests\":[{"
                   "\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                   "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
                   "\"io.containerd.image.name\":\"docker.io/library/multi:3\","
                   "\"org.opencontainers.image.ref.name\":\"3\"}}]}",
                   index_digest, index.len);
    add_bytes(a, "index.json", top.data, top.len);
    rmg_buf_free(&index);
    rmg_buf_free(&top);
    arc_close(a);
}

struct fixture {
    struct rmg_rules *rules;
    struct docker_image docker, docker_missing, docker_linked;
    struct oci_image oci, oci_bad, oci_arm_plain;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->rules = support_rules(rules_json, RMG_ENGINE_AUTO)))
        return -1;
    build_docker(&fx->docker, DOCKER_PLAIN);
    build_docker(&fx->docker_missing, DOCKER_MISSING_LAYER);
    build_docker(&fx->docker_linked, DOCKER_SYMLINKED);
    build_oci(&fx->oci, OCI_PLAIN);
    build_oci(&fx->oci_bad, OCI_BAD_DIGESTS);
    build_oci(&fx->oci_arm_plain, OCI_ARM_NO_VARIANT);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    rmg_buf_free(&fx->docker.tar);
    rmg_buf_free(&fx->docker_missing.tar);
    rmg_buf_free(&fx->docker_linked.tar);
    rmg_buf_free(&fx->oci.tar);
    rmg_buf_free(&fx->oci_bad.tar);
    rmg_buf_free(&fx->oci_arm_plain.tar);
    rmg_rules_free(fx->rules);
    free(fx);
    return 0;
}

/* ---- running the code under test ------------------------------------------------------ */

/* Walks `layer` as blob 7 named "layer.tar", as an image source would; limits NULL = default. */
static enum rmg_status walk_layer(const struct fixture *fx, const struct rmg_limits *limits,
                                  const struct rmg_buf *layer, struct rmg_pathset *paths,
                                  struct rmg_results *res)
{
    struct rmg_limits def;
    rmg_limits_default(&def);
    struct rmg_scan_opts opts = {0};
    rmg_results_init(res);
    struct rmg_pool *pool = rmg_pool_new(fx->rules, &opts, 2);
    struct rmg_scanner *sc = rmg_scanner_new(fx->rules, &opts);
    struct archive *a = rmg_layer_reader_new(false);
    assert_non_null(pool);
    assert_non_null(sc);
    assert_non_null(a);
    assert_int_equal(archive_read_open_memory(a, layer->data, layer->len), ARCHIVE_OK);
    struct rmg_walker w = {limits ? limits : &def, pool, sc, res, "layer-target"};
    enum rmg_status st = rmg_layer_walk(&w, a, "layer.tar", 7, layer->len, paths, NULL);
    archive_read_free(a);
    assert_int_equal(rmg_pool_finish(pool, res), RMG_OK);
    rmg_scanner_free(sc);
    rmg_results_sort(res);
    return st;
}

struct sel {
    const char *ref, *platform;
    bool all_platforms;
    int jobs;
};

/* Scans an image archive from a memfd, the scan context put together as cli/commands.c does. */
static enum rmg_status scan_image(const struct fixture *fx, const struct rmg_buf *img,
                                  struct sel s, struct rmg_results *res)
{
    struct rmg_scan_ctx ctx = {.rules = fx->rules, .jobs = s.jobs ? s.jobs : 2,
                               .platform = s.platform, .all_platforms = s.all_platforms};
    rmg_limits_default(&ctx.limits);
    int fd = memfd_create("image", MFD_CLOEXEC);
    assert_true(fd >= 0);
    for (size_t off = 0; off < img->len;) {
        ssize_t n = write(fd, img->data + off, img->len - off);
        assert_true(n > 0);
        off += (size_t)n;
    }
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    rmg_results_init(res);
    enum rmg_status st = rmg_source_image_stream(&ctx, "img.tar", fd, NULL, 0, s.ref, NULL, res);
    close(fd);
    rmg_results_sort(res);
    for (size_t i = 0; i < res->n_findings; i++)
        assert_string_equal(res->findings[i].loc.target, "img.tar");
    return st;
}

/* ---- pathset ---------------------------------------------------------------------------- */

static void pathset_add_get_or(void **state)
{
    (void)state;
    struct rmg_pathset *s = rmg_pathset_new();
    assert_non_null(s);
    assert_int_equal(rmg_pathset_get(s, "/etc", 4), 0);
    assert_true(rmg_pathset_add(s, "/etc", 4, RMG_PATH_DIR));
    assert_true(rmg_pathset_add(s, "/etc/passwd", 11, RMG_PATH_FILE));
    assert_int_equal(rmg_pathset_get(s, "/etc", 4), RMG_PATH_DIR);
    assert_true(rmg_pathset_add(s, "/etc", 4, RMG_PATH_OPAQUE));
    assert_int_equal(rmg_pathset_get(s, "/etc", 4), RMG_PATH_DIR | RMG_PATH_OPAQUE);
    assert_int_equal(rmg_pathset_count(s), 2);
    /* len selects a prefix: "/etc/passwd" cut at 4 is "/etc" */
    assert_int_equal(rmg_pathset_get(s, "/etc/passwd", 4), RMG_PATH_DIR | RMG_PATH_OPAQUE);
    assert_int_equal(rmg_pathset_get(s, "/etc/passwd", 11), RMG_PATH_FILE);
    assert_int_equal(rmg_pathset_get(s, "/etc/passw", 10), 0);
    assert_int_equal(rmg_pathset_get(s, "/et", 3), 0);
    /* the path is copied */
    char tmp[] = "/tmp/x";
    assert_true(rmg_pathset_add(s, tmp, strlen(tmp), RMG_PATH_WHITEOUT));
    tmp[1] = 'X';
    assert_int_equal(rmg_pathset_get(s, "/tmp/x", 6), RMG_PATH_WHITEOUT);
    rmg_pathset_free(s);
    rmg_pathset_free(NULL);
}

static void pathset_grows_past_thousands(void **state)
{
    (void)state;
    struct rmg_pathset *s = rmg_pathset_new();
    char p[64];
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        int n = snprintf(p, sizeof p, "/usr/share/d%03d/f%05d", i % 97, i);
        assert_true(rmg_pathset_add(s, p, (size_t)n, i % 3 == 0 ? RMG_PATH_DIR : RMG_PATH_FILE));
    }
    /* a path longer than an arena block */
    size_t long_len = 100000;
    char *long_path = malloc(long_len);
    memset(long_path, 'a', long_len);
    long_path[0] = '/';
    assert_true(rmg_pathset_add(s, long_path, long_len, RMG_PATH_FILE));
    for (int i = 0; i < N; i += 3) {
        int n = snprintf(p, sizeof p, "/usr/share/d%03d/f%05d", i % 97, i);
        assert_true(rmg_pathset_add(s, p, (size_t)n, RMG_PATH_WHITEOUT));
    }
    assert_int_equal(rmg_pathset_count(s), N + 1);
    for (int i = 0; i < N; i++) {
        int n = snprintf(p, sizeof p, "/usr/share/d%03d/f%05d", i % 97, i);
        unsigned want = i % 3 == 0 ? RMG_PATH_DIR | RMG_PATH_WHITEOUT : RMG_PATH_FILE;
        if (rmg_pathset_get(s, p, (size_t)n) != want)
            fail_msg("%s: flags %u, want %u", p, rmg_pathset_get(s, p, (size_t)n), want);
    }
    assert_int_equal(rmg_pathset_get(s, long_path, long_len), RMG_PATH_FILE);
    assert_int_equal(rmg_pathset_get(s, long_path, long_len - 1), 0);
    assert_int_equal(rmg_pathset_get(s, "/usr/share/d000/f99999", 22), 0);
    assert_int_equal(rmg_pathset_get(s, "/usr/share/d000", 15), 0);
    free(long_path);
    rmg_pathset_free(s);
}

/* ---- clean paths ------------------------------------------------------------------------ */

static void clean_path_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"./a//b/", "/a/b"}, {"/", "/"},           {"", "/"},       {".", "/"},
        {"a/./b", "/a/b"},   {"..", "/.."},        {"a/../b", "/a/../b"},
        {"//x", "/x"},       {"./.wh..wh..opq", "/.wh..wh..opq"}, {"...", "/..."},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_true(rmg_layer_clean_path(cases[i].in, out, sizeof out));
        assert_string_equal(out, cases[i].out);
    }
    /* "/abc" needs 5 bytes */
    assert_true(rmg_layer_clean_path("abc", out, 5));
    assert_string_equal(out, "/abc");
    assert_false(rmg_layer_clean_path("abc", out, 4));
    assert_false(rmg_layer_clean_path("a/b", out, 4));
    assert_true(rmg_layer_clean_path("./", out, 2));
    assert_string_equal(out, "/");
    assert_false(rmg_layer_clean_path("./", out, 1));
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(rmg_layer_clean_path(big, out, sizeof out));
}

/* ---- the layer walker ------------------------------------------------------------------- */

/* The layer most walker tests read: links, whiteouts, and archives inside archives. */
static struct rmg_buf walker_layer(enum arc_kind kind)
{
    const struct ent yml[] = {{'d', "BOOT-INF/", NULL, NULL},
                              {'f', "BOOT-INF/a.yml", "spring:\n  key: " S_JAR "\n", NULL},
                              {0}};
    const struct ent tgz[] = {{'f', "inner/conf.txt", "conf " S_TGZ "\n", NULL}, {0}};
    const struct ent deep[] = {{'f', "cfg/deep.yml", "deep: " S_DEEP "\n", NULL}, {0}};
    struct rmg_buf jar = build_layer(ARC_ZIP, yml);
    struct rmg_buf lib = build_layer(ARC_TGZ, tgz);
    struct rmg_buf inner_jar = build_layer(ARC_ZIP, deep);
    const struct ent bundle_spec[] = {{'b', "lib/inner.jar", NULL, &inner_jar}, {0}};
    struct rmg_buf bundle = build_layer(ARC_TGZ, bundle_spec);
    const char sql[] = "create table t (k text);\ninsert into t values ('" S_SQL "');\n";
    struct rmg_buf db = gzip_bytes(sql, strlen(sql));
    const struct ent layer[] = {
        {'d', "etc", NULL, NULL},
        {'f', "./etc/real.conf", "token: " S_REAL "\n", NULL},
        {'h', "etc/hard.conf", "etc/real.conf", NULL},
        {'l', "etc/sym.conf", "real.conf", NULL},
        {'w', "etc/gone.conf", NULL, NULL},
        {'w', "rootgone", NULL, NULL},
        {'d', "var/opq", NULL, NULL},
        {'o', "var/opq", NULL, NULL},
        {'d', ".wh..wh.plnk", NULL, NULL}, /* aufs bookkeeping: neither path nor whiteout */
        {'d', "app", NULL, NULL},
        {'b', "app/x.jar", NULL, &jar},
        {'b', "app/lib.tar.gz", NULL, &lib},
        {'b', "app/bundle.tgz", NULL, &bundle},
        {'b', "backup/db.sql.gz", NULL, &db},
        {'f', "a//b/./c.txt", "nothing here\n", NULL},
        {0},
    };
    struct rmg_buf out = build_layer(kind, layer);
    rmg_buf_free(&jar);
    rmg_buf_free(&lib);
    rmg_buf_free(&inner_jar);
    rmg_buf_free(&bundle);
    rmg_buf_free(&db);
    return out;
}

static void check_walker_findings(const struct rmg_results *res)
{
    static const struct {
        const char *secret, *path;
    } want[] = {
        {S_REAL, "/etc/real.conf"},
        {S_JAR, "/app/x.jar!/BOOT-INF/a.yml"},
        {S_TGZ, "/app/lib.tar.gz!/inner/conf.txt"},
        {S_DEEP, "/app/bundle.tgz!/lib/inner.jar!/cfg/deep.yml"},
        {S_SQL, "/backup/db.sql.gz!/db.sql"},
    };
    if (res->n_findings != sizeof want / sizeof *want)
        dump(res);
    assert_int_equal(res->n_findings, sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const struct rmg_finding *f = the_finding(res, NULL, want[i].secret);
        assert_string_equal(f->loc.path, want[i].path);
        assert_string_equal(f->loc.target, "layer-target");
        assert_int_equal(f->loc.layer_index, 7); /* the blob id, attributed later */
        assert_int_equal(f->state, RMG_STATE_PRESENT);
    }
}

static void check_walker_paths(const struct rmg_pathset *ps)
{
    static const struct {
        const char *path;
        unsigned flags;
    } want[] = {
        {"/etc", RMG_PATH_DIR},
        {"/etc/real.conf", RMG_PATH_FILE},
        {"/etc/hard.conf", RMG_PATH_FILE},
        {"/etc/sym.conf", RMG_PATH_FILE},
        {"/etc/gone.conf", RMG_PATH_WHITEOUT},
        {"/rootgone", RMG_PATH_WHITEOUT},
        {"/var/opq", RMG_PATH_DIR | RMG_PATH_OPAQUE},
        {"/app", RMG_PATH_DIR},
        {"/app/x.jar", RMG_PATH_FILE},
        {"/app/lib.tar.gz", RMG_PATH_FILE},
        {"/app/bundle.tgz", RMG_PATH_FILE},
        {"/backup/db.sql.gz", RMG_PATH_FILE},
        {"/a/b/c.txt", RMG_PATH_FILE},
        /* not recorded: whiteout files themselves, aufs dirs, entries inside archives */
        {"/etc/.wh.gone.conf", 0},
        {"/.wh.rootgone", 0},
        {"/var/opq/.wh..wh..opq", 0},
        {"/.wh..wh.plnk", 0},
        {"/app/x.jar!/BOOT-INF/a.yml", 0},
        {"/BOOT-INF/a.yml", 0},
        {"/inner/conf.txt", 0},
        {"/backup", 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        unsigned got = rmg_pathset_get(ps, want[i].path, strlen(want[i].path));
        if (got != want[i].flags)
            fail_msg("%s: flags %u, want %u", want[i].path, got, want[i].flags);
    }
    assert_int_equal(rmg_pathset_count(ps), 13);
}

static void walk_plain_and_gzip_layers(void **state)
{
    struct fixture *fx = *state;
    enum arc_kind kinds[] = {ARC_TAR, ARC_TGZ};
    for (size_t k = 0; k < 2; k++) {
        struct rmg_buf layer = walker_layer(kinds[k]);
        if (kinds[k] == ARC_TGZ)
            assert_true(layer.len > 2 && (unsigned char)layer.data[0] == 0x1f);
        struct rmg_pathset *ps = rmg_pathset_new();
        struct rmg_results res;
        enum rmg_status st = walk_layer(fx, NULL, &layer, ps, &res);
        assert_no_errors(&res);
        assert_int_equal(st, RMG_OK);
        check_walker_findings(&res);
        check_walker_paths(ps);
        /* the hardlink and the symlink point at real.conf: found once, under its own name;
         * neither link is read as a file (6 files: real.conf, c.txt and one in each archive) */
        assert_int_equal(count_secret(&res, S_REAL), 1);
        assert_int_equal(res.stats.files, 6);
        rmg_results_clear(&res);
        rmg_pathset_free(ps);
        rmg_buf_free(&layer);
    }
}

static void walk_without_pathset_scans_the_same(void **state)
{
    struct fixture *fx = *state;
    struct rmg_buf layer = walker_layer(ARC_TGZ);
    struct rmg_results res;
    assert_int_equal(walk_layer(fx, NULL, &layer, NULL, &res), RMG_OK);
    check_walker_findings(&res);
    rmg_results_clear(&res);
    rmg_buf_free(&layer);
}

static void walk_depth_limits(void **state)
{
    struct fixture *fx = *state;
    struct rmg_buf layer = walker_layer(ARC_TAR);
    struct rmg_limits lim;
    rmg_limits_default(&lim);
    struct rmg_results res;

    /* depth 1: archives in the layer are opened, the jar inside the .tgz is not */
    lim.max_depth = 1;
    assert_int_equal(walk_layer(fx, &lim, &layer, NULL, &res), RMG_WARN);
    assert_int_equal(count_secret(&res, S_JAR), 1);
    assert_int_equal(count_secret(&res, S_TGZ), 1);
    assert_int_equal(count_secret(&res, S_SQL), 1);
    assert_int_equal(count_secret(&res, S_DEEP), 0);
    const struct rmg_error *e = the_error(&res, "--max-archive-depth 1");
    assert_int_equal(e->status, RMG_WARN);
    assert_string_equal(e->path, "layer.tar:/app/bundle.tgz!/lib/inner.jar");
    assert_string_equal(e->target, "layer-target");
    assert_int_equal(res.n_errors, 1);
    rmg_results_clear(&res);

    /* depth 0: no archive is opened; their compressed bytes hide the secrets. No warning:
     * the user asked for none to be opened (layer.c only warns when max_depth > 0). */
    lim.max_depth = 0;
    assert_int_equal(walk_layer(fx, &lim, &layer, NULL, &res), RMG_OK);
    assert_int_equal(res.n_errors, 0);
    assert_int_equal(res.n_findings, 1);
    assert_int_equal(count_secret(&res, S_REAL), 1);
    for (size_t i = 0; i < res.n_findings; i++)
        assert_null(strchr(res.findings[i].loc.path, '!'));
    rmg_results_clear(&res);
    rmg_buf_free(&layer);
}

static void walk_entry_limit(void **state)
{
    struct fixture *fx = *state;
    struct rmg_buf layer = walker_layer(ARC_TAR);
    struct rmg_limits lim;
    rmg_limits_default(&lim);
    lim.max_entries = 3; /* etc/, etc/real.conf, etc/hard.conf */
    struct rmg_pathset *ps = rmg_pathset_new();
    struct rmg_results res;
    assert_int_equal(walk_layer(fx, &lim, &layer, ps, &res), RMG_WARN);
    const struct rmg_error *e = the_error(&res, "more than 3 entries");
    assert_int_equal(e->status, RMG_WARN);
    assert_string_equal(e->path, "layer.tar");
    assert_int_equal(res.n_findings, 1);
    assert_int_equal(count_secret(&res, S_REAL), 1);
    assert_int_equal(rmg_pathset_get(ps, "/etc/hard.conf", 14), RMG_PATH_FILE);
    assert_int_equal(rmg_pathset_get(ps, "/etc/sym.conf", 13), 0); /* never reached */
    rmg_results_clear(&res);
    rmg_pathset_free(ps);
    rmg_buf_free(&layer);
}

static void walk_path_limit(void **state)
{
    struct fixture *fx = *state;
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    memcpy(long_name, "dir/", 4);
    const struct ent spec[] = {{'f', long_name, "x " S_FIRST "\n", NULL},
                               {'f', "short.txt", "y " S_AFTER "\n", NULL}, {0}};
    struct rmg_buf layer = build_layer(ARC_TAR, spec);
    struct rmg_limits lim;
    rmg_limits_default(&lim);
    lim.max_path = 200;
    struct rmg_results res;
    assert_int_equal(walk_layer(fx, &lim, &layer, NULL, &res), RMG_WARN);
    the_error(&res, "longer than 200 bytes");
    assert_int_equal(count_secret(&res, S_FIRST), 0);
    assert_int_equal(count_secret(&res, S_AFTER), 1); /* the rest of the layer goes on */
    rmg_results_clear(&res);
    rmg_buf_free(&layer);
}

static struct rmg_buf zeros(size_t n)
{
    struct rmg_buf b = {0};
    char *z = calloc(1, n);
    assert_non_null(z);
    rmg_buf_append(&b, z, n);
    free(z);
    return b;
}

static void walk_gzip_bomb(void **state)
{
    struct fixture *fx = *state;
    struct rmg_buf z = zeros(8u << 20);
    const struct ent spec[] = {{'f', "a-first.txt", S_FIRST "\n", NULL},
                               {'b', "zeros.bin", NULL, &z},
                               {'f', "z-after.txt", S_AFTER "\n", NULL}, {0}};
    struct rmg_buf layer = build_layer(ARC_TGZ, spec);
    assert_true(layer.len < (64u << 10)); /* 8 MiB of zeros compress well */
    struct rmg_limits lim;
    rmg_limits_default(&lim);
    lim.ratio_floor = 1u << 20;
    lim.max_ratio = 20;
    struct rmg_results res;
    assert_int_equal(walk_layer(fx, &lim, &layer, NULL, &res), RMG_WARN);
    const struct rmg_error *e = the_error(&res, "archive bomb");
    assert_non_null(strstr(e->message, "the layer"));
    assert_string_equal(e->path, "layer.tar:/zeros.bin");
    assert_int_equal(count_secret(&res, S_FIRST), 1);
    assert_int_equal(count_secret(&res, S_AFTER), 0); /* the walk of this layer ended */
    rmg_results_clear(&res);

    /* A bomb as a .gz inside a plain layer: only that archive is left. */
    memset(z.data, 'a', z.len);
    struct rmg_buf bomb = gzip_bytes(z.data, z.len);
    assert_true(bomb.len < (64u << 10));
    const struct ent spec2[] = {{'f', "a-first.txt", S_FIRST "\n", NULL},
                                {'b', "data/zeros.gz", NULL, &bomb},
                                {'f', "z-after.txt", S_AFTER "\n", NULL}, {0}};
    struct rmg_buf layer2 = build_layer(ARC_TAR, spec2);
    assert_int_equal(walk_layer(fx, &lim, &layer2, NULL, &res), RMG_WARN);
    e = the_error(&res, "archive bomb");
    assert_non_null(strstr(e->message, "this archive"));
    assert_string_equal(e->path, "layer.tar:/data/zeros.gz!/zeros");
    assert_int_equal(count_secret(&res, S_FIRST), 1);
    assert_int_equal(count_secret(&res, S_AFTER), 1);
    rmg_results_clear(&res);

    /* Past the layer's byte limit: a warning, the rest of the layer not scanned. */
    rmg_limits_default(&lim);
    lim.max_layer_bytes = 2u << 20;
    assert_int_equal(walk_layer(fx, &lim, &layer, NULL, &res), RMG_WARN);
    the_error(&res, "layer limit");
    assert_int_equal(count_secret(&res, S_FIRST), 1);
    assert_int_equal(count_secret(&res, S_AFTER), 0);
    rmg_results_clear(&res);

    rmg_buf_free(&layer);
    rmg_buf_free(&layer2);
    rmg_buf_free(&bomb);
    rmg_buf_free(&z);
}

static void put16(struct rmg_buf *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    rmg_buf_append(b, x, 2);
}

static void put32(struct rmg_buf *b, uint32_t v)
{
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}

/* A zip of one stored entry whose headers say it holds `extra` bytes more than it does. */
static struct rmg_buf short_stored_zip(const char *name, const char *text, unsigned extra)
{
    struct rmg_buf z = {0};
    uint32_t n = (uint32_t)strlen(text), nl = (uint32_t)strlen(name);
    uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)text, n);
    for (int central = 0; central < 2; central++) {
        put32(&z, central ? 0x02014b50 : 0x04034b50);
        if (central)
            put16(&z, 20);         /* made by */
        put16(&z, 20);             /* needed to extract */
        put16(&z, 0);              /* flags */
        put16(&z, 0);              /* stored */
        put32(&z, 0);              /* time, date */
        put32(&z, crc);
        put32(&z, n);              /* compressed size */
        put32(&z, n + extra);      /* uncompressed size */
        put16(&z, nl);
        put16(&z, 0);              /* extra field */
        if (central) {
            put16(&z, 0);          /* comment */
            put32(&z, 0);          /* disk, internal attributes */
            put32(&z, 0);          /* external attributes */
            put32(&z, 0);          /* local header offset */
        }
        rmg_buf_append(&z, name, nl);
        if (!central)
            rmg_buf_append(&z, text, n);
    }
    uint32_t cd_size = 46 + nl, cd_off = 30 + nl + n;
    put32(&z, 0x06054b50);
    put32(&z, 0);                  /* disk numbers */
    put16(&z, 1);
    put16(&z, 1);
    put32(&z, cd_size);
    put32(&z, cd_off);
    put16(&z, 0);
    return z;
}

/* A stored zip entry one byte shorter than its size: libarchive hands over its bytes, then an
 * empty block (NULL, 0) with a warning. The walker must skip that block (it passed NULL to
 * memcpy: UBSan) and scan what the entry holds. Found by tests/fuzz/fuzz_layer.c
 * (corpus/fuzz_layer/crash-zip-empty-block). */
static void walk_zip_entry_shorter_than_its_size(void **state)
{
    struct fixture *fx = *state;
    struct rmg_buf jar = short_stored_zip("BOOT-INF/a.yml", "key: " S_SHORT "\n", 1);
    const struct ent spec[] = {{'b', "app/app.jar", NULL, &jar}, {0}};
    struct rmg_buf layer = build_layer(ARC_TAR, spec);
    struct rmg_results res;
    walk_layer(fx, NULL, &layer, NULL, &res);
    const struct rmg_finding *f = the_finding(&res, NULL, S_SHORT);
    assert_string_equal(f->loc.path, "/app/app.jar!/BOOT-INF/a.yml");
    rmg_results_clear(&res);
    rmg_buf_free(&layer);
    rmg_buf_free(&jar);
}

static void walk_truncated_gzip_layer(void **state)
{
    struct fixture *fx = *state;
    /* Incompressible bytes in the middle, so the cut lands inside them. */
    struct rmg_buf noise = {0};
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < (512 << 10) / 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rmg_buf_append(&noise, &x, sizeof x);
    }
    const struct ent spec[] = {{'f', "first.txt", S_TRUNC1 "\n", NULL},
                               {'b', "noise.bin", NULL, &noise},
                               {'f', "last.txt", S_TRUNC2 "\n", NULL}, {0}};
    struct rmg_buf layer = build_layer(ARC_TGZ, spec);
    layer.len /= 2;
    struct rmg_results res;
    enum rmg_status st = walk_layer(fx, NULL, &layer, NULL, &res);
    assert_int_equal(st, RMG_EINPUT);
    assert_true(res.n_errors >= 1);
    bool einput = false;
    for (size_t i = 0; i < res.n_errors; i++) {
        einput = einput || res.errors[i].status == RMG_EINPUT;
        assert_non_null(res.errors[i].path);
        assert_int_equal(strncmp(res.errors[i].path, "layer.tar", 9), 0);
    }
    assert_true(einput);
    assert_int_equal(count_secret(&res, S_TRUNC1), 1); /* read before the damage: kept */
    assert_int_equal(count_secret(&res, S_TRUNC2), 0);
    rmg_results_clear(&res);
    rmg_buf_free(&layer);
    rmg_buf_free(&noise);
}

/* Regression: a compressed file whose content starts with zero bytes (a disk image, an ISO,
 * many binary formats) must be read as the file it holds. A tar reader takes leading zero
 * blocks for an end-of-archive mark and would scan nothing, so only a decompressed start that
 * holds a real tar header makes it a tar. */
static void walk_gz_of_file_starting_with_zeros(void **state)
{
    struct fixture *fx = *state;
    struct rmg_buf img = zeros(4096);
    rmg_buf_puts(&img, "key=" S_SQL "\n");
    struct rmg_buf gz = gzip_bytes(img.data, img.len);
    const struct ent spec[] = {{'b', "disk/x.img.gz", NULL, &gz}, {0}};
    struct rmg_buf layer = build_layer(ARC_TAR, spec);
    struct rmg_results res;
    walk_layer(fx, NULL, &layer, NULL, &res);
    bool found = res.n_findings == 1 && strcmp(res.findings[0].secret, S_SQL) == 0 &&
                 strcmp(res.findings[0].loc.path, "/disk/x.img.gz!/x.img") == 0;
    size_t n_errors = res.n_errors;
    if (!found)
        dump(&res);
    rmg_results_clear(&res);
    rmg_buf_free(&layer);
    rmg_buf_free(&gz);
    rmg_buf_free(&img);
    /* (freed first: a failure here leaks nothing) */
    if (!found)
        fail_msg("the secret after 4 KiB of zeros in x.img.gz was not found (%zu errors)",
                 n_errors);
}

/* ---- docker save ------------------------------------------------------------------------ */

struct want {
    const char *image, *secret, *path;
    int layer;               /* image layer index, -1 for config */
    int blob;                /* docker layer 0-3 it ships in, -1 for config */
    enum rmg_state state;
    int changed_layer;
    const char *changed_by;  /* NULL: none */
    const char *created_by;  /* NULL: none */
};

#define APP "app:1.0"
#define TOOLS "registry.example.com/tools:2"

static void redacted_cb_l1(char *out, size_t cap)
{
    char red[128];
    rmg_redact(S_HIST, strlen(S_HIST), red, sizeof red);
    rmg_fmt(out, cap, "|1 TOKEN=%s%s", red, CB_L1_AFTER);
}

static void check_wants(const struct rmg_results *res, const struct docker_image *d,
                        const struct want *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct rmg_finding *f = the_finding(res, w[i].image, w[i].secret);
        if (strcmp(f->loc.path, w[i].path) != 0 || f->loc.layer_index != w[i].layer ||
            f->state != w[i].state || f->changed_layer != w[i].changed_layer) {
            dump(res);
            fail_msg("%s in %s: %s layer %d %s changed %d; want %s layer %d %s changed %d",
                     w[i].secret, w[i].image, f->loc.path, f->loc.layer_index,
                     rmg_state_name(f->state), f->changed_layer, w[i].path, w[i].layer,
                     rmg_state_name(w[i].state), w[i].changed_layer);
        }
        assert_str_or_null(f->changed_by, w[i].changed_by);
        assert_str_or_null(f->loc.created_by, w[i].created_by);
        assert_str_or_null(f->loc.platform, "linux/amd64");
        const char *diff = w[i].blob >= 0 ? d->diff_id[w[i].blob] : NULL;
        assert_str_or_null(f->loc.layer_diff_id, diff);
        assert_str_or_null(f->loc.layer_digest, diff); /* uncompressed: digest = diff_id */
    }
}

/* What the two-image docker save of build_docker holds, findings and all. */
static void check_docker_full(const struct rmg_results *res, const struct docker_image *d)
{
    char red_l1[256];
    redacted_cb_l1(red_l1, sizeof red_l1);
    const enum rmg_state P = RMG_STATE_PRESENT, D = RMG_STATE_DELETED,
                         O = RMG_STATE_OVERWRITTEN, C = RMG_STATE_CONFIG;
    const struct want w[] = {
        {APP, S_KEEP, "/srv/keep.txt", 0, 0, P, -1, NULL, CB_BASE},
        {APP, S_DEL, "/etc/deleted.conf", 0, 0, D, 2, CB_L2, CB_BASE},
        {APP, S_OVER, "/etc/over.conf", 0, 0, O, 1, red_l1, CB_BASE},
        {APP, S_PARENT, "/opt/gone/key.txt", 0, 0, D, 2, CB_L2, CB_BASE},
        {APP, S_OPQ, "/var/opq/old.txt", 0, 0, D, 2, CB_L2, CB_BASE},
        {APP, S_PFILE, "/data/cfg/secret.txt", 0, 0, D, 2, CB_L2, CB_BASE},
        {APP, S_BIG, "/data/big.log", 0, 0, P, -1, NULL, CB_BASE},
        {APP, S_JAR, "/app/x.jar!/BOOT-INF/a.yml", 0, 0, D, 2, CB_L2, CB_BASE},
        {APP, S_L1, "/etc/l1.conf", 1, 1, P, -1, NULL, red_l1},
        {APP, S_NEW, "/var/opq/new.txt", 2, 2, P, -1, NULL, CB_L2},
        {APP, S_ENV, "config.Env[1]", -1, -1, C, -1, NULL, NULL},
        {APP, S_HIST, "history[2].created_by", -1, -1, C, -1, NULL, NULL},
        /* the other image ships layer 0 too, under its own later layers */
        {TOOLS, S_KEEP, "/srv/keep.txt", 0, 0, D, 1, CB_TOOL, CB_BASE},
        {TOOLS, S_DEL, "/etc/deleted.conf", 0, 0, P, -1, NULL, CB_BASE},
        {TOOLS, S_OVER, "/etc/over.conf", 0, 0, P, -1, NULL, CB_BASE},
        {TOOLS, S_PARENT, "/opt/gone/key.txt", 0, 0, P, -1, NULL, CB_BASE},
        {TOOLS, S_OPQ, "/var/opq/old.txt", 0, 0, P, -1, NULL, CB_BASE},
        {TOOLS, S_PFILE, "/data/cfg/secret.txt", 0, 0, P, -1, NULL, CB_BASE},
        {TOOLS, S_BIG, "/data/big.log", 0, 0, P, -1, NULL, CB_BASE},
        {TOOLS, S_JAR, "/app/x.jar!/BOOT-INF/a.yml", 0, 0, P, -1, NULL, CB_BASE},
        {TOOLS, S_TOOL, "/usr/bin/tool", 1, 3, P, -1, NULL, CB_TOOL},
    };
    size_t n = sizeof w / sizeof *w;
    if (res->n_findings != n)
        dump(res);
    assert_int_equal(res->n_findings, n);
    check_wants(res, d, w, n);
    /* A secret of a history step never travels in a copy of that step. */
    for (size_t i = 0; i < res->n_findings; i++) {
        const struct rmg_finding *f = &res->findings[i];
        if (f->loc.created_by)
            assert_null(strstr(f->loc.created_by, S_HIST));
        if (f->changed_by)
            assert_null(strstr(f->changed_by, S_HIST));
        assert_null(strstr(f->loc.image, "docker.io/"));
    }
}

static void docker_layers_states_config_history(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    scan_image(fx, &fx->docker.tar, (struct sel){0}, &res);
    assert_no_errors(&res);
    check_docker_full(&res, &fx->docker);
    assert_true(res.stats.files >= 10);
    rmg_results_clear(&res);
}

static void docker_symlinked_layers(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results plain, linked;
    scan_image(fx, &fx->docker.tar, (struct sel){0}, &plain);
    scan_image(fx, &fx->docker_linked.tar, (struct sel){0}, &linked);
    assert_no_errors(&linked);
    check_docker_full(&linked, &fx->docker_linked);
    char *a = describe(&plain), *b = describe(&linked);
    assert_string_equal(a, b);
    free(a);
    free(b);
    rmg_results_clear(&plain);
    rmg_results_clear(&linked);
}

/* `docker save app | gzip`: the same findings. */
static void docker_save_gzipped(void **state)
{
    struct fixture *fx = *state;
    struct rmg_buf gz = gzip_bytes(fx->docker.tar.data, fx->docker.tar.len);
    struct rmg_results plain, packed;
    scan_image(fx, &fx->docker.tar, (struct sel){0}, &plain);
    scan_image(fx, &gz, (struct sel){0}, &packed);
    assert_no_errors(&packed);
    char *a = describe(&plain), *b = describe(&packed);
    assert_string_equal(a, b);
    free(a);
    free(b);
    rmg_results_clear(&plain);
    rmg_results_clear(&packed);
    rmg_buf_free(&gz);
}

static void tar_without_manifest_is_no_image(void **state)
{
    struct fixture *fx = *state;
    const struct ent spec[] = {{'f', "notes.txt", "k=" S_FIRST "\n", NULL}, {0}};
    struct rmg_buf tar = build_layer(ARC_TAR, spec);
    struct rmg_results res;
    scan_image(fx, &tar, (struct sel){0}, &res);
    assert_int_equal(res.n_findings, 0);
    assert_int_equal(the_error(&res, "not a container image")->status, RMG_EINPUT);
    rmg_results_clear(&res);
    rmg_buf_free(&tar);
}

static void docker_ref_selection(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *ref, *image;
        size_t n;
    } cases[] = {
        {"app:1.0", APP, 12},
        {"docker.io/library/app:1.0", APP, 12},
        {"app", "app:latest", 12}, /* "app" is app:latest, the image's second tag */
        {"@0", APP, 12},
        {"@1", TOOLS, 9},
        {"registry.example.com/tools:2", TOOLS, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rmg_results res;
        scan_image(fx, &fx->docker.tar, (struct sel){.ref = cases[i].ref}, &res);
        assert_no_errors(&res);
        if (res.n_findings != cases[i].n) {
            dump(&res);
            fail_msg("ref %s: %zu findings, want %zu", cases[i].ref, res.n_findings, cases[i].n);
        }
        for (size_t j = 0; j < res.n_findings; j++)
            assert_string_equal(res.findings[j].loc.image, cases[i].image);
        rmg_results_clear(&res);
    }
    struct rmg_results res;
    scan_image(fx, &fx->docker.tar, (struct sel){.ref = "@1"}, &res);
    const struct rmg_finding *f = the_finding(&res, TOOLS, S_KEEP);
    assert_int_equal(f->state, RMG_STATE_DELETED);
    assert_int_equal(f->changed_layer, 1);
    assert_int_equal(count_secret(&res, S_L1), 0); /* only in app's layers */
    assert_int_equal(count_secret(&res, S_ENV), 0);
    rmg_results_clear(&res);
}

static void docker_unknown_ref(void **state)
{
    struct fixture *fx = *state;
    const char *bad[] = {"nope:1", "@2", "app:2.0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct rmg_results res;
        scan_image(fx, &fx->docker.tar, (struct sel){.ref = bad[i]}, &res);
        assert_int_equal(res.n_findings, 0);
        char needle[64];
        rmg_fmt(needle, sizeof needle, "no image '%s'", bad[i]);
        const struct rmg_error *e = the_error(&res, needle);
        assert_int_equal(e->status, RMG_EINPUT);
        assert_non_null(strstr(e->message, "app:1.0"));
        assert_non_null(strstr(e->message, "registry.example.com/tools:2"));
        rmg_results_clear(&res);
    }
    struct rmg_results res;
    scan_image(fx, &fx->docker.tar, (struct sel){.ref = "@x"}, &res);
    assert_int_equal(the_error(&res, "bad image index '@x'")->status, RMG_EINPUT);
    assert_int_equal(res.n_findings, 0);
    rmg_results_clear(&res);
}

static void docker_missing_layer(void **state)
{
    struct fixture *fx = *state;
    struct docker_image *d = &fx->docker_missing;
    struct rmg_results res;
    scan_image(fx, &d->tar, (struct sel){.ref = "app:1.0"}, &res);
    char name[80];
    rmg_fmt(name, sizeof name, "%s/layer.tar", d->id[1]);
    const struct rmg_error *e = the_error(&res, "is not in the archive");
    assert_int_equal(e->status, RMG_EINPUT);
    assert_string_equal(e->path, name);
    assert_non_null(strstr(e->message, "layer 1"));
    assert_int_equal(res.n_errors, 1);
    /* The other layers keep their places, history steps and the states they cause. */
    const enum rmg_state P = RMG_STATE_PRESENT, D = RMG_STATE_DELETED, C = RMG_STATE_CONFIG;
    const struct want w[] = {
        {APP, S_KEEP, "/srv/keep.txt", 0, 0, P, -1, NULL, CB_BASE},
        {APP, S_DEL, "/etc/deleted.conf", 0, 0, D, 2, CB_L2, CB_BASE},
        {APP, S_OVER, "/etc/over.conf", 0, 0, P, -1, NULL, CB_BASE}, /* its replacement is gone */
        {APP, S_NEW, "/var/opq/new.txt", 2, 2, P, -1, NULL, CB_L2},
        {APP, S_JAR, "/app/x.jar!/BOOT-INF/a.yml", 0, 0, D, 2, CB_L2, CB_BASE},
        {APP, S_ENV, "config.Env[1]", -1, -1, C, -1, NULL, NULL},
    };
    check_wants(&res, d, w, sizeof w / sizeof *w);
    assert_int_equal(count_secret(&res, S_L1), 0);
    assert_int_equal(res.n_findings, 11);
    rmg_results_clear(&res);
}

/* Regression: the status returned includes what rmg_image_plan and walk_outer report: an
 * unknown ref, a layer missing from the archive, no image for the platform or a corrupt
 * archive are RMG_EINPUT, as the errors in `out` say (a library caller trusts the status). */
static void image_stream_status_reports_input_errors(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    enum rmg_status st = scan_image(fx, &fx->docker.tar, (struct sel){0}, &res);
    rmg_results_clear(&res);
    assert_int_equal(st, RMG_OK);

    enum rmg_status unknown = scan_image(fx, &fx->docker.tar, (struct sel){.ref = "nope:1"}, &res);
    assert_int_equal(the_error(&res, "no image 'nope:1'")->status, RMG_EINPUT);
    rmg_results_clear(&res);

    enum rmg_status missing = scan_image(fx, &fx->docker_missing.tar, (struct sel){0}, &res);
    assert_int_equal(the_error(&res, "is not in the archive")->status, RMG_EINPUT);
    rmg_results_clear(&res);

    enum rmg_status platform =
        scan_image(fx, &fx->oci.tar, (struct sel){.platform = "linux/s390x"}, &res);
    assert_int_equal(the_error(&res, "no image for platform")->status, RMG_EINPUT);
    rmg_results_clear(&res);

    if (unknown != RMG_EINPUT || missing != RMG_EINPUT || platform != RMG_EINPUT)
        fail_msg("returned %s (unknown ref), %s (missing layer), %s (no platform); want "
                 "input error for each", rmg_status_name(unknown), rmg_status_name(missing),
                 rmg_status_name(platform));
}

/* ---- OCI archives ----------------------------------------------------------------------- */

static void check_oci_platform(const struct rmg_results *res, const struct oci_image *o,
                               const char *platform)
{
    bool arm = strncmp(platform, "linux/arm64", 11) == 0;
    const struct rmg_finding *b = the_finding(res, NULL, S_BASE);
    assert_string_equal(b->loc.image, "multi:3");
    assert_string_equal(b->loc.platform, platform);
    assert_string_equal(b->loc.path, "/etc/base.conf");
    assert_int_equal(b->loc.layer_index, 0);
    assert_string_equal(b->loc.layer_digest, o->base);
    assert_string_equal(b->loc.layer_diff_id, o->base_diff);
    assert_string_equal(b->loc.created_by, "ADD base");
    const struct rmg_finding *f = the_finding(res, NULL, arm ? S_ARM : S_AMD);
    assert_string_equal(f->loc.image, "multi:3");
    assert_string_equal(f->loc.platform, platform);
    assert_string_equal(f->loc.path, arm ? "/opt/arm.txt" : "/opt/amd.txt");
    assert_int_equal(f->loc.layer_index, 1);
    assert_string_equal(f->loc.layer_digest, arm ? o->arm : o->amd);
    assert_string_equal(f->loc.layer_diff_id, arm ? o->arm_diff : o->amd_diff);
    assert_string_equal(f->loc.created_by, arm ? "COPY arm" : "COPY amd");
    assert_int_equal(f->state, RMG_STATE_PRESENT);
    assert_int_equal(count_secret(res, arm ? S_AMD : S_ARM), 0);
    assert_int_equal(res->n_findings, 2);
}

static void oci_default_platform_is_the_host(void **state)
{
    struct fixture *fx = *state;
    const char *host = rmg_host_platform();
    assert_non_null(host);
    assert_int_equal(strncmp(host, "linux/", 6), 0);
    struct rmg_results res;
    scan_image(fx, &fx->oci.tar, (struct sel){0}, &res);
    if (strcmp(host, "linux/amd64") == 0 || strcmp(host, "linux/arm64") == 0) {
        assert_no_errors(&res); /* the other platform's layer is known, not an orphan */
        check_oci_platform(&res, &fx->oci,
                           strcmp(host, "linux/amd64") == 0 ? "linux/amd64" : "linux/arm64/v8");
    } else {
        the_error(&res, "no image for platform");
        assert_int_equal(res.n_findings, 0);
    }
    rmg_results_clear(&res);
}

static void oci_chosen_platform(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *want, *got;
    } cases[] = {
        {"linux/arm64", "linux/arm64/v8"},
        {"linux/arm64/v8", "linux/arm64/v8"},
        {"linux/amd64", "linux/amd64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rmg_results res;
        scan_image(fx, &fx->oci.tar, (struct sel){.platform = cases[i].want}, &res);
        assert_no_errors(&res);
        check_oci_platform(&res, &fx->oci, cases[i].got);
        rmg_results_clear(&res);
    }
}

static void oci_all_platforms(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    scan_image(fx, &fx->oci.tar, (struct sel){.all_platforms = true}, &res);
    assert_no_errors(&res); /* the attestation is not taken for an image */
    assert_int_equal(res.n_findings, 4);
    assert_int_equal(count_secret(&res, S_BASE), 2);
    const struct rmg_finding *amd = the_finding(&res, NULL, S_AMD);
    const struct rmg_finding *arm = the_finding(&res, NULL, S_ARM);
    assert_string_equal(amd->loc.platform, "linux/amd64");
    assert_string_equal(arm->loc.platform, "linux/arm64/v8");
    bool seen_amd = false, seen_arm = false;
    for (size_t i = 0; i < res.n_findings; i++) {
        const struct rmg_finding *f = &res.findings[i];
        assert_string_equal(f->loc.image, "multi:3");
        if (strcmp(f->secret, S_BASE) == 0) {
            assert_int_equal(f->loc.layer_index, 0);
            seen_amd = seen_amd || strcmp(f->loc.platform, "linux/amd64") == 0;
            seen_arm = seen_arm || strcmp(f->loc.platform, "linux/arm64/v8") == 0;
        }
    }
    assert_true(seen_amd && seen_arm);
    rmg_results_clear(&res);
}

static void oci_no_platform_match(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    scan_image(fx, &fx->oci.tar, (struct sel){.platform = "linux/s390x"}, &res);
    assert_int_equal(res.n_findings, 0);
    assert_int_equal(res.n_errors, 1); /* no "layer no image uses": they are known */
    const struct rmg_error *e = the_error(&res, "no image for platform linux/s390x");
    assert_int_equal(e->status, RMG_EINPUT);
    assert_non_null(strstr(e->message, "available: linux/amd64, linux/arm64/v8;"));
    assert_null(strstr(e->message, "unknown"));
    rmg_results_clear(&res);

    /* "linux/arm" is not a prefix match for linux/arm64 */
    scan_image(fx, &fx->oci.tar, (struct sel){.platform = "linux/arm"}, &res);
    assert_int_equal(res.n_findings, 0);
    the_error(&res, "no image for platform linux/arm ");
    rmg_results_clear(&res);
}

static void oci_ref_selection(void **state)
{
    struct fixture *fx = *state;
    const char *good[] = {"multi:3", "docker.io/library/multi:3", "3", "@0"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct rmg_results res;
        scan_image(fx, &fx->oci.tar, (struct sel){.ref = good[i], .platform = "linux/amd64"},
                   &res);
        assert_no_errors(&res);
        check_oci_platform(&res, &fx->oci, "linux/amd64");
        rmg_results_clear(&res);
    }
    struct rmg_results res;
    scan_image(fx, &fx->oci.tar, (struct sel){.ref = "nope", .platform = "linux/amd64"}, &res);
    assert_int_equal(res.n_findings, 0);
    assert_int_equal(the_error(&res, "no image 'nope'")->status, RMG_EINPUT);
    rmg_results_clear(&res);
}

static void oci_bad_digests_rejected(void **state)
{
    struct fixture *fx = *state;
    struct oci_image *o = &fx->oci_bad;
    struct rmg_results res;
    scan_image(fx, &o->tar, (struct sel){.platform = "linux/amd64"}, &res);
    /* the index descriptor "sha256:../../etc/passwd" */
    const struct rmg_error *e = the_error(&res, "a manifest descriptor has no valid digest");
    assert_int_equal(e->status, RMG_EINPUT);
    /* the manifest's second layer: the same digest */
    e = the_error(&res, "layer 1 has no valid digest");
    assert_int_equal(e->status, RMG_EINPUT);
    char manifest[96];
    rmg_fmt(manifest, sizeof manifest, "blobs/sha256/%s", o->amd_manifest + 7);
    assert_string_equal(e->path, manifest);
    /* the amd layer blob is now referenced by nothing: said, not reported */
    char amd_blob[96];
    rmg_fmt(amd_blob, sizeof amd_blob, "blobs/sha256/%s", o->amd + 7);
    e = the_error(&res, "a layer no image uses holds 1 finding");
    assert_int_equal(e->status, RMG_WARN);
    assert_string_equal(e->path, amd_blob);
    for (size_t i = 0; i < res.n_errors; i++)
        assert_null(strstr(res.errors[i].message, "passwd"));
    /* the good layer is still attributed */
    const struct rmg_finding *b = the_finding(&res, NULL, S_BASE);
    assert_int_equal(b->loc.layer_index, 0);
    assert_string_equal(b->loc.platform, "linux/amd64");
    assert_int_equal(count_secret(&res, S_AMD), 0);
    assert_int_equal(res.n_findings, 1);
    rmg_results_clear(&res);
}

/* Regression: `--platform linux/arm64/v8` selects an arm64 image whose descriptor names no
 * variant: v8 is the only arm64 variant (containerd normalises arm64 to arm64/v8 both ways). */
static void oci_arm64_v8_matches_arm64_without_variant(void **state)
{
    struct fixture *fx = *state;
    struct rmg_results res;
    scan_image(fx, &fx->oci_arm_plain.tar, (struct sel){.platform = "linux/arm64"}, &res);
    assert_no_errors(&res);
    check_oci_platform(&res, &fx->oci_arm_plain, "linux/arm64");
    rmg_results_clear(&res);
    scan_image(fx, &fx->oci_arm_plain.tar, (struct sel){.platform = "linux/arm64/v8"}, &res);
    bool ok = res.n_errors == 0 && res.n_findings == 2 && count_secret(&res, S_ARM) == 1;
    if (!ok)
        dump(&res);
    rmg_results_clear(&res);
    if (!ok)
        fail_msg("--platform linux/arm64/v8 did not select the arm64 image");
}

/* ---- jobs ------------------------------------------------------------------------------- */

static void one_and_three_jobs_agree(void **state)
{
    struct fixture *fx = *state;
    const struct rmg_buf *imgs[] = {&fx->docker.tar, &fx->oci.tar};
    for (size_t i = 0; i < 2; i++) {
        struct rmg_results one, three;
        scan_image(fx, imgs[i], (struct sel){.jobs = 1, .all_platforms = true}, &one);
        scan_image(fx, imgs[i], (struct sel){.jobs = 3, .all_platforms = true}, &three);
        assert_true(one.n_findings >= 4);
        assert_int_equal(one.n_findings, three.n_findings);
        assert_int_equal(one.n_errors, three.n_errors);
        assert_int_equal(one.stats.files, three.stats.files);
        assert_int_equal(one.stats.bytes, three.stats.bytes);
        char *a = describe(&one), *b = describe(&three);
        assert_string_equal(a, b);
        free(a);
        free(b);
        rmg_results_clear(&one);
        rmg_results_clear(&three);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pathset_add_get_or),
        cmocka_unit_test(pathset_grows_past_thousands),
        cmocka_unit_test(clean_path_forms),
        cmocka_unit_test(walk_plain_and_gzip_layers),
        cmocka_unit_test(walk_without_pathset_scans_the_same),
        cmocka_unit_test(walk_depth_limits),
        cmocka_unit_test(walk_entry_limit),
        cmocka_unit_test(walk_path_limit),
        cmocka_unit_test(walk_gzip_bomb),
        cmocka_unit_test(walk_truncated_gzip_layer),
        cmocka_unit_test(walk_zip_entry_shorter_than_its_size),
        cmocka_unit_test(walk_gz_of_file_starting_with_zeros),
        cmocka_unit_test(docker_layers_states_config_history),
        cmocka_unit_test(docker_symlinked_layers),
        cmocka_unit_test(docker_ref_selection),
        cmocka_unit_test(docker_unknown_ref),
        cmocka_unit_test(docker_missing_layer),
        cmocka_unit_test(docker_save_gzipped),
        cmocka_unit_test(tar_without_manifest_is_no_image),
        cmocka_unit_test(image_stream_status_reports_input_errors),
        cmocka_unit_test(oci_default_platform_is_the_host),
        cmocka_unit_test(oci_chosen_platform),
        cmocka_unit_test(oci_all_platforms),
        cmocka_unit_test(oci_no_platform_match),
        cmocka_unit_test(oci_ref_selection),
        cmocka_unit_test(oci_bad_digests_rejected),
        cmocka_unit_test(oci_arm64_v8_matches_arm64_without_variant),
        cmocka_unit_test(one_and_three_jobs_agree),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
