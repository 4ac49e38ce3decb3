/* fuzz_manifest.c: libFuzzer target: arbitrary JSON documents as an image's metadata, through
 * the image model (src/image/model.c: docker-save manifest.json, OCI index.json, nested indexes,
 * platform selection, image manifests, configs, history, annotations) and the resolve step,
 * fed by an on-demand source (source/image.h) that holds the documents in memory, so the
 * fuzzer works on the JSON itself rather than on tar headers around it.
 *
 * Input: one option byte (platform, --all-platforms, the image asked for, and what the first
 * document is), then documents separated by NUL bytes. The first document is "manifest.json"
 * when it starts with '[', else "index.json" (or as the option byte says: either, or
 * neither); any other name the model asks for ("blobs/sha256/HEX", "HEX/json", "config.json")
 * gets document 1 + (its first hex digit, or the sum of its bytes) modulo the rest. Layers
 * are a fixed set of small real layers (a file with a synthetic key, a whiteout of it, an
 * opaque directory, the directory replaced by a file, the file replaced, an opaque root, a
 * missing one), chosen the same way, so findings get attributed, deleted and overwritten.
 * Checked: no crash, leak or sanitizer report; states agree with layers; a history step
 * copied into a finding never holds a secret found in that image's history. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source/target.h"
#include "source/image.h"
#include "common/util.h"
#include "fuzz_rules.h"

#define N_LAYERS 8 /* the last one is missing */

static struct rmg_rules *rules;
static int layer_fd[N_LAYERS];
static size_t layer_len[N_LAYERS];

struct entry {
    const char *path;
    char type; /* 'f' file, 'd' directory, 'l' symlink */
    const char *body;
};

static int make_layer(const struct entry *e, size_t n)
{
    size_t cap = 1u << 16, used = 0;
    char *buf = calloc(1, cap);
    struct archive *a = archive_write_new();
    if (!buf || !a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK)
        abort();
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].path);
        archive_entry_set_filetype(ae, e[i].type == 'd' ? AE_IFDIR
                                       : e[i].type == 'l' ? AE_IFLNK
                                                          : AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        if (e[i].type == 'l')
            archive_entry_set_symlink(ae, e[i].body);
        size_t len = e[i].type == 'f' && e[i].body ? strlen(e[i].body) : 0;
        archive_entry_set_size(ae, (la_int64_t)len);
        if (archive_write_header(a, ae) != ARCHIVE_OK ||
            (len && archive_write_data(a, e[i].body, len) != (la_ssize_t)len))
            abort();
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    int fd = memfd_create("layer", 0);
    if (fd < 0 || write(fd, buf, used) != (ssize_t)used)
        abort();
    free(buf);
    return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rules = fuzz_builtin_rules(true, RMG_ENGINE_AUTO);
    /* A synthetic AWS key id, made up here (fixed, so runs repeat). */
    static char env[64];
    unsigned x = 12345;
    char key[21] = "AKIA";
    for (int i = 4; i < 20; i++) {
        x = x * 1103515245u + 12345u;
        key[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(x >> 16) % 32];
    }
    key[20] = '\0';
    snprintf(env, sizeof env, "AWS_ACCESS_KEY_ID=%s\n", key);
    const struct entry l0[] = {{"app", 'd', NULL}, {"app/.env", 'f', env},
                               {"app/link", 'l', ".env"}, {"etc/motd", 'f', "hello\n"}};
    const struct entry l1[] = {{"app/.wh..env", 'f', NULL}};
    const struct entry l2[] = {{"app/.wh..wh..opq", 'f', NULL}, {"app/new", 'f', "x\n"}};
    const struct entry l3[] = {{"app", 'f', "a file now\n"}};
    const struct entry l4[] = {{"./app/.env", 'f', "overwritten\n"}};
    const struct entry l5[] = {{".wh.app", 'f', NULL}, {"etc/.env", 'f', env}};
    const struct entry l6[] = {{".wh..wh..opq", 'f', NULL}, {"app/.wh..wh..x", 'f', NULL}};
    const struct entry *layers[] = {l0, l1, l2, l3, l4, l5, l6};
    const size_t counts[] = {4, 1, 2, 1, 1, 2, 2};
    for (int i = 0; i < N_LAYERS - 1; i++) {
        layer_fd[i] = make_layer(layers[i], counts[i]);
        layer_len[i] = (size_t)lseek(layer_fd[i], 0, SEEK_END);
    }
    return 0;
}

struct mem_source {
    struct rmg_ondemand_source od; /* first */
    const char *const *docs;
    const size_t *lens;
    size_t n;
    int top; /* doc 0 is: 0 manifest.json if it starts with '[' else index.json, 1 manifest.json,
                2 index.json, 3 neither */
};

static size_t pick(const char *name, size_t n)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    unsigned v = 0;
    if ((*base >= '0' && *base <= '9') || (*base >= 'a' && *base <= 'f'))
        v = (unsigned)(*base <= '9' ? *base - '0' : *base - 'a' + 10);
    else
        for (const char *c = name; *c; c++)
            v += (unsigned char)*c;
    return v % n;
}

static struct rmg_blob *mem_get_json(struct rmg_image_source *src, const char *name, char *err,
                                     size_t errlen)
{
    struct mem_source *m = (struct mem_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b) {
        if (!b->json)
            rmg_fmt(err, errlen, "not a JSON document");
        return b->json ? b : NULL;
    }
    size_t k;
    bool top_docker = m->top == 1 || (m->top == 0 && m->lens[0] && m->docs[0][0] == '[');
    if (strcmp(name, "manifest.json") == 0 || strcmp(name, "index.json") == 0) {
        if (m->top == 3 || top_docker != (strcmp(name, "manifest.json") == 0)) {
            rmg_fmt(err, errlen, "not in the source");
            return NULL;
        }
        k = 0;
    } else if (m->n > 1) {
        k = 1 + pick(name, m->n - 1);
    } else {
        rmg_fmt(err, errlen, "not in the source");
        return NULL;
    }
    if (!(b = rmg_blobs_add(&src->blobs, name)) ||
        !(b->json = rmg_strndup(m->docs[k], m->lens[k]))) {
        rmg_fmt(err, errlen, "out of memory");
        return NULL;
    }
    b->json_len = m->lens[k];
    return b;
}

static struct rmg_blob *mem_get_layer(struct rmg_image_source *src, const char *name, char *err,
                                      size_t errlen)
{
    struct mem_source *m = (struct mem_source *)src;
    struct rmg_blob *b = rmg_blobs_find(&src->blobs, name);
    if (b && b->layer)
        return b;
    size_t k = pick(name, N_LAYERS);
    if (k == N_LAYERS - 1) {
        rmg_fmt(err, errlen, "%s: no such layer", name);
        return NULL;
    }
    lseek(layer_fd[k], 0, SEEK_SET);
    return rmg_source_image_walk_fd(&m->od, name, layer_fd[k], layer_len[k], false, err,
                                    errlen);
}

static void check(const struct rmg_results *r)
{
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rmg_finding *f = &r->findings[i];
        if (f->loc.layer_index < 0) {
            if (f->state != RMG_STATE_CONFIG && f->state != RMG_STATE_PRESENT)
                abort();
            continue;
        }
        if (f->state == RMG_STATE_DELETED || f->state == RMG_STATE_OVERWRITTEN) {
            if (f->changed_layer <= f->loc.layer_index)
                abort();
        } else if (f->state != RMG_STATE_PRESENT) {
            abort();
        }
        /* A history step is copied into every finding of its layer: never with a secret
           found in that image's history (provider rules: found wherever the text is). */
        for (size_t j = 0; j < r->n_findings; j++) {
            const struct rmg_finding *g = &r->findings[j];
            if (g->rule->generic || g->secret_len < 16 || !g->loc.path ||
                strncmp(g->loc.path, "history[", 8) != 0 || !f->loc.image || !g->loc.image ||
                strcmp(f->loc.image, g->loc.image) != 0)
                continue;
            if ((f->loc.created_by && strstr(f->loc.created_by, g->secret)) ||
                (f->changed_by && strstr(f->changed_by, g->secret)))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    unsigned opt = data[0];
    const char *docs[16];
    size_t lens[16], n = 0;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (n < 16) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        docs[n] = p;
        lens[n++] = (size_t)((nul ? nul : end) - p);
        if (!nul)
            break;
        p = nul + 1;
    }
    struct rmg_scan_ctx ctx = {.rules = rules, .jobs = 1};
    rmg_limits_default(&ctx.limits);
    ctx.limits.max_json = 1u << 20;
    ctx.all_platforms = opt & 1;
    static const char *const platforms[] = {NULL, "linux/arm64", "linux/arm/v7", "windows/amd64"};
    ctx.platform = platforms[(opt >> 1) & 3];
    static const char *const refs[] = {NULL, "@0", "@1", "app:1.0", "app", "latest",
                                       "docker.io/library/app:1.0", "@x"};
    struct mem_source src = {.od = {.base = {.get_json = mem_get_json,
                                             .get_layer = mem_get_layer}},
                             .docs = docs, .lens = lens, .n = n, .top = (int)(opt >> 6)};
    struct rmg_results out;
    rmg_results_init(&out);
    rmg_source_image_ondemand(&ctx, "fuzz", &src.od, refs[(opt >> 3) & 7], &out);
    check(&out);
    rmg_results_sort(&out);
    rmg_results_clear(&out);
    return 0;
}
