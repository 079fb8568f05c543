/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data plane internals shared by dp.c (set-up, snapshots, staging) and
 * worker.c (the hot loop). Not for control/: that uses dp.h only.
 *
 * Who writes what: a struct dp_worker is written by its worker only (its
 * buckets, tables, queues and counters), except `stage`, which the control
 * side writes and the worker reads under a sequence lock when `stage->gen`
 * moves. Everything in struct dp and struct dp_pipe is read-only once the
 * workers run.
 */
#ifndef TG_DP_PRIV_H
#define TG_DP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "cfg.h"
#include "classify.h"
#include "ctable.h"
#include "dp.h"
#include "shaper.h"
#include "tb.h"

#define DP_MAX_WORKERS 64
#define DP_MAX_BURST 512

/* Consumer profiles of a pipeline: the default, the overflow bucket, then
 * one per override; room for as many overrides as a config may have, so a
 * reload never reallocates under the workers. */
#define DP_CPROF_DEFAULT 0
#define DP_CPROF_OVERFLOW 1
#define DP_CPROF_OVR 2
#define DP_CPROF_CAP (CFG_MAX_OVERRIDES + DP_CPROF_OVR)

/* What a reload may change about a bucket, as the worker reads it. */
struct dp_bparam {
	uint8_t action;
	uint8_t shadow;
	uint8_t mark_dscp;
	uint8_t reset_gen; /* bumped by dp_stage_reset() */
};

/* A tier of a message, as the worker holds it while deciding. */
struct dp_tier {
	const struct tb_profile *prof;
	struct tb_state *st;
	const struct shaper_profile *sprof;
	struct dp_bucket_ctr *ctr;
	const struct dp_bparam *par;
};

/* A pipeline, resolved to DPDK ids and bucket indexes. Read-only. */
struct dp_pipe {
	const struct cfg_pipeline *cfg;
	uint16_t in_port;
	uint16_t out_port; /* port egress and reflect */
	enum cfg_egress egress;
	struct rte_ring *ring;
	int global_b;		    /* bucket index, or -1 */
	int topic_b0;		    /* bucket index of topic 0 */
	int cons_b;		    /* consumer tier bucket, or -1 */
	uint32_t cprof0;	    /* first consumer profile (DP_CPROF_*) */
	uint64_t idle_cycles;	    /* consumer aging */
	uint32_t age_budget;	    /* slots to examine per age period */
	struct cls cls; /* the rules it started with */
};

/* What the control side stages for one worker (see dp_publish()). */
struct dp_stage {
	uint64_t seq; /* odd while the control side writes */
	uint64_t gen; /* bumped by each publish */
	uint8_t breaker_open;
	uint8_t shed_below;
	uint8_t credit_block[CFG_MAX_PIPELINES];
	const struct cls *cls[CFG_MAX_PIPELINES];	     /* borrowed */
	const struct cfg_consumers *cons[CFG_MAX_PIPELINES]; /* borrowed */
	const struct dp_meters *meters;			     /* borrowed */
	struct dp_bparam *bparam;	/* [n_buckets] */
	uint64_t *meter_limit;		/* [DP_MAX_METERS] */
	uint32_t n_cprof[CFG_MAX_PIPELINES]; /* consumer profiles in use */
	double *rate;			/* [n_buckets], control's record */
	uint64_t *burst;		/* [n_buckets] */
	struct tb_profile *bprof;	/* [n_buckets] */
	struct shaper_profile *bsprof;	/* [n_buckets] */
	struct tb_profile *cprof;	/* [n_cprof] */
	struct shaper_profile *csprof;	/* [n_cprof] */
} __rte_cache_aligned;

/* Messages waiting for their egress, with what they count as. */
struct dp_txq {
	uint16_t n;
	struct rte_mbuf *m[DP_MAX_BURST * 2];
	uint8_t kind[DP_MAX_BURST * 2]; /* enum dp_outcome; SHAPED: release */
};

/* One held message of the shape queue (a binary min-heap by depart). */
struct dp_held {
	uint64_t depart;
	struct rte_mbuf *m;
	uint32_t pipe;
};

struct dp_worker {
	/* hot, worker-owned */
	unsigned id;
	unsigned lcore;
	uint64_t gen_seen;    /* the publication in force (read by control) */
	uint64_t applied_tsc; /* when it was applied (read by control) */
	uint8_t breaker_open;
	uint8_t shed_below;
	uint8_t credit_block[CFG_MAX_PIPELINES];
	const struct cls *cls[CFG_MAX_PIPELINES];
	const struct cfg_consumers *cons[CFG_MAX_PIPELINES];
	const struct dp_meters *meters;
	struct dp_bparam *bparam;      /* [n_buckets] in force */
	uint64_t *meter_limit;	       /* [DP_MAX_METERS] in force */
	uint64_t *meter_used;	       /* [DP_MAX_METERS] (read by control) */
	struct tb_profile *bprof;      /* [n_buckets] in force */
	struct shaper_profile *bsprof; /* [n_buckets] */
	struct tb_state *bstate;       /* [n_buckets] split sub-buckets */
	struct tb_profile *cprof;      /* [n_cprof] in force */
	struct shaper_profile *csprof; /* [n_cprof] */
	struct tb_state *overflow;     /* [n_pipes] consumer overflow */
	struct ctab *ctab[CFG_MAX_PIPELINES];
	struct dp_held *heap;
	uint32_t heap_n, heap_cap;
	struct dp_txq *txq; /* [n_pipes] */
	uint64_t next_age;  /* clock of the next aging step */
	uint32_t idle_polls; /* empty loops in a row (idle_sleep_us) */

	/* counters: st under stats_seq, bctr plain (each exact alone) */
	uint64_t stats_seq;
	struct dp_core_stats st;
	struct dp_bucket_ctr *bctr; /* [n_buckets] */

	struct dp_stage *stage;	     /* written by the control side */
	struct dp_stage stage_copy; /* worker's scratch copy of it */
	struct dp *dp;
} __rte_cache_aligned;

/* Empty polls in a row before a worker with idle_sleep_us sleeps. */
#define DP_IDLE_POLLS 64

struct dp {
	const struct cfg *cfg;
	uint64_t hz;
	unsigned n_workers;
	unsigned n_buckets;
	unsigned n_pipes;
	uint32_t n_cprof;
	uint16_t burst;
	uint32_t idle_sleep_us; /* sleep after DP_IDLE_POLLS empty polls */
	struct dp_bucket_info *bucket; /* [n_buckets] */
	struct dp_pipe pipe[CFG_MAX_PIPELINES];
	uint16_t port_id[CFG_MAX_PORTS];
	bool port_found[CFG_MAX_PORTS];
	bool port_started[CFG_MAX_PORTS];
	struct tb_profile *scratch_cprof;      /* dp_stage_rate's, */
	struct shaper_profile *scratch_csprof; /* [DP_CPROF_CAP] each */
	struct rte_mempool *pool;
	struct dp_worker *w[DP_MAX_WORKERS];
	volatile int quit;
	bool running;
};

/* A consumer address's slot in a metered set: open addressing. */
static inline int dp_meters_find(const struct dp_meters *m,
				 const uint8_t key[16])
{
	uint32_t i = m->n ? ctab_hash(key) & (DP_METER_SLOTS - 1) : 0, k;

	for (k = 0; m->n && k < DP_METER_SLOTS; k++) {
		int16_t s = m->slot[i];

		if (s < 0)
			return -1;
		if (memcmp(m->key[s], key, 16) == 0)
			return s;
		i = (i + 1) & (DP_METER_SLOTS - 1);
	}
	return -1;
}

/* The worker loop (worker.c), launched on each worker lcore. */
int dp_worker_main(void *arg);

/* Apply a publication (worker.c): the worker side of dp_publish(). */
void dp_worker_apply(struct dp_worker *w);

#endif /* TG_DP_PRIV_H */
