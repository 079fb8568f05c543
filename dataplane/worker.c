/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: receive a burst, parse and classify each message, check
 * every tier, then commit every tier (or none), and send, mark, hold or
 * drop. One clock read per loop, no locks, no system calls, no allocation,
 * no floating point. Everything written here belongs to this worker; the
 * control side's only way in is the staged publication applied at the top
 * of the loop.
 */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dp_priv.h"
#include "parse.h"

/* Precedence of a rejecting tier's action: the strongest one applies. */
static const uint8_t act_rank[CFG_ACT_MAX] = {
	[CFG_ACT_MARK] = 0,
	[CFG_ACT_SHAPE] = 1,
	[CFG_ACT_DROP] = 2,
};

/* ---- the shape queue: a binary min-heap on departure time ---- */

static inline void heap_push(struct dp_worker *w, uint64_t depart,
			     struct rte_mbuf *m, uint32_t pipe)
{
	struct dp_held *h = w->heap;
	uint32_t i = w->heap_n++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (h[parent].depart <= depart)
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i].depart = depart;
	h[i].m = m;
	h[i].pipe = pipe;
}

static inline struct dp_held heap_pop(struct dp_worker *w)
{
	struct dp_held *h = w->heap;
	struct dp_held top = h[0], last = h[--w->heap_n];
	uint32_t i = 0, n = w->heap_n;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].depart < h[c].depart)
			c++;
		if (last.depart <= h[c].depart)
			break;
		h[i] = h[c];
		i = c;
	}
	if (n > 0)
		h[i] = last;
	return top;
}

/* ---- egress ---- */

static void tx_flush(struct dp_worker *w, unsigned pi, uint64_t *lo,
		     uint64_t now)
{
	struct dp_txq *q = &w->txq[pi];
	const struct dp_pipe *p = &w->dp->pipe[pi];
	uint16_t sent, i;

	if (p->egress == CFG_EGRESS_RING)
		sent = (uint16_t)rte_ring_enqueue_burst(p->ring,
							(void **)q->m, q->n,
							NULL);
	else
		sent = rte_eth_tx_burst(p->out_port, (uint16_t)w->id, q->m,
					q->n);
	for (i = 0; i < sent; i++)
		if (q->kind[i] != DP_SHAPED) /* counted when it was held */
			lo[q->kind[i]]++;
	for (; i < q->n; i++) {
		if (q->kind[i] == DP_SHAPED && w->heap_n < w->heap_cap) {
			/* a held message is never dropped once counted:
			 * it waits for the egress to have room */
			heap_push(w, now, q->m[i], pi);
			continue;
		}
		if (q->kind[i] == DP_SHAPED)
			w->st.shape_discarded++;
		else
			lo[DP_DROP_TX_FULL]++;
		rte_pktmbuf_free(q->m[i]);
	}
	q->n = 0;
}

static inline void tx_add(struct dp_worker *w, unsigned pi,
			  struct rte_mbuf *m, uint8_t kind, uint64_t *lo,
			  uint64_t now)
{
	struct dp_txq *q = &w->txq[pi];

	if (unlikely(q->n == RTE_DIM(q->m)))
		tx_flush(w, pi, lo, now);
	q->m[q->n] = m;
	q->kind[q->n] = kind;
	q->n++;
}

/* ---- one message ---- */

static inline uint32_t consumer_profile(const struct cfg_consumers *cc,
					const uint8_t addr[16])
{
	const struct cfg_override *o;

	if (cc->n_overrides == 0)
		return 0;
	o = cfg_override_find(cc, addr);
	return o ? (uint32_t)(o - cc->overrides) + DP_CPROF_OVR :
		   DP_CPROF_DEFAULT;
}

/* Fill the consumer tier of a message: its own bucket, created on first
 * sight, or the shared overflow bucket when the table is full. */
static inline void consumer_tier(struct dp_worker *w, unsigned pi,
				 const struct dp_pipe *p,
				 const struct pkt_info *info, uint32_t hash,
				 uint64_t now, struct dp_tier *t)
{
	struct ctab_entry *e;
	bool inserted;

	e = ctab_get(w->ctab[pi], info->src, hash, 0, &inserted);
	if (likely(e != NULL)) {
		if (unlikely(inserted)) {
			e->profile = (uint16_t)consumer_profile(w->cons[pi],
								info->src);
			tb_init(&w->cprof[p->cprof0 + e->profile], &e->tb,
				now);
		}
		t->st = &e->tb;
		t->prof = &w->cprof[p->cprof0 + e->profile];
		t->sprof = &w->csprof[p->cprof0 + e->profile];
	} else {
		w->st.consumer_overflow++;
		t->st = &w->overflow[pi];
		t->prof = &w->cprof[p->cprof0 + DP_CPROF_OVERFLOW];
		t->sprof = &w->csprof[p->cprof0 + DP_CPROF_OVERFLOW];
	}
	t->ctr = &w->bctr[p->cons_b];
	t->par = &w->bparam[p->cons_b];
}

static inline void split_tier(struct dp_worker *w, unsigned b,
			      struct dp_tier *t)
{
	t->prof = &w->bprof[b];
	t->st = &w->bstate[b];
	t->sprof = &w->bsprof[b];
	t->ctr = &w->bctr[b];
	t->par = &w->bparam[b];
}

/* What the first pass learned about a message the second pass decides. */
struct dp_msg {
	struct rte_mbuf *m;
	uint32_t hash; /* of the consumer key */
	int meter;     /* metered consumer slot, or -1 */
	struct pkt_info info;
};

/*
 * First pass over one message: parse, then the drops that need no bucket
 * (malformed, breaker, shedding, credits). Returns false when the message
 * was dropped (and freed); true when it goes on to the tiers.
 */
static inline bool screen(struct dp_worker *w, unsigned pi, struct dp_msg *x,
			  uint64_t *lo, uint64_t *prio)
{
	struct rte_mbuf *m = x->m;
	enum pkt_status ps;
	uint8_t cls;

	x->meter = -1;
	/* only the first segment is parsed: headers live there */
	ps = pkt_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m),
		       &x->info);
	if (unlikely(ps != PKT_OK)) {
		lo[ps == PKT_UNSUPPORTED ? DP_DROP_UNSUPPORTED :
					   DP_DROP_MALFORMED]++;
		goto drop;
	}
	cls = pkt_priority(&x->info);
	prio[cls]++;
	if (unlikely(w->breaker_open)) {
		lo[DP_DROP_BREAKER]++;
		goto drop;
	}
	if (unlikely(cls < w->shed_below)) {
		lo[DP_DROP_SHED]++;
		goto drop;
	}
	/* out of credits: the whole pipeline's egress, or this consumer */
	if (unlikely(w->credit_block[pi]) ||
	    (unlikely(w->meters != NULL) &&
	     (x->meter = dp_meters_find(w->meters, x->info.src)) >= 0 &&
	     w->meter_used[x->meter] >= w->meter_limit[x->meter])) {
		lo[DP_DROP_CREDIT]++;
		goto drop;
	}
	/* a metered consumer's credit is taken now, so that the rest of the
	 * burst sees it; it is given back if the message is not sent */
	if (x->meter >= 0)
		w->meter_used[x->meter]++;
	return true;
drop:
	rte_pktmbuf_free(m);
	return false;
}

/* Second pass: the tiers. Check every one, then commit all or none. */
static inline void decide(struct dp_worker *w, unsigned pi, struct dp_msg *x,
			  uint64_t now, uint64_t *lo)
{
	const struct dp_pipe *p = &w->dp->pipe[pi];
	struct rte_mbuf *m = x->m;
	const struct pkt_info *info = &x->info;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct dp_tier tier[3];
	uint64_t cost[3];
	unsigned n = 0, i, rej = 0, shadow_fail = 0, worst = 0;
	int meter = x->meter;
	uint16_t topic;

	if (p->global_b >= 0)
		split_tier(w, (unsigned)p->global_b, &tier[n++]);
	topic = cls_topic(w->cls[pi], info);
	if (topic != CLS_NONE)
		split_tier(w, (unsigned)p->topic_b0 + topic, &tier[n++]);
	if (p->cons_b >= 0)
		consumer_tier(w, pi, p, info, x->hash, now, &tier[n++]);

	/* check every tier; take nothing yet */
	for (i = 0; i < n; i++) {
		struct dp_tier *t = &tier[i];

		cost[i] = tb_cost(t->prof, len);
		t->ctr->demand_msgs++;
		t->ctr->demand_tokens += cost[i];
		if (likely(tb_check(t->prof, t->st, now, cost[i])))
			continue;
		if (t->par->shadow) {
			t->ctr->shadow_msgs++;
			shadow_fail |= 1u << i;
			continue;
		}
		t->ctr->rejected_msgs++;
		if (!rej || act_rank[t->par->action] >
				    act_rank[tier[worst].par->action])
			worst = i;
		rej |= 1u << i;
	}

	if (likely(!rej)) {
		for (i = 0; i < n; i++) {
			if (shadow_fail & (1u << i))
				continue;
			tb_commit(tier[i].prof, tier[i].st, cost[i]);
			tier[i].ctr->admitted_msgs++;
			tier[i].ctr->admitted_tokens += cost[i];
		}
		tx_add(w, pi, m, DP_ADMITTED, lo, now);
		return;
	}

	switch (tier[worst].par->action) {
	case CFG_ACT_MARK:
		/* out of profile, forwarded marked: takes no token */
		pkt_set_dscp(rte_pktmbuf_mtod(m, uint8_t *),
			     rte_pktmbuf_data_len(m), info,
			     tier[worst].par->mark_dscp);
		if (meter >= 0) /* out of profile: no credit spent */
			w->meter_used[meter]--;
		tx_add(w, pi, m, DP_MARKED, lo, now);
		return;
	case CFG_ACT_SHAPE: {
		uint64_t depart;

		if (w->heap_n < w->heap_cap &&
		    shaper_defer(tier[worst].sprof, tier[worst].prof,
				 tier[worst].st, now, cost[worst], &depart)) {
			/* it will be sent: the tiers that passed pay now,
			 * the shaping tier paid with its future tokens */
			for (i = 0; i < n; i++) {
				if ((rej | shadow_fail) & (1u << i))
					continue;
				tb_commit(tier[i].prof, tier[i].st, cost[i]);
				tier[i].ctr->admitted_msgs++;
				tier[i].ctr->admitted_tokens += cost[i];
			}
			tier[worst].ctr->admitted_tokens += cost[worst];
			heap_push(w, depart, m, pi);
			lo[DP_SHAPED]++;
			return;
		}
		if (meter >= 0)
			w->meter_used[meter]--;
		lo[DP_DROP_SHAPE_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	default:
		if (meter >= 0)
			w->meter_used[meter]--;
		lo[DP_DROP_LIMIT]++;
		rte_pktmbuf_free(m);
		return;
	}
}

/* ---- publication ---- */

struct reset_arg {
	const struct tb_profile *prof; /* the pipeline's consumer profiles */
	uint64_t now;
};

static int reset_consumer(struct ctab_entry *e, void *arg)
{
	const struct reset_arg *a = arg;

	tb_reset(&a->prof[e->profile], &e->tb, a->now);
	return 0;
}

/* A bucket the control side asked to reset: full again. */
static void reset_bucket(struct dp_worker *w, unsigned b, uint64_t now)
{
	const struct dp *dp = w->dp;
	const struct dp_bucket_info *bi = &dp->bucket[b];
	const struct dp_pipe *p = &dp->pipe[bi->pipeline];
	struct reset_arg a = { &w->cprof[p->cprof0], now };

	if (bi->split) {
		tb_reset(&w->bprof[b], &w->bstate[b], now);
		return;
	}
	/* the whole tier: one walk of the table (an operator's command) */
	ctab_foreach(w->ctab[bi->pipeline], reset_consumer, &a);
	tb_reset(&w->cprof[p->cprof0 + DP_CPROF_OVERFLOW],
		 &w->overflow[bi->pipeline], now);
}

/* Copy the consumer profiles in use (not the room for more). */
static void copy_cprof(const struct dp *dp, struct tb_profile *to,
		       struct shaper_profile *sto, const struct tb_profile *from,
		       const struct shaper_profile *sfrom, const uint32_t *n_cprof)
{
	unsigned pi;

	for (pi = 0; pi < dp->n_pipes; pi++) {
		uint32_t o = dp->pipe[pi].cprof0, n = n_cprof[pi];

		if (dp->pipe[pi].cons_b < 0)
			continue;
		memcpy(&to[o], &from[o], n * sizeof(*to));
		memcpy(&sto[o], &sfrom[o], n * sizeof(*sto));
	}
}

/*
 * Copy the staged state under its sequence lock; give up (and retry at the
 * next loop) if the control side is writing. Split buckets switch profile
 * keeping their tokens; consumer buckets pick the new profile up at their
 * next refill (profiles of a tier share a shift, see tb_profile_init_ref).
 * The generation is stored last, with release: the control side frees what
 * an older publication borrowed once every worker shows a later one.
 */
void dp_worker_apply(struct dp_worker *w)
{
	const struct dp *dp = w->dp;
	struct dp_stage *s = w->stage, *c = &w->stage_copy;
	uint64_t gen = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	uint64_t now = rte_rdtsc();
	unsigned b;

	if (gen == w->gen_seen || (seq & 1))
		return;
	memcpy(c->bprof, s->bprof, dp->n_buckets * sizeof(*c->bprof));
	memcpy(c->bsprof, s->bsprof, dp->n_buckets * sizeof(*c->bsprof));
	memcpy(c->n_cprof, s->n_cprof, sizeof(c->n_cprof));
	copy_cprof(dp, c->cprof, c->csprof, s->cprof, s->csprof, c->n_cprof);
	memcpy(c->bparam, s->bparam, dp->n_buckets * sizeof(*c->bparam));
	c->meters = s->meters;
	if (c->meters)
		memcpy(c->meter_limit, s->meter_limit,
		       c->meters->n * sizeof(*c->meter_limit));
	memcpy(c->credit_block, s->credit_block, sizeof(c->credit_block));
	memcpy(c->cls, s->cls, sizeof(c->cls));
	memcpy(c->cons, s->cons, sizeof(c->cons));
	c->breaker_open = s->breaker_open;
	c->shed_below = s->shed_below;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq)
		return; /* torn: the control side wrote meanwhile */
	for (b = 0; b < dp->n_buckets; b++) {
		if (!dp->bucket[b].split)
			continue;
		tb_switch(&w->bprof[b], &c->bprof[b], &w->bstate[b], now);
		w->bprof[b] = c->bprof[b];
	}
	memcpy(w->bsprof, c->bsprof, dp->n_buckets * sizeof(*w->bsprof));
	copy_cprof(dp, w->cprof, w->csprof, c->cprof, c->csprof, c->n_cprof);
	for (b = 0; b < dp->n_buckets; b++) {
		bool reset = w->gen_seen != 0 &&
			     c->bparam[b].reset_gen != w->bparam[b].reset_gen;

		w->bparam[b] = c->bparam[b];
		if (reset)
			reset_bucket(w, b, now);
	}
	if (c->meters)
		memcpy(w->meter_limit, c->meter_limit,
		       c->meters->n * sizeof(*w->meter_limit));
	memcpy(w->credit_block, c->credit_block, sizeof(w->credit_block));
	memcpy(w->cls, c->cls, sizeof(w->cls));
	memcpy(w->cons, c->cons, sizeof(w->cons));
	w->meters = c->meters && c->meters->n ? c->meters : NULL;
	w->breaker_open = c->breaker_open;
	w->shed_below = c->shed_below;
	__atomic_store_n(&w->applied_tsc, now, __ATOMIC_RELAXED);
	__atomic_store_n(&w->gen_seen, gen, __ATOMIC_RELEASE);
}

/* ---- the loop ---- */

static void stats_commit(struct dp_worker *w, uint64_t rx, uint64_t rx_bytes,
			 const uint64_t *lo, const uint64_t *prio, uint64_t now)
{
	uint64_t s = w->stats_seq;
	unsigned i;

	__atomic_store_n(&w->stats_seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (rx) {
		if (!w->st.first_rx_tsc)
			w->st.first_rx_tsc = now;
		w->st.last_rx_tsc = now;
	}
	w->st.rx += rx;
	w->st.rx_bytes += rx_bytes;
	for (i = 0; i < DP_OUTCOME_MAX; i++)
		w->st.outcome[i] += lo[i];
	for (i = 0; prio && i < 8; i++)
		w->st.rx_prio[i] += prio[i];
	w->st.shape_queued = w->heap_n;
	w->st.consumers = 0;
	for (i = 0; i < w->dp->n_pipes; i++)
		if (w->ctab[i])
			w->st.consumers += ctab_count(w->ctab[i]);
	__atomic_store_n(&w->stats_seq, s + 2, __ATOMIC_RELEASE);
}

static unsigned release_held(struct dp_worker *w, uint64_t now, uint64_t *lo,
			     bool all)
{
	unsigned n = 0;

	while (w->heap_n > 0 && (all || w->heap[0].depart <= now)) {
		struct dp_held h = heap_pop(w);

		tx_add(w, h.pipe, h.m, DP_SHAPED, lo, now);
		n++;
	}
	return n;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	struct rte_mbuf *pkts[DP_MAX_BURST];
	struct dp_msg msg[DP_MAX_BURST];
	uint64_t prev = rte_rdtsc(), lo[DP_OUTCOME_MAX], prio[8];
	bool had_work = false;
	unsigned pi, i, k;

	while (!dp->quit) {
		uint64_t now = rte_rdtsc(), rx = 0, rx_bytes = 0;

		w->st.total_cycles += now - prev;
		if (had_work)
			w->st.busy_cycles += now - prev;
		prev = now;
		had_work = false;
		if (unlikely(__atomic_load_n(&w->stage->gen,
					     __ATOMIC_RELAXED) != w->gen_seen))
			dp_worker_apply(w);
		memset(lo, 0, sizeof(lo));
		memset(prio, 0, sizeof(prio));
		for (pi = 0; pi < dp->n_pipes; pi++) {
			const struct dp_pipe *p = &dp->pipe[pi];
			uint16_t n = rte_eth_rx_burst(p->in_port,
						      (uint16_t)w->id, pkts,
						      dp->burst);

			if (n == 0)
				continue;
			had_work = true;
			rx += n;
			/* parse and screen the whole burst, hash the
			 * consumer keys and prefetch their table slots;
			 * then decide, slots in cache */
			if (p->cons_b < 0) {
				/* no table to prefetch: one pass */
				for (i = 0; i < n; i++) {
					rx_bytes +=
						rte_pktmbuf_pkt_len(pkts[i]);
					msg[0].m = pkts[i];
					if (screen(w, pi, &msg[0], lo, prio))
						decide(w, pi, &msg[0], now,
						       lo);
				}
				continue;
			}
			for (i = 0; i < n; i++)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
			k = 0;
			for (i = 0; i < n; i++) {
				struct dp_msg *x = &msg[k];

				rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
				x->m = pkts[i];
				if (!screen(w, pi, x, lo, prio))
					continue;
				if (p->cons_b >= 0) {
					const char *s;

					x->hash = rte_hash_crc(x->info.src, 16,
							       0);
					s = ctab_prefetch_slot(w->ctab[pi],
							       x->hash);
					rte_prefetch0(s);
					rte_prefetch0(s + 64);
				}
				k++;
			}
			for (i = 0; i < k; i++)
				decide(w, pi, &msg[i], now, lo);
		}
		if (w->heap_n && release_held(w, now, lo, false))
			had_work = true;
		for (pi = 0; pi < dp->n_pipes; pi++)
			if (w->txq[pi].n)
				tx_flush(w, pi, lo, now);
		if (unlikely(now >= w->next_age)) {
			/* aging: a step per millisecond, not per loop (it
			 * walks a table far bigger than the cache) */
			w->next_age = now + dp->hz / 1000;
			for (pi = 0; pi < dp->n_pipes; pi++)
				if (w->ctab[pi])
					w->st.consumers_aged += ctab_age(
						w->ctab[pi], now,
						dp->pipe[pi].idle_cycles,
						dp->pipe[pi].age_budget);
		}
		stats_commit(w, rx, rx_bytes, lo, prio, now);
		/* opt-in, for machines that share the worker's core: after
		 * a run of empty polls, give the core away for a moment
		 * (nothing is held, so no departure is late) */
		if (unlikely(dp->idle_sleep_us) && !had_work && !w->heap_n &&
		    ++w->idle_polls >= DP_IDLE_POLLS) {
			rte_delay_us_sleep(dp->idle_sleep_us);
			w->idle_polls = 0;
		} else if (had_work) {
			w->idle_polls = 0;
		}
	}

	/* stopping: what is held goes out now rather than never */
	memset(lo, 0, sizeof(lo));
	for (i = 0; i < 4 && w->heap_n; i++) {
		release_held(w, 0, lo, true);
		for (pi = 0; pi < dp->n_pipes; pi++)
			if (w->txq[pi].n)
				tx_flush(w, pi, lo, rte_rdtsc());
	}
	while (w->heap_n) {
		struct dp_held h = heap_pop(w);

		w->st.shape_discarded++;
		rte_pktmbuf_free(h.m);
	}
	stats_commit(w, 0, 0, lo, NULL, 0);
	return 0;
}
