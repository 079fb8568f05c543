/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-consumer credit ledger: saturating grants, all-or-nothing consumption,
 * and the fraction left that the control plane compares with its blocking
 * threshold. See credit.h for the unmetered-ledger convention.
 */
#include <errno.h>

#include "credit.h"
#include "tg_common.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void credit_reset(struct credit *c)
{
	c->available = 0;
	c->granted = 0;
}

void credit_grant(struct credit *c, uint64_t n)
{
	/* available <= granted before, so the saturated sums keep it. */
	c->available = sat_add(c->available, n);
	c->granted = sat_add(c->granted, n);
	TG_ASSERT(c->available <= c->granted);
}

int credit_set(struct credit *c, uint64_t available, uint64_t capacity)
{
	if (available > capacity)
		return -EINVAL;
	c->available = available;
	c->granted = capacity;
	return 0;
}

bool credit_consume(struct credit *c, uint64_t n)
{
	if (c->granted == 0)
		return true;
	if (c->available < n)
		return false;
	c->available -= n;
	return true;
}

uint64_t credit_available(const struct credit *c)
{
	return c->available;
}

bool credit_metered(const struct credit *c)
{
	return c->granted != 0;
}

double credit_fraction_left(const struct credit *c)
{
	if (c->granted == 0)
		return 1.0;
	/* Both conversions round to nearest; since available <= granted the
	 * rounded values keep that order, so the quotient stays <= 1. */
	return (double)c->available / (double)c->granted;
}

bool credit_blocked(const struct credit *c, double threshold_frac)
{
	if (c->granted == 0)
		return false;
	return credit_fraction_left(c) < threshold_frac;
}
