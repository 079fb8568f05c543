/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Max-min fair water-filling over integer units, with floors and a
 * work-conserving spread of the leftover (semantics in alloc.h).
 *
 * Each party i has a band [lo_i, hi_i] for the current fill: [f_i,
 * max(f_i, d_i)] normally, [0, f_i] when the floors alone exceed the total.
 * At water level L it holds clamp(L, lo_i, hi_i), and S(L), the sum over the
 * parties, is non-decreasing in L. The allocation is the level L* = max{L :
 * S(L) <= T}, found by binary search, plus T - S(L*) remainder units. Those
 * are fewer than S(L* + 1) - S(L*), the number of parties with
 * lo_i <= L* < hi_i, so giving one to each of the first such parties hands
 * out exactly T. Sums are 128-bit, so nothing overflows.
 *
 * The integer and the double entry points share this core through a small
 * source descriptor that yields each party's demand and floor in units and
 * stores its result, so that neither needs a scratch array.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>

#include "alloc.h"
#include "tg_common.h"

/* Where the parties' numbers come from and where results go. Exactly one of
 * demand / demand_rate and one of out / out_rate is set. */
struct alloc_src {
	const uint64_t *demand;     /* integer demands */
	const double *demand_rate;  /* or rates, converted with unit */
	const uint64_t *floors;     /* per-party floors, or NULL */
	uint64_t floor_all;         /* every party's floor if floors is NULL */
	double unit;                /* rate of one unit (rates only) */
	uint64_t cap;               /* units in total (rates only) */
	uint64_t *out;              /* integer results */
	double *out_rate;           /* or rate results */
	bool by_floor;              /* floors exceed total: fill over floors */
};

/* A rate in whole units, rounded up (so a demand or floor is met in full)
 * and capped at cap; a positive rate is at least one unit. */
static uint64_t alloc_units(double rate, double unit, uint64_t cap)
{
	double v = rate / unit;
	uint64_t u;

	if (!(v < (double)cap))
		return cap;
	u = (uint64_t)ceil(v);
	if (u == 0 && rate > 0.0)
		u = 1;
	return u;
}

static uint64_t src_demand(const struct alloc_src *s, size_t i)
{
	if (s->demand)
		return s->demand[i];
	return alloc_units(s->demand_rate[i], s->unit, s->cap);
}

static uint64_t src_floor(const struct alloc_src *s, size_t i)
{
	return s->floors ? s->floors[i] : s->floor_all;
}

static void src_band(const struct alloc_src *s, size_t i, uint64_t *lo,
		     uint64_t *hi)
{
	uint64_t f = src_floor(s, i);
	uint64_t d;

	if (s->by_floor) {
		*lo = 0;
		*hi = f;
		return;
	}
	d = src_demand(s, i);
	*lo = f;
	*hi = d > f ? d : f;
}

static void src_store(const struct alloc_src *s, size_t i, uint64_t units)
{
	if (s->out)
		s->out[i] = units;
	else
		s->out_rate[i] = (double)units * s->unit;
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* S(level): what the parties hold at this water level. */
static tg_u128 level_sum(const struct alloc_src *s, size_t n, uint64_t level)
{
	tg_u128 sum = 0;
	uint64_t lo, hi;
	size_t i;

	for (i = 0; i < n; i++) {
		src_band(s, i, &lo, &hi);
		sum += clamp_u64(level, lo, hi);
	}
	return sum;
}

/* Everyone is at the top of their band with @p left units to spare: add
 * left / n to each party, and one more to the first left % n. The result
 * cannot overflow: hi_i + share <= sum(hi) + left == total. */
static void alloc_spread(const struct alloc_src *s, size_t n, uint64_t left)
{
	uint64_t share = left / n, extra = left % n;
	uint64_t lo, hi;
	size_t i;

	for (i = 0; i < n; i++) {
		src_band(s, i, &lo, &hi);
		src_store(s, i, hi + share + (i < extra ? 1 : 0));
	}
}

static void alloc_core(struct alloc_src *s, uint64_t total, size_t n)
{
	tg_u128 floor_sum = 0, top_sum;
	uint64_t lo, hi, top = 0, l_lo, l_hi, mid, rem;
	size_t i;

	for (i = 0; i < n; i++)
		floor_sum += src_floor(s, i);
	s->by_floor = floor_sum > total;

	for (i = 0; i < n; i++) {
		src_band(s, i, &lo, &hi);
		if (hi > top)
			top = hi;
	}
	top_sum = level_sum(s, n, top);
	if (top_sum <= total) {
		/* Only possible when filling by demand: by floor, top_sum is
		 * the floor sum, which exceeds total. */
		TG_ASSERT(!s->by_floor);
		alloc_spread(s, n, (uint64_t)(total - top_sum));
		return;
	}

	/*
	 * S(0) <= total (it is the floor sum when filling by demand, 0 when
	 * filling by floor) and S(top) > total, so L* is in [0, top - 1]. It
	 * is also <= total: if top <= total + 1, S(total + 1) = S(top); if
	 * not, the party with hi == top holds total + 1 at that level.
	 */
	l_lo = 0;
	l_hi = top - 1 < total ? top - 1 : total;
	while (l_lo < l_hi) {
		mid = l_lo + (l_hi - l_lo) / 2 + 1; /* in (l_lo, l_hi] */
		if (level_sum(s, n, mid) <= total)
			l_lo = mid;
		else
			l_hi = mid - 1;
	}
	rem = (uint64_t)(total - level_sum(s, n, l_lo));

	for (i = 0; i < n; i++) {
		uint64_t v;

		src_band(s, i, &lo, &hi);
		v = clamp_u64(l_lo, lo, hi);
		if (rem > 0 && lo <= l_lo && l_lo < hi) {
			v++;
			rem--;
		}
		src_store(s, i, v);
	}
	TG_ASSERT(rem == 0);
}

int alloc_maxmin(uint64_t total, const uint64_t *demand,
		 const uint64_t *floors, size_t n, uint64_t *out)
{
	struct alloc_src s = {
		.demand = demand,
		.floors = floors,
		.out = out,
	};

	if (n == 0)
		return 0;
	if (!demand || !out)
		return -EINVAL;
	alloc_core(&s, total, n);
	return 0;
}

static bool rate_ok(double v)
{
	return isfinite(v) && v >= 0.0;
}

int alloc_maxmin_rates(double total, const double *demand,
		       double floor_rate, size_t n, double *out)
{
	struct alloc_src s = {
		.demand_rate = demand,
		.out_rate = out,
	};
	size_t i;
	int e2;

	if (n == 0)
		return 0;
	if (!demand || !out || !rate_ok(total) || !rate_ok(floor_rate))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!rate_ok(demand[i]))
			return -EINVAL;
	if (total == 0.0) {
		for (i = 0; i < n; i++)
			out[i] = 0.0;
		return 0;
	}

	/*
	 * total = m * 2^e2 with 0.5 <= m < 1, so with unit = 2^(e2 - 53),
	 * total / unit = m * 2^53 is an integer in [2^52, 2^53): total is a
	 * whole number of units and every count of units up to it converts
	 * to and from double exactly. Subnormal totals use the smallest
	 * subnormal as the unit, which divides every double.
	 */
	(void)frexp(total, &e2);
	e2 -= 53;
	if (e2 < -1074)
		e2 = -1074;
	s.unit = ldexp(1.0, e2);
	s.cap = (uint64_t)(total / s.unit);
	TG_ASSERT((double)s.cap * s.unit == total);
	s.floor_all = alloc_units(floor_rate, s.unit, s.cap);
	alloc_core(&s, s.cap, n);
	return 0;
}
