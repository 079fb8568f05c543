/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stats line and the JSON summary (jansson does all the JSON).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"

int report_snap_init(struct report_snap *s, const struct dp *dp)
{
	memset(s, 0, sizeof(*s));
	s->core = calloc(dp_n_workers(dp) + 1, sizeof(*s->core));
	s->bucket = calloc(dp_n_buckets(dp) + 1, sizeof(*s->bucket));
	s->tier_sum = calloc(CFG_TIER_MAX, sizeof(*s->tier_sum));
	if (!s->core || !s->bucket || !s->tier_sum) {
		report_snap_free(s);
		return -ENOMEM;
	}
	return 0;
}

void report_snap_free(struct report_snap *s)
{
	free(s->core);
	free(s->bucket);
	free(s->tier_sum);
	s->core = NULL;
	s->bucket = NULL;
	s->tier_sum = NULL;
}

static void ctr_add(struct dp_bucket_ctr *a, const struct dp_bucket_ctr *b)
{
	a->demand_msgs += b->demand_msgs;
	a->demand_tokens += b->demand_tokens;
	a->admitted_msgs += b->admitted_msgs;
	a->admitted_tokens += b->admitted_tokens;
	a->rejected_msgs += b->rejected_msgs;
	a->shadow_msgs += b->shadow_msgs;
}

void report_snap_take(struct report_snap *s, const struct dp *dp, double t_s)
{
	unsigned nw = dp_n_workers(dp), nb = dp_n_buckets(dp), w, b, i;
	struct dp_bucket_ctr *tmp = calloc(nb + 1, sizeof(*tmp));

	s->t_s = t_s;
	memset(&s->total, 0, sizeof(s->total));
	memset(s->bucket, 0, nb * sizeof(*s->bucket));
	memset(s->tier_sum, 0, CFG_TIER_MAX * sizeof(*s->tier_sum));
	for (w = 0; w < nw; w++) {
		struct dp_core_stats *c = &s->core[w];

		dp_snapshot(dp, w, c, tmp);
		s->total.rx += c->rx;
		s->total.rx_bytes += c->rx_bytes;
		for (i = 0; i < DP_OUTCOME_MAX; i++)
			s->total.outcome[i] += c->outcome[i];
		s->total.busy_cycles += c->busy_cycles;
		s->total.total_cycles += c->total_cycles;
		s->total.consumers += c->consumers;
		s->total.consumer_overflow += c->consumer_overflow;
		s->total.consumers_aged += c->consumers_aged;
		s->total.shape_queued += c->shape_queued;
		s->total.shape_discarded += c->shape_discarded;
		if (c->first_rx_tsc && (!s->total.first_rx_tsc ||
					c->first_rx_tsc < s->total.first_rx_tsc))
			s->total.first_rx_tsc = c->first_rx_tsc;
		if (c->last_rx_tsc > s->total.last_rx_tsc)
			s->total.last_rx_tsc = c->last_rx_tsc;
		for (b = 0; tmp && b < nb; b++)
			ctr_add(&s->bucket[b], &tmp[b]);
	}
	for (b = 0; b < nb; b++)
		ctr_add(&s->tier_sum[dp_bucket(dp, b)->tier], &s->bucket[b]);
	free(tmp);
}

/* 12345 -> "12.3K", per second */
static const char *si(char *buf, size_t len, double v)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fK", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

void report_line(FILE *f, const struct dp *dp, const struct report_snap *prev,
		 const struct report_snap *cur)
{
	double dt = cur->t_s - prev->t_s;
	const struct dp_core_stats *a = &prev->total, *b = &cur->total;
	double busy = 0;
	char x[4][16];
	unsigned t;
	int has[CFG_TIER_MAX] = { 0 };

	if (!(dt > 0))
		return;
	for (t = 0; t < dp_n_buckets(dp); t++)
		has[dp_bucket(dp, t)->tier] = 1;
	if (b->total_cycles > a->total_cycles)
		busy = 100.0 * (double)(b->busy_cycles - a->busy_cycles) /
		       (double)(b->total_cycles - a->total_cycles);
	fprintf(f, "[%6.1fs] rx %.3f Mpps | adm %s/s", cur->t_s,
		(double)(b->rx - a->rx) / dt / 1e6,
		si(x[1], sizeof(x[1]),
		   (double)(b->outcome[DP_ADMITTED] - a->outcome[DP_ADMITTED]) /
			   dt));
	for (t = 0; t < CFG_TIER_MAX; t++) {
		const struct dp_bucket_ctr *p = &prev->tier_sum[t];
		const struct dp_bucket_ctr *c = &cur->tier_sum[t];

		if (!has[t])
			continue;
		fprintf(f, " | %s adm %s rej %s", cfg_tier_name(t),
			si(x[2], sizeof(x[2]),
			   (double)(c->admitted_msgs - p->admitted_msgs) / dt),
			si(x[3], sizeof(x[3]),
			   (double)(c->rejected_msgs - p->rejected_msgs) / dt));
	}
	fprintf(f, " | malformed %s/s | consumers %llu | busy %.0f%%\n",
		si(x[0], sizeof(x[0]),
		   (double)(b->outcome[DP_DROP_MALFORMED] -
			    a->outcome[DP_DROP_MALFORMED]) /
			   dt),
		(unsigned long long)b->consumers, busy);
	fflush(f);
}

static json_t *outcomes_json(const struct dp_core_stats *c)
{
	json_t *o = json_object();
	unsigned i;

	for (i = 0; i < DP_OUTCOME_MAX; i++)
		json_object_set_new(o, dp_outcome_name(i),
				    json_integer((json_int_t)c->outcome[i]));
	return o;
}

int report_json(const char *path, const struct dp *dp,
		const struct report_snap *s, const char *version)
{
	json_t *root = json_object(), *buckets = json_array(),
	       *workers = json_array();
	unsigned b, w;
	int rc;

	json_object_set_new(root, "version", json_string(version));
	json_object_set_new(root, "elapsed_s", json_real(s->t_s));
	/* from the first burst received to the last, on the workers' clock:
	 * the interval a saturated bucket earned tokens for */
	json_object_set_new(
		root, "traffic_s",
		json_real(s->total.last_rx_tsc > s->total.first_rx_tsc ?
				  (double)(s->total.last_rx_tsc -
					   s->total.first_rx_tsc) /
					  (double)dp_hz(dp) :
				  0.0));
	json_object_set_new(root, "rx", json_integer((json_int_t)s->total.rx));
	json_object_set_new(root, "rx_bytes",
			    json_integer((json_int_t)s->total.rx_bytes));
	json_object_set_new(root, "outcomes", outcomes_json(&s->total));
	for (b = 0; b < dp_n_buckets(dp); b++) {
		const struct dp_bucket_info *bi = dp_bucket(dp, b);
		const struct dp_bucket_ctr *c = &s->bucket[b];

		json_array_append_new(
			buckets,
			json_pack("{s:s, s:s, s:s, s:f, s:I, s:s, s:s, s:b, "
				  "s:I, s:I, s:I, s:I, s:I, s:I}",
				  "name", bi->cfg->name, "tier",
				  cfg_tier_name(bi->tier), "pipeline",
				  dp_cfg(dp)->pipelines[bi->pipeline].name, "rate",
				  bi->cfg->rate, "burst",
				  (json_int_t)bi->cfg->burst, "mode",
				  tb_mode_name(bi->cfg->mode), "action",
				  cfg_action_name(bi->cfg->action), "shadow",
				  bi->cfg->shadow, "admitted",
				  (json_int_t)c->admitted_msgs, "rejected",
				  (json_int_t)c->rejected_msgs,
				  "shadow_rejected", (json_int_t)c->shadow_msgs,
				  "demand", (json_int_t)c->demand_msgs,
				  "admitted_tokens",
				  (json_int_t)c->admitted_tokens,
				  "demand_tokens",
				  (json_int_t)c->demand_tokens));
	}
	json_object_set_new(root, "buckets", buckets);
	for (w = 0; w < dp_n_workers(dp); w++) {
		const struct dp_core_stats *c = &s->core[w];
		double busy = c->total_cycles ?
				      100.0 * (double)c->busy_cycles /
					      (double)c->total_cycles :
				      0;

		json_array_append_new(
			workers,
			json_pack("{s:i, s:I, s:f, s:o, s:I}", "id", (int)w,
				  "rx", (json_int_t)c->rx, "busy_pct", busy,
				  "outcomes", outcomes_json(c), "consumers",
				  (json_int_t)c->consumers));
	}
	json_object_set_new(root, "workers", workers);
	json_object_set_new(
		root, "consumers",
		json_pack("{s:I, s:I, s:I}", "live",
			  (json_int_t)s->total.consumers, "overflow_msgs",
			  (json_int_t)s->total.consumer_overflow, "aged",
			  (json_int_t)s->total.consumers_aged));
	json_object_set_new(
		root, "shape",
		json_pack("{s:I, s:I}", "queued",
			  (json_int_t)s->total.shape_queued, "discarded",
			  (json_int_t)s->total.shape_discarded));
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return rc == 0 ? 0 : -EIO;
}
