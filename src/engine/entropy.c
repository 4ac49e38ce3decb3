/* entropy.c: Shannon entropy of candidate tokens, the evidence of entropy rules. */

/*
 * DESIGN
 * H = log2(n) - (1/n) * sum(c_i * log2(c_i)) over the byte counts c_i: the same value as
 * -sum(p_i * log2(p_i)), computed from integer counts so that exact cases come out exact
 * ("aaaa" is 0, "ab" is 1, 16 distinct bytes are 4). The value is bounded by log2(n) and
 * by log2 of the alphabet size, so thresholds depend on the token's length and alphabet:
 * see docs/entropy.md for the measured distributions and the thresholds rules use.
 */

#include "engine/entropy.h"

#include <math.h>

double rmg_entropy_shannon(const char *s, size_t n)
{
    if (s == NULL || n == 0)
        return 0.0;
    size_t counts[256] = {0};
    for (size_t i = 0; i < n; i++)
        counts[(unsigned char)s[i]]++;

    double sum = 0.0;
    for (size_t c = 0; c < 256; c++)
        if (counts[c] > 1)
            sum += (double)counts[c] * log2((double)counts[c]);
    double h = log2((double)n) - sum / (double)n;
    return h > 0.0 ? h : 0.0;
}
