/* baseline.h: baselines: the findings a team has already seen and accepted, written once
 * (`rummage baseline`) and subtracted from later scans (`--baseline FILE`) so a CI gate fails
 * only on new ones. A baseline holds fingerprints, rule ids and locations, never a secret. */
#ifndef RMG_BASELINE_H
#define RMG_BASELINE_H

#include <stdio.h>

#include "rummage.h"

struct rmg_baseline;

/* Writes the baseline of r (sorted results) as JSON. False on out of memory or write error. */
bool rmg_baseline_write(FILE *out, const struct rmg_results *r, const struct rmg_rules *rules);

/* Loads a baseline file. A bad file is RMG_EINPUT with a message naming the file and what is
 * wrong. Caller frees with rmg_baseline_free. */
enum rmg_status rmg_baseline_load(const char *path, struct rmg_baseline **out, char *err,
                                  size_t errlen);
void rmg_baseline_free(struct rmg_baseline *b);

/* Drops the findings the baseline holds: same fingerprint (rule and secret) at the same path
 * (so the same secret showing up in a new place is new). Returns how many were dropped. */
size_t rmg_baseline_filter(const struct rmg_baseline *b, struct rmg_results *r);

#endif
