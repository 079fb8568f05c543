/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Splitting a bucket that spans cores (global, topic) over the workers by
 * demand: every period, each worker's share of the bucket's rate is its
 * max-min fair part (lib/alloc.h) of the demand it saw in the last period,
 * with a small floor so that an idle core can start; the burst is split in
 * proportion. The shares always sum to the bucket's rate, so the aggregate
 * holds however the traffic moves between cores.
 *
 * Control side only (the main lcore until the control thread exists).
 */
#ifndef TG_CONTROL_SPLIT_H
#define TG_CONTROL_SPLIT_H

#include <stdbool.h>

#include "dp.h"

struct split;

/** Track dp's split buckets. NULL on allocation failure. */
struct split *split_new(struct dp *dp);
void split_free(struct split *s);

/**
 * One period of dt_s seconds: read the demand counters and stage new
 * shares where they moved, setting changed[w] for each worker staged (the
 * caller publishes). rate[b] and burst[b] (NULL: the configured values)
 * are the whole bucket's current rate and burst for every bucket b, split
 * or not; the consumer tier gets rate[b] on every worker.
 */
void split_tick(struct split *s, double dt_s, const double *rate,
		const uint64_t *burst, bool *changed);

#endif /* TG_CONTROL_SPLIT_H */
