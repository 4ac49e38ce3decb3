/* gunzip.c: gzip layers inflated with ISA-L (see gunzip.h).
 *
 * DESIGN. Inflating is what bounds a scan of gzip layers: the reader thread spends most of its
 * time in zlib's inflate. ISA-L's igzip decodes the same streams two to three times faster, so
 * the layer walker's read callback is wrapped: the first upstream block decides (gzip magic or
 * not), a gzip stream is inflated into a buffer of ours and libarchive is handed the plain tar,
 * anything else goes through untouched (libarchive's filters handle zstd, xz, bzip2). Members
 * are inflated one after another as gzip(1) does; after the last, bytes that do not start
 * another member are ignored, as libarchive's gzip filter ignores them. The upstream block is
 * only asked for when the previous one is used up, so its buffer stays valid (libarchive's
 * callback contract). */
#include "image/gunzip.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef RMG_HAVE_ISAL
#include <isa-l/igzip_lib.h>

#define OUT_SIZE (256u << 10)

enum mode { UNDECIDED, PASS, INFLATE, DONE };

struct gunzip {
    archive_read_callback *up;
    void *up_ud;
    enum mode mode;
    bool up_eof;
    struct inflate_state st;
    unsigned char out[OUT_SIZE];
};

static const char *isal_error(int ret)
{
    switch (ret) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC or length mismatch";
    default: return "inflate error";
    }
}

/* Takes the next non-empty upstream block as input; false at its end or on error (*err). */
static bool refill(struct gunzip *g, struct archive *a, bool *err)
{
    while (!g->up_eof) {
        const void *blk;
        la_ssize_t n = g->up(a, g->up_ud, &blk);
        if (n < 0) {
            *err = true;
            return false;
        }
        if (n == 0) {
            g->up_eof = true;
            break;
        }
        g->st.next_in = (uint8_t *)blk;
        g->st.avail_in = (uint32_t)n;
        return true;
    }
    return false;
}

static void start_member(struct gunzip *g)
{
    uint8_t *in = g->st.next_in;
    uint32_t avail = g->st.avail_in;
    isal_inflate_reset(&g->st);
    g->st.crc_flag = ISAL_GZIP;
    g->st.next_in = in;
    g->st.avail_in = avail;
}

static la_ssize_t gunzip_read(struct archive *a, void *ud, const void **out)
{
    struct gunzip *g = ud;
    bool err = false;
    if (g->mode == UNDECIDED) {
        if (!refill(g, a, &err) && err)
            return -1;
        const uint8_t *h = g->st.next_in;
        bool gz = g->st.avail_in >= 2 && h[0] == 0x1f && h[1] == 0x8b;
        g->mode = gz ? INFLATE : PASS;
        if (!gz) {
            /* Hand over the block already taken, then pass the rest through. */
            *out = g->st.next_in;
            la_ssize_t n = (la_ssize_t)g->st.avail_in;
            g->st.avail_in = 0;
            return n;
        }
        start_member(g);
    }
    if (g->mode == PASS)
        return g->up(a, g->up_ud, out);
    while (g->mode == INFLATE) {
        if (g->st.avail_in == 0 && !refill(g, a, &err) && err)
            return -1;
        if (g->st.block_state == ISAL_BLOCK_FINISH) {
            /* A member ended: another follows only if the next bytes are a gzip header (the
             * magic may straddle two upstream blocks: one byte is not enough to tell). */
            if (g->st.avail_in == 0) {
                g->mode = DONE;
                break;
            }
            if (g->st.avail_in >= 2 && g->st.next_in[0] == 0x1f && g->st.next_in[1] == 0x8b) {
                start_member(g);
            } else {
                g->mode = DONE;
                break;
            }
        }
        if (g->st.avail_in == 0 && g->up_eof) {
            archive_set_error(a, -1, "gzip: truncated input");
            return -1;
        }
        g->st.next_out = g->out;
        g->st.avail_out = OUT_SIZE;
        int ret = isal_inflate(&g->st);
        if (ret < 0) {
            archive_set_error(a, -1, "gzip: %s", isal_error(ret));
            return -1;
        }
        size_t produced = OUT_SIZE - g->st.avail_out;
        if (produced) {
            *out = g->out;
            return (la_ssize_t)produced;
        }
    }
    return 0;
}

static int gunzip_close(struct archive *a, void *ud)
{
    (void)a;
    free(ud);
    return ARCHIVE_OK;
}

int rmg_archive_open_inflating(struct archive *a, void *ud, archive_read_callback *read_cb)
{
    struct gunzip *g = malloc(sizeof *g);
    if (!g) {
        archive_set_error(a, ENOMEM, "out of memory");
        return ARCHIVE_FATAL;
    }
    memset(g, 0, offsetof(struct gunzip, out));
    g->up = read_cb;
    g->up_ud = ud;
    isal_inflate_init(&g->st);
    return archive_read_open(a, g, NULL, gunzip_read, gunzip_close);
}

bool rmg_have_isal(void)
{
    return true;
}

#else

int rmg_archive_open_inflating(struct archive *a, void *ud, archive_read_callback *read_cb)
{
    return archive_read_open(a, ud, NULL, read_cb, NULL);
}

bool rmg_have_isal(void)
{
    return false;
}

#endif
