/* test_origin.c: provenance at resolve time (src/image/origin.c) and what builds on it: the
 * content digests (src/common/digest.c), the gate (rmg_finding_gates), the reports' origin
 * text (src/report/origin.c) and the layer cache carrying a layer's provenance facts. Package
 * databases are written here in their real shapes (dpkg status and md5sums, npm package.json,
 * a Python RECORD) with digests computed from the test's own file contents. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/digest.h"
#include "common/util.h"
#include "image/cache.h"
#include "image/origin.h"
#include "report/report.h"
#include "support.h"

static const char DOC[] = "/usr/share/doc/pkg/example.conf";
static const char DOC_TEXT[] = "example token = not-a-real-one\n";
static const char TOOL_TEXT[] = "binary bytes\n";

static void md5hex(const char *s, char out[33])
{
    unsigned char d[16];
    unsigned n;
    EVP_Digest(s, strlen(s), d, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A layer whose dpkg database says package `pkg` VERSION installed DOC and TOOL (TOOL listed
 * as "bin/tool": merged /usr) with these contents. */
static void dpkg_layer(struct rmg_layer_prov *p, const char *version, const char *doc_text)
{
    char status[512], sums[256], h1[33], h2[33], err[256];
    snprintf(status, sizeof status,
             "Package: pkg\nStatus: install ok installed\nVersion: %s\nArchitecture: all\n\n",
             version);
    md5hex(doc_text, h1);
    md5hex(TOOL_TEXT, h2);
    snprintf(sums, sizeof sums, "%s  usr/share/doc/pkg/example.conf\n%s  bin/tool\n", h1, h2);
    assert_int_equal(rmg_layer_prov_add_db(p, "/var/lib/dpkg/status", status, strlen(status),
                                           err, sizeof err), RMG_OK);
    assert_int_equal(rmg_layer_prov_add_db(p, "/var/lib/dpkg/info/pkg.md5sums", sums,
                                           strlen(sums), err, sizeof err), RMG_OK);
}

static char id_rule[] = "test-rule", id_live[] = "live", text_t[] = "t", text_r[] = "r",
            github[] = "github";
static struct rmg_rule rule = {.id = id_rule, .title = text_t, .remedy = text_r};
static struct rmg_rule live_rule = {.id = id_live, .title = text_t, .remedy = text_r,
                                    .validator = github};

/* A finding at path in layer `layer`, of a file with these bytes (NULL: not hashed). */
static struct rmg_finding finding(const char *path, int layer, const char *bytes)
{
    struct rmg_finding f = {.rule = &rule, .changed_layer = -1};
    f.loc.path = rmg_strdup(path);
    f.loc.layer_index = layer;
    f.secret = rmg_strdup("s3cr3t-value");
    f.secret_len = strlen(f.secret);
    memset(f.fingerprint, 'a', 64);
    if (bytes)
        assert_true(rmg_digest_buffer(bytes, strlen(bytes), &f.content));
    return f;
}

static void digests_match_openssl(void **state)
{
    (void)state;
    struct rmg_content_digest a, b;
    assert_true(rmg_digest_buffer("abc", 3, &a));
    struct rmg_digester *d = rmg_digester_new();
    rmg_digester_update(d, "a", 1);
    rmg_digester_update(d, "bc", 2);
    rmg_digester_final(d, &b);
    assert_true(b.set);
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(a.size, 3);
    /* the known MD5 of "abc" */
    static const unsigned char md5_abc[16] = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
                                              0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72};
    assert_memory_equal(a.md5, md5_abc, 16);
    rmg_digester_final(NULL, &b);
    assert_false(b.set);
}

static void package_modified_own_and_unhashed(void **state)
{
    (void)state;
    struct rmg_layer_prov base = {0};
    dpkg_layer(&base, "1.0-1", DOC_TEXT);
    const struct rmg_layer_prov *chain[2] = {&base, NULL};

    struct rmg_finding f = finding(DOC, 1, DOC_TEXT); /* a layer above, same bytes */
    rmg_origin_settle(chain, 2, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_PACKAGE);
    assert_string_equal(f.prov.manager, "dpkg");
    assert_string_equal(f.prov.package, "pkg");
    assert_string_equal(f.prov.version, "1.0-1");
    assert_non_null(strstr(f.prov.why, "md5 matches what dpkg recorded in layer 0"));
    assert_false(rmg_finding_gates(&f, false));
    assert_true(rmg_finding_gates(&f, true));
    rmg_finding_free(&f);

    f = finding(DOC, 0, "example token = not-a-real-one\nappended = s3cr3t-value\n");
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_MODIFIED);
    assert_true(rmg_finding_gates(&f, false));
    rmg_finding_free(&f);

    /* merged /usr: listed as bin/tool, found at /usr/bin/tool */
    f = finding("/usr/bin/tool", 0, TOOL_TEXT); /* the package listed it as bin/tool */
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_PACKAGE);
    rmg_finding_free(&f);

    f = finding("/srv/app/settings.py", 0, "x");
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_OWN);
    assert_null(f.prov.package);
    assert_true(rmg_finding_gates(&f, false));
    rmg_finding_free(&f);

    /* claimed, but the bytes were never hashed: nothing proves them the package's */
    f = finding(DOC, 0, NULL);
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_OWN);
    rmg_finding_free(&f);

    /* not an absolute layer path (image config), or no chain: untouched */
    f = finding("config.Env[0]", 0, "x");
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_OWN);
    rmg_finding_free(&f);
    rmg_layer_prov_clear(&base);
}

/* An upgrade in layer 1: the old copy (layer 0) verifies against layer 0's record, the new one
 * against layer 1's; the old bytes in layer 1 would be modified. */
static void each_layer_against_its_own_database(void **state)
{
    (void)state;
    static const char NEW[] = "example token = another-one\n";
    struct rmg_layer_prov l0 = {0}, l1 = {0};
    dpkg_layer(&l0, "1.0-1", DOC_TEXT);
    dpkg_layer(&l1, "2.0-1", NEW);
    const struct rmg_layer_prov *chain[2] = {&l0, &l1};
    struct rmg_finding f = finding(DOC, 0, DOC_TEXT);
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_PACKAGE);
    assert_string_equal(f.prov.version, "1.0-1");
    rmg_finding_free(&f);
    f = finding(DOC, 1, NEW);
    rmg_origin_settle(chain, 2, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_PACKAGE);
    assert_string_equal(f.prov.version, "2.0-1");
    rmg_finding_free(&f);
    f = finding(DOC, 1, DOC_TEXT);
    rmg_origin_settle(chain, 2, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_MODIFIED);
    rmg_finding_free(&f);
    rmg_layer_prov_clear(&l0);
    rmg_layer_prov_clear(&l1);
}

static void archives_npm_and_compiled_python(void **state)
{
    (void)state;
    static const char JAR[] = "PK jar bytes";
    char err[256], sums[128], h[33];
    struct rmg_layer_prov p = {0};
    md5hex(JAR, h);
    snprintf(sums, sizeof sums, "%s  usr/share/java/lib.jar\n", h);
    assert_int_equal(rmg_layer_prov_add_db(&p, "/var/lib/dpkg/info/libj.md5sums", sums,
                                           strlen(sums), err, sizeof err), RMG_OK);
    struct rmg_content_digest jd;
    assert_true(rmg_digest_buffer(JAR, strlen(JAR), &jd));
    assert_true(rmg_layer_prov_add_archive(&p, "/usr/share/java/lib.jar", &jd));
    const char *pj = "{\"name\": \"left\", \"version\": \"1.2.3\"}";
    assert_int_equal(rmg_layer_prov_add_db(&p, "/app/node_modules/left/package.json", pj,
                                           strlen(pj), err, sizeof err), RMG_OK);
    const struct rmg_layer_prov *chain[1] = {&p};

    /* inside the archive: checked with the archive's own digest */
    struct rmg_finding f = finding("/usr/share/java/lib.jar!/test/keys/k.pem", 0, "entry");
    f.loc.outer_len = strlen("/usr/share/java/lib.jar");
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_PACKAGE);
    assert_non_null(strstr(f.prov.why, "the archive's md5"));
    rmg_finding_free(&f);

    f = finding("/app/node_modules/left/lib/x.js", 0, "js");
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_ATTRIBUTED);
    assert_string_equal(f.prov.manager, "npm");
    assert_false(rmg_finding_gates(&f, false));
    f.rule = &live_rule; /* a checksummed live token counts anywhere */
    f.confidence = RMG_CONF_VALIDATED;
    assert_true(rmg_finding_gates(&f, false));
    rmg_finding_free(&f);

    /* a layer file whose own name holds "!" (outer_len 0: the whole path is the layer's): the
     * name is looked up whole, never cut at the "!" */
    f = finding("/usr/share/java/lib.jar!odd", 0, JAR);
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_OWN);
    rmg_finding_free(&f);

    /* a .pyc whose source has the same secret, verified: the source's origin */
    struct rmg_finding v[2] = {finding("/usr/lib/python3/dist-packages/m/__pycache__/"
                                       "a.cpython-311.pyc", 0, "pyc"),
                               finding("/usr/lib/python3/dist-packages/m/a.py", 0, "py")};
    v[1].prov = (struct rmg_provenance){RMG_ORIGIN_PACKAGE, rmg_strdup("dpkg"),
                                        rmg_strdup("python3-m"), rmg_strdup("1"),
                                        rmg_strdup("md5 matches")};
    rmg_origin_settle_compiled(v, 2);
    assert_int_equal(v[0].prov.origin, RMG_ORIGIN_PACKAGE);
    assert_string_equal(v[0].prov.package, "python3-m");
    assert_non_null(strstr(v[0].prov.why, "compiled from /usr/lib/python3/dist-packages/m/a.py"));
    /* another secret in the .pyc stays own */
    memset(v[0].fingerprint, 'b', 64);
    rmg_provenance_free(&v[0].prov);
    rmg_origin_settle_compiled(v, 2);
    assert_int_equal(v[0].prov.origin, RMG_ORIGIN_OWN);
    rmg_finding_free(&v[0]);
    rmg_finding_free(&v[1]);
    rmg_layer_prov_clear(&p);
}

/* The Go module cache: attribution by its layout, module and version as the cache spells them. */
static void go_module_cache(void **state)
{
    (void)state;
    const struct rmg_layer_prov *chain[1] = {NULL};
    struct rmg_finding f =
        finding("/root/go/pkg/mod/github.com/!azure/azure-sdk@v1.2.3/testdata/key.pem", 0, "k");
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_ATTRIBUTED);
    assert_string_equal(f.prov.manager, "go");
    assert_string_equal(f.prov.package, "github.com/!azure/azure-sdk");
    assert_string_equal(f.prov.version, "v1.2.3");
    rmg_finding_free(&f);
    f = finding("/go/pkg/mod/cache/download/golang.org/x/crypto/@v/v0.1.0.zip!/ssh/testdata/k",
                0, "k");
    rmg_origin_settle(chain, 1, &f);
    assert_int_equal(f.prov.origin, RMG_ORIGIN_ATTRIBUTED);
    assert_string_equal(f.prov.package, "golang.org/x/crypto");
    assert_string_equal(f.prov.version, "v0.1.0");
    rmg_finding_free(&f);
    /* not the cache's layout: the builder's own */
    const char *own[] = {"/srv/pkg/mod/app/config.yml", "/go/pkg/mod/cache/download/x/@v/",
                         "/go/pkg/mod/noversion/file", "/app/pkg/mod/a@b"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
        f = finding(own[i], 0, "x");
        rmg_origin_settle(chain, 1, &f);
        assert_int_equal(f.prov.origin, RMG_ORIGIN_OWN);
        rmg_finding_free(&f);
    }
}

static void origin_text_escapes_names(void **state)
{
    (void)state;
    struct rmg_finding f = finding("/x", 0, NULL);
    char out[256];
    rmg_report_origin_text(&f, out, sizeof out);
    assert_string_equal(out, "own file");
    f.prov = (struct rmg_provenance){RMG_ORIGIN_PACKAGE, rmg_strdup("dpkg"),
                                     rmg_strdup("evil\x1b[31m"), rmg_strdup("1.0"), NULL};
    rmg_report_origin_text(&f, out, sizeof out);
    assert_string_equal(out, "evil\\x1b[31m 1.0 (dpkg package, unmodified)");
    rmg_provenance_free(&f.prov);
    f.prov = (struct rmg_provenance){RMG_ORIGIN_BASE, rmg_strdup("base"), rmg_strdup("b:1"),
                                     NULL, NULL};
    f.loc.layer_index = 2;
    rmg_report_origin_text(&f, out, sizeof out);
    assert_string_equal(out, "inherited from b:1 (layer 2)");
    assert_true(rmg_finding_gates(&f, false));
    rmg_finding_free(&f);
}

static void cache_keeps_a_layers_facts(void **state)
{
    (void)state;
    char dir[] = "/tmp/rmg-origin-cache-XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    struct rmg_rules *rules = support_rules(
        "{\"rules\": [{\"id\": \"test-rule\", \"title\": \"t\", \"severity\": \"high\", "
        "\"keywords\": [\"s3cr3t\"], \"regex\": \"(?<secret>s3cr3t-[a-z]+)\", "
        "\"examples\": {\"positive\": [{\"text\": \"s3cr3t-abc\", \"secret\": \"s3cr3t-abc\"}], "
        "\"negative\": [\"nothing\"]}}]}", RMG_ENGINE_PCRE2);
    assert_non_null(rules);
    struct rmg_scan_opts opts = {0};
    struct rmg_limits lim;
    rmg_limits_default(&lim);
    struct rmg_cache *c = rmg_cache_open(dir, rules, &opts, &lim, err, sizeof err);
    assert_non_null(c);
    struct rmg_layer_prov p = {0};
    dpkg_layer(&p, "1.0-1", DOC_TEXT);
    struct rmg_content_digest jd;
    assert_true(rmg_digest_buffer("jar", 3, &jd));
    assert_true(rmg_layer_prov_add_archive(&p, "/a.jar", &jd));
    struct rmg_results lr;
    rmg_results_init(&lr);
    struct rmg_finding f = finding(DOC, 4, DOC_TEXT);
    f.rule = rmg_rules_find(rules, "test-rule");
    assert_int_equal(rmg_results_add_finding(&lr, &f), RMG_OK);
    struct rmg_pathset *ps = rmg_pathset_new();
    assert_true(rmg_pathset_add(ps, DOC, strlen(DOC), RMG_PATH_FILE));
    const char *digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    assert_true(rmg_cache_store(c, digest, &lr, 4, ps, &p));

    struct rmg_results out;
    rmg_results_init(&out);
    struct rmg_pathset *got = NULL;
    struct rmg_layer_prov *gp = NULL;
    assert_true(rmg_cache_load(c, digest, "t", 0, &out, &got, &gp));
    assert_int_equal(out.n_findings, 1);
    assert_true(out.findings[0].content.set);
    assert_memory_equal(&out.findings[0].content, &lr.findings[0].content,
                        sizeof out.findings[0].content);
    const struct rmg_layer_prov *chain[1] = {gp};
    rmg_origin_settle(chain, 1, &out.findings[0]);
    assert_int_equal(out.findings[0].prov.origin, RMG_ORIGIN_PACKAGE);
    assert_int_equal(gp->n_archives, 1);
    assert_memory_equal(&gp->archives->d, &jd, sizeof jd);

    /* a layer whose database files were not all kept is not cached */
    p.raw_incomplete = true;
    assert_false(rmg_cache_store(c, digest, &lr, 4, ps, &p));

    rmg_results_clear(&out);
    rmg_results_clear(&lr);
    rmg_pathset_free(got);
    rmg_pathset_free(ps);
    rmg_layer_prov_clear(gp);
    free(gp);
    rmg_layer_prov_clear(&p);
    rmg_cache_free(c);
    rmg_rules_free(rules);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digests_match_openssl),
        cmocka_unit_test(package_modified_own_and_unhashed),
        cmocka_unit_test(each_layer_against_its_own_database),
        cmocka_unit_test(archives_npm_and_compiled_python),
        cmocka_unit_test(go_module_cache),
        cmocka_unit_test(origin_text_escapes_names),
        cmocka_unit_test(cache_keeps_a_layers_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
