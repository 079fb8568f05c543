/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Utilization-driven multiplicative rate adjuster: one bounded step per
 * control tick, cut above the high-water mark, raise below the low-water
 * mark, hold in between. See aimd.h for the contract.
 */
#include <errno.h>
#include <math.h>

#include "aimd.h"
#include "tg_common.h"

void aimd_config_default(struct aimd_config *cfg)
{
	cfg->hi_util = 0.90;
	cfg->lo_util = 0.50;
	cfg->dec_factor = 0.9;
	cfg->inc_factor = 1.1;
	cfg->floor = 0.01;
	cfg->ceiling = 1.0;
}

int aimd_config_validate(const struct aimd_config *cfg)
{
	if (!isfinite(cfg->hi_util) || !isfinite(cfg->lo_util) ||
	    !isfinite(cfg->dec_factor) || !isfinite(cfg->inc_factor) ||
	    !isfinite(cfg->floor) || !isfinite(cfg->ceiling))
		return -EINVAL;
	if (!(cfg->lo_util >= 0.0 && cfg->lo_util <= cfg->hi_util))
		return -EINVAL;
	if (!(cfg->dec_factor > 0.0 && cfg->dec_factor <= 1.0))
		return -EINVAL;
	if (!(cfg->inc_factor >= 1.0))
		return -EINVAL;
	if (!(cfg->floor > 0.0 && cfg->floor <= cfg->ceiling))
		return -EINVAL;
	return 0;
}

int aimd_init(struct aimd *a, const struct aimd_config *cfg)
{
	int rc = aimd_config_validate(cfg);

	if (rc)
		return rc;
	a->cfg = *cfg;
	a->rate = cfg->ceiling;
	return 0;
}

static double aimd_clamp(const struct aimd *a, double rate)
{
	/* A product can overflow to +inf with a huge ceiling: the clamp
	 * brings it back, so the stored rate is always finite. */
	if (rate > a->cfg.ceiling)
		return a->cfg.ceiling;
	if (rate < a->cfg.floor)
		return a->cfg.floor;
	return rate;
}

double aimd_step(struct aimd *a, double util_frac)
{
	/* NaN fails both comparisons below and so holds the rate; an
	 * infinite utilization is not a measurement either. */
	if (!isfinite(util_frac))
		return a->rate;
	if (util_frac > a->cfg.hi_util)
		a->rate = aimd_clamp(a, a->rate * a->cfg.dec_factor);
	else if (util_frac < a->cfg.lo_util)
		a->rate = aimd_clamp(a, a->rate * a->cfg.inc_factor);
	TG_ASSERT(a->rate >= a->cfg.floor && a->rate <= a->cfg.ceiling);
	return a->rate;
}

int aimd_set_ceiling(struct aimd *a, double ceiling)
{
	if (!isfinite(ceiling) || ceiling < a->cfg.floor)
		return -EINVAL;
	a->cfg.ceiling = ceiling;
	if (a->rate > ceiling)
		a->rate = ceiling;
	return 0;
}

void aimd_reset(struct aimd *a)
{
	a->rate = a->cfg.ceiling;
}

double aimd_rate(const struct aimd *a)
{
	return a->rate;
}
