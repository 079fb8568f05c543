/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the program prints: the compact per-second stats line (like
 * testpmd's) and the JSON summary of the final counters.
 */
#ifndef TG_REPORT_H
#define TG_REPORT_H

#include <stdio.h>

#include "dp.h"

/** Counters of every worker and bucket, summed, at one moment. */
struct report_snap {
	double t_s; /* seconds since start */
	struct dp_core_stats total;
	struct dp_core_stats *core;  /* [n_workers] */
	struct dp_bucket_ctr *bucket; /* [n_buckets], summed over workers */
	struct dp_bucket_ctr *tier_sum; /* [CFG_TIER_MAX] */
};

int report_snap_init(struct report_snap *s, const struct dp *dp);
void report_snap_free(struct report_snap *s);
/** Fill s from the data plane now; t_s is the caller's clock. */
void report_snap_take(struct report_snap *s, const struct dp *dp, double t_s);

/** One line of rates between two snapshots, to f. */
void report_line(FILE *f, const struct dp *dp, const struct report_snap *prev,
		 const struct report_snap *cur);

/** The JSON summary of snapshot s, to path. Returns 0 or -errno. */
int report_json(const char *path, const struct dp *dp,
		const struct report_snap *s, const char *version);

#endif /* TG_REPORT_H */
