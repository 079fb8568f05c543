/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's side of Kafka (kafka.h has the threads): each tick,
 * the commands other nodes sent are applied, and every shared bucket's
 * cluster rate becomes this node's share of it, before the split over the
 * cores.
 *
 * The share: every node runs the same max-min fair split (lib/alloc.h) of
 * the cluster rate over the live nodes (records seen within a lease, this
 * node included), each node's demand being what its last record said
 * times kafka.demand_headroom; the nodes sorted by id. Same records, same
 * numbers, same split everywhere, so the shares add up to the cluster
 * rate. While no record of ours comes back the broker is away: the last
 * share holds for one lease, then the outage policy applies (static:
 * cluster rate / the last count of live nodes; open: no limit; closed:
 * nothing). When records come back, the split resumes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ctl_priv.h"
#include "log.h"

/* An idle node keeps this part of an equal share, to start with. */
#define SYNC_FLOOR_FRAC 0.01

static int lag_read(void *ctx, uint64_t *lag)
{
	struct ctl_kx_lag *l = ctx;

	return kx_lag(l->kx, l->i, lag);
}

int ctl_kafka_init(struct ctl *c, char *err, size_t err_len)
{
	const struct cfg_kafka *kc = &c->cfg->kafka;
	const char *ids[KX_MAX_SHARED];
	unsigned b, i;
	int rc;

	for (b = 0; b < c->nb; b++)
		c->b[b].shared = -1;
	if (!kc->enabled)
		return 0;
	for (b = 0; b < c->nb; b++) {
		if (!c->b[b].cfg->shared[0])
			continue;
		if (c->n_shared == KX_MAX_SHARED) {
			snprintf(err, err_len, "at most %d shared buckets",
				 KX_MAX_SHARED);
			return -EINVAL;
		}
		c->b[b].shared = (int)c->n_shared;
		c->shared[c->n_shared].b = b;
		share_init(&c->shared[c->n_shared].node, kc->expected_nodes);
		ids[c->n_shared++] = c->b[b].cfg->shared;
	}
	c->kx = kx_new(c->cfg, ids, c->n_shared, err, err_len);
	if (!c->kx)
		return -EINVAL;
	for (i = 0; i < kc->n_lag; i++) {
		struct ctl_kx_lag *l = &c->kx_lag[i];
		struct ctl_lag_source src;

		l->kx = c->kx;
		l->i = i;
		snprintf(l->name, sizeof(l->name), "kafka:%.40s/%.40s",
			 kc->lag[i].group, kc->lag[i].topic);
		src.name = l->name;
		src.pipeline = kc->lag[i].pipeline;
		src.read = lag_read;
		src.ctx = l;
		if (ctl_add_lag_source(c, &src) < 0) {
			snprintf(err, err_len, "too many lag sources");
			return -ENOSPC;
		}
	}
	rc = kx_start(c->kx);
	if (rc < 0) {
		snprintf(err, err_len, "cannot start the Kafka threads: %s",
			 strerror(-rc));
		return rc;
	}
	return 0;
}

int ctl_kafka_start(struct ctl *c, volatile const sig_atomic_t *stop)
{
	double t = c->cfg->kafka.startup_timeout_s;
	int rc;

	if (!c->kx)
		return 0;
	tg_log(TG_LOG_NOTICE,
	       "kafka: node %s, %u shared bucket(s): waiting up to %.1f s "
	       "for %s",
	       kx_node(c->kx), c->n_shared, t, c->cfg->kafka.control_topic);
	rc = kx_wait_ready(c->kx, t, stop);
	if (rc == -EINTR)
		return rc;
	if (rc < 0)
		tg_log(TG_LOG_ERROR,
		       "kafka: %s unreachable for %.1f s at start: starting "
		       "without the commands of the control topic, shared "
		       "buckets under the %s outage policy; they catch up "
		       "when Kafka answers",
		       c->cfg->kafka.brokers, t,
		       cfg_outage_name(c->cfg->kafka.outage));
	/* the replayed commands, and the first shares, before any packet */
	ctl_tick(c);
	return rc;
}

/* ---- commands from the control topic ---- */

static int bucket_of_key(struct ctl *c, const char *key)
{
	char prefix[SR_ID_LEN + 8];
	size_t n;
	unsigned b;

	for (b = 0; b < c->nb; b++)
		if (c->b[b].shared >= 0 && strcmp(c->b[b].cfg->shared, key) == 0)
			return (int)b;
	n = (size_t)snprintf(prefix, sizeof(prefix), "node/%s/",
			     kx_node(c->kx));
	if (strncmp(key, prefix, n) != 0)
		return -1;
	for (b = 0; b < c->nb; b++)
		if (c->b[b].shared < 0 && strcmp(c->b[b].cfg->name, key + n) == 0)
			return (int)b;
	return -1;
}

static void apply_op(struct ctl *c, const struct kx_op *op)
{
	const char *from = op->tombstone ? "" : op->r.node;
	unsigned w;
	int b;

	if (op->self && !op->replay)
		return; /* applied here when it was given */
	if (strcmp(op->key, "@severity") == 0) {
		enum sev_level lvl;

		if (op->tombstone) {
			if (!sev_is_forced(&c->sev))
				return;
			sev_auto(&c->sev);
			tg_log(TG_LOG_WARNING,
			       "kafka: severity back to automatic (%s), "
			       "from the control topic",
			       sev_level_name(sev_level(&c->sev)));
		} else if (op->r.op == SR_OP_SEVERITY &&
			   sev_level_parse(op->r.level, &lvl) == 0) {
			sev_force(&c->sev, lvl);
			tg_log(TG_LOG_WARNING,
			       "kafka: severity forced to %s by node %s%s",
			       op->r.level, from,
			       op->replay ? " (replayed)" : "");
		}
		return;
	}
	b = bucket_of_key(c, op->key);
	if (b < 0)
		return; /* another node's bucket, or one we do not have */
	if (op->tombstone || op->r.op == SR_OP_SEVERITY) {
		if (c->b[b].override == 0 && c->b[b].override_burst == 0)
			return;
		c->b[b].override = 0;
		c->b[b].override_burst = 0;
		tg_log(TG_LOG_NOTICE,
		       "kafka: clear-override %s, from the control topic",
		       c->b[b].cfg->name);
		return;
	}
	c->b[b].override = (double)op->r.rate_milli / 1000.0;
	c->b[b].override_burst = op->r.burst;
	if (op->r.op == SR_OP_RESET && !op->replay) {
		for (w = 0; w < c->nw; w++) {
			dp_stage_reset(c->dp, w, (unsigned)b);
			c->dirty[w] = true;
		}
	}
	tg_log(TG_LOG_NOTICE,
	       "kafka: %s %s %s (override %g, burst %llu) from node %s%s",
	       op->replay ? "replayed" : "applied", sr_op_name(op->r.op),
	       c->b[b].cfg->name, c->b[b].override,
	       (unsigned long long)op->r.burst, from,
	       op->r.op == SR_OP_RESET && op->replay ? " (state only)" : "");
}

void ctl_kafka_ops(struct ctl *c)
{
	struct kx_op op;
	unsigned n = 0;

	if (!c->kx)
		return;
	/* bounded: a flood of commands cannot hold a tick */
	while (n++ < 256 && kx_next_op(c->kx, &op))
		apply_op(c, &op);
}

/* ---- shares ---- */

static void log_state(struct ctl *c, const struct ctl_shared *sh,
		      enum share_state from)
{
	const struct cfg_bucket *bc = c->b[sh->b].cfg;
	enum share_state st = sh->node.state;

	if (st == from)
		return;
	if (st == SHARE_OUTAGE)
		tg_log(TG_LOG_ERROR,
		       "kafka: shared bucket %s: no sync for a lease: "
		       "outage policy %s",
		       bc->shared, cfg_outage_name(c->cfg->kafka.outage));
	else
		tg_log(st == SHARE_SYNCED ? TG_LOG_NOTICE : TG_LOG_WARNING,
		       "kafka: shared bucket %s: %s -> %s", bc->shared,
		       share_state_name(from), share_state_name(st));
}

static void share_config_of(const struct ctl *c, struct share_config *out)
{
	const struct cfg_kafka *kc = &c->cfg->kafka;
	struct share_config sc = {
		.lease_ns = (uint64_t)llround(kc->lease_s * 1e9),
		/* in sync while our own records come back within a few
		 * intervals: the others' records are then as fresh as ours,
		 * and a silent node is a dead one */
		.fresh_ns = (uint64_t)llround(
			3 * fmax(kc->sync_interval_s, c->cfg->policy.tick_s) *
			1e9),
		.headroom = kc->demand_headroom,
		.floor_frac = SYNC_FLOOR_FRAC,
		.outage = kc->outage,
		.rate_min = TB_RATE_MIN,
		.rate_max = TB_RATE_MAX,
	};

	if (sc.fresh_ns > sc.lease_ns)
		sc.fresh_ns = sc.lease_ns;
	*out = sc;
}

/* One share_step of shared bucket i from what the cluster said now. */
static double step_share(struct ctl *c, struct ctl_shared *sh, unsigned i,
			 const struct share_config *sc, double R, uint64_t now)
{
	enum share_state from = sh->node.state;
	struct share_input in;
	double share;
	unsigned j;

	kx_view(c->kx, i, &sh->view);
	for (j = 0; j < sh->view.n; j++) {
		sh->peers[j].demand_milli = sh->view.peers[j].demand_milli;
		sh->peers[j].seen_ns = sh->view.peers[j].seen_ns;
		sh->peers[j].self = sh->view.peers[j].self;
	}
	in.rate = R;
	in.peers = sh->peers;
	in.n = sh->view.n;
	in.own_seen_ns = sh->view.own_seen_ns;
	in.listen_ns = sh->view.listen_ns;
	in.now_ns = now;
	share = share_step(&sh->node, sc, &in);
	log_state(c, sh, from);
	if (fabs(share - sh->share) > 0.01 * fmax(sh->share, 1e-9))
		sh->share_changed_s = ctl_uptime(c);
	sh->cluster_rate = R;
	sh->share = share;
	return share;
}

/*
 * Between ticks (every 10 ms): another node's record may have moved this
 * node's share (its demand fell, it left, its lease ran out). Apply the
 * new share now rather than at the next tick, scaling each worker's part
 * (the split over the cores is redone at the tick). Up to a tick of
 * reallocation time saved; a few microseconds of work when nothing moved.
 */
void ctl_kafka_resplit(struct ctl *c)
{
	struct share_config sc;
	uint64_t now = ctl_now_ns();
	unsigned i, w;

	if (!c->kx)
		return;
	share_config_of(c, &sc);
	for (i = 0; i < c->n_shared; i++) {
		struct ctl_shared *sh = &c->shared[i];
		double old = sh->share, share;

		if (!(sh->cluster_rate > 0) || !(old > 0))
			continue; /* no tick yet */
		share = step_share(c, sh, i, &sc, sh->cluster_rate, now);
		if (fabs(share - old) <= 1e-3 * old)
			continue;
		for (w = 0; w < c->nw; w++) {
			double r = dp_staged_rate(c->dp, w, sh->b) * share /
				   old;

			if (r < TB_RATE_MIN)
				r = TB_RATE_MIN;
			if (r > TB_RATE_MAX)
				r = TB_RATE_MAX;
			if (dp_stage_rate(c->dp, w, sh->b, r,
					  dp_staged_burst(c->dp, w, sh->b)) == 0)
				c->dirty[w] = true;
		}
	}
	ctl_publish(c);
}

void ctl_kafka_rates(struct ctl *c, uint64_t now)
{
	struct share_config sc;
	unsigned i;

	if (!c->kx)
		return;
	share_config_of(c, &sc);
	for (i = 0; i < c->n_shared; i++) {
		struct ctl_shared *sh = &c->shared[i];
		struct ctl_bucket *cb = &c->b[sh->b];
		double R = c->rate_buf[sh->b], share;

		/* before its first packet (the tick ctl_kafka_start runs) a
		 * node knows no demand: it claims the whole rate, so that it
		 * starts with an equal part rather than a floor's crumbs;
		 * from the next tick on it claims what it measured */
		kx_report(c->kx, i, c->tick <= 1 ? R : cb->demand_rate,
			  cb->admitted_rate, R);
		share = step_share(c, sh, i, &sc, R, now);
		c->rate_buf[sh->b] = share;
		/* the burst is shared alike (open: the whole of it) */
		if (share < R) {
			double bu = (double)c->burst_buf[sh->b] * share / R;

			if (bu < (double)ctl_min_burst(cb->cfg))
				bu = (double)ctl_min_burst(cb->cfg);
			c->burst_buf[sh->b] = (uint64_t)llround(bu);
		}
	}
}

/* ---- commands given here ---- */

static const char *send_note(int rc)
{
	if (rc == 0)
		return "sent to the control topic";
	if (rc == -EINVAL)
		return "applied here only: its control key would be too long";
	return "applied here only: the queue to Kafka is full";
}

const char *ctl_kafka_send_bucket(struct ctl *c, unsigned b, enum sr_op op,
				  bool clear)
{
	const struct ctl_bucket *cb = &c->b[b];
	char key[SR_ID_LEN + 64];
	struct sr_ctl r;

	if (!c->kx)
		return NULL;
	if (cb->shared >= 0)
		snprintf(key, sizeof(key), "%s", cb->cfg->shared);
	else
		snprintf(key, sizeof(key), "node/%s/%s", kx_node(c->kx),
			 cb->cfg->name);
	if (!sr_id_valid(key))
		return send_note(-EINVAL);
	if (clear)
		return send_note(kx_send_ctl(c->kx, key, NULL));
	memset(&r, 0, sizeof(r));
	r.op = op;
	r.rate_milli = (uint64_t)llround(cb->override * 1000);
	r.burst = cb->override_burst;
	return send_note(kx_send_ctl(c->kx, key, &r));
}

const char *ctl_kafka_send_severity(struct ctl *c, const char *level)
{
	struct sr_ctl r;

	if (!c->kx)
		return NULL;
	if (!level)
		return send_note(kx_send_ctl(c->kx, "@severity", NULL));
	memset(&r, 0, sizeof(r));
	r.op = SR_OP_SEVERITY;
	snprintf(r.level, sizeof(r.level), "%s", level);
	return send_note(kx_send_ctl(c->kx, "@severity", &r));
}

/* ---- status ---- */

json_t *ctl_kafka_status(struct ctl *c)
{
	json_t *r, *sh = json_array();
	unsigned i;

	if (!c->kx)
		return json_null();
	r = kx_status_json(c->kx);
	json_object_set_new(r, "outage_policy",
			    json_string(cfg_outage_name(c->cfg->kafka.outage)));
	for (i = 0; i < c->n_shared; i++) {
		json_t *j = json_object();

		ctl_kafka_bucket_json(c, c->shared[i].b, j);
		json_object_set_new(j, "bucket",
				    json_string(c->b[c->shared[i].b].cfg->name));
		json_array_append_new(sh, j);
	}
	json_object_set_new(r, "shared", sh);
	return r;
}

void ctl_kafka_bucket_json(struct ctl *c, unsigned b, json_t *j)
{
	const struct ctl_shared *sh;
	json_t *nodes;
	uint64_t now = ctl_now_ns();
	const uint64_t lease = (uint64_t)llround(c->cfg->kafka.lease_s * 1e9);
	unsigned i;

	if (!c->kx || c->b[b].shared < 0)
		return;
	sh = &c->shared[c->b[b].shared];
	nodes = json_array();
	for (i = 0; i < sh->view.n; i++) {
		const struct kx_peer *p = &sh->view.peers[i];

		json_array_append_new(
			nodes,
			json_pack("{s:s, s:b, s:b, s:f, s:f, s:f}", "node",
				  p->node, "self", p->self, "live",
				  p->self || now - p->seen_ns < lease,
				  "demand_rate",
				  (double)p->demand_milli / 1000.0,
				  "admitted_rate",
				  (double)p->admitted_milli / 1000.0,
				  "age_s", (double)(now - p->seen_ns) / 1e9));
	}
	json_object_set_new(j, "shared", json_string(c->b[b].cfg->shared));
	json_object_set_new(j, "sync_state",
			    json_string(share_state_name(sh->node.state)));
	json_object_set_new(j, "cluster_rate", json_real(sh->cluster_rate));
	json_object_set_new(j, "node_share", json_real(sh->share));
	json_object_set_new(j, "live_nodes", json_integer(sh->node.live));
	json_object_set_new(j, "share_changed_s",
			    json_real(sh->share_changed_s));
	json_object_set_new(j, "nodes", nodes);
}
