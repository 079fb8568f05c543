/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate split across cores (see split.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "split.h"

/* An idle core keeps this part of an equal share, to start with. */
#define SPLIT_FLOOR_FRAC 0.01

struct split {
	struct dp *dp;
	unsigned nw, nb;
	struct dp_bucket_ctr *ctr;  /* [nw][nb] this period */
	uint64_t *prev_demand;	    /* [nw][nb] demand_tokens last period */
	double *demand, *share;	    /* [nw] scratch */
};

struct split *split_new(struct dp *dp)
{
	struct split *s = calloc(1, sizeof(*s));
	unsigned nw = dp_n_workers(dp), nb = dp_n_buckets(dp);

	if (!s)
		return NULL;
	s->dp = dp;
	s->nw = nw;
	s->nb = nb;
	s->ctr = calloc((size_t)nw * nb + 1, sizeof(*s->ctr));
	s->prev_demand = calloc((size_t)nw * nb + 1, sizeof(uint64_t));
	s->demand = calloc(nw + 1, sizeof(double));
	s->share = calloc(nw + 1, sizeof(double));
	if (!s->ctr || !s->prev_demand || !s->demand || !s->share) {
		split_free(s);
		return NULL;
	}
	return s;
}

void split_free(struct split *s)
{
	if (!s)
		return;
	free(s->ctr);
	free(s->prev_demand);
	free(s->demand);
	free(s->share);
	free(s);
}

/* Stage (w, b) only when it moved by more than a part in a million. */
static void stage_if_moved(struct split *s, unsigned w, unsigned b,
			   double rate, uint64_t burst, bool *changed)
{
	double old = dp_staged_rate(s->dp, w, b);

	if (fabs(old - rate) <= old * 1e-6 &&
	    dp_staged_burst(s->dp, w, b) == burst)
		return;
	if (dp_stage_rate(s->dp, w, b, rate, burst) == 0)
		changed[w] = true;
}

void split_tick(struct split *s, double dt_s, const double *rate,
		const uint64_t *burst, bool *changed)
{
	unsigned w, b;

	if (!(dt_s > 0))
		return;
	for (w = 0; w < s->nw; w++)
		dp_snapshot(s->dp, w, &(struct dp_core_stats){ 0 },
			    &s->ctr[(size_t)w * s->nb]);
	for (b = 0; b < s->nb; b++) {
		const struct dp_bucket_info *bi = dp_bucket(s->dp, b);
		double r = rate ? rate[b] : bi->cfg->rate;
		uint64_t bu = burst ? burst[b] : bi->cfg->burst;

		if (!bi->split) {
			for (w = 0; w < s->nw; w++)
				stage_if_moved(s, w, b, r, bu, changed);
			continue;
		}
		for (w = 0; w < s->nw; w++) {
			size_t k = (size_t)w * s->nb + b;
			uint64_t d = s->ctr[k].demand_tokens;

			s->demand[w] = (double)(d - s->prev_demand[k]) / dt_s;
			s->prev_demand[k] = d;
		}
		if (alloc_maxmin_rates(r, s->demand,
				       r * SPLIT_FLOOR_FRAC / s->nw, s->nw,
				       s->share) < 0)
			continue;
		for (w = 0; w < s->nw; w++) {
			double sh = s->share[w];
			uint64_t wb = (uint64_t)llround((double)bu * sh / r);

			if (sh < TB_RATE_MIN)
				sh = TB_RATE_MIN;
			stage_if_moved(s, w, b, sh, wb ? wb : 1, changed);
		}
	}
}
