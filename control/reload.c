/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config reload (SIGHUP or "config reload"): parse and validate the whole
 * new file first; on any error the running config stays. Then check that
 * nothing changed that needs a restart (ports, lcores, buckets added or
 * removed...), and apply in place: counters, the tokens of every bucket and
 * the consumer tables survive, and the workers switch at their next burst,
 * so no packet is dropped because of the reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_priv.h"
#include "log.h"

static bool bucket_changed(const struct cfg_bucket *a,
			   const struct cfg_bucket *b)
{
	return a->rate != b->rate || a->burst != b->burst ||
	       a->action != b->action || a->shadow != b->shadow ||
	       a->mark_dscp != b->mark_dscp ||
	       a->shape_max_delay_s != b->shape_max_delay_s ||
	       a->controller != b->controller || a->floor != b->floor;
}

static bool rules_changed(const struct cfg_pipeline *a,
			  const struct cfg_pipeline *b)
{
	return a->n_rules != b->n_rules ||
	       memcmp(a->rules, b->rules, a->n_rules * sizeof(*a->rules)) != 0;
}

static bool overrides_changed(const struct cfg_consumers *a,
			      const struct cfg_consumers *b)
{
	uint32_t i;

	if (a->n_overrides != b->n_overrides)
		return true;
	for (i = 0; i < a->n_overrides; i++) {
		const struct cfg_override *x = &a->overrides[i],
					  *y = &b->overrides[i];

		if (memcmp(&x->prefix, &y->prefix, sizeof(x->prefix)) ||
		    x->rate != y->rate || x->burst != y->burst)
			return true;
	}
	return false;
}

/* What a reload cannot change besides cfg_reloadable()'s list. */
static int control_reloadable(const struct cfg *a, const struct cfg *b,
			      char *err, size_t len)
{
	unsigned i;

	if (a->admin.n_uids != b->admin.n_uids ||
	    a->admin.n_gids != b->admin.n_gids ||
	    memcmp(a->admin.uids, b->admin.uids, sizeof(a->admin.uids)) ||
	    memcmp(a->admin.gids, b->admin.gids, sizeof(a->admin.gids)) ||
	    a->admin.max_clients != b->admin.max_clients) {
		snprintf(err, len, "admin (uids, gids, max_clients) changed: "
				   "needs a restart");
		return -EINVAL;
	}
	for (i = 0; i < a->n_pipelines; i++)
		if (a->pipelines[i].consumers.idle_timeout_s !=
			    b->pipelines[i].consumers.idle_timeout_s ||
		    a->pipelines[i].lag_from_ring !=
			    b->pipelines[i].lag_from_ring) {
			snprintf(err, len,
				 "pipeline %s: consumers.idle_timeout or lag "
				 "changed: needs a restart",
				 a->pipelines[i].name);
			return -EINVAL;
		}
	return 0;
}

int ctl_reload(struct ctl *c, char *err, size_t err_len, json_t **changed)
{
	struct cfg *next = calloc(1, sizeof(*next)), *old = c->cfg;
	json_t *ch = json_array();
	unsigned b, pi, w;

	if (!next || !ch) {
		snprintf(err, err_len, "out of memory");
		free(next);
		json_decref(ch);
		return -ENOMEM;
	}
	if (config_load(c->path, next, err, err_len) < 0 ||
	    cfg_reloadable(old, next, err, err_len) < 0 ||
	    control_reloadable(old, next, err, err_len) < 0) {
		cfg_free(next);
		free(next);
		json_decref(ch);
		return -EINVAL;
	}
	ctl_set_ceiling_max(next); /* derived, as on the running one */
	/* what changed, for the reply and the log */
	for (pi = 0; pi < next->n_pipelines; pi++) {
		const struct cfg_pipeline *op = &old->pipelines[pi],
					  *np = &next->pipelines[pi];
		unsigned t;

		if (op->has_global && bucket_changed(&op->global, &np->global))
			json_array_append_new(ch, json_string(np->global.name));
		for (t = 0; t < op->n_topics; t++)
			if (bucket_changed(&op->topics[t], &np->topics[t]))
				json_array_append_new(
					ch, json_string(np->topics[t].name));
		if (op->consumers.enabled &&
		    bucket_changed(&op->consumers.bucket,
				   &np->consumers.bucket))
			json_array_append_new(
				ch, json_string(np->consumers.bucket.name));
		if (rules_changed(op, np))
			json_array_append_new(
				ch, json_sprintf("%s: topic rules", np->name));
		if (overrides_changed(&op->consumers, &np->consumers))
			json_array_append_new(
				ch,
				json_sprintf("%s: consumer overrides (for "
					     "consumers seen from now on)",
					     np->name));
	}
	if (memcmp(&old->policy, &next->policy, sizeof(old->policy)))
		json_array_append_new(ch, json_string("policy"));
	if (strcmp(old->log_level, next->log_level))
		json_array_append_new(ch, json_string("log_level"));
	if (old->stats_interval_s != next->stats_interval_s)
		json_array_append_new(ch, json_string("stats_interval"));

	/* apply: the new config is the running one from here on */
	c->cfg = next;
	dp_set_cfg(c->dp, next);
	ctl_set_ceiling_max(next);
	for (b = 0; b < c->nb; b++) {
		const struct cfg_bucket *ob = c->b[b].cfg;

		c->b[b].cfg = dp_bucket(c->dp, b)->cfg;
		if (bucket_changed(ob, c->b[b].cfg) ||
		    memcmp(&old->policy, &next->policy, sizeof(old->policy)))
			ctl_bucket_setup(c, b, true);
	}
	for (pi = 0; pi < next->n_pipelines; pi++) {
		struct cls *nc;

		if (!rules_changed(&old->pipelines[pi], &next->pipelines[pi]))
			continue;
		nc = calloc(1, sizeof(*nc));
		if (!nc || cls_build(nc, &next->pipelines[pi]) < 0) {
			/* keep the old rules rather than none */
			free(nc);
			tg_log(TG_LOG_ERROR, "reload: out of memory building "
					     "the rules of %s; old rules kept",
			       next->pipelines[pi].name);
			continue;
		}
		if (c->cls_owned[pi])
			ctl_retire_cls(c, c->cls[pi]);
		c->cls[pi] = nc;
		c->cls_owned[pi] = true;
	}
	ctl_stage_config(c);
	/* the consumer profiles follow the new overrides now */
	for (b = 0; b < c->nb; b++) {
		const struct dp_bucket_info *bi = dp_bucket(c->dp, b);

		if (bi->split)
			continue;
		for (w = 0; w < c->nw; w++)
			dp_stage_rate(c->dp, w, b, c->b[b].eff_rate,
				      c->b[b].eff_burst);
	}
	brk_set_config(&c->brk, &next->policy.brk);
	tg_log_set_level(next->log_level);
	ctl_retire_cfg(c, old);
	ctl_publish(c);
	{
		char *s = json_dumps(ch, JSON_COMPACT);

		tg_log(TG_LOG_NOTICE, "config reloaded from %s; changed: %s",
		       c->path, s ? s : "?");
		free(s);
	}
	if (changed)
		*changed = ch;
	else
		json_decref(ch);
	return 0;
}
