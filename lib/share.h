/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A node's share of a bucket shared across a cluster ("One bucket, many
 * servers" in DESIGN.md), decided once per control tick from what the
 * sync topic said: the max-min fair split (alloc.h) of the cluster rate
 * over the live nodes by their claimed demand, while this node's own
 * records come back; the last share for a while when they stop; then the
 * outage policy.
 *
 *   joining  listening, none of our records back yet: split over the nodes
 *            heard so far (for one lease after we started listening)
 *   synced   our last record came back within `fresh_ns`: a node is live
 *            while its last record is younger than a lease
 *   holding  ours stopped coming back, less than a lease ago: the last
 *            share (the same part of the cluster rate)
 *   outage   a lease without ours: static = rate / the nodes live when last
 *            synced; open = no limit (rate_max); closed = nothing
 *            (rate_min)
 *
 * Every node sees the same records, sorts the nodes the same way (the
 * caller gives them in node-id order) and runs the same arithmetic, so
 * the shares of one set of records add up to the rate exactly.
 *
 * Pure: time is a parameter (monotonic ns), no allocation. Control thread.
 */
#ifndef TG_SHARE_H
#define TG_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"

#define SHARE_MAX_PEERS 64

/** How the share is decided now (see above). */
enum share_state {
	SHARE_JOINING,
	SHARE_SYNCED,
	SHARE_HOLDING,
	SHARE_OUTAGE,
	SHARE_STATE_MAX
};

/** One node's latest record, as the caller received it. */
struct share_peer {
	uint64_t demand_milli; /**< demand, thousandths of a token/s */
	uint64_t seen_ns;      /**< when it arrived */
	bool self;	       /**< this node (always live) */
};

/** Settings (from the kafka section). */
struct share_config {
	uint64_t lease_ns;     /**< a node is live this long after a record */
	uint64_t fresh_ns;     /**< ours back within this: in sync (<= lease) */
	double headroom;       /**< a node claims its demand x this (>= 1) */
	double floor_frac;     /**< each live node gets at least this part of
				*   an equal share (0..1) */
	enum cfg_outage outage;
	double rate_min;       /**< "nothing" (a bucket rate cannot be 0) */
	double rate_max;       /**< "no limit" */
};

/** What one shared bucket remembers between ticks. */
struct share_node {
	enum share_state state;
	double frac;	    /**< share / rate when last synced */
	unsigned live;	    /**< live nodes at the last split */
	unsigned last_live; /**< the same, when last synced (static policy) */
	uint64_t synced_ns; /**< last tick synced (0: never) */
};

/** One tick's view. */
struct share_input {
	double rate;			 /**< the cluster rate now (> 0) */
	const struct share_peer *peers;	 /**< sorted by node id */
	unsigned n;			 /**< <= SHARE_MAX_PEERS */
	uint64_t own_seen_ns;		 /**< our last record back (0: none) */
	uint64_t listen_ns;		 /**< listening since (0: not yet) */
	uint64_t now_ns;
};

/** A node that has just started: joining; the static outage policy
 *  divides by expected_nodes until a first sync (0: by 1, the whole
 *  rate). */
void share_init(struct share_node *s, unsigned expected_nodes);

/**
 * One tick: the new state in s->state, and this node's rate returned, in
 * [rate_min, rate_max].
 */
double share_step(struct share_node *s, const struct share_config *c,
		  const struct share_input *in);

/** "joining", "synced", "holding", "outage". */
const char *share_state_name(enum share_state st);

#endif /* TG_SHARE_H */
