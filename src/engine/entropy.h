/* entropy.h: Shannon entropy of candidate tokens. */
#ifndef RMG_ENTROPY_H
#define RMG_ENTROPY_H

#include <stddef.h>

/* Shannon entropy of the byte distribution of s[0..n), in bits per character
 * (0 for n == 0). Pure; thread-safe. */
double rmg_entropy_shannon(const char *s, size_t n);

#endif
