/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's public header: the seam between the DPDK workers and
 * whoever controls them (the main lcore now, the control thread of
 * control/ later).
 *
 * Reading: per-core counters (rx, every outcome, busy and total cycles)
 * and per-bucket counters (demand, admitted, rejected), snapshotted without
 * stopping or slowing a worker. Every received message is counted exactly
 * once, as one outcome, and a snapshot always satisfies
 * rx == sum(outcome[]).
 *
 * Writing: per-core bucket rates (a core's share of a global or topic
 * bucket, or the consumer tier's rate) and flags (breaker, shedding),
 * staged by the control side and published per core; the worker picks a
 * publication up at the start of its next burst, with no lock on its side.
 *
 * Threads: dp_create/dp_start/dp_stop/dp_destroy from main; everything
 * else here from one control thread (not thread-safe among callers).
 */
#ifndef TG_DP_H
#define TG_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "classify.h"

/** What became of a received message: each one is exactly one of these. */
enum dp_outcome {
	DP_ADMITTED,	     /**< passed every tier, sent */
	DP_MARKED,	     /**< rejected by a mark tier: DSCP rewritten, sent */
	DP_SHAPED,	     /**< rejected by a shape tier: held, sent later */
	DP_DROP_LIMIT,	     /**< rejected by a drop tier */
	DP_DROP_BREAKER,     /**< the breaker was open */
	DP_DROP_SHED,	     /**< its priority class was being shed */
	DP_DROP_CREDIT,	     /**< its consumer ran out of credits */
	DP_DROP_SHAPE_FULL,  /**< a shape tier's queue was full */
	DP_DROP_MALFORMED,   /**< truncated or inconsistent frame */
	DP_DROP_UNSUPPORTED, /**< not IPv4/IPv6 (ARP, LLDP, ...) */
	DP_DROP_TX_FULL,     /**< egress port or ring had no room */
	DP_OUTCOME_MAX
};

/** "admitted", "dropped_limit", ...: the names in stats and JSON. */
const char *dp_outcome_name(enum dp_outcome o);

/** Per-core counters; written by one worker only. */
struct dp_core_stats {
	uint64_t rx;			    /**< messages received */
	uint64_t rx_bytes;		    /**< their frame bytes */
	uint64_t outcome[DP_OUTCOME_MAX];   /**< sums to rx */
	uint64_t busy_cycles;		    /**< loop time with work */
	uint64_t total_cycles;		    /**< loop time in all */
	uint64_t consumers;		    /**< consumer buckets now */
	uint64_t consumer_overflow;	    /**< messages on overflow */
	uint64_t consumers_aged;	    /**< buckets aged out */
	uint64_t shape_queued;		    /**< held in the shape queue now */
	uint64_t shape_discarded;	    /**< held at exit, never sent */
	uint64_t first_rx_tsc;		    /**< clock of the first burst */
	uint64_t last_rx_tsc;		    /**< clock of the latest burst */
	uint64_t rx_prio[8];		    /**< parsed messages per class */
};

/** Per-core, per-bucket counters. For the consumer tier: all its
 *  consumers summed. */
struct dp_bucket_ctr {
	uint64_t demand_msgs;	  /**< messages that reached this tier */
	uint64_t demand_tokens;	  /**< their cost */
	uint64_t admitted_msgs;	  /**< messages this bucket took tokens for */
	uint64_t admitted_tokens; /**< tokens taken */
	uint64_t rejected_msgs;	  /**< messages it rejected */
	uint64_t shadow_msgs;	  /**< shadow mode: it would have rejected */
};

/** What a bucket is; fixed for the life of the data plane. */
struct dp_bucket_info {
	const struct cfg_bucket *cfg; /**< its configuration (rate: ceiling) */
	unsigned pipeline;	      /**< index in cfg->pipelines */
	enum cfg_tier tier;
	bool split; /**< one sub-bucket per core (global, topic) */
};

struct dp;

/**
 * Set up ports, queues, mempool, rings and the per-core tables for cfg,
 * after rte_eal_init(). n_workers worker lcores are taken in order from the
 * EAL's lcores other than the main one. cfg must outlive the data plane.
 * Returns NULL with a message in err on failure (everything undone).
 */
struct dp *dp_create(const struct cfg *cfg, unsigned n_workers, char *err,
		     size_t err_len);

/** Start the ports and launch the workers. Returns 0 or -errno. */
int dp_start(struct dp *dp);

/** Ask the workers to stop, wait for them, stop the ports. Safe to call
 *  twice; the counters stay readable. */
void dp_stop(struct dp *dp);

/** Free everything; NULL is fine. */
void dp_destroy(struct dp *dp);

/** The config the data plane runs. */
const struct cfg *dp_cfg(const struct dp *dp);

/** The workers' clock now (TSC cycles), for comparing with their
 *  timestamps (dp_applied_gen()). */
uint64_t dp_now_tsc(void);

/** TSC cycles per second (the workers' clock). */
uint64_t dp_hz(const struct dp *dp);
unsigned dp_n_workers(const struct dp *dp);
/** The EAL lcore worker w runs on. */
unsigned dp_worker_lcore(const struct dp *dp, unsigned w);
unsigned dp_n_buckets(const struct dp *dp);
const struct dp_bucket_info *dp_bucket(const struct dp *dp, unsigned b);
/** Index of a bucket by name, or -1. */
int dp_bucket_find(const struct dp *dp, const char *name);

/**
 * Snapshot worker w's counters: *st (consistent: rx == sum of outcomes)
 * and, when ctr is not NULL, its per-bucket counters (dp_n_buckets()
 * entries; each counter is exact, the set is not taken at one instant).
 */
void dp_snapshot(const struct dp *dp, unsigned w, struct dp_core_stats *st,
		 struct dp_bucket_ctr *ctr);

/**
 * Stage a rate for worker w's part of bucket b: the rate of its sub-bucket
 * for a split bucket (global, topic), the rate of every consumer bucket of
 * the tier for the consumer tier (per-consumer overrides scale with it).
 * rate_per_s in tokens per second, burst in tokens (>= 1). Takes effect at
 * dp_publish(w). Returns 0 or -EINVAL.
 */
int dp_stage_rate(struct dp *dp, unsigned w, unsigned b, double rate_per_s,
		  uint64_t burst);

/** Stage the breaker (true: every message is dropped) and shedding
 *  (messages of priority class < shed_below are dropped; 0: none). */
void dp_stage_flags(struct dp *dp, unsigned w, bool breaker_open,
		    uint8_t shed_below);

/** Stage what a reload may change about bucket b: its action, shadow
 *  mode and mark DSCP. */
void dp_stage_bucket_params(struct dp *dp, unsigned w, unsigned b,
			    enum cfg_action action, bool shadow,
			    uint8_t mark_dscp);

/** Stage a reset of bucket b to full (every consumer bucket of the tier
 *  for the consumer tier: the worker walks its table once). */
void dp_stage_reset(struct dp *dp, unsigned w, unsigned b);

/**
 * Stage new topic rules and consumer settings (overrides) for pipeline pi.
 * Both are borrowed until every worker has applied a later publication
 * (dp_quiescent()); the consumer profiles must be staged to match with
 * dp_stage_rate() on the consumer tier. New overrides apply to consumers
 * seen from then on; those already in the table keep their profile until
 * they age out or their bucket is reset.
 */
void dp_stage_rules(struct dp *dp, unsigned w, unsigned pi,
		    const struct cls *cls, const struct cfg_consumers *cons);

/** Stage credit blocking of a whole pipeline (its egress has no room):
 *  new messages are dropped as dropped_credit. */
void dp_stage_credit_block(struct dp *dp, unsigned w, unsigned pi,
			   bool blocked);

/* Per-consumer credits: a set of metered consumer addresses. */
#define DP_MAX_METERS 1024
#define DP_METER_SLOTS 2048
struct dp_meters {
	uint32_t n;
	int16_t slot[DP_METER_SLOTS]; /**< index into key, or -1 */
	uint8_t key[DP_MAX_METERS][16];
};

/**
 * Stage the metered set (borrowed like the rules; NULL: none) and, for
 * each of its consumers, the cumulative count of messages worker w may
 * admit (its allowance): past it, the consumer's messages are dropped as
 * dropped_credit.
 */
void dp_stage_meters(struct dp *dp, unsigned w, const struct dp_meters *m,
		     const uint64_t *limit);

/** Messages worker w admitted for metered consumer i (cumulative). */
uint64_t dp_meter_used(const struct dp *dp, unsigned w, unsigned i);

/** Make worker w apply everything staged for it, at its next burst.
 *  Returns the publication's generation. */
uint64_t dp_publish(struct dp *dp, unsigned w);

/** The generation worker w has applied, and its clock when it did. */
uint64_t dp_applied_gen(const struct dp *dp, unsigned w,
			uint64_t *applied_tsc);

/** Whether every worker has applied publication gen[w] or a later one. */
bool dp_quiescent(const struct dp *dp, const uint64_t *gen);

/** Messages in pipeline pi's egress ring now, and its size (0, 0 when
 *  its egress is not a ring). */
void dp_ring_fill(const struct dp *dp, unsigned pi, unsigned *used,
		  unsigned *size);

/** Port i's counters (as DPDK's rte_eth_stats). Returns 0 or -errno. */
struct dp_port_stats {
	uint64_t ipackets, opackets, imissed, ierrors, oerrors, rx_nombuf;
};
int dp_port_stats(const struct dp *dp, unsigned i, struct dp_port_stats *st);

/**
 * Point the data plane at a reloaded config with the same structure
 * (cfg_reloadable()): bucket infos and pipelines now describe it. The
 * workers do not read the config: what they use is staged. Control only.
 */
void dp_set_cfg(struct dp *dp, const struct cfg *cfg);

/** Whole tokens in worker w's part of split bucket b now (read without
 *  stopping the worker: a recent value). 0 for the consumer tier. */
uint64_t dp_bucket_tokens(const struct dp *dp, unsigned w, unsigned b);

/** The rules a pipeline started with (built by dp_create). */
const struct cls *dp_initial_rules(const struct dp *dp, unsigned pi);

/** The rate staged (and, once published, in force) for (w, b). */
double dp_staged_rate(const struct dp *dp, unsigned w, unsigned b);
uint64_t dp_staged_burst(const struct dp *dp, unsigned w, unsigned b);

#endif /* TG_DP_H */
