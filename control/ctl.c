/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's tick and loop (see ctl.h). The order inside a tick
 * follows DESIGN.md: counters, lag, load, severity, breaker and shedding,
 * adaptive controllers, credits, effective rates, split over the cores,
 * publish. Each step reads what the previous ones decided this tick.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "ctl_priv.h"
#include "log.h"
#include "report.h"

uint64_t ctl_now_ns(void)
{
	return tg_mono_ns();
}

double ctl_uptime(const struct ctl *c)
{
	return (double)(ctl_now_ns() - c->start_ns) / 1e9;
}

const struct cfg *ctl_cfg(const struct ctl *c)
{
	return c->cfg;
}

int ctl_bucket_find(const struct ctl *c, const char *name)
{
	return dp_bucket_find(c->dp, name);
}

/* ---- retiring what the workers may still read ---- */

void ctl_retire(struct ctl *c, void *ptr, void (*free_fn)(void *))
{
	struct ctl_retired *r;
	unsigned w;

	if (!ptr)
		return;
	if (c->n_retired == CTL_MAX_RETIRED) {
		/* cannot happen in practice (a reload per tick at most);
		 * leaking is safer than freeing under a worker */
		tg_log(TG_LOG_WARNING, "retire list full: leaking %p", ptr);
		return;
	}
	r = &c->retired[c->n_retired++];
	r->ptr = ptr;
	r->free_fn = free_fn;
	/* needed: the publication after the one in force now */
	for (w = 0; w < c->nw; w++) {
		r->gen[w] = dp_applied_gen(c->dp, w, NULL) + 1;
		c->dirty[w] = true;
	}
}

static void reap_retired(struct ctl *c)
{
	unsigned i = 0;

	while (i < c->n_retired) {
		struct ctl_retired *r = &c->retired[i];

		if (!dp_quiescent(c->dp, r->gen)) {
			i++;
			continue;
		}
		r->free_fn(r->ptr);
		c->retired[i] = c->retired[--c->n_retired];
	}
}

void ctl_publish(struct ctl *c)
{
	unsigned w;

	for (w = 0; w < c->nw; w++) {
		uint64_t g;

		if (!c->dirty[w])
			continue;
		g = dp_publish(c->dp, w);
		c->dirty[w] = false;
		if (c->react_pending && c->react_gen[w] == 0)
			c->react_gen[w] = g;
	}
}

/* ---- set-up ---- */

void ctl_bucket_setup(struct ctl *c, unsigned b, bool keep_rate)
{
	struct ctl_bucket *cb = &c->b[b];
	const struct cfg_bucket *bc = cb->cfg;
	double floor = cfg_bucket_floor(c->cfg, bc), old = cb->aimd.rate;
	struct aimd_config ac = c->cfg->policy.aimd;
	struct pid_config pc = {
		.kp = c->cfg->policy.pid_kp,
		.ki = c->cfg->policy.pid_ki,
		.kd = c->cfg->policy.pid_kd,
		.setpoint = c->cfg->policy.pid_target,
		.out_min = floor / bc->rate,
		.out_max = 1.0,
	};

	ac.floor = floor;
	ac.ceiling = bc->rate;
	if (ac.floor >= ac.ceiling)
		ac.floor = ac.ceiling * 0.999;
	if (pc.out_min >= pc.out_max)
		pc.out_min = 0.999;
	aimd_init(&cb->aimd, &ac);
	if (keep_rate && old > 0)
		cb->aimd.rate = fmin(fmax(old, ac.floor), ac.ceiling);
	pid_init(&cb->pid, &pc);
	pid_reset(&cb->pid, keep_rate ? fmin(cb->adapt_mult, 1.0) : 1.0);
	if (!keep_rate || !(cb->adapt_mult > 0))
		cb->adapt_mult = 1.0;
	if (bc->controller == CFG_CTRL_AIMD)
		cb->adapt_mult = cb->aimd.rate / bc->rate;
	else if (bc->controller == CFG_CTRL_NONE)
		cb->adapt_mult = 1.0;
}

/* The largest ceiling of each tier: recovery ends when every bucket is
 * back at its own. */
void ctl_set_ceiling_max(struct cfg *cfg)
{
	double mx[SEV_TIER_MAX] = { 0 };
	unsigned pi, t, k;

	for (pi = 0; pi < cfg->n_pipelines; pi++) {
		const struct cfg_pipeline *p = &cfg->pipelines[pi];

		if (p->has_global)
			mx[0] = fmax(mx[0], p->global.rate);
		for (t = 0; t < p->n_topics; t++)
			mx[1] = fmax(mx[1], p->topics[t].rate);
		if (p->consumers.enabled)
			mx[2] = fmax(mx[2], p->consumers.bucket.rate);
	}
	for (k = 0; k < SEV_TIER_MAX; k++)
		cfg->policy.sev.ceiling_max_rate[k] = mx[k] > 0 ? mx[k] : 1;
}

void ctl_stage_config(struct ctl *c)
{
	unsigned w, b, pi;

	for (w = 0; w < c->nw; w++) {
		for (pi = 0; pi < c->cfg->n_pipelines; pi++)
			dp_stage_rules(c->dp, w, pi, c->cls[pi],
				       &c->cfg->pipelines[pi].consumers);
		for (b = 0; b < c->nb; b++)
			dp_stage_bucket_params(c->dp, w, b,
					       c->b[b].cfg->action,
					       c->b[b].cfg->shadow,
					       c->b[b].cfg->mark_dscp);
		c->dirty[w] = true;
	}
}

static int mkdir_parent(const char *path)
{
	char dir[CFG_PATH_LEN];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

struct ctl *ctl_new(struct dp *dp, struct cfg *cfg, const char *path,
		    const char *admin_path, char *err, size_t err_len)
{
	struct ctl *c = calloc(1, sizeof(*c));
	uid_t uids[CFG_MAX_IDS];
	gid_t gids[CFG_MAX_IDS];
	struct admin_opts ao = { 0 };
	unsigned b, i;

	if (!c) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	c->dp = dp;
	c->cfg = cfg;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->nw = dp_n_workers(dp);
	c->nb = dp_n_buckets(dp);
	c->b = calloc(c->nb + 1, sizeof(*c->b));
	c->rate_buf = calloc(c->nb + 1, sizeof(double));
	c->burst_buf = calloc(c->nb + 1, sizeof(uint64_t));
	c->core_prev = calloc(c->nw + 1, sizeof(*c->core_prev));
	c->core_cur = calloc(c->nw + 1, sizeof(*c->core_cur));
	c->ctr_tmp = calloc(c->nb + 1, sizeof(*c->ctr_tmp));
	c->split = split_new(dp);
	if (!c->b || !c->rate_buf || !c->burst_buf || !c->core_prev ||
	    !c->core_cur || !c->ctr_tmp || !c->split) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	ctl_set_ceiling_max(cfg);
	for (b = 0; b < c->nb; b++) {
		c->b[b].cfg = dp_bucket(dp, b)->cfg;
		ctl_bucket_setup(c, b, false);
		c->b[b].eff_rate = c->b[b].cfg->rate;
		c->b[b].eff_burst = c->b[b].cfg->burst;
	}
	for (i = 0; i < cfg->n_pipelines; i++)
		c->cls[i] = (struct cls *)dp_initial_rules(dp, i);
	sev_init(&c->sev, &cfg->policy.sev);
	c->start_ns = c->last_tick_ns = ctl_now_ns();
	brk_init(&c->brk, &cfg->policy.brk, c->start_ns);
	for (i = 0; i < cfg->admin.n_uids; i++)
		uids[i] = cfg->admin.uids[i];
	for (i = 0; i < cfg->admin.n_gids; i++)
		gids[i] = cfg->admin.gids[i];
	ao.path = admin_path ? admin_path : cfg->admin.socket;
	ao.mode = 0660;
	ao.uids = uids;
	ao.n_uids = cfg->admin.n_uids;
	ao.gids = gids;
	ao.n_gids = cfg->admin.n_gids;
	ao.max_clients = cfg->admin.max_clients;
	mkdir_parent(ao.path);
	c->admin = admin_open(&ao, ctl_cmd, c, err, err_len);
	if (!c->admin)
		goto fail;
	for (i = 0; i < c->nw; i++)
		dp_snapshot(dp, i, &c->core_prev[i], NULL);
	tg_log_set_level(cfg->log_level);
	if (ctl_kafka_init(c, err, err_len) < 0)
		goto fail;
	return c;
fail:
	c->cfg = NULL; /* the caller still owns it */
	ctl_free(c);
	return NULL;
}

int ctl_add_lag_source(struct ctl *c, const struct ctl_lag_source *src)
{
	if (c->n_sources == CTL_MAX_LAG_SOURCES)
		return -ENOSPC;
	c->sources[c->n_sources++] = *src;
	return 0;
}

/* ---- the tick ---- */

static void read_counters(struct ctl *c, double dt)
{
	unsigned w, b;

	for (b = 0; b < c->nb; b++)
		memset(&c->b[b].cur, 0, sizeof(c->b[b].cur));
	c->cpu_frac = 0;
	for (w = 0; w < c->nw; w++) {
		struct dp_core_stats *p = &c->core_prev[w], *n = &c->core_cur[w];
		double busy = 0;

		dp_snapshot(c->dp, w, n, c->ctr_tmp);
		for (b = 0; b < c->nb; b++) {
			struct dp_bucket_ctr *t = &c->b[b].cur;

			t->demand_msgs += c->ctr_tmp[b].demand_msgs;
			t->demand_tokens += c->ctr_tmp[b].demand_tokens;
			t->admitted_msgs += c->ctr_tmp[b].admitted_msgs;
			t->admitted_tokens += c->ctr_tmp[b].admitted_tokens;
			t->rejected_msgs += c->ctr_tmp[b].rejected_msgs;
			t->shadow_msgs += c->ctr_tmp[b].shadow_msgs;
		}
		if (n->total_cycles > p->total_cycles)
			busy = (double)(n->busy_cycles - p->busy_cycles) /
			       (double)(n->total_cycles - p->total_cycles);
		c->busy_pct[w] = busy * 100;
		if (busy > c->cpu_frac)
			c->cpu_frac = busy;
	}
	for (b = 0; b < c->nb; b++) {
		struct ctl_bucket *cb = &c->b[b];
		double cap = cb->eff_rate;

		cb->demand_rate = (double)(cb->cur.demand_tokens -
					   cb->prev.demand_tokens) / dt;
		cb->admitted_rate = (double)(cb->cur.admitted_tokens -
					     cb->prev.admitted_tokens) / dt;
		cb->rejected_rate = (double)(cb->cur.rejected_msgs -
					     cb->prev.rejected_msgs) / dt;
		if (cb->cfg->tier == CFG_TIER_CONSUMER) {
			uint64_t live = 0;

			for (w = 0; w < c->nw; w++)
				live += c->core_cur[w].consumers;
			cap *= (double)(live ? live : 1);
		}
		cb->util = cap > 0 ? cb->admitted_rate / cap : 0;
	}
}

/* Whether anything but the admin socket can tell the lag. */
static bool ctl_has_lag_source(const struct ctl *c)
{
	unsigned pi;

	if (c->n_sources)
		return true;
	for (pi = 0; pi < c->cfg->n_pipelines; pi++)
		if (c->cfg->pipelines[pi].lag_from_ring)
			return true;
	return false;
}

static void read_lag(struct ctl *c)
{
	unsigned pi, i;

	c->lag = 0;
	c->lag_valid = false;
	for (pi = 0; pi < c->cfg->n_pipelines; pi++) {
		c->lag_pipe_valid[pi] = false;
		c->lag_pipe[pi] = 0;
		if (c->cfg->pipelines[pi].lag_from_ring) {
			unsigned used, size;

			dp_ring_fill(c->dp, pi, &used, &size);
			c->lag_pipe[pi] = used;
			c->lag_pipe_valid[pi] = true;
		}
	}
	for (i = 0; i < c->n_sources; i++) {
		const struct ctl_lag_source *s = &c->sources[i];
		uint64_t v;

		c->source_valid[i] = s->read(s->ctx, &v) == 0;
		if (!c->source_valid[i])
			continue;
		c->source_lag[i] = v;
		if (s->pipeline < CFG_MAX_PIPELINES) {
			if (!c->lag_pipe_valid[s->pipeline] ||
			    v > c->lag_pipe[s->pipeline])
				c->lag_pipe[s->pipeline] = v;
			c->lag_pipe_valid[s->pipeline] = true;
		}
	}
	for (pi = 0; pi < c->cfg->n_pipelines; pi++)
		if (c->lag_pipe_valid[pi]) {
			c->lag_valid = true;
			if (c->lag_pipe[pi] > c->lag)
				c->lag = c->lag_pipe[pi];
		}
	/* an operator's value stands in for every source, up or down */
	if (c->lag_injected) {
		c->lag = c->lag_inject;
		c->lag_valid = true;
	}
}

static void step_severity(struct ctl *c, uint64_t tick_tsc)
{
	struct sev_input in = {
		.lag_msgs = c->lag,
		/* a node with no lag source at all has no lag (an injected
		 * value, once cleared, must not leave the level stuck) */
		.lag_valid = c->lag_valid || !ctl_has_lag_source(c),
		.cpu_frac = c->cpu_frac,
		.util_frac = 0,
	};
	unsigned b, w;

	for (b = 0; b < c->nb; b++)
		if (c->b[b].util > in.util_frac)
			in.util_frac = c->b[b].util;
	sev_step(&c->sev, &c->cfg->policy.sev, &in);
	if (!sev_changed(&c->sev))
		return;
	tg_log(TG_LOG_WARNING, "severity %s -> %s (lag %llu%s, cpu %.0f%%)",
	       sev_level_name(sev_prev_level(&c->sev)),
	       sev_level_name(sev_level(&c->sev)),
	       (unsigned long long)c->lag, c->lag_valid ? "" : " unknown",
	       c->cpu_frac * 100);
	/* measure how long until the workers run the new rates */
	c->react_start_tsc = tick_tsc;
	c->react_pending = true;
	for (w = 0; w < c->nw; w++) {
		c->react_gen[w] = 0;
		c->dirty[w] = true;
	}
}

/*
 * The breaker follows Emergency: it opens when Emergency starts (every
 * message dropped), turns half-open after open_ms (the floors let a trickle
 * through: each tick is a probe, good if the lag fell, and a bad one opens
 * it again), and closes when Emergency ends. An operator may force it.
 */
static void step_breaker(struct ctl *c, uint64_t now_ns)
{
	enum brk_state before = brk_state(&c->brk, now_ns), st;
	bool emerg = sev_breaker_should_open(&c->sev);

	if (emerg && !c->brk_emerg) {
		brk_trip(&c->brk, now_ns);
		c->brk_emerg = true;
	} else if (!emerg && c->brk_emerg) {
		brk_reset(&c->brk);
		c->brk_emerg = false;
	} else if (emerg) {
		brk_allow(&c->brk, now_ns); /* open -> half-open on time */
		/* a probe tick whose lag did not fall re-opens it; good
		 * probes keep it half-open: it closes when Emergency ends */
		if (brk_state(&c->brk, now_ns) == BRK_HALF_OPEN &&
		    c->lag >= c->lag_last_tick)
			brk_record(&c->brk, false, now_ns);
	}
	st = brk_state(&c->brk, now_ns);
	if (st != before)
		tg_log(TG_LOG_WARNING, "breaker %s -> %s (lag %llu)",
		       brk_state_name(before), brk_state_name(st),
		       (unsigned long long)c->lag);
}

/*
 * Critical sheds the lowest priority class that has traffic; if Critical
 * holds for shed_step_ticks more with the lag not falling, the next class
 * too, but never the highest class that has traffic.
 */
static void step_shedding(struct ctl *c)
{
	uint64_t seen[8] = { 0 };
	int lo = -1, hi = -1, k;
	unsigned w;

	if (sev_level(&c->sev) < SEV_CRITICAL) {
		if (c->shed_below)
			tg_log(TG_LOG_NOTICE, "shedding off");
		c->shed_below = 0;
		c->shed_ticks = 0;
		return;
	}
	for (w = 0; w < c->nw; w++)
		for (k = 0; k < 8; k++)
			seen[k] += c->core_cur[w].rx_prio[k] -
				   c->core_prev[w].rx_prio[k];
	for (k = 0; k < 8; k++)
		if (seen[k]) {
			if (lo < 0)
				lo = k;
			hi = k;
		}
	if (c->shed_below == 0) {
		if (lo >= 0 && lo < hi) {
			c->shed_below = (uint8_t)(lo + 1);
			tg_log(TG_LOG_NOTICE, "shedding priority class %d", lo);
		}
		c->shed_ticks = 0;
		return;
	}
	if (++c->shed_ticks < c->cfg->policy.shed_step_ticks ||
	    c->lag < c->lag_last_tick)
		return;
	c->shed_ticks = 0;
	/* the next class with traffic above those shed already */
	for (k = c->shed_below; k < hi && !seen[k]; k++)
		;
	if (k < hi) {
		c->shed_below = (uint8_t)(k + 1);
		tg_log(TG_LOG_NOTICE, "shedding priority classes below %d",
		       c->shed_below);
	}
}

/* AIMD or PID by utilization, per bucket: a multiplier of the ceiling. */
static void step_adaptive(struct ctl *c, double dt)
{
	unsigned b;

	for (b = 0; b < c->nb; b++) {
		struct ctl_bucket *cb = &c->b[b];

		switch (cb->cfg->controller) {
		case CFG_CTRL_AIMD:
			cb->adapt_mult = aimd_step(&cb->aimd, cb->util) /
					 cb->cfg->rate;
			break;
		case CFG_CTRL_PID:
			cb->adapt_mult = pid_step(&cb->pid, cb->util, dt);
			break;
		default:
			cb->adapt_mult = 1.0;
		}
	}
}

static void step_ring_credits(struct ctl *c)
{
	double frac = c->cfg->policy.credit_block_frac;
	unsigned pi, w;

	for (pi = 0; pi < c->cfg->n_pipelines; pi++) {
		unsigned used, size;
		bool block;

		dp_ring_fill(c->dp, pi, &used, &size);
		block = size && (double)(size - used) < frac * (double)size;
		if (block == c->credit_block[pi])
			continue;
		c->credit_block[pi] = block;
		tg_log(TG_LOG_NOTICE,
		       "pipeline %s: egress ring %s (%u of %u used)",
		       c->cfg->pipelines[pi].name,
		       block ? "nearly full: blocking new messages" :
			       "has room again",
		       used, size);
		for (w = 0; w < c->nw; w++) {
			dp_stage_credit_block(c->dp, w, pi, block);
			c->dirty[w] = true;
		}
	}
}

/*
 * Credits. A pipeline whose egress ring has less than block_below of its
 * room free takes nothing new. A consumer with a ledger (granted through
 * the admin socket) may be admitted until less than block_below of what it
 * was granted is left: each worker gets an allowance, a count of messages
 * it may admit for it, so the block holds between ticks too.
 */
static void step_credits(struct ctl *c)
{
	double frac = c->cfg->policy.credit_block_frac;
	uint64_t limit[DP_MAX_METERS];
	unsigned w, i;

	step_ring_credits(c);
	if (!c->n_meters)
		return;
	for (i = 0; i < c->n_meters; i++) {
		struct ctl_meter *m = &c->meters[i];
		uint64_t used = 0, d;

		/* one read per worker: the allowance below must start from
		 * the very count the ledger was charged with */
		for (w = 0; w < c->nw; w++) {
			m->used_w[w] = dp_meter_used(c->dp, w, i);
			used += m->used_w[w];
		}
		d = used - m->used_prev;
		if (d > m->ledger.available)
			d = m->ledger.available;
		if (d)
			(void)credit_consume(&m->ledger, d);
		m->used_prev = used;
	}
	for (w = 0; w < c->nw; w++) {
		for (i = 0; i < c->n_meters; i++) {
			const struct credit *l = &c->meters[i].ledger;
			/* admitted while at least frac of the grant is
			 * left: available - ceil(frac x granted) + 1 more */
			uint64_t reserve =
				(uint64_t)ceil(frac * (double)l->granted);
			uint64_t spare = l->available + 1 > reserve ?
						 l->available + 1 - reserve :
						 0;

			limit[i] = c->meters[i].used_w[w] + spare / c->nw;
		}
		dp_stage_meters(c->dp, w, c->meter_set, limit);
		c->dirty[w] = true;
	}
}

/* Effective rate of every bucket: min(ceiling x severity x adaptive,
 * override); Emergency and the climb back take the severity's rate. */
static void step_rates(struct ctl *c)
{
	enum sev_level lvl = sev_level(&c->sev);
	unsigned b;

	for (b = 0; b < c->nb; b++) {
		struct ctl_bucket *cb = &c->b[b];
		double r = sev_tier_rate(&c->sev, &c->cfg->policy.sev,
					 (enum sev_tier)cb->cfg->tier,
					 cb->cfg->rate);

		uint64_t burst = cb->override_burst ? cb->override_burst :
						      cb->cfg->burst;
		uint64_t minb = ctl_min_burst(cb->cfg);
		double cut = r / cb->cfg->rate;

		if (lvl != SEV_EMERGENCY && !sev_in_recovery(&c->sev))
			r *= cb->adapt_mult;
		if (cb->override > 0 && cb->override < r)
			r = cb->override;
		if (r < TB_RATE_MIN)
			r = TB_RATE_MIN;
		cb->eff_rate = r;
		/* a severity cut shrinks the burst too: a bucket full from
		 * before Emergency must not pour out at the floor's rate */
		if (cut < 1) {
			burst = (uint64_t)llround((double)burst * cut);
			if (burst < minb)
				burst = minb;
			if (burst > (cb->override_burst ? cb->override_burst :
							  cb->cfg->burst))
				burst = cb->override_burst ?
						cb->override_burst :
						cb->cfg->burst;
		}
		cb->eff_burst = burst;
		c->rate_buf[b] = r;
		c->burst_buf[b] = cb->eff_burst;
	}
}

static void check_reaction(struct ctl *c)
{
	uint64_t last = 0, tsc;
	unsigned w;

	if (!c->react_pending)
		return;
	for (w = 0; w < c->nw; w++) {
		if (!c->react_gen[w] ||
		    dp_applied_gen(c->dp, w, &tsc) < c->react_gen[w])
			return;
		if (tsc > last)
			last = tsc;
	}
	c->reaction_us = (double)(last - c->react_start_tsc) * 1e6 /
			 (double)dp_hz(c->dp);
	if (c->reaction_us > c->reaction_us_max)
		c->reaction_us_max = c->reaction_us;
	c->react_pending = false;
}

void ctl_tick(struct ctl *c)
{
	uint64_t now = ctl_now_ns(), tsc = dp_now_tsc();
	double dt = (double)(now - c->last_tick_ns) / 1e9;
	bool breaker_open;
	unsigned w, b;

	if (!(dt > 0))
		dt = c->cfg->policy.tick_s;
	c->last_tick_ns = now;
	c->tick++;
	check_reaction(c);
	read_counters(c, dt);
	ctl_kafka_ops(c);
	read_lag(c);
	step_severity(c, tsc);
	step_breaker(c, now);
	step_shedding(c);
	step_adaptive(c, dt);
	step_credits(c);
	step_rates(c);
	ctl_kafka_rates(c, now);
	split_tick(c->split, dt, c->rate_buf, c->burst_buf, c->dirty);
	breaker_open = brk_state(&c->brk, now) == BRK_OPEN;
	if (breaker_open != c->flag_breaker || c->shed_below != c->flag_shed)
		for (w = 0; w < c->nw; w++) {
			dp_stage_flags(c->dp, w, breaker_open, c->shed_below);
			c->dirty[w] = true;
		}
	c->flag_breaker = breaker_open;
	c->flag_shed = c->shed_below;
	ctl_publish(c);
	reap_retired(c);
	for (w = 0; w < c->nw; w++)
		c->core_prev[w] = c->core_cur[w];
	for (b = 0; b < c->nb; b++)
		c->b[b].prev = c->b[b].cur;
	c->lag_last_tick = c->lag;
}

/* ---- the loop ---- */

void ctl_run(struct ctl *c, volatile sig_atomic_t *stop,
	     volatile sig_atomic_t *reload, double duration_s)
{
	const uint64_t start = ctl_now_ns();
	uint64_t next = start + (uint64_t)(c->cfg->policy.tick_s * 1e9);
	struct report_snap prev = { 0 }, cur = { 0 };
	double next_stats = c->cfg->stats_interval_s;
	bool stats = report_snap_init(&prev, c->dp) == 0 &&
		     report_snap_init(&cur, c->dp) == 0;

	if (stats)
		report_snap_take(&prev, c->dp, 0);
	while (!*stop) {
		uint64_t now = ctl_now_ns(), tick_ns;
		double t = (double)(now - start) / 1e9;
		int wait_ms;

		if (duration_s > 0 && t >= duration_s)
			break;
		if (*reload) {
			char err[1024];

			*reload = 0;
			if (ctl_reload(c, err, sizeof(err), NULL) < 0)
				tg_log(TG_LOG_ERROR, "reload refused: %s", err);
		}
		tick_ns = (uint64_t)(c->cfg->policy.tick_s * 1e9);
		if (now >= next) {
			double late = (double)(now - next) / 1e3;

			if (late > c->tick_delay_max_us)
				c->tick_delay_max_us = late;
			ctl_tick(c);
			next += tick_ns;
			if (now > next + tick_ns) /* fell behind: no burst */
				next = now + tick_ns;
		}
		if (stats && c->cfg->stats_interval_s > 0 && t >= next_stats) {
			struct report_snap tmp;

			report_snap_take(&cur, c->dp, t);
			report_line(stdout, c->dp, &prev, &cur);
			tmp = prev;
			prev = cur;
			cur = tmp;
			next_stats += c->cfg->stats_interval_s;
			if (next_stats < t)
				next_stats = t + c->cfg->stats_interval_s;
		}
		now = ctl_now_ns();
		wait_ms = next > now ? (int)((next - now + 999999) / 1000000) :
				       0;
		if (duration_s > 0) {
			double left = duration_s - (double)(now - start) / 1e9;

			if (left * 1000 < wait_ms)
				wait_ms = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		if (wait_ms > 100)
			wait_ms = 100;
		/* with Kafka, look at the other nodes' records every 10 ms:
		 * a share they freed (or left behind, their lease run out)
		 * is taken without waiting for a tick */
		if (c->kx && wait_ms > 10)
			wait_ms = 10;
		admin_poll(c->admin, wait_ms);
		ctl_kafka_resplit(c);
	}
	report_snap_free(&prev);
	report_snap_free(&cur);
}

static void free_cls(void *p)
{
	cls_free(p);
	free(p);
}

static void free_cfg(void *p)
{
	cfg_free(p);
	free(p);
}

void ctl_retire_cls(struct ctl *c, struct cls *old)
{
	ctl_retire(c, old, free_cls);
}

void ctl_retire_cfg(struct ctl *c, struct cfg *old)
{
	ctl_retire(c, old, free_cfg);
}

void ctl_free(struct ctl *c)
{
	unsigned i;

	if (!c)
		return;
	kx_free(c->kx); /* its threads first: they read the config */
	admin_close(c->admin);
	for (i = 0; i < c->n_retired; i++)
		c->retired[i].free_fn(c->retired[i].ptr);
	for (i = 0; i < CFG_MAX_PIPELINES; i++)
		if (c->cls_owned[i])
			free_cls(c->cls[i]);
	free(c->meter_set);
	if (c->cfg)
		free_cfg(c->cfg);
	split_free(c->split);
	free(c->b);
	free(c->rate_buf);
	free(c->burst_buf);
	free(c->core_prev);
	free(c->core_cur);
	free(c->ctr_tmp);
	free(c);
}
