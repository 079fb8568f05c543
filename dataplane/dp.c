/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data plane set-up and the control seam: ports, queues, mempool, rings,
 * the bucket index, per-worker tables, counter snapshots and staged rates.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_priv.h"

static const char *const outcome_names[DP_OUTCOME_MAX] = {
	[DP_ADMITTED] = "admitted",
	[DP_MARKED] = "marked",
	[DP_SHAPED] = "shaped",
	[DP_DROP_LIMIT] = "dropped_limit",
	[DP_DROP_BREAKER] = "dropped_breaker",
	[DP_DROP_SHED] = "dropped_shed",
	[DP_DROP_CREDIT] = "dropped_credit",
	[DP_DROP_SHAPE_FULL] = "dropped_shape_full",
	[DP_DROP_MALFORMED] = "dropped_malformed",
	[DP_DROP_UNSUPPORTED] = "dropped_unsupported",
	[DP_DROP_TX_FULL] = "dropped_tx_full",
};

const char *dp_outcome_name(enum dp_outcome o)
{
	return o < DP_OUTCOME_MAX ? outcome_names[o] : "?";
}

__attribute__((format(printf, 3, 4))) static void
seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static void *zalloc(size_t n)
{
	return rte_zmalloc("tidegate", n ? n : 1, RTE_CACHE_LINE_SIZE);
}

/* consumer tables: from DPDK memory, the socket of the worker */
static void *ctab_alloc(void *ctx, size_t size, size_t align)
{
	int socket = (int)(intptr_t)ctx;

	return rte_malloc_socket("tidegate_ctab", size, (unsigned)align,
				 socket);
}

static void ctab_release(void *ctx, void *ptr)
{
	(void)ctx;
	rte_free(ptr);
}

/* ---- the bucket index ---- */

static int build_buckets(struct dp *dp)
{
	const struct cfg *c = dp->cfg;
	unsigned pi, t, n = 0;
	uint32_t ncp = 0;

	for (pi = 0; pi < c->n_pipelines; pi++) {
		const struct cfg_pipeline *p = &c->pipelines[pi];

		n += p->has_global + p->n_topics + p->consumers.enabled;
		if (p->consumers.enabled)
			ncp += DP_CPROF_CAP;
	}
	dp->bucket = calloc(n + 1, sizeof(*dp->bucket));
	/* one pipeline's consumer profiles are built at a time */
	dp->scratch_cprof = calloc(DP_CPROF_CAP, sizeof(*dp->scratch_cprof));
	dp->scratch_csprof = calloc(DP_CPROF_CAP, sizeof(*dp->scratch_csprof));
	if (!dp->bucket || !dp->scratch_cprof || !dp->scratch_csprof)
		return -ENOMEM;
	dp->n_cprof = ncp;
	n = 0;
	ncp = 0;
	for (pi = 0; pi < c->n_pipelines; pi++) {
		const struct cfg_pipeline *p = &c->pipelines[pi];
		struct dp_pipe *dpp = &dp->pipe[pi];

		dpp->cfg = p;
		dpp->global_b = dpp->cons_b = -1;
		if (p->has_global) {
			dpp->global_b = (int)n;
			dp->bucket[n++] = (struct dp_bucket_info){
				&p->global, pi, CFG_TIER_GLOBAL, true
			};
		}
		dpp->topic_b0 = (int)n;
		for (t = 0; t < p->n_topics; t++)
			dp->bucket[n++] = (struct dp_bucket_info){
				&p->topics[t], pi, CFG_TIER_TOPIC, true
			};
		if (p->consumers.enabled) {
			dpp->cons_b = (int)n;
			dp->bucket[n++] = (struct dp_bucket_info){
				&p->consumers.bucket, pi, CFG_TIER_CONSUMER,
				false
			};
			dpp->cprof0 = ncp;
			ncp += DP_CPROF_CAP;
			dpp->idle_cycles = (uint64_t)(p->consumers.idle_timeout_s *
						      (double)dp->hz);
			/* one aging step per ms; the whole table once a
			 * quarter of the idle timeout */
			dpp->age_budget = (uint32_t)ceil(
				(double)p->consumers.max_per_core * 4 / 3 /
				(p->consumers.idle_timeout_s * 1000 / 4));
			if (dpp->age_budget < 8)
				dpp->age_budget = 8;
		}
		if (cls_build(&dpp->cls, p) < 0)
			return -ENOMEM;
	}
	dp->n_buckets = n;
	dp->n_pipes = c->n_pipelines;
	return 0;
}

/* The config rate and burst of consumer profile k (see DP_CPROF_*). */
static void cprof_cfg(const struct cfg_consumers *cc, uint32_t k, double *rate,
		      uint64_t *burst)
{
	if (k >= DP_CPROF_OVR && k < DP_CPROF_OVR + cc->n_overrides) {
		*rate = cc->overrides[k - DP_CPROF_OVR].rate;
		*burst = cc->overrides[k - DP_CPROF_OVR].burst;
	} else {
		*rate = cc->bucket.rate;
		*burst = cc->bucket.burst;
	}
}

/* A shaper for a bucket of this rate: its queue holds max_delay worth of
 * tokens, and at least the burst (so that a message that fits the bucket
 * also fits the queue). */
static int shaper_for(struct shaper_profile *sp, const struct cfg_bucket *c,
		      double rate, uint64_t burst, uint64_t hz)
{
	double lim = rate * c->shape_max_delay_s;
	uint64_t limit = lim < (double)burst ? burst : (uint64_t)lim;

	return shaper_profile_init(sp, rate, limit, hz);
}

/* ---- staging (control side) ---- */

static void stage_begin(struct dp_stage *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void stage_end(struct dp_stage *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

int dp_stage_rate(struct dp *dp, unsigned w, unsigned b, double rate,
		  uint64_t burst)
{
	struct dp_stage *s;
	const struct dp_bucket_info *bi;
	struct tb_profile tp;
	struct shaper_profile sp;
	int rc;

	if (w >= dp->n_workers || b >= dp->n_buckets || burst < 1)
		return -EINVAL;
	s = dp->w[w]->stage;
	bi = &dp->bucket[b];
	if (bi->split) {
		rc = tb_profile_init_ref(&tp, bi->cfg->mode, rate, burst,
					 dp->hz, bi->cfg->rate);
		if (rc < 0 || shaper_for(&sp, bi->cfg, rate, burst, dp->hz) < 0)
			return -EINVAL;
		stage_begin(s);
		s->bprof[b] = tp;
		s->bsprof[b] = sp;
	} else {
		/* the consumer tier: every profile scales with the default;
		 * the default of the staged consumer settings */
		const struct dp_pipe *p = &dp->pipe[bi->pipeline];
		const struct cfg_consumers *cc = s->cons[bi->pipeline];
		double mult = rate / cc->bucket.rate;
		double bmult = (double)burst / (double)cc->bucket.burst;
		struct tb_profile *np = dp->scratch_cprof;
		struct shaper_profile *ns = dp->scratch_csprof;
		uint32_t k, n = DP_CPROF_OVR + cc->n_overrides;

		if (!(mult > 0))
			return -EINVAL;
		for (k = 0; k < n; k++) {
			double r0;
			uint64_t b0, bk;

			cprof_cfg(cc, k, &r0, &b0);
			bk = (uint64_t)llround((double)b0 * bmult);
			if (bk < 1)
				bk = 1;
			if (tb_profile_init_ref(&np[k], bi->cfg->mode, r0 * mult,
						bk, dp->hz, r0) < 0 ||
			    shaper_for(&ns[k], bi->cfg, r0 * mult, bk,
				       dp->hz) < 0)
				return -EINVAL;
		}
		stage_begin(s);
		memcpy(&s->cprof[p->cprof0], np, n * sizeof(*np));
		memcpy(&s->csprof[p->cprof0], ns, n * sizeof(*ns));
		s->n_cprof[bi->pipeline] = n;
	}
	s->rate[b] = rate;
	s->burst[b] = burst;
	stage_end(s);
	return 0;
}

void dp_stage_flags(struct dp *dp, unsigned w, bool breaker_open,
		    uint8_t shed_below)
{
	struct dp_stage *s = dp->w[w]->stage;

	stage_begin(s);
	s->breaker_open = breaker_open;
	s->shed_below = shed_below;
	stage_end(s);
}

void dp_stage_bucket_params(struct dp *dp, unsigned w, unsigned b,
			    enum cfg_action action, bool shadow,
			    uint8_t mark_dscp)
{
	struct dp_stage *s = dp->w[w]->stage;

	stage_begin(s);
	s->bparam[b].action = (uint8_t)action;
	s->bparam[b].shadow = shadow;
	s->bparam[b].mark_dscp = mark_dscp;
	stage_end(s);
}

void dp_stage_reset(struct dp *dp, unsigned w, unsigned b)
{
	struct dp_stage *s = dp->w[w]->stage;

	stage_begin(s);
	s->bparam[b].reset_gen++;
	stage_end(s);
}

void dp_stage_rules(struct dp *dp, unsigned w, unsigned pi,
		    const struct cls *cls, const struct cfg_consumers *cons)
{
	struct dp_stage *s = dp->w[w]->stage;

	stage_begin(s);
	s->cls[pi] = cls;
	s->cons[pi] = cons;
	stage_end(s);
}

void dp_stage_credit_block(struct dp *dp, unsigned w, unsigned pi,
			   bool blocked)
{
	struct dp_stage *s = dp->w[w]->stage;

	stage_begin(s);
	s->credit_block[pi] = blocked;
	stage_end(s);
}

void dp_stage_meters(struct dp *dp, unsigned w, const struct dp_meters *m,
		     const uint64_t *limit)
{
	struct dp_stage *s = dp->w[w]->stage;

	stage_begin(s);
	s->meters = m;
	if (m && limit)
		memcpy(s->meter_limit, limit, m->n * sizeof(*limit));
	stage_end(s);
}

uint64_t dp_meter_used(const struct dp *dp, unsigned w, unsigned i)
{
	return __atomic_load_n(&dp->w[w]->meter_used[i], __ATOMIC_RELAXED);
}

uint64_t dp_publish(struct dp *dp, unsigned w)
{
	return __atomic_add_fetch(&dp->w[w]->stage->gen, 1, __ATOMIC_RELEASE);
}

uint64_t dp_applied_gen(const struct dp *dp, unsigned w, uint64_t *applied_tsc)
{
	uint64_t g = __atomic_load_n(&dp->w[w]->gen_seen, __ATOMIC_ACQUIRE);

	if (applied_tsc)
		*applied_tsc = __atomic_load_n(&dp->w[w]->applied_tsc,
					       __ATOMIC_RELAXED);
	return g;
}

bool dp_quiescent(const struct dp *dp, const uint64_t *gen)
{
	unsigned w;

	for (w = 0; w < dp->n_workers; w++)
		if (dp_applied_gen(dp, w, NULL) < gen[w])
			return false;
	return true;
}

void dp_ring_fill(const struct dp *dp, unsigned pi, unsigned *used,
		  unsigned *size)
{
	const struct rte_ring *r = pi < dp->n_pipes ? dp->pipe[pi].ring : NULL;

	*used = r ? rte_ring_count(r) : 0;
	*size = r ? rte_ring_get_capacity(r) : 0;
}

int dp_port_stats(const struct dp *dp, unsigned i, struct dp_port_stats *st)
{
	struct rte_eth_stats s;
	int rc;

	memset(st, 0, sizeof(*st));
	if (i >= dp->cfg->n_ports || !dp->port_found[i])
		return -EINVAL;
	rc = rte_eth_stats_get(dp->port_id[i], &s);
	if (rc != 0)
		return rc;
	st->ipackets = s.ipackets;
	st->opackets = s.opackets;
	st->imissed = s.imissed;
	st->ierrors = s.ierrors;
	st->oerrors = s.oerrors;
	st->rx_nombuf = s.rx_nombuf;
	return 0;
}

void dp_set_cfg(struct dp *dp, const struct cfg *cfg)
{
	unsigned pi, b = 0, t;

	dp->cfg = cfg;
	for (pi = 0; pi < dp->n_pipes; pi++) {
		const struct cfg_pipeline *p = &cfg->pipelines[pi];

		dp->pipe[pi].cfg = p;
		if (p->has_global)
			dp->bucket[b++].cfg = &p->global;
		for (t = 0; t < p->n_topics; t++)
			dp->bucket[b++].cfg = &p->topics[t];
		if (p->consumers.enabled)
			dp->bucket[b++].cfg = &p->consumers.bucket;
	}
}

uint64_t dp_bucket_tokens(const struct dp *dp, unsigned w, unsigned b)
{
	if (w >= dp->n_workers || b >= dp->n_buckets || !dp->bucket[b].split)
		return 0;
	return __atomic_load_n(&dp->w[w]->bstate[b].tokens, __ATOMIC_RELAXED);
}

const struct cls *dp_initial_rules(const struct dp *dp, unsigned pi)
{
	return &dp->pipe[pi].cls;
}

double dp_staged_rate(const struct dp *dp, unsigned w, unsigned b)
{
	return dp->w[w]->stage->rate[b];
}

uint64_t dp_staged_burst(const struct dp *dp, unsigned w, unsigned b)
{
	return dp->w[w]->stage->burst[b];
}

/* ---- snapshots (control side) ---- */

void dp_snapshot(const struct dp *dp, unsigned w, struct dp_core_stats *st,
		 struct dp_bucket_ctr *ctr)
{
	const struct dp_worker *wk = dp->w[w];
	uint64_t s1, s2;
	unsigned b;

	do {
		s1 = __atomic_load_n(&wk->stats_seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		memcpy(st, &wk->st, sizeof(*st));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&wk->stats_seq, __ATOMIC_RELAXED);
	} while ((s1 & 1) || s1 != s2);
	if (!ctr)
		return;
	for (b = 0; b < dp->n_buckets; b++) {
		const struct dp_bucket_ctr *c = &wk->bctr[b];

		ctr[b].demand_msgs =
			__atomic_load_n(&c->demand_msgs, __ATOMIC_RELAXED);
		ctr[b].demand_tokens =
			__atomic_load_n(&c->demand_tokens, __ATOMIC_RELAXED);
		ctr[b].admitted_msgs =
			__atomic_load_n(&c->admitted_msgs, __ATOMIC_RELAXED);
		ctr[b].admitted_tokens =
			__atomic_load_n(&c->admitted_tokens, __ATOMIC_RELAXED);
		ctr[b].rejected_msgs =
			__atomic_load_n(&c->rejected_msgs, __ATOMIC_RELAXED);
		ctr[b].shadow_msgs =
			__atomic_load_n(&c->shadow_msgs, __ATOMIC_RELAXED);
	}
}

/* ---- workers ---- */

static void worker_free(struct dp_worker *w)
{
	unsigned i;

	if (!w)
		return;
	for (i = 0; i < CFG_MAX_PIPELINES; i++)
		ctab_free(w->ctab[i]);
	if (w->stage) {
		rte_free(w->stage->rate);
		rte_free(w->stage->burst);
		rte_free(w->stage->bprof);
		rte_free(w->stage->bsprof);
		rte_free(w->stage->cprof);
		rte_free(w->stage->csprof);
		rte_free(w->stage->bparam);
		rte_free(w->stage->meter_limit);
	}
	rte_free(w->stage_copy.bparam);
	rte_free(w->stage_copy.meter_limit);
	rte_free(w->bparam);
	rte_free(w->meter_limit);
	rte_free(w->meter_used);
	rte_free(w->stage);
	rte_free(w->stage_copy.bprof);
	rte_free(w->stage_copy.bsprof);
	rte_free(w->stage_copy.cprof);
	rte_free(w->stage_copy.csprof);
	rte_free(w->bprof);
	rte_free(w->bsprof);
	rte_free(w->bstate);
	rte_free(w->cprof);
	rte_free(w->csprof);
	rte_free(w->overflow);
	rte_free(w->heap);
	rte_free(w->txq);
	rte_free(w->bctr);
	rte_free(w);
}

static struct dp_worker *worker_new(struct dp *dp, unsigned id, unsigned lcore,
				    char *err, size_t err_len)
{
	const struct cfg *c = dp->cfg;
	unsigned nb = dp->n_buckets, nc = dp->n_cprof, pi;
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct ctab_mem mem = { ctab_alloc, ctab_release,
				(void *)(intptr_t)socket };
	struct dp_worker *w = zalloc(sizeof(*w));
	struct dp_stage *s;

	if (!w)
		goto nomem;
	w->id = id;
	w->lcore = lcore;
	w->dp = dp;
	w->stage = s = zalloc(sizeof(*s));
	if (!s)
		goto nomem;
	s->rate = zalloc(nb * sizeof(double));
	s->burst = zalloc(nb * sizeof(uint64_t));
	s->bprof = zalloc(nb * sizeof(struct tb_profile));
	s->bsprof = zalloc(nb * sizeof(struct shaper_profile));
	s->cprof = zalloc(nc * sizeof(struct tb_profile));
	s->csprof = zalloc(nc * sizeof(struct shaper_profile));
	s->bparam = zalloc(nb * sizeof(struct dp_bparam));
	s->meter_limit = zalloc(DP_MAX_METERS * sizeof(uint64_t));
	w->stage_copy.bparam = zalloc(nb * sizeof(struct dp_bparam));
	w->stage_copy.meter_limit = zalloc(DP_MAX_METERS * sizeof(uint64_t));
	w->bparam = zalloc(nb * sizeof(struct dp_bparam));
	w->meter_limit = zalloc(DP_MAX_METERS * sizeof(uint64_t));
	w->meter_used = zalloc(DP_MAX_METERS * sizeof(uint64_t));
	w->stage_copy.bprof = zalloc(nb * sizeof(struct tb_profile));
	w->stage_copy.bsprof = zalloc(nb * sizeof(struct shaper_profile));
	w->stage_copy.cprof = zalloc(nc * sizeof(struct tb_profile));
	w->stage_copy.csprof = zalloc(nc * sizeof(struct shaper_profile));
	w->bprof = zalloc(nb * sizeof(struct tb_profile));
	w->bsprof = zalloc(nb * sizeof(struct shaper_profile));
	w->bstate = zalloc(nb * sizeof(struct tb_state));
	w->cprof = zalloc(nc * sizeof(struct tb_profile));
	w->csprof = zalloc(nc * sizeof(struct shaper_profile));
	w->overflow = zalloc(dp->n_pipes * sizeof(struct tb_state));
	w->heap_cap = c->shape_queue;
	w->heap = zalloc(w->heap_cap * sizeof(struct dp_held));
	w->txq = zalloc(dp->n_pipes * sizeof(struct dp_txq));
	w->bctr = zalloc(nb * sizeof(struct dp_bucket_ctr));
	if (!s->rate || !s->burst || !s->bprof || !s->bsprof || !s->cprof ||
	    !s->csprof || !s->bparam || !s->meter_limit ||
	    !w->stage_copy.bparam || !w->stage_copy.meter_limit || !w->bparam ||
	    !w->meter_limit || !w->meter_used || !w->stage_copy.bprof || !w->stage_copy.bsprof ||
	    !w->stage_copy.cprof || !w->stage_copy.csprof || !w->bprof ||
	    !w->bsprof || !w->bstate || !w->cprof || !w->csprof ||
	    !w->overflow || !w->heap || !w->txq || !w->bctr)
		goto nomem;
	for (pi = 0; pi < dp->n_pipes; pi++) {
		const struct cfg_consumers *cc = &c->pipelines[pi].consumers;

		if (!cc->enabled)
			continue;
		w->ctab[pi] = ctab_create(cc->max_per_core, &mem);
		if (!w->ctab[pi]) {
			seterr(err, err_len,
			       "pipeline '%s': cannot allocate a consumer "
			       "table for %u consumers on worker %u (%s); "
			       "lower consumers.max or give the EAL more "
			       "memory (-m)",
			       c->pipelines[pi].name, cc->max_per_core, id,
			       strerror(errno));
			worker_free(w);
			return NULL;
		}
	}
	return w;
nomem:
	seterr(err, err_len, "out of DPDK memory setting up worker %u", id);
	worker_free(w);
	return NULL;
}

/*
 * Initial rates: a split bucket starts with an equal share of its rate and
 * burst on every worker (the control tick's split then follows demand);
 * the consumer tier starts at its configured rates.
 */
static int initial_rates(struct dp *dp)
{
	unsigned w, b;

	for (w = 0; w < dp->n_workers; w++) {
		unsigned pi;

		for (pi = 0; pi < dp->n_pipes; pi++)
			dp_stage_rules(dp, w, pi, &dp->pipe[pi].cls,
				       &dp->cfg->pipelines[pi].consumers);
		for (b = 0; b < dp->n_buckets; b++) {
			const struct cfg_bucket *c = dp->bucket[b].cfg;
			double rate = c->rate;
			uint64_t burst = c->burst;

			dp_stage_bucket_params(dp, w, b, c->action, c->shadow,
					       c->mark_dscp);
			if (dp->bucket[b].split) {
				rate /= dp->n_workers;
				burst /= dp->n_workers;
				if (burst < 1)
					burst = 1;
			}
			if (dp_stage_rate(dp, w, b, rate, burst) < 0)
				return -EINVAL;
		}
		dp_publish(dp, w);
		dp_worker_apply(dp->w[w]);
		for (b = 0; b < dp->n_buckets; b++)
			if (dp->bucket[b].split)
				tb_init(&dp->w[w]->bprof[b],
					&dp->w[w]->bstate[b], rte_rdtsc());
	}
	return 0;
}

/* ---- ports ---- */

static int port_setup(struct dp *dp, unsigned i, char *err, size_t err_len)
{
	const struct cfg *c = dp->cfg;
	const struct cfg_port *cp = &c->ports[i];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t pid, nrx = 0, ntx = 0, q, rxd = cp->rx_desc, txd = cp->tx_desc;
	unsigned pi;
	int rc;

	if (rte_eth_dev_get_port_by_name(cp->device, &pid) != 0) {
		seterr(err, err_len,
		       "%s:%d: ports[%s].device: no DPDK port named '%s' (a "
		       "vdev needs its --vdev in eal; a NIC must be bound to "
		       "a DPDK driver)",
		       c->source, cp->line, cp->name, cp->device);
		return -ENODEV;
	}
	dp->port_id[i] = pid;
	dp->port_found[i] = true;
	for (pi = 0; pi < c->n_pipelines; pi++) {
		const struct cfg_pipeline *p = &c->pipelines[pi];

		if (p->ingress == i)
			nrx = (uint16_t)dp->n_workers;
		if ((p->egress == CFG_EGRESS_PORT && p->egress_port == i) ||
		    (p->egress == CFG_EGRESS_REFLECT && p->ingress == i))
			ntx = (uint16_t)dp->n_workers;
	}
	if (nrx == 0 && ntx == 0)
		return 0; /* declared but unused */
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0) {
		seterr(err, err_len, "port '%s': cannot query it: %s", cp->name,
		       rte_strerror(-rc));
		return rc;
	}
	if (nrx > info.max_rx_queues || ntx > info.max_tx_queues) {
		seterr(err, err_len,
		       "%s:%d: port '%s' has %u rx and %u tx queues, %u "
		       "workers need one each",
		       c->source, cp->line, cp->name, info.max_rx_queues,
		       info.max_tx_queues, dp->n_workers);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	if (nrx > 1 && info.flow_type_rss_offloads) {
		/* spread by addresses, so that a consumer's flows stay on
		 * one worker where the port can do it */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_L3_SRC_ONLY) &
			info.flow_type_rss_offloads;
		if (!conf.rx_adv_conf.rss_conf.rss_hf)
			conf.rx_adv_conf.rss_conf.rss_hf =
				RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(pid, nrx, ntx, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd);
	for (q = 0; rc == 0 && q < nrx; q++)
		rc = rte_eth_rx_queue_setup(pid, q, rxd,
					    rte_eth_dev_socket_id(pid), NULL,
					    dp->pool);
	for (q = 0; rc == 0 && q < ntx; q++)
		rc = rte_eth_tx_queue_setup(pid, q, txd,
					    rte_eth_dev_socket_id(pid), NULL);
	if (rc != 0) {
		seterr(err, err_len, "port '%s' (%s): set-up failed: %s",
		       cp->name, cp->device, rte_strerror(-rc));
		return rc;
	}
	return 0;
}

static int rings_setup(struct dp *dp, char *err, size_t err_len)
{
	unsigned pi;

	for (pi = 0; pi < dp->n_pipes; pi++) {
		struct dp_pipe *p = &dp->pipe[pi];
		const struct cfg_pipeline *c = p->cfg;

		p->egress = c->egress;
		p->in_port = dp->port_id[c->ingress];
		p->out_port = c->egress == CFG_EGRESS_PORT ?
				      dp->port_id[c->egress_port] :
				      p->in_port;
		if (c->egress != CFG_EGRESS_RING)
			continue;
		if (rte_ring_lookup(c->ring)) {
			seterr(err, err_len,
			       "pipeline '%s': a ring named '%s' already "
			       "exists (another tidegate with the same "
			       "--file-prefix?)",
			       c->name, c->ring);
			return -EEXIST;
		}
		/* many workers enqueue, one consumer dequeues */
		p->ring = rte_ring_create(c->ring, c->ring_size,
					  (int)rte_socket_id(), RING_F_SC_DEQ);
		if (!p->ring) {
			seterr(err, err_len,
			       "pipeline '%s': cannot create ring '%s': %s",
			       c->name, c->ring, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

struct dp *dp_create(const struct cfg *cfg, unsigned n_workers, char *err,
		     size_t err_len)
{
	struct dp *dp;
	unsigned i, lcore, avail = rte_lcore_count() - 1;

	if (n_workers == 0)
		n_workers = avail;
	if (n_workers == 0 || n_workers > avail || n_workers > DP_MAX_WORKERS) {
		seterr(err, err_len,
		       "%s:%d: workers: %u worker lcores wanted, the EAL has "
		       "%u besides the main one (see -l in eal)",
		       cfg->source, cfg->workers_line, n_workers, avail);
		return NULL;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		seterr(err, err_len, "out of memory");
		return NULL;
	}
	dp->cfg = cfg;
	dp->hz = rte_get_tsc_hz();
	dp->n_workers = n_workers;
	dp->burst = cfg->burst_size > DP_MAX_BURST ? DP_MAX_BURST :
						     cfg->burst_size;
	dp->idle_sleep_us = cfg->idle_sleep_us;
	if (build_buckets(dp) < 0) {
		seterr(err, err_len, "out of memory");
		goto fail;
	}
	dp->pool = rte_pktmbuf_pool_create("tidegate_pool", cfg->mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (!dp->pool) {
		seterr(err, err_len,
		       "cannot create a pool of %u mbufs: %s (lower mbufs or "
		       "give the EAL more memory with -m)",
		       cfg->mbufs, rte_strerror(rte_errno));
		goto fail;
	}
	for (i = 0; i < cfg->n_ports; i++)
		if (port_setup(dp, i, err, err_len) < 0)
			goto fail;
	if (rings_setup(dp, err, err_len) < 0)
		goto fail;
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i == n_workers)
			break;
		dp->w[i] = worker_new(dp, i, lcore, err, err_len);
		if (!dp->w[i])
			goto fail;
		i++;
	}
	if (initial_rates(dp) < 0) {
		seterr(err, err_len, "a configured rate is out of range");
		goto fail;
	}
	return dp;
fail:
	dp_destroy(dp);
	return NULL;
}

int dp_start(struct dp *dp)
{
	unsigned i;
	int rc;

	for (i = 0; i < dp->cfg->n_ports; i++) {
		const struct cfg_port *cp = &dp->cfg->ports[i];
		uint16_t pid = dp->port_id[i];
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(pid, &info) != 0 ||
		    (info.nb_rx_queues == 0 && info.nb_tx_queues == 0))
			continue;
		rc = rte_eth_dev_start(pid);
		if (rc < 0)
			return rc;
		dp->port_started[i] = true;
		if (cp->promiscuous)
			rte_eth_promiscuous_enable(pid); /* may be ENOTSUP */
	}
	dp->quit = 0;
	for (i = 0; i < dp->n_workers; i++) {
		rc = rte_eal_remote_launch(dp_worker_main, dp->w[i],
					   dp->w[i]->lcore);
		if (rc < 0) {
			dp->quit = 1;
			rte_eal_mp_wait_lcore();
			return rc;
		}
	}
	dp->running = true;
	return 0;
}

void dp_stop(struct dp *dp)
{
	unsigned i;

	if (!dp)
		return;
	if (dp->running) {
		dp->quit = 1;
		for (i = 0; i < dp->n_workers; i++)
			rte_eal_wait_lcore(dp->w[i]->lcore);
		dp->running = false;
	}
	for (i = 0; i < dp->cfg->n_ports; i++) {
		if (!dp->port_started[i])
			continue;
		rte_eth_dev_stop(dp->port_id[i]);
		dp->port_started[i] = false;
	}
}

void dp_destroy(struct dp *dp)
{
	unsigned i;

	if (!dp)
		return;
	dp_stop(dp);
	for (i = 0; i < DP_MAX_WORKERS; i++)
		worker_free(dp->w[i]);
	for (i = 0; i < dp->n_pipes; i++) {
		rte_ring_free(dp->pipe[i].ring);
		cls_free(&dp->pipe[i].cls);
	}
	for (i = 0; i < dp->cfg->n_ports; i++)
		if (dp->port_found[i])
			rte_eth_dev_close(dp->port_id[i]);
	rte_mempool_free(dp->pool);
	free(dp->scratch_cprof);
	free(dp->scratch_csprof);
	free(dp->bucket);
	free(dp);
}

const struct cfg *dp_cfg(const struct dp *dp)
{
	return dp->cfg;
}

uint64_t dp_now_tsc(void)
{
	return rte_rdtsc();
}

uint64_t dp_hz(const struct dp *dp)
{
	return dp->hz;
}

unsigned dp_n_workers(const struct dp *dp)
{
	return dp->n_workers;
}

unsigned dp_worker_lcore(const struct dp *dp, unsigned w)
{
	return w < dp->n_workers ? dp->w[w]->lcore : 0;
}

unsigned dp_n_buckets(const struct dp *dp)
{
	return dp->n_buckets;
}

const struct dp_bucket_info *dp_bucket(const struct dp *dp, unsigned b)
{
	return b < dp->n_buckets ? &dp->bucket[b] : NULL;
}

int dp_bucket_find(const struct dp *dp, const char *name)
{
	unsigned b;

	for (b = 0; b < dp->n_buckets; b++)
		if (strcmp(dp->bucket[b].cfg->name, name) == 0)
			return (int)b;
	return -1;
}
