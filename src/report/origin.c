/* origin.c: how every report names a finding's origin and whether it counts
 * (docs/provenance.md). */
#include <string.h>

#include "report/report.h"

bool rmg_report_counts(const struct rmg_finding *f, const struct rmg_report_opts *o)
{
    return !f->ignored && rmg_finding_gates(f, o->all_origins);
}

/* An untrusted name from an image's package database: printable ASCII kept, the rest \xHH. */
static void put_name(struct rmg_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            rmg_buf_append(b, (const char *)p, 1);
        else
            rmg_buf_printf(b, "\\x%02x", *p);
    }
}

void rmg_report_origin_text(const struct rmg_finding *f, char *out, size_t cap)
{
    const struct rmg_provenance *p = &f->prov;
    struct rmg_buf b = {0};
    if (p->origin == RMG_ORIGIN_OWN) {
        rmg_buf_printf(&b, "own file");
    } else if (p->origin == RMG_ORIGIN_BASE) {
        rmg_buf_printf(&b, "inherited from ");
        put_name(&b, p->package);
        rmg_buf_printf(&b, " (layer %d)", f->loc.layer_index);
    } else {
        if (p->origin == RMG_ORIGIN_MODIFIED)
            rmg_buf_printf(&b, "modified file of ");
        put_name(&b, p->package);
        if (p->version) {
            rmg_buf_printf(&b, " ");
            put_name(&b, p->version);
        }
        rmg_buf_printf(&b, " (");
        put_name(&b, p->manager);
        rmg_buf_printf(&b, " package%s)", p->origin == RMG_ORIGIN_PACKAGE      ? ", unmodified"
                                          : p->origin == RMG_ORIGIN_ATTRIBUTED ? ", by its manifest"
                                                                               : "");
    }
    rmg_fmt(out, cap, "%s", b.data ? b.data : "?");
    rmg_buf_free(&b);
}
