/* tarfix.h: for fuzz targets that read tar streams: recomputes the header checksums of a tar
 * held in memory (and of plain tars stored in it, a few levels down), so that mutated headers
 * still reach the code behind libarchive's checksum test instead of stopping at it. */
#ifndef RMG_FUZZ_TARFIX_H
#define RMG_FUZZ_TARFIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t tarfix_size(const uint8_t *h)
{
    if (h[124] & 0x80) /* base-256 */
        return UINT64_MAX;
    uint64_t v = 0;
    for (int i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(h[i] - '0');
    return v;
}

static void tarfix(uint8_t *buf, size_t len, int depth)
{
    static const uint8_t zero[512];
    for (size_t off = 0; len - off >= 512;) {
        uint8_t *h = buf + off;
        if (memcmp(h, zero, 512) == 0)
            return;
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < 512; i++)
            sum += h[i];
        char ck[8];
        snprintf(ck, sizeof ck, "%06o", sum & 0777777);
        memcpy(h + 148, ck, 7); /* six digits, a NUL, the space already there */
        uint64_t size = tarfix_size(h);
        off += 512;
        if (size > len - off)
            return;
        if (depth < 3 && size >= 512 && memcmp(buf + off + 257, "ustar", 5) == 0)
            tarfix(buf + off, (size_t)size, depth + 1);
        off += (size_t)((size + 511) & ~(uint64_t)511);
        if (off > len)
            return;
    }
}

#endif
